package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// The adversarial suite (issue 12) replays hostile requests and hostile
// load against the built binary with the shipped config/pulse.yaml (its
// endpoints on free loopback ports), beside good traffic: one valid event
// every 50 ms, each of which must be answered 200 and, at the end, be in
// promstore (sum(pulse_events_total) equals the events acknowledged). Each
// attack gets a fresh collector and asserts the status of its requests,
// the collector's RSS (VmRSS, sampled every 100 ms) below the attack's
// bound during and after the attack, the process alive, and that no answer
// echoes the client text planted in the attack (a unique marker). Every
// attack logs one row of the table in docs/benchmarks.md ("Attacks").

// advHardCap is where the watchdog SIGKILLs the collector: a regression
// must fail the test, not take the host's memory (the test fails too).
const advHardCap = 3 << 30

// advOptions changes the shipped configuration for one attack.
type advOptions struct {
	promstore string   // YAML lines added to the promstore exporter's section
	wrap      []string // command line the binary runs under (prlimit)
}

// advRig is one collector under attack, its RSS watchdog and good traffic.
type advRig struct {
	c           *collector
	api, events string // base URLs
	marker      string
	rss         *rssWatch
	good        *goodTraffic

	mu     sync.Mutex
	echoes []string // answers that contained the marker
}

func startAdv(t *testing.T, o advOptions) *advRig {
	t.Helper()
	api := freePort(t)
	c := startCollectorWith(t, &sink{}, func(c *collector, _ string) string {
		cfg := shippedPromstoreConfig(t, c, api)
		c.wrap = o.wrap
		if o.promstore != "" {
			const at = "    directory: ./data/promstore\n"
			if strings.Count(cfg, at) != 1 {
				t.Fatalf("config/pulse.yaml: %q not found once; update the test", at)
			}
			cfg = strings.Replace(cfg, at, at+o.promstore, 1)
		}
		return cfg
	})
	r := &advRig{c: c, api: "http://" + api, events: "http://" + c.events, marker: fmt.Sprintf("zqx%08x", rand.Uint32())}
	r.rss = watchRSS(t, c.p.Pid())
	return r
}

// read returns the answer's body and records it when it echoes the marker.
func (r *advRig) read(what string, resp *http.Response) []byte {
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	r.check(what, body)
	return body
}

func (r *advRig) check(what string, answer []byte) {
	if bytes.Contains(answer, []byte(r.marker)) {
		r.mu.Lock()
		r.echoes = append(r.echoes, fmt.Sprintf("%s: %.200q", what, answer))
		r.mu.Unlock()
	}
}

// telemetry returns the sum of the samples of the collector's own metric
// name (any suffix, any labels) on its telemetry endpoint, whose port is
// read from the configuration the rig wrote.
func (r *advRig) telemetry(t *testing.T, name string) float64 {
	t.Helper()
	cfg, err := os.ReadFile(filepath.Join(r.c.dir, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s+port: (\d+)\s*$`).FindSubmatch(cfg)
	if m == nil {
		t.Fatal("no telemetry port in the collector's configuration")
	}
	resp, err := http.Get("http://localhost:" + string(m[1]) + "/metrics")
	if err != nil {
		t.Fatalf("telemetry: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		f := strings.Fields(line)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			sum += v
		}
	}
	return sum
}

// rssWatch samples a process's VmRSS every 100 ms, keeps the peak of the
// current phase, and kills the process past advHardCap.
type rssWatch struct {
	pid    int
	mu     sync.Mutex
	peak   int64 // of the current phase
	killed bool
	stop   chan struct{}
	done   chan struct{}
}

func watchRSS(t *testing.T, pid int) *rssWatch {
	t.Helper()
	w := &rssWatch{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			w.sample()
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(func() {
		close(w.stop)
		<-w.done
	})
	return w
}

func (w *rssWatch) sample() {
	v, ok := vmRSS(w.pid)
	if !ok {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.peak = max(w.peak, v)
	if v > advHardCap && !w.killed {
		w.killed = true
		_ = syscall.Kill(w.pid, syscall.SIGKILL)
	}
}

// phase returns the peak RSS since the previous call and starts a new
// phase.
func (w *rssWatch) phase() (peak int64, killed bool) {
	w.sample()
	w.mu.Lock()
	defer w.mu.Unlock()
	peak, w.peak = w.peak, 0
	return peak, w.killed
}

// vmRSS reads VmRSS from /proc/<pid>/status.
func vmRSS(pid int) (int64, bool) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb << 10, err == nil
			}
		}
	}
	return 0, false
}

// goodTraffic posts one valid event (a new id each) every 50 ms, at most
// 16 in flight, and counts what was sent and acknowledged (200, accepted 1).
type goodTraffic struct {
	sent, acked atomic.Int64
	retries     atomic.Int64 // sends again after a connection failed
	mu          sync.Mutex
	failures    map[string]int
	stop        chan struct{}
	done        chan struct{}
	client      *http.Client
}

func (r *advRig) startGood(t *testing.T) {
	t.Helper()
	g := &goodTraffic{failures: map[string]int{}, stop: make(chan struct{}), done: make(chan struct{}),
		client: &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16, MaxConnsPerHost: 16}}}
	r.good = g
	go func() {
		defer close(g.done)
		var wg sync.WaitGroup
		defer wg.Wait()
		sem := make(chan struct{}, 16)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-g.stop:
				return
			case <-tick.C:
			}
			select {
			case <-g.stop:
				return
			case sem <- struct{}{}:
			}
			g.sent.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				g.send(r, fmt.Sprintf("good-%d", i))
			}()
		}
	}()
	t.Cleanup(func() { g.end() })
	// Let the good client's connections be made before the attack.
	time.Sleep(time.Second)
}

// send posts one event. Like an SDK, it sends again (the same event id,
// which the connector counts once) when the connection failed before an
// answer, e.g. an idle keep-alive connection the server closed as the
// request went out; a status other than 200 is a failure.
func (g *goodTraffic) send(r *advRig, id string) {
	body := "[" + event(id, time.Now().UnixMilli()) + "]"
	var resp *http.Response
	var err error
	for try := range 3 {
		if try > 0 {
			g.retries.Add(1)
			time.Sleep(100 * time.Millisecond)
		}
		if resp, err = g.client.Post(r.events+"/v1/events", "application/json", strings.NewReader(body)); err == nil {
			break
		}
	}
	if err != nil {
		g.fail("transport error: " + shortErr(err))
		return
	}
	ans := r.read("good event", resp)
	var a answer
	if resp.StatusCode != http.StatusOK || json.Unmarshal(ans, &a) != nil || a.Accepted != 1 {
		g.fail(fmt.Sprintf("status %d", resp.StatusCode))
		return
	}
	g.acked.Add(1)
}

func (g *goodTraffic) fail(why string) {
	g.mu.Lock()
	g.failures[why]++
	g.mu.Unlock()
}

// end stops the traffic and waits for the requests in flight.
func (g *goodTraffic) end() {
	select {
	case <-g.stop:
	default:
		close(g.stop)
	}
	<-g.done
	g.client.CloseIdleConnections()
}

// shortErr is an error's text without the URL (the marker may be in it).
func shortErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && len(s) > 80 {
		s = s[i+2:]
	}
	return s
}

// attackEnd closes the attack phase: the RSS peak during it.
func (r *advRig) attackEnd(t *testing.T, bound int64) int64 {
	t.Helper()
	peak, killed := r.rss.phase()
	if killed {
		t.Fatalf("RSS passed %d MiB during the attack: the watchdog killed the collector", advHardCap>>20)
	}
	if peak > bound {
		t.Errorf("RSS peak during the attack %d MiB, bound %d MiB", peak>>20, bound>>20)
	}
	return peak
}

// finish stops the good traffic, checks that the collector is alive, that
// every good event was acknowledged and is stored, RSS after the attack,
// and that no answer echoed the marker; it logs the attack's table row.
func (r *advRig) finish(t *testing.T, attack string, tried int, statuses map[string]int, bound, peak int64) {
	t.Helper()
	time.Sleep(2 * time.Second) // RSS after the attack, with traffic on
	r.good.end()
	if exited, err := r.c.p.Exited(); exited {
		t.Fatalf("the collector exited under the attack: %v", err)
	}
	if resp, err := http.Get("http://" + r.c.health + "/"); err != nil {
		t.Errorf("health check after the attack: %v", err)
	} else if _ = resp.Body.Close(); resp.StatusCode != http.StatusOK {
		t.Errorf("health check after the attack: status %d", resp.StatusCode)
	}
	sent, acked := r.good.sent.Load(), r.good.acked.Load()
	if sent != acked || sent == 0 {
		t.Errorf("good traffic: %d events sent, %d acknowledged; failures %v", sent, acked, r.good.failures)
	}
	const q = "sum(pulse_events_total)"
	assert.Eventually(t, func() bool { v, ok := instant(t, r.api, q); return ok && int64(v) == acked }, 20*time.Second, 100*time.Millisecond)
	stored, _ := instant(t, r.api, q)
	if int64(stored) != acked {
		t.Errorf("stored sum(pulse_events_total) = %v, want the %d good events acknowledged", stored, acked)
	}
	after, killed := r.rss.phase()
	if killed {
		t.Fatal("the watchdog killed the collector after the attack")
	}
	if after > bound {
		t.Errorf("RSS peak after the attack %d MiB, bound %d MiB", after>>20, bound>>20)
	}
	r.mu.Lock()
	if len(r.echoes) > 0 {
		t.Errorf("%d answers echo the client's text, e.g. %s", len(r.echoes), r.echoes[0])
	}
	r.mu.Unlock()
	keys := slices.Sorted(maps.Keys(statuses))
	var st []string
	for _, k := range keys {
		st = append(st, fmt.Sprintf("%s ×%d", k, statuses[k]))
	}
	t.Logf("attack row | %s | %d | %s | %d MiB (after %d MiB, bound %d MiB) | %d sent, %d acknowledged, %.0f stored, %d sent again",
		attack, tried, strings.Join(st, ", "), max(peak, after)>>20, after>>20, bound>>20, sent, acked, stored, r.good.retries.Load())
	r.c.stop(t)
}

// tally counts answers by status (or transport failure) for one attack.
type tally struct {
	mu sync.Mutex
	m  map[string]int
}

func (y *tally) add(k string) {
	y.mu.Lock()
	defer y.mu.Unlock()
	if y.m == nil {
		y.m = map[string]int{}
	}
	y.m[k]++
}

func (y *tally) snapshot() map[string]int {
	y.mu.Lock()
	defer y.mu.Unlock()
	return maps.Clone(y.m)
}

// isJSONError reports whether an answer is a JSON object (the receiver's
// {"error":...} or the Prometheus API's {"status":"error",...}).
func isJSONError(body []byte) bool {
	var m map[string]any
	return json.Unmarshal(body, &m) == nil && (m["error"] != nil || m["status"] == "error")
}

// TestAdversarial replays the attacks of issue 12, one collector each.
func TestAdversarial(t *testing.T) {
	binary(t)
	t.Run("1-query-memory", advQueryMemory)
	t.Run("1b-query-cancel-on-disconnect", advQueryCancel)
	t.Run("2-gzip-bomb", advGzipBomb)
	t.Run("3-slow-bodies", advSlowBodies)
	t.Run("4-snapshot-cardinality", advSnapshotCardinality)
	t.Run("5-fd-exhaustion", advFDExhaustion)
	t.Run("6-slow-and-deep-queries", advSlowQueries)
	t.Run("7-strict-json-and-no-echo", advStrict)
	t.Run("7b-http-layer-errors-as-json", advHTTPLayerErrors)
}

// Defect 1: four 10-year subqueries at a 1 s step in parallel; each must
// be refused (422 or 400, as JSON) without the memory it would take. Then
// 24 one-day subqueries at once (86,400 samples each), more than
// max_concurrency: answered, within the memory bound.
func advQueryMemory(t *testing.T) {
	// query.max_memory (512 MiB by default) above an idle collector.
	const bound = 768 << 20
	r := startAdv(t, advOptions{})
	r.startGood(t)
	var y tally
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 90 * time.Second}
	const n = 4
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			resp, err := client.Get(r.api + "/api/v1/query?query=" + url.QueryEscape("count_over_time(vector(1)[10y:1s])"))
			if err != nil {
				y.add("no answer")
				return
			}
			body := r.read("query", resp)
			y.add(strconv.Itoa(resp.StatusCode))
			if (resp.StatusCode != http.StatusUnprocessableEntity && resp.StatusCode != http.StatusBadRequest) || !isJSONError(body) {
				t.Errorf("10y:1s subquery: status %d, want 422 or 400 as JSON: %.300s", resp.StatusCode, body)
			}
			t.Logf("10y:1s subquery answered %d in %s: %.200s", resp.StatusCode, time.Since(start).Round(time.Millisecond), body)
		}()
	}
	wg.Wait()
	// Queries each within the per-query limit, more at once than
	// max_concurrency: together they stay within the memory budget.
	const m = 24
	for range m {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Get(r.api + "/api/v1/query?query=" + url.QueryEscape("count_over_time(vector(1)[1d:1s])"))
			if err != nil {
				y.add("no answer")
				t.Errorf("1d:1s subquery: no answer: %s", shortErr(err))
				return
			}
			body := r.read("query", resp)
			y.add(strconv.Itoa(resp.StatusCode))
			if resp.StatusCode != http.StatusOK && (resp.StatusCode != http.StatusUnprocessableEntity || !isJSONError(body)) {
				t.Errorf("1d:1s subquery: status %d, want 200 or 422 as JSON: %.300s", resp.StatusCode, body)
			}
		}()
	}
	wg.Wait()
	peak := r.attackEnd(t, bound)
	r.finish(t, "`count_over_time(vector(1)[10y:1s])` ×4 in parallel, then `[1d:1s]` ×24 in parallel", n+m, y.snapshot(), bound, peak)
}

// Defect 1, cancel on client disconnect: four slow range queries (seconds
// each, distinct), as many as max_concurrency, whose clients disconnect
// after 300 ms. Their evaluation must stop, so that a query sent next is
// answered at once instead of waiting for a slot.
func advQueryCancel(t *testing.T) {
	// Issue 12, defect 1. The engine checks its context once per series
	// in a range function over a subquery, so a one-series query of that
	// shape runs to its end after its client left. promstore bounds that
	// work instead: such a query may scan at most max_samples × 16 points
	// (16.8 M, under a second). These four scan 9.7 M points each, just
	// under the bound, and must free their slots soon after their clients
	// give up.
	const bound = 768 << 20
	r := startAdv(t, advOptions{})
	r.startGood(t)
	var y tally
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 90 * time.Second}
	end := time.Now()
	const k = 4
	for i := range k {
		// Distinct steps: identical range queries would share one
		// evaluation (range_cache_ttl).
		slow := url.Values{
			"query": {"quantile_over_time(0.5, vector(time())[6h:1s])"},
			"start": {strconv.FormatInt(end.Add(-time.Hour).Unix(), 10)},
			"end":   {strconv.FormatInt(end.Unix(), 10)},
			"step":  {strconv.Itoa(8 + i)},
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.api+"/api/v1/query_range", strings.NewReader(slow.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := client.Do(req)
			if err != nil {
				y.add("client gave up")
				return
			}
			body := r.read("query", resp)
			y.add(strconv.Itoa(resp.StatusCode))
			t.Logf("slow query answered %d within 300 ms: %.200s", resp.StatusCode, body)
		}()
	}
	wg.Wait()
	start := time.Now()
	resp, err := client.Get(r.api + "/api/v1/query?query=" + url.QueryEscape("vector(1)"))
	took := time.Since(start)
	if err != nil {
		t.Fatalf("a query after the clients gave up: %s", shortErr(err))
	}
	r.read("query", resp)
	y.add(strconv.Itoa(resp.StatusCode))
	t.Logf("a query after %d clients gave up answered %d in %s", k, resp.StatusCode, took.Round(time.Millisecond))
	if resp.StatusCode != http.StatusOK || took > 3*time.Second {
		t.Errorf("a query after %d clients gave up: status %d after %s, want 200 within 3 s (their queries cancelled or bounded)", k, resp.StatusCode, took.Round(time.Millisecond))
	}
	peak := r.attackEnd(t, bound)
	r.finish(t, "4 slow range queries (`quantile_over_time(0.5, vector(time())[6h:1s])` over 1 h at steps of 8-11 s, 9.7 M points each, under the scan bound) whose clients give up after 300 ms, then `vector(1)`", k+1, y.snapshot(), bound, peak)
}

// Defect 2: eight gzip requests of about 5 KB, each one event whose
// properties.metadata is an array of 2.4 M numbers (4.8 MiB inflated).
func advGzipBomb(t *testing.T) {
	const bound = 512 << 20
	r := startAdv(t, advOptions{})
	r.startGood(t)
	zeros := strings.Repeat("0,", 2_400_000-1) + "0"
	ev := strings.Replace(event("bomb-"+r.marker, time.Now().UnixMilli()), `"properties":{"page":"/p"}`, `"properties":{"page":"/p","metadata":[`+zeros+`]}`, 1)
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	_, _ = zw.Write([]byte("[" + ev + "]"))
	_ = zw.Close()
	t.Logf("bomb: %d bytes gzipped, %d inflated", gz.Len(), len(ev)+2)
	var y tally
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 60 * time.Second}
	const n = 8
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, r.events+"/v1/events", bytes.NewReader(gz.Bytes()))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Content-Encoding", "gzip")
			resp, err := client.Do(req)
			if err != nil {
				y.add("no answer")
				t.Errorf("gzip bomb: no answer: %s", shortErr(err))
				return
			}
			body := r.read("gzip bomb", resp)
			y.add(strconv.Itoa(resp.StatusCode))
			if (resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusRequestEntityTooLarge) || !isJSONError(body) {
				t.Errorf("gzip bomb: status %d, want 400 or 413 as JSON: %.300s", resp.StatusCode, body)
			}
		}()
	}
	wg.Wait()
	peak := r.attackEnd(t, bound)
	r.finish(t, fmt.Sprintf("gzip bomb (%d B → 4.8 MiB, 2.4 M numbers) ×8 in parallel", gz.Len()), n, y.snapshot(), bound, peak)
}

// Defect 3: 1,024 connections send their headers and one body byte, then
// one more every 20 s; while they are held (15 s), good traffic must still
// be answered 200 and every endpoint must still admit requests. They are
// still open at the SIGTERM that ends the test, which must stop the
// collector within 20 s all the same.
func advSlowBodies(t *testing.T) {
	const bound = 512 << 20
	const conns, hold = 1024, 15 * time.Second
	r := startAdv(t, advOptions{})
	r.startGood(t)
	addr := strings.TrimPrefix(r.events, "http://")
	slow := make([]net.Conn, conns)
	var dialErrs atomic.Int64
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < conns; i = int(next.Add(1) - 1) {
				c, err := net.DialTimeout("tcp", addr, 5*time.Second)
				if err != nil {
					dialErrs.Add(1)
					continue
				}
				_, err = fmt.Fprintf(c, "POST /v1/events HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[", addr)
				if err != nil {
					dialErrs.Add(1)
				}
				slow[i] = c
			}
		}()
	}
	wg.Wait()
	defer func() {
		for _, c := range slow {
			if c != nil {
				_ = c.Close()
			}
		}
	}()
	t.Logf("%d slow connections open (%d failed to open)", conns-int(dialErrs.Load()), dialErrs.Load())
	// One byte every 20 s on each, and probes of every endpoint while held.
	var y tally
	held := time.After(hold)
	trickle := time.NewTicker(20 * time.Second)
	defer trickle.Stop()
	probe := time.NewTicker(3 * time.Second)
	defer probe.Stop()
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	probes := 0
loop:
	for {
		select {
		case <-held:
			break loop
		case <-trickle.C:
			for _, c := range slow {
				if c != nil {
					_, _ = c.Write([]byte(" "))
				}
			}
		case <-probe.C:
			for _, path := range []string{"/v1/events", "/v1/recommendations", "/v1/model-metrics", "/v1/business-metrics", "/v1/system-metrics"} {
				probes++
				resp, err := client.Post(r.events+path, "application/json", strings.NewReader(`{}`))
				if err != nil {
					t.Errorf("probe %s while slow bodies are held: no answer: %s", path, shortErr(err))
					continue
				}
				body := r.read("probe", resp)
				if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable || !isJSONError(body) {
					t.Errorf("probe %s while slow bodies are held: status %d, want an answer to the request (400): %.200s", path, resp.StatusCode, body)
				}
			}
		}
	}
	// What the server did with the slow connections.
	for _, c := range slow {
		if c == nil {
			continue
		}
		_ = c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		line, err := bufio.NewReader(c).ReadString('\n')
		switch {
		case strings.HasPrefix(line, "HTTP/1.1 "):
			y.add("answered " + strings.Fields(line)[1])
		case errors.Is(err, os.ErrDeadlineExceeded):
			y.add("still open")
		default:
			y.add("closed")
		}
	}
	// The slow clients keep their connections open: the SIGTERM in finish
	// must still stop the collector within 20 s.
	peak := r.attackEnd(t, bound)
	t.Logf("%d probes of the five endpoints while held", probes)
	r.finish(t, fmt.Sprintf("%d slow-body connections held %s (1 B per 20 s)", conns, hold), conns, y.snapshot(), bound, peak)
}

// Defect 4: 100 requests of 1,000 business snapshots, every one with its
// own metricName: the stored series stay bounded, the rest is folded.
func advSnapshotCardinality(t *testing.T) {
	const bound = 768 << 20
	const requests, items = 100, 1000
	r := startAdv(t, advOptions{})
	r.startGood(t)
	now := time.Now().UnixMilli()
	var y tally
	var wg sync.WaitGroup
	next := atomic.Int64{}
	client := &http.Client{Timeout: 60 * time.Second}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < requests; i = int(next.Add(1) - 1) {
				var b strings.Builder
				b.WriteByte('[')
				for j := range items {
					if j > 0 {
						b.WriteByte(',')
					}
					fmt.Fprintf(&b, `{"metricId":"m-%d-%d","metricName":"biz-%s-%d-%d","category":"revenue","value":12.5,"unit":"USD","trend":"up",`+
						`"dimensions":{"timeGranularity":"daily","platform":"web"},"confidence":0.9,"periodStart":%d,"periodEnd":%d,"timestamp":%d}`,
						i, j, r.marker, i, j, now-86400000, now, now)
				}
				b.WriteByte(']')
				resp, err := client.Post(r.events+"/v1/business-metrics", "application/json", strings.NewReader(b.String()))
				if err != nil {
					y.add("no answer")
					t.Errorf("snapshot request %d: no answer: %s", i, shortErr(err))
					continue
				}
				body := r.read("snapshots", resp)
				y.add(strconv.Itoa(resp.StatusCode))
				if resp.StatusCode != http.StatusOK {
					t.Errorf("snapshot request %d: status %d, want 200: %.300s", i, resp.StatusCode, body)
				}
			}
		}()
	}
	wg.Wait()
	peak := r.attackEnd(t, bound)
	// The snapshots are stored when answered; read what the store holds.
	series, _ := instant(t, r.api, `count({__name__=~"pulse_business_.+"})`)
	names, _ := instant(t, r.api, `count(count by (metric_name) ({__name__=~"pulse_business_.+"}))`)
	other, _ := instant(t, r.api, `count({__name__=~"pulse_business_.+",metric_name="_other"})`)
	t.Logf("stored: %.0f business series, %.0f metric_name values, %.0f series folded into metric_name=\"_other\"", series, names, other)
	// At the receiver's defaults: 1,000 values per label, 2,000 label sets
	// per family, and the families of one business snapshot.
	if names > 1001 || series > 20_000 {
		t.Errorf("%d unique metricName values made %.0f series with %.0f metric_name values; want at most 1,001 values and 20,000 series", requests*items, series, names)
	}
	if other == 0 {
		t.Error(`no series folded into metric_name="_other"`)
	}
	if n := r.telemetry(t, "otelcol_receiver_analytics_label_overflow"); n == 0 {
		t.Error("otelcol_receiver_analytics_label_overflow is 0 on the collector's telemetry after values were folded")
	} else {
		t.Logf("otelcol_receiver_analytics_label_overflow: %.0f", n)
	}
	r.finish(t, fmt.Sprintf("%d requests × %d snapshots with unique metricName", requests, items), requests, y.snapshot(), bound, peak)
}

// Defect 5: under a limit of 2,048 descriptors, 2,100 keep-alive
// connections (1,400 on the receiver, 700 on the query API), each after
// one request: the collector survives and good traffic is still stored.
func advFDExhaustion(t *testing.T) {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Fatal("prlimit (util-linux) is not installed")
	}
	const bound = 512 << 20
	r := startAdv(t, advOptions{wrap: []string{prlimit, "--nofile=2048:2048", "--"}})
	limits, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", r.c.p.Pid()))
	if !slices.ContainsFunc(strings.Split(string(limits), "\n"), func(l string) bool {
		return strings.Join(strings.Fields(l), " ") == "Max open files 2048 2048 files"
	}) {
		t.Fatalf("the collector does not run with 2,048 descriptors: %v\n%s", err, limits)
	}
	r.startGood(t)
	targets := []struct {
		addr, request string
		n             int
	}{
		{strings.TrimPrefix(r.events, "http://"), "POST /v1/events HTTP/1.1\r\nHost: pulse\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", 1400},
		{strings.TrimPrefix(r.api, "http://"), "GET /api/v1/query?query=1 HTTP/1.1\r\nHost: pulse\r\n\r\n", 700},
	}
	var y tally
	var mu sync.Mutex
	var open []net.Conn
	defer func() {
		for _, c := range open {
			_ = c.Close()
		}
	}()
	total := 0
	for _, tg := range targets {
		total += tg.n
		var wg sync.WaitGroup
		next := atomic.Int64{}
		for range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= int64(tg.n) {
					c, err := net.DialTimeout("tcp", tg.addr, 3*time.Second)
					if err != nil {
						y.add("not connected")
						continue
					}
					mu.Lock()
					open = append(open, c)
					mu.Unlock()
					_ = c.SetDeadline(time.Now().Add(5 * time.Second))
					if _, err := io.WriteString(c, tg.request); err != nil {
						y.add("closed")
						continue
					}
					resp, err := http.ReadResponse(bufio.NewReader(c), nil)
					if err != nil {
						y.add("closed")
						continue
					}
					r.read("fd attack", resp)
					y.add(strconv.Itoa(resp.StatusCode))
					_ = c.SetDeadline(time.Time{})
				}
			}()
		}
		wg.Wait()
	}
	t.Logf("%d connections tried: %v", total, y.snapshot())
	time.Sleep(5 * time.Second) // held open, idle, beside the good traffic
	// How many the server closed (idle keep-alive connections reclaimed).
	closed := 0
	for _, c := range open {
		_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
			closed++
		}
	}
	t.Logf("after 5 s idle: %d of %d connections closed by the server", closed, len(open))
	peak := r.attackEnd(t, bound)
	for _, c := range open {
		_ = c.Close()
	}
	open = nil
	r.finish(t, "2,100 keep-alive connections under `prlimit --nofile=2048`", total, y.snapshot(), bound, peak)
}

// Defect 6: a query that runs past query.timeout (50 ms here) is answered
// 503 as JSON, not with a closed connection; 40 KB and 200 KB of nested
// parentheses are answered 400 at once.
func advSlowQueries(t *testing.T) {
	const bound = 512 << 20
	// 50 ms: the query below takes about 200 ms on an idle 2-core machine
	// (0.3 to 0.5 s under load), so it always runs past the timeout.
	const timeout = 50 * time.Millisecond
	r := startAdv(t, advOptions{promstore: "    query:\n      timeout: 50ms\n"})
	r.startGood(t)
	var y tally
	client := &http.Client{Timeout: 60 * time.Second}
	// Over an hour at an 8 s step, each step takes the median of a 6 h
	// window of a 1 s subquery: 9.7 M points, just under promstore's
	// per-series scan bound (max_samples × 16), 0.3 to 0.5 s of work on
	// the 2-core machine, little memory.
	end := time.Now()
	form := url.Values{
		"query": {"quantile_over_time(0.5, vector(time())[6h:1s])"},
		"start": {strconv.FormatInt(end.Add(-time.Hour).Unix(), 10)},
		"end":   {strconv.FormatInt(end.Unix(), 10)},
		"step":  {"8"},
	}
	start := time.Now()
	resp, err := client.PostForm(r.api+"/api/v1/query_range", form)
	took := time.Since(start)
	if err != nil {
		y.add("no answer")
		t.Errorf("slow query: no answer after %s: %s", took.Round(time.Millisecond), shortErr(err))
	} else {
		body := r.read("slow query", resp)
		y.add(strconv.Itoa(resp.StatusCode))
		t.Logf("slow query answered %d after %s: %.200s", resp.StatusCode, took.Round(time.Millisecond), body)
		if resp.StatusCode != http.StatusServiceUnavailable || !isJSONError(body) || !strings.Contains(string(body), `"errorType":"timeout"`) {
			t.Errorf("slow query: status %d, want 503 with errorType timeout as JSON: %.300s", resp.StatusCode, body)
		}
		// The answer must come before the write_timeout (30 s) closes the
		// connection. The engine notices its deadline only between series
		// in this shape, which the scan bound keeps under a second.
		if took > timeout+3*time.Second {
			t.Errorf("slow query answered after %s, query.timeout is %s, write_timeout 30 s", took.Round(time.Millisecond), timeout)
		}
	}
	for _, n := range []int{20_000, 100_000} {
		q := strings.Repeat("(", n) + "1" + strings.Repeat(")", n)
		start := time.Now()
		resp, err := client.PostForm(r.api+"/api/v1/query", url.Values{"query": {q}})
		took := time.Since(start)
		if err != nil {
			y.add("no answer")
			t.Errorf("%d KB of parentheses: no answer after %s: %s", len(q)>>10, took.Round(time.Millisecond), shortErr(err))
			continue
		}
		body := r.read("parentheses", resp)
		y.add(strconv.Itoa(resp.StatusCode))
		t.Logf("%d KB of nested parentheses answered %d after %s", len(q)/1000, resp.StatusCode, took.Round(time.Millisecond))
		if resp.StatusCode != http.StatusBadRequest || !isJSONError(body) {
			t.Errorf("%d KB of parentheses: status %d, want 400 as JSON: %.300s", len(q)/1000, resp.StatusCode, body)
		}
		if took > time.Second {
			t.Errorf("%d KB of parentheses answered after %s, want under 1 s", len(q)/1000, took.Round(time.Millisecond))
		}
	}
	peak := r.attackEnd(t, bound)
	r.finish(t, "a query past query.timeout (50 ms, 9.7 M points); 40 KB and 200 KB of nested parentheses", 3, y.snapshot(), bound, peak)
}

// Defect 7: bodies that are not JSON (RFC 8259) are answered 400; the
// HTTP layer's own errors are JSON too; no answer echoes client text.
func advStrict(t *testing.T) {
	const bound = 512 << 20
	r := startAdv(t, advOptions{})
	r.startGood(t)
	now := time.Now().UnixMilli()
	edits := []struct{ name, old, new string }{
		{"NaN", `"dataRetentionDays":30`, `"dataRetentionDays":NaN`},
		{"Infinity", `"dataRetentionDays":30`, `"dataRetentionDays":Infinity`},
		{"-Infinity", `"dataRetentionDays":30`, `"dataRetentionDays":-Infinity`},
		{"-inf", `"dataRetentionDays":30`, `"dataRetentionDays":-inf`},
		{`\q escape`, `"category":"workout"`, `"category":"work\qout"`},
		{`\' escape`, `"category":"workout"`, `"category":"work\'out"`},
		{"raw NUL", `"category":"workout"`, "\"category\":\"work\x00out\""},
		{"raw 0x01", `"category":"workout"`, "\"category\":\"work\x01out\""},
		{"raw newline", `"category":"workout"`, "\"category\":\"work\nout\""},
		{"raw 0x1f", `"category":"workout"`, "\"category\":\"work\x1fout\""},
		{"030", `"dataRetentionDays":30`, `"dataRetentionDays":030`},
		{".5", `"x":10`, `"x":.5`},
		{"1.", `"x":10`, `"x":1.`},
		{"+1", `"x":10`, `"x":+1`},
	}
	var y tally
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	for i, e := range edits {
		ev := event(fmt.Sprintf("strict-%s-%d", r.marker, i), now)
		if !strings.Contains(ev, e.old) {
			t.Fatalf("%s: %q is not in the test event", e.name, e.old)
		}
		body := "[" + strings.Replace(ev, e.old, e.new, 1) + "]"
		resp, err := client.Post(r.events+"/v1/events", "application/json", strings.NewReader(body))
		if err != nil {
			t.Errorf("%s: no answer: %s", e.name, shortErr(err))
			continue
		}
		ans := r.read(e.name, resp)
		y.add(strconv.Itoa(resp.StatusCode))
		if resp.StatusCode != http.StatusBadRequest || !isJSONError(ans) || !strings.Contains(string(ans), "malformed JSON") {
			t.Errorf("body with %s: status %d, want 400 malformed JSON: %.300s", e.name, resp.StatusCode, ans)
		}
	}
	// Unknown path and unknown Content-Encoding carry the marker.
	resp, err := client.Post(r.events+"/v1/"+r.marker, "application/json", strings.NewReader("[]"))
	if err != nil {
		t.Fatal(err)
	}
	if ans := r.read("404", resp); resp.StatusCode != http.StatusNotFound || !isJSONError(ans) {
		t.Errorf("unknown path: status %d, want 404 as JSON: %.200s", resp.StatusCode, ans)
	}
	y.add(strconv.Itoa(resp.StatusCode))
	req, _ := http.NewRequest(http.MethodPost, r.events+"/v1/events", strings.NewReader("["+event("enc-"+r.marker, now)+"]"))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", r.marker)
	if resp, err = client.Do(req); err != nil {
		t.Fatal(err)
	}
	if ans := r.read("Content-Encoding", resp); (resp.StatusCode != http.StatusUnsupportedMediaType && resp.StatusCode != http.StatusBadRequest) || !isJSONError(ans) {
		t.Errorf("unknown Content-Encoding: status %d, want 415 or 400 as JSON: %.200s", resp.StatusCode, ans)
	}
	y.add(strconv.Itoa(resp.StatusCode))
	peak := r.attackEnd(t, bound)
	r.finish(t, "14 non-JSON bodies; 404 and Content-Encoding with client text", len(edits)+2, y.snapshot(), bound, peak)
}

// Defect 7, the HTTP layer: errors Go's HTTP server answers itself, before
// any handler runs, are JSON like every other answer, without client text.
func advHTTPLayerErrors(t *testing.T) {
	const bound = 512 << 20
	r := startAdv(t, advOptions{})
	r.startGood(t)
	var y tally
	addr := strings.TrimPrefix(r.events, "http://")
	raw := []struct {
		name, request string
		want          int
	}{
		{"headers over the limit", "POST /v1/events HTTP/1.1\r\nHost: pulse\r\nX-Big: " + strings.Repeat(r.marker, (2<<20)/len(r.marker)) + "\r\n\r\n", http.StatusRequestHeaderFieldsTooLarge},
		{"unsupported Transfer-Encoding", "POST /v1/events HTTP/1.1\r\nHost: pulse\r\nTransfer-Encoding: " + r.marker + "\r\n\r\n", http.StatusNotImplemented},
		{"malformed request line", "POST /v1/" + r.marker + " HTTP/9\r\nHost: pulse\r\n\r\n", http.StatusBadRequest},
		{"no Host header", "POST /v1/events HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", http.StatusBadRequest},
	}
	for _, q := range raw {
		status, ctype, body, err := rawRequest(addr, q.request)
		if err != nil {
			t.Errorf("%s: %v", q.name, err)
			continue
		}
		r.check(q.name, body)
		y.add(strconv.Itoa(status))
		if status != q.want || !strings.HasPrefix(ctype, "application/json") || !isJSONError(body) {
			t.Errorf("%s: status %d (%s), want %d as JSON: %.200s", q.name, status, ctype, q.want, body)
		}
	}
	peak := r.attackEnd(t, bound)
	r.finish(t, "4 requests net/http refuses (431, 501, 400 ×2) with client text", len(raw), y.snapshot(), bound, peak)
}

// rawRequest writes request on a new connection and reads one answer.
func rawRequest(addr, request string) (status int, contentType string, body []byte, err error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 0, "", nil, err
	}
	defer func() { _ = c.Close() }()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // the server may answer before it has read everything
		_, _ = io.WriteString(c, request)
		<-ctx.Done()
	}()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, "", nil, fmt.Errorf("no HTTP answer: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, resp.Header.Get("Content-Type"), body, nil
}
