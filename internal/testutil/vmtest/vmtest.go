// Package vmtest runs Debian's VictoriaMetrics binaries for tests: the
// single-node victoria-metrics store and vmalert, each as a process on a
// free loopback port with its data in t.TempDir(), stopped by the PID it
// was started with when the test ends. The tests compare what Pulse's KPIs
// and alerts do on a real VictoriaMetrics with Prometheus, so a fake would
// prove nothing. Without the binaries the tests skip, except under CI=true,
// where .ci/run has installed them and a skip would hide a failure.
package vmtest // import "github.com/pulse-otel/pulse/internal/testutil/vmtest"

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pulse-otel/pulse/internal/testutil"
)

// StoreFlags are the flags docs/stores.md runs victoria-metrics with,
// besides -storageDataPath and -httpListenAddr: samples are visible to
// queries 1 s after they are written (the default -search.latencyOffset
// of 30 s hides the newest samples, longer than Pulse's freshness), and a
// long retention so that tests may write samples from days ago.
var StoreFlags = []string{"-search.latencyOffset=1s", "-retentionPeriod=1y"}

// Binary returns the path of a VictoriaMetrics binary (victoria-metrics,
// vmalert), or skips the test when it is not installed; under CI=true it
// fails instead.
func Binary(t testing.TB, name string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		msg := name + " is not installed (Debian package victoria-metrics; .ci/run installs it)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return bin
}

// Store is a running victoria-metrics. Remote write goes to
// URL/api/v1/write, queries to URL/api/v1/query.
type Store struct {
	*Process
}

// StartStore runs victoria-metrics with StoreFlags and then args (a later
// flag wins), its data in a temporary directory.
func StartStore(t testing.TB, args ...string) *Store {
	t.Helper()
	bin := Binary(t, "victoria-metrics")
	dir := t.TempDir()
	p := Run(t, bin, func(addr string, attempt int) []string {
		a := []string{"-storageDataPath=" + filepath.Join(dir, fmt.Sprintf("data%d", attempt)), "-httpListenAddr=" + addr}
		a = append(a, StoreFlags...)
		return append(a, args...)
	})
	return &Store{Process: p}
}

// Flush makes every sample written so far searchable
// (/internal/force_flush), so a test need not wait for VictoriaMetrics'
// in-memory buffers (about 1 s) before it queries.
func (s *Store) Flush(t testing.TB) {
	t.Helper()
	resp, err := http.Get(s.URL + "/internal/force_flush")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("force_flush: %s", resp.Status)
	}
}

// Alert is a running vmalert: URL/-/reload, URL/api/v1/rules,
// URL/metrics.
type Alert struct {
	// Notified counts the alert notifications vmalert sent to the
	// receiver StartAlert gave it.
	Notified func() int
	*Process
}

// StartAlert runs vmalert reading rules (a -rule glob such as DIR/*.yaml),
// querying datasource and writing recording rules and alert state to it,
// with an in-test Alertmanager stand-in as its notifier (vmalert 1.79 has
// no -notifier.blackhole), and then args.
func StartAlert(t testing.TB, rules, datasource string, args ...string) *Alert {
	t.Helper()
	bin := Binary(t, "vmalert")
	var mu sync.Mutex
	n := 0
	am := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
	}))
	t.Cleanup(am.Close)
	p := Run(t, bin, func(addr string, _ int) []string {
		a := []string{
			"-rule=" + rules, "-datasource.url=" + datasource, "-remoteWrite.url=" + datasource,
			"-notifier.url=" + am.URL, "-httpListenAddr=" + addr,
		}
		return append(a, args...)
	})
	return &Alert{Process: p, Notified: func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}}
}

// Process is one started binary.
type Process struct {
	// URL is its base URL, http://ADDR, ADDR the address its args were
	// given.
	URL  string
	name string
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{}
	once sync.Once
}

// Log returns what the process wrote so far.
func (p *Process) Log() string { return p.logs.String() }

// PID is the process id it was started with.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Stop ends the process (SIGTERM, SIGKILL after 5 s); safe to call twice.
func (p *Process) Stop() {
	p.once.Do(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
}

// Run runs bin with args(addr, attempt), addr a free loopback address
// host:port it must listen on, until its /health answers, and stops it
// when t ends. It tries another address (attempt 1, 2) when the process
// exits first: the port was taken between FreeAddr and the listen. Any
// VictoriaMetrics binary serves /health.
func Run(t testing.TB, bin string, args func(addr string, attempt int) []string) *Process {
	t.Helper()
	name := filepath.Base(bin)
	var last string
	for attempt := range 3 {
		addr := testutil.FreeAddr(t)
		p := &Process{name: name, URL: "http://" + addr, logs: &syncBuffer{}, done: make(chan struct{})}
		p.cmd = exec.Command(bin, args(addr, attempt)...)
		p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { _ = p.cmd.Wait(); close(p.done) }()
		t.Cleanup(func() {
			p.Stop()
			if t.Failed() {
				l := p.Log()
				if len(l) > 8<<10 {
					l = "…" + l[len(l)-8<<10:]
				}
				t.Logf("%s log (end):\n%s", name, l)
			}
		})
		if p.ready(30 * time.Second) {
			return p
		}
		p.Stop()
		last = p.Log()
	}
	t.Fatalf("%s did not start:\n%s", name, last)
	return nil
}

// ready polls /health until it answers 200, the process exits or limit
// passes.
func (p *Process) ready(limit time.Duration) bool {
	c := &http.Client{Timeout: time.Second}
	for end := time.Now().Add(limit); time.Now().Before(end); {
		select {
		case <-p.done:
			return false
		default:
		}
		if resp, err := c.Get(p.URL + "/health"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// syncBuffer is a bytes.Buffer safe for the process' writes and the
// test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
