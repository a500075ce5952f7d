package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulse-otel/pulse/internal/kpi"
)

// truthMix is a seeded mix of events and recommendations, and the answers
// the KPIs must give for it, computed from what is sent and from what
// docs/events.md says consent does.
type truthMix struct {
	batches   [][]map[string]any // /v1/events bodies, sent in order
	recs      []map[string]any   // /v1/recommendations body
	model     map[string]any     // /v1/model-metrics body
	counted   int                // events that pass consent
	responses float64            // later responses
	want      map[string]float64 // KPI name ▶ truth
	approx    map[string]float64 // KPI name ▶ allowed relative error (HLL)
}

func newTruthMix(now time.Time) *truthMix {
	r := rand.New(rand.NewPCG(11, 2026))
	m := &truthMix{want: map[string]float64{}, approx: map[string]float64{}}
	platforms := []string{"web", "ios", "android"}
	consents := []string{"analytics", "marketing", "full"}
	paths := []string{"/home", "/workouts", "/plans", "/profile", "/shop"}
	var pageViews, uniqueViews, errors, revenue, valued, sessions, duration, bounced, convertedSessions float64
	users := map[string]bool{}
	seq := 0
	ts := func() int64 {
		// Most events are a few seconds old; one in ten arrives ten
		// minutes late (counters follow arrival time, so it still counts).
		age := time.Duration(r.IntN(5000)) * time.Millisecond
		if r.IntN(10) == 0 {
			age = 10 * time.Minute
		}
		return now.Add(-age).UnixMilli()
	}
	newEvent := func(session, user, device, platform, consent string) map[string]any {
		seq++
		ev := map[string]any{
			"eventId": fmt.Sprintf("evt-%d", seq), "sessionId": session, "deviceId": device,
			"eventType": "user_action", "category": "workout", "action": "view",
			"properties": map[string]any{"page": "/p"}, "platform": platform, "appVersion": "3.1.0",
			"consentLevel": consent, "dataRetentionDays": 30, "timestamp": ts(),
		}
		if user != "" {
			ev["userId"] = user
		}
		return ev
	}
	for batch := range 2 {
		var evs []map[string]any
		// The second batch brings label values the store has not seen.
		category := []string{"workout", "nutrition_new"}[batch]
		for s := range 30 {
			session := fmt.Sprintf("sess-%d-%d", batch, s)
			user := ""
			if s%4 != 3 { // one session in four is anonymous
				user = fmt.Sprintf("user-%d", r.IntN(24))
			}
			platform := platforms[r.IntN(len(platforms))]
			consent := consents[r.IntN(len(consents))]
			device := fmt.Sprintf("dev-%d-%d", batch, s)
			sessions++
			if user != "" {
				users[user] = true
			}
			seen := map[string]bool{}
			var first, last int64
			converted := false
			n := 1 + r.IntN(6)
			for e := range n {
				ev := newEvent(session, user, device, platform, consent)
				t := ev["timestamp"].(int64)
				if e == 0 || t < first {
					first = t
				}
				last = max(last, t)
				ev["category"] = category
				kind := r.IntN(6)
				if e == 0 {
					kind = 0
				}
				switch kind {
				case 0, 1:
					path := paths[r.IntN(len(paths))]
					ev["behavior"] = map[string]any{"behaviorType": "navigation", "pageData": map[string]any{"path": path, "title": "t"}}
					pageViews++
					if !seen[path] {
						seen[path] = true
						uniqueViews++
					}
				case 2:
					ev["behavior"] = map[string]any{"behaviorType": "interaction", "interactionData": map[string]any{"elementType": "button"}}
				case 3:
					conv := map[string]any{"goalType": "purchase", "funnelStep": "cart", "conversionTime": 1000, "previousSteps": []string{}}
					if r.IntN(2) == 0 {
						v := float64(10 + r.IntN(90))
						conv["funnelStep"], conv["goalValue"] = "checkout", v
						revenue += v
						valued++
					}
					converted = true
					ev["behavior"] = map[string]any{"behaviorType": "conversion", "conversionData": conv}
				case 4:
					ev["eventType"], ev["action"] = "error_tracking", "crash"
					errors++
				}
				evs = append(evs, ev)
				m.counted++
			}
			duration += float64(last-first) / 1e3
			if n == 1 {
				bounced++
			}
			if converted {
				convertedSessions++
			}
		}
		// Consent: under necessary a user_action is dropped, an
		// error_tracking event is counted without identifiers.
		for i := range 4 {
			ev := newEvent(fmt.Sprintf("sess-nec-%d-%d", batch, i), fmt.Sprintf("user-nec-%d", i), "dev-nec", "web", "necessary")
			evs = append(evs, ev)
			ev = newEvent(fmt.Sprintf("sess-nec-%d-%d", batch, i), fmt.Sprintf("user-nec-%d", i), "dev-nec", "web", "necessary")
			ev["eventType"], ev["action"] = "error_tracking", "timeout"
			evs = append(evs, ev)
			errors++
			m.counted++
		}
		m.batches = append(m.batches, evs)
	}

	var confSum, ratingSum, ratings, accepted, modified float64
	actions := []string{"accepted", "modified", "rejected"}
	const nrec = 12
	for i := range nrec {
		id := fmt.Sprintf("rec-%d", i)
		user := fmt.Sprintf("user-%d", i)
		conf := float64(50+r.IntN(50)) / 100
		confSum += conf
		m.recs = append(m.recs, map[string]any{
			"recommendationId": id, "userId": user, "consentLevel": "analytics",
			"modelId": "workout-recommender", "modelVersion": "3.2.0", "recommendationType": "workout",
			"recommendationData": map[string]any{"items": []any{"w-1"}, "confidence": conf, "personalizedFactors": []string{}},
			"context":            map[string]any{"timeOfDay": "morning", "dayOfWeek": "monday", "userGoals": []string{}, "recentActivity": []string{}, "deviceType": "mobile"},
			"timestamp":          now.Add(-time.Minute).UnixMilli(),
		})
		if i%4 == 3 {
			continue // no response yet: shown, not accepted
		}
		action := actions[i%3]
		resp := map[string]any{"action": action, "responseTime": 3.5}
		if i%2 == 0 {
			rating := float64(1 + i%5)
			resp["feedback"] = map[string]any{"rating": rating}
			ratingSum += rating
			ratings++
		}
		switch action {
		case "accepted":
			accepted++
		case "modified":
			modified++
		}
		m.recs = append(m.recs, map[string]any{
			"recommendationId": id, "userId": user, "consentLevel": "analytics",
			"userResponse": resp, "responseTimestamp": now.UnixMilli(),
		})
		m.responses++
	}

	// A model evaluation snapshot: its KPIs read the values sent.
	acc, prec, rec, f1 := float64(80+r.IntN(20))/100, float64(80+r.IntN(20))/100, float64(80+r.IntN(20))/100, float64(80+r.IntN(20))/100
	latency, throughput, errRate, drift := float64(20+r.IntN(80)), float64(50+r.IntN(200)), float64(r.IntN(50))/1000, float64(r.IntN(30))/100
	violations := 1 + r.IntN(4)
	m.model = map[string]any{
		"modelId": "workout-recommender", "modelVersion": "3.2.0", "modelType": "recommendation",
		"accuracyScore": acc, "precisionScore": prec, "recallScore": rec, "f1Score": f1,
		"predictionLatency": latency, "throughput": throughput, "errorRate": errRate, "acceptanceRate": 0.5,
		"modificationRate": 0.2, "satisfactionScore": 4.1,
		"dataDrift":        map[string]any{"detected": drift > 0.2, "severity": "low", "affectedFeatures": []string{}, "driftScore": drift},
		"safetyMetrics":    map[string]any{"violationCount": violations, "safetyScore": 98.5, "riskLevel": "low"},
		"resourceUsage":    map[string]any{"cpuUtilization": 40, "memoryUsage": 1 << 30},
		"evaluationPeriod": map[string]any{"startTime": now.Add(-time.Hour).UnixMilli(), "endTime": now.Add(-time.Minute).UnixMilli(), "sampleSize": 1000},
		"timestamp":        now.Add(-time.Minute).UnixMilli(),
	}
	m.want["model_accuracy"], m.want["model_precision"], m.want["model_recall"], m.want["model_f1"] = acc, prec, rec, f1
	m.want["model_latency"], m.want["model_throughput"], m.want["model_error_rate"], m.want["drift_score"] = latency, throughput, errRate, drift
	m.want["safety_violations"] = float64(violations)

	m.want["page_views"] = pageViews
	m.want["unique_page_views"] = uniqueViews
	m.want["error_rate"] = errors / float64(m.counted)
	m.want["new_users"] = float64(len(users))
	m.want["total_users"] = float64(len(users))
	m.want["active_users"] = float64(len(users))
	m.approx["active_users"] = 0.02
	m.want["purchase_revenue"] = revenue
	m.want["recommendation_count"] = nrec
	m.want["acceptance_rate"] = accepted / nrec
	m.want["modification_rate"] = modified / nrec
	m.want["avg_confidence"] = confSum / nrec
	m.want["avg_recommendation_rating"] = ratingSum / ratings
	m.want["overflow_rate"] = 0
	m.want["conversion_rate"] = convertedSessions / sessions
	m.want["transactions"] = valued
	m.want["avg_order_value"] = revenue / valued
	m.want["bounce_rate"] = bounced / sessions
	// No session has ended (30 min idle): every one is open, and counts.
	m.want["avg_session_duration"] = duration / sessions
	m.want["avg_time_on_site"] = duration / sessions
	return m
}

// shippedPromstoreConfig is config/pulse.yaml as shipped, with its
// endpoints moved to free loopback ports; its ./data paths resolve in the
// collector's own directory, where the secrets and rules it needs are made.
func shippedPromstoreConfig(t *testing.T, c *collector, api string) string {
	t.Helper()
	cfg, replace := shippedConfig(t, "pulse.yaml")
	moveEndpoints(t, replace, c, map[string]string{"otlp-grpc": freePort(t), "otlp-http": freePort(t), "forget": freePort(t), "telemetry": freePort(t)})
	replace("endpoint: localhost:9090", "endpoint: "+api)
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
	return *cfg
}

// TestKPIsEqualTheTruth sends a seeded mix with a known answer through the
// built binary with the shipped config/pulse.yaml (promstore) and
// config/remote-write.yaml (a real Prometheus behind remote write), waits
// until each store has settled, and compares KPIs of the registry with the
// truth: exact counts exact, HyperLogLog uniques within 2 %, ratios within
// 1 % absolute. Both stores must give the truth.
func TestKPIsEqualTheTruth(t *testing.T) {
	binary(t)
	m := newTruthMix(time.Now())
	got := map[string]map[string]float64{}
	t.Run("promstore", func(t *testing.T) {
		api := freePort(t)
		c := startCollectorWith(t, &sink{}, func(c *collector, _ string) string { return shippedPromstoreConfig(t, c, api) })
		got["promstore"] = runTruth(t, m, c, "http://"+api)
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
		got["prometheus"] = runTruth(t, m, c, "http://"+prom.addr)
	})
	var table strings.Builder
	table.WriteString("| KPI | truth | promstore | Prometheus |\n|---|---|---|---|\n")
	for _, name := range sortedKeys(m.want) {
		fmt.Fprintf(&table, "| %s | %.4g | %.4g | %.4g |\n", name, m.want[name], got["promstore"][name], got["prometheus"][name])
	}
	t.Logf("%d events sent, %d counted\n%s", m.sent(), m.counted, table.String())
}

func (m *truthMix) sent() int {
	n := 0
	for _, b := range m.batches {
		n += len(b)
	}
	return n
}

// runTruth sends the mix to c, waits until the store behind api holds every
// counted event and recommendation, and returns each KPI's answer, checked
// against the truth.
func runTruth(t *testing.T, m *truthMix, c *collector, api string) map[string]float64 {
	t.Helper()
	for i, batch := range m.batches {
		body, _ := json.Marshal(batch)
		status, a := post(t, "http://"+c.events+"/v1/events", string(body))
		if status != http.StatusOK || a.Accepted != len(batch) {
			t.Fatalf("batch %d: status %d, accepted %d of %d: %+v", i, status, a.Accepted, len(batch), a.Rejected)
		}
		if i == 0 {
			// Let the first batch's series be stored before the second
			// batch brings new ones.
			settle(t, "the first batch stored", func() bool {
				v, ok := instant(t, api, "sum(pulse_events_total)")
				return ok && v > 0
			})
			time.Sleep(2 * time.Second)
		}
	}
	body, _ := json.Marshal(m.recs)
	if status, a := post(t, "http://"+c.events+"/v1/recommendations", string(body)); status != http.StatusOK || a.Accepted != len(m.recs) {
		t.Fatalf("recommendations: status %d, accepted %d of %d: %+v", status, a.Accepted, len(m.recs), a.Rejected)
	}
	if status, a := post(t, "http://"+c.events+"/v1/model-metrics", string(mustMarshal(m.model))); status != http.StatusOK || a.Accepted != 1 {
		t.Fatalf("model snapshot: status %d: %+v", status, a)
	}
	// SDK retries: the first batch and the recommendations again, exactly
	// as sent. They are acknowledged and must count nothing.
	retries := 0
	for _, b := range [][]byte{mustMarshal(m.batches[0]), body} {
		path := "/v1/events"
		if retries > 0 {
			path = "/v1/recommendations"
		}
		if status, _ := post(t, "http://"+c.events+path, string(b)); status != http.StatusOK {
			t.Fatalf("retry to %s: status %d", path, status)
		}
		retries++
	}
	settle(t, "every counted event and recommendation stored", func() bool {
		ev, ok1 := instant(t, api, "sum(pulse_events_total)")
		rec, ok2 := instant(t, api, "sum(pulse_recommendations_total)")
		_, ok3 := instant(t, api, "pulse_ai_model_accuracy_ratio")
		return ok1 && ok2 && ok3 && ev == float64(m.counted) && rec == m.want["recommendation_count"]
	})
	// Gauges (active users) are exported with every full export; wait for
	// them too.
	settle(t, "active users stored", func() bool {
		v, ok := instant(t, api, `sum(pulse_users_active{window="1h"})`)
		return ok && v > 0
	})
	// What the extrapolating form the registry used before would answer
	// (logged for comparison, not checked).
	for _, q := range []string{"sum(increase(pulse_page_views_total[1h]))", "sum(increase(pulse_recommendations_total[1h]))"} {
		v, _ := instant(t, api, q)
		t.Logf("%s = %.4g", q, v)
	}
	// Later responses carry no model labels: they are joined to their
	// recommendation by id, so every response has the model's labels.
	responses, _ := instant(t, api, `sum(pulse_recommendation_responses_total{model_id="workout-recommender",model_version="3.2.0",recommendation_type="workout"})`)
	if responses != m.responses {
		t.Errorf("responses with the recommendation's model labels = %v, want %v (every response joined)", responses, m.responses)
	}
	// Every retried record that passed consent is a duplicate: the first
	// batch less its 4 necessary user_action events (dropped by consent
	// before the connector), and every recommendation and response.
	dups, _ := instant(t, api, `sum(pulse_events_duplicates_total)`)
	if want := float64(len(m.batches[0]) - 4 + len(m.recs)); dups != want {
		t.Errorf("pulse_events_duplicates_total = %v, want %v", dups, want)
	}
	out := map[string]float64{}
	for _, name := range sortedKeys(m.want) {
		k, ok := kpi.Lookup(name)
		if !ok {
			t.Fatalf("KPI %s is not in the registry", name)
		}
		window := "1h"
		if k.Window == "" {
			window = ""
		}
		q, err := k.Query(window)
		if err != nil {
			t.Fatal(err)
		}
		got, found := instant(t, api, q)
		out[name] = got
		want := m.want[name]
		tol := 1e-9
		switch {
		case m.approx[name] > 0:
			tol = m.approx[name] * want
		case k.Unit == "1":
			tol = 0.01
		}
		if !found || math.Abs(got-want) > tol {
			t.Errorf("%s = %v (found %v), truth %v (tolerance %v)\n  query: %s", name, got, found, want, tol, q)
		}
	}
	return out
}

// settle waits up to a minute for cond: remote write ships its WAL every
// 5 s, so a store behind it settles later than promstore.
func settle(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
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
