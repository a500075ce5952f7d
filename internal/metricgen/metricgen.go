// Package metricgen generates metrics of internal/catalog (the
// analytics_metrics connector's, docs/metrics.md) for storage benchmarks: OTel batches
// with cumulative state, and the same samples as the OTel-to-Prometheus
// translator would produce, for appending straight to a TSDB.
package metricgen // import "github.com/pulse-otel/pulse/internal/metricgen"

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/translator/prometheusremotewrite"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pulse-otel/pulse/internal/catalog"
)

// Dim is one label of a generated metric and how many values it has.
type Dim struct {
	Key string
	N   int
}

// Metric is one metric of the generated batches: a metric of
// internal/catalog (name, unit, kind, buckets) and the label values to
// generate for it.
type Metric struct {
	Name, Unit string
	Kind       catalog.Kind
	Dims       []Dim
	Bounds     []float64
}

// FromCatalog returns the catalog metrics called names, in that order,
// with one Dim per catalog label and values[label] values for it (1 when
// values has no entry). It panics on a name the catalog does not hold: the
// callers are benchmarks with fixed lists.
func FromCatalog(values map[string]int, names ...string) []Metric {
	out := make([]Metric, 0, len(names))
	for _, name := range names {
		def, ok := catalog.ByName(name)
		if !ok {
			panic("metricgen: " + name + " is not in internal/catalog")
		}
		m := Metric{Name: def.Name, Unit: def.Unit, Kind: def.Kind, Bounds: def.Bounds}
		for _, l := range def.Labels {
			n, ok := values[l]
			if !ok {
				n = 1
			}
			m.Dims = append(m.Dims, Dim{Key: l, N: n})
		}
		out = append(out, m)
	}
	return out
}

// seriesState is the cumulative state of one data point stream.
type seriesState struct {
	attrs   [][2]string
	count   uint64
	sum     float64
	buckets []uint64
	weights []float64 // share of observations per bucket
	rate    float64   // mean increment per step
	gauge   int64
}

// Gen produces, step after step, batches like the connector's: one
// resource, one scope, every metric with all its data points, cumulative
// sums and histograms that grow by a random amount at each step.
type Gen struct {
	metrics []Metric
	series  [][]*seriesState // per metric
	rng     *rand.Rand
	start   pcommon.Timestamp
}

// New returns a generator of metrics whose series start at start.
func New(metrics []Metric, start time.Time) *Gen {
	g := &Gen{metrics: metrics, rng: rand.New(rand.NewPCG(1, 2)), start: pcommon.NewTimestampFromTime(start)}
	for _, m := range metrics {
		var states []*seriesState
		var walk func(i int, attrs [][2]string)
		walk = func(i int, attrs [][2]string) {
			if i == len(m.Dims) {
				s := &seriesState{attrs: append([][2]string(nil), attrs...), rate: 1 + 50*g.rng.Float64()}
				if m.Kind == catalog.Histogram {
					s.buckets = make([]uint64, len(m.Bounds)+1)
					s.weights = make([]float64, len(m.Bounds)+1)
					for j := range s.weights {
						s.weights[j] = g.rng.Float64()
					}
				}
				states = append(states, s)
				return
			}
			for v := range m.Dims[i].N {
				walk(i+1, append(attrs, [2]string{m.Dims[i].Key, value(m.Dims[i].Key, v)}))
			}
		}
		walk(0, nil)
		g.series = append(g.series, states)
	}
	return g
}

// value is the v-th value of label key: the real values for window
// and platform, key_v for the others.
func value(key string, v int) string {
	switch key {
	case "window":
		return []string{"1h", "1d", "7d", "30d"}[v]
	case "platform":
		return []string{"web", "ios", "android"}[v]
	}
	return fmt.Sprintf("%s_%d", key, v)
}

// SeriesCount is the number of Prometheus series one batch translates to,
// without target_info.
func (g *Gen) SeriesCount() int {
	n := 0
	for i, m := range g.metrics {
		per := 1
		if m.Kind == catalog.Histogram {
			per = len(m.Bounds) + 3 // buckets with +Inf, _sum, _count
		}
		n += per * len(g.series[i])
	}
	return n
}

// Step advances every stream by one step.
func (g *Gen) Step() {
	for i, m := range g.metrics {
		for _, s := range g.series[i] {
			switch m.Kind {
			case catalog.Sum:
				s.count += uint64(g.rng.Float64() * 2 * s.rate)
			case catalog.Gauge:
				s.gauge = int64(1000*s.rate) + int64(g.rng.IntN(20))
			case catalog.Histogram:
				n := uint64(g.rng.Float64() * 2 * s.rate)
				for j := range s.buckets {
					k := uint64(float64(n) * s.weights[j] / 2)
					s.buckets[j] += k
					s.count += k
					s.sum += float64(k) * m.Bounds[min(j, len(m.Bounds)-1)] * 0.7
				}
			}
		}
	}
}

// Batch advances every stream by one step and returns the batch at ts.
func (g *Gen) Batch(ts time.Time) pmetric.Metrics {
	g.Step()
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "pulse")
	rm.Resource().Attributes().PutStr("service.instance.id", "pulse-0")
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName("github.com/pulse-otel/pulse/connector/analyticsmetricsconnector")
	now := pcommon.NewTimestampFromTime(ts)
	for i, m := range g.metrics {
		out := sm.Metrics().AppendEmpty()
		out.SetName(m.Name)
		out.SetUnit(m.Unit)
		switch m.Kind {
		case catalog.Sum:
			sum := out.SetEmptySum()
			sum.SetIsMonotonic(true)
			sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			for _, s := range g.series[i] {
				dp := sum.DataPoints().AppendEmpty()
				dp.SetStartTimestamp(g.start)
				dp.SetTimestamp(now)
				dp.SetIntValue(int64(s.count))
				putAttrs(dp.Attributes(), s.attrs)
			}
		case catalog.Gauge:
			gauge := out.SetEmptyGauge()
			for _, s := range g.series[i] {
				dp := gauge.DataPoints().AppendEmpty()
				dp.SetTimestamp(now)
				dp.SetIntValue(s.gauge)
				putAttrs(dp.Attributes(), s.attrs)
			}
		case catalog.Histogram:
			h := out.SetEmptyHistogram()
			h.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			for _, s := range g.series[i] {
				dp := h.DataPoints().AppendEmpty()
				dp.SetStartTimestamp(g.start)
				dp.SetTimestamp(now)
				dp.ExplicitBounds().FromRaw(m.Bounds)
				dp.BucketCounts().FromRaw(s.buckets)
				dp.SetCount(s.count)
				dp.SetSum(s.sum)
				putAttrs(dp.Attributes(), s.attrs)
			}
		}
	}
	return md
}

// Series is one Prometheus series of the generated batches, as the
// translator names it, and where its value comes from.
type Series struct {
	lset   labels.Labels
	ref    storage.SeriesRef
	state  *seriesState
	bucket int // >= 0: bucket index; -1: sum value, -2: histogram _sum, -3: _count, -4: gauge
}

// PromSeries lists the series the translator makes of g's batches (but
// target_info), with the names it gives each metric.
func (g *Gen) PromSeries() ([]*Series, error) {
	md := g.Batch(time.Now())
	metrics := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	settings := prometheusremotewrite.Settings{AddMetricSuffixes: true, DisableTargetInfo: true}
	var out []*Series
	want := map[string]bool{}
	for i, m := range g.metrics {
		one := pmetric.NewMetrics()
		md.ResourceMetrics().At(0).Resource().CopyTo(one.ResourceMetrics().AppendEmpty().Resource())
		metrics.At(i).CopyTo(one.ResourceMetrics().At(0).ScopeMetrics().AppendEmpty().Metrics().AppendEmpty())
		tsMap, err := prometheusremotewrite.FromMetrics(one, settings)
		if err != nil {
			return nil, fmt.Errorf("translating %s: %w", m.Name, err)
		}
		var sb labels.ScratchBuilder
		names := map[string]bool{}
		for _, ts := range tsMap {
			ls := ts.ToLabels(&sb, nil)
			want[ls.String()] = true
			names[ls.Get(model.MetricNameLabel)] = true
		}
		base := ""
		for n := range names {
			if m.Kind != catalog.Histogram || strings.HasSuffix(n, "_bucket") {
				base = strings.TrimSuffix(n, "_bucket")
			}
		}
		for _, s := range g.series[i] {
			mk := func(name string, bucket int, extra ...string) {
				b := labels.NewBuilder(labels.FromStrings(model.MetricNameLabel, name, "job", "pulse", "instance", "pulse-0"))
				for _, kv := range s.attrs {
					b.Set(kv[0], kv[1])
				}
				if len(extra) == 2 {
					b.Set(extra[0], extra[1])
				}
				out = append(out, &Series{lset: b.Labels(), state: s, bucket: bucket})
			}
			switch m.Kind {
			case catalog.Sum:
				mk(base, -1)
				continue
			case catalog.Gauge:
				mk(base, -4)
				continue
			}
			for j := range s.buckets {
				le := "+Inf"
				if j < len(m.Bounds) {
					le = strconv.FormatFloat(m.Bounds[j], 'f', -1, 64)
				}
				mk(base+"_bucket", j, "le", le)
			}
			mk(base+"_sum", -2)
			mk(base+"_count", -3)
		}
	}
	got := map[string]bool{}
	for _, s := range out {
		got[s.lset.String()] = true
	}
	if !maps.Equal(want, got) {
		return nil, fmt.Errorf("metricgen: %d generated series differ from the translator's %d", len(got), len(want))
	}
	return out, nil
}

// AppendStep advances every stream by one step and appends its samples at
// ts straight to the TSDB, as the exporter would after translation.
func (g *Gen) AppendStep(app storage.AppenderV2, series []*Series, ts int64) (int, error) {
	g.Step()
	for _, s := range series {
		var v float64
		switch s.bucket {
		case -1:
			v = float64(s.state.count)
		case -4:
			v = float64(s.state.gauge)
		case -2:
			v = s.state.sum
		case -3:
			v = float64(s.state.count)
		default:
			// Cumulative: le buckets count every observation at or below.
			var c uint64
			for _, n := range s.state.buckets[:s.bucket+1] {
				c += n
			}
			v = float64(c)
		}
		ref, err := app.Append(s.ref, s.lset, 0, ts, v, nil, nil, storage.AOptions{})
		if err != nil {
			return 0, err
		}
		s.ref = ref
	}
	return len(series), nil
}

func putAttrs(m pcommon.Map, attrs [][2]string) {
	m.EnsureCapacity(len(attrs))
	for _, kv := range attrs {
		m.PutStr(kv[0], kv[1])
	}
}
