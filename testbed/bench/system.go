package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/pulse-otel/pulse/internal/testutil"
	testproc "github.com/pulse-otel/pulse/testbed/internal/proc"
	"github.com/pulse-otel/pulse/testbed/internal/procstat"
	"github.com/pulse-otel/pulse/testbed/internal/promquery"
	"github.com/pulse-otel/pulse/testbed/loadgen"
)

// target is one way of running the load: a system and a protocol.
type target struct {
	name, title string
	protocol    loadgen.Protocol
	start       func(t target) (*system, error)
}

// system is what runs for one measurement.
type system struct {
	// url is the base URL the load goes to.
	url string
	// api is the Prometheus API holding the counts; query sums them.
	api, query string
	// procs are measured; procs[0] is the collector.
	procs []*proc
	dir   string
	// pprof is the pprof extension's base URL when profiling.
	pprof string
}

func (s *system) stop() error {
	var errs []error
	for i := len(s.procs) - 1; i >= 0; i-- {
		errs = append(errs, s.procs[i].stop())
	}
	errs = append(errs, os.RemoveAll(s.dir))
	return errors.Join(errs...)
}

// proc is a started process whose output goes to a log file.
type proc struct {
	name string
	logf string
	p    *testproc.Process
}

func startProc(name, dir string, env []string, bin string, args ...string) (*proc, error) {
	logf := filepath.Join(dir, name+".log")
	p, err := testproc.Start(testproc.Spec{Name: name, Path: bin, Args: args, Dir: dir, Env: env, LogFile: logf})
	if err != nil {
		return nil, err
	}
	return &proc{name: name, logf: logf, p: p}, nil
}

// stop sends SIGTERM and waits up to 30 s, then kills.
func (p *proc) stop() error {
	if err := p.p.Stop(30 * time.Second); err != nil {
		return fmt.Errorf("%w; log: %s", err, p.logf)
	}
	return nil
}

// stats reads CPU time (user+system) and resident memory from /proc.
func (p *proc) stats() (cpu time.Duration, rss int64) { return procstat.Read(p.p.Pid()) }

// waitHTTP polls url until it answers 200, the process exits, or 60 s pass.
func waitHTTP(p *proc, url string) error {
	if err := p.p.WaitReady(60*time.Second, testproc.HTTPReady(url)); err != nil {
		return fmt.Errorf("%w (%s); log: %s", err, url, p.logf)
	}
	return nil
}

func freeAddr() (string, error) { return testutil.PickAddr() }

func secret(path string) error {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(b)), 0o600)
}

// startPulse runs the shipped configuration as `make run` does (secrets and
// compiled alerts under ./data), with its endpoints moved to free loopback
// ports and the debug exporter left out of the pipelines.
func (o options) startPulse(t target) (*system, error) {
	dir, err := os.MkdirTemp("", "pulse-bench-")
	if err != nil {
		return nil, err
	}
	sys := &system{dir: dir, query: "sum(pulse_events_total)"}
	fail := func(err error) (*system, error) { _ = sys.stop(); return nil, err }
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		return fail(err)
	}
	for _, f := range []string{"privacy.key", "forget.key", "admin.token"} {
		if err := secret(filepath.Join(dir, "data", f)); err != nil {
			return fail(err)
		}
	}
	if out, err := exec.Command(o.pulsectl, "rules", "compile", "--out", filepath.Join(dir, "data", "alerts"), o.alerts).CombinedOutput(); err != nil {
		return fail(fmt.Errorf("pulsectl rules compile: %v: %s", err, out))
	}
	// The retention policies config/pulse.yaml enforces, beside config/alerts.
	if out, err := exec.Command(o.pulsectl, "retention", "compile", "--out", filepath.Join(dir, "data", "retention"), filepath.Join(filepath.Dir(o.alerts), "retention")).CombinedOutput(); err != nil {
		return fail(fmt.Errorf("pulsectl retention compile: %v: %s", err, out))
	}
	raw, err := os.ReadFile(o.pulseConfig)
	if err != nil {
		return fail(err)
	}
	cfg := string(raw)
	addrs := map[string]string{}
	for _, from := range []string{"localhost:4320", "localhost:4317", "localhost:4318", "localhost:9090", "localhost:13133", "localhost:4321", "port: 8888"} {
		if !strings.Contains(cfg, from) {
			return fail(fmt.Errorf("%s no longer has %q; update testbed/bench", o.pulseConfig, from))
		}
		a, err := freeAddr()
		if err != nil {
			return fail(err)
		}
		addrs[from] = a
		to := a
		if from == "port: 8888" {
			to = "port: " + a[strings.LastIndexByte(a, ':')+1:]
		}
		cfg = strings.ReplaceAll(cfg, from, to)
	}
	cfg = strings.ReplaceAll(cfg, "host: localhost", "host: 127.0.0.1")
	// promstore's telemetry scrape follows the telemetry port.
	cfg = strings.ReplaceAll(cfg, "endpoint: localhost:8888", "endpoint: "+addrs["port: 8888"])
	if o.profile != "" {
		a, err := freeAddr()
		if err != nil {
			return fail(err)
		}
		sys.pprof = "http://" + a
		cfg = strings.Replace(cfg, "\nextensions:\n", "\nextensions:\n  pprof:\n    endpoint: "+a+"\n", 1)
		cfg = strings.Replace(cfg, "  extensions: [", "  extensions: [pprof, ", 1)
	}
	cfg = strings.ReplaceAll(cfg, ", debug]", "]")
	path := filepath.Join(dir, "pulse.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return fail(err)
	}
	p, err := startProc("otelcol-pulse", dir, nil, o.pulse, "--config", path)
	if err != nil {
		return fail(err)
	}
	sys.procs = append(sys.procs, p)
	if err := waitHTTP(p, "http://"+addrs["localhost:13133"]+"/"); err != nil {
		return fail(err)
	}
	sys.api = "http://" + addrs["localhost:9090"]
	sys.url = "http://" + addrs["localhost:4320"]
	if t.protocol == loadgen.OTLP {
		sys.url = "http://" + addrs["localhost:4318"]
	}
	return sys, nil
}

// startBaseline runs Debian's Prometheus with the remote-write receiver and
// the baseline collector writing to it.
func (o options) startBaseline(target) (*system, error) {
	dir, err := os.MkdirTemp("", "baseline-bench-")
	if err != nil {
		return nil, err
	}
	sys := &system{dir: dir, query: "sum(pulse_events_total)"}
	fail := func(err error) (*system, error) { _ = sys.stop(); return nil, err }
	promAddr, err := freeAddr()
	if err != nil {
		return fail(err)
	}
	promCfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(promCfg, []byte("global:\n  scrape_interval: 15s\n"), 0o600); err != nil {
		return fail(err)
	}
	prom, err := startProc("prometheus", dir, nil, o.prometheus, "--config.file="+promCfg,
		"--storage.tsdb.path="+filepath.Join(dir, "prometheus"), "--web.listen-address="+promAddr,
		"--web.enable-remote-write-receiver")
	if err != nil {
		return fail(err)
	}
	sys.procs = append(sys.procs, prom)
	if err := waitHTTP(prom, "http://"+promAddr+"/-/ready"); err != nil {
		return fail(err)
	}
	otlpAddr, err := freeAddr()
	if err != nil {
		return fail(err)
	}
	health, err := freeAddr()
	if err != nil {
		return fail(err)
	}
	col, err := startProc("otelcol-baseline", dir, []string{
		"BASELINE_OTLP_HTTP=" + otlpAddr, "BASELINE_HEALTH=" + health,
		"BASELINE_REMOTE_WRITE_URL=http://" + promAddr + "/api/v1/write",
	}, o.baseline, "--config", o.baselineConfig)
	if err != nil {
		return fail(err)
	}
	// The collector is measured first: procs[0].
	sys.procs = []*proc{col, prom}
	if err := waitHTTP(col, "http://"+health+"/"); err != nil {
		return fail(err)
	}
	sys.api, sys.url = "http://"+promAddr, "http://"+otlpAddr
	return sys, nil
}

// count runs the system's query; a missing series is 0.
func (s *system) count(c *http.Client) (float64, error) {
	v, _, err := promquery.Instant(c, s.api, s.query)
	return v, err
}
