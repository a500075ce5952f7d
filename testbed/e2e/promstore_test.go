package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pulse-otel/pulse/testbed/internal/promquery"
)

// instant runs a PromQL instant query against promstore and returns the
// value of the first sample, or false when there is none.
func instant(t *testing.T, api, query string) (float64, bool) {
	t.Helper()
	v, ok, err := promquery.Instant(http.DefaultClient, api, query)
	return v, ok && err == nil
}

// TestEventsQueryableInPromstore posts events to the built collector with
// the default store and checks that they are queryable through its
// Prometheus API soon after, and still there after a restart.
func TestEventsQueryableInPromstore(t *testing.T) {
	api := freePort(t)
	start := promstoreStarter(t, t.TempDir(), api)
	c := start()
	now := time.Now().UnixMilli()
	var evs []string
	for i := range 40 {
		evs = append(evs, strings.Replace(event(fmt.Sprintf("q-%d", i), now), `"consentLevel":"analytics"`, `"consentLevel":"full"`, 1))
	}
	posted := time.Now()
	if status, a := post(t, "http://"+c.events+"/v1/events", "["+strings.Join(evs, ",")+"]"); status != http.StatusOK || a.Accepted != 40 {
		t.Fatalf("status %d: %+v", status, a)
	}
	base := "http://" + api
	const q = "sum(pulse_events_total)"
	var visible time.Duration
	waitFor(t, "40 events queryable in promstore", func() bool {
		v, ok := instant(t, base, q)
		if ok && v == 40 {
			visible = time.Since(posted)
			return true
		}
		return false
	})
	t.Logf("events queryable %s after they were posted", visible.Round(time.Millisecond))
	if visible > 2*time.Second {
		t.Errorf("events took %s to become queryable; the goal is about 1 s", visible)
	}
	c.stop(t)

	start()
	if v, ok := instant(t, base, q); !ok || v != 40 {
		t.Fatalf("after a restart %s = %v (found %v), want 40", q, v, ok)
	}
}

// TestPromstoreSurvivesSIGKILL kills the collector without warning once the
// events are queryable (committed to the WAL) and checks that a new
// collector on the same directory still answers them.
func TestPromstoreSurvivesSIGKILL(t *testing.T) {
	api := freePort(t)
	start := promstoreStarter(t, t.TempDir(), api)
	c := start()
	now := time.Now().UnixMilli()
	var evs []string
	for i := range 25 {
		evs = append(evs, strings.Replace(event(fmt.Sprintf("k-%d", i), now), `"consentLevel":"analytics"`, `"consentLevel":"full"`, 1))
	}
	if status, a := post(t, "http://"+c.events+"/v1/events", "["+strings.Join(evs, ",")+"]"); status != http.StatusOK || a.Accepted != 25 {
		t.Fatalf("status %d: %+v", status, a)
	}
	base := "http://" + api
	const q = "sum(pulse_events_total)"
	waitFor(t, "25 events queryable", func() bool { v, ok := instant(t, base, q); return ok && v == 25 })
	sigkill(t, c)

	start()
	if v, ok := instant(t, base, q); !ok || v != 25 {
		t.Fatalf("after SIGKILL and restart %s = %v (found %v), want 25", q, v, ok)
	}
}

// promstoreStarter returns a function that starts a collector storing in
// promstore under dir with its API on api: every start reuses the store.
func promstoreStarter(t *testing.T, dir, api string) func() *collector {
	t.Helper()
	return func() *collector {
		return startCollectorWith(t, &sink{}, func(c *collector, _ string) string {
			c.dir = dir
			writePrivacyKey(t, dir)
			return promstorePipeline(c, api)
		})
	}
}

// promstorePipeline is eventPipeline storing in promstore, with the
// flush settings of config/pulse.yaml.
func promstorePipeline(c *collector, api string) string {
	return eventPipeline(c, "500ms", fmt.Sprintf(`  promstore:
    endpoint: %s
    directory: ./promstore`, api), "promstore")
}
