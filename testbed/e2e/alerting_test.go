package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pulse-otel/pulse/internal/alertrules"
	"github.com/pulse-otel/pulse/testbed/internal/poll"
	"github.com/pulse-otel/pulse/testbed/internal/proc"
)

const alertmanagerBin = "/usr/bin/prometheus-alertmanager"

// smsCall is one Alertmanager webhook notification the SMS endpoint got.
type smsCall struct {
	at     time.Time
	to     string
	status string
	alerts []struct {
		Status string            `json:"status"`
		Labels map[string]string `json:"labels"`
	}
}

// smsRecorder stands in for the SMS gateway: it records every webhook
// payload with its `to` query parameter.
type smsRecorder struct {
	ruleID string // the rule whose alerts find looks for
	mu     sync.Mutex
	calls  []smsCall
}

func (s *smsRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var p struct {
		Status string `json:"status"`
		Alerts []struct {
			Status string            `json:"status"`
			Labels map[string]string `json:"labels"`
		} `json:"alerts"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.calls = append(s.calls, smsCall{at: time.Now(), to: r.URL.Query().Get("to"), status: p.Status, alerts: p.Alerts})
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// find returns the time of the first notification to `to` that carries an
// alert of s.ruleID with the given status and escalation label ("" for none).
func (s *smsRecorder) find(to, status, escalation string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.calls {
		if c.to != to {
			continue
		}
		for _, a := range c.alerts {
			if a.Status == status && a.Labels["rule_id"] == s.ruleID && a.Labels["escalation"] == escalation {
				return c.at, true
			}
		}
	}
	return time.Time{}, false
}

// firing returns the times of the firing notifications to `to`.
func (s *smsRecorder) firing(to string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []time.Time
	for _, c := range s.calls {
		if c.to == to && c.status == "firing" {
			out = append(out, c.at)
		}
	}
	return out
}

func (s *smsRecorder) summary() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	for _, c := range s.calls {
		fmt.Fprintf(&b, "%s to=%s status=%s", c.at.Format("15:04:05.000"), c.to, c.status)
		for _, a := range c.alerts {
			fmt.Fprintf(&b, " [%s %v]", a.Status, a.Labels)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// startAlertmanager runs Debian's Alertmanager with config and waits until
// it is ready; it returns its base URL.
func startAlertmanager(t *testing.T, config []byte) string {
	t.Helper()
	if _, err := os.Stat(alertmanagerBin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s: %v (apt-get install prometheus-alertmanager)", alertmanagerBin, err)
		}
		t.Skipf("%s not installed: %v", alertmanagerBin, err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, config, 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	base := "http://" + addr
	proc.StartReady(t, proc.Spec{Name: "alertmanager", Path: alertmanagerBin, Args: []string{
		"--config.file=" + cfg, "--storage.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr, "--cluster.listen-address=",
	}}, 30*time.Second, proc.HTTPReady(base+"/-/ready"))
	return base
}

// amActive reports whether Alertmanager lists an active (unresolved) alert
// of ruleID.
func amActive(base, ruleID string) (bool, error) {
	resp, err := http.Get(base + "/api/v2/alerts?filter=" + "rule_id%3D%22" + ruleID + "%22")
	if err != nil {
		return false, err
	}
	defer func() { _ = resp.Body.Close() }()
	var alerts []struct {
		Labels map[string]string `json:"labels"`
		Status struct {
			State string `json:"state"`
		} `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&alerts); err != nil {
		return false, err
	}
	return len(alerts) > 0, nil
}

// promstoreAlerts counts the pending or firing alerts of ruleID that
// promstore's /api/v1/alerts lists, or -1 when it does not answer.
func promstoreAlerts(t *testing.T, api, ruleID string) int {
	t.Helper()
	resp, err := http.Get(api + "/api/v1/alerts")
	if err != nil {
		return -1
	}
	defer func() { _ = resp.Body.Close() }()
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
				State  string            `json:"state"`
			} `json:"alerts"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Status != "success" {
		return -1
	}
	n := 0
	for _, a := range r.Data.Alerts {
		if a.Labels["rule_id"] == ruleID {
			n++
		}
	}
	return n
}

// TestAlertingEndToEnd runs one seed-shaped alert definition through the
// whole chain: compiled by internal/alertrules, evaluated by promstore over
// the analytics_metrics series, sent to a real Alertmanager with the
// compiled configuration, delivered to an SMS webhook; then escalated, then
// resolved. It takes about 5 minutes (the rule's minimum granularity is one
// minute), so it is skipped under -short.
func TestAlertingEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 5 minutes")
	}
	binary(t)
	const ruleID = "e2e-error-rate-sms"
	rules, err := alertrules.Load("testdata/alerting/error-rate-sms.yaml")
	if err != nil {
		t.Fatal(err)
	}
	groups, err := alertrules.CompileRules(rules)
	if err != nil {
		t.Fatal(err)
	}
	rulesYAML, err := alertrules.MarshalRules(groups)
	if err != nil {
		t.Fatal(err)
	}
	sms := &smsRecorder{ruleID: ruleID}
	smsSrv := httptest.NewServer(sms)
	t.Cleanup(smsSrv.Close)
	amYAML, err := alertrules.CompileAlertmanager(rules, alertrules.AlertmanagerOptions{SMSWebhookURL: smsSrv.URL + "/sms"})
	if err != nil {
		t.Fatal(err)
	}
	// Test-only edit of the compiled configuration: Alertmanager's defaults
	// (group_wait 30s, group_interval 5m) would put the escalation's and the
	// resolution's notifications minutes later; 5s/10s keep the test short.
	const rootRoute = "route:\n  receiver: " + alertrules.NullReceiver + "\n"
	if !strings.Contains(string(amYAML), rootRoute) {
		t.Fatalf("compiled alertmanager.yml has no %q:\n%s", rootRoute, amYAML)
	}
	amYAML = []byte(strings.Replace(string(amYAML), rootRoute, rootRoute+"  group_wait: 5s\n  group_interval: 10s\n", 1))
	am := startAlertmanager(t, amYAML)

	dir := t.TempDir()
	rulesFile := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rulesFile, rulesYAML, 0o600); err != nil {
		t.Fatal(err)
	}
	api := freePort(t)
	c := startCollectorWith(t, &sink{}, func(c *collector, _ string) string {
		c.dir = dir
		writePrivacyKey(t, dir)
		return eventPipeline(c, "200ms", fmt.Sprintf(`  promstore:
    endpoint: %s
    directory: ./promstore
    rules:
      files: [%q]
      evaluation_interval: 15s
    alertmanager:
      url: %s`, api, rulesFile, am), "promstore")
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("SMS webhook calls:\n%s", sms.summary())
		}
	})

	// The feeder posts a batch every 2 s: 3 error_tracking events and 1
	// user_action while errors is set (error_rate 0.75), else 4 user_action.
	var errorsOn atomic.Bool
	errorsOn.Store(true)
	stop := make(chan struct{})
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		for n := 0; ; n++ {
			now := time.Now().UnixMilli()
			var evs []string
			for i := range 4 {
				ev := strings.Replace(event(fmt.Sprintf("al-%d-%d", n, i), now), `"consentLevel":"analytics"`, `"consentLevel":"full"`, 1)
				if errorsOn.Load() && i < 3 {
					ev = strings.Replace(ev, `"eventType":"user_action"`, `"eventType":"error_tracking"`, 1)
				}
				evs = append(evs, ev)
			}
			resp, err := http.Post("http://"+c.events+"/v1/events", "application/json", strings.NewReader("["+strings.Join(evs, ",")+"]"))
			if err != nil {
				t.Errorf("post: %v", err)
				return
			}
			raw, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(raw), `"accepted":4`) {
				t.Errorf("post: status %d: %s", resp.StatusCode, raw)
				return
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	stopFeeder := sync.OnceFunc(func() { close(stop); <-fed })
	t.Cleanup(stopFeeder)

	start := time.Now()
	wait := func(what string, limit time.Duration, cond func() bool) {
		t.Helper()
		// A failed feeder ends the wait too.
		if !poll.Wait(limit, 250*time.Millisecond, func() bool { return t.Failed() || cond() }) {
			v, _ := instant(t, "http://"+api, `(sum(rate(pulse_events_total{event_type="error_tracking"}[1m])) or vector(0)) / sum(rate(pulse_events_total[1m]))`)
			t.Fatalf("no %s within %s (error_rate now %v)", what, limit, v)
		}
		if t.Failed() {
			t.FailNow()
		}
		t.Logf("%s after %s", what, time.Since(start).Round(time.Second))
	}

	// Firing: up to one evaluation (1m) for the condition to hold, `for` 1m,
	// one flush, then group_wait; bounded at 4 minutes.
	wait("firing SMS to +15550100", 4*time.Minute, func() bool {
		_, ok := sms.find("+15550100", "firing", "")
		return ok
	})
	// Escalation: the _escalated alert fires escalateAfter (1m) later.
	wait("escalation SMS to +15550199", 105*time.Second, func() bool {
		_, ok := sms.find("+15550199", "firing", "true")
		return ok
	})
	if _, ok := sms.find("+15550100", "firing", "true"); ok {
		t.Errorf("escalation alert also reached the first-line recipient +15550100")
	}

	// Resolution: only user_action events from now on. error_rate drops to 0
	// once the last error leaves the 1m window; the next evaluation resolves
	// both alerts and promstore sends them resolved to Alertmanager.
	errorsOn.Store(false)
	resolveStart := time.Now()
	wait("alerts resolved in promstore and Alertmanager", 150*time.Second, func() bool {
		active, err := amActive(am, ruleID)
		return err == nil && !active && promstoreAlerts(t, "http://"+api, ruleID) == 0
	})
	t.Logf("resolution took %s after the errors stopped", time.Since(resolveStart).Round(time.Second))
	// The recipients hear that it resolved: within the rule route's
	// group_interval (the 1m cooldown).
	wait("a resolved SMS to +15550100", 90*time.Second, func() bool {
		_, ok := sms.find("+15550100", "resolved", "")
		return ok
	})
	at, _ := sms.find("+15550100", "resolved", "")
	t.Logf("resolved SMS to +15550100 at %s", at.Sub(start).Round(time.Second))
	// The cooldown (1 minute) is respected: no recipient was told twice
	// within it, although the test's root route would allow every 10 s.
	for _, to := range []string{"+15550100", "+15550199"} {
		times := sms.firing(to)
		for i := 1; i < len(times); i++ {
			if gap := times[i].Sub(times[i-1]); gap < 55*time.Second {
				t.Errorf("%s was notified twice within %s, the cooldown is 1m", to, gap.Round(time.Second))
			}
		}
	}
	stopFeeder()
	c.stop(t)
	t.Logf("SMS webhook calls:\n%s", sms.summary())
}
