package promstoreexporter // import "github.com/pulse-otel/pulse/exporter/promstoreexporter"

import (
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/common/model"
	"github.com/prometheus/otlptranslator"
	"github.com/prometheus/prometheus/scrape"
	prom "github.com/prometheus/prometheus/storage/remote/otlptranslator/prometheusremotewrite"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pulse-otel/pulse/internal/catalog"
)

// familyMetadata is the type, help and unit of every metric family
// promstore serves, for /api/v1/metadata: Prometheus keeps these per
// scrape target, promstore has no target and keeps them per family. The
// families of internal/catalog are known from the start, under the names
// the configured translation gives them, and are not relearned from data.
// Other families are learned as they arrive: at most limit of them (the
// first ones seen); a family's entry is rewritten when its description or
// unit changes. The hot path is one map read per OTLP metric (not per
// point) under a read lock. A limit of 0 turns metadata off, catalog
// included.
type familyMetadata struct {
	limit int
	namer otlptranslator.MetricNamer
	units otlptranslator.UnitNamer
	// known holds the catalog's families; it is not written after
	// newFamilyMetadata.
	known  map[string]scrape.MetricMetadata
	mu     sync.RWMutex
	byOTLP map[otlpMetricKey]familyEntry
	byName map[string]scrape.MetricMetadata
}

// otlpMetricKey identifies an OTLP metric the way the translator names it.
type otlpMetricKey struct {
	name, unit string
	typ        model.MetricType
}

type familyEntry struct {
	family string
	help   string
}

func newFamilyMetadata(tc TranslationConfig, limit int) *familyMetadata {
	f := &familyMetadata{
		limit: limit,
		// The prometheusremotewrite translator's namer for these settings
		// (TranslationStrategy unset: underscore escaping).
		namer:  otlptranslator.MetricNamer{WithMetricSuffixes: tc.AddMetricSuffixes, Namespace: tc.Namespace},
		units:  otlptranslator.UnitNamer{},
		known:  map[string]scrape.MetricMetadata{},
		byOTLP: map[otlpMetricKey]familyEntry{},
		byName: map[string]scrape.MetricMetadata{},
	}
	if limit > 0 {
		for _, m := range catalog.All() {
			name, err := f.namer.Build(m.OTLP())
			if err != nil {
				continue
			}
			f.known[name] = scrape.MetricMetadata{MetricFamily: name, Type: catalogType[m.Kind], Help: m.Help, Unit: f.units.Build(m.Unit)}
		}
	}
	return f
}

// catalogType is the Prometheus type of each catalog kind as promType
// maps what the catalog's emitters write (monotonic cumulative sums,
// cumulative histograms, gauges).
var catalogType = map[catalog.Kind]model.MetricType{
	catalog.Sum:       model.MetricTypeCounter,
	catalog.Histogram: model.MetricTypeHistogram,
	catalog.Gauge:     model.MetricTypeGauge,
}

// observe records the metrics of md not seen before, or whose help changed.
func (f *familyMetadata) observe(md pmetric.Metrics) {
	if f.limit <= 0 {
		return
	}
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		sms := rms.At(i).ScopeMetrics()
		for j := range sms.Len() {
			ms := sms.At(j).Metrics()
			for k := range ms.Len() {
				f.observeMetric(ms.At(k))
			}
		}
	}
}

func (f *familyMetadata) observeMetric(m pmetric.Metric) {
	typ, ok := promType(m)
	if !ok {
		return // not stored: the translator refuses delta metrics
	}
	key := otlpMetricKey{name: m.Name(), unit: m.Unit(), typ: typ}
	f.mu.RLock()
	e, seen := f.byOTLP[key]
	full := len(f.byName) >= f.limit
	f.mu.RUnlock()
	if seen && e.help == m.Description() || !seen && full {
		return
	}
	name, err := f.namer.Build(prom.TranslatorMetricFromOtelMetric(m))
	if err != nil {
		return
	}
	if _, ok := f.known[name]; ok {
		// A catalog family: its metadata is the catalog's. Remember the
		// key so the next batch stops at the read lock.
		help := m.Description()
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.byOTLP) < 2*f.limit {
			f.byOTLP[key] = familyEntry{family: name, help: help}
		}
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, exists := f.byName[name]; !exists && len(f.byName) >= f.limit || len(f.byOTLP) >= 2*f.limit {
		return
	}
	f.byOTLP[key] = familyEntry{family: name, help: m.Description()}
	f.byName[name] = scrape.MetricMetadata{MetricFamily: name, Type: typ, Help: m.Description(), Unit: f.units.Build(m.Unit())}
}

// promType is the Prometheus type of m, as the translator maps it; false
// for metrics the translator does not store.
func promType(m pmetric.Metric) (model.MetricType, bool) {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		return model.MetricTypeGauge, true
	case pmetric.MetricTypeSum:
		if m.Sum().AggregationTemporality() != pmetric.AggregationTemporalityCumulative {
			return "", false
		}
		if m.Sum().IsMonotonic() {
			return model.MetricTypeCounter, true
		}
		return model.MetricTypeGauge, true
	case pmetric.MetricTypeHistogram:
		return model.MetricTypeHistogram, m.Histogram().AggregationTemporality() == pmetric.AggregationTemporalityCumulative
	case pmetric.MetricTypeExponentialHistogram:
		return model.MetricTypeHistogram, m.ExponentialHistogram().AggregationTemporality() == pmetric.AggregationTemporalityCumulative
	case pmetric.MetricTypeSummary:
		return model.MetricTypeSummary, true
	}
	return "", false
}

// ListMetadata, GetMetadata, SizeMetadata and LengthMetadata make
// familyMetadata the scrape.MetricMetadataStore of promstore's one target.
func (f *familyMetadata) ListMetadata() []scrape.MetricMetadata {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]scrape.MetricMetadata, 0, len(f.known)+len(f.byName))
	for _, m := range f.known {
		out = append(out, m)
	}
	for _, m := range f.byName {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b scrape.MetricMetadata) int { return strings.Compare(a.MetricFamily, b.MetricFamily) })
	return out
}

func (f *familyMetadata) GetMetadata(name string) (scrape.MetricMetadata, bool) {
	if m, ok := f.known[name]; ok {
		return m, true
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	m, ok := f.byName[name]
	return m, ok
}

func (f *familyMetadata) SizeMetadata() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	n := 0
	for _, m := range f.known {
		n += len(m.MetricFamily) + len(m.Help) + len(m.Unit)
	}
	for _, m := range f.byName {
		n += len(m.MetricFamily) + len(m.Help) + len(m.Unit)
	}
	return n
}

func (f *familyMetadata) LengthMetadata() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return len(f.known) + len(f.byName)
}
