package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pulse-otel/pulse/testbed/internal/poll"
	"github.com/pulse-otel/pulse/testbed/internal/proc"
)

// prometheusBinary finds Debian's prometheus, or skips (fails under
// CI=true) when it is not installed.
func prometheusBinary(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("prometheus is not installed; .ci/run installs Debian's prometheus package")
		}
		t.Skip("prometheus is not installed (apt-get install prometheus)")
	}
	return bin
}

// startPrometheus runs Debian's prometheus with the remote-write receiver
// on loopback, or skips (fails under CI=true) when it is not installed.
func startPrometheus(t *testing.T) string {
	t.Helper()
	bin := prometheusBinary(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	proc.StartReady(t, proc.Spec{Name: "prometheus", Path: bin, Args: []string{
		"--config.file=" + cfg, "--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr, "--web.enable-remote-write-receiver",
	}}, 15*time.Second, proc.HTTPReady("http://"+addr+"/-/ready"))
	return addr
}

// vector runs an instant query and returns "labels value" lines, sorted.
func vector(t *testing.T, api, query string) []string {
	t.Helper()
	var out []string
	for _, s := range samples(t, api, query) {
		keys := make([]string, 0, len(s.metric))
		for k := range s.metric {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "%s=%q,", k, s.metric[k])
		}
		fmt.Fprintf(&b, " %s", strconv.FormatFloat(s.value, 'f', -1, 64))
		out = append(out, b.String())
	}
	sort.Strings(out)
	return out
}

// TestSameSeriesInPromstoreAndPrometheus sends the same events through
// promstore and, with the upstream remote-write exporter, into a real
// Prometheus, and compares what both answer for the catalog's metrics.
func TestSameSeriesInPromstoreAndPrometheus(t *testing.T) {
	prom := startPrometheus(t)
	api := freePort(t)
	c := startCollectorWith(t, &sink{}, func(c *collector, _ string) string {
		writePrivacyKey(t, c.dir)
		return eventPipeline(c, "200ms", fmt.Sprintf(`  promstore:
    endpoint: %s
    directory: ./promstore
  prometheus_remote_write:
    endpoint: http://%s/api/v1/write
    remote_write_queue:
      enabled: false`, api, prom), "promstore", "prometheus_remote_write")
	})
	now := time.Now().UnixMilli()
	var evs []string
	for i := range 30 {
		evs = append(evs, strings.Replace(event(fmt.Sprintf("p-%d", i), now), `"consentLevel":"analytics"`, `"consentLevel":"full"`, 1))
	}
	if status, a := post(t, "http://"+c.events+"/v1/events", "["+strings.Join(evs, ",")+"]"); status != http.StatusOK || a.Accepted != 30 {
		t.Fatalf("status %d: %+v", status, a)
	}
	queries := []string{
		"pulse_events_total",
		"pulse_interactions_total",
		"pulse_users_active",
		"pulse_event_timeliness_seconds_bucket",
		"pulse_quality_fields_total",
	}
	waitFor(t, "both stores to hold the 30 events", func() bool {
		a := vector(t, "http://"+api, "sum(pulse_events_total)")
		b := vector(t, "http://"+prom, "sum(pulse_events_total)")
		return len(a) == 1 && len(b) == 1 && strings.HasSuffix(a[0], " 30") && strings.HasSuffix(b[0], " 30")
	})
	// Both stores receive every export; compare until they agree (bounded),
	// then report the differences if they never do.
	diff := func() []string {
		var out []string
		for _, q := range queries {
			got, want := vector(t, "http://"+api, q), vector(t, "http://"+prom, q)
			switch {
			case len(want) == 0:
				out = append(out, q+": Prometheus has no series")
			case strings.Join(got, "\n") != strings.Join(want, "\n"):
				out = append(out, fmt.Sprintf("%s differs:\npromstore:\n  %s\nprometheus:\n  %s", q, strings.Join(got, "\n  "), strings.Join(want, "\n  ")))
			}
		}
		return out
	}
	if !poll.Wait(10*time.Second, 200*time.Millisecond, func() bool { return len(diff()) == 0 }) {
		t.Error("promstore and Prometheus never agreed in 10s")
		for _, e := range diff() {
			t.Error(e)
		}
	}
	c.stop(t)
}
