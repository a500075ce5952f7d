package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/pulse-otel/pulse/testbed/loadgen"
)

// TestSmoke is the CI version of `make bench`: the same harness, the shipped
// configuration, a short modest load over JSON and OTLP. It asserts
// correctness, not speed: every request answered 200, every acknowledged
// event counted once in promstore, and send-to-queryable freshness p99
// within 2 s. With BASELINE_BIN set (and prometheus installed) it runs the
// baseline too.
func TestSmoke(t *testing.T) {
	pulse := os.Getenv("PULSE_BIN")
	if pulse == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("PULSE_BIN is not set; run the suite with `make test`")
		}
		t.Skip("PULSE_BIN is not set; `make test` builds bin/otelcol-pulse and sets it")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	o := options{
		pulse:          pulse,
		pulsectl:       filepath.Join(root, "bin", "pulsectl"),
		pulseConfig:    filepath.Join(root, "config", "pulse.yaml"),
		alerts:         filepath.Join(root, "config", "alerts"),
		baseline:       os.Getenv("BASELINE_BIN"),
		baselineConfig: filepath.Join(root, "testbed", "baseline", "config.yaml"),
		prometheus:     "prometheus",
	}
	if p := os.Getenv("PULSECTL_BIN"); p != "" {
		o.pulsectl = p
	}
	if _, err := os.Stat(o.pulsectl); err != nil {
		t.Fatalf("pulsectl: %v (make build builds it)", err)
	}
	targets := []target{
		{name: "pulse-json", title: "Pulse, JSON", protocol: loadgen.JSON, start: o.startPulse},
		{name: "pulse-otlp", title: "Pulse, OTLP", protocol: loadgen.OTLP, start: o.startPulse},
	}
	if o.baseline != "" {
		if _, err := exec.LookPath(o.prometheus); err == nil {
			targets = append(targets, target{name: "baseline", title: "baseline", protocol: loadgen.OTLP, start: o.startBaseline})
		}
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			r, err := measure(tg, loadgen.Config{Protocol: tg.protocol, Rate: 2000, Batch: 50, Workers: 32,
				Users: 2000, Sessions: 5000, PIIShare: 0.1, Seed: 1}, 4*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			t.Log(r.summary())
			if r.st.Failed != 0 || r.st.Status[http.StatusOK] != r.st.Requests || r.st.Accepted != r.st.Sent || r.st.Sent == 0 {
				t.Errorf("every request must be answered 200 with every event accepted: sent %d, acknowledged %d, statuses %v, failed %d",
					r.st.Sent, r.st.Accepted, r.st.Status, r.st.Failed)
			}
			if int64(r.stored) != r.st.Accepted {
				t.Errorf("the store counts %.0f events, %d were acknowledged", r.stored, r.st.Accepted)
			}
			if p99 := r.quantile(0.99); len(r.fresh) < 20 || r.unresolved > 0 || p99 > 2*time.Second {
				t.Errorf("freshness: p99 %s over %d probes (%d never visible), want ≤ 2s", p99, len(r.fresh), r.unresolved)
			}
		})
	}
}
