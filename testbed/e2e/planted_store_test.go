package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulse-otel/pulse/internal/plantedpii"
)

// TestPlantedPIINotStored sends the planted-PII events (PII in every field,
// in map keys, percent-encoded in the page URL; a valid and an invalid
// one) to the built collector with the shipped config/pulse.yaml, and OTLP
// metrics and logs whose attribute keys and values hold PII, then checks
// that none of it is in promstore's label names and values, in its files
// on disk (WAL, blocks, queues), in the collector's output or in an
// answer.
func TestPlantedPIINotStored(t *testing.T) {
	binary(t)
	api := freePort(t)
	ports := map[string]string{"otlp-grpc": freePort(t), "otlp-http": freePort(t), "forget": freePort(t), "telemetry": freePort(t)}
	c := startCollectorWith(t, &sink{}, func(c *collector, _ string) string { return shippedPromstoreConfigPorts(t, c, api, ports) })
	now := time.Now()
	ms := now.UnixMilli()

	var answers strings.Builder
	status, a := post(t, "http://"+c.events+"/v1/events", "["+plantedpii.Event("pk1", ms, true)+","+plantedpii.Event("pk2", ms, false)+"]")
	fmt.Fprintf(&answers, "%+v", a)
	if status != http.StatusOK || a.Accepted != 1 {
		t.Fatalf("planted batch: status %d, answer %+v", status, a)
	}

	email, phone, enc := plantedpii.Values["email"], plantedpii.Values["phone"], plantedpii.Values["email_encoded"]
	ns := now.UnixNano()
	attrs := fmt.Sprintf(`[{"key":%q,"value":{"stringValue":"x"}},{"key":"route","value":{"stringValue":"/u?login_hint=%s"}},{"key":"call %s","value":{"stringValue":"y"}}]`, email, enc, phone)
	metrics := fmt.Sprintf(`{"resourceMetrics":[{"resource":{},"scopeMetrics":[{"metrics":[{"name":"planted_gauge","gauge":{"dataPoints":[{"asDouble":1,"timeUnixNano":"%d","attributes":%s}]}}]}]}]}`, ns, attrs)
	logs := fmt.Sprintf(`{"resourceLogs":[{"resource":{},"scopeLogs":[{"logRecords":[{"timeUnixNano":"%d","body":{"stringValue":"note %s"},"attributes":%s}]}]}]}`, ns, enc, attrs)
	for path, body := range map[string]string{"/v1/metrics": metrics, "/v1/logs": logs} {
		resp, err := http.Post("http://"+ports["otlp-http"]+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		answers.Write(raw)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("OTLP %s: status %d: %s", path, resp.StatusCode, raw)
		}
	}

	base := "http://" + api
	waitFor(t, "the planted gauge and event in promstore", func() bool {
		_, g := instant(t, base, "planted_gauge")
		_, e := instant(t, base, "sum(pulse_events_total)")
		return g && e
	})
	var stored strings.Builder
	get := func(path string) string {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		raw, _ := io.ReadAll(resp.Body)
		stored.Write(raw)
		return string(raw)
	}
	labels := get("/api/v1/labels")
	get("/api/v1/series?" + url.Values{"match[]": {`{__name__=~".+"}`}}.Encode())
	if !strings.Contains(labels, "REDACTED") {
		t.Errorf("the masked attribute key is not a label name: %s", labels)
	}
	c.stop(t)

	var disk strings.Builder
	err := filepath.WalkDir(filepath.Join(c.dir, "data"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasSuffix(p, ".key") || strings.HasSuffix(p, ".token") {
			return nil
		}
		b, err := os.ReadFile(p)
		disk.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(disk.String(), "planted_gauge") {
		t.Fatal("the planted gauge is not in the files under data/: the check would prove nothing")
	}
	for what, text := range map[string]string{"the store's API": stored.String(), "the files on disk": disk.String(),
		"the collector's output": c.out.String(), "an answer": answers.String()} {
		if leaks := plantedpii.Leaks(text); len(leaks) > 0 {
			t.Errorf("planted PII in %s: %q", what, leaks)
		}
		if strings.Contains(text, "4915123632299") {
			t.Errorf("the percent-encoded phone number is in %s", what)
		}
		// An attribute key becomes a label name with '.' and '@' as '_'.
		if strings.Contains(text, "ada_lovelace") {
			t.Errorf("the e-mail address of an attribute key is in %s, as a label name", what)
		}
	}
}
