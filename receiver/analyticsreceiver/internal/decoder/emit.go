package decoder

import (
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/valyala/fastjson"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pulse-otel/pulse/internal/cardinality"
	"github.com/pulse-otel/pulse/internal/schema"
	"github.com/pulse-otel/pulse/receiver/analyticsreceiver/internal/metadata"
)

// ScopeName is the instrumentation scope of everything the receiver emits.
const ScopeName = metadata.ScopeName

const maxResourceFields = 3

type resKey [maxResourceFields]string

type scopeMetrics struct {
	sm     pmetric.ScopeMetrics
	byName map[string]pmetric.Metric
}

// emitter appends validated events to one request's pdata.
type emitter struct {
	kind  Kind
	sp    *spec
	arena arena
	now   pcommon.Timestamp
	hint  int

	logs   plog.Logs
	logRes map[resKey]*logGroup
	// logIdx holds, per resource in the order of logs' ResourceLogs, the
	// request index of each of its records (Result.RequestIndex).
	logIdx [][]int

	md     pmetric.Metrics
	metRes map[resKey]*scopeMetrics

	// Label bounds of a snapshot endpoint (labels.go); nil: none.
	fam        *cardinality.Family
	folds      foldCounts
	itemFolded bool // the current snapshot had a value folded
	folded     int  // snapshots with a value folded
	// other: the latest point of each "_other" series (labels.go);
	// otherErrs: this request's error-type points of those series, which
	// add up the folded types.
	other     *otherTimes
	otherErrs map[otherKey]otherErr
}

// otherErr is a request's point of an "_other" series of errors by type;
// ok false: the series had a point at that time already, none is emitted.
type otherErr struct {
	dp pmetric.NumberDataPoint
	ok bool
}

func newEmitter(kind Kind, sp *spec, bodyLen, events int, now time.Time) *emitter {
	e := &emitter{kind: kind, sp: sp, now: pcommon.NewTimestampFromTime(now), hint: events}
	// Unescaped strings are never longer than the body that held them, so
	// one buffer of the body's size holds every string of the request.
	e.arena.buf = make([]byte, 0, bodyLen)
	if kind.IsLogs() {
		e.logs = plog.NewLogs()
		e.logRes = make(map[resKey]*logGroup, 1)
	} else {
		e.md = pmetric.NewMetrics()
		e.metRes = make(map[resKey]*scopeMetrics, 1)
	}
	return e
}

func (e *emitter) str(v *fastjson.Value) string { return e.arena.str(v.GetStringBytes()) }

// text returns a field's string; enum members come from the schema, so they
// cost nothing.
func (e *emitter) text(f *field, v *fastjson.Value, num float64) string {
	if f.kind == kindEnum {
		return f.enum[int(num)]
	}
	return e.str(v)
}

// resource returns the key of the event's resource: its resource fields.
func (e *emitter) resource(w *walker) resKey {
	var k resKey
	for i, f := range e.sp.res {
		if v := w.vals[f.slot]; v != nil {
			k[i] = e.text(f, v, w.nums[f.slot])
		}
	}
	return k
}

func (e *emitter) putResource(r pcommon.Resource, k resKey) {
	attrs := r.Attributes()
	attrs.EnsureCapacity(len(e.sp.res))
	for i, f := range e.sp.res {
		if k[i] != "" {
			attrs.PutStr(f.key, k[i])
		}
	}
}

// emit appends the valid event at request index i and returns the number
// of items it became.
func (e *emitter) emit(w *walker, i int) int {
	if e.kind.IsLogs() {
		e.emitLog(w, i)
		return 1
	}
	return e.emitMetrics(w)
}

// logGroup is the records of one resource and its index in logIdx.
type logGroup struct {
	lrs plog.LogRecordSlice
	idx int
}

// downstreamAttrs is how many attributes later components add to a record.
const downstreamAttrs = 4

func (e *emitter) emitLog(w *walker, i int) {
	k := e.resource(w)
	g, ok := e.logRes[k]
	if !ok {
		rl := e.logs.ResourceLogs().AppendEmpty()
		e.putResource(rl.Resource(), k)
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName(ScopeName)
		g = &logGroup{lrs: sl.LogRecords(), idx: len(e.logIdx)}
		// The events of a request mostly share one resource: size the
		// first for all of them, and let the others grow, so that a
		// request of n resources costs O(n), not O(n²).
		hint := 0
		if len(e.logIdx) == 0 {
			hint = e.hint
		}
		g.lrs.EnsureCapacity(hint)
		e.logRes[k] = g
		e.logIdx = append(e.logIdx, make([]int, 0, hint))
	}
	e.logIdx[g.idx] = append(e.logIdx[g.idx], i)
	lr := g.lrs.AppendEmpty()
	lr.SetObservedTimestamp(e.now)

	var q float64
	switch e.kind {
	case Events:
		lr.SetEventName(schema.EventAnalytics)
		lr.SetTimestamp(msToTimestamp(w.nums[evTimestamp]))
		q = quality(w.vals, evQualitySlot)
	case Recommendations:
		if w.full {
			lr.SetEventName(schema.EventRecommendation)
			lr.SetTimestamp(msToTimestamp(w.nums[recTimestamp]))
		} else {
			lr.SetEventName(schema.EventRecommendationResponse)
			lr.SetTimestamp(msToTimestamp(w.nums[recRespTime]))
		}
		q = quality(w.vals, recQualitySlots)
	}

	n := 4
	for _, f := range e.sp.flat {
		if f.role == roleAttr && w.vals[f.slot] != nil {
			n++
		}
	}
	attrs := lr.Attributes()
	// Room for what the privacy processor adds (its audit attributes), so
	// that it does not have to grow the map.
	attrs.EnsureCapacity(n + downstreamAttrs)
	for _, f := range e.sp.flat {
		if f.role != roleAttr {
			continue
		}
		v := w.vals[f.slot]
		if v == nil {
			continue
		}
		num := w.nums[f.slot]
		switch f.kind {
		case kindString, kindEnum:
			attrs.PutStr(f.key, e.text(f, v, num))
		case kindNumber:
			attrs.PutDouble(f.key, num)
		case kindCount, kindTime:
			attrs.PutInt(f.key, int64(num))
		case kindBool:
			attrs.PutBool(f.key, num != 0)
		case kindStrings:
			arr, _ := v.Array()
			s := attrs.PutEmptySlice(f.key)
			s.EnsureCapacity(len(arr))
			for _, el := range arr {
				s.AppendEmpty().SetStr(e.str(el))
			}
		case kindAny:
			e.anyValue(attrs.PutEmpty(f.key), v)
		}
	}
	attrs.PutBool(schema.AttrIsValid, true)
	attrs.PutDouble(schema.AttrQualityScore, q)
	attrs.PutStr(schema.AttrProcessingStatus, schema.ProcessingStatusProcessed)
	attrs.PutBool(schema.AttrIsAnonymized, false)
}

// anyValue converts a validated free-form JSON value. Integers stay integers;
// null becomes an empty value.
func (e *emitter) anyValue(dst pcommon.Value, v *fastjson.Value) {
	switch v.Type() {
	case fastjson.TypeString:
		dst.SetStr(e.str(v))
	case fastjson.TypeNumber:
		var buf [40]byte
		raw := v.MarshalTo(buf[:0])
		if isIntLiteral(raw) {
			if i, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
				dst.SetInt(i)
				return
			}
		}
		x, _ := v.Float64()
		dst.SetDouble(x)
	case fastjson.TypeTrue:
		dst.SetBool(true)
	case fastjson.TypeFalse:
		dst.SetBool(false)
	case fastjson.TypeArray:
		arr, _ := v.Array()
		s := dst.SetEmptySlice()
		s.EnsureCapacity(len(arr))
		for _, el := range arr {
			e.anyValue(s.AppendEmpty(), el)
		}
	case fastjson.TypeObject:
		o, _ := v.Object()
		m := dst.SetEmptyMap()
		m.EnsureCapacity(o.Len())
		o.Visit(func(k []byte, fv *fastjson.Value) {
			e.anyValue(m.PutEmpty(e.arena.str(k)), fv)
		})
	}
}

func isIntLiteral(b []byte) bool {
	for _, c := range b {
		if c == '.' || c == 'e' || c == 'E' {
			return false
		}
	}
	return len(b) > 0
}

// msToTimestamp converts epoch milliseconds, keeping sub-millisecond digits
// without the rounding error of one float multiplication.
func msToTimestamp(ms float64) pcommon.Timestamp {
	whole := math.Floor(ms)
	return pcommon.Timestamp(int64(whole)*1e6 + int64(math.Round((ms-whole)*1e6)))
}

// scope returns the scope of the resource k, creating it on first use.
func (e *emitter) scope(k resKey) *scopeMetrics {
	sm, ok := e.metRes[k]
	if !ok {
		rm := e.md.ResourceMetrics().AppendEmpty()
		e.putResource(rm.Resource(), k)
		sm = &scopeMetrics{sm: rm.ScopeMetrics().AppendEmpty(), byName: map[string]pmetric.Metric{}}
		sm.sm.Scope().SetName(ScopeName)
		e.metRes[k] = sm
	}
	return sm
}

func (sm *scopeMetrics) gauge(g *gauge) pmetric.NumberDataPointSlice {
	d := g.def
	m, ok := sm.byName[d.Name]
	if !ok {
		m = sm.sm.Metrics().AppendEmpty()
		m.SetName(d.Name)
		m.SetUnit(d.Unit)
		m.SetDescription(d.Help)
		m.SetEmptyGauge()
		sm.byName[d.Name] = m
	}
	return m.Gauge().DataPoints()
}

// labelVals holds one series' label values in the order of the endpoint's
// cardinality family: resource fields, data point dims, error_type.
type labelVals [cardinality.MaxLabels]string

// otherKey identifies a point of a series that holds "_other": the
// request's folded error types at one time add up in one point.
type otherKey struct {
	vals labelVals
	ts   pcommon.Timestamp
}

func hasOther(vals []string) bool {
	for _, v := range vals {
		if v == cardinality.Other {
			return true
		}
	}
	return false
}

// series is where the points of one label set go.
type series struct {
	sm   *scopeMetrics
	dims [cardinality.MaxLabels][2]string
	nd   int
}

// series returns the scope and data point attributes of the label values
// vals (resource fields first, then the dims).
func (e *emitter) series(vals []string) series {
	var k resKey
	nr := len(e.sp.res)
	copy(k[:], vals[:nr])
	s := series{sm: e.scope(k)}
	for j, f := range e.sp.dims {
		if v := vals[nr+j]; v != "" {
			s.dims[s.nd] = [2]string{f.key, v}
			s.nd++
		}
	}
	return s
}

// emitMetrics appends one gauge point per numeric field of a snapshot.
// Client-controlled label values are bounded first (labels.go): a value
// past the limits becomes "_other".
func (e *emitter) emitMetrics(w *walker) int {
	var tsSlot, startSlot int
	switch e.kind {
	case ModelMetrics:
		tsSlot, startSlot = modelTimestamp, modelStart
	case BusinessMetrics:
		tsSlot, startSlot = bizTimestamp, bizStart
	default:
		tsSlot, startSlot = sysTimestamp, sysStart
	}
	ts := msToTimestamp(w.nums[tsSlot])
	start := msToTimestamp(w.nums[startSlot])

	var lv labelVals
	nl := 0
	for _, f := range e.sp.res {
		if v := w.vals[f.slot]; v != nil {
			lv[nl] = e.text(f, v, w.nums[f.slot])
		}
		nl++
	}
	for _, f := range e.sp.dims {
		if v := w.vals[f.slot]; v != nil {
			lv[nl] = e.text(f, v, w.nums[f.slot])
		}
		nl++
	}
	e.itemFolded = false
	e.admit(lv[:nl])
	defer func() {
		if e.itemFolded {
			e.folded++
		}
	}()
	// An "_other" series gets one point per time: the first snapshot's.
	skip := hasOther(lv[:nl]) && !e.claimOther(lv, ts)
	base := e.series(lv[:nl])

	point := func(s *series, g *gauge, extra int) pmetric.NumberDataPoint {
		dp := s.sm.gauge(g).AppendEmpty()
		dp.SetStartTimestamp(start)
		dp.SetTimestamp(ts)
		attrs := dp.Attributes()
		attrs.EnsureCapacity(s.nd + len(g.attrs) + extra)
		for _, kv := range s.dims[:s.nd] {
			attrs.PutStr(kv[0], kv[1])
		}
		for _, kv := range g.attrs {
			attrs.PutStr(kv[0], kv[1])
		}
		return dp
	}

	n := 0
	for _, f := range e.sp.flat {
		if f.metric == nil {
			continue
		}
		v := w.vals[f.slot]
		if v == nil {
			continue
		}
		num := w.nums[f.slot]
		switch f.kind {
		case kindObjects:
			// errorTypes: one point per element, labelled by its type.
			arr, _ := v.Array()
			for _, el := range arr {
				ev := lv
				ev[nl] = e.arena.str(el.GetStringBytes("type"))
				e.admit(ev[:nl+1])
				errs := int64(el.GetFloat64("count"))
				// Error types folded into "_other" add up in one point.
				var key otherKey
				if hasOther(ev[:nl+1]) {
					key = otherKey{vals: ev, ts: ts}
					if o, ok := e.otherErrs[key]; ok {
						if o.ok {
							o.dp.SetIntValue(o.dp.IntValue() + errs)
						}
						continue
					}
					if e.otherErrs == nil {
						e.otherErrs = map[otherKey]otherErr{}
					}
					if !e.claimOther(ev, ts) {
						e.otherErrs[key] = otherErr{}
						continue
					}
				}
				s := &base
				if !slices.Equal(ev[:nl], lv[:nl]) {
					fs := e.series(ev[:nl])
					s = &fs
				}
				dp := point(s, f.metric, 1)
				dp.Attributes().PutStr(errorTypeLabel, ev[nl])
				dp.SetIntValue(errs)
				if key != (otherKey{}) {
					e.otherErrs[key] = otherErr{dp: dp, ok: true}
				}
				n++
			}
			continue
		}
		if skip {
			continue
		}
		switch f.kind {
		case kindEnum:
			point(&base, f.metric, 0).SetDoubleValue(f.levels[int(num)])
		case kindCount, kindBool, kindStrings:
			point(&base, f.metric, 0).SetIntValue(int64(num))
		default:
			point(&base, f.metric, 0).SetDoubleValue(num)
		}
		n++
	}
	return n
}
