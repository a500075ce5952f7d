package analyticsmetricsconnector

import (
	"sort"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pulse-otel/pulse/internal/catalog"
)

const (
	maxLabels = 5
	// otherValue replaces label values beyond the cardinality limits.
	otherValue = "_other"
)

type labelSet [maxLabels]string

// boundedLabels take their values from Pulse's own fixed vocabulary, so the
// per-label value limit does not apply to them.
var boundedLabels = map[string]bool{catalog.LabelField: true, catalog.LabelPresent: true, catalog.LabelWindow: true, catalog.LabelMetric: true, catalog.LabelLabel: true, catalog.LabelCohort: true, catalog.LabelPeriod: true, catalog.LabelKind: true}

// point is one series' cumulative state.
type point struct {
	// start is when the series was created: the time of its first update
	// (see aggregator.now), never a later export.
	start   pcommon.Timestamp
	value   float64  // sum, gauge value, or histogram sum
	count   uint64   // histogram count
	buckets []uint64 // histogram bucket counts, len(bounds)+1
	dirty   bool
	// exported is set by the first export that includes the point.
	exported bool
}

// series holds one catalog metric's points and its label value sets.
type series struct {
	def    *catalog.Metric
	labels []string
	points map[labelSet]*point
	values []map[string]struct{} // distinct values seen per label
	// lastKey and last remember the latest lookup: consecutive events
	// mostly share labels, and comparing is cheaper than hashing.
	lastKey labelSet
	last    *point
}

// aggregator is the connector's state: every series of the catalog, bounded
// by label value and series limits. It is not safe for concurrent use; the
// connector holds its lock.
type aggregator struct {
	metrics   [catalog.NumConnector]*series
	maxValues int
	maxSeries int
	total     int
	now       pcommon.Timestamp // time of the current update, start of new series
	// extraLabel and extraValue, when set, label every exported point:
	// the partition label of partitioned mode.
	extraLabel, extraValue string
	// exportedAt is the time of the latest export (at first, when the
	// aggregator was made): series a flush creates did not exist then,
	// so it is their start time.
	exportedAt pcommon.Timestamp
}

func newAggregator(eventLabels []string, maxValues, maxSeries int) *aggregator {
	a := &aggregator{maxValues: maxValues, maxSeries: maxSeries, exportedAt: pcommon.NewTimestampFromTime(time.Now())}
	defs := catalog.ConnectorMetrics()
	for i := range defs {
		def := &defs[i]
		labels := def.Labels
		if i == catalog.Events {
			labels = eventLabels
		}
		s := &series{def: def, labels: labels, points: map[labelSet]*point{}, values: make([]map[string]struct{}, len(labels))}
		for j := range s.values {
			s.values[j] = map[string]struct{}{}
		}
		a.metrics[i] = s
	}
	return a
}

// get returns the point of metric m for the label values ls, applying the
// cardinality limits.
func (a *aggregator) get(m int, ls labelSet) *point {
	s := a.metrics[m]
	if s.last != nil && s.lastKey == ls {
		return s.last
	}
	p := a.lookup(s, m, ls)
	s.lastKey, s.last = ls, p
	return p
}

func (a *aggregator) lookup(s *series, m int, ls labelSet) *point {
	if p, ok := s.points[ls]; ok {
		return p
	}
	for i, l := range s.labels {
		v := ls[i]
		if _, ok := s.values[i][v]; ok || boundedLabels[l] {
			continue
		}
		if len(s.values[i]) >= a.maxValues {
			ls[i] = otherValue
			a.overflow(m, i)
			continue
		}
		s.values[i][v] = struct{}{}
	}
	if p, ok := s.points[ls]; ok {
		return p
	}
	if a.total >= a.maxSeries && m != catalog.Overflow {
		for i := range s.labels {
			ls[i] = otherValue
		}
		a.overflow(m, -1)
		if p, ok := s.points[ls]; ok {
			return p
		}
	}
	p := &point{start: a.now}
	if s.def.Kind == catalog.Histogram {
		p.buckets = make([]uint64, len(s.def.Bounds)+1)
	}
	s.points[ls] = p
	a.total++
	return p
}

// overflow counts an update folded into "_other"; label -1 is the series cap.
func (a *aggregator) overflow(m, label int) {
	name := "max_series"
	if label >= 0 {
		name = a.metrics[m].labels[label]
	}
	p := a.get(catalog.Overflow, labelSet{a.metrics[m].def.Name, name})
	p.value++
	p.dirty = true
}

func (a *aggregator) add(m int, ls labelSet, v float64) {
	p := a.get(m, ls)
	p.value += v
	p.dirty = true
}

func (a *aggregator) set(m int, ls labelSet, v float64) {
	p := a.get(m, ls)
	p.value = v
	p.dirty = true
}

func (a *aggregator) observe(m int, ls labelSet, v float64) {
	p := a.get(m, ls)
	bounds := a.metrics[m].def.Bounds
	i := sort.SearchFloat64s(bounds, v) // first bound >= v: the bucket (bound-1, bound]
	p.buckets[i]++
	p.count++
	p.value += v
	p.dirty = true
}

// export writes the series into a ScopeMetrics: all of them when full,
// else only those updated since the last export.
//
// The first export of a sum or histogram series writes two points: 0 at its
// start time, then its value. A store sees the series go from 0 to its
// first value instead of appearing at it, so rate() and increase() count
// the first increments too. Not when the start time is not at least a
// millisecond (Prometheus' resolution) before now: both samples would
// share a timestamp.
func (a *aggregator) export(sm pmetric.ScopeMetrics, now pcommon.Timestamp, full bool) int {
	a.exportedAt = max(a.exportedAt, now)
	n := 0
	for _, s := range a.metrics {
		var m pmetric.Metric
		for ls, p := range s.points {
			if !full && !p.dirty {
				continue
			}
			if m == (pmetric.Metric{}) {
				m = sm.Metrics().AppendEmpty()
				m.SetName(s.def.Name)
				m.SetUnit(s.def.Unit)
				m.SetDescription(s.def.Help)
				switch s.def.Kind {
				case catalog.Sum:
					sum := m.SetEmptySum()
					sum.SetIsMonotonic(true)
					sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
				case catalog.Histogram:
					m.SetEmptyHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
				default:
					m.SetEmptyGauge()
				}
			}
			p.dirty = false
			zero := !p.exported && uint64(p.start)/1e6 < uint64(now)/1e6
			p.exported = true
			n++
			switch s.def.Kind {
			case catalog.Sum:
				dps := m.Sum().DataPoints()
				if zero {
					a.numberPoint(dps.AppendEmpty(), s, ls, p.start, p.start, 0)
				}
				a.numberPoint(dps.AppendEmpty(), s, ls, p.start, now, p.value)
			case catalog.Gauge:
				a.numberPoint(m.Gauge().DataPoints().AppendEmpty(), s, ls, 0, now, p.value)
			case catalog.Histogram:
				dps := m.Histogram().DataPoints()
				if zero {
					dp := dps.AppendEmpty()
					dp.SetStartTimestamp(p.start)
					dp.SetTimestamp(p.start)
					dp.SetCount(0)
					dp.SetSum(0) // without it, the point has no sum: no _sum sample
					dp.ExplicitBounds().FromRaw(s.def.Bounds)
					dp.BucketCounts().FromRaw(make([]uint64, len(p.buckets)))
					a.putLabels(dp.Attributes(), s.labels, ls)
				}
				dp := dps.AppendEmpty()
				dp.SetStartTimestamp(p.start)
				dp.SetTimestamp(now)
				dp.SetCount(p.count)
				dp.SetSum(p.value)
				dp.ExplicitBounds().FromRaw(s.def.Bounds)
				dp.BucketCounts().FromRaw(p.buckets)
				a.putLabels(dp.Attributes(), s.labels, ls)
			}
		}
	}
	return n
}

// numberPoint fills a sum (start > 0) or gauge data point.
func (a *aggregator) numberPoint(dp pmetric.NumberDataPoint, s *series, ls labelSet, start, ts pcommon.Timestamp, v float64) {
	if start > 0 {
		dp.SetStartTimestamp(start)
	}
	dp.SetTimestamp(ts)
	if s.def.Int {
		dp.SetIntValue(int64(v))
	} else {
		dp.SetDoubleValue(v)
	}
	a.putLabels(dp.Attributes(), s.labels, ls)
}

func (a *aggregator) putLabels(attrs pcommon.Map, labels []string, ls labelSet) {
	attrs.EnsureCapacity(len(labels) + 1)
	for i, k := range labels {
		attrs.PutStr(k, ls[i])
	}
	if a.extraLabel != "" {
		attrs.PutStr(a.extraLabel, a.extraValue)
	}
}
