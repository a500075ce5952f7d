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
)

// familyMetadata is the type, help and unit of every metric family
// promstore has received, for /api/v1/metadata: Prometheus keeps these per
// scrape target, promstore has no target and keeps them per family. It
// remembers at most limit families (the first ones seen); a family's entry
// is rewritten when its description or unit changes. The hot path is one
// map read per OTLP metric (not per point) under a read lock.
type familyMetadata struct {
	limit  int
	namer  otlptranslator.MetricNamer
	units  otlptranslator.UnitNamer
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
	return &familyMetadata{
		limit: limit,
		// The prometheusremotewrite translator's namer for these settings
		// (TranslationStrategy unset: underscore escaping).
		namer:  otlptranslator.MetricNamer{WithMetricSuffixes: tc.AddMetricSuffixes, Namespace: tc.Namespace},
		units:  otlptranslator.UnitNamer{},
		byOTLP: map[otlpMetricKey]familyEntry{},
		byName: map[string]scrape.MetricMetadata{},
	}
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
	out := make([]scrape.MetricMetadata, 0, len(f.byName))
	for _, m := range f.byName {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b scrape.MetricMetadata) int { return strings.Compare(a.MetricFamily, b.MetricFamily) })
	return out
}

func (f *familyMetadata) GetMetadata(name string) (scrape.MetricMetadata, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	m, ok := f.byName[name]
	return m, ok
}

func (f *familyMetadata) SizeMetadata() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	n := 0
	for _, m := range f.byName {
		n += len(m.MetricFamily) + len(m.Help) + len(m.Unit)
	}
	return n
}

func (f *familyMetadata) LengthMetadata() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return len(f.byName)
}
