package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAuditTrail runs the built binary with the shipped config/pulse.yaml,
// forgets a user through the admin API, stops the collector, and checks
// the audit log with bin/pulsectl: verify passes and prints the head, show
// lists the extension's and the privacy processor's config.load and the
// forget.request (by pseudonyms: none of the user id, token or address is
// in the files). Then one byte of the forget record is flipped and verify
// exits 1 naming that record's file, line and seq.
func TestAuditTrail(t *testing.T) {
	bin := binary(t)
	ctl := filepath.Join(filepath.Dir(bin), "pulsectl")
	if _, err := os.Stat(ctl); err != nil {
		t.Fatalf("bin/pulsectl next to PULSE_BIN: %v (make build builds both)", err)
	}
	api := freePort(t)
	ports := map[string]string{"otlp-grpc": freePort(t), "otlp-http": freePort(t), "forget": freePort(t), "telemetry": freePort(t)}
	// Without promstore's audit records (its retention executions are
	// written at start, concurrently with the forget requests below; they
	// are tested in exporter/promstoreexporter): the records and lines are
	// then the ones counted below.
	c := startCollectorWith(t, &sink{}, func(c *collector, _ string) string {
		return strings.Replace(shippedPromstoreConfigPorts(t, c, api, ports), "      interval: 1h\n    audit: audit\n", "      interval: 1h\n", 1)
	})
	dir := filepath.Join(c.dir, "data", "audit")
	token, err := os.ReadFile(filepath.Join(c.dir, "data", "admin.token"))
	if err != nil {
		t.Fatal(err)
	}

	const userID = "audit.e2e+jane@example.com"
	for _, want := range []int{http.StatusAccepted, http.StatusOK} { // new, then repeated
		req, _ := http.NewRequest(http.MethodPost, "http://"+ports["forget"]+"/v1/forget", strings.NewReader(fmt.Sprintf(`{"userId":%q}`, userID)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+string(token))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("forget: status %d, want %d", resp.StatusCode, want)
		}
	}
	// pulsectl appends while the collector holds the log open: one chain.
	code, out := pulsectl(t, ctl, "audit", "verify", "--audit-dir", dir)
	if code != 0 {
		t.Fatalf("verify while running: exit %d\n%s", code, out)
	}
	c.stop(t)

	code, out = pulsectl(t, ctl, "audit", "verify", "--audit-dir", dir)
	if code != 0 || !strings.Contains(out, "OK: 4 records in 1 files, seq 1 to 4") || !strings.Contains(out, "head: seq 4 hash ") {
		t.Fatalf("verify: exit %d\n%s", code, out)
	}
	t.Logf("pulsectl audit verify:\n%s", out)
	code, out = pulsectl(t, ctl, "audit", "show", "--since", "1h", "--audit-dir", dir)
	if code != 0 {
		t.Fatalf("show: exit %d\n%s", code, out)
	}
	for _, want := range []string{
		"config.load       actor=audit",
		"config.load       actor=privacy source=privacy object=privacy config_fingerprint=",
		"key_id=local-1",
		"forget.request    actor=admin-token source=client:",
		"outcome=new", "outcome=repeated", "persisted=true",
		"4 records since ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	t.Logf("pulsectl audit show:\n%s", out)
	code, out = pulsectl(t, ctl, "audit", "show", "--format", "json", "--audit-dir", dir)
	if code != 0 || strings.Count(out, "\n") != 4 || !strings.Contains(out, `"action":"forget.request"`) {
		t.Fatalf("show --format json: exit %d\n%s", code, out)
	}
	t.Logf("pulsectl audit show --format json:\n%s", out)

	files, err := filepath.Glob(filepath.Join(dir, "audit-*.jsonl"))
	if err != nil || len(files) != 1 {
		t.Fatalf("audit files %v: %v", files, err)
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, pii := range []string{userID, "jane", string(token), "127.0.0.1"} {
		if bytes.Contains(raw, []byte(pii)) {
			t.Errorf("the audit log holds %q", pii)
		}
	}
	// Flip one byte inside the first forget.request record (line 3).
	lines := bytes.SplitAfter(raw, []byte("\n"))
	if !bytes.Contains(lines[2], []byte(`"action":"forget.request"`)) {
		t.Fatalf("line 3 is not the forget request: %s", lines[2])
	}
	off := len(lines[0]) + len(lines[1]) + bytes.Index(lines[2], []byte(`"outcome":"new"`)) + len(`"outcome":"`)
	raw[off] = 'N'
	if err := os.WriteFile(files[0], raw, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out = pulsectl(t, ctl, "audit", "verify", "--audit-dir", dir)
	want := fmt.Sprintf("BROKEN: audit: %s:3: record seq 3: bad hash", filepath.Base(files[0]))
	if code != 1 || !strings.Contains(out, want) {
		t.Fatalf("verify after a flipped byte: exit %d, want 1 and %q\n%s", code, want, out)
	}
	t.Logf("pulsectl audit verify after a flipped byte (exit 1):\n%s", out)
}

// pulsectl runs bin/pulsectl and returns its exit code and combined output.
func pulsectl(t *testing.T, ctl string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := exec.CommandContext(ctx, ctl, args...).CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, string(b)
	case errors.As(err, &ee):
		return ee.ExitCode(), string(b)
	}
	t.Fatalf("pulsectl %v: %v", args, err)
	return 0, ""
}
