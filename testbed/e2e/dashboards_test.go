package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/prometheus"

	"github.com/pulse-otel/pulse/internal/dashboards"
	"github.com/pulse-otel/pulse/internal/kpi"
	"github.com/pulse-otel/pulse/testbed/internal/poll"
)

// dashboardRanges are the time ranges a viewer picks most, each asked for
// as Grafana asks: a range query, step = range / 1000 points and at least
// the datasource's 15 s scrape interval, Grafana's variables filled in.
var dashboardRanges = []time.Duration{5 * time.Minute, time.Hour, 24 * time.Hour, 7 * 24 * time.Hour}

// noDataPanels are the panels of the built-in dashboards the truth mix
// does not feed, by dashboard UID and title, and why: they must answer
// without error, but may be empty.
var noDataPanels = map[string]string{}

// noTruthPanels are KPI panels whose value the truth mix does not know for
// the panel's window, and why; their data, range and recorded series are
// still checked.
var noTruthPanels = map[string]string{
	"events_per_second": "drawn over $__rate_interval, which follows each range's step: its value is the events of the last rate interval, not of the 1h window the truth counts",
	"timeliness_share":  "depends on how long after it was made the mix is sent (lagDependentKPIs)",
	"data_accuracy":     "the test adds 3 rejected events (for the rejects panels) to the mix, whose items are all valid",
}

// dashPanel is one panel of a compiled built-in dashboard: the query
// Grafana sends (target A) and, for a recorded KPI, the hidden raw one.
type dashPanel struct {
	key          string // dashboard UID / panel title
	unit         string
	instant      bool
	expr, raw    string // raw: "" unless A reads a recorded series
	kpi, window  string // the widget's KPI and window ("" for PromQL widgets)
	recordedName string
}

// TestDashboardPanelsOnTheTruth runs every panel of the built-in
// dashboards end to end: the built binary with the shipped
// config/pulse.yaml, the dashboards compiled by bin/pulsectl into the
// collector's data/dashboards (so promstore loads their recording rules
// through the shipped rules.files glob), and the truth mix of
// TestKPIsEqualTheTruth, whose answer is known. Once the mix has settled
// and the recording rules have been evaluated on it (the shipped 1m
// interval: at most ~90 s), each panel's queries are sent as Grafana sends
// them over 5m, 1h, 24h and 7d: no error; data, except the panels listed
// in noDataPanels; ratio and percent values within [0, 1] and [0, 100];
// the raw KPI query's last value equal to the truth (the tolerances of
// TestKPIsEqualTheTruth); and the recorded series (target A) equal to
// the raw query. The page-views bar gauge's bars add up to page_views.
func TestDashboardPanelsOnTheTruth(t *testing.T) {
	bin := binary(t)
	ctl := filepath.Join(filepath.Dir(bin), "pulsectl")
	if _, err := os.Stat(ctl); err != nil {
		t.Fatalf("bin/pulsectl next to PULSE_BIN: %v (make build builds both)", err)
	}
	m := newTruthMix(time.Now())
	api := freePort(t)
	base := "http://" + api
	ports := map[string]string{"otlp-grpc": freePort(t), "otlp-http": freePort(t), "forget": freePort(t), "telemetry": freePort(t)}
	var out string
	c := startCollectorWith(t, &sink{}, func(c *collector, _ string) string {
		cfg := shippedPromstoreConfigPorts(t, c, api, ports)
		out = filepath.Join(c.dir, "data", "dashboards")
		compileDashboards(t, ctl, out)
		return cfg
	})
	started := time.Now()
	panels := compiledPanels(t, out)
	groups := dashboardGroups(t)
	if !poll.Wait(10*time.Second, 100*time.Millisecond, func() bool { return len(loadedGroups(t, base, groups)) == len(groups) }) {
		t.Fatalf("promstore loaded %v of the dashboards' rule groups %v from %s", loadedGroups(t, base, groups), groups, filepath.Join(out, dashboards.RecordingFile))
	}

	postRejects(t, c.events, 3) // the rejects panel: promstore stores the receiver's telemetry
	runTruth(t, m, c, ports["otlp-http"], base, catalogFamilies(t))
	waitRejectsStored(t, base)
	settled := time.Now()
	waitRulesEvaluated(t, base, groups, settled, 90*time.Second)
	if age := time.Since(started); age > 4*time.Minute {
		// The 5m-window KPIs count what arrived in the last 5 minutes.
		t.Fatalf("the mix was sent %s ago: the 5m windows no longer hold it; the machine is too slow for this test", age.Round(time.Second))
	}

	// The next whole second: a rule evaluated in this second wrote its
	// sample a few milliseconds into it.
	end := time.Now().Truncate(time.Second).Add(time.Second)
	checked, truths, recorded, empty := 0, 0, 0, 0
	for _, p := range panels {
		for _, rng := range dashboardRanges {
			step := max(rng/1000, dashboards.ScrapeInterval).Truncate(time.Second)
			name := fmt.Sprintf("%s over %s", p.key, rng)
			got, err := panelQuery(base, p.expr, p.instant, rng, step, end)
			if err != nil {
				t.Errorf("%s: %v\n%s", name, err, p.expr)
				continue
			}
			checked++
			if len(got) == 0 {
				if reason, ok := noDataPanels[p.key]; ok {
					empty++
					if rng == dashboardRanges[0] {
						t.Logf("%s: no data, as expected: %s", p.key, reason)
					}
					continue
				}
				t.Errorf("%s: no data\n%s", name, p.expr)
				continue
			}
			if reason, ok := noDataPanels[p.key]; ok {
				t.Errorf("%s: has data, but noDataPanels says it cannot (%s): update the list", name, reason)
			}
			checkUnitRange(t, name, p.unit, got, settled)
			if p.raw == "" {
				if p.kpi != "" {
					truths += checkTruth(t, m, p, name, got)
				}
				if p.key == "pulse-user-analytics/Page views by platform (trailing hour)" {
					checkBarsAddUp(t, m, name, got)
				}
				continue
			}
			raw, err := panelQuery(base, p.raw, p.instant, rng, step, end)
			if err != nil {
				t.Errorf("%s (raw): %v\n%s", name, err, p.raw)
				continue
			}
			checkUnitRange(t, name+" (raw)", p.unit, raw, settled)
			truths += checkTruth(t, m, p, name+" (raw)", raw)
			if err := sameLast(got, raw); err != nil {
				t.Errorf("%s: recorded %s differs from its expression: %v\n%s", name, p.recordedName, err, p.raw)
			}
			recorded++
		}
	}
	t.Logf("%d panels of %d dashboards, %d queries at %d ranges (%d empty, as listed); %d last values compared with the truth; %d recorded series compared with their expression; rules first evaluated %s after the mix settled",
		len(panels), countDashboards(panels), checked, len(dashboardRanges), empty, truths, recorded, time.Since(settled).Round(time.Second))
}

// compileDashboards runs bin/pulsectl dashboards compile on the built-in
// definitions, as `make run` does.
func compileDashboards(t *testing.T, ctl, out string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ctl, "dashboards", "compile", "--out", out, "../../config/dashboards")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pulsectl dashboards compile: %v\n%s", err, b)
	}
}

// compiledPanels reads the compiled dashboards in out and pairs each panel
// with its widget's KPI and window (from config/dashboards, by title).
func compiledPanels(t *testing.T, out string) []dashPanel {
	t.Helper()
	defs, err := dashboards.Load("../../config/dashboards")
	if err != nil {
		t.Fatal(err)
	}
	widgets := map[string]dashboards.Widget{}
	for _, db := range defs {
		for _, w := range db.Layout.Widgets {
			q, err := w.Query()
			if err != nil {
				t.Fatal(err)
			}
			key := db.DashboardID + "/" + q.Title
			if _, dup := widgets[key]; dup {
				t.Fatalf("%s: two widgets of this title; the test pairs panels with widgets by title", key)
			}
			widgets[key] = w
		}
	}
	var panels []dashPanel
	for _, db := range defs {
		b, err := os.ReadFile(filepath.Join(out, dashboards.DashboardsDir, db.DashboardID+".json"))
		if err != nil {
			t.Fatal(err)
		}
		d, err := dashboards.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, pr := range d.Panels {
			pn := pr.Panel
			key := db.DashboardID + "/" + deref(pn.Title)
			w, ok := widgets[key]
			if !ok {
				t.Fatalf("%s: no widget of this title", key)
			}
			p := dashPanel{key: key, kpi: w.Config.KPI, window: w.Config.Window}
			if pn.FieldConfig != nil {
				p.unit = deref(pn.FieldConfig.Defaults.Unit)
			}
			if k, ok := kpi.Lookup(p.kpi); ok && p.window == "" {
				p.window = k.Window
			}
			for _, tg := range pn.Targets {
				q := tg.(*prometheus.Dataquery)
				switch deref(q.RefId) {
				case "A":
					p.expr, p.instant = q.Expr, deref(q.Instant)
				case dashboards.RawRefID:
					p.raw = q.Expr
				default:
					t.Fatalf("%s: unexpected target %s", key, deref(q.RefId))
				}
			}
			if p.raw != "" {
				p.recordedName = p.expr
			}
			panels = append(panels, p)
		}
	}
	return panels
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func countDashboards(ps []dashPanel) int {
	seen := map[string]bool{}
	for _, p := range ps {
		uid, _, _ := strings.Cut(p.key, "/")
		seen[uid] = true
	}
	return len(seen)
}

// apiSeries is one series of a query's answer: its labels (without
// __name__, so a recorded series compares with its expression's) and its
// points, oldest first.
type apiSeries struct {
	labels string
	points []apiPoint
}

type apiPoint struct{ t, v float64 }

// panelQuery sends expr as Grafana would for a panel over rng at step:
// a range query whose last point is end, or for a table an instant
// query at end.
func panelQuery(base, expr string, instant bool, rng, step time.Duration, end time.Time) ([]apiSeries, error) {
	q := url.Values{"query": {dashboards.Substitute(expr, rng, step)}}
	path := "/api/v1/query_range"
	if instant {
		path = "/api/v1/query"
		q.Set("time", strconv.FormatInt(end.Unix(), 10))
	} else {
		// A whole number of steps, so the last point falls on end.
		start := end.Add(-(rng / step) * step)
		q.Set("start", strconv.FormatInt(start.Unix(), 10))
		q.Set("end", strconv.FormatInt(end.Unix(), 10))
		q.Set("step", strconv.FormatInt(int64(step/time.Second), 10))
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get(base + path + "?" + q.Encode())
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
				Values [][2]any          `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, fmt.Errorf("HTTP %d: %w", resp.StatusCode, err)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, r.Error)
	}
	var out []apiSeries
	for _, res := range r.Data.Result {
		delete(res.Metric, "__name__")
		keys := make([]string, 0, len(res.Metric))
		for k, v := range res.Metric {
			keys = append(keys, k+"="+strconv.Quote(v))
		}
		slices.Sort(keys)
		s := apiSeries{labels: "{" + strings.Join(keys, ",") + "}"}
		vals := res.Values
		if instant {
			vals = [][2]any{res.Value}
		}
		for _, p := range vals {
			ts, _ := p[0].(float64)
			str, _ := p[1].(string)
			v, err := strconv.ParseFloat(str, 64)
			if err != nil {
				return nil, fmt.Errorf("value %q: %w", str, err)
			}
			s.points = append(s.points, apiPoint{t: ts, v: v})
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b apiSeries) int { return strings.Compare(a.labels, b.labels) })
	return out, nil
}

// checkUnitRange fails a point that is not a number, or one of a ratio or
// percent panel outside [0, 1] or [0, 100]. Before the mix settled, a
// ratio of nothing to nothing (0/0: no sessions yet) is NaN, which Grafana
// draws as a gap; after it, every point must be a number.
func checkUnitRange(t *testing.T, name, unit string, got []apiSeries, settled time.Time) {
	t.Helper()
	hi := math.Inf(1)
	switch unit {
	case "percentunit":
		hi = 1
	case "percent":
		hi = 100
	}
	for _, s := range got {
		for _, p := range s.points {
			if math.IsNaN(p.v) && p.t < float64(settled.Unix()) {
				continue
			}
			if math.IsNaN(p.v) || math.IsInf(p.v, 0) || (hi < math.Inf(1) && (p.v < 0 || p.v > hi+1e-9)) {
				t.Errorf("%s: %s = %v at %v, outside the range of unit %q", name, s.labels, p.v, p.t, unit)
				return
			}
		}
	}
}

// last is the value of each series at its last point, by labels.
func last(got []apiSeries) map[string]float64 {
	out := map[string]float64{}
	for _, s := range got {
		if len(s.points) > 0 {
			out[s.labels] = s.points[len(s.points)-1].v
		}
	}
	return out
}

// sameLast compares the series' last values of a recorded target with its
// expression's.
func sameLast(recorded, raw []apiSeries) error {
	a, b := last(recorded), last(raw)
	if len(a) != len(b) {
		return fmt.Errorf("%d series, the expression %d (%v, %v)", len(a), len(b), a, b)
	}
	for k, v := range b {
		r, ok := a[k]
		if !ok || math.Abs(r-v) > 1e-9*math.Max(1, math.Abs(v)) {
			return fmt.Errorf("%s = %v (found %v), the expression %v", k, r, ok, v)
		}
	}
	return nil
}

// checkTruth compares the last value of a KPI panel with the truth of the
// mix and returns 1 when it did, 0 when the truth does not know it.
func checkTruth(t *testing.T, m *truthMix, p dashPanel, name string, got []apiSeries) int {
	t.Helper()
	if _, ok := noTruthPanels[p.kpi]; ok {
		return 0
	}
	k, _ := kpi.Lookup(p.kpi)
	vals := last(got)
	if p.kpi == "cohort_retention" {
		tol := m.tolerance(k, 0)
		for key, want := range m.cohortTruth {
			l := fmt.Sprintf("{cohort=%q,period=%q}", key[0], key[1])
			if v, ok := vals[l]; !ok || math.Abs(v-want) > tol {
				t.Errorf("%s: %s = %v (found %v), truth %v", name, l, v, ok, want)
			}
		}
		if len(vals) != len(m.cohortTruth) {
			t.Errorf("%s: %d series %v, truth %d", name, len(vals), vals, len(m.cohortTruth))
		}
		return 1
	}
	want, ok := m.truthAt(p.kpi, p.window)
	if !ok {
		t.Errorf("%s: the mix has no truth for %s over %s: add it, or list the KPI in noTruthPanels", name, p.kpi, p.window)
		return 0
	}
	tol := m.tolerance(k, want)
	if len(vals) != 1 {
		t.Errorf("%s: %d series %v, the mix makes one", name, len(vals), vals)
		return 0
	}
	for l, v := range vals {
		if math.Abs(v-want) > tol {
			t.Errorf("%s: last value %s = %v, truth %v (tolerance %v)", name, l, v, want, tol)
		}
	}
	return 1
}

// truthAt is the truth of a KPI over window. The mix's truth is for the
// 1h window of TestKPIsEqualTheTruth; every record arrived within the
// test, and every event time, but last week's cohort, and every snapshot
// lies within the last hour, so any window from 1h to under 7d gives the
// same answer. Active users count by event time: the 30d window also
// holds last week's cohort, so it holds every user.
func (m *truthMix) truthAt(name, window string) (float64, bool) {
	want, ok := m.want[name]
	switch window {
	case "", "1h", "1d", "7d":
		return want, ok
	case "5m":
		return want, ok
	case "30d":
		if name == "active_users" {
			return m.want["total_users"], true
		}
	}
	return 0, false
}

// checkBarsAddUp checks that the page-views bar gauge's bars (one per
// platform) add up to the page_views KPI of the mix.
func checkBarsAddUp(t *testing.T, m *truthMix, name string, got []apiSeries) {
	t.Helper()
	sum := 0.0
	for _, v := range last(got) {
		sum += v
	}
	if want := m.want["page_views"]; sum != want || len(got) < 2 {
		t.Errorf("%s: %d bars adding up to %v, want several adding up to page_views %v", name, len(got), sum, want)
	}
}

// dashboardGroups are the names of the dashboards' recording-rule groups
// (pulse_dashboard_*, evaluated every minute; the daily summary's group
// runs once a day and no panel reads it), as the compiler makes them.
func dashboardGroups(t *testing.T) []string {
	t.Helper()
	defs, err := dashboards.Load("../../config/dashboards")
	if err != nil {
		t.Fatal(err)
	}
	rec, err := dashboards.RecordingRules(defs)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range rec.Groups.Groups {
		if strings.HasPrefix(g.Name, "pulse_dashboard_") {
			names = append(names, g.Name)
		}
	}
	if len(names) == 0 {
		t.Fatal("the built-in dashboards compile to no rule group")
	}
	return names
}

// loadedGroups are those of groups that promstore lists.
func loadedGroups(t *testing.T, base string, groups []string) []string {
	t.Helper()
	var out []string
	for _, g := range ruleGroups(t, base) {
		if slices.Contains(groups, g.Name) {
			out = append(out, g.Name)
		}
	}
	return out
}

type ruleGroup struct {
	Name           string    `json:"name"`
	LastEvaluation time.Time `json:"lastEvaluation"`
	Rules          []struct {
		Name   string `json:"name"`
		Health string `json:"health"`
		Error  string `json:"lastError"`
	} `json:"rules"`
}

func ruleGroups(t *testing.T, base string) []ruleGroup {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/rules?type=record")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Groups []ruleGroup `json:"groups"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Status != "success" {
		t.Fatalf("/api/v1/rules: status %d, %q, %v", resp.StatusCode, r.Status, err)
	}
	return r.Data.Groups
}

// waitRulesEvaluated waits until each of groups has been evaluated after
// since, and fails a rule whose evaluation failed.
func waitRulesEvaluated(t *testing.T, base string, groups []string, since time.Time, limit time.Duration) {
	t.Helper()
	var last []ruleGroup
	done := poll.Wait(limit, time.Second, func() bool {
		last = ruleGroups(t, base)
		for _, g := range last {
			if slices.Contains(groups, g.Name) && !g.LastEvaluation.After(since) {
				return false
			}
		}
		return true
	})
	for _, g := range last {
		if !slices.Contains(groups, g.Name) {
			continue
		}
		if !done && !g.LastEvaluation.After(since) {
			t.Errorf("group %s: last evaluated %v, not after the mix settled (%v), within %s", g.Name, g.LastEvaluation, since, limit)
		}
		for _, r := range g.Rules {
			if r.Health != "ok" {
				t.Errorf("group %s: rule %s: health %q: %s", g.Name, r.Name, r.Health, r.Error)
			}
		}
	}
	if !done {
		t.FailNow()
	}
}
