package catalog

import (
	"slices"

	"github.com/prometheus/otlptranslator"
)

// Kind is how a metric is exported.
type Kind uint8

const (
	// Sum is a monotonic cumulative sum (a Prometheus counter).
	Sum Kind = iota + 1
	// Histogram is a cumulative explicit-bucket histogram.
	Histogram
	// Gauge is a gauge.
	Gauge
)

func (k Kind) String() string {
	switch k {
	case Sum:
		return "sum"
	case Histogram:
		return "histogram"
	case Gauge:
		return "gauge"
	}
	return "unknown"
}

// Metric is one metric definition: what a reader needs to emit it, name it
// in Prometheus or document it.
type Metric struct {
	// Name is the OTel metric name.
	Name string
	// Unit is the UCUM unit ("" when none).
	Unit string
	// Help is the metric's description.
	Help string
	Kind Kind
	// Labels are the data point attribute keys, in order. For snapshot
	// gauges: the endpoint's dims, then the fixed attributes that split
	// one metric into series (stat, direction, error_type).
	Labels []string
	// Bounds are the explicit bucket boundaries of a histogram.
	Bounds []float64
	// Int is true for integer sums and gauges.
	Int bool
	// Source says which component emits the metric.
	Source Source
}

// Source is the component that emits a metric.
type Source uint8

const (
	// Connector metrics are aggregated by the analytics_metrics connector.
	Connector Source = iota + 1
	// Snapshot metrics are gauges of the analytics receiver's snapshot
	// endpoints (model, business and system metrics).
	Snapshot
)

// namer names metrics the way the prometheus_remote_write exporter does
// with its defaults (and promstore with its default translation).
var namer = otlptranslator.MetricNamer{WithMetricSuffixes: true}

// OTLP is the metric as otlptranslator's namers take it.
func (m Metric) OTLP() otlptranslator.Metric {
	typ := otlptranslator.MetricType(otlptranslator.MetricTypeGauge)
	switch m.Kind {
	case Sum:
		typ = otlptranslator.MetricTypeMonotonicCounter
	case Histogram:
		typ = otlptranslator.MetricTypeHistogram
	}
	return otlptranslator.Metric{Name: m.Name, Unit: m.Unit, Type: typ}
}

// PromName is the Prometheus family name of m (pulse_events_total,
// pulse_event_duration_milliseconds).
func (m Metric) PromName() string {
	if i, ok := byName[m.Name]; ok && all[i].Unit == m.Unit && all[i].Kind == m.Kind {
		return promNames[i]
	}
	return buildName(m)
}

func buildName(m Metric) string {
	name, err := namer.Build(m.OTLP())
	if err != nil {
		panic("catalog: no Prometheus name for " + m.Name + ": " + err.Error())
	}
	return name
}

// SeriesNames are the names of the series m is stored as: the family name,
// or its _bucket, _sum and _count series for a histogram.
func (m Metric) SeriesNames() []string {
	n := m.PromName()
	if m.Kind == Histogram {
		return []string{n + "_bucket", n + "_sum", n + "_count"}
	}
	return []string{n}
}

// IsCounter reports whether m's series only grow (sums, histogram series),
// as rate() and increase() require.
func (m Metric) IsCounter() bool { return m.Kind == Sum || m.Kind == Histogram }

func (m Metric) clone() Metric {
	m.Labels = slices.Clone(m.Labels)
	m.Bounds = slices.Clone(m.Bounds)
	return m
}

var (
	all       = append(connectorMetrics[:], snapshotMetrics...)
	byName    = map[string]int{}
	promNames []string
	// bySeries maps every series name (see SeriesNames) to its metric.
	bySeries = map[string]int{}
)

func init() {
	promNames = make([]string, len(all))
	for i := range all {
		m := &all[i]
		if _, dup := byName[m.Name]; dup {
			panic("catalog: " + m.Name + " defined twice")
		}
		byName[m.Name] = i
		promNames[i] = buildName(*m)
	}
	for i := range all {
		for _, s := range all[i].SeriesNames() {
			if j, dup := bySeries[s]; dup {
				panic("catalog: " + all[j].Name + " and " + all[i].Name + " both store " + s)
			}
			bySeries[s] = i
		}
	}
}

// All returns every metric: the connector's in ID order, then the snapshot
// gauges by endpoint.
func All() []Metric {
	out := make([]Metric, len(all))
	for i, m := range all {
		out[i] = m.clone()
	}
	return out
}

// Lookup returns the metric whose Prometheus family or series is promName
// (pulse_events_total, pulse_event_duration_milliseconds_bucket).
func Lookup(promName string) (Metric, bool) {
	if i, ok := bySeries[promName]; ok {
		return all[i].clone(), true
	}
	for i, n := range promNames {
		if n == promName {
			return all[i].clone(), true
		}
	}
	return Metric{}, false
}

// ByName returns the metric called name (its OTel name).
func ByName(name string) (Metric, bool) {
	i, ok := byName[name]
	if !ok {
		return Metric{}, false
	}
	return all[i].clone(), true
}

// SeriesNames returns every series name of the catalog, sorted.
func SeriesNames() []string {
	out := make([]string, 0, len(bySeries))
	for s := range bySeries {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}
