// Command bench is the testbed's comparative run behind `make bench`: the
// same seed-shaped load through otelcol-pulse (the shipped
// config/pulse.yaml, with promstore) and through the stock-component
// baseline (testbed/baseline: otlp ▶ consent filter/transform ▶ redaction ▶
// signal_to_metrics ▶ deltatocumulative ▶ prometheus_remote_write into a
// real Prometheus), on the same machine in the same run.
//
// For every run it measures what the process(es) used (CPU seconds from
// /proc, the highest RSS), the events per second acknowledged, the events
// lost (acknowledged but never counted in the store) and freshness: the
// time from an event being sent to its being counted in a query through
// the store's Prometheus API. It prints the tables and, with -out, writes
// them into docs/benchmarks.md between the testbed markers.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/pulse-otel/pulse/testbed/loadgen"
)

type options struct {
	pulse, pulsectl, baseline, prometheus string
	pulseConfig, baselineConfig, alerts   string
	rate, batch, workers, maxWorkers      int
	duration, maxDuration                 time.Duration
	count                                 int
	out                                   string
	only                                  string
	profile                               string
	componentCount                        int
}

func main() {
	var o options
	flag.StringVar(&o.pulse, "pulse", "bin/otelcol-pulse", "the Pulse collector binary")
	flag.StringVar(&o.pulsectl, "pulsectl", "bin/pulsectl", "pulsectl, to compile the default alerts as make run does")
	flag.StringVar(&o.baseline, "baseline", "bin/otelcol-baseline", "the baseline collector binary (make baseline)")
	flag.StringVar(&o.prometheus, "prometheus", "prometheus", "the Prometheus server the baseline writes to")
	flag.StringVar(&o.pulseConfig, "pulse-config", "config/pulse.yaml", "Pulse's configuration; endpoints are moved to free loopback ports")
	flag.StringVar(&o.baselineConfig, "baseline-config", "testbed/baseline/config.yaml", "the baseline's configuration")
	flag.StringVar(&o.alerts, "alerts", "config/alerts", "alert definitions compiled for promstore, as make run does")
	flag.IntVar(&o.rate, "rate", 10000, "events/s of the sustained runs")
	flag.IntVar(&o.batch, "batch", 100, "events per request")
	flag.IntVar(&o.workers, "workers", 64, "concurrent requests of the sustained runs")
	flag.IntVar(&o.maxWorkers, "max-workers", 256, "concurrent requests of the maximum-rate runs")
	flag.DurationVar(&o.duration, "duration", 30*time.Second, "length of a sustained run")
	flag.DurationVar(&o.maxDuration, "max-duration", 15*time.Second, "length of a maximum-rate run")
	flag.IntVar(&o.count, "count", 3, "maximum-rate runs per target (the tables give medians)")
	flag.StringVar(&o.out, "out", "", "markdown file whose testbed section is replaced with the results (e.g. docs/benchmarks.md)")
	flag.StringVar(&o.profile, "profile", "", "write CPU profiles of Pulse's runs to this path + .sustained and .max (pprof extension)")
	flag.StringVar(&o.only, "only", "", "comma-separated targets to run (pulse-json, pulse-otlp, baseline); default all")
	flag.IntVar(&o.componentCount, "component-count", 5, "runs of the de-duplication and join benchmarks (go test -bench, from the module root); 0 skips them")
	flag.Parse()
	log.SetFlags(log.Ltime)
	if err := run(o); err != nil {
		log.Fatal(err)
	}
}

func run(o options) error {
	for _, p := range []*string{&o.pulse, &o.pulsectl, &o.baseline, &o.pulseConfig, &o.baselineConfig, &o.alerts} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		*p = abs
	}
	targets := []target{
		{name: "pulse-json", title: "Pulse, JSON to /v1/events", protocol: loadgen.JSON, start: o.startPulse},
		{name: "pulse-otlp", title: "Pulse, OTLP/HTTP logs", protocol: loadgen.OTLP, start: o.startPulse},
		{name: "baseline", title: "baseline, OTLP/HTTP logs", protocol: loadgen.OTLP, start: o.startBaseline},
	}
	if o.only != "" {
		keep := strings.Split(o.only, ",")
		targets = slices.DeleteFunc(targets, func(t target) bool { return !slices.Contains(keep, t.name) })
	}
	for _, t := range targets {
		bin := o.pulse
		if t.name == "baseline" {
			bin = o.baseline
			if _, err := exec.LookPath(o.prometheus); err != nil {
				return fmt.Errorf("the baseline needs a Prometheus server (-prometheus): %w", err)
			}
		}
		if _, err := os.Stat(bin); err != nil {
			return fmt.Errorf("%s: %w (make build, make baseline)", t.name, err)
		}
	}
	profilePath = o.profile
	started := time.Now()
	var sustained, maxRate []result
	for _, t := range targets {
		log.Printf("%s: sustained %d events/s for %s", t.name, o.rate, o.duration)
		r, err := measure(t, loadgen.Config{Protocol: t.protocol, Rate: o.rate, Batch: o.batch, Workers: o.workers,
			Users: 20000, Sessions: 50000, PIIShare: 0.1, Seed: 1}, o.duration)
		if err != nil {
			return fmt.Errorf("%s sustained: %w", t.name, err)
		}
		log.Print(r.summary())
		sustained = append(sustained, r)
	}
	for _, t := range targets {
		var rs []result
		for i := range o.count {
			log.Printf("%s: maximum rate, %d concurrent requests, run %d of %d", t.name, o.maxWorkers, i+1, o.count)
			r, err := measure(t, loadgen.Config{Protocol: t.protocol, Rate: 0, Batch: o.batch, Workers: o.maxWorkers,
				Users: 20000, Sessions: 50000, PIIShare: 0.1, Seed: uint64(2 + i)}, o.maxDuration)
			if err != nil {
				return fmt.Errorf("%s maximum rate: %w", t.name, err)
			}
			log.Print(r.summary())
			rs = append(rs, r)
		}
		maxRate = append(maxRate, median(rs))
	}
	var comps []componentBench
	var compCmd string
	if o.componentCount > 0 {
		log.Printf("component benchmarks: de-duplication and join, %d runs", o.componentCount)
		var err error
		if comps, compCmd, err = runComponentBenches(dedupBenches(), o.componentCount); err != nil {
			return fmt.Errorf("component benchmarks: %w", err)
		}
	}
	md := report(o, sustained, maxRate, comps, compCmd, time.Since(started))
	fmt.Println(md)
	if o.out != "" {
		if err := splice(o.out, md); err != nil {
			return err
		}
		log.Printf("wrote the tables into %s", o.out)
	}
	return nil
}

// machine describes where the run happened.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%d × %s, %s, %s", runtime.NumCPU(), model, runtime.Version(), time.Now().UTC().Format("2006-01-02"))
}
