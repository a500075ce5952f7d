package scalerig

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulse-otel/pulse/internal/testutil"
	"github.com/pulse-otel/pulse/internal/testutil/kafkatest"
	"github.com/pulse-otel/pulse/internal/testutil/vmtest"
	"github.com/pulse-otel/pulse/testbed/internal/proc"
	"github.com/pulse-otel/pulse/testbed/internal/procstat"
)

// Role is which shipped config a process runs.
type Role string

const (
	// Gateway runs config/scale-out/gateway.yaml.
	Gateway Role = "gateway"
	// Aggregator runs config/scale-out/aggregator.yaml (a shard).
	Aggregator Role = "aggregator"
)

// EventsTopic is the topic the gateways write and the shards read.
const EventsTopic = "pulse-events"

// DefaultPartitions is EventsTopic's partition count unless Options says
// otherwise: more than the 4 shards the end-to-end test runs at most, so
// every shard owns some, and a multiple of 1, 2 and 3 shards.
const DefaultPartitions = 6

// Options says what to run.
type Options struct {
	// Root is the repository's root (config/, bin/); "../.." when empty,
	// right for a package two levels down (testbed/x).
	Root string
	// Bin is the collector; $PULSE_BIN, else Root/bin/otelcol-pulse.
	Bin string
	// Partitions is EventsTopic's partition count; DefaultPartitions when 0.
	Partitions int
	// SecretsDir holds privacy.key, forget.key and admin.token, which
	// every gateway (and the single Pulse) must share; a temporary
	// directory with new secrets when empty.
	SecretsDir string
	// VMArgs are added to victoria-metrics' flags (vmtest.StoreFlags and
	// -search.disableCache come first).
	VMArgs []string
	// Env is added to every gateway's and shard's environment, after the
	// rig's own (a later entry wins).
	Env []string
	// GatewaySet and ShardSet are collector --set flags (key.path=value)
	// for gateways and shards, for settings the shipped files do not read
	// from the environment.
	GatewaySet, ShardSet []string
}

// Rig is a running broker and store, and the collectors started on them.
type Rig struct {
	t    testing.TB
	bin  string
	root string
	opts Options

	// Kafka is the broker; VM the store (remote write to VM.URL+"/api/v1/write").
	Kafka *kafkatest.Broker
	VM    *vmtest.Store
	// Token is the forget API's admin token; Secrets the environment that
	// points a collector at the shared secret files.
	Token   string
	Secrets []string
	// Gateways and Shards are the processes AddGateway and AddShard
	// started, in order (stopped ones included).
	Gateways, Shards []*Proc
	// Procs is every collector prepared, for artifacts.
	Procs []*Proc
}

// Proc is one collector of the scale-out tiers, restartable with the
// same environment and ports.
type Proc struct {
	Name   string
	Role   Role
	Config string
	Dir    string
	Env    []string
	Args   []string
	Out    *proc.Buffer
	P      *proc.Process
	// Events, Forget, Health and Telemetry are its listeners (host:port);
	// Events and Forget only for gateways.
	Events, Forget, Health, Telemetry string
}

// Start runs the broker (EventsTopic with o.Partitions partitions; the
// forget extension and the connector create their compacted topics, as
// on a real cluster, and the forget extension refuses one that is not)
// and the store. Everything is stopped when t ends.
func Start(t testing.TB, o Options) *Rig {
	t.Helper()
	if o.Root == "" {
		o.Root = filepath.Join("..", "..")
	}
	root, err := filepath.Abs(o.Root)
	if err != nil {
		t.Fatal(err)
	}
	if o.Partitions == 0 {
		o.Partitions = DefaultPartitions
	}
	r := &Rig{t: t, root: root, opts: o, bin: Binary(t, o)}
	r.Kafka = kafkatest.Start(t, o.Partitions, EventsTopic)
	// -search.disableCache: answers computed from the data at each query,
	// so that two reads a few seconds apart never see a cached past.
	r.VM = vmtest.StartStore(t, append([]string{"-search.disableCache", "-loggerLevel=WARN"}, o.VMArgs...)...)
	r.secrets()
	return r
}

// Binary is the collector o names ($PULSE_BIN, else Root/bin/otelcol-pulse);
// the test fails when it is missing.
func Binary(t testing.TB, o Options) string {
	t.Helper()
	bin := o.Bin
	if bin == "" {
		bin = os.Getenv("PULSE_BIN")
	}
	if bin == "" {
		root := o.Root
		if root == "" {
			root = filepath.Join("..", "..")
		}
		bin = filepath.Join(root, "bin", "otelcol-pulse")
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(abs); err != nil {
		t.Fatalf("%s: %v (run make build, or set PULSE_BIN)", abs, err)
	}
	return abs
}

// secrets writes (or reads) the shared secret files.
func (r *Rig) secrets() {
	t := r.t
	dir := r.opts.SecretsDir
	if dir == "" {
		dir = t.TempDir()
		for _, f := range []string{"privacy.key", "forget.key", "admin.token"} {
			if err := os.WriteFile(filepath.Join(dir, f), []byte("scalerig-"+f+"-0123456789abcdef0123456789abcdef"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	tok, err := os.ReadFile(filepath.Join(dir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	r.Token = strings.TrimSpace(string(tok))
	r.Secrets = []string{
		"PULSE_PRIVACY_KEY_FILE=" + filepath.Join(dir, "privacy.key"),
		"PULSE_FORGET_KEY_FILE=" + filepath.Join(dir, "forget.key"),
		"PULSE_ADMIN_TOKEN_FILE=" + filepath.Join(dir, "admin.token"),
	}
}

// RemoteWriteURL is the store's remote-write endpoint.
func (r *Rig) RemoteWriteURL() string { return r.VM.URL + "/api/v1/write" }

// NewProc prepares gateway or shard number n (not started): the shipped
// config, its own directory, free ports, the rig's secrets, Options.Env
// and the role's --set flags.
func (r *Rig) NewProc(role Role, n int) *Proc {
	t := r.t
	p := &Proc{
		Name: fmt.Sprintf("%s-%d", role, n), Role: role,
		Config: filepath.Join(r.root, "config", "scale-out", string(role)+".yaml"),
		Dir:    t.TempDir(), Out: new(proc.Buffer),
		Health: testutil.FreeAddr(t), Telemetry: testutil.FreeAddr(t),
	}
	if _, err := os.Stat(p.Config); err != nil {
		t.Fatal(err)
	}
	_, telPort, _ := net.SplitHostPort(p.Telemetry)
	p.Env = append([]string{
		"PULSE_KAFKA_BROKERS=" + r.Kafka.Addr,
		"PULSE_REMOTE_WRITE_URL=" + r.RemoteWriteURL(),
		"PULSE_HEALTH_ENDPOINT=" + p.Health,
		"PULSE_TELEMETRY_HOST=127.0.0.1",
		"PULSE_TELEMETRY_PORT=" + telPort,
		// kfake closes the connection on the newest ApiVersions request.
		"PULSE_KAFKA_PROTOCOL_VERSION=2.3.0",
		// One userkey group per partition (docs/scale-out.md).
		fmt.Sprintf("PULSE_USER_KEYS=%d", r.opts.Partitions),
		fmt.Sprintf("PULSE_EVENTS_PARTITIONS=%d", r.opts.Partitions),
	}, r.Secrets...)
	sets := r.opts.ShardSet
	if role == Gateway {
		p.Events, p.Forget = testutil.FreeAddr(t), testutil.FreeAddr(t)
		p.Env = append(p.Env,
			"PULSE_GATEWAY_ENDPOINT="+p.Events,
			"PULSE_FORGET_ENDPOINT="+p.Forget,
			"PULSE_OTLP_GRPC_ENDPOINT="+testutil.FreeAddr(t),
			"PULSE_OTLP_HTTP_ENDPOINT="+testutil.FreeAddr(t))
		sets = r.opts.GatewaySet
	}
	p.Env = append(p.Env, r.opts.Env...)
	p.Args = []string{"--config", p.Config}
	for _, s := range sets {
		p.Args = append(p.Args, "--set="+s)
	}
	r.Procs = append(r.Procs, p)
	return p
}

// Run starts p (again, after Stop or Kill) and waits up to a minute for
// its health check: its receivers and Kafka clients are started by then.
func (r *Rig) Run(p *Proc) {
	r.t.Helper()
	fmt.Fprintf(p.Out, "=== start %s\n", time.Now().UTC().Format(time.RFC3339Nano))
	p.P = proc.StartReady(r.t, proc.Spec{
		Name: p.Name, Path: r.bin, Args: p.Args, Dir: p.Dir, Env: p.Env, Output: p.Out,
	}, time.Minute, proc.HTTPReady("http://"+p.Health+"/"))
}

// AddGateway starts the next gateway.
func (r *Rig) AddGateway() *Proc {
	p := r.NewProc(Gateway, len(r.Gateways))
	r.Run(p)
	r.Gateways = append(r.Gateways, p)
	return p
}

// AddShard starts the next aggregator shard.
func (r *Rig) AddShard() *Proc {
	p := r.NewProc(Aggregator, len(r.Shards))
	r.Run(p)
	r.Shards = append(r.Shards, p)
	return p
}

// Stop ends p with SIGTERM and fails the test unless it exits cleanly
// within 30 s.
func (r *Rig) Stop(p *Proc) {
	r.t.Helper()
	fmt.Fprintf(p.Out, "=== SIGTERM %s\n", time.Now().UTC().Format(time.RFC3339Nano))
	if err := p.P.Stop(30 * time.Second); err != nil {
		r.t.Fatalf("%s: %v", p.Name, err)
	}
}

// Kill ends p with SIGKILL.
func (r *Rig) Kill(p *Proc) {
	fmt.Fprintf(p.Out, "=== SIGKILL %s\n", time.Now().UTC().Format(time.RFC3339Nano))
	p.P.Kill()
}

// CPU is p's user+system time so far (0 once it has exited).
func (p *Proc) CPU() time.Duration {
	if p.P == nil {
		return 0
	}
	cpu, _ := procstat.Read(p.P.Pid())
	return cpu
}

// Forget asks the forget API at addr (host:port) to forget user, with
// the rig's admin token; an answer other than 2xx is an error carrying
// the status, not the body (which could echo the id).
func (r *Rig) Forget(ctx context.Context, c *http.Client, addr, user string) error {
	body := fmt.Sprintf(`{"userId":%q}`, user)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/v1/forget", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+r.Token)
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("forget through %s: %w", addr, err)
	}
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("forget through %s: status %d", addr, resp.StatusCode)
	}
	return nil
}

// WriteArtifacts copies every collector's output and the store's log to
// dir as scaleout-<name>.log.
func (r *Rig) WriteArtifacts(dir string) {
	write := func(name, s string) {
		path := filepath.Join(dir, "scaleout-"+name+".log")
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			r.t.Logf("artifact %s: %v", path, err)
		}
	}
	for _, p := range r.Procs {
		write(p.Name, p.Out.String())
	}
	if r.VM != nil {
		write("victoria-metrics", r.VM.Log())
	}
}
