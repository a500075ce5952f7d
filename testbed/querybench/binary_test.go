package querybench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ingestload "github.com/pulse-otel/pulse/testbed/internal/ingest"
	"github.com/pulse-otel/pulse/testbed/internal/procstat"
	"github.com/pulse-otel/pulse/testbed/internal/pulserun"
)

// The binary mode of TestDashboardViewers (QUERYBENCH_BIN=1): the fill and
// the recording rules' backfill are written into the run directory's
// data/promstore, then the built otelcol-pulse starts there with the
// shipped config/pulse.yaml (testbed/internal/pulserun) and
// testbed/loadgen posts seed-shaped events at QUERYBENCH_RATE (10,000/s) to
// its analytics receiver while the viewers query its API: the whole
// pipeline (receiver, privacy, connector, promstore, the shipped rules)
// under the viewers' load, not simulated exports.

// binaryDir is where the binary mode's collector runs; its promstore
// directory is data/promstore below it, as config/pulse.yaml says.
func binaryDir(t *testing.T) (dir, store string) {
	t.Helper()
	dir = t.TempDir()
	return dir, filepath.Join(dir, "data", "promstore")
}

// loadIngest is loadgen's events into the built binary
// (testbed/internal/ingest). Its "append" latencies are the event
// requests' answer times (with wait_for_export an answer means stored),
// "visible" the freshness probes' send-to-queryable times (the fill's
// series carry job="shop" and are not counted).
type loadIngest struct {
	l    *ingestload.Load
	from time.Time // probes sent before are not kept (the warm-up)
}

const loadQuery = `sum(pulse_events_total{job!="shop"})`

// startLoad starts the load; stop ends it and waits for its answers and
// probes, after which take holds everything measured.
func startLoad(t *testing.T, p *pulserun.Pulse, httpc *http.Client, rate int, from time.Time) (in *loadIngest, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := ingestload.Start(ctx, ingestload.SeedShaped("http://"+p.Events, rate), "http://"+p.API, loadQuery, httpc)
	return &loadIngest{l: l, from: from}, func() { cancel(); l.Wait() }
}

// take returns what the load measured; call it after stop.
func (in *loadIngest) take() ingestStats {
	st, err := in.l.Stats()
	return ingestStats{appends: st.Latency, seen: in.l.Freshness(in.from, time.Now()), errs: int(st.Failed), firstErr: err}
}

// summary is what loadgen sent and what was answered.
func (in *loadIngest) summary(t *testing.T) {
	t.Helper()
	st, _ := in.l.Stats()
	t.Logf("load: sent %d events, accepted %d, rejected %d, %d requests, %d failed, statuses %v, %.0f events/s",
		st.Sent, st.Accepted, st.Rejected, st.Requests, st.Failed, st.Status, float64(st.Accepted)/st.Elapsed.Seconds())
}

// cpuMeter logs the CPU the collector and this process (viewers and load
// generator) used between laps, in cores.
type cpuMeter struct {
	pid        int
	at         time.Time
	coll, self time.Duration
}

func newCPUMeter(pid int) *cpuMeter {
	m := &cpuMeter{pid: pid}
	m.read()
	return m
}

func (m *cpuMeter) read() (coll, self time.Duration, at time.Time) {
	prevColl, prevSelf, prevAt := m.coll, m.self, m.at
	m.coll, _ = procstat.Read(m.pid)
	m.self, _ = procstat.Read(os.Getpid())
	m.at = time.Now()
	return m.coll - prevColl, m.self - prevSelf, prevAt
}

func (m *cpuMeter) lap(t *testing.T, phase string) {
	t.Helper()
	coll, self, since := m.read()
	wall := time.Since(since).Seconds()
	t.Logf("CPU %s: collector %.2f cores, viewers and load generator %.2f cores (over %.0f s)", phase, coll.Seconds()/wall, self.Seconds()/wall, wall)
}

// pprofEdit adds the pprof extension on addr to a config (QUERYBENCH_PPROF).
func pprofEdit(addr string) func(string) string {
	return func(cfg string) string {
		cfg = strings.Replace(cfg, "\nextensions:\n", "\nextensions:\n  pprof:\n    endpoint: "+addr+"\n", 1)
		return strings.Replace(cfg, "  extensions: [", "  extensions: [pprof, ", 1)
	}
}

// fetchProfile writes a CPU profile of d seconds from the pprof endpoint.
func fetchProfile(t *testing.T, addr string, d time.Duration, path string) {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, int(d.Seconds())))
	if err != nil {
		t.Logf("profile: %v", err)
		return
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err == nil {
		err = os.WriteFile(path, b, 0o600)
	}
	t.Logf("profile %s: %v", path, err)
}
