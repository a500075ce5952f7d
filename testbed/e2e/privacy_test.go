package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulse-otel/pulse/internal/plantedpii"
)

const privacyConfig = `
extensions:
  health_check:
    endpoint: %[1]s
  file_storage/pulse:
    directory: ./state
    create_directory: true
  bearertokenauth/admin:
    filename: ./admin.token
  forget:
    endpoint: %[4]s
    key_file: ./forget.key
    storage: file_storage/pulse
    auth:
      authenticator: bearertokenauth/admin
receivers:
  analytics:
    endpoint: %[2]s
processors:
  privacy:
    pseudonymize:
      key_file: ./privacy.key
    forget: forget
  batch:
    timeout: 100ms
exporters:
  otlphttp:
    endpoint: http://%[3]s
    compression: none
  debug:
    verbosity: detailed
service:
  extensions: [health_check, file_storage/pulse, bearertokenauth/admin, forget]
  telemetry:
    logs:
      level: debug
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [analytics]
      processors: [privacy, batch]
      exporters: [otlphttp, debug]
`

// TestPrivacyInDistribution plants PII in every field type of events sent
// to the built collector, with the debug exporter at its most verbose and
// debug logging on, and checks that none of it reaches the exporter, the
// collector's own output or an answer; then forgets a user and checks that
// the user's next event is dropped.
func TestPrivacyInDistribution(t *testing.T) {
	s := &sink{}
	forgetAddr := freePort(t)
	const token = "e2e-admin-token-0123456789"
	c := startCollectorWith(t, s, func(c *collector, sinkAddr string) string {
		for name, content := range map[string]string{
			"admin.token": token,
			"forget.key":  strings.Repeat("f", 40),
			"privacy.key": strings.Repeat("p", 40),
		} {
			if err := os.WriteFile(filepath.Join(c.dir, name), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return fmt.Sprintf(privacyConfig, c.health, c.events, sinkAddr, forgetAddr)
	})
	base := "http://" + c.events
	now := time.Now().UnixMilli()

	var answers strings.Builder
	status, a := post(t, base+"/v1/events", "["+plantedpii.Event("e1", now, true)+","+plantedpii.Event("e2", now, false)+"]")
	fmt.Fprintf(&answers, "%+v", a)
	if status != http.StatusOK || a.Accepted != 1 {
		t.Fatalf("planted batch: status %d, answer %+v", status, a)
	}
	waitFor(t, "the planted event at the exporter", func() bool { return len(s.eventIDs()) == 1 })

	// Forget the planted user, then send another of their events.
	req, _ := http.NewRequest(http.MethodPost, "http://"+forgetAddr+"/v1/forget",
		strings.NewReader(fmt.Sprintf(`{"userId":%q}`, plantedpii.Values["email"])))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("forget: status %d", resp.StatusCode)
	}
	if status, a = post(t, base+"/v1/events", plantedpii.Event("e3", now, true)); status != http.StatusOK {
		t.Fatalf("event after forget: status %d %+v", status, a)
	}
	c.stop(t)

	if n := len(s.eventIDs()); n != 1 {
		t.Errorf("%d events exported, want 1: the forgotten user's later event must be dropped", n)
	}
	s.mu.Lock()
	exported := s.raw.String()
	s.mu.Unlock()
	if leaks := plantedpii.Leaks(exported); len(leaks) > 0 {
		t.Errorf("planted PII reached the exporter: %q", leaks)
	}
	if leaks := plantedpii.Leaks(c.out.String()); len(leaks) > 0 {
		t.Errorf("planted PII reached the collector's output: %q", leaks)
	}
	if leaks := plantedpii.Leaks(answers.String()); len(leaks) > 0 {
		t.Errorf("planted PII reached an answer: %q", leaks)
	}
	if !strings.Contains(c.out.String(), "REDACTED:email") {
		t.Errorf("the debug exporter should show the masked event; output:\n%s", c.out.String())
	}
}
