package e2e

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pulse-otel/pulse/testbed/internal/proc"
	"github.com/pulse-otel/pulse/testbed/loadgen"
)

// roRig is a collector home (config, privacy key, ./promstore) that a
// collector running as another user can use: root ignores permission bits,
// so as root the collector runs as nobody and the home belongs to nobody,
// under a world-traversable directory (t.TempDir's parents are 0700).
type roRig struct {
	bin, dir, store     string
	api, events, health string
	nobody              bool
	modes               map[string]fs.FileMode // before readOnly
}

const nobodyID = 65534

func newRORig(t *testing.T) *roRig {
	t.Helper()
	base, err := os.MkdirTemp("", "pulse-readonly-")
	if err != nil {
		t.Fatal(err)
	}
	r := &roRig{dir: filepath.Join(base, "collector"), api: freePort(t), events: freePort(t), health: freePort(t),
		nobody: os.Geteuid() == 0, modes: map[string]fs.FileMode{}}
	r.store = filepath.Join(r.dir, "promstore")
	t.Cleanup(func() {
		r.writable(t)
		_ = os.RemoveAll(base)
	})
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(r.dir, 0o750); err != nil {
		t.Fatal(err)
	}
	c := &collector{events: r.events, health: r.health}
	writePrivacyKey(t, r.dir)
	if err := os.WriteFile(filepath.Join(r.dir, "config.yaml"), []byte(promstorePipeline(c, r.api)), 0o600); err != nil {
		t.Fatal(err)
	}
	r.bin = binary(t)
	if r.nobody {
		// The binary may live where nobody cannot reach it (a clone under
		// /root): run a copy from the world-traversable base.
		r.bin = filepath.Join(base, "otelcol-pulse")
		if err := copyFile(binary(t), r.bin, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{r.dir, filepath.Join(r.dir, "privacy.key"), filepath.Join(r.dir, "config.yaml")} {
			if err := os.Chown(p, nobodyID, nobodyID); err != nil {
				t.Fatal(err)
			}
		}
	}
	return r
}

// launch starts a collector in the rig and waits up to wait for health. It
// returns an error when the process exited first (the collector is then
// stopped) or is still not healthy (still running: the caller decides).
func (r *roRig) launch(t *testing.T, wait time.Duration) (*collector, error) {
	t.Helper()
	c := &collector{dir: r.dir, out: new(proc.Buffer), events: r.events, health: r.health}
	spec := proc.Spec{Name: "collector", Path: r.bin, Args: []string{"--config", filepath.Join(r.dir, "config.yaml")}, Dir: r.dir, Output: c.out}
	if r.nobody {
		spec.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobodyID, Gid: nobodyID}}
	}
	c.p = proc.StartTest(t, spec)
	return c, c.p.WaitReady(wait, func() bool { return healthy(r.health) })
}

func copyFile(from, to string, mode fs.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}

// healthy reports whether the health check at addr answers 200 within 2 s.
func healthy(addr string) bool { return proc.HTTPReady("http://" + addr + "/")() }

// halt stops c with SIGTERM, or SIGKILL after 20 s, and returns how it ended.
func halt(c *collector) error { return c.p.Stop(20 * time.Second) }

// readOnly is `chmod -R a-w` on the promstore directory, remembering the
// modes for writable.
func (r *roRig) readOnly(t *testing.T) (files, dirs int) {
	t.Helper()
	err := filepath.WalkDir(r.store, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink != 0 {
			return nil // gone meanwhile: the TSDB deletes files too
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if _, seen := r.modes[p]; !seen {
			r.modes[p] = info.Mode().Perm()
		}
		if os.Chmod(p, info.Mode().Perm()&^0o222) == nil {
			if d.IsDir() {
				dirs++
			} else {
				files++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, dirs
}

// writable restores the modes readOnly changed.
func (r *roRig) writable(t *testing.T) {
	t.Helper()
	for p, m := range r.modes {
		if err := os.Chmod(p, m); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("restoring %s: %v", p, err)
		}
	}
	clear(r.modes)
}

// storeTree lists the promstore directory (path, mode, size) for the log.
func (r *roRig) storeTree() string {
	var b strings.Builder
	_ = filepath.WalkDir(r.store, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if info, err := d.Info(); err == nil {
			rel, _ := filepath.Rel(r.store, p)
			fmt.Fprintf(&b, "  %s %s %d\n", info.Mode(), rel, info.Size())
		}
		return nil
	})
	return b.String()
}

// problemLines are the collector's warnings and errors.
func problemLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		ll := strings.ToLower(l)
		if strings.Contains(l, "\terror\t") || strings.Contains(l, "\twarn\t") || strings.Contains(ll, "permission denied") ||
			strings.Contains(ll, "read-only") || strings.Contains(ll, "not writable") {
			lines = append(lines, l)
		}
	}
	return lines
}

func logLines(t *testing.T, what string, lines []string) {
	t.Helper()
	const most = 15
	t.Logf("%s: %d warning/error lines", what, len(lines))
	for i, l := range lines {
		if i == most {
			t.Logf("  ... %d more", len(lines)-most)
			break
		}
		t.Logf("  %s", l)
	}
}

// TestPromstoreDirectoryReadOnly makes the promstore directory tree
// read-only (chmod -R a-w) for 10 s under 1,000 events/s: nothing
// acknowledged may be lost, and the collector must carry on once the
// permissions are back. A collector started on a read-only store must
// fail loudly, naming the directory; with the permissions back it must
// find every stored event again.
//
// The window (2 s to 12 s after start) misses the TSDB's first m-map of
// head chunks, which creates chunks_head/NNNNNN on the first or second
// once-a-minute tick after the TSDB opens: a read-only window that covers
// that tick panics the collector (Prometheus' handleChunkWriteError), with
// nothing acknowledged lost. Once the file exists, writes go to the open
// WAL segment and head chunk file, and a read-only window is harmless
// until the TSDB needs a new file (a 128 MiB segment or chunk file full,
// a head compaction or a WAL checkpoint every 2 h).
func TestPromstoreDirectoryReadOnly(t *testing.T) {
	r := newRORig(t)
	t.Logf("store %s, collector running as %s", r.store, map[bool]string{true: "nobody (the test runs as root)", false: "the test's user"}[r.nobody])
	c, err := r.launch(t, 60*time.Second)
	if err != nil {
		t.Fatalf("collector: %v\n%s", err, c.out.String())
	}

	// 1. Read-only for 10 s under load.
	loadStart := time.Now()
	prog, stopLoad := startLoad(t, loadgen.Config{
		URL: "http://" + r.events, Rate: 1000, Batch: 50, Users: 500, Sessions: 2000, PIIShare: 0.1, Workers: 16, Seed: 13,
	}, 60*time.Second)

	// Acknowledged count and health every 20 ms while the load runs.
	type sample struct {
		at      time.Time
		acked   int64
		healthy bool
	}
	var (
		samplesMu sync.Mutex
		samples   []sample
	)
	sampleDone := make(chan struct{})
	samplerDone := make(chan struct{})
	go func() {
		defer close(samplerDone)
		for {
			s := sample{at: time.Now(), acked: prog.Accepted.Load(), healthy: healthy(r.health)}
			samplesMu.Lock()
			samples = append(samples, s)
			samplesMu.Unlock()
			select {
			case <-sampleDone:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	stopSampler := sync.OnceFunc(func() { close(sampleDone); <-samplerDone })
	defer stopSampler()

	time.Sleep(2 * time.Second)
	ackedBefore := prog.Accepted.Load()
	roAt := time.Now()
	files, dirs := r.readOnly(t)
	t.Logf("read-only at %s: %d files, %d directories:\n%s", roAt.Sub(loadStart).Round(time.Millisecond), files, dirs, r.storeTree())
	time.Sleep(10 * time.Second)
	ackedRO := prog.Accepted.Load()
	restoreAt := time.Now()
	r.writable(t)
	time.Sleep(3 * time.Second)
	st := stopLoad()
	stopAt := time.Now()
	stopSampler()
	ackedAfter := st.Accepted - ackedRO

	// The longest time without a new acknowledgement, and whether the
	// collector was ever unhealthy.
	var stallFrom, stallTo time.Time
	var unhealthy int
	var firstAckAfterRestore time.Time
	for i := 1; i < len(samples); i++ {
		s := samples[i]
		if !s.healthy {
			unhealthy++
		}
		if firstAckAfterRestore.IsZero() && s.at.After(restoreAt) && s.acked > samples[i-1].acked {
			firstAckAfterRestore = s.at
		}
	}
	last := 0
	for i := 1; i < len(samples); i++ {
		if samples[i].acked > samples[last].acked || i == len(samples)-1 {
			if samples[last].acked > 0 && samples[i].at.Sub(samples[last].at) > stallTo.Sub(stallFrom) {
				stallFrom, stallTo = samples[last].at, samples[i].at
			}
			last = i
		}
	}
	rel := func(at time.Time) string { return at.Sub(roAt).Round(time.Millisecond).String() }
	t.Logf("acknowledged: %d in the 2 s before (%.0f/s), %d in the 10 s read-only (%.0f/s), %d in the %s after (%.0f/s)",
		ackedBefore, float64(ackedBefore)/roAt.Sub(loadStart).Seconds(),
		ackedRO-ackedBefore, float64(ackedRO-ackedBefore)/restoreAt.Sub(roAt).Seconds(),
		ackedAfter, stopAt.Sub(restoreAt).Round(time.Millisecond), float64(ackedAfter)/stopAt.Sub(restoreAt).Seconds())
	t.Logf("longest time without a new acknowledgement: %s (from %s to %s, relative to read-only); first acknowledgement %s after the permissions were restored; health check failed in %d of %d samples",
		stallTo.Sub(stallFrom).Round(time.Millisecond), rel(stallFrom), rel(stallTo),
		firstAckAfterRestore.Sub(restoreAt).Round(time.Millisecond), unhealthy, len(samples))
	t.Logf("load: sent %d events in %d requests over %s; acknowledged %d, rejected %d, failed requests %d, statuses %v (503: %d), with Retry-After %d",
		st.Sent, st.Requests, st.Elapsed.Round(time.Millisecond), st.Accepted, st.Rejected, st.Failed, st.Status,
		st.Status[http.StatusServiceUnavailable], st.RetryAfter)
	logLines(t, "collector log during the load", problemLines(c.out.String()))
	if !healthy(r.health) {
		t.Errorf("collector not healthy after the read-only period")
	}

	// Nothing is aggregated any more after two flushes (500 ms).
	time.Sleep(1500 * time.Millisecond)
	stored := storedAcrossRestarts(t, "http://"+r.api, nil)
	t.Logf("sent %d, acknowledged %d, stored %d: %d stored but not acknowledged, %d counted beyond what was sent",
		st.Sent, st.Accepted, stored, max(stored-st.Accepted, 0), max(stored-st.Sent, 0))
	if st.Accepted <= ackedRO {
		t.Errorf("no event acknowledged after the permissions were restored (%d before, %d in all)", ackedRO, st.Accepted)
	}
	if stored < st.Accepted {
		t.Errorf("LOST ACKNOWLEDGED EVENTS: %d acknowledged, only %d stored (%d missing)", st.Accepted, stored, st.Accepted-stored)
	}
	if stored > st.Sent {
		t.Errorf("COUNTED MORE THAN SENT: %d sent, %d stored (%d extra)", st.Sent, stored, stored-st.Sent)
	}
	if err := halt(c); err != nil {
		t.Fatalf("graceful stop after the read-only period: %v\n%s", err, c.out.String())
	}

	// 2. A collector on a read-only store must refuse to start, and say why.
	files, dirs = r.readOnly(t)
	t.Logf("store read-only again for a new collector: %d files, %d directories:\n%s", files, dirs, r.storeTree())
	start2 := time.Now()
	c2, err := r.launch(t, 20*time.Second)
	took := time.Since(start2)
	if err == nil {
		// A finding: see what it does with data it cannot store.
		status, a := post(t, "http://"+r.events+"/v1/events", "["+event("ro-start-1", time.Now().UnixMilli())+"]")
		t.Errorf("STARTED ON A READ-ONLY STORE: healthy after %s; an event posted to it got %d %+v", took.Round(time.Millisecond), status, a)
	} else {
		t.Logf("collector on the read-only store: %v after %s", err, took.Round(time.Millisecond))
	}
	if herr := halt(c2); herr != nil && err == nil {
		t.Logf("stopping it: %v", herr)
	}
	out2 := c2.out.String()
	logLines(t, "collector log on the read-only store", problemLines(out2))
	lower := strings.ToLower(out2)
	if !strings.Contains(out2, r.store) || !regexp.MustCompile(`permission denied|not writable|read-only`).MatchString(lower) {
		t.Errorf("the collector on a read-only store must say that %s is not writable (permission denied); it said:\n%s", r.store, out2)
	}

	// 3. Writable again: everything stored before is there, new events go in.
	r.writable(t)
	start3 := time.Now()
	c3, err := r.launch(t, 60*time.Second)
	if err != nil {
		t.Fatalf("collector with the permissions restored: %v\n%s", err, c3.out.String())
	}
	t.Logf("with the permissions restored the collector is healthy after %s", time.Since(start3).Round(time.Millisecond))
	restarts := []time.Time{start2, start3}
	per := storedPerProcess(t, "http://"+r.api, restarts)
	t.Logf("stored per process after the restart: %v", per)
	if per[0] != stored {
		t.Errorf("stored before the restart %d, found %d after it", stored, per[0])
	}
	if per[1] != 0 {
		t.Errorf("the collector on the read-only store stored %d events", per[1])
	}
	now := time.Now().UnixMilli()
	var evs []string
	for i := range 40 {
		evs = append(evs, event(fmt.Sprintf("after-ro-%d", i), now))
	}
	if status, a := post(t, "http://"+r.events+"/v1/events", "["+strings.Join(evs, ",")+"]"); status != http.StatusOK || a.Accepted != 40 {
		t.Fatalf("new events after the restart: status %d: %+v", status, a)
	}
	waitFor(t, "the 40 new events stored", func() bool { return storedPerProcess(t, "http://"+r.api, restarts)[2] == 40 })
	logLines(t, "collector log after the restart", problemLines(c3.out.String()))
	if err := halt(c3); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
}
