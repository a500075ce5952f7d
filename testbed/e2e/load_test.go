package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pulse-otel/pulse/testbed/internal/procstat"
	"github.com/pulse-otel/pulse/testbed/loadgen"
)

// procStats reads a process's CPU seconds and resident memory from /proc.
func procStats(pid int) (cpu time.Duration, rss int64) { return procstat.Read(pid) }

// startLoad runs loadgen in the background for at most limit. stop ends
// it (requests in flight finish) and returns what it sent; it may be
// called more than once, and runs at the end of the test anyway.
func startLoad(t *testing.T, cfg loadgen.Config, limit time.Duration) (progress *loadgen.Progress, stop func() loadgen.Stats) {
	t.Helper()
	progress = new(loadgen.Progress)
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	type run struct {
		st  loadgen.Stats
		err error
	}
	done := make(chan run, 1)
	go func() {
		st, err := loadgen.Run(ctx, cfg, 0, progress)
		done <- run{st, err}
	}()
	finish := sync.OnceValue(func() run { cancel(); return <-done })
	t.Cleanup(func() { finish() })
	return progress, func() loadgen.Stats {
		r := finish()
		if r.err != nil {
			t.Fatal(r.err)
		}
		return r.st
	}
}

// freshnessQuantile estimates a quantile of the exported freshness
// histogram from its cumulative buckets (upper bound of the bucket).
func (s *sink) freshnessQuantile(q float64) (float64, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var last pmetric.HistogramDataPoint
	found := false
	for _, md := range s.metrics {
		sms := md.ResourceMetrics().At(0).ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				if ms.At(k).Name() == "pulse.event.freshness" {
					last, found = ms.At(k).Histogram().DataPoints().At(0), true
				}
			}
		}
	}
	if !found || last.Count() == 0 {
		return 0, 0
	}
	target := uint64(q * float64(last.Count()))
	var cum uint64
	for i := 0; i < last.BucketCounts().Len(); i++ {
		cum += last.BucketCounts().At(i)
		if cum >= target {
			if i < last.ExplicitBounds().Len() {
				return last.ExplicitBounds().At(i), last.Count()
			}
			break
		}
	}
	return -1, last.Count() // beyond the last bound
}

// TestLoadSmoke is the CI version of the testbed: seed-shaped traffic at
// 2,000 events/s for 3 s through receiver, privacy processor and connector.
// It asserts correctness (every request answered 200, every accepted event
// counted exactly once, freshness within a bound) and logs the collector's
// CPU and memory; speed is measured by `make bench`, not asserted here.
func TestLoadSmoke(t *testing.T) {
	s := &sink{}
	c := startCollectorWith(t, s, func(c *collector, sinkAddr string) string {
		writePrivacyKey(t, c.dir)
		return otlpSinkPipeline(c, sinkAddr)
	})
	cpu0, _ := procStats(c.p.Pid())
	const rate, seconds = 2000, 3
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := loadgen.Run(ctx, loadgen.Config{
		URL: "http://" + c.events, Rate: rate, Batch: 50, Users: 500, Sessions: 2000, PIIShare: 0.1, Workers: 16, Seed: 1,
	}, rate*seconds, nil)
	if err != nil {
		t.Fatal(err)
	}
	cpu1, rss := procStats(c.p.Pid())
	t.Logf("sent %d events in %d requests over %s: accepted %d, rejected %d, failed requests %d, statuses %v",
		st.Sent, st.Requests, st.Elapsed.Round(time.Millisecond), st.Accepted, st.Rejected, st.Failed, st.Status)
	t.Logf("collector: %.2f CPU seconds (%.1f µs per event), RSS %.1f MiB",
		(cpu1 - cpu0).Seconds(), float64((cpu1-cpu0).Microseconds())/float64(max(st.Accepted, 1)), float64(rss)/(1<<20))
	if st.Failed != 0 || st.Status[http.StatusOK] != st.Requests || st.Accepted != st.Sent {
		t.Fatalf("every request must be answered 200 with every event accepted: %+v", st)
	}
	waitFor(t, fmt.Sprintf("pulse.events to reach %d", st.Accepted), func() bool { return s.latestSum("pulse.events") == st.Accepted })
	p99, n := s.freshnessQuantile(0.99)
	t.Logf("freshness: p99 ≤ %.2f s over %d events (bucket upper bound)", p99, n)
	if p99 < 0 || p99 > 2.5 {
		t.Errorf("freshness p99 bucket %.2f s, want ≤ 2.5 s", p99)
	}
	c.stop(t)
	if got := s.latestSum("pulse.events"); got != st.Accepted {
		t.Fatalf("after shutdown pulse.events = %d, want %d: events lost or counted twice", got, st.Accepted)
	}
}
