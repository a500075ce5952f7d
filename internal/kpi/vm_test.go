package kpi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/util/teststorage"

	"github.com/pulse-otel/pulse/internal/alertrules"
	"github.com/pulse-otel/pulse/internal/catalog"
	"github.com/pulse-otel/pulse/internal/kpi"
	"github.com/pulse-otel/pulse/internal/testutil/vmtest"
)

// The seed-shaped history both stores get: every series the KPIs read,
// one sample every step for steps steps from t0, as the connector writes a
// quiet series every 15 s. Series of the connector carry partition "0"
// and "1" as aggregator shards write them; partition "1" starts at
// lateStart, inside the KPIs' 1h windows, as a partition that gets its
// first events late does.
const (
	step      = 15 * time.Second
	steps     = 720 // 3 h
	lateStart = 600 // 2 h 30 m
	resetAt   = 680 // a counter reset (a shard restarted without storage)
)

// genSeries is one series of the history: its labels and its value at
// step i, for i in [from, steps).
type genSeries struct {
	lbls  labels.Labels
	from  int
	value func(i int) float64
}

// labelValues are the values each label takes; two where a KPI selects
// one of them, so the selection is tested. A missing label takes one
// value; "" leaves the label off, as OTel-to-Prometheus does for empty
// attributes.
var labelValues = map[string][]string{
	catalog.LabelWindow:    {"1h", "1d", "7d", "30d"},
	catalog.LabelEventType: {"user_action", "error_tracking"},
	catalog.LabelGoalType:  {"purchase", "subscription"},
	catalog.LabelResponse:  {"accepted", "modified", "rejected"},
	catalog.LabelPresent:   {"true", "false"},
	catalog.LabelCohort:    {"2026-11-16", "2026-11-23"},
	catalog.LabelPeriod:    {"0", "1"},
	catalog.LabelModelID:   {"recs-a", "recs-b"},
	"stat":                 {"average", "p95"},
	"environment":          {"production", "staging"},
	"granularity":          {"daily", "hourly"},
	"metric_name":          {"revenue", "arpu"},
	"segment":              {"", "premium"},
	"channel":              {""},
	"geography":            {""},
	"unit":                 {"USD"},
}

// history generates the series of every metric the KPIs and the compiled
// alerts read.
func history(t *testing.T) []genSeries {
	t.Helper()
	want := map[string]bool{}
	for _, k := range kpi.All() {
		for _, m := range k.Metrics {
			if _, ok := kpi.StoredTelemetry()[m]; ok {
				continue // below
			}
			def, ok := catalog.Lookup(m)
			if !ok {
				t.Fatalf("kpi %s reads %s, not in the catalog", k.Name, m)
			}
			want[def.Name] = true
		}
	}
	var out []genSeries
	n := 0
	for _, m := range catalog.All() {
		if !want[m.Name] {
			continue
		}
		sets := []map[string]string{{}}
		for _, l := range m.Labels {
			vals := labelValues[l]
			if m.Source == catalog.Snapshot && l == "platform" {
				vals = []string{""}
			} else if vals == nil {
				vals = []string{l + "-a"}
			}
			var next []map[string]string
			for _, s := range sets {
				for _, v := range vals {
					c := map[string]string{}
					for k, x := range s {
						c[k] = x
					}
					if v != "" {
						c[l] = v
					}
					next = append(next, c)
				}
			}
			sets = next
		}
		if m.Source == catalog.Snapshot {
			for _, s := range sets {
				s["job"] = "checkout"
			}
		}
		parts := []string{""}
		if m.Source == catalog.Connector {
			parts = []string{"0", "1"}
		}
		for _, part := range parts {
			for _, s := range sets {
				n++
				seed := n
				from := 0
				if part != "" {
					s = clone(s)
					s["partition"] = part
				}
				if part == "1" {
					from = lateStart
				}
				out = append(out, family(m, s, from, seed)...)
			}
		}
	}
	// The collector's counters that promstore's telemetry scrape stores,
	// under their own names (job="pulse"), one series per label value.
	for _, name := range slices.Sorted(maps.Keys(kpi.StoredTelemetry())) {
		for _, platform := range []string{"web", "ios"} {
			n++
			b := labels.NewScratchBuilder(6)
			b.Add(model.MetricNameLabel, name)
			b.Add("job", "pulse")
			b.Add("endpoint", "events")
			b.Add("platform", platform)
			if strings.HasSuffix(name, "_rejected_items") {
				b.Add("field", "action")
				b.Add("reason", "missing")
			}
			b.Sort()
			out = append(out, genSeries{lbls: b.Labels(), value: cumulative(increments(n), 0, n)})
		}
	}
	return out
}

func clone(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// increments returns the per-step increase of a counter with seed: 0 to
// 3 times a factor of 1 to 4 that differs between series, so some steps
// add nothing, as a quiet series does, and ratios are not 1 or 0.5.
func increments(seed int) func(i int) float64 {
	f := float64(1 + seed%4)
	return func(i int) float64 { return f * float64((i*7+seed*3)%4) }
}

// cumulative sums inc from from to i; a reset at resetAt for series whose
// seed is a multiple of 5 starts it again from 0.
func cumulative(inc func(int) float64, from, seed int) func(i int) float64 {
	return func(i int) float64 {
		start := from
		if seed%5 == 0 && i >= resetAt && from < resetAt {
			start = resetAt
		}
		s := 0.0
		for j := start; j <= i; j++ {
			s += inc(j)
		}
		return s
	}
}

// family returns the series of metric m with labels s: one for a sum or a
// gauge, the _bucket, _sum and _count series for a histogram.
func family(m catalog.Metric, s map[string]string, from, seed int) []genSeries {
	name := m.PromName()
	mk := func(name string, extra ...string) labels.Labels {
		b := labels.NewScratchBuilder(len(s) + 2)
		b.Add(model.MetricNameLabel, name)
		for k, v := range s {
			b.Add(k, v)
		}
		for i := 0; i+1 < len(extra); i += 2 {
			b.Add(extra[i], extra[i+1])
		}
		b.Sort()
		return b.Labels()
	}
	switch m.Kind {
	case catalog.Sum:
		return []genSeries{{lbls: mk(name), from: from, value: cumulative(increments(seed), from, seed)}}
	case catalog.Histogram:
		// Each step's observations fall in one bucket, most in the low
		// ones and a few in +Inf, so quantiles fall between bounds and
		// move over time.
		bounds := m.Bounds
		inc := increments(seed)
		bucketOf := func(j int) int {
			f := float64((j*37+seed*11)%100) / 100
			return int(float64(len(bounds)+1) * f * f)
		}
		obs := func(j int) float64 {
			b := bucketOf(j)
			if b == len(bounds) {
				return bounds[len(bounds)-1] * 2
			}
			return bounds[b] * 0.9
		}
		var out []genSeries
		for bi := 0; bi <= len(bounds); bi++ {
			le := "+Inf"
			if bi < len(bounds) {
				le = strconv.FormatFloat(bounds[bi], 'f', -1, 64)
			}
			bi := bi
			out = append(out, genSeries{lbls: mk(name+"_bucket", "le", le), from: from, value: cumulative(func(j int) float64 {
				if bucketOf(j) <= bi {
					return inc(j)
				}
				return 0
			}, from, seed)})
		}
		out = append(out,
			genSeries{lbls: mk(name + "_sum"), from: from, value: cumulative(func(j int) float64 { return inc(j) * obs(j) }, from, seed)},
			genSeries{lbls: mk(name + "_count"), from: from, value: cumulative(inc, from, seed)})
		return out
	default:
		scale := 1.0
		switch {
		case m.Unit == "1":
			scale = 0.01
		case m.Int:
			scale = 10
		}
		return []genSeries{{lbls: mk(name), from: from, value: func(i int) float64 {
			v := scale * (50 + 20*math.Sin(float64(i+seed)/23) + float64(seed%7))
			if m.Int {
				v = math.Round(v)
			}
			return v
		}}}
	}
}

// load writes the history into Prometheus' TSDB (time-major, as the head
// requires) and into VictoriaMetrics through its Prometheus text import.
func load(t *testing.T, hist []genSeries, t0 time.Time, store *vmtest.Store) *teststorage.TestStorage {
	t.Helper()
	st := teststorage.New(t)
	var text strings.Builder
	for i := range steps {
		ts := t0.Add(time.Duration(i) * step).UnixMilli()
		app := st.Appender(context.Background())
		for _, s := range hist {
			if i < s.from {
				continue
			}
			v := s.value(i)
			if _, err := app.Append(0, s.lbls, ts, v); err != nil {
				t.Fatal(err)
			}
			text.WriteString(s.lbls.Get(model.MetricNameLabel))
			text.WriteByte('{')
			first := true
			s.lbls.Range(func(l labels.Label) {
				if l.Name == model.MetricNameLabel {
					return
				}
				if !first {
					text.WriteByte(',')
				}
				first = false
				fmt.Fprintf(&text, "%s=%q", l.Name, l.Value)
			})
			fmt.Fprintf(&text, "} %s %d\n", strconv.FormatFloat(v, 'g', -1, 64), ts)
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.Post(store.URL+"/api/v1/import/prometheus", "text/plain", strings.NewReader(text.String()))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusOK {
		t.Fatalf("import: %s", resp.Status)
	}
	store.Flush(t)
	return st
}

// point is one sample of an instant query's answer.
type point struct {
	labels string // sorted name="value" pairs without __name__
	named  bool   // the answer kept __name__
	value  float64
}

func keyOf(m map[string]string) (string, bool) {
	_, named := m[model.MetricNameLabel]
	var keys []string
	for k := range m {
		if k != model.MetricNameLabel {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q,", k, m[k])
	}
	return b.String(), named
}

func promEval(t *testing.T, eng *promql.Engine, st *teststorage.TestStorage, q string, at time.Time) []point {
	t.Helper()
	qry, err := eng.NewInstantQuery(context.Background(), st, nil, q, at)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer qry.Close()
	res := qry.Exec(context.Background())
	if res.Err != nil {
		t.Fatalf("%s: %v", q, res.Err)
	}
	var out []point
	switch v := res.Value.(type) {
	case promql.Vector:
		for _, s := range v {
			m := s.Metric.Map()
			k, named := keyOf(m)
			out = append(out, point{k, named, s.F})
		}
	case promql.Scalar:
		out = append(out, point{"", false, v.V})
	default:
		t.Fatalf("%s: %T", q, res.Value)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].labels < out[j].labels })
	return out
}

func vmEval(t *testing.T, base, q string, at time.Time) []point {
	t.Helper()
	u := base + "/api/v1/query?" + url.Values{"query": {q}, "time": {strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64)}}.Encode()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Status, Error string
		Data          struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Status != "success" {
		t.Fatalf("VictoriaMetrics %s: %v %s %s", q, err, resp.Status, r.Error)
	}
	num := func(x any) float64 {
		s, _ := x.(string)
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("%s: value %v", q, x)
		}
		return f
	}
	var out []point
	switch r.Data.ResultType {
	case "vector":
		var vs []struct {
			Metric map[string]string
			Value  [2]any
		}
		if err := json.Unmarshal(r.Data.Result, &vs); err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			k, named := keyOf(v.Metric)
			out = append(out, point{k, named, num(v.Value[1])})
		}
	case "scalar":
		var v [2]any
		if err := json.Unmarshal(r.Data.Result, &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, point{"", false, num(v[1])})
	default:
		t.Fatalf("%s: result type %q", q, r.Data.ResultType)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].labels < out[j].labels })
	return out
}

// compare returns how VictoriaMetrics' answer differs from Prometheus',
// one line per kind of difference, with the largest relative difference
// of the values.
func compare(prom, vm []point) []string {
	var diffs []string
	pm, vmm := map[string]point{}, map[string]point{}
	for _, p := range prom {
		pm[p.labels] = p
	}
	for _, p := range vm {
		vmm[p.labels] = p
	}
	var missing, extra []string
	maxRel := 0.0
	named, nanDropped := false, false
	for k, p := range pm {
		v, ok := vmm[k]
		if !ok && math.IsNaN(p.value) {
			nanDropped = true
			continue
		}
		if !ok {
			missing = append(missing, "{"+k+"}")
			continue
		}
		if v.named && !p.named {
			named = true
		}
		if math.IsNaN(p.value) && math.IsNaN(v.value) {
			continue
		}
		rel := math.Abs(p.value-v.value) / math.Max(1e-300, math.Max(math.Abs(p.value), math.Abs(v.value)))
		if math.IsNaN(rel) || math.IsInf(p.value, 0) != math.IsInf(v.value, 0) {
			rel = math.Inf(1)
		}
		if rel > 1e-9 && rel > maxRel {
			maxRel = rel
		}
	}
	for k := range vmm {
		if _, ok := pm[k]; !ok {
			extra = append(extra, "{"+k+"}")
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		diffs = append(diffs, fmt.Sprintf("missing in VictoriaMetrics: %d of %d series", len(missing), len(prom)))
	}
	if len(extra) > 0 {
		diffs = append(diffs, fmt.Sprintf("only in VictoriaMetrics: %d series", len(extra)))
	}
	if named {
		diffs = append(diffs, "VictoriaMetrics keeps __name__")
	}
	if nanDropped {
		diffs = append(diffs, "VictoriaMetrics drops NaN answers")
	}
	if maxRel > 0 {
		diffs = append(diffs, fmt.Sprintf("values differ by up to %.3g %%", 100*maxRel))
	}
	return diffs
}

// TestKPIsOnVictoriaMetrics evaluates every KPI of the registry and every
// compiled alert of config/alerts on a real victoria-metrics and on
// Prometheus' engine (what promstore runs) over the same samples, and
// requires the answers to be the same except for the differences
// docs/stores.md lists, which this test measures.
func TestKPIsOnVictoriaMetrics(t *testing.T) {
	store := vmtest.StartStore(t)
	t0 := time.Now().Add(-6 * time.Hour).Truncate(time.Minute)
	hist := history(t)
	st := load(t, hist, t0, store)
	eng := promql.NewEngine(promql.EngineOpts{MaxSamples: 50_000_000, Timeout: time.Minute, LookbackDelta: 5 * time.Minute})
	last := t0.Add((steps - 1) * step)
	times := []struct {
		name string
		at   time.Time
	}{
		{"10s after the last sample", last.Add(10 * time.Second)},
		{"2m after partition 1 started", t0.Add(lateStart*step + 2*time.Minute)},
		{"4m after the last sample", last.Add(4 * time.Minute)},
		{"6m after the last sample", last.Add(6 * time.Minute)},
	}
	type query struct{ name, q string }
	var queries []query
	for _, k := range kpi.All() {
		windows := []string{""}
		switch {
		case len(k.Windows) > 0:
			windows = []string{"1h"}
		case strings.Contains(k.Expr, "$window"):
			windows = []string{"5m", "1h"}
		}
		for _, w := range windows {
			q, err := k.Query(w)
			if err != nil {
				t.Fatal(err)
			}
			name := k.Name
			if w != "" {
				name += "[" + w + "]"
			}
			queries = append(queries, query{name, q})
		}
	}
	rules, err := alertrules.Load("../../config/alerts")
	if err != nil {
		t.Fatal(err)
	}
	groups, err := alertrules.CompileRules(rules)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if !seen[r.Expr] {
				seen[r.Expr] = true
				queries = append(queries, query{"alert " + r.Alert, r.Expr})
			}
		}
	}

	// Probes: not KPIs, the functions the KPIs avoid, to measure what
	// dashboards and hand-written alerts that use them would see.
	queries = append(queries,
		query{"probe increase[1h]", `sum(increase(pulse_events_total[1h]))`},
		query{"probe increase[5m]", `sum(increase(pulse_events_total[5m]))`},
		query{"probe rate[5m]", `sum(rate(pulse_events_total[5m]))`},
		query{"probe bare selector", `sum(pulse_sessions_open)`},
	)

	got := map[string][]string{} // query name → differences, "at TIME: ..."
	for _, q := range queries {
		nonEmpty := false
		for _, at := range times {
			p := promEval(t, eng, st, q.q, at.at)
			v := vmEval(t, store.URL, q.q, at.at)
			for _, x := range p {
				if strings.Contains(x.labels, "partition=") && !strings.HasPrefix(q.name, "probe") {
					t.Errorf("%s at %s: answer keeps the partition label {%s}: KPIs must sum over the shards' partitions", q.name, at.name, x.labels)
				}
			}
			nonEmpty = nonEmpty || len(p) > 0
			for _, d := range compare(p, v) {
				got[q.name] = append(got[q.name], at.name+": "+d)
			}
		}
		if !nonEmpty && !strings.HasPrefix(q.name, "alert ") {
			t.Errorf("%s: Prometheus answers nothing at every time: the history does not cover it", q.name)
		}
	}
	var names []string
	for n := range got {
		names = append(names, n)
	}
	slices.Sort(names)
	kinds := map[string]bool{} // "query base name: kind"
	for _, n := range names {
		base, _, _ := strings.Cut(n, "[")
		for _, d := range got[n] {
			t.Logf("%s: %s", n, d)
			_, kind, _ := strings.Cut(d, ": ")
			kind, _, _ = strings.Cut(kind, " by up to")
			kind, _, _ = strings.Cut(kind, ":")
			kinds[base+": "+kind] = true
		}
	}
	t.Logf("%d queries, %d with differences", len(queries), len(names))
	// The differences docs/stores.md names; a new one or one that is gone
	// fails the test, so the table stays true.
	for k := range kinds {
		if !knownDifferences[k] {
			t.Errorf("new difference between VictoriaMetrics and Prometheus: %s (make the KPI portable or add it to knownDifferences and docs/stores.md)", k)
		}
	}
	for k := range knownDifferences {
		if !kinds[k] {
			t.Errorf("known difference not seen: %s (remove it from knownDifferences and docs/stores.md)", k)
		}
	}
}

// knownDifferences are the differences TestKPIsOnVictoriaMetrics finds,
// as "query: kind"; docs/stores.md explains each with its size.
var knownDifferences = map[string]bool{
	// quantile_over_time keeps the series' name in MetricsQL.
	"model_latency_p95: VictoriaMetrics keeps __name__": true,
	// 0/0 when nothing was written for 5 minutes: Prometheus answers a
	// NaN sample, VictoriaMetrics no sample.
	"avg_session_duration: VictoriaMetrics drops NaN answers": true,
	"avg_time_on_site: VictoriaMetrics drops NaN answers":     true,
	"bounce_rate: VictoriaMetrics drops NaN answers":          true,
	// No extrapolation to the window's edges in MetricsQL; rate divides
	// by the time the samples span, not by the window.
	"probe increase: values differ": true,
	"probe rate: values differ":     true,
}

// TestVictoriaMetricsLatencyOffset measures why docs/stores.md runs
// victoria-metrics with -search.latencyOffset=1s: with the default (30 s)
// a query at now answers as of 30 s ago, so a sample written 5 s ago is
// not seen, and Pulse's freshness (an event on the dashboards within a
// second or two of being stored) is lost.
func TestVictoriaMetricsLatencyOffset(t *testing.T) {
	now := time.Now()
	body := fmt.Sprintf("pulse_probe_total 1 %d\npulse_probe_total 2 %d\n", now.Add(-45*time.Second).UnixMilli(), now.Add(-5*time.Second).UnixMilli())
	for _, c := range []struct {
		flag string
		want float64
	}{
		{"-search.latencyOffset=30s", 1}, // the default
		{vmtest.StoreFlags[0], 2},
	} {
		store := vmtest.StartStore(t, c.flag)
		resp, err := http.Post(store.URL+"/api/v1/import/prometheus", "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		store.Flush(t)
		v := vmEval(t, store.URL, "pulse_probe_total", now)
		if len(v) != 1 || v[0].value != c.want {
			t.Errorf("%s: pulse_probe_total at now = %v, want %v (the sample of 5 s ago is 2, of 45 s ago 1)", c.flag, v, c.want)
		}
	}
}
