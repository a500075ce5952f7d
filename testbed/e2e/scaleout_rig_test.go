package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pulse-otel/pulse/testbed/internal/pulserun"
	"github.com/pulse-otel/pulse/testbed/internal/scalerig"
)

// The scale-out test's processes: testbed/internal/scalerig's broker,
// VictoriaMetrics, gateways and aggregator shards of config/scale-out as
// shipped, and one reference Pulse with config/pulse.yaml fed the same
// events, whose secrets the gateways share (the same pseudonyms, forget
// key and admin token).

// scaleOutPartitions is pulse-events' partition count: more than the
// largest shard count (4), so every shard owns some.
const scaleOutPartitions = scalerig.DefaultPartitions

// scaleOutRig is everything TestScaleOut runs.
type scaleOutRig struct {
	t        *testing.T
	rig      *scalerig.Rig
	vm       string // VictoriaMetrics' HTTP API, http://host:port
	ref      *pulserun.Pulse
	refAPI   string // the reference's query API, http://host:port
	gateways []*scalerig.Proc
	shards   []*scalerig.Proc
}

func startScaleOutRig(t *testing.T) *scaleOutRig {
	t.Helper()
	r := &scaleOutRig{t: t}
	r.ref = pulserun.Start(t, pulserun.Options{})
	r.refAPI = "http://" + r.ref.API
	r.rig = scalerig.Start(t, scalerig.Options{
		Bin: binary(t), Partitions: scaleOutPartitions, SecretsDir: filepath.Join(r.ref.Dir, "data"),
	})
	r.vm = r.rig.VM.URL
	if dir := os.Getenv("PULSE_ARTIFACTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		// Cleanups run last-in first-out: this one, registered after the
		// processes', runs once they are stopped.
		t.Cleanup(func() {
			r.rig.WriteArtifacts(dir)
			if r.ref.Proc != nil {
				path := filepath.Join(dir, "scaleout-reference.log")
				if err := os.WriteFile(path, []byte(r.ref.Proc.Output()), 0o644); err != nil {
					t.Logf("artifact %s: %v", path, err)
				}
			}
		})
	}
	return r
}

func (r *scaleOutRig) addGateway()            { r.gateways = append(r.gateways, r.rig.AddGateway()) }
func (r *scaleOutRig) addShard()              { r.shards = append(r.shards, r.rig.AddShard()) }
func (r *scaleOutRig) stop(p *scalerig.Proc)  { r.rig.Stop(p) }
func (r *scaleOutRig) kill(p *scalerig.Proc)  { r.rig.Kill(p) }
func (r *scaleOutRig) start(p *scalerig.Proc) { r.rig.Run(p) }

// forget asks the forget API at addr to forget user.
func (r *scaleOutRig) forget(addr, user string) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := r.rig.Forget(ctx, soClient, addr, user); err != nil {
		r.t.Fatal(err)
	}
}
