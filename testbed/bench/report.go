package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"time"
)

const (
	beginMarker = "<!-- testbed:begin (written by make bench; edits are overwritten) -->"
	endMarker   = "<!-- testbed:end -->"
)

func secs(d time.Duration) string {
	if d < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// withStore formats a collector value and, for a system with a separate
// store, the value with the store included.
func withStore(r result, f func(n int) string) string {
	if len(r.cpu) == 1 {
		return f(1) + " (store embedded)"
	}
	return f(1) + " (" + f(len(r.cpu)) + " with Prometheus)"
}

func report(o options, sustained, maxRate []result, comps []componentBench, compCmd string, took time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Machine: %s. Command: `make bench` (`go run ./testbed/bench -out docs/benchmarks.md`), %s in all.\n\n", machine(), took.Round(time.Second))
	fmt.Fprintf(&b, "Load: seed-shaped events from `testbed/loadgen` (%d per request, 10 %% carrying PII in free text, 20,000 users, 50,000 sessions), the same events as JSON to Pulse's analytics receiver and as OTLP/HTTP protobuf log records to both collectors. Pulse runs `config/pulse.yaml` as shipped (promstore, privacy processor, `wait_for_export`) with its endpoints moved to free ports and the debug exporter left out; the baseline runs `testbed/baseline/config.yaml` writing to Debian's Prometheus. CPU is user+system time from /proc over the load; events/s per core = acknowledged events / CPU seconds. Freshness: every %s the number of events sent so far is noted, and the store's Prometheus API (`sum(pulse_events_total)`) is polled every %s until it counts them; p50/p99 over those probes. Lost = acknowledged − counted in the store once it settled.\n\n", o.batch, probeEvery, pollEvery)

	fmt.Fprintf(&b, "### Sustained %d events/s for %s\n\n", o.rate, o.duration)
	b.WriteString("| system | acknowledged events/s | lost | statuses | CPU µs per event | events/s per core | RSS max | freshness p50 | freshness p99 |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range sustained {
		fmt.Fprintf(&b, "| %s | %.0f of %d sent | %d | %s | %s | %s | %s | %s | %s |\n",
			r.target.title, r.rate(), r.st.Sent, r.lost(), statuses(r),
			withStore(r, func(n int) string { return fmt.Sprintf("%.1f", us(r.perEvent(n))) }),
			withStore(r, func(n int) string { return fmt.Sprintf("%.0f", r.perCore(n)) }),
			withStore(r, func(n int) string {
				var m int64
				for _, x := range r.rss[:n] {
					m += x
				}
				return fmt.Sprintf("%.0f MiB", mib(m))
			}),
			secs(r.quantile(0.5)), secs(r.quantile(0.99)))
	}
	fmt.Fprintf(&b, "\n### Maximum rate: %d concurrent requests for %s, median of %d runs\n\n", o.maxWorkers, o.maxDuration, o.count)
	b.WriteString("| system | acknowledged events/s | lost | CPU µs per event | events/s per core | every run's events/s per core (collector) | RSS max |\n|---|---|---|---|---|---|---|\n")
	for _, r := range maxRate {
		var runs []string
		for _, x := range r.spread {
			runs = append(runs, fmt.Sprintf("%.0f", x.perCore(1)))
		}
		fmt.Fprintf(&b, "| %s | %.0f | %d | %s | %s | %s | %.0f MiB |\n",
			r.target.title, r.rate(), r.lost(),
			withStore(r, func(n int) string { return fmt.Sprintf("%.1f", us(r.perEvent(n))) }),
			withStore(r, func(n int) string { return fmt.Sprintf("%.0f", r.perCore(n)) }),
			strings.Join(runs, ", "), mib(r.rss[0]))
	}
	if base := find(maxRate, "baseline"); base != nil {
		b.WriteString("\nRatios (maximum-rate medians, events/s per core):\n\n")
		for _, r := range maxRate {
			if r.target.name == "baseline" {
				continue
			}
			fmt.Fprintf(&b, "- %s vs baseline: %.1f× (collector only), %.1f× (baseline with its Prometheus)\n",
				r.target.title, r.perCore(1)/base.perCore(1), r.perCore(1)/base.perCore(len(base.cpu)))
		}
	}
	if len(comps) > 0 {
		b.WriteString(componentReport(comps, compCmd))
	}
	b.WriteString("\nGoals of issues 7 and 11 (measured, not asserted):\n\n")
	if p := find(maxRate, "pulse-json"); p != nil {
		fmt.Fprintf(&b, "- ≥ 50,000 events/s per core through the whole Pulse pipeline: %.0f (JSON)", p.perCore(1))
		if q := find(maxRate, "pulse-otlp"); q != nil {
			fmt.Fprintf(&b, ", %.0f (OTLP)", q.perCore(1))
		}
		b.WriteString("\n")
	}
	if p := find(sustained, "pulse-json"); p != nil {
		fmt.Fprintf(&b, "- p99 freshness ≤ 1 s at %d events/s: %s; RSS ≤ 256 MiB: %.0f MiB\n", o.rate, secs(p.quantile(0.99)), mib(p.rss[0]))
	}
	if p, base := find(maxRate, "pulse-json"), find(maxRate, "baseline"); p != nil && base != nil {
		fmt.Fprintf(&b, "- ≥ 5× the baseline's events/s per core (issue 7), not below 8× with de-duplication and the join (issue 11): %.1f×\n", p.perCore(1)/base.perCore(1))
	}
	for _, c := range comps {
		if c.name == "BenchmarkDedup" || c.name == "BenchmarkDedupJoin" {
			fmt.Fprintf(&b, "- issue 11, under 0.3 µs per event for %s: %.0f ns\n", c.what, c.median())
		}
	}
	return b.String()
}

func statuses(r result) string {
	var parts []string
	for code, n := range r.st.Status {
		parts = append(parts, fmt.Sprintf("%d×%d", n, code))
	}
	if r.st.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", r.st.Failed))
	}
	return strings.Join(parts, ", ")
}

func find(rs []result, name string) *result {
	for i := range rs {
		if rs[i].target.name == name {
			return &rs[i]
		}
	}
	return nil
}

// splice replaces what is between the testbed markers of path with md, or
// appends a section with the markers.
func splice(path, md string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	block := beginMarker + "\n" + md + "\n" + endMarker
	i, j := bytes.Index(raw, []byte(beginMarker)), bytes.Index(raw, []byte(endMarker))
	var out []byte
	switch {
	case i >= 0 && j > i:
		out = append(append(append([]byte{}, raw[:i]...), block...), raw[j+len(endMarker):]...)
	case i < 0 && j < 0:
		out = append(bytes.TrimRight(raw, "\n"), []byte("\n\n## Testbed: Pulse against a stock-component baseline\n\n"+block+"\n")...)
	default:
		return fmt.Errorf("%s: the testbed markers are broken; want %q before %q", path, beginMarker, endMarker)
	}
	return os.WriteFile(path, out, 0o644)
}
