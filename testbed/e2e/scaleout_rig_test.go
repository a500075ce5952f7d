package e2e

import (
	"bytes"
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
	"github.com/pulse-otel/pulse/testbed/internal/pulserun"
)

// The scale-out test's processes: a kfake broker, VictoriaMetrics, the
// gateways and aggregator shards of config/scale-out as shipped (every
// endpoint from the environment, which is why the configs read them so),
// and one reference Pulse with config/pulse.yaml fed the same events.

// scaleOutPartitions is pulse-events' partition count: more than the
// largest shard count (4), so every shard owns some.
const scaleOutPartitions = 6

// soProc is one collector of the scale-out tiers, restartable with the
// same environment and ports.
type soProc struct {
	name   string
	role   string // "gateway" or "aggregator"
	config string
	dir    string
	env    []string
	out    *proc.Buffer
	p      *proc.Process
	// events, forget, health and telemetry are its listeners (host:port);
	// events and forget only for gateways.
	events, forget, health, telemetry string
}

// scaleOutRig is everything TestScaleOut runs.
type scaleOutRig struct {
	t         *testing.T
	bin       string
	kafka     *kafkatest.Broker
	vm        string // VictoriaMetrics' HTTP API, http://host:port
	vmStore   *vmtest.Store
	ref       *pulserun.Pulse
	refAPI    string // the reference's query API, http://host:port
	token     string // the admin token of the forget APIs
	secrets   []string
	gateways  []*soProc
	shards    []*soProc
	artifacts string // $PULSE_ARTIFACTS, or ""
	logs      []*soProc
}

func startScaleOutRig(t *testing.T) *scaleOutRig {
	t.Helper()
	r := &scaleOutRig{t: t, bin: binary(t), artifacts: os.Getenv("PULSE_ARTIFACTS")}
	if r.artifacts != "" {
		if err := os.MkdirAll(r.artifacts, 0o755); err != nil {
			t.Fatal(err)
		}
		// Written last, after every process has been stopped.
		t.Cleanup(r.writeArtifacts)
	}
	// Only the events topic is made here: the forget extension and the
	// connector create theirs compacted, as they would on a real cluster
	// (and the forget extension refuses a topic that is not).
	r.kafka = kafkatest.Start(t, scaleOutPartitions, "pulse-events")
	r.startVM()
	// The reference: the shipped single-process config with promstore.
	r.ref = pulserun.Start(t, pulserun.Options{})
	r.refAPI = "http://" + r.ref.API
	// The gateways use the reference's secrets: the same pseudonyms (so
	// the same sketches' inputs), forget key and admin token.
	data := filepath.Join(r.ref.Dir, "data")
	tok, err := os.ReadFile(filepath.Join(data, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	r.token = strings.TrimSpace(string(tok))
	r.secrets = []string{
		"PULSE_PRIVACY_KEY_FILE=" + filepath.Join(data, "privacy.key"),
		"PULSE_FORGET_KEY_FILE=" + filepath.Join(data, "forget.key"),
		"PULSE_ADMIN_TOKEN_FILE=" + filepath.Join(data, "admin.token"),
	}
	return r
}

// startVM runs Debian's single-node VictoriaMetrics (vmtest: data in the
// test's directory, -search.latencyOffset=1s, as docs/stores.md says).
// -search.disableCache: answers computed from the data at each query, so
// that two comparisons a few seconds apart never see a cached past.
func (r *scaleOutRig) startVM() {
	r.vmStore = vmtest.StartStore(r.t, "-search.disableCache", "-loggerLevel=WARN")
	r.vm = r.vmStore.URL
}

// newProc prepares a gateway or aggregator process of config/scale-out.
func (r *scaleOutRig) newProc(role string, n int) *soProc {
	t := r.t
	cfg, err := filepath.Abs(filepath.Join("..", "..", "config", "scale-out", role+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p := &soProc{
		name: fmt.Sprintf("%s-%d", role, n), role: role, config: cfg, dir: t.TempDir(), out: new(proc.Buffer),
		health: testutil.FreeAddr(t), telemetry: testutil.FreeAddr(t),
	}
	_, telPort, _ := net.SplitHostPort(p.telemetry)
	p.env = append([]string{
		"PULSE_KAFKA_BROKERS=" + r.kafka.Addr,
		"PULSE_REMOTE_WRITE_URL=" + r.vm + "/api/v1/write",
		"PULSE_HEALTH_ENDPOINT=" + p.health,
		"PULSE_TELEMETRY_HOST=127.0.0.1",
		"PULSE_TELEMETRY_PORT=" + telPort,
		// kfake closes the connection on the newest ApiVersions request.
		"PULSE_KAFKA_PROTOCOL_VERSION=2.3.0",
		// One userkey group per partition (docs/scale-out.md).
		fmt.Sprintf("PULSE_USER_KEYS=%d", scaleOutPartitions),
		fmt.Sprintf("PULSE_EVENTS_PARTITIONS=%d", scaleOutPartitions),
	}, r.secrets...)
	if role == "gateway" {
		p.events, p.forget = testutil.FreeAddr(t), testutil.FreeAddr(t)
		p.env = append(p.env,
			"PULSE_GATEWAY_ENDPOINT="+p.events,
			"PULSE_FORGET_ENDPOINT="+p.forget,
			"PULSE_OTLP_GRPC_ENDPOINT="+testutil.FreeAddr(t),
			"PULSE_OTLP_HTTP_ENDPOINT="+testutil.FreeAddr(t))
	}
	r.logs = append(r.logs, p)
	return p
}

// start runs p and waits for its health check (the receivers and the
// Kafka clients are started by then).
func (r *scaleOutRig) start(p *soProc) {
	r.t.Helper()
	fmt.Fprintf(p.out, "=== start %s\n", time.Now().UTC().Format(time.RFC3339Nano))
	p.p = proc.StartReady(r.t, proc.Spec{
		Name: p.name, Path: r.bin, Args: []string{"--config", p.config},
		Dir: p.dir, Env: p.env, Output: p.out,
	}, time.Minute, proc.HTTPReady("http://"+p.health+"/"))
}

func (r *scaleOutRig) addGateway() {
	p := r.newProc("gateway", len(r.gateways))
	r.start(p)
	r.gateways = append(r.gateways, p)
}

func (r *scaleOutRig) addShard() {
	p := r.newProc("aggregator", len(r.shards))
	r.start(p)
	r.shards = append(r.shards, p)
}

// stop ends p with SIGTERM and requires a clean exit within 30 s.
func (r *scaleOutRig) stop(p *soProc) {
	r.t.Helper()
	fmt.Fprintf(p.out, "=== SIGTERM %s\n", time.Now().UTC().Format(time.RFC3339Nano))
	if err := p.p.Stop(30 * time.Second); err != nil {
		r.t.Fatalf("%s: %v", p.name, err)
	}
}

// kill ends p with SIGKILL.
func (r *scaleOutRig) kill(p *soProc) {
	fmt.Fprintf(p.out, "=== SIGKILL %s\n", time.Now().UTC().Format(time.RFC3339Nano))
	p.p.Kill()
}

// forget asks the forget API at addr to forget user.
func (r *scaleOutRig) forget(addr, user string) {
	r.t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/forget", strings.NewReader(fmt.Sprintf(`{"userId":%q}`, user)))
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+r.token)
	resp, err := soClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		r.t.Fatalf("forget through %s: status %d: %s", addr, resp.StatusCode, b.String())
	}
}

// writeArtifacts copies every process's output to $PULSE_ARTIFACTS.
func (r *scaleOutRig) writeArtifacts() {
	for _, p := range r.logs {
		path := filepath.Join(r.artifacts, "scaleout-"+p.name+".log")
		if err := os.WriteFile(path, []byte(p.out.String()), 0o644); err != nil {
			r.t.Logf("artifact %s: %v", path, err)
		}
	}
	if r.vmStore != nil {
		path := filepath.Join(r.artifacts, "scaleout-victoria-metrics.log")
		if err := os.WriteFile(path, []byte(r.vmStore.Log()), 0o644); err != nil {
			r.t.Logf("artifact %s: %v", path, err)
		}
	}
	if r.ref != nil && r.ref.Proc != nil {
		path := filepath.Join(r.artifacts, "scaleout-reference.log")
		if err := os.WriteFile(path, []byte(r.ref.Proc.Output()), 0o644); err != nil {
			r.t.Logf("artifact %s: %v", path, err)
		}
	}
}
