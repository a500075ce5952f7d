package scalerig

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pulse-otel/pulse/internal/testutil"
	"github.com/pulse-otel/pulse/testbed/internal/proc"
)

// Single is one Pulse with config/remote-write.yaml writing to the rig's
// store: the single-machine setup the tiers are compared with.
type Single struct {
	// Events is the analytics receiver, Health the health check (host:port).
	Events, Health string
	Dir            string
	Out            *proc.Buffer
	P              *proc.Process
}

// CPU is the process's user+system time so far.
func (s *Single) CPU() time.Duration { return CPU(s.P.Pid()) }

// singleEndpoints are config/remote-write.yaml's fixed listeners, each
// replaced by a free loopback address.
var singleEndpoints = []string{
	"endpoint: localhost:4320", "endpoint: localhost:13133", "endpoint: localhost:4321",
	"endpoint: localhost:4317", "endpoint: localhost:4318", "port: 8888",
}

// StartSingle runs config/remote-write.yaml as shipped, but for its
// listeners (free ports), the debug exporter (left out: at load it prints
// a line per batch) and the store (the rig's, through
// PULSE_REMOTE_WRITE_URL), with the rig's secrets; data under its own
// directory. It is stopped when the test ends.
func (r *Rig) StartSingle() *Single {
	t := r.t
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(r.root, "config", "remote-write.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, addrs, err := singleConfig(string(raw), func() string { return testutil.FreeAddr(t) })
	if err != nil {
		t.Fatal(err)
	}
	s := &Single{Events: addrs[0], Health: addrs[1], Dir: t.TempDir(), Out: new(proc.Buffer)}
	path := filepath.Join(s.Dir, "remote-write.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(s.Dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	s.P = proc.StartReady(t, proc.Spec{
		Name: "otelcol-pulse (remote-write.yaml)", Path: r.bin, Args: []string{"--config", path},
		Dir: s.Dir, Env: append([]string{"PULSE_REMOTE_WRITE_URL=" + r.RemoteWriteURL()}, r.Secrets...), Output: s.Out,
	}, time.Minute, proc.HTTPReady("http://"+s.Health+"/"))
	return s
}

// singleConfig moves config/remote-write.yaml's listeners (raw) to the
// addresses free returns and leaves the debug exporter out. It returns
// the config and the addresses in singleEndpoints' order, or an error
// naming the text the shipped file no longer holds.
func singleConfig(raw string, free func() string) (string, []string, error) {
	cfg := raw
	addrs := make([]string, len(singleEndpoints))
	for _, from := range append(slices.Clone(singleEndpoints), "host: localhost", ", debug]") {
		if !strings.Contains(cfg, from) {
			return "", nil, fmt.Errorf("config/remote-write.yaml no longer has %q; update testbed/internal/scalerig", from)
		}
	}
	for i, from := range singleEndpoints {
		addrs[i] = free()
		to := "endpoint: " + addrs[i]
		if from == "port: 8888" {
			_, port, _ := net.SplitHostPort(addrs[i])
			to = "port: " + port
		}
		cfg = strings.ReplaceAll(cfg, from, to)
	}
	cfg = strings.ReplaceAll(cfg, "host: localhost", "host: 127.0.0.1")
	cfg = strings.ReplaceAll(cfg, ", debug]", "]")
	return cfg, addrs, nil
}
