package components

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/kafkaexporter"
	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/kafkareceiver"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/pulse-otel/pulse/exporter/promstoreexporter"
	"github.com/pulse-otel/pulse/processor/privacyprocessor"
	"github.com/pulse-otel/pulse/receiver/analyticsreceiver"
)

// documentedTelemetry matches a collector telemetry metric name written in
// backticks, with or without a label list: `otelcol_x` or `otelcol_x{a}`.
var documentedTelemetry = regexp.MustCompile("`(otelcol_[a-z0-9_]+)[`{]")

// TestDocumentedTelemetryIsRegistered fails when a document names a
// collector telemetry metric that no Pulse component (or the receiver,
// processor and exporter helpers they use) registers: an operator grepping
// localhost:8888/metrics for it would find nothing. The collector's
// Prometheus reader exposes these names as registered, without a `_total`
// suffix or a unit (checked by hand on otelcol-pulse v0.165.0).
func TestDocumentedTelemetryIsRegistered(t *testing.T) {
	registered := registeredTelemetry(t)

	var docs []string
	for _, pattern := range []string{"../*.md", "../docs/*.md", "../*/*/README.md"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, m...)
	}
	found := 0
	for _, path := range docs {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range documentedTelemetry.FindAllStringSubmatch(string(raw), -1) {
			found++
			if !registered[m[1]] {
				t.Errorf("%s names %s, which no component registers; registered: %v", path, m[1], sortedKeys(registered))
			}
		}
	}
	if found == 0 {
		t.Fatal("no otelcol_ metric name found in the documents: the pattern or the globs are wrong")
	}
}

// registeredTelemetry creates Pulse's components that have their own
// telemetry with a meter provider that records instrument names.
func registeredTelemetry(t *testing.T) map[string]bool {
	t.Helper()
	ctx := context.Background()
	mp := &recordingMeterProvider{names: map[string]bool{}}
	settings := func(ts *component.TelemetrySettings) { ts.MeterProvider = mp }

	rf := analyticsreceiver.NewFactory()
	rset := receivertest.NewNopSettings(rf.Type())
	settings(&rset.TelemetrySettings)
	if _, err := rf.CreateLogs(ctx, rset, rf.CreateDefaultConfig(), consumertest.NewNop()); err != nil {
		t.Fatal(err)
	}
	if _, err := rf.CreateMetrics(ctx, rset, rf.CreateDefaultConfig(), consumertest.NewNop()); err != nil {
		t.Fatal(err)
	}

	pf := privacyprocessor.NewFactory()
	pset := processortest.NewNopSettings(pf.Type())
	settings(&pset.TelemetrySettings)
	pcfg := pf.CreateDefaultConfig().(*privacyprocessor.Config)
	pcfg.Pseudonymize.Key = "0123456789abcdef0123456789abcdef"
	if _, err := pf.CreateLogs(ctx, pset, pcfg, consumertest.NewNop()); err != nil {
		t.Fatal(err)
	}
	if _, err := pf.CreateMetrics(ctx, pset, pcfg, consumertest.NewNop()); err != nil {
		t.Fatal(err)
	}

	ef := promstoreexporter.NewFactory()
	eset := exportertest.NewNopSettings(ef.Type())
	settings(&eset.TelemetrySettings)
	ecfg := ef.CreateDefaultConfig().(*promstoreexporter.Config)
	ecfg.Directory = t.TempDir()
	if _, err := ef.CreateMetrics(ctx, eset, ecfg); err != nil {
		t.Fatal(err)
	}
	// The scale-out tiers' upstream Kafka components (docs/scale-out.md).
	kf := kafkareceiver.NewFactory()
	kset := receivertest.NewNopSettings(kf.Type())
	settings(&kset.TelemetrySettings)
	if _, err := kf.CreateLogs(ctx, kset, kf.CreateDefaultConfig(), consumertest.NewNop()); err != nil {
		t.Fatal(err)
	}
	xf := kafkaexporter.NewFactory()
	xset := exportertest.NewNopSettings(xf.Type())
	settings(&xset.TelemetrySettings)
	if _, err := xf.CreateLogs(ctx, xset, xf.CreateDefaultConfig()); err != nil {
		t.Fatal(err)
	}
	return mp.names
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// recordingMeterProvider is a no-op meter provider that remembers the name
// of every instrument created through it.
type recordingMeterProvider struct {
	noop.MeterProvider
	mu    sync.Mutex
	names map[string]bool
}

func (p *recordingMeterProvider) Meter(string, ...metric.MeterOption) metric.Meter {
	return recordingMeter{p: p}
}

func (p *recordingMeterProvider) add(name string) {
	p.mu.Lock()
	p.names[name] = true
	p.mu.Unlock()
}

type recordingMeter struct {
	noop.Meter
	p *recordingMeterProvider
}

func (m recordingMeter) Int64Counter(n string, o ...metric.Int64CounterOption) (metric.Int64Counter, error) {
	m.p.add(n)
	return m.Meter.Int64Counter(n, o...)
}

func (m recordingMeter) Int64UpDownCounter(n string, o ...metric.Int64UpDownCounterOption) (metric.Int64UpDownCounter, error) {
	m.p.add(n)
	return m.Meter.Int64UpDownCounter(n, o...)
}

func (m recordingMeter) Int64Histogram(n string, o ...metric.Int64HistogramOption) (metric.Int64Histogram, error) {
	m.p.add(n)
	return m.Meter.Int64Histogram(n, o...)
}

func (m recordingMeter) Int64Gauge(n string, o ...metric.Int64GaugeOption) (metric.Int64Gauge, error) {
	m.p.add(n)
	return m.Meter.Int64Gauge(n, o...)
}

func (m recordingMeter) Int64ObservableCounter(n string, o ...metric.Int64ObservableCounterOption) (metric.Int64ObservableCounter, error) {
	m.p.add(n)
	return m.Meter.Int64ObservableCounter(n, o...)
}

func (m recordingMeter) Int64ObservableUpDownCounter(n string, o ...metric.Int64ObservableUpDownCounterOption) (metric.Int64ObservableUpDownCounter, error) {
	m.p.add(n)
	return m.Meter.Int64ObservableUpDownCounter(n, o...)
}

func (m recordingMeter) Int64ObservableGauge(n string, o ...metric.Int64ObservableGaugeOption) (metric.Int64ObservableGauge, error) {
	m.p.add(n)
	return m.Meter.Int64ObservableGauge(n, o...)
}

func (m recordingMeter) Float64Counter(n string, o ...metric.Float64CounterOption) (metric.Float64Counter, error) {
	m.p.add(n)
	return m.Meter.Float64Counter(n, o...)
}

func (m recordingMeter) Float64UpDownCounter(n string, o ...metric.Float64UpDownCounterOption) (metric.Float64UpDownCounter, error) {
	m.p.add(n)
	return m.Meter.Float64UpDownCounter(n, o...)
}

func (m recordingMeter) Float64Histogram(n string, o ...metric.Float64HistogramOption) (metric.Float64Histogram, error) {
	m.p.add(n)
	return m.Meter.Float64Histogram(n, o...)
}

func (m recordingMeter) Float64Gauge(n string, o ...metric.Float64GaugeOption) (metric.Float64Gauge, error) {
	m.p.add(n)
	return m.Meter.Float64Gauge(n, o...)
}

func (m recordingMeter) Float64ObservableCounter(n string, o ...metric.Float64ObservableCounterOption) (metric.Float64ObservableCounter, error) {
	m.p.add(n)
	return m.Meter.Float64ObservableCounter(n, o...)
}

func (m recordingMeter) Float64ObservableUpDownCounter(n string, o ...metric.Float64ObservableUpDownCounterOption) (metric.Float64ObservableUpDownCounter, error) {
	m.p.add(n)
	return m.Meter.Float64ObservableUpDownCounter(n, o...)
}

func (m recordingMeter) Float64ObservableGauge(n string, o ...metric.Float64ObservableGaugeOption) (metric.Float64ObservableGauge, error) {
	m.p.add(n)
	return m.Meter.Float64ObservableGauge(n, o...)
}
