package livebench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/pulse-otel/pulse/testbed/internal/procstat"
	"github.com/pulse-otel/pulse/testbed/internal/pulserun"
	"github.com/pulse-otel/pulse/testbed/loadgen"
)

// TestLiveViewers is the load proof of the live page (issue 16): the built
// otelcol-pulse with the shipped config/pulse.yaml and the built-in
// dashboards compiled (testbed/internal/pulserun), testbed/loadgen posting
// LIVEBENCH_RATE (10,000) events/s, and LIVEBENCH_VIEWERS (1,000)
// simulated subscribers of the executive dashboard's push stream, each a
// real HTTP client that reads and decodes every frame (client.go), plus
// LIVEBENCH_BROWSERS (3) real Chromium pages of it.
//
// Every LIVEBENCH_PROBE (2s) a probe posts one subscription conversion:
// the executive dashboard's "Subscription changes (1d)" stat (panel 12),
// which loadgen's traffic (purchases only) never moves, then reads exactly
// the number of probes posted, so the frame that first carries value k is
// recognisably probe k's. Event-to-push latency is that frame's receipt
// time less the probe POST's start, per subscriber and probe; for the
// browsers, the time the page's DOM showed it (a MutationObserver's
// Date.now()).
//
// The run: LIVEBENCH_WARMUP (20s) of load, LIVEBENCH_DURATION (60s) of load
// alone, the viewers connect, LIVEBENCH_DURATION with them. Each phase
// records the collector's CPU (testbed/internal/procstat) and ingest
// freshness: every 500 ms the events loadgen handed to the network so far
// are noted and sum(pulse_events_total) polled until it counts them, as
// testbed/bench and querybench do.
func TestLiveViewers(t *testing.T) {
	if os.Getenv("LIVEBENCH") != "1" {
		t.Skip("manual benchmark: LIVEBENCH=1 (needs make build)")
	}
	viewers := envInt(t, "LIVEBENCH_VIEWERS", 1000)
	browsers := envInt(t, "LIVEBENCH_BROWSERS", 3)
	rate := envInt(t, "LIVEBENCH_RATE", 10000)
	warmup := envDuration(t, "LIVEBENCH_WARMUP", 20*time.Second)
	duration := envDuration(t, "LIVEBENCH_DURATION", 60*time.Second)
	probeEvery := envDuration(t, "LIVEBENCH_PROBE", 2*time.Second)
	rangeFrom := envString("LIVEBENCH_FROM", "now-7d") // the executive dashboard's default range, as its pages open it

	p := pulserun.Start(t, pulserun.Options{})
	pid := p.Proc.Pid()
	t.Logf("collector pid %d, API %s; open-file limit %s", pid, p.API, openFileLimit(pid))
	api := "http://" + p.API
	httpc := &http.Client{Timeout: 10 * time.Second}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in := startIngest(ctx, p, httpc, rate)
	pr := startProbes(ctx, t, p, probeEvery)

	time.Sleep(warmup) // the load's warm-up: nothing is measured
	alone := measurePhase(t, pid, in, pr, duration)

	// The viewers: the same stream the pages open (from, to, width do not
	// split it: one stream per dashboard and range).
	streamURL := api + "/dashboards/api/live/pulse-executive?" + url.Values{"from": {rangeFrom}, "to": {"now"}, "width": {"1200"}}.Encode()
	tr := &http.Transport{MaxIdleConnsPerHost: viewers, DisableCompression: true, IdleConnTimeout: time.Minute}
	subc := &http.Client{Transport: tr} // no timeout: a stream lasts the run
	defer tr.CloseIdleConnections()
	subs := make([]*Subscriber, viewers)
	var wg sync.WaitGroup
	vctx, vcancel := context.WithCancel(ctx)
	connectStart := time.Now()
	for i := range subs {
		subs[i] = NewSubscriber(streamURL, probePanel, probeRef)
		wg.Add(1)
		go func(s *Subscriber) { defer wg.Done(); s.Run(vctx, subc) }(subs[i])
	}
	live := time.After(2 * time.Minute)
	for i, s := range subs {
		select {
		case <-s.Live():
		case <-live:
			t.Fatalf("subscriber %d not live after 2m (%d streams opened, last error %v)", i, s.Connects.Load(), s.Err())
		}
	}
	t.Logf("%d subscribers live in %s", viewers, time.Since(connectStart).Round(time.Millisecond))
	pages := openPages(t, p.API, browsers, rangeFrom)
	t.Logf("%d chromium pages live", len(pages))

	frames0, bytes0 := totals(subs)
	with := measurePhase(t, pid, in, pr, duration)
	frames1, bytes1 := totals(subs)
	time.Sleep(3 * time.Second) // the last probes' frames
	vcancel()
	wg.Wait()
	cancel()
	in.wait()

	// Event to push, per subscriber and probe of the viewers' phase.
	var lat []time.Duration
	missed, early := 0, 0
	probes := pr.between(with.start, with.end)
	for _, s := range subs {
		l, m, e := latencies(s.Changes(), probes)
		lat = append(lat, l...)
		missed += m
		early += e
	}
	var pageLat []time.Duration
	for i, pg := range pages {
		l, m, e := latencies(pg.changes(t), probes)
		pageLat = append(pageLat, l...)
		if m+e > 0 {
			t.Errorf("chromium page %d: %d probes never shown, %d shown before their POST", i, m, e)
		}
	}
	var drops, gaps, fulls int64
	for _, s := range subs {
		drops += s.Drops.Load()
		gaps += s.SeqGaps.Load()
		fulls += s.Fulls.Load()
	}
	secs := with.end.Sub(with.start).Seconds()
	perSubFrames := float64(frames1-frames0) / float64(viewers) / secs
	perSubBytes := float64(bytes1-bytes0) / float64(viewers) / secs

	var answered []time.Duration
	for _, pb := range probes {
		answered = append(answered, pb.answered)
	}
	t.Logf("probes in the viewers' phase: %d (POST answered p50 %s p95 %s), %d subscriber-probe samples, %d missed, %d early",
		len(probes), ms(pct(answered, .5)), ms(pct(answered, .95)), len(lat), missed, early)
	t.Logf("subscribers: %d drops, %d full frames (%d at connect), %d seq gaps", drops, fulls, viewers, gaps)
	st := in.stats()
	t.Logf("load: sent %d events, accepted %d, failed requests %d, statuses %v, %.0f events/s",
		st.Sent, st.Accepted, st.Failed, st.Status, float64(st.Accepted)/st.Elapsed.Seconds())

	row := func(name string, ph phase) string {
		return fmt.Sprintf("| %s | %.2f | %s | %s | %d |", name, ph.cores(), ms(pct(ph.fresh, .5)), ms(pct(ph.fresh, .99)), len(ph.fresh))
	}
	t.Logf("\n| phase | collector CPU (cores) | freshness p50 | freshness p99 | freshness probes |\n|---|---|---|---|---|\n%s\n%s",
		row("load alone", alone), row(fmt.Sprintf("load + %d viewers + %d pages", viewers, len(pages)), with))
	t.Logf("\n| viewers | event-to-push p50 | p95 | p99 | max | samples | frames/s per viewer | bytes/s per viewer |\n|---|---|---|---|---|---|---|---|\n"+
		"| %d subscribers | %s | %s | %s | %s | %d | %.2f | %.0f |\n| %d chromium pages (to DOM) | %s | %s | %s | %s | %d | | |",
		viewers, ms(pct(lat, .5)), ms(pct(lat, .95)), ms(pct(lat, .99)), ms(pct(lat, 1)), len(lat), perSubFrames, perSubBytes,
		len(pages), ms(pct(pageLat, .5)), ms(pct(pageLat, .95)), ms(pct(pageLat, .99)), ms(pct(pageLat, 1)), len(pageLat))
	t.Logf("viewers' CPU: %.2f cores (%.2f with, %.2f without)", with.cores()-alone.cores(), with.cores(), alone.cores())

	require.NotEmpty(t, probes, "no probe in the viewers' phase")
	require.Zero(t, early, "a value shown before its probe was posted: the probe is not what moved the stat")
	require.Less(t, float64(missed), 0.01*float64(len(lat)+missed), "probes never pushed")
	if p95 := pct(lat, .95); p95 > time.Second {
		t.Errorf("event-to-push p95 %s, goal <= 1s", p95)
	}
	if p99 := pct(with.fresh, .99); p99 > time.Second {
		t.Errorf("freshness p99 with viewers %s, goal <= 1s", p99)
	}
}

// The probe's stat: the executive dashboard's "Subscription changes (1d)".
const (
	probePanel = "12"
	probeRef   = "A"
)

// probe is one posted subscription conversion: it is the k-th, so the stat
// reads k once it is stored.
type probe struct {
	k        int
	start    time.Time
	answered time.Duration
}

type probes struct {
	mu   sync.Mutex
	list []probe
	err  error
}

// startProbes posts a probe every every, one at a time (the next waits
// for the answer), until ctx ends. A failed POST stops them: after it the
// stat's count is no longer known.
func startProbes(ctx context.Context, t *testing.T, p *pulserun.Pulse, every time.Duration) *probes {
	t.Helper()
	pr := &probes{}
	c := &http.Client{Timeout: 10 * time.Second}
	r := rand.New(rand.NewPCG(7, 7))
	go func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for k := 1; ; k++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			start := time.Now()
			err := postProbe(ctx, c, "http://"+p.Events, r, k, start)
			pr.mu.Lock()
			if err != nil {
				if ctx.Err() == nil {
					pr.err = err
				}
				pr.mu.Unlock()
				return
			}
			pr.list = append(pr.list, probe{k: k, start: start, answered: time.Since(start)})
			pr.mu.Unlock()
		}
	}()
	return pr
}

// postProbe posts one subscription conversion, shaped as loadgen's events.
func postProbe(ctx context.Context, c *http.Client, events string, r *rand.Rand, k int, ts time.Time) error {
	e := loadgen.Event(r, loadgen.Config{Users: 100, Sessions: 100}, int64(k), ts)
	e["eventId"] = fmt.Sprintf("livebench-probe-%d-%d", ts.UnixNano(), k)
	e["behavior"] = map[string]any{"behaviorType": "conversion", "conversionData": map[string]any{
		"goalType": "subscription", "funnelStep": "confirm", "conversionTime": 1000, "previousSteps": []string{"plan"}}}
	body, err := json.Marshal([]any{e})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, events+"/v1/events", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	var a struct {
		Accepted int `json:"accepted"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != http.StatusOK || a.Accepted != 1 {
		return fmt.Errorf("probe %d: HTTP %d, accepted %d (%v)", k, resp.StatusCode, a.Accepted, err)
	}
	return nil
}

// between returns the probes started in [from, to).
func (pr *probes) between(from, to time.Time) []probe {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	var out []probe
	for _, p := range pr.list {
		if !p.start.Before(from) && p.start.Before(to) {
			out = append(out, p)
		}
	}
	return out
}

func (pr *probes) failed() error {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	return pr.err
}

// latencies matches a viewer's changes to the probes: probe k's latency is
// the first change to a value >= k less its POST's start. missed counts
// probes never shown; early those shown before they were posted.
func latencies(changes []Change, probes []probe) (lat []time.Duration, missed, early int) {
	for _, p := range probes {
		i := slices.IndexFunc(changes, func(c Change) bool { return !math.IsNaN(c.Value) && c.Value >= float64(p.k) })
		switch {
		case i < 0:
			missed++
		case changes[i].At.Before(p.start):
			early++
		default:
			lat = append(lat, changes[i].At.Sub(p.start))
		}
	}
	return lat, missed, early
}

// ingest is loadgen's load and the freshness probes.
type ingest struct {
	api      string
	httpc    *http.Client
	progress loadgen.Progress
	done     chan struct{}

	mu    sync.Mutex
	fresh []freshness
	st    loadgen.Stats
	err   error
}

type freshness struct {
	at time.Time
	d  time.Duration
}

const countQuery = `sum(pulse_events_total)`

func startIngest(ctx context.Context, p *pulserun.Pulse, httpc *http.Client, rate int) *ingest {
	in := &ingest{api: "http://" + p.API, httpc: httpc, done: make(chan struct{})}
	base, _ := in.count()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		st, err := loadgen.Run(ctx, loadgen.Config{URL: "http://" + p.Events, Rate: rate, Batch: 100, Workers: 16,
			Users: 20000, Sessions: 50000, PIIShare: 0.1, RecommendationShare: 0.1, Snapshots: time.Second, Retry: true, Seed: 1}, 0, &in.progress)
		in.mu.Lock()
		in.st, in.err = st, err
		in.mu.Unlock()
	}()
	go func() {
		defer wg.Done()
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		var probes sync.WaitGroup
		defer probes.Wait()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			at, n := time.Now(), float64(in.progress.Started.Load())
			probes.Add(1)
			go func() {
				defer probes.Done()
				for time.Since(at) < 10*time.Second && ctx.Err() == nil {
					if c, ok := in.count(); ok && c-base >= n {
						break
					}
					time.Sleep(50 * time.Millisecond)
				}
				if ctx.Err() == nil {
					in.mu.Lock()
					in.fresh = append(in.fresh, freshness{at, min(time.Since(at), 10*time.Second)})
					in.mu.Unlock()
				}
			}()
		}
	}()
	go func() { wg.Wait(); close(in.done) }()
	return in
}

func (in *ingest) count() (float64, bool) {
	resp, err := in.httpc.PostForm(in.api+"/api/v1/query", url.Values{"query": {countQuery}})
	if err != nil {
		return 0, false
	}
	defer func() { _ = resp.Body.Close() }()
	var r struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if json.NewDecoder(resp.Body).Decode(&r) != nil || len(r.Data.Result) != 1 {
		return 0, false
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

func (in *ingest) wait() { <-in.done }

func (in *ingest) stats() loadgen.Stats {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.st
}

// between returns the freshness of the probes taken in [from, to).
func (in *ingest) between(from, to time.Time) []time.Duration {
	in.mu.Lock()
	defer in.mu.Unlock()
	var out []time.Duration
	for _, f := range in.fresh {
		if !f.at.Before(from) && f.at.Before(to) {
			out = append(out, f.d)
		}
	}
	return out
}

// phase is one measured stretch.
type phase struct {
	start, end time.Time
	cpu        time.Duration
	fresh      []time.Duration
}

func (ph phase) cores() float64 { return ph.cpu.Seconds() / ph.end.Sub(ph.start).Seconds() }

func measurePhase(t *testing.T, pid int, in *ingest, pr *probes, d time.Duration) phase {
	t.Helper()
	ph := phase{start: time.Now()}
	cpu0, _ := procstat.Read(pid)
	time.Sleep(d)
	cpu1, _ := procstat.Read(pid)
	ph.end, ph.cpu = time.Now(), cpu1-cpu0
	// Freshness probes resolve within 10 s; wait for this phase's.
	time.Sleep(min(10*time.Second, d/4))
	ph.fresh = in.between(ph.start, ph.end)
	if err := pr.failed(); err != nil {
		t.Fatalf("probe: %v", err)
	}
	return ph
}

func totals(subs []*Subscriber) (frames, bytes int64) {
	for _, s := range subs {
		frames += s.Frames.Load()
		bytes += s.Bytes.Load()
	}
	return frames, bytes
}

// page is one Chromium tab showing the executive dashboard.
type page struct{ ctx context.Context }

// watchJS records, in window.__probe, every change of panel 12's stat as
// the page draws it: [Date.now(), data-raw].
const watchJS = `(() => {
  window.__probe = [];
  let last = null;
  const read = () => {
    const v = document.querySelector('.panel[data-panel-id="` + probePanel + `"] .value[data-raw]');
    const raw = v ? v.dataset.raw : null;
    if (raw !== last) { last = raw; window.__probe.push([Date.now(), raw]); }
  };
  new MutationObserver(read).observe(document.getElementById("main"), {subtree: true, childList: true, attributes: true, attributeFilter: ["data-raw"]});
  read();
  return true;
})()`

// openPages opens n tabs of one Chromium on the executive dashboard and
// waits until each is live.
func openPages(t *testing.T, api string, n int, from string) []*page {
	t.Helper()
	if n == 0 {
		return nil
	}
	browser := Chromium(t, 1400, 1000)
	var pages []*page
	for i := range n {
		ctx := browser
		if i > 0 {
			ctx, _ = chromedp.NewContext(browser) // cancelled with the browser
		}
		tctx, cancel := context.WithTimeout(ctx, time.Minute)
		err := chromedp.Do(tctx,
			chromedp.Navigate(pulserun.URL(api, "/dashboards/d/pulse-executive?from="+url.QueryEscape(from))),
			chromedp.WaitVisible(`#conn[data-state="live"]`),
			chromedp.WaitVisible(`.panel[data-panel-id="`+probePanel+`"]`),
		)
		if err == nil {
			_, err = chromedp.Run(tctx, chromedp.Evaluate[bool](watchJS))
		}
		cancel()
		require.NoError(t, err, "chromium page %d", i)
		pages = append(pages, &page{ctx: ctx})
	}
	return pages
}

// changes reads the page's recorded changes.
func (pg *page) changes(t *testing.T) []Change {
	t.Helper()
	ctx, cancel := context.WithTimeout(pg.ctx, 30*time.Second)
	defer cancel()
	rec, err := chromedp.Run(ctx, chromedp.Evaluate[[][2]any](`window.__probe`))
	require.NoError(t, err)
	out := make([]Change, 0, len(rec))
	for _, r := range rec {
		ms, _ := r[0].(float64)
		v := math.NaN()
		if s, ok := r[1].(string); ok {
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				v = f
			}
		}
		out = append(out, Change{At: time.UnixMilli(int64(ms)), Value: v})
	}
	return out
}

// openFileLimit is the process's "Max open files" line of /proc/pid/limits.
func openFileLimit(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		return "unknown"
	}
	for l := range strings.SplitSeq(string(b), "\n") {
		if strings.HasPrefix(l, "Max open files") {
			return strings.Join(strings.Fields(l)[3:5], " soft, ") + " hard"
		}
	}
	return "unknown"
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func ms(d time.Duration) string { return d.Round(time.Millisecond).String() }

func envInt(t *testing.T, key string, def int) int {
	t.Helper()
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	require.NoError(t, err, key)
	return n
}

func envDuration(t *testing.T, key string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	require.NoError(t, err, key)
	return d
}

func envString(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
