package decoder

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// clientLabel is a label of a snapshot metric whose value a client sends.
type clientLabel struct {
	kind  Kind
	path  string // JSON path; "errorMetrics.errorTypes[].type" is every element's
	label string // attribute key, on the resource or the data point
}

// clientLabels is every snapshot label whose value a client controls (the
// enums modelType, category, timeGranularity and environment take values
// from a fixed list and are not here).
var clientLabels = []clientLabel{
	{ModelMetrics, "modelId", "model_id"},
	{ModelMetrics, "modelVersion", "model_version"},
	{BusinessMetrics, "metricName", "metric_name"},
	{BusinessMetrics, "unit", "unit"},
	{BusinessMetrics, "dimensions.segment", "segment"},
	{BusinessMetrics, "dimensions.channel", "channel"},
	{BusinessMetrics, "dimensions.geography", "geography"},
	{BusinessMetrics, "dimensions.platform", "platform"},
	{SystemMetrics, "serviceName", "service.name"},
	{SystemMetrics, "serviceVersion", "service.version"},
	{SystemMetrics, "timeWindow.granularity", "granularity"},
	{SystemMetrics, "errorMetrics.errorTypes[].type", "error_type"},
}

// seriesOf returns the distinct series of md by metric name, and the values
// each attribute key took.
func seriesOf(md pmetric.Metrics, series map[string]map[string]bool, values map[string]map[string]bool) {
	add := func(key, v string) {
		if values[key] == nil {
			values[key] = map[string]bool{}
		}
		values[key][v] = true
	}
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		rm := md.ResourceMetrics().At(i)
		var res []string
		rm.Resource().Attributes().Range(func(k string, v pcommon.Value) bool {
			res = append(res, k+"="+v.AsString())
			add(k, v.AsString())
			return true
		})
		for j := 0; j < rm.ScopeMetrics().Len(); j++ {
			ms := rm.ScopeMetrics().At(j).Metrics()
			for m := 0; m < ms.Len(); m++ {
				dps := ms.At(m).Gauge().DataPoints()
				for p := 0; p < dps.Len(); p++ {
					labels := append([]string(nil), res...)
					dps.At(p).Attributes().Range(func(k string, v pcommon.Value) bool {
						labels = append(labels, k+"="+v.AsString())
						add(k, v.AsString())
						return true
					})
					sort.Strings(labels)
					name := ms.At(m).Name()
					if series[name] == nil {
						series[name] = map[string]bool{}
					}
					series[name][strings.Join(labels, ",")] = true
				}
			}
		}
	}
}

// snapshotWith returns a valid snapshot whose label at path has value v.
func snapshotWith(c clientLabel, v string) rec {
	r := validFor(c.kind)
	if c.path == "errorMetrics.errorTypes[].type" {
		r["errorMetrics"].(rec)["errorTypes"] = []any{rec{"type": v, "count": 1}}
		return r
	}
	return set(r, c.path, v)
}

// TestClientLabelsAreBounded sends 3000 distinct values of each label a
// client controls, with the default configuration, and counts the series:
// no label may take more than max_values_per_label values plus "_other".
// Before the limit existed, every value was a series of every metric of
// the endpoint (issue 12, defect 4: 600,000 series from 100 requests).
func TestClientLabelsAreBounded(t *testing.T) {
	const sent = 3000
	for _, c := range clientLabels {
		t.Run(c.kind.String()+"/"+c.label, func(t *testing.T) {
			d := New(Options{})
			series := map[string]map[string]bool{}
			values := map[string]map[string]bool{}
			for req := 0; req < sent/DefaultMaxEvents; req++ {
				items := make([]any, 0, DefaultMaxEvents)
				for i := range DefaultMaxEvents {
					items = append(items, snapshotWith(c, fmt.Sprintf("v-%d-%d", req, i)))
				}
				res, err := d.Decode(c.kind, mustJSON(items), testNow)
				if err != nil || res.Accepted != DefaultMaxEvents {
					t.Fatalf("request %d: err %v, accepted %d of %d, rejected %v", req, err, res.Accepted, DefaultMaxEvents, res.Rejected)
				}
				seriesOf(res.Metrics, series, values)
			}
			if n := len(values[c.label]); n > DefaultMaxValuesPerLabel+1 {
				t.Errorf("%s took %d distinct values from %d sent; want at most %d plus _other", c.label, n, sent, DefaultMaxValuesPerLabel)
			}
			if !values[c.label]["_other"] {
				t.Errorf("%s: no value folded into _other", c.label)
			}
			// A snapshot makes per metric as many series as it has points
			// of it (stat, direction, error types).
			one := decode(t, Options{}, c.kind, mustJSON(snapshotWith(c, "x")))
			for name, s := range series {
				m, _ := findMetric(one.Metrics, name)
				perSnapshot := m.Gauge().DataPoints().Len()
				if most := (DefaultMaxValuesPerLabel + 1) * perSnapshot; len(s) > most {
					t.Errorf("%s has %d series from %d distinct %s; want at most %d", name, len(s), sent, c.label, most)
				}
			}
		})
	}
}

// TestLabelSetCapFoldsCombinations varies two labels that stay under their
// own limit together past max_label_sets.
func TestLabelSetCapFoldsCombinations(t *testing.T) {
	d := New(Options{Labels: LabelLimits{MaxValuesPerLabel: 100, MaxLabelSets: 50}})
	var items []any
	for i := range 10 {
		for j := range 10 {
			r := validBusiness()
			set(r, "dimensions.segment", fmt.Sprintf("s%d", i))
			set(r, "dimensions.channel", fmt.Sprintf("c%d", j))
			items = append(items, r)
		}
	}
	res, err := d.Decode(BusinessMetrics, mustJSON(items), testNow)
	if err != nil || res.Accepted != 100 {
		t.Fatalf("err %v, accepted %d", err, res.Accepted)
	}
	series := map[string]map[string]bool{}
	seriesOf(res.Metrics, series, map[string]map[string]bool{})
	if n := len(series["pulse.business.value"]); n != 51 {
		t.Errorf("pulse.business.value has %d series, want 50 and the _other one", n)
	}
	if res.Folded != 50 || len(res.Folds) != 1 || res.Folds[0] != (LabelFold{Label: "max_label_sets", Count: 50}) {
		t.Errorf("Folded %d, Folds %v; want 50 snapshots folded by max_label_sets", res.Folded, res.Folds)
	}
	// One point per series and time: the 50 folded snapshots share one.
	if n := res.Metrics.DataPointCount(); n != 51*6 {
		t.Errorf("%d points, want %d (one per series and metric)", n, 51*6)
	}
}

// TestFoldedValuesAnswerAndStay checks what the caller is told, that an
// admitted value keeps passing after the limit, and that folded error
// types add up in one point.
func TestFoldedValuesAnswerAndStay(t *testing.T) {
	d := New(Options{Labels: LabelLimits{MaxValuesPerLabel: 2, MaxLabelSets: 100}})
	sys := func(types ...string) rec {
		r := validSystem()
		var ets []any
		for _, ty := range types {
			ets = append(ets, rec{"type": ty, "count": 5})
		}
		r["errorMetrics"].(rec)["errorTypes"] = ets
		return r
	}
	res, err := d.Decode(SystemMetrics, mustJSON([]any{sys("a", "b", "c", "d"), sys("a")}), testNow)
	if err != nil || res.Accepted != 2 {
		t.Fatalf("err %v, accepted %d", err, res.Accepted)
	}
	if res.Folded != 1 || len(res.Folds) != 1 || res.Folds[0] != (LabelFold{Label: "error_type", Count: 2}) {
		t.Fatalf("Folded %d, Folds %v; want 1 snapshot with 2 error types folded", res.Folded, res.Folds)
	}
	m, ok := findMetric(res.Metrics, "pulse.system.errors_by_type")
	if !ok {
		t.Fatal("no pulse.system.errors_by_type")
	}
	got := map[string]int64{}
	dps := m.Gauge().DataPoints()
	for i := 0; i < dps.Len(); i++ {
		et, _ := dps.At(i).Attributes().Get("error_type")
		got[et.Str()] += dps.At(i).IntValue()
		if et.Str() == "_other" && dps.At(i).IntValue() != 10 {
			t.Errorf("_other point = %d, want c and d's 5+5 in one point", dps.At(i).IntValue())
		}
	}
	if got["a"] != 10 || got["b"] != 5 || got["_other"] != 10 || len(got) != 3 {
		t.Errorf("errors by type %v; want a=10 (both snapshots), b=5, _other=10", got)
	}

	// State saved and restored: the same values pass, no new one does.
	saved, err := d.MarshalLabels()
	if err != nil {
		t.Fatal(err)
	}
	d2 := New(Options{Labels: LabelLimits{MaxValuesPerLabel: 2, MaxLabelSets: 100}})
	if err := d2.UnmarshalLabels(saved); err != nil {
		t.Fatal(err)
	}
	res, _ = d2.Decode(SystemMetrics, mustJSON(sys("b", "e")), testNow)
	if res.Folded != 1 || len(res.Folds) != 1 || res.Folds[0].Count != 1 {
		t.Errorf("after restore: Folded %d, Folds %v; want only e folded", res.Folded, res.Folds)
	}
	res, _ = d2.Decode(SystemMetrics, mustJSON(sys("a")), testNow)
	if res.Folded != 0 || res.Folds != nil {
		t.Errorf("after restore an admitted value folded: %d %v", res.Folded, res.Folds)
	}
}

// TestLogEndpointsHaveNoFolds: events and recommendations are bounded by
// the connector, not here.
func TestLogEndpointsHaveNoFolds(t *testing.T) {
	res := decode(t, Options{Labels: LabelLimits{MaxValuesPerLabel: 1, MaxLabelSets: 1}}, Events, mustJSON([]any{validEvent(), set(validEvent(), "category", "other")}))
	if res.Folded != 0 || res.Folds != nil {
		t.Errorf("events: Folded %d, Folds %v", res.Folded, res.Folds)
	}
}

// TestClientLabelsListIsComplete fails when a spec gains a string label
// that clientLabels (and so TestClientLabelsAreBounded) does not cover.
func TestClientLabelsListIsComplete(t *testing.T) {
	for _, k := range []Kind{ModelMetrics, BusinessMetrics, SystemMetrics} {
		var want, got []string
		for _, l := range snapshotLabels(k) {
			if !l.Bounded {
				want = append(want, l.Name)
			}
		}
		for _, c := range clientLabels {
			if c.kind == k {
				got = append(got, c.label)
			}
		}
		sort.Strings(want)
		sort.Strings(got)
		if strings.Join(want, ",") != strings.Join(got, ",") {
			t.Errorf("%s: bounded labels %v, tested %v", k, want, got)
		}
	}
}

// BenchmarkDecodeSnapshotLabels is the cost of the label bounds on a
// request of 100 business snapshots whose labels are admitted already,
// against the same decoder without them.
func BenchmarkDecodeSnapshotLabels(b *testing.B) {
	items := make([]any, 100)
	for i := range items {
		items[i] = set(validBusiness(), "metricName", fmt.Sprintf("m%d", i%20))
	}
	body := mustJSON(items)
	for _, bounded := range []bool{true, false} {
		b.Run(fmt.Sprintf("bounded=%v", bounded), func(b *testing.B) {
			d := New(Options{})
			if !bounded {
				d.labels = families{}
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if res, err := d.Decode(BusinessMetrics, body, testNow); err != nil || res.Folded != 0 {
					b.Fatal(err, res.Folded)
				}
			}
		})
	}
}

func TestLongLabelValueFolds(t *testing.T) {
	long := strings.Repeat("m", DefaultMaxValueLength+1)
	ok := strings.Repeat("m", DefaultMaxValueLength)
	res := decode(t, Options{}, BusinessMetrics, mustJSON([]any{set(validBusiness(), "metricName", long), set(validBusiness(), "metricName", ok)}))
	if res.Accepted != 2 || res.Folded != 1 || len(res.Folds) != 1 || res.Folds[0] != (LabelFold{Label: "metric_name", Count: 1}) {
		t.Fatalf("accepted %d, Folded %d, Folds %v; want the long name folded", res.Accepted, res.Folded, res.Folds)
	}
	values := map[string]map[string]bool{}
	seriesOf(res.Metrics, map[string]map[string]bool{}, values)
	if !values["metric_name"]["_other"] || !values["metric_name"][ok] || len(values["metric_name"]) != 2 {
		t.Errorf("metric_name values: %d, want _other and the %d-byte name", len(values["metric_name"]), len(ok))
	}
}

// TestOtherSeriesGetOnePointPerTime: folded snapshots of one time, in one
// request or in several, give the "_other" series one point (the store
// would refuse a second one with another value as a duplicate sample and
// fail the request); a later time gets its point.
func TestOtherSeriesGetOnePointPerTime(t *testing.T) {
	d := New(Options{Labels: LabelLimits{MaxValuesPerLabel: 1, MaxLabelSets: 100}})
	points := func(items ...any) int {
		res, err := d.Decode(BusinessMetrics, mustJSON(items), testNow)
		if err != nil || res.Accepted != len(items) {
			t.Fatalf("err %v, accepted %d", err, res.Accepted)
		}
		m, ok := findMetric(res.Metrics, "pulse.business.value")
		if !ok {
			return 0
		}
		n := 0
		dps := m.Gauge().DataPoints()
		for i := 0; i < dps.Len(); i++ {
			if v, _ := dps.At(i).Attributes().Get("metric_name"); v.Str() == "_other" {
				n++
			}
		}
		return n
	}
	biz := func(name string, ts int64) rec {
		return set(set(validBusiness(), "metricName", name), "timestamp", ts)
	}
	if n := points(biz("a", tSnap), biz("b", tSnap), biz("c", tSnap)); n != 1 {
		t.Errorf("one request, two folded at one time: %d _other points, want 1", n)
	}
	if n := points(biz("d", tSnap)); n != 0 {
		t.Errorf("a later request at the same time: %d _other points, want 0", n)
	}
	if n := points(biz("d", tSnap-minute)); n != 0 {
		t.Errorf("a later request at an earlier time: %d _other points, want 0", n)
	}
	if n := points(biz("e", tSnap+minute)); n != 1 {
		t.Errorf("a later time: %d _other points, want 1", n)
	}
}
