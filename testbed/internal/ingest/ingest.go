// Package ingest is the write load of the testbed's read benchmarks
// (testbed/querybench, testbed/livebench): testbed/loadgen's seed-shaped
// events into a running collector, and freshness probes as testbed/bench
// takes them: every ProbeEvery the events handed to the network so far are
// noted, and the store is polled every PollEvery until it has counted them
// (send to queryable, the connector's flush included).
package ingest // import "github.com/pulse-otel/pulse/testbed/internal/ingest"

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/pulse-otel/pulse/testbed/internal/promquery"
	"github.com/pulse-otel/pulse/testbed/loadgen"
)

const (
	// ProbeEvery is how often a freshness probe starts: 100 ms as in
	// testbed/bench. It must not be the connector's 500 ms flush interval
	// (or a multiple): probes would then all start at the same point of
	// the flush cycle and measure that one offset, a constant that changes
	// from run to run and from phase to phase.
	ProbeEvery = 100 * time.Millisecond
	// PollEvery is how often a probe asks the store.
	PollEvery = 50 * time.Millisecond
	// MaxFreshness is when a probe gives up; it then counts as that long.
	MaxFreshness = 10 * time.Second
)

// SeedShaped is the benchmarks' load at rate items/s to the analytics
// receiver at url: requests of 100, 10 % of them recommendation items, 10 %
// of events with PII in free text, model and business snapshots every
// second, 64 requests in flight (with wait_for_export a request is answered
// after the connector's next 500 ms flush, so 10,000/s needs about 50),
// retries as an SDK would.
func SeedShaped(url string, rate int) loadgen.Config {
	return loadgen.Config{URL: url, Rate: rate, Batch: 100, Workers: 64,
		Users: 20000, Sessions: 50000, PIIShare: 0.1, RecommendationShare: 0.1,
		Snapshots: time.Second, Retry: true, Seed: 1}
}

// Load is a running load and its probes.
type Load struct {
	api, query string
	httpc      *http.Client
	progress   loadgen.Progress
	done       chan struct{}

	mu    sync.Mutex
	fresh []probe
	st    loadgen.Stats
	err   error
}

type probe struct {
	at time.Time
	d  time.Duration
}

// Start sends cfg's load until ctx ends. query counts the stored events
// at the store's API base URL api (http://host:port); its value when the
// load starts is the base the probes count from.
func Start(ctx context.Context, cfg loadgen.Config, api, query string, httpc *http.Client) *Load {
	l := &Load{api: api, query: query, httpc: httpc, done: make(chan struct{})}
	base, _ := l.count()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		st, err := loadgen.Run(ctx, cfg, 0, &l.progress)
		l.mu.Lock()
		l.st, l.err = st, err
		l.mu.Unlock()
	}()
	go func() {
		defer wg.Done()
		tick := time.NewTicker(ProbeEvery)
		defer tick.Stop()
		var probes sync.WaitGroup
		defer probes.Wait()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			at, n := time.Now(), float64(l.progress.Started.Load())
			probes.Add(1)
			go func() {
				defer probes.Done()
				for time.Since(at) < MaxFreshness && ctx.Err() == nil {
					if c, ok := l.count(); ok && c-base >= n {
						break
					}
					time.Sleep(PollEvery)
				}
				if ctx.Err() == nil {
					l.mu.Lock()
					l.fresh = append(l.fresh, probe{at, min(time.Since(at), MaxFreshness)})
					l.mu.Unlock()
				}
			}()
		}
	}()
	go func() { wg.Wait(); close(l.done) }()
	return l
}

func (l *Load) count() (float64, bool) {
	v, found, err := promquery.Instant(l.httpc, l.api, l.query)
	return v, found && err == nil
}

// Wait returns once ctx has ended and the requests in flight and the
// probes have finished.
func (l *Load) Wait() { <-l.done }

// Progress is the load's running counts (events started, acknowledged).
func (l *Load) Progress() *loadgen.Progress { return &l.progress }

// Stats is what loadgen sent and was answered, once Wait has returned.
func (l *Load) Stats() (loadgen.Stats, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.st, l.err
}

// Freshness is the send-to-queryable time of the probes started in
// [from, to) that finished before ctx ended.
func (l *Load) Freshness(from, to time.Time) []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []time.Duration
	for _, p := range l.fresh {
		if !p.at.Before(from) && p.at.Before(to) {
			out = append(out, p.d)
		}
	}
	return out
}
