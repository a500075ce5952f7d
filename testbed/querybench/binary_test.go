package querybench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulse-otel/pulse/testbed/internal/procstat"
	"github.com/pulse-otel/pulse/testbed/internal/promquery"
	"github.com/pulse-otel/pulse/testbed/internal/pulserun"
	"github.com/pulse-otel/pulse/testbed/loadgen"
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

// loadIngest is loadgen's events into the built binary. Its "append"
// latencies are the event requests' answer times (with wait_for_export an
// answer means stored), "visible" the freshness probes': every 500 ms the
// events handed to the network so far are noted, and the store is polled
// until sum(pulse_events_total) has counted them (the fill's series carry
// job="shop" and are left out).
type loadIngest struct {
	api      string
	httpc    *http.Client
	progress loadgen.Progress
	base     float64   // the store's count before the load
	from     time.Time // probes sent before are not kept (the warm-up)

	mu     sync.Mutex
	seen   []time.Duration
	stats  loadgen.Stats
	runErr error
}

const loadQuery = `sum(pulse_events_total{job!="shop"})`

// startLoad starts the load; stop ends it and waits for its answers and
// probes, after which take holds everything measured.
func startLoad(t *testing.T, p *pulserun.Pulse, httpc *http.Client, rate int, from time.Time) (in *loadIngest, stop func()) {
	t.Helper()
	in = &loadIngest{api: "http://" + p.API, httpc: httpc, from: from}
	in.base, _ = in.count()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		st, err := loadgen.Run(ctx, loadgen.Config{URL: "http://" + p.Events, Rate: rate, Batch: 100, Workers: 64,
			Users: 20000, Sessions: 50000, PIIShare: 0.1, RecommendationShare: 0.1, Snapshots: time.Second, Retry: true, Seed: 1}, 0, &in.progress)
		in.mu.Lock()
		in.stats, in.runErr = st, err
		in.mu.Unlock()
	}()
	go func() {
		defer wg.Done()
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		var probes sync.WaitGroup
		defer probes.Wait()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			at, n := time.Now(), in.progress.Started.Load()
			probes.Add(1)
			go func() {
				defer probes.Done()
				in.probe(at, float64(n))
			}()
		}
	}()
	return in, func() { cancel(); wg.Wait() }
}

// count is the store's event count less the fill's.
func (in *loadIngest) count() (float64, bool) {
	v, found, err := promquery.Instant(in.httpc, in.api, loadQuery)
	return v, found && err == nil
}

// probe waits (at most 10 s) until the store has counted n events.
func (in *loadIngest) probe(at time.Time, n float64) {
	for time.Since(at) < 10*time.Second {
		if c, ok := in.count(); ok && c-in.base >= n {
			in.keep(at, time.Since(at))
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	in.keep(at, 10*time.Second)
}

func (in *loadIngest) keep(at time.Time, d time.Duration) {
	if at.Before(in.from) {
		return
	}
	in.mu.Lock()
	in.seen = append(in.seen, d)
	in.mu.Unlock()
}

// take returns what the load measured; call it after stop.
func (in *loadIngest) take() ingestStats {
	in.mu.Lock()
	defer in.mu.Unlock()
	return ingestStats{appends: in.stats.Latency, seen: in.seen, errs: int(in.stats.Failed), firstErr: in.runErr}
}

// summary is what loadgen sent and what was answered.
func (in *loadIngest) summary(t *testing.T) {
	t.Helper()
	in.mu.Lock()
	defer in.mu.Unlock()
	st := in.stats
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
