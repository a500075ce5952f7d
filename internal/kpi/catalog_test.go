package kpi

import (
	"github.com/pulse-otel/pulse/internal/docstest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/prometheus/otlptranslator"
	prw "github.com/prometheus/prometheus/storage/remote/otlptranslator/prometheusremotewrite"
	"go.opentelemetry.io/collector/pdata/pmetric"

	amc "github.com/pulse-otel/pulse/connector/analyticsmetricsconnector"
)

// The catalog the KPIs are checked against: every Prometheus series name
// Pulse writes, with the labels it can carry, computed the way the
// prometheus_remote_write exporter computes them (contrib v0.165.1 with its
// defaults: otlptranslator.MetricNamer with suffixes, no UTF-8, no
// namespace, fed by prometheusremotewrite.TranslatorMetricFromOtelMetric).
//
// Connector metrics come from analyticsmetricsconnector.Catalog(). Snapshot
// metrics come from the decoder's golden output
// (receiver/analyticsreceiver/internal/decoder/testdata/*/expected.yaml):
// decoder.SnapshotMetrics() is internal to the receiver and cannot be
// imported from here. The golden files are what the decoder really emits
// (its TestGolden keeps them so), and catalogFromDocs below checks that they
// hold exactly the metrics of docs/metrics.md's snapshot table, which the
// decoder's TestDocsMetricsListsEverySnapshotMetric checks against
// SnapshotMetrics().

const (
	docsPath      = "../../docs/metrics.md"
	decoderGolden = "../../receiver/analyticsreceiver/internal/decoder/testdata"
)

// snapshotEndpoints are the decoder's metric endpoints (testdata folders).
var snapshotEndpoints = []string{"model-metrics", "business-metrics", "system-metrics"}

// commonLabels can be on any series: job and instance from service.name and
// service.instance.id, otel_scope_name from the scope.
var commonLabels = []string{"job", "instance", "otel_scope_name"}

// optionalEventDimensions are the labels event_dimensions may add to
// pulse.events besides the default ones Catalog() lists (config.go).
var optionalEventDimensions = []string{"feature", "page", "consent_level"}

type series struct {
	otelName string
	labels   map[string]bool
}

var namer = otlptranslator.MetricNamer{WithMetricSuffixes: true}

// promName is the Prometheus name of m as the exporter writes it.
func promName(t testing.TB, m pmetric.Metric) string {
	t.Helper()
	name, err := namer.Build(prw.TranslatorMetricFromOtelMetric(m))
	if err != nil {
		t.Fatalf("prometheus name of %s: %v", m.Name(), err)
	}
	return name
}

// otelMetric is the shape the connector exports def in (aggregator.export).
func otelMetric(def amc.MetricDef) pmetric.Metric {
	m := pmetric.NewMetric()
	m.SetName(def.Name)
	m.SetUnit(def.Unit)
	switch def.Kind {
	case amc.Sum:
		s := m.SetEmptySum()
		s.SetIsMonotonic(true)
		s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	case amc.Histogram:
		m.SetEmptyHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	default:
		m.SetEmptyGauge()
	}
	return m
}

// add records the series of m: one name, or _bucket, _sum and _count for a
// histogram.
func add(t testing.TB, cat map[string]*series, m pmetric.Metric, labels []string) {
	t.Helper()
	base := promName(t, m)
	names := []string{base}
	if m.Type() == pmetric.MetricTypeHistogram {
		names = []string{base + "_bucket", base + "_sum", base + "_count"}
	}
	for _, n := range names {
		s := cat[n]
		if s == nil {
			s = &series{otelName: m.Name(), labels: map[string]bool{}}
			cat[n] = s
		} else if s.otelName != m.Name() {
			t.Fatalf("%s and %s both become %s", s.otelName, m.Name(), n)
		}
		for _, l := range append(slices.Clone(commonLabels), labels...) {
			s.labels[l] = true
		}
		if strings.HasSuffix(n, "_bucket") {
			s.labels["le"] = true
		}
	}
}

// promCatalog returns every Prometheus series name with its labels.
func promCatalog(t testing.TB) map[string]*series {
	t.Helper()
	cat := map[string]*series{}
	for _, def := range amc.Catalog() {
		labels := slices.Clone(def.Labels)
		if def.Name == "pulse.events" {
			labels = append(labels, optionalEventDimensions...)
		}
		add(t, cat, otelMetric(def), labels)
	}
	docRows := snapshotDocRows(t)
	seen := map[string]bool{}
	for _, ep := range snapshotEndpoints {
		md, err := golden.ReadMetrics(filepath.Join(decoderGolden, ep, "expected.yaml"))
		if err != nil {
			t.Fatalf("decoder golden output: %v", err)
		}
		rms := md.ResourceMetrics()
		for i := 0; i < rms.Len(); i++ {
			sms := rms.At(i).ScopeMetrics()
			for j := 0; j < sms.Len(); j++ {
				ms := sms.At(j).Metrics()
				for k := 0; k < ms.Len(); k++ {
					m := ms.At(k)
					row, ok := docRows[m.Name()]
					if !ok {
						t.Errorf("decoder emits %s, which docs/metrics.md's snapshot table does not list", m.Name())
					}
					seen[m.Name()] = true
					add(t, cat, m, append(pointLabels(m), row...))
				}
			}
		}
	}
	for name := range docRows {
		if !seen[name] {
			t.Errorf("docs/metrics.md lists snapshot metric %s, which the decoder's golden output (%s/*/expected.yaml) lacks", name, decoderGolden)
		}
	}
	return cat
}

// pointLabels are the attribute keys of m's data points.
func pointLabels(m pmetric.Metric) []string {
	var out []string
	var dps pmetric.NumberDataPointSlice
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		dps = m.Gauge().DataPoints()
	case pmetric.MetricTypeSum:
		dps = m.Sum().DataPoints()
	default:
		return nil
	}
	for i := 0; i < dps.Len(); i++ {
		for k := range dps.At(i).Attributes().All() {
			out = append(out, k)
		}
	}
	return out
}

// snapshotDocRows maps each OTel name of the snapshot table of
// docs/metrics.md to the attribute keys its row names (optional ones may be
// missing from the golden data).
func snapshotDocRows(t testing.TB) map[string][]string {
	t.Helper()
	sec := docSection(t, readDocs(t), "Snapshot metrics (analytics receiver)")
	rows := map[string][]string{}
	for _, l := range strings.Split(sec, "\n") {
		if !strings.HasPrefix(l, "| `pulse.") {
			continue
		}
		cells := strings.Split(l, "|")
		if len(cells) < 6 {
			t.Fatalf("docs/metrics.md: short snapshot row %q", l)
		}
		rows[strings.Trim(strings.TrimSpace(cells[1]), "`")] = codeSpans(cells[4])
	}
	if len(rows) == 0 {
		t.Fatal("docs/metrics.md: no rows in the snapshot table")
	}
	return rows
}

// codeSpans returns the `...` spans of s.
func codeSpans(s string) []string {
	parts := strings.Split(s, "`")
	var out []string
	for i := 1; i < len(parts); i += 2 {
		out = append(out, parts[i])
	}
	return out
}

func readDocs(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatalf("read docs: %v", err)
	}
	return string(b)
}

// docSection returns the "## " section whose heading contains title.
func docSection(t testing.TB, doc, title string) string {
	t.Helper()
	sec := docstest.Section(doc, title)
	if sec == "" {
		t.Fatalf("docs/metrics.md has no section %q", "## "+title)
	}
	return sec
}
