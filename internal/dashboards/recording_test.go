package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/pulse-otel/pulse/internal/kpi"
)

func builtinRecording(t *testing.T) (*Recording, []byte) {
	t.Helper()
	rec, err := RecordingRules(loadBuiltin(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := rec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return rec, b
}

// Every recorded expression parses, every rule name is a valid (legacy)
// metric name and unique, and the groups have the documented intervals.
func TestRecordingRulesParseAndNamesAreUnique(t *testing.T) {
	rec, _ := builtinRecording(t)
	names := map[string]string{}
	exprs := map[string]string{}
	daily := 0
	for _, g := range rec.Groups.Groups {
		want := DashboardInterval
		if g.Name == DailySummaryGroup {
			want = DailyInterval
			daily = len(g.Rules)
		} else if !strings.HasPrefix(g.Name, DashboardGroupPrefix) {
			t.Errorf("group %s: not a dashboard group nor the daily summary", g.Name)
		}
		if got := model.Duration(want); g.Interval != got {
			t.Errorf("group %s: interval %s, want %s", g.Name, g.Interval, got)
		}
		for _, r := range g.Rules {
			if !model.LegacyValidation.IsValidMetricName(r.Record) {
				t.Errorf("group %s: %q is not a valid metric name", g.Name, r.Record)
			}
			if prev, ok := names[r.Record]; ok {
				t.Errorf("rule %s is in groups %s and %s", r.Record, prev, g.Name)
			}
			names[r.Record] = g.Name
			if _, err := promParser.ParseExpr(r.Expr); err != nil {
				t.Errorf("rule %s: %v", r.Record, err)
			}
			if grafanaVar.MatchString(r.Expr) {
				t.Errorf("rule %s reads a Grafana variable: %s", r.Record, r.Expr)
			}
			if g.Name != DailySummaryGroup {
				if prev, ok := exprs[r.Expr]; ok {
					t.Errorf("rules %s and %s record the same expression", prev, r.Record)
				}
				exprs[r.Expr] = r.Record
			}
		}
	}
	if daily != len(kpi.DailySummaryFields) {
		t.Errorf("daily summary group has %d rules, want one per field (%d)", daily, len(kpi.DailySummaryFields))
	}
	if len(rec.Groups.Groups) != 6 {
		t.Errorf("%d groups, want one per built-in dashboard and the daily summary", len(rec.Groups.Groups))
	}
}

// Every field of the seed's daily summary has exactly one KPI.
func TestDailySummaryFieldsHaveKPIs(t *testing.T) {
	for _, f := range kpi.DailySummaryFields {
		k, ok := DailySummaryKPI(f)
		if !ok {
			t.Errorf("%s: no KPI", f)
			continue
		}
		if k.SeedField != dailySeedTable+f {
			t.Errorf("%s: KPI %s covers %s", f, k.Name, k.SeedField)
		}
	}
	if k, _ := DailySummaryKPI("businessMetrics.revenue"); k.Name != "revenue" {
		t.Errorf("revenue is computed by %s, want revenue (business snapshots)", k.Name)
	}
	// The list is the seed's: every registry KPI of the table is on it.
	for _, k := range kpi.All() {
		if f, ok := strings.CutPrefix(k.SeedField, dailySeedTable); ok && !slices.Contains(kpi.DailySummaryFields, f) {
			t.Errorf("KPI %s covers %s, which kpi.DailySummaryFields lacks", k.Name, k.SeedField)
		}
	}
}

func TestRecordNames(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{DailyRecordName("userMetrics.activeUsers"), "pulse:daily_active_users:1d"},
		{DailyRecordName("aiMetrics.avgConfidence"), "pulse:daily_avg_confidence:1d"},
		{KPIRecordName("total_users", ""), "pulse:kpi_total_users"},
		{windowName(7 * 24 * 3600e9), "7d"},
		{windowName(90 * 60e9), "1h30m"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %s, want %s", tc.got, tc.want)
		}
	}
}

// Panels of recorded KPIs read the recorded series, keep the KPI's own
// query as a hidden second target, and rate KPIs and PromQL widgets stay
// as they are.
func TestPanelsReadRecordedSeries(t *testing.T) {
	dbs := loadBuiltin(t)
	rec, _ := builtinRecording(t)
	files, err := CompileAll(dbs, ProvisioningOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(files[RecordingFile], mustMarshal(t, rec)) {
		t.Errorf("%s is not the built-in dashboards' recording rules", RecordingFile)
	}
	recorded, raw := 0, 0
	for _, db := range dbs {
		d, err := Decode(files[DashboardsDir+"/"+db.DashboardID+".json"])
		if err != nil {
			t.Fatal(err)
		}
		byTitle := map[string][]*prometheus.Dataquery{}
		for _, p := range d.Panels {
			if p.Panel.Type == "table" && len(p.Panel.Targets) == 2 && (len(p.Panel.Transformations) != 1 || p.Panel.Transformations[0].Id != "organize") {
				t.Errorf("%s: table %q of a recorded series does not hide its __name__ column", db.DashboardID, deref(p.Panel.Title))
			}
			for _, tg := range p.Panel.Targets {
				byTitle[deref(p.Panel.Title)] = append(byTitle[deref(p.Panel.Title)], tg.(*prometheus.Dataquery))
			}
		}
		for _, w := range db.Layout.Widgets {
			q, err := w.Query()
			if err != nil {
				t.Fatal(err)
			}
			ts := byTitle[q.Title]
			name, ok := rec.Name(q.Expr)
			k, _ := kpi.Lookup(w.Config.KPI)
			switch {
			case w.Config.KPI == "" || IsRateKPI(k):
				if ok && w.Config.KPI != "" || len(ts) != 1 || ts[0].Expr != q.Expr {
					t.Errorf("%s/%s: not recorded, want the one query %s, got %d targets", db.DashboardID, w.ID, q.Expr, len(ts))
				}
				raw++
			case !ok:
				t.Errorf("%s/%s: KPI %s is not recorded", db.DashboardID, w.ID, w.Config.KPI)
			default:
				if len(ts) != 2 || ts[0].Expr != name || deref(ts[0].Hide) || ts[1].Expr != q.Expr || !deref(ts[1].Hide) || deref(ts[1].RefId) != RawRefID {
					t.Errorf("%s/%s: want targets %s and hidden %s, got %+v", db.DashboardID, w.ID, name, q.Expr, ts)
				}
				if e, _ := rec.Expr(name); e != q.Expr {
					t.Errorf("%s records %s, the panel's KPI is %s", name, e, q.Expr)
				}
				recorded++
			}
		}
	}
	if recorded == 0 || raw == 0 {
		t.Errorf("%d recorded and %d unrecorded panels; the built-ins have both", recorded, raw)
	}
}

func mustMarshal(t *testing.T, rec *Recording) []byte {
	t.Helper()
	b, err := rec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// recordingTestSeries are promtool input series, one sample every 5
// minutes: counters grow by the given step per sample, gauges stand at
// their value. Over a day (288 samples) the counters grow by 288 steps.
var recordingTestSeries = []struct {
	series  string
	step    float64 // counters
	gauge   float64
	counter bool
}{
	{series: `pulse_users_new_total{platform="web"}`, step: 0.25, counter: true},
	{series: `pulse_session_duration_seconds_sum`, step: 300, counter: true},
	{series: `pulse_session_duration_seconds_count`, step: 1, counter: true},
	{series: `pulse_sessions_total{platform="web"}`, step: 4, counter: true},
	{series: `pulse_sessions_bounced_total`, step: 0.25, counter: true},
	{series: `pulse_sessions_converted_total{platform="web"}`, step: 1, counter: true},
	{series: `pulse_page_views_total{platform="web"}`, step: 10, counter: true},
	{series: `pulse_page_unique_views_total{platform="web"}`, step: 5, counter: true},
	{series: `pulse_conversions_valued_total{goal_type="purchase"}`, step: 0.5, counter: true},
	{series: `pulse_conversion_value_total{goal_type="purchase"}`, step: 20, counter: true},
	{series: `pulse_conversions_total{goal_type="subscription"}`, step: 0.25, counter: true},
	{series: `pulse_recommendations_total{model_id="ranker"}`, step: 2, counter: true},
	{series: `pulse_recommendation_responses_total{model_id="ranker",response="accepted"}`, step: 0.5, counter: true},
	{series: `pulse_recommendation_confidence_sum`, step: 1.5, counter: true},
	{series: `pulse_recommendation_confidence_count`, step: 2, counter: true},
	{series: `pulse_events_total{event_type="error_tracking"}`, step: 1, counter: true},
	{series: `pulse_events_total{event_type="user_action"}`, step: 3, counter: true},
	{series: `pulse_users_active{window="1d"}`, gauge: 400},
	{series: `pulse_users_seen`, gauge: 1000},
	{series: `pulse_sessions_open`, gauge: 4},
	{series: `pulse_sessions_open_duration_seconds`, gauge: 1200},
	{series: `pulse_sessions_open_bounced`, gauge: 1},
	{series: `pulse_business_value{metric_name="revenue",granularity="daily",unit="EUR"}`, gauge: 5000},
	{series: `pulse_system_response_time_milliseconds{job="checkout",stat="average"}`, gauge: 120},
	{series: `pulse_system_requests_rate_per_second{job="checkout"}`, gauge: 10},
	{series: `pulse_system_error_rate_ratio{job="checkout"}`, gauge: 0.25},
	{series: `pulse_system_uptime_percent{job="checkout"}`, gauge: 99.5},
	{series: `pulse_ai_model_safety_violations{model_id="ranker"}`, gauge: 1},
}

// recordingTestWant are the recorded values the series above give a day
// in: the whole daily summary row, and some of the dashboards' rules
// (error_rate is a ratio of two counters' increases over 1h).
var recordingTestWant = map[string]float64{
	"pulse:daily_total_users:1d":           1000,
	"pulse:daily_active_users:1d":          400,
	"pulse:daily_new_users:1d":             72,   // 288 * 0.25
	"pulse:daily_returning_users:1d":       328,  // 400 - 72
	"pulse:daily_avg_session_duration:1d":  300,  // (86400 + 1200) / (288 + 4)
	"pulse:daily_avg_sessions_per_user:1d": 2.88, // 1152 / 400
	"pulse:daily_page_views:1d":            2880,
	"pulse:daily_unique_page_views:1d":     1440,
	"pulse:daily_bounce_rate:1d":           0.25, // (72 + 1) / (288 + 4)
	"pulse:daily_avg_time_on_site:1d":      300,
	"pulse:daily_conversion_rate:1d":       0.25, // 288 / 1152
	`pulse:daily_revenue:1d{unit="EUR"}`:   5000,
	"pulse:daily_transactions:1d":          144,
	"pulse:daily_avg_order_value:1d":       40, // 5760 / 144
	"pulse:daily_subscription_changes:1d":  72,
	"pulse:daily_avg_response_time:1d":     120,
	"pulse:daily_error_rate:1d":            0.25,
	"pulse:daily_uptime:1d":                99.5,
	"pulse:daily_throughput:1d":            10,
	"pulse:daily_recommendation_count:1d":  576,
	"pulse:daily_acceptance_rate:1d":       0.25, // 144 / 576
	"pulse:daily_avg_confidence:1d":        0.75, // 432 / 576
	"pulse:daily_safety_violations:1d":     288,  // one per snapshot
	"pulse:kpi_error_rate:1h":              0.25, // 12 / (12 + 36)
	"pulse:kpi_acceptance_rate:1d":         0.25,
	"pulse:kpi_page_views:1d":              2880,
	"pulse:kpi_active_users:1d":            400,
	"pulse:kpi_total_users":                1000,
}

// recordingUnitTest is a promtool unit-test file for rules: the series
// above, and the recorded values checked at 24h02m. Rules are evaluated
// every 7 minutes, so the last evaluation before the check (at 24h02m
// itself) lies between two samples and no range edge falls on one:
// Prometheus 2 (closed ranges, Debian's promtool) and 3 (left-open) agree.
func recordingUnitTest(rules string) ([]byte, error) {
	type sample struct {
		Labels string  `yaml:"labels"`
		Value  float64 `yaml:"value"`
	}
	type exprTest struct {
		Expr       string   `yaml:"expr"`
		EvalTime   string   `yaml:"eval_time"`
		ExpSamples []sample `yaml:"exp_samples"`
	}
	type input struct {
		Series string `yaml:"series"`
		Values string `yaml:"values"`
	}
	type group struct {
		Name        string     `yaml:"name"`
		Interval    string     `yaml:"interval"`
		InputSeries []input    `yaml:"input_series"`
		Tests       []exprTest `yaml:"promql_expr_test"`
	}
	g := group{Name: "daily summary and dashboard KPIs a day in", Interval: "5m"}
	const n = 300 // samples: 25 hours
	for _, s := range recordingTestSeries {
		v := fmt.Sprintf("%s+0x%d", strconv.FormatFloat(s.gauge, 'g', -1, 64), n)
		if s.counter {
			v = fmt.Sprintf("0+%sx%d", strconv.FormatFloat(s.step, 'g', -1, 64), n)
		}
		g.InputSeries = append(g.InputSeries, input{s.series, v})
	}
	for _, lbls := range slices.Sorted(maps.Keys(recordingTestWant)) {
		name, _, _ := strings.Cut(lbls, "{")
		g.Tests = append(g.Tests, exprTest{Expr: name, EvalTime: "1442m", ExpSamples: []sample{{lbls, recordingTestWant[lbls]}}})
	}
	return yaml.Marshal(map[string]any{
		"rule_files":          []string{rules},
		"evaluation_interval": "7m",
		"tests":               []group{g},
	})
}

// promtool check rules and promtool test rules on the recording rules of
// the built-in dashboards. A missing promtool skips the test, except in CI.
func TestRecordingRulesPromtool(t *testing.T) {
	if _, err := exec.LookPath("promtool"); err != nil {
		msg := "promtool not on PATH (Debian package prometheus; .ci/run installs it)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	_, rules := builtinRecording(t)
	tests, err := recordingUnitTest("recording.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, b []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("recording.yaml", rules)
	write("recording_test.yaml", tests)
	run := func(args ...string) ([]byte, error) {
		cmd := exec.Command("promtool", args...)
		cmd.Dir = dir
		return cmd.CombinedOutput()
	}
	for _, args := range [][]string{{"check", "rules", "recording.yaml"}, {"test", "rules", "recording_test.yaml"}} {
		out, err := run(args...)
		t.Logf("promtool %s:\n%s", strings.Join(args, " "), out)
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	// The tests check the values: rules over the wrong window fail them.
	write("recording.yaml", bytes.ReplaceAll(rules, []byte("offset 1d"), []byte("offset 1h")))
	if out, err := run("test", "rules", "recording_test.yaml"); err == nil {
		t.Errorf("promtool test rules passed with increases over 1h instead of 1d:\n%s", out)
	}
}

// recordingTestWant names only recorded series, so that a renamed rule
// fails here with the list of names rather than in promtool.
func TestRecordingTestWantNamesRules(t *testing.T) {
	rec, _ := builtinRecording(t)
	var names []string
	for _, g := range rec.Groups.Groups {
		for _, r := range g.Rules {
			names = append(names, r.Record)
		}
	}
	for k := range recordingTestWant {
		name, _, _ := strings.Cut(k, "{")
		if !slices.Contains(names, name) {
			b, _ := json.Marshal(names)
			t.Errorf("%s is not a recorded series; the rules are %s", name, b)
		}
	}
}

// A KPI and window on two dashboards, and two KPIs with one expression,
// are recorded once, in the group of the first dashboard by dashboardId,
// and both dashboards' panels read that series.
func TestRecordingDeduplicates(t *testing.T) {
	def := func(id, kpi1, kpi2 string) string {
		return `dashboardId: ` + id + `
name: ` + id + `
type: custom
layout:
  gridSize: {columns: 12, rows: 4}
  widgets:
    - {id: a, type: stat, position: {x: 0, y: 0, width: 4, height: 4}, config: {kpi: ` + kpi1 + `, window: 1d}}
    - {id: b, type: stat, position: {x: 4, y: 0, width: 4, height: 4}, config: {kpi: ` + kpi2 + `, window: 24h}}
    - {id: c, type: stat, position: {x: 8, y: 0, width: 4, height: 4}, config: {kpi: events_per_second}}
`
	}
	var dbs []Dashboard
	for _, src := range []string{def("b", "avg_time_on_site", "acceptance_rate"), def("a", "avg_session_duration", "acceptance_rate")} {
		d, errs := Parse("x.yaml", []byte(src))
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		dbs = append(dbs, d...)
	}
	rec, err := RecordingRules(dbs)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range rec.Groups.Groups {
		if g.Name == DailySummaryGroup {
			continue
		}
		for _, r := range g.Rules {
			got = append(got, g.Name+" "+r.Record)
		}
	}
	want := []string{"pulse_dashboard_a pulse:kpi_acceptance_rate:1d", "pulse_dashboard_a pulse:kpi_avg_session_duration:1d"}
	if !slices.Equal(got, want) {
		t.Errorf("rules %q, want %q", got, want)
	}
	files, err := CompileAll(dbs, ProvisioningOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b := string(files[DashboardsDir+"/b.json"])
	for _, s := range []string{`"expr": "pulse:kpi_avg_session_duration:1d"`, `"expr": "pulse:kpi_acceptance_rate:1d"`} {
		if !strings.Contains(b, s) {
			t.Errorf("dashboard b does not read %s", s)
		}
	}
}
