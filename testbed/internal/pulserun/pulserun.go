// Package pulserun starts the built otelcol-pulse the way `make run` does,
// for benchmarks and browser tests that need the whole distribution: the
// shipped config/pulse.yaml with every endpoint moved to a free loopback
// port, the secrets `make run` creates, and the alerts and dashboards
// compiled by bin/pulsectl into the run directory's data/.
//
// It exists so that each testbed program does not carry its own copy of
// "rewrite the shipped config": the text replacements fail loudly when the
// shipped file no longer holds what they replace.
package pulserun // import "github.com/pulse-otel/pulse/testbed/internal/pulserun"

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulse-otel/pulse/internal/testutil"
	"github.com/pulse-otel/pulse/testbed/internal/proc"
)

// Options says what to run.
type Options struct {
	// Root is the repository's root (config/, bin/); "../.." when empty,
	// which is right for a package two levels down (testbed/x).
	Root string
	// Bin is the collector; $PULSE_BIN, else Root/bin/otelcol-pulse.
	Bin string
	// Dir is the working directory, whose data/ the shipped ./data paths
	// name; t.TempDir() when empty.
	Dir string
	// Debug keeps the debug exporter in the pipelines (left out by
	// default: at load it prints a line per batch).
	Debug bool
	// Edit, when set, makes last changes to the config text.
	Edit func(cfg string) string
	// Env is added to the collector's environment.
	Env []string
}

// Pulse is a running collector and its addresses (host:port).
type Pulse struct {
	// Dir is the working directory; Config the config file written there.
	Dir, Config string
	// Events is the analytics receiver, API promstore's query API (and the
	// live page), OTLPHTTP and OTLPGRPC the otlp receiver, Forget the
	// forget extension, Health the health check, Telemetry the
	// collector's own metrics.
	Events, API, OTLPHTTP, OTLPGRPC, Forget, Health, Telemetry string
	// Proc is the process; Restart replaces it.
	Proc *proc.Process

	bin string
	env []string
	out *proc.Buffer
}

// endpoints are the shipped config's listeners, in the order of Pulse's
// fields they fill.
var endpoints = []string{"localhost:4320", "localhost:9090", "localhost:4318", "localhost:4317", "localhost:4321", "localhost:13133", "port: 8888"}

// Start prepares the run directory, starts the collector and waits until
// its health check and query API answer. The process is stopped when the
// test ends.
func Start(t testing.TB, o Options) *Pulse {
	t.Helper()
	if o.Root == "" {
		o.Root = filepath.Join("..", "..")
	}
	if o.Bin == "" {
		o.Bin = os.Getenv("PULSE_BIN")
	}
	if o.Bin == "" {
		o.Bin = filepath.Join(o.Root, "bin", "otelcol-pulse")
	}
	bin, err := filepath.Abs(o.Bin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s: %v (run make build, or set PULSE_BIN)", bin, err)
	}
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	p := &Pulse{Dir: o.Dir, bin: bin, env: o.Env, out: new(proc.Buffer)}
	prepareData(t, o)

	raw, err := os.ReadFile(filepath.Join(o.Root, "config", "pulse.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(raw)
	addrs := make([]string, len(endpoints))
	for i, from := range endpoints {
		if !strings.Contains(cfg, from) {
			t.Fatalf("config/pulse.yaml no longer has %q; update testbed/internal/pulserun", from)
		}
		addrs[i] = testutil.FreeAddr(t)
		to := addrs[i]
		if from == "port: 8888" {
			_, port, _ := net.SplitHostPort(to)
			to = "port: " + port
		}
		cfg = strings.ReplaceAll(cfg, from, to)
	}
	cfg = strings.ReplaceAll(cfg, "host: localhost", "host: 127.0.0.1")
	// promstore's telemetry scrape follows the telemetry port.
	cfg = strings.ReplaceAll(cfg, "endpoint: localhost:8888", "endpoint: "+addrs[6])
	if !o.Debug {
		cfg = strings.ReplaceAll(cfg, ", debug]", "]")
	}
	if o.Edit != nil {
		cfg = o.Edit(cfg)
	}
	p.Events, p.API, p.OTLPHTTP, p.OTLPGRPC, p.Forget, p.Health, p.Telemetry = addrs[0], addrs[1], addrs[2], addrs[3], addrs[4], addrs[5], addrs[6]
	p.Config = filepath.Join(o.Dir, "pulse.yaml")
	if err := os.WriteFile(p.Config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p.start(t)
	return p
}

// prepareData writes what `make run` creates under data/: the secrets and
// the compiled alerts and dashboards.
func prepareData(t testing.TB, o Options) {
	t.Helper()
	data := filepath.Join(o.Dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"privacy.key", "forget.key", "admin.token"} {
		path := filepath.Join(data, f)
		if _, err := os.Stat(path); err == nil {
			continue // a restart on the same directory keeps its secrets
		}
		if err := os.WriteFile(path, []byte("pulserun-"+f+"-0123456789abcdef0123456789abcdef"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	pulsectl := filepath.Join(filepath.Dir(o.Bin), "pulsectl")
	for _, args := range [][]string{
		{"rules", "compile", "--out", filepath.Join(data, "alerts"), filepath.Join(o.Root, "config", "alerts")},
		{"dashboards", "compile", "--out", filepath.Join(data, "dashboards"), filepath.Join(o.Root, "config", "dashboards")},
		{"retention", "compile", "--out", filepath.Join(data, "retention"), filepath.Join(o.Root, "config", "retention")},
	} {
		if out, err := exec.Command(pulsectl, args...).CombinedOutput(); err != nil {
			t.Fatalf("pulsectl %s: %v\n%s", strings.Join(args[:2], " "), err, out)
		}
	}
}

func (p *Pulse) start(t testing.TB) {
	t.Helper()
	p.Proc = proc.StartReady(t, proc.Spec{
		Name: "otelcol-pulse", Path: p.bin, Args: []string{"--config", p.Config},
		Dir: p.Dir, Env: p.env, Output: p.out,
	}, 2*time.Minute, func() bool {
		return proc.HTTPReady("http://"+p.Health+"/")() && proc.HTTPReady("http://"+p.API+"/-/ready")()
	})
}

// Stop stops the collector (SIGTERM, then SIGKILL after grace).
func (p *Pulse) Stop(t testing.TB, grace time.Duration) {
	t.Helper()
	if err := p.Proc.Stop(grace); err != nil {
		t.Fatalf("otelcol-pulse stop: %v", err)
	}
}

// Restart starts the collector again on the same directory and ports after
// Stop or Proc.Kill.
func (p *Pulse) Restart(t testing.TB) {
	t.Helper()
	p.start(t)
}

// URL is the http URL of addr with path.
func URL(addr, path string) string { return fmt.Sprintf("http://%s%s", addr, path) }
