package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulse-otel/pulse/internal/kpi"
	"github.com/pulse-otel/pulse/internal/retention"
	"github.com/pulse-otel/pulse/testbed/internal/poll"
)

// shippedPromstoreConfig is config/pulse.yaml as shipped, with its
// endpoints moved to free loopback ports; its ./data paths resolve in the
// collector's own directory, where the secrets and rules it needs are made.
func shippedPromstoreConfig(t *testing.T, c *collector, api string) string {
	t.Helper()
	return shippedPromstoreConfigPorts(t, c, api, map[string]string{"otlp-grpc": freePort(t), "otlp-http": freePort(t), "forget": freePort(t), "telemetry": freePort(t)})
}

// shippedPromstoreConfigPorts is shippedPromstoreConfig with the given
// ports (keys of moveEndpoints).
func shippedPromstoreConfigPorts(t *testing.T, c *collector, api string, ports map[string]string) string {
	t.Helper()
	cfg, replace := shippedConfig(t, "pulse.yaml")
	moveEndpoints(t, replace, c, ports)
	replace("endpoint: localhost:9090", "endpoint: "+api)
	replace("endpoint: localhost:8888", "endpoint: "+ports["telemetry"]) // promstore's telemetry scrape
	data := filepath.Join(c.dir, "data")
	if err := os.MkdirAll(filepath.Join(data, "alerts"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"privacy.key", "forget.key", "admin.token"} {
		if err := os.WriteFile(filepath.Join(data, f), []byte(fmt.Sprintf("truth-test-%s-0123456789abcdef0123456789", f)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(data, "alerts", "rules.yaml"), []byte("groups: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	compileShippedRetention(t, filepath.Join(data, "retention"))
	return *cfg
}

// compileShippedRetention writes what `pulsectl retention compile` makes
// of config/retention into dir, as `make run` does for config/pulse.yaml.
func compileShippedRetention(t *testing.T, dir string) {
	t.Helper()
	ps, err := retention.Load(filepath.Join("..", "..", "config", "retention"))
	if err != nil {
		t.Fatal(err)
	}
	groups, err := retention.RecordingRules(ps)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := retention.MarshalRules(groups)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := retention.Compile(ps)
	if err != nil {
		t.Fatal(err)
	}
	planJSON, err := retention.MarshalPlan(plan)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"rules.yaml": rules, "policies.json": planJSON} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestKPIsEqualTheTruth sends a seeded mix with a known answer through the
// built binary with the shipped config/pulse.yaml (promstore) and
// config/remote-write.yaml (a real Prometheus behind remote write): JSON
// events (every consent level, platform, event type and behaviour family;
// last week's cohort; new label values in a second batch; an SDK retry),
// OTLP log records from the Go OTel SDK, recommendations with later
// responses, model, business and system snapshots. It waits until each
// store has settled and compares every KPI of the registry with the truth
// (exact counts exact, HyperLogLog uniques within 2 %, ratios within 1 %
// absolute) and every family of docs/metrics.md (present; counts by label
// exact). Both stores must give the truth.
func TestKPIsEqualTheTruth(t *testing.T) {
	binary(t)
	m := newTruthMix(time.Now())
	for _, k := range kpi.All() {
		if _, ok := m.want[k.Name]; !ok {
			t.Errorf("KPI %s has no truth in the mix", k.Name)
		}
	}
	families := catalogFamilies(t)
	got := map[string]map[string]float64{}
	t.Run("promstore", func(t *testing.T) {
		api := freePort(t)
		ports := map[string]string{"otlp-grpc": freePort(t), "otlp-http": freePort(t), "forget": freePort(t), "telemetry": freePort(t)}
		c := startCollectorWith(t, &sink{}, func(c *collector, _ string) string { return shippedPromstoreConfigPorts(t, c, api, ports) })
		got["promstore"] = runTruth(t, m, c, ports["otlp-http"], "http://"+api, families)
	})
	t.Run("prometheus", func(t *testing.T) {
		prom := newPromProc(t)
		prom.start(t)
		dir := remoteWriteSecrets(t, "http://"+prom.addr)
		ports := map[string]string{"otlp-grpc": freePort(t), "otlp-http": freePort(t), "forget": freePort(t), "telemetry": freePort(t)}
		c := startCollectorWith(t, &sink{}, func(c *collector, sinkAddr string) string {
			c.dir = dir
			return rwShippedConfig(t, c, sinkAddr, ports)
		})
		got["prometheus"] = runTruth(t, m, c, ports["otlp-http"], "http://"+prom.addr, families)
	})
	var table strings.Builder
	table.WriteString("| KPI | truth | promstore | Prometheus |\n|---|---|---|---|\n")
	for _, name := range sortedKeys(m.want) {
		fmt.Fprintf(&table, "| %s | %.6g | %.6g | %.6g |\n", name, m.want[name], got["promstore"][name], got["prometheus"][name])
	}
	t.Logf("%d KPIs; %d events sent (%d over OTLP), %d counted; %d catalog families\n%s", len(m.want), m.sent(), m.sentOTLP(), m.counted, len(families), table.String())
}

func (m *truthMix) sent() int {
	n := 0
	for _, p := range m.phases {
		n += len(p.events)
	}
	return n
}

func (m *truthMix) sentOTLP() int {
	n := 0
	for _, p := range m.phases {
		if p.otlp {
			n += len(p.events)
		}
	}
	return n
}

func eventBodies(evs []truthEvent) []map[string]any {
	out := make([]map[string]any, len(evs))
	for i, e := range evs {
		out[i] = e.ev
	}
	return out
}

// truthAnswer is the analytics receiver's answer with its dropped items.
type truthAnswer struct {
	Accepted int               `json:"accepted"`
	Rejected []json.RawMessage `json:"rejected"`
	Dropped  []struct {
		Index  int    `json:"index"`
		Reason string `json:"reason"`
	} `json:"dropped"`
}

func (a truthAnswer) droppedIndexes() []int {
	out := []int{}
	for _, d := range a.Dropped {
		out = append(out, d.Index)
	}
	return out
}

func postEvents(t *testing.T, url string, body []byte) (int, truthAnswer) {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var a truthAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatalf("answer %d is not JSON: %v", resp.StatusCode, err)
	}
	return resp.StatusCode, a
}

// runTruth sends the mix to c (OTLP to otlpHTTP), waits until the store
// behind api holds every counted record and snapshot, and returns each
// KPI's answer, checked against the truth, after checking the catalog.
func runTruth(t *testing.T, m *truthMix, c *collector, otlpHTTP, api string, families []catalogFamily) map[string]float64 {
	t.Helper()
	stored := 0
	for i, p := range m.phases {
		if p.otlp {
			sendOTLP(t, otlpHTTP, p.events)
		} else {
			// A 200 says what was stored: events consent drops are listed
			// under "dropped", not accepted.
			var dropped []int
			for i, e := range p.events {
				if !e.counted() {
					dropped = append(dropped, i)
				}
			}
			status, a := postEvents(t, "http://"+c.events+"/v1/events", mustMarshal(eventBodies(p.events)))
			if status != http.StatusOK || a.Accepted != len(p.events)-len(dropped) || len(a.Rejected) != 0 || fmt.Sprint(a.droppedIndexes()) != fmt.Sprint(dropped) {
				t.Fatalf("%s: status %d, accepted %d of %d, dropped %v (want %v), rejected %v", p.name, status, a.Accepted, len(p.events)-len(dropped), a.droppedIndexes(), dropped, a.Rejected)
			}
		}
		for _, e := range p.events {
			if e.counted() {
				stored++
			}
		}
		if i <= m.retry {
			// Let this phase's series be stored before the next brings
			// new ones (the cohort of last week first, then this week's;
			// the second batch's categories after the first batch's).
			settle(t, p.name+" stored", func() bool {
				v, ok := instant(t, api, "sum(pulse_events_total)")
				return ok && v == float64(stored)
			})
			if i == m.retry {
				time.Sleep(2 * time.Second)
			}
		}
	}
	body := mustMarshal(m.recs)
	var recDropped []int
	for i, r := range m.recs {
		if r["consentLevel"] == "necessary" {
			recDropped = append(recDropped, i)
		}
	}
	if status, a := postEvents(t, "http://"+c.events+"/v1/recommendations", body); status != http.StatusOK || a.Accepted != len(m.recs)-len(recDropped) || len(a.Rejected) != 0 || fmt.Sprint(a.droppedIndexes()) != fmt.Sprint(recDropped) {
		t.Fatalf("recommendations: status %d, accepted %d of %d, dropped %v (want %v), rejected %v", status, a.Accepted, len(m.recs)-len(recDropped), a.droppedIndexes(), recDropped, a.Rejected)
	}
	for _, snaps := range []struct {
		path  string
		items []map[string]any
	}{{"/v1/model-metrics", m.model}, {"/v1/business-metrics", m.business}, {"/v1/system-metrics", m.system}} {
		for _, s := range snaps.items {
			if status, a := post(t, "http://"+c.events+snaps.path, string(mustMarshal(s))); status != http.StatusOK || a.Accepted != 1 {
				t.Fatalf("%s: status %d: %+v", snaps.path, status, a)
			}
		}
	}
	// SDK retries: a batch and the recommendations again, exactly as
	// sent. They are acknowledged and must count nothing.
	for _, r := range []struct {
		path string
		body []byte
	}{{"/v1/events", mustMarshal(eventBodies(m.phases[m.retry].events))}, {"/v1/recommendations", body}} {
		if status, _ := post(t, "http://"+c.events+r.path, string(r.body)); status != http.StatusOK {
			t.Fatalf("retry to %s: status %d", r.path, status)
		}
	}
	settle(t, "every counted record and snapshot stored", func() bool {
		for q, want := range map[string]float64{
			"sum(pulse_events_total)":                                         float64(m.counted),
			"sum(pulse_recommendations_total)":                                m.nrec,
			"sum(pulse_recommendation_responses_total)":                       m.responses + m.unjoined + m.inline,
			"sum(count_over_time(pulse_ai_model_accuracy_ratio[1h]))":         float64(len(m.model)),
			"sum(count_over_time(pulse_business_value[1h]))":                  float64(len(m.business)),
			"sum(count_over_time(pulse_system_requests_rate_per_second[1h]))": float64(len(m.system)),
			"sum(pulse_events_duplicates_total)":                              familyCheck{want: m.dups}.total(),
		} {
			if v, ok := instant(t, api, q); !ok || v != want {
				return false
			}
		}
		return true
	})
	// What the extrapolating form the registry used before would answer
	// (logged for comparison, not checked).
	for _, q := range []string{"sum(increase(pulse_page_views_total[1h]))", "sum(increase(pulse_recommendations_total[1h]))", "sum(rate(pulse_events_total[1h]))"} {
		v, _ := instant(t, api, q)
		t.Logf("%s = %.4g", q, v)
	}
	// Later responses carry no model labels: they are joined to their
	// recommendation by id, so every response has the model's labels.
	responses, _ := instant(t, api, `sum(pulse_recommendation_responses_total{model_id="workout-recommender",model_version="3.2.0",recommendation_type="workout"})`)
	if want := m.responses + m.inline; responses != want {
		t.Errorf("responses with the recommendation's model labels = %v, want %v (every response joined)", responses, want)
	}
	// Gauges and flush-time histograms (active users, open sessions,
	// cohorts, freshness) follow within a flush or a full export: compare
	// until everything matches or 20 s have passed.
	check := func() (map[string]float64, []string) {
		out, problems := compareKPIs(t, m, api)
		return out, append(problems, checkCatalog(t, api, families, m.families)...)
	}
	poll.Wait(20*time.Second, 500*time.Millisecond, func() bool { _, problems := check(); return len(problems) == 0 })
	out, problems := check()
	for _, p := range problems {
		t.Error(p)
	}
	return out
}

func (c familyCheck) total() float64 {
	s := 0.0
	for _, v := range c.want {
		s += v
	}
	return s
}

// lagDependentKPIs are KPIs whose truth depends on how long after the
// mix was made it is sent (the events' receive time), and why: only their
// range is checked.
var lagDependentKPIs = map[string]string{
	"timeliness_share": "the share of events received within 1 s of their timestamp: the mix is sent seconds after it is made, later for each further store",
}

// compareKPIs evaluates every KPI with window 1h (or none) and compares it
// with the truth.
func compareKPIs(t *testing.T, m *truthMix, api string) (map[string]float64, []string) {
	t.Helper()
	out := map[string]float64{}
	var problems []string
	for _, k := range kpi.All() {
		window := "1h"
		if k.Window == "" {
			window = ""
		}
		q, err := k.Query(window)
		if err != nil {
			t.Fatal(err)
		}
		want := m.want[k.Name]
		tol := m.tolerance(k, want)
		if k.Name == "cohort_retention" {
			got := map[[2]string]float64{}
			for _, s := range samples(t, api, q) {
				got[[2]string{s.metric["cohort"], s.metric["period"]}] = s.value
			}
			for key, w := range m.cohortTruth {
				if g, ok := got[key]; !ok || math.Abs(g-w) > tol {
					problems = append(problems, fmt.Sprintf("cohort_retention{cohort=%q,period=%q} = %v (found %v), truth %v", key[0], key[1], g, ok, w))
				}
			}
			if len(got) != len(m.cohortTruth) {
				problems = append(problems, fmt.Sprintf("cohort_retention: %d series %v, truth %d %v", len(got), got, len(m.cohortTruth), m.cohortTruth))
			}
			oldWeek := weekNumber(m.now.Add(-oldAge))
			out[k.Name] = got[[2]string{cohortLabel(oldWeek), fmt.Sprint(weekNumber(m.now) - oldWeek)}]
			continue
		}
		got, found := instant(t, api, q)
		out[k.Name] = got
		if _, ok := lagDependentKPIs[k.Name]; ok {
			if !found || got < 0 || got > 1 {
				problems = append(problems, fmt.Sprintf("%s = %v (found %v), want a share in [0, 1]\n  query: %s", k.Name, got, found, q))
			}
			continue
		}
		if !found && k.ReadsStoredTelemetry() {
			if _, stored := instant(t, api, `up{job="pulse"}`); !stored {
				continue // a store without the collector's telemetry (config/remote-write.yaml's Prometheus)
			}
		}
		if !found || math.Abs(got-want) > tol {
			problems = append(problems, fmt.Sprintf("%s = %v (found %v), truth %v (tolerance %v)\n  query: %s", k.Name, got, found, want, tol, q))
		}
	}
	return out, problems
}

// tolerance is how far k's answer may be from its truth want: exact
// counts exact, HyperLogLog estimates within the mix's allowed error,
// ratios within 1 % absolute.
func (m *truthMix) tolerance(k kpi.Def, want float64) float64 {
	switch {
	case m.approx[k.Name] > 0:
		if k.Name == "avg_sessions_per_user" {
			return m.approx[k.Name] * want
		}
		return m.approx[k.Name] * math.Max(m.want["active_users"], math.Abs(want))
	case k.Unit == "1":
		return 0.01
	}
	return 1e-9 * math.Max(1, math.Abs(want))
}

// settle waits up to a minute for cond: remote write ships its WAL every
// 5 s, so a store behind it settles later than promstore.
func settle(t *testing.T, what string, cond func() bool) {
	t.Helper()
	poll.Until(t, time.Minute, 100*time.Millisecond, cond, what)
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func sortedKeys(m map[string]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
