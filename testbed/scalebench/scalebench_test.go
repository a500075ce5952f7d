package scalebench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulse-otel/pulse/internal/testutil"
	"github.com/pulse-otel/pulse/testbed/internal/ingest"
	"github.com/pulse-otel/pulse/testbed/internal/knob"
	"github.com/pulse-otel/pulse/testbed/internal/promquery"
	"github.com/pulse-otel/pulse/testbed/internal/scalerig"
	"github.com/pulse-otel/pulse/testbed/loadgen"
)

// settings are the benchmark's knobs (SCALEBENCH_*).
type settings struct {
	rounds, workers, usersPerPartition int
	warmup, window, keepUp, catchUpMax time.Duration
	shards                             []int
}

func readSettings(t *testing.T) settings {
	t.Helper()
	s := settings{
		rounds:            knob.Int(t, "SCALEBENCH_ROUNDS", 3),
		workers:           knob.Int(t, "SCALEBENCH_WORKERS", 1024),
		usersPerPartition: knob.Int(t, "SCALEBENCH_USERS_PER_PARTITION", 20000),
		warmup:            knob.Duration(t, "SCALEBENCH_WARMUP", 5*time.Second),
		window:            knob.Duration(t, "SCALEBENCH_WINDOW", 20*time.Second),
		keepUp:            knob.Duration(t, "SCALEBENCH_KEEPUP", 5*time.Second),
		catchUpMax:        knob.Duration(t, "SCALEBENCH_CATCHUP_MAX", 2*time.Minute),
	}
	for _, f := range strings.Split(knob.String("SCALEBENCH_SHARDS", "1,2,3"), ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > scalerig.DefaultPartitions {
			t.Fatalf("SCALEBENCH_SHARDS: %q is not a shard count from 1 to %d", f, scalerig.DefaultPartitions)
		}
		s.shards = append(s.shards, n)
	}
	if s.rounds < 1 || s.workers < 1 || s.window <= 0 {
		t.Fatalf("SCALEBENCH_ROUNDS (%d), SCALEBENCH_WORKERS (%d) and SCALEBENCH_WINDOW (%s) must be positive", s.rounds, s.workers, s.window)
	}
	return s
}

// setup is one system measured: shards 0 is the single Pulse.
type setup struct{ shards int }

func (s setup) String() string {
	if s.shards == 0 {
		return "one Pulse (config/remote-write.yaml)"
	}
	return fmt.Sprintf("1 gateway, Kafka, %d shard%s", s.shards, map[bool]string{true: "s"}[s.shards > 1])
}

// Process classes whose CPU is reported; pulse marks Pulse's own.
var classes = []struct {
	name  string
	pulse bool
}{{"single Pulse", true}, {"gateway", true}, {"shards", true}, {"kfake", false}, {"victoria-metrics", false}, {"loadgen", false}}

// TestScaleOutThroughput runs SCALEBENCH_ROUNDS rounds of: the single
// Pulse, then 1 gateway with 1, 2, 3 shards (SCALEBENCH_SHARDS), each on a
// fresh broker and store. Every setup gets testbed/loadgen's seed-shaped
// JSON (ingest.SeedShaped: requests of 100 events, 20,000 users) from
// SCALEBENCH_WORKERS concurrent clients, as many as the answers allow.
// After SCALEBENCH_WARMUP it measures SCALEBENCH_WINDOW: events
// acknowledged, events the store counted (sum(pulse_events_total)), and
// each process's CPU time. After the load it waits until the store has
// counted every acknowledged event (the catch-up). It fails when an
// acknowledged event is never counted. SCALEBENCH_PPROF_DIR=DIR adds the
// pprof extension to the gateway and shards (by --set) and saves their
// CPU profiles over each setup's first window there.
func TestScaleOutThroughput(t *testing.T) {
	if os.Getenv("SCALEBENCH") != "1" {
		t.Skip("SCALEBENCH=1 runs the scale-out throughput benchmark (minutes, and the whole machine)")
	}
	k := readSettings(t)
	setups := []setup{{0}}
	for _, n := range k.shards {
		setups = append(setups, setup{n})
	}
	start := time.Now()
	runs := map[setup][]result{}
	var loads []string
	for round := 1; round <= k.rounds; round++ {
		for _, s := range setups {
			la := loadAverage()
			loads = append(loads, la)
			t.Run(fmt.Sprintf("round%d/%dshards", round, s.shards), func(t *testing.T) {
				res := measureSetup(t, k, s)
				res.loadAvg = la
				t.Logf("%s: %s", s, res.line())
				runs[s] = append(runs[s], res)
			})
		}
	}
	report := render(k, setups, runs, loads, time.Since(start))
	t.Log("\n" + report)
	if out := os.Getenv("SCALEBENCH_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(report), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// result is one setup's measured run.
type result struct {
	rate            int     // the paced rate, 0 for the closed loop
	acked, stored   float64 // events/s over the window
	cpu             map[string]float64
	catchUp         time.Duration
	ackedAll, lost  int64
	closed          *result // the closed loop's run, when this one is paced
	loadAvg, status string
}

func (r result) pulseCores() (c float64) {
	for _, cl := range classes {
		if cl.pulse {
			c += r.cpu[cl.name]
		}
	}
	return c
}

func (r result) allCores() (c float64) {
	for _, cl := range classes {
		c += r.cpu[cl.name]
	}
	return c
}

// perShard lists each shard's cores.
func (r result) perShard() string {
	var out []string
	for i := 0; ; i++ {
		v, ok := r.cpu[fmt.Sprintf("shard %d", i)]
		if !ok {
			break
		}
		out = append(out, fmt.Sprintf("%.2f", v))
	}
	if len(out) == 0 {
		return "—"
	}
	return strings.Join(out, ", ")
}

// usPerEvent is the CPU µs per acknowledged event of class name.
func (r result) usPerEvent(name string) float64 { return r.cpu[name] / r.acked * 1e6 }

func (r result) line() string {
	s := fmt.Sprintf("%.0f events/s acknowledged, %.0f counted/s, catch-up %s, Pulse %.2f cores, all %.2f cores, %s",
		r.acked, r.stored, r.catchUp.Round(10*time.Millisecond), r.pulseCores(), r.allCores(), r.status)
	if r.closed != nil {
		s += fmt.Sprintf(" (paced at %d/s; closed loop: %s)", r.rate, r.closed.line())
	}
	return s
}

// measureSetup starts s on a fresh broker and store and measures it.
func measureSetup(t *testing.T, k settings, s setup) result {
	t.Helper()
	r := scalerig.Start(t, scalerig.Options{
		Partitions: scalerig.DefaultPartitions,
		Env:        []string{fmt.Sprintf("PULSE_USERS_PER_PARTITION=%d", k.usersPerPartition)},
	})
	if dir := os.Getenv("PULSE_ARTIFACTS"); dir != "" {
		t.Cleanup(func() { r.WriteArtifacts(dir) })
	}
	cpu := map[string]func() time.Duration{
		"kfake":            pidCPU(r.KafkaPID()),
		"victoria-metrics": pidCPU(r.VM.PID()),
		"loadgen":          pidCPU(os.Getpid()),
	}
	var target string
	var profiles []profile
	if s.shards == 0 {
		single := r.StartSingle()
		target, cpu["single Pulse"] = single.Events, single.CPU
	} else {
		profDir := os.Getenv("SCALEBENCH_PPROF_DIR")
		gw := r.NewProc(scalerig.Gateway, 0)
		r.Gateways = append(r.Gateways, gw)
		for i := range s.shards {
			r.Shards = append(r.Shards, r.NewProc(scalerig.Aggregator, i))
		}
		for _, p := range append([]*scalerig.Proc{gw}, r.Shards...) {
			if profDir != "" {
				addr := testutil.FreeAddr(t)
				p.Args = append(p.Args, withPprof(p.Role, addr)...)
				profiles = append(profiles, profile{name: fmt.Sprintf("%dshards-%s", s.shards, p.Name), addr: addr})
			}
			r.Run(p)
		}
		t.Logf("started: kfake, victoria-metrics, 1 gateway, %d shards", s.shards)
		target, cpu["gateway"] = gw.Events, gw.CPU
		cpu["shards"] = func() (d time.Duration) {
			for _, p := range r.Shards {
				d += p.CPU()
			}
			return d
		}
		for i, p := range r.Shards {
			cpu[fmt.Sprintf("shard %d", i)] = p.CPU
		}
	}
	m := &meter{t: t, r: r, k: k, cpu: cpu, target: target, httpc: &http.Client{Timeout: 10 * time.Second}, profiles: profiles}
	res := m.phase(0)
	if s.shards == 0 || res.catchUp <= k.keepUp {
		return res
	}
	// The shards fell behind the gateway's closed loop: pace the load at
	// what they counted meanwhile, on the same processes.
	rate := int(res.stored) / 100 * 100
	if rate <= 0 {
		t.Fatalf("%s: the store counted nothing during the closed loop", s)
	}
	paced := m.phase(rate)
	paced.closed = &res
	return paced
}

func pidCPU(pid int) func() time.Duration {
	return func() time.Duration { return scalerig.CPU(pid) }
}

// meter runs load phases against one setup.
type meter struct {
	t      *testing.T
	r      *scalerig.Rig
	k      settings
	cpu    map[string]func() time.Duration
	target string
	httpc  *http.Client
	// profiles are taken over the window of the first phase
	// (SCALEBENCH_PPROF_DIR).
	profiles []profile
}

// profile is a collector whose CPU profile is taken.
type profile struct{ name, addr string }

// withPprof are the --set flags that add the pprof extension on addr to
// a shipped config (whose extension lists they repeat).
func withPprof(role scalerig.Role, addr string) []string {
	list := "[health_check,pprof]"
	if role == scalerig.Gateway {
		list = "[health_check,bearertokenauth/admin,forget,pprof]"
	}
	return []string{"--set=extensions.pprof.endpoint=" + addr, "--set=service.extensions=" + list}
}

// takeProfiles saves a CPU profile of every profiled collector over the
// next d into SCALEBENCH_PPROF_DIR, in the background; wait returns once
// they are written.
func (m *meter) takeProfiles(d time.Duration) (wait func()) {
	dir := os.Getenv("SCALEBENCH_PPROF_DIR")
	var wg sync.WaitGroup
	for _, p := range m.profiles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: d + 30*time.Second}
			resp, err := c.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", p.addr, int(d.Seconds())))
			if err != nil {
				m.t.Logf("profile of %s: %v", p.name, err)
				return
			}
			defer func() { _ = resp.Body.Close() }()
			b, err := io.ReadAll(resp.Body)
			if err == nil {
				err = os.WriteFile(filepath.Join(dir, p.name+".pb.gz"), b, 0o644)
			}
			if err != nil {
				m.t.Logf("profile of %s: %v", p.name, err)
			}
		}()
	}
	m.profiles = nil // the first phase only
	return wg.Wait
}

// count is the store's sum(pulse_events_total) after a flush of its
// buffers.
func (m *meter) count() float64 {
	m.t.Helper()
	m.r.VM.Flush(m.t)
	v, _, err := promquery.Instant(m.httpc, m.r.VM.URL, "sum(pulse_events_total)")
	if err != nil {
		m.t.Fatal(err)
	}
	return v
}

func (m *meter) cpuNow() map[string]time.Duration {
	out := map[string]time.Duration{}
	for k, f := range m.cpu {
		out[k] = f()
	}
	return out
}

// phase sends the load (rate 0: closed loop) for the warm-up and the
// window, stops it, and waits for the store to catch up.
func (m *meter) phase(rate int) result {
	t, k := m.t, m.k
	base := m.count()
	cfg := ingest.SeedShaped("http://"+m.target, rate)
	cfg.Workers = k.workers
	// A 503 is counted, not retried: a retry would outlive the window.
	cfg.Retry = false
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	prog := new(loadgen.Progress)
	done := make(chan loadgen.Stats, 1)
	go func() {
		st, err := loadgen.Run(ctx, cfg, 0, prog)
		if err != nil {
			st.Failed = -1
		}
		done <- st
	}()
	t.Logf("load at %s (0: closed loop), %d clients", rateText(rate), k.workers)
	time.Sleep(k.warmup)
	t0, a0, s0, c0 := time.Now(), prog.Accepted.Load(), m.count(), m.cpuNow()
	profiled := m.takeProfiles(k.window - time.Second)
	time.Sleep(k.window)
	t1, a1, s1, c1 := time.Now(), prog.Accepted.Load(), m.count(), m.cpuNow()
	cancel()
	profiled()
	st := <-done
	if st.Failed < 0 {
		t.Fatal("loadgen refused its config")
	}
	stopped := time.Now()
	t.Logf("load stopped: %d events acknowledged, %s", st.Accepted, fmt.Sprint(st.Status))
	wall := t1.Sub(t0).Seconds()
	res := result{rate: rate, acked: float64(a1-a0) / wall, stored: (s1 - s0) / wall, cpu: map[string]float64{}, ackedAll: st.Accepted}
	for name := range m.cpu {
		res.cpu[name] = (c1[name] - c0[name]).Seconds() / wall
	}
	res.status = fmt.Sprintf("statuses %v, %d failed, %d retried", st.Status, st.Failed, st.Retried)
	if st.Accepted == 0 {
		t.Fatalf("nothing acknowledged: %s", res.status)
	}
	var got float64
	for {
		got = m.count() - base
		if got >= float64(st.Accepted) || time.Since(stopped) > k.catchUpMax {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	res.catchUp = time.Since(stopped)
	res.lost = st.Accepted - int64(got)
	if res.lost > 0 {
		t.Errorf("%d of %d acknowledged events not counted %s after the load", res.lost, st.Accepted, k.catchUpMax)
	}
	return res
}

// loadAverage is /proc/loadavg's 1-, 5- and 15-minute averages.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// median returns the run with the median acknowledged rate.
func median(rs []result) result {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b result) int {
		switch {
		case a.acked < b.acked:
			return -1
		case a.acked > b.acked:
			return 1
		}
		return 0
	})
	return s[len(s)/2]
}

// render writes the report's markdown: the table of median runs and the
// ratios against the single Pulse.
func render(k settings, setups []setup, runs map[setup][]result, loads []string, took time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Machine: %d cores (%s), %s, %s. Command: `SCALEBENCH=1 go test -run TestScaleOutThroughput -v -timeout 60m ./testbed/scalebench/`, %s in all.\n\n",
		runtime.NumCPU(), runtime.GOARCH, runtime.Version(), time.Now().UTC().Format("2006-01-02 15:04 MST"), took.Round(time.Second))
	fmt.Fprintf(&b, "Load average (1, 5, 15 min) before each setup: %s.\n\n", strings.Join(loads, "; "))
	fmt.Fprintf(&b, "Median of %d rounds (the run with the median acknowledged rate); %s warm-up, %s window; %d concurrent clients; `PULSE_USERS_PER_PARTITION=%d`; %d partitions in pulse-events, userkey `keys` and `partitions` both %d (one record per partition and request).\n\n",
		k.rounds, k.warmup, k.window, k.workers, k.usersPerPartition, scalerig.DefaultPartitions, scalerig.DefaultPartitions)
	b.WriteString("| setup | load | acknowledged events/s | counted events/s | catch-up | CPU cores: Pulse | of which gateway / shards | each shard | kfake | victoria-metrics | loadgen | all | CPU µs per event: gateway / shards | events/s per Pulse core | events/s per core, all | every round's events/s |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	var single result
	for i, s := range setups {
		if len(runs[s]) == 0 {
			continue
		}
		m := median(runs[s])
		if i == 0 {
			single = m
		}
		load := "closed loop"
		if m.closed != nil {
			load = fmt.Sprintf("paced at %d/s (closed loop: %.0f acknowledged, %.0f counted/s, catch-up %s)", m.rate, m.closed.acked, m.closed.stored, m.closed.catchUp.Round(100*time.Millisecond))
		}
		split, us := "—", fmt.Sprintf("%.1f (one process)", m.usPerEvent("single Pulse"))
		if s.shards > 0 {
			split = fmt.Sprintf("%.2f / %.2f", m.cpu["gateway"], m.cpu["shards"])
			us = fmt.Sprintf("%.1f / %.1f", m.usPerEvent("gateway"), m.usPerEvent("shards"))
		}
		var every []string
		for _, r := range runs[s] {
			every = append(every, fmt.Sprintf("%.0f", r.acked))
		}
		fmt.Fprintf(&b, "| %s | %s | %.0f | %.0f | %s | %.2f | %s | %s | %.2f | %.2f | %.2f | %.2f | %s | %.0f | %.0f | %s |\n",
			s, load, m.acked, m.stored, m.catchUp.Round(100*time.Millisecond), m.pulseCores(), split, m.perShard(),
			m.cpu["kfake"], m.cpu["victoria-metrics"], m.cpu["loadgen"], m.allCores(), us,
			m.acked/m.pulseCores(), m.acked/m.allCores(), strings.Join(every, ", "))
	}
	b.WriteString("\nAnswers in the median runs (the whole run, warm-up and window; a 429 is the receiver's pushback and is not retried here):\n\n")
	for _, s := range setups {
		if len(runs[s]) > 0 {
			fmt.Fprintf(&b, "- %s: %s\n", s, median(runs[s]).status)
		}
	}
	b.WriteString("\nRatios against one Pulse (medians):\n\n")
	for _, s := range setups[1:] {
		if len(runs[s]) == 0 || len(runs[setups[0]]) == 0 {
			continue
		}
		m := median(runs[s])
		fmt.Fprintf(&b, "- %s: %.2f× the events/s, %.2f× the events/s per Pulse core, %.2f× per core of everything\n",
			s, m.acked/single.acked, (m.acked/m.pulseCores())/(single.acked/single.pulseCores()), (m.acked/m.allCores())/(single.acked/single.allCores()))
	}
	return b.String()
}

func rateText(rate int) string {
	if rate == 0 {
		return "the closed loop"
	}
	return fmt.Sprintf("%d events/s", rate)
}
