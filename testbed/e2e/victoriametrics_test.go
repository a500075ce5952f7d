package e2e

import (
	"fmt"
	"math"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pulse-otel/pulse/internal/docstest"
	"github.com/pulse-otel/pulse/internal/kpi"
	"github.com/pulse-otel/pulse/internal/testutil/vmtest"
	"github.com/pulse-otel/pulse/testbed/internal/poll"
)

// storesDocExporter returns the first yaml block of docs/stores.md's
// VictoriaMetrics section: the remote-write exporter Pulse writes to
// VictoriaMetrics with.
func storesDocExporter(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../docs/stores.md")
	if err != nil {
		t.Fatal(err)
	}
	sec := docstest.Section(string(b), "## VictoriaMetrics")
	_, block, ok := strings.Cut(sec, "```yaml\n")
	if !ok {
		t.Fatal("docs/stores.md VictoriaMetrics: no yaml block")
	}
	block, _, _ = strings.Cut(block, "```")
	if !strings.HasPrefix(block, "prometheus_remote_write:\n") || !strings.Contains(block, "http://localhost:8428/api/v1/write") {
		t.Fatalf("docs/stores.md VictoriaMetrics yaml block is not the exporter writing to localhost:8428:\n%s", block)
	}
	return block
}

// TestSameSeriesInPromstoreAndVictoriaMetrics runs docs/stores.md's
// exporter block as written (only the endpoint is the test's) next to
// promstore in one collector, into a real victoria-metrics started with
// the documented flags, and compares what both answer: the catalog's
// series and every KPI of the registry at its default window.
func TestSameSeriesInPromstoreAndVictoriaMetrics(t *testing.T) {
	store := vmtest.StartStore(t)
	exporter := strings.ReplaceAll(storesDocExporter(t), "http://localhost:8428", store.URL)
	api := freePort(t)
	c := startCollectorWith(t, &sink{}, func(c *collector, _ string) string {
		writePrivacyKey(t, c.dir)
		var b strings.Builder
		fmt.Fprintf(&b, "  promstore:\n    endpoint: %s\n    directory: ./promstore\n", api)
		for _, l := range strings.Split(strings.TrimRight(exporter, "\n"), "\n") {
			b.WriteString("  " + l + "\n")
		}
		return eventPipeline(c, "200ms", b.String(), "promstore", "prometheus_remote_write")
	})
	now := time.Now().UnixMilli()
	var evs []string
	for i := range 30 {
		evs = append(evs, strings.Replace(event(fmt.Sprintf("v-%d", i), now), `"consentLevel":"analytics"`, `"consentLevel":"full"`, 1))
	}
	if status, a := post(t, "http://"+c.events+"/v1/events", "["+strings.Join(evs, ",")+"]"); status != http.StatusOK || a.Accepted != 30 {
		t.Fatalf("status %d: %+v", status, a)
	}
	type query struct{ name, q string }
	var queries []query
	for _, q := range []string{"pulse_events_total", "pulse_interactions_total", "pulse_users_active", "pulse_event_timeliness_seconds_bucket", "pulse_quality_fields_total"} {
		queries = append(queries, query{q, q})
	}
	for _, k := range kpi.All() {
		q, err := k.Query("")
		if err != nil {
			t.Fatal(err)
		}
		queries = append(queries, query{"kpi " + k.Name, q})
	}
	waitFor(t, "both stores to hold the 30 events", func() bool {
		a := vector(t, "http://"+api, "sum(pulse_events_total)")
		b := vector(t, store.URL, "sum(pulse_events_total)")
		return len(a) == 1 && len(b) == 1 && strings.HasSuffix(a[0], " 30") && strings.HasSuffix(b[0], " 30")
	})
	// VictoriaMetrics keeps about 12 significant digits
	// (docs/stores.md), so values count as equal within 1e-9.
	same := func(a, b []sample) bool {
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if fmt.Sprint(a[i].metric) != fmt.Sprint(b[i].metric) {
				return false
			}
			x, y := a[i].value, b[i].value
			if x != y && !(math.IsNaN(x) && math.IsNaN(y)) && math.Abs(x-y) > 1e-9*math.Max(math.Abs(x), math.Abs(y)) {
				return false
			}
		}
		return true
	}
	diff := func() []string {
		var out []string
		for _, q := range queries {
			if same(samples(t, store.URL, q.q), samples(t, "http://"+api, q.q)) {
				continue
			}
			got, want := vector(t, store.URL, q.q), vector(t, "http://"+api, q.q)
			out = append(out, fmt.Sprintf("%s differs:\nVictoriaMetrics:\n  %s\npromstore:\n  %s", q.name, strings.Join(got, "\n  "), strings.Join(want, "\n  ")))
		}
		return out
	}
	if !poll.Wait(15*time.Second, 200*time.Millisecond, func() bool { return len(diff()) == 0 }) {
		t.Error("promstore and VictoriaMetrics never agreed in 15s")
		for _, e := range diff() {
			t.Error(e)
		}
	}
	nonEmpty := 0
	for _, q := range queries {
		if len(vector(t, "http://"+api, q.q)) > 0 {
			nonEmpty++
		}
	}
	t.Logf("%d of %d queries answered alike on both stores with series", nonEmpty, len(queries))
	c.stop(t)
}

// TestKPIsEqualTheTruthOnVictoriaMetrics is TestKPIsEqualTheTruth with
// VictoriaMetrics as the store: the shipped config/remote-write.yaml, its
// PULSE_REMOTE_WRITE_URL at a real victoria-metrics started with
// docs/stores.md's flags, and the same seeded mix; every KPI of the
// registry must give the truth there too (exact counts exact, HyperLogLog
// uniques within 2 %, ratios within 1 % absolute) and every family of
// docs/metrics.md must be there.
func TestKPIsEqualTheTruthOnVictoriaMetrics(t *testing.T) {
	binary(t)
	store := vmtest.StartStore(t)
	m := newTruthMix(time.Now())
	families := catalogFamilies(t)
	dir := remoteWriteSecrets(t, store.URL)
	ports := map[string]string{"otlp-grpc": freePort(t), "otlp-http": freePort(t), "forget": freePort(t), "telemetry": freePort(t)}
	c := startCollectorWith(t, &sink{}, func(c *collector, sinkAddr string) string {
		c.dir = dir
		return rwShippedConfig(t, c, sinkAddr, ports)
	})
	got := runTruth(t, m, c, ports["otlp-http"], store.URL, families)
	var table strings.Builder
	table.WriteString("| KPI | truth | VictoriaMetrics |\n|---|---|---|\n")
	for _, name := range sortedKeys(m.want) {
		fmt.Fprintf(&table, "| %s | %.6g | %.6g |\n", name, m.want[name], got[name])
	}
	t.Logf("%d KPIs; %d events sent, %d counted\n%s", len(m.want), m.sent(), m.counted, table.String())
}
