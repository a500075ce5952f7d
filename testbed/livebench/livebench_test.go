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

	"github.com/pulse-otel/pulse/testbed/internal/ingest"
	"github.com/pulse-otel/pulse/testbed/internal/knob"
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
// alone, the viewers connect, LIVEBENCH_DURATION with them (then
// LIVEBENCH_SCREENSHOT, when set, is where a PNG of the dashboard over the
// last 5 minutes is written). Each phase
// records the collector's CPU (testbed/internal/procstat) and ingest
// freshness: every 500 ms the events loadgen handed to the network so far
// are noted and sum(pulse_events_total) polled until it counts them, as
// testbed/bench and querybench do.
func TestLiveViewers(t *testing.T) {
	if os.Getenv("LIVEBENCH") != "1" {
		t.Skip("manual benchmark: LIVEBENCH=1 (needs make build)")
	}
	viewers := knob.Int(t, "LIVEBENCH_VIEWERS", 1000)
	browsers := knob.Int(t, "LIVEBENCH_BROWSERS", 3)
	rate := knob.Int(t, "LIVEBENCH_RATE", 10000)
	warmup := knob.Duration(t, "LIVEBENCH_WARMUP", 20*time.Second)
	duration := knob.Duration(t, "LIVEBENCH_DURATION", 60*time.Second)
	probeEvery := knob.Duration(t, "LIVEBENCH_PROBE", 2*time.Second)
	rangeFrom := knob.String("LIVEBENCH_FROM", "now-7d") // the executive dashboard's default range, as its pages open it

	p := pulserun.Start(t, pulserun.Options{})
	pid := p.Proc.Pid()
	t.Logf("collector pid %d, API %s; open-file limit %s", pid, p.API, openFileLimit(pid))
	api := "http://" + p.API
	httpc := &http.Client{Timeout: 10 * time.Second}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in := ingest.Start(ctx, ingest.SeedShaped("http://"+p.Events, rate), api, countQuery, httpc)
	pr := startProbes(ctx, t, p, probeEvery)
	go postSnapshots(ctx, "http://"+p.Events)

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
	pageChanges := make([][]Change, len(pages))
	for i, pg := range pages {
		pageChanges[i] = pg.changes(t)
	}
	if shot := os.Getenv("LIVEBENCH_SCREENSHOT"); shot != "" && len(pages) > 0 {
		pages[0].screenshot(t, p.API, shot)
	}
	vcancel()
	wg.Wait()
	cancel()
	in.Wait()

	// Event to push, per subscriber and probe of the viewers' phase.
	var lat, stored []time.Duration
	missed, early := 0, 0
	probes := pr.between(with.start, with.end)
	for _, s := range subs {
		l, a, m, e := latencies(s.Changes(), probes)
		lat = append(lat, l...)
		stored = append(stored, a...)
		missed += m
		early += e
	}
	var pageLat []time.Duration
	for i := range pages {
		l, _, m, e := latencies(pageChanges[i], probes)
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
	st, _ := in.Stats()
	t.Logf("load: sent %d events, accepted %d, failed requests %d, statuses %v, %.0f events/s",
		st.Sent, st.Accepted, st.Failed, st.Status, float64(st.Accepted)/st.Elapsed.Seconds())

	row := func(name string, ph phase) string {
		return fmt.Sprintf("| %s | %.0f | %.2f | %s | %s | %d |", name, ph.rate(), ph.cores(), ms(pct(ph.fresh, .5)), ms(pct(ph.fresh, .99)), len(ph.fresh))
	}
	t.Logf("\n| phase | events/s | collector CPU (cores) | freshness p50 | freshness p99 | freshness probes |\n|---|---|---|---|---|---|\n%s\n%s",
		row("load alone", alone), row(fmt.Sprintf("load + %d viewers + %d pages", viewers, len(pages)), with))
	t.Logf("\n| viewers | event-to-push p50 | p95 | p99 | max | samples | frames/s per viewer | bytes/s per viewer |\n|---|---|---|---|---|---|---|---|\n"+
		"| %d subscribers | %s | %s | %s | %s | %d | %.2f | %.0f |\n| %d chromium pages (to DOM) | %s | %s | %s | %s | %d | | |",
		viewers, ms(pct(lat, .5)), ms(pct(lat, .95)), ms(pct(lat, .99)), ms(pct(lat, 1)), len(lat), perSubFrames, perSubBytes,
		len(pages), ms(pct(pageLat, .5)), ms(pct(pageLat, .95)), ms(pct(pageLat, .99)), ms(pct(pageLat, 1)), len(pageLat))
	t.Logf("push after the probe's answer (stored to frame read), subscribers: p50 %s p95 %s p99 %s max %s",
		ms(pct(stored, .5)), ms(pct(stored, .95)), ms(pct(stored, .99)), ms(pct(stored, 1)))
	t.Logf("viewers' CPU: %.2f cores (%.2f with, %.2f without)", with.cores()-alone.cores(), with.cores(), alone.cores())
	secsAlone := alone.end.Sub(alone.start).Seconds()
	t.Logf("this process (loadgen, probes, subscribers): %.2f cores alone, %.2f with viewers; chromium: %.2f cores with %d pages",
		alone.self.Seconds()/secsAlone, with.self.Seconds()/secs, with.browser.Seconds()/secs, len(pages))

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

// postSnapshots posts what loadgen does not send, every 5 s until ctx
// ends, so that every stat of the executive dashboard has a value (the
// screenshot): a daily revenue figure and a service's system snapshot.
// Errors are ignored: nothing is measured on them.
func postSnapshots(ctx context.Context, events string) {
	c := &http.Client{Timeout: 10 * time.Second}
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for i := 0; ; i++ {
		now := time.Now().UnixMilli()
		for _, r := range []struct{ path, body string }{
			{"/v1/business-metrics", fmt.Sprintf(`{"metrics":[{"metricId":"rev-%d","metricName":"revenue","category":"revenue","value":%d,"unit":"EUR",
"trend":"up","confidence":0.97,"dimensions":{"timeGranularity":"daily"},"periodStart":%d,"periodEnd":%d,"timestamp":%d}]}`,
				now, 12800+i%7*40, now-86_400_000, now, now)},
			{"/v1/system-metrics", fmt.Sprintf(`{"serviceName":"workout-api","serviceVersion":"5.3.1","environment":"production",
"responseTime":{"average":84.2,"median":61,"p95":240,"p99":612.5},"throughput":{"requestsPerSecond":350.5,"transactionsPerSecond":120},
"errorMetrics":{"errorRate":0.0021,"errorCount":44,"errorTypes":[{"type":"timeout","count":30}]},
"resourceUsage":{"cpuUtilization":57.5,"memoryUtilization":71.2,"diskUtilization":40,"networkIO":{"bytesIn":1000,"bytesOut":2000}},
"databaseMetrics":{"queryTime":{"average":6.4,"slowQueries":3},"connectionPool":{"activeConnections":18,"poolUtilization":0.36}},
"availability":{"uptime":99.98,"downtimeMinutes":0.3,"incidentCount":1},
"timeWindow":{"start":%d,"end":%d,"granularity":"minute"},"timestamp":%d}`, now-60_000, now, now)},
		} {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, events+r.path, strings.NewReader(r.body))
			if err != nil {
				return
			}
			req.Header.Set("Content-Type", "application/json")
			if resp, err := c.Do(req); err == nil {
				_ = resp.Body.Close()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
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
// the first change to a value >= k less its POST's start (afterAnswer: less
// the time its answer came, i.e. once stored). missed counts
// probes never shown; early those shown before they were posted.
func latencies(changes []Change, probes []probe) (lat, afterAnswer []time.Duration, missed, early int) {
	for _, p := range probes {
		i := slices.IndexFunc(changes, func(c Change) bool { return !math.IsNaN(c.Value) && c.Value >= float64(p.k) })
		switch {
		case i < 0:
			missed++
		case changes[i].At.Before(p.start):
			early++
		default:
			lat = append(lat, changes[i].At.Sub(p.start))
			afterAnswer = append(afterAnswer, changes[i].At.Sub(p.start.Add(p.answered)))
		}
	}
	return lat, afterAnswer, missed, early
}

// phase is one measured stretch.
type phase struct {
	start, end time.Time
	cpu        time.Duration
	// self is this process's CPU (loadgen, probes, subscribers), browser
	// that of its other children (Chromium), for the machine's share.
	self, browser time.Duration
	fresh         []time.Duration
	accepted      int64 // events accepted in the phase
}

func (ph phase) rate() float64 { return float64(ph.accepted) / ph.end.Sub(ph.start).Seconds() }

func (ph phase) cores() float64 { return ph.cpu.Seconds() / ph.end.Sub(ph.start).Seconds() }

func measurePhase(t *testing.T, pid int, in *ingest.Load, pr *probes, d time.Duration) phase {
	t.Helper()
	ph := phase{start: time.Now()}
	cpu0, _ := procstat.Read(pid)
	self0, _ := procstat.Read(os.Getpid())
	browser0 := childrenCPU(os.Getpid(), pid)
	acc0 := in.Progress().Accepted.Load()
	time.Sleep(d)
	cpu1, _ := procstat.Read(pid)
	self1, _ := procstat.Read(os.Getpid())
	browser1 := childrenCPU(os.Getpid(), pid)
	ph.end, ph.cpu, ph.accepted = time.Now(), cpu1-cpu0, in.Progress().Accepted.Load()-acc0
	ph.self, ph.browser = self1-self0, max(0, browser1-browser0)
	// Freshness probes resolve within ingest.MaxFreshness; wait for this phase's.
	time.Sleep(min(ingest.MaxFreshness, d/4))
	ph.fresh = in.Freshness(ph.start, ph.end)
	if err := pr.failed(); err != nil {
		t.Fatalf("probe: %v", err)
	}
	return ph
}

// childrenCPU is the CPU time of root's descendants but skip and its own
// (Chromium's processes: the collector is skipped). Processes that ended
// meanwhile are not counted.
func childrenCPU(root, skip int) time.Duration {
	entries, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		st := string(b)
		f := strings.Fields(st[strings.LastIndexByte(st, ')')+2:])
		if len(f) > 1 {
			parent[pid], _ = strconv.Atoi(f[1])
		}
	}
	var sum time.Duration
	for pid := range parent {
		for q := parent[pid]; q > 1 && pid != skip; q = parent[q] {
			if q == skip {
				break
			}
			if q == root {
				c, _ := procstat.Read(pid)
				sum += c
				break
			}
		}
	}
	return sum
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
			// The first action opens the tab: on a context without a
			// deadline, which would close the tab with it.
			require.NoError(t, chromedp.Do(ctx), "chromium tab %d", i)
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

// screenshot writes a PNG of the executive dashboard over the last 5
// minutes (the load's, with every line drawn) to path: the picture in the
// README.
func (pg *page) screenshot(t *testing.T, api, path string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(pg.ctx, time.Minute)
	defer cancel()
	err := chromedp.Do(ctx,
		chromedp.Navigate(pulserun.URL(api, "/dashboards/d/pulse-executive?from=now-5m")),
		chromedp.WaitVisible(`#conn[data-state="live"]`),
	)
	require.NoError(t, err)
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`![...document.querySelectorAll(".panel")].some((p) => p.dataset.state === "loading")`,
		chromedp.WithPollingInterval(100*time.Millisecond)))
	require.NoError(t, err)
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, png, 0o644))
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
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

// countQuery is what the freshness probes count stored events with.
const countQuery = `sum(pulse_events_total)`
