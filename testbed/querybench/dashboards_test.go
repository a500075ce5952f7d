package querybench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pulse-otel/pulse/exporter/promstoreexporter"
	"github.com/pulse-otel/pulse/internal/catalog"
	"github.com/pulse-otel/pulse/internal/dashboards"
	"github.com/pulse-otel/pulse/internal/metricgen"
	"github.com/pulse-otel/pulse/internal/testutil"
	"github.com/pulse-otel/pulse/testbed/internal/knob"
	"github.com/pulse-otel/pulse/testbed/internal/pulserun"
)

// TestDashboardViewers is the viewer-load proof of issue 15: promstore
// holding 30 days of catalog-shaped data, 1,000 simulated Grafana viewers
// of the built-in dashboards (config/dashboards, compiled here), each
// refreshing every 30 s with every panel query of its dashboard, at most 6
// in flight per viewer as a browser allows, while the connector's exports
// of 10k events/s keep arriving. It reports latency per panel type, errors,
// queries/s, the share of range queries another viewer's identical query
// answered, and the exports' append latency and freshness with and without
// viewers.
//
// Knobs: QUERYBENCH_VIEWERS (1000), QUERYBENCH_REFRESH (30s),
// QUERYBENCH_DURATION (2m, measured after QUERYBENCH_WARMUP, 30s),
// QUERYBENCH_DAYS (30), QUERYBENCH_STEP (1m: the fill's resolution),
// QUERYBENCH_DENSE (24h: the last stretch at the connector's 15 s),
// QUERYBENCH_BASELINE (30s of ingest alone), QUERYBENCH_PX (1000: a
// panel's width in pixels, Grafana's maxDataPoints), QUERYBENCH_RULE_STEP
// (5m: the recording rules' backfilled resolution; promstore evaluates
// them every minute during the run), QUERYBENCH_RANGE_CACHE_TTL
// (promstore's default, 10s; 0 turns the range cache off),
// QUERYBENCH_IDLE_CONNS (100: the idle connections kept to the store, as
// Grafana's data source proxy keeps them).
//
// QUERYBENCH_BIN=1 runs the built binary instead of an in-process
// promstore (binary_test.go): PULSE_BIN (default bin/otelcol-pulse) with the
// shipped config, fed by testbed/loadgen at QUERYBENCH_RATE events/s
// (10000); the range cache TTL is then the shipped one. It logs the CPU of
// the collector and of this process per phase; QUERYBENCH_PPROF=FILE
// writes a CPU profile of the collector during the viewers.
func TestDashboardViewers(t *testing.T) {
	if os.Getenv("QUERYBENCH") != "1" {
		t.Skip("manual benchmark; run with QUERYBENCH=1")
	}
	viewers := knob.Int(t, "QUERYBENCH_VIEWERS", 1000)
	refresh := knob.Duration(t, "QUERYBENCH_REFRESH", 30*time.Second)
	duration := knob.Duration(t, "QUERYBENCH_DURATION", 2*time.Minute)
	warmup := knob.Duration(t, "QUERYBENCH_WARMUP", 30*time.Second)
	baseline := knob.Duration(t, "QUERYBENCH_BASELINE", 30*time.Second)
	days := knob.Int(t, "QUERYBENCH_DAYS", 30)
	px := knob.Int(t, "QUERYBENCH_PX", 1000)

	binMode := os.Getenv("QUERYBENCH_BIN") == "1"
	rate := knob.Int(t, "QUERYBENCH_RATE", 10000)

	boards, rec, rules := compiledBoards(t, t.TempDir())
	cfg := promstoreexporter.NewFactory().CreateDefaultConfig().(*promstoreexporter.Config)
	cfg.NetAddr.Endpoint = testutil.FreeAddr(t)
	cfg.Directory = t.TempDir()
	var runDir string
	if binMode {
		runDir, cfg.Directory = binaryDir(t)
	}
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	cfg.RetryConfig.Enabled = false
	cfg.Rules.Files = []string{rules}
	cfg.Query.RangeCacheTTL = knob.Duration(t, "QUERYBENCH_RANGE_CACHE_TTL", cfg.Query.RangeCacheTTL)
	require.NoError(t, cfg.Validate())

	gen := newCatalogGen()
	began := time.Now()
	end := time.Now().Truncate(time.Minute)
	samples := gen.fill(t, cfg, end.Add(-time.Duration(days)*24*time.Hour),
		end.Add(-knob.Duration(t, "QUERYBENCH_DENSE", 24*time.Hour)), end, knob.Duration(t, "QUERYBENCH_STEP", time.Minute))
	t.Logf("fill: %d series, %d samples over %d days in %s", gen.seriesCount(), samples, days, time.Since(began).Round(time.Second))
	began = time.Now()
	every := knob.Duration(t, "QUERYBENCH_RULE_STEP", 5*time.Minute)
	recorded := backfill(t, cfg, rec, end, 8*24*time.Hour, every)
	t.Logf("recording rules backfilled over 8 days at %s (the daily summary at 1d): %d samples in %s",
		every, recorded, time.Since(began).Round(time.Second))

	ctx := context.Background()
	// The viewers' browsers talk to Grafana, and Grafana's data source
	// proxy is the store's one client: its pool keeps up to 100 idle
	// connections ([dataproxy] max_idle_connections) and opens more when
	// needed (max_conns_per_host 0). The same here, rather than 6 per
	// viewer straight to the store.
	idle := knob.Int(t, "QUERYBENCH_IDLE_CONNS", 100)
	httpc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConns: idle, MaxIdleConnsPerHost: idle, IdleConnTimeout: 90 * time.Second}}
	began = time.Now()
	var (
		base  string
		exp   exporter.Metrics
		pulse *pulserun.Pulse
	)
	var pprofAddr string
	if binMode {
		o := pulserun.Options{Dir: runDir}
		if os.Getenv("QUERYBENCH_PPROF") != "" {
			pprofAddr = testutil.FreeAddr(t)
			o.Edit = pprofEdit(pprofAddr)
		}
		pulse = pulserun.Start(t, o)
		base = "http://" + pulse.API
		t.Logf("otelcol-pulse start (config/pulse.yaml, block open + WAL replay): %s", time.Since(began).Round(time.Millisecond))
	} else {
		var err error
		exp, err = promstoreexporter.NewFactory().CreateMetrics(ctx, exportertest.NewNopSettings(promstoreexporter.NewFactory().Type()), cfg)
		require.NoError(t, err)
		require.NoError(t, exp.Start(ctx, componenttest.NewNopHost()))
		t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
		base = "http://" + cfg.NetAddr.Endpoint
		t.Logf("promstore start (block open + WAL replay): %s", time.Since(began).Round(time.Millisecond))
	}
	var panels int
	for _, b := range boards {
		panels += len(b.queries)
		for _, q := range b.queries {
			_, points, err := q.do(httpc, base, time.Now(), px, b.span)
			require.NoError(t, err, "%s/%s", b.uid, q.title)
			if points == 0 {
				t.Logf("no data: %s/%s", b.uid, q.title)
			}
		}
	}
	t.Logf("%d dashboards, %d panel queries; %d viewers refreshing every %s: %.0f queries/s wanted",
		len(boards), panels, viewers, refresh, float64(viewers)*float64(panels)/float64(len(boards))/refresh.Seconds())

	var (
		alone, loaded ingestStats
		in            *ingest
		load          *loadIngest
		stopIngest    func()
	)
	var cpu *cpuMeter
	if binMode {
		cpu = newCPUMeter(pulse.Proc.Pid())
		load, stopIngest = startLoad(t, pulse, httpc, rate, time.Now())
		time.Sleep(baseline)
		stopIngest()
		cpu.lap(t, "ingest alone")
		load.summary(t)
		alone = load.take()
	} else {
		in = &ingest{exp: exp, gen: gen, httpc: httpc, base: base}
		stopIngest = in.start()
		time.Sleep(baseline)
		alone = in.take()
	}

	var (
		mu   sync.Mutex
		recs []queryRecord
	)
	measureFrom := time.Now().Add(warmup)
	deadline := measureFrom.Add(duration)
	if binMode {
		load, stopIngest = startLoad(t, pulse, httpc, rate, measureFrom)
		if path := os.Getenv("QUERYBENCH_PPROF"); path != "" {
			go fetchProfile(t, pprofAddr, duration/2, path)
		}
	}
	var wg sync.WaitGroup
	for v := range viewers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := boards[v%len(boards)]
			next := time.Now().Add(time.Duration(v) * refresh / time.Duration(viewers))
			for {
				time.Sleep(time.Until(next))
				if !time.Now().Before(deadline) {
					return
				}
				got := b.refresh(httpc, base, px)
				if next.After(measureFrom) {
					mu.Lock()
					recs = append(recs, got...)
					mu.Unlock()
				}
				next = next.Add(refresh)
			}
		}()
	}
	time.Sleep(time.Until(measureFrom))
	if !binMode {
		in.take() // drop the warm-up
	} else {
		cpu.lap(t, "warm-up")
	}
	wg.Wait()
	if binMode {
		cpu.lap(t, "viewers and ingest")
		stopIngest()
		load.summary(t)
		loaded = load.take()
	} else {
		loaded = in.take()
		stopIngest()
	}

	report(t, recs, duration, refresh, cfg.Query.RangeCacheTTL)
	alone.log(t, "ingest alone")
	loaded.log(t, "ingest with viewers")
}

// grafanaPanel is what one panel asks promstore for.
type grafanaPanel struct {
	title, kind, expr string
	instant           bool
}

type board struct {
	uid     string
	span    time.Duration
	queries []grafanaPanel
}

// compiledBoards compiles config/dashboards as pulsectl dashboards compile
// does, writes the recording rules the panels read into dir and reads back
// every panel's visible targets (Grafana sends no hidden one).
func compiledBoards(t *testing.T, dir string) ([]board, *dashboards.Recording, string) {
	t.Helper()
	defs, err := dashboards.Load(filepath.Join("..", "..", "config", "dashboards"))
	require.NoError(t, err)
	rec, err := dashboards.RecordingRules(defs)
	require.NoError(t, err)
	files, err := dashboards.CompileAll(defs, dashboards.ProvisioningOptions{})
	require.NoError(t, err)
	rules := filepath.Join(dir, "recording.yaml")
	require.NoError(t, os.WriteFile(rules, files[dashboards.RecordingFile], 0o600))
	var out []board
	for _, def := range defs {
		var d struct {
			UID  string `json:"uid"`
			Time struct {
				From string `json:"from"`
			} `json:"time"`
			Panels []struct {
				Type    string `json:"type"`
				Title   string `json:"title"`
				Targets []struct {
					Expr    string `json:"expr"`
					Instant bool   `json:"instant"`
					Hide    bool   `json:"hide"`
				} `json:"targets"`
			} `json:"panels"`
		}
		require.NoError(t, json.Unmarshal(files[dashboards.DashboardsDir+"/"+def.DashboardID+".json"], &d))
		span, err := parseGrafanaDuration(strings.TrimPrefix(d.Time.From, "now-"))
		require.NoError(t, err, d.UID)
		b := board{uid: d.UID, span: span}
		for _, p := range d.Panels {
			for _, tg := range p.Targets {
				if !tg.Hide {
					b.queries = append(b.queries, grafanaPanel{title: p.Title, kind: p.Type, expr: tg.Expr, instant: tg.Instant})
				}
			}
		}
		out = append(out, b)
	}
	return out, rec, rules
}

// backfill writes what the recording rules would have recorded over the
// span before end (at their interval, but at most every every; no panel
// looks further back than 7 days), as
// promtool tsdb create-blocks-from rules does: each rule evaluated as a
// range query over the filled data, its results written as one block,
// merged into the others.
func backfill(t *testing.T, cfg *promstoreexporter.Config, rec *dashboards.Recording, end time.Time, span, every time.Duration) int {
	t.Helper()
	opts := promstoreOptions(cfg)
	db, err := tsdb.Open(cfg.Directory, nil, nil, opts, nil)
	require.NoError(t, err)
	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 100_000_000, Timeout: time.Hour, LookbackDelta: 5 * time.Minute})
	w, err := tsdb.NewBlockWriter(slog.New(slog.DiscardHandler), cfg.Directory, opts.MaxBlockDuration)
	require.NoError(t, err)
	ctx := context.Background()
	app := w.AppenderV2(ctx)
	samples := 0
	for _, g := range rec.Groups.Groups {
		step := max(time.Duration(g.Interval), every)
		from := end.Add(-span)
		for _, r := range g.Rules {
			q, err := engine.NewRangeQuery(ctx, db, nil, r.Expr, from.Truncate(step), end, step)
			require.NoError(t, err, r.Record)
			res := q.Exec(ctx)
			require.NoError(t, res.Err, r.Record)
			m, err := res.Matrix()
			require.NoError(t, err, r.Record)
			for _, s := range m {
				b := labels.NewBuilder(s.Metric)
				b.Set("__name__", r.Record)
				for k, v := range r.Labels {
					b.Set(k, v)
				}
				lset := b.Labels()
				var ref storage.SeriesRef
				for _, p := range s.Floats {
					ref, err = app.Append(ref, lset, 0, p.T, p.F, nil, nil, storage.AOptions{})
					require.NoError(t, err, r.Record)
					samples++
				}
			}
			q.Close()
		}
	}
	require.NoError(t, app.Commit())
	require.NoError(t, db.Close())
	_, err = w.Flush(ctx)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	// The new block overlaps the others: merge them now, not during the run.
	db, err = tsdb.Open(cfg.Directory, nil, nil, opts, nil)
	require.NoError(t, err)
	require.NoError(t, db.Compact(ctx))
	require.NoError(t, db.Close())
	return samples
}

// parseGrafanaDuration reads Grafana's relative times (6h, 7d, 30d, 1w).
func parseGrafanaDuration(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := strconv.Atoi(n)
		return time.Duration(d) * 24 * time.Hour, err
	}
	if n, ok := strings.CutSuffix(s, "w"); ok {
		d, err := strconv.Atoi(n)
		return time.Duration(d) * 7 * 24 * time.Hour, err
	}
	return time.ParseDuration(s)
}

type queryRecord struct {
	kind, key string
	sent      time.Time
	lat       time.Duration
	instant   bool
	err       error
}

// refresh sends every query of b, at most 6 at a time (a browser's
// connections per host), and returns when all have answered.
func (b board) refresh(c *http.Client, base string, px int) []queryRecord {
	now := time.Now()
	out := make([]queryRecord, len(b.queries))
	sem := make(chan struct{}, 6)
	var wg sync.WaitGroup
	for i, q := range b.queries {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			start := time.Now()
			key, _, err := q.do(c, base, now, px, b.span)
			out[i] = queryRecord{kind: q.kind, key: key, sent: start, lat: time.Since(start), instant: q.instant, err: err}
		}()
	}
	wg.Wait()
	return out
}

// grafanaStep is the step Grafana's Prometheus datasource sends for span
// over px pixels: span/px rounded to Grafana's nice intervals, at least the
// datasource's scrape interval (15 s).
func grafanaStep(span time.Duration, px int) time.Duration {
	raw := span / time.Duration(px)
	if raw < dashboards.ScrapeInterval {
		return dashboards.ScrapeInterval
	}
	// Grafana's interval rounding (roundInterval): up to each bound, that value.
	for _, r := range [][2]time.Duration{
		{17500 * time.Millisecond, 15 * time.Second}, {25 * time.Second, 20 * time.Second}, {45 * time.Second, 30 * time.Second},
		{90 * time.Second, time.Minute}, {210 * time.Second, 2 * time.Minute}, {450 * time.Second, 5 * time.Minute},
		{750 * time.Second, 10 * time.Minute}, {1050 * time.Second, 15 * time.Minute}, {1500 * time.Second, 20 * time.Minute},
		{2700 * time.Second, 30 * time.Minute}, {5400 * time.Second, time.Hour}, {9000 * time.Second, 2 * time.Hour},
		{16200 * time.Second, 3 * time.Hour}, {32400 * time.Second, 6 * time.Hour}, {24 * time.Hour, 12 * time.Hour},
	} {
		if raw <= r[0] {
			return r[1]
		}
	}
	return 24 * time.Hour
}

// do sends q as Grafana would at now (range and instant queries POSTed as
// forms, start and end aligned to the step, Grafana's variables filled in)
// and returns the form (the range cache's key) and the points answered.
func (q grafanaPanel) do(c *http.Client, base string, now time.Time, px int, rng time.Duration) (string, int, error) {
	step := grafanaStep(rng, px)
	end := now.Truncate(step)
	v := url.Values{"query": {dashboards.Substitute(q.expr, rng, step)}}
	path := "/api/v1/query_range"
	if q.instant {
		path = "/api/v1/query"
		v.Set("time", strconv.FormatInt(end.Unix(), 10))
	} else {
		v.Set("start", strconv.FormatInt(end.Add(-rng).Truncate(step).Unix(), 10))
		v.Set("end", strconv.FormatInt(end.Unix(), 10))
		v.Set("step", strconv.FormatInt(int64(step/time.Second), 10))
	}
	key := path + "?" + v.Encode()
	resp, err := c.PostForm(base+path, v)
	if err != nil {
		return key, 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return key, 0, err
	}
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Values [][2]any `json:"values"`
				Value  [2]any   `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return key, 0, fmt.Errorf("HTTP %d: %w", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || r.Status != "success" {
		return key, 0, fmt.Errorf("HTTP %d: %s", resp.StatusCode, r.Error)
	}
	points := 0
	for _, s := range r.Data.Result {
		points += max(len(s.Values), 1)
	}
	return key, points, nil
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

func latLine(t *testing.T, name string, d []time.Duration) {
	t.Helper()
	r := func(x time.Duration) time.Duration { return x.Round(100 * time.Microsecond) }
	t.Logf("%-12s n=%7d p50=%9s p95=%9s p99=%9s max=%9s", name, len(d), r(pct(d, .5)), r(pct(d, .95)), r(pct(d, .99)), r(pct(d, 1)))
}

// report logs latency per panel type and overall, errors, queries/s, and
// the share of range queries another one's evaluation answered: promstore
// does not count its range-cache hits, so this is counted here, an
// identical range query sent within ttl of the one that started an
// evaluation being one it answers.
func report(t *testing.T, recs []queryRecord, duration, refresh, ttl time.Duration) {
	t.Helper()
	byKind := map[string][]time.Duration{}
	var all []time.Duration
	var errs int
	var firstErr error
	evalStart := map[string]time.Time{}
	var ranges, shared int
	slices.SortFunc(recs, func(a, b queryRecord) int { return a.sent.Compare(b.sent) })
	for _, r := range recs {
		if r.err != nil {
			errs++
			if firstErr == nil {
				firstErr = r.err
			}
			continue
		}
		byKind[r.kind] = append(byKind[r.kind], r.lat)
		all = append(all, r.lat)
		if r.instant {
			continue
		}
		ranges++
		if s, ok := evalStart[r.key]; ok && r.sent.Sub(s) < ttl {
			shared++
			continue
		}
		evalStart[r.key] = r.sent
	}
	t.Logf("%d queries in %s (refresh %s): %.1f queries/s answered, %d errors (first: %v)",
		len(recs), duration, refresh, float64(len(all))/duration.Seconds(), errs, firstErr)
	t.Logf("range queries answered by an identical one's evaluation (cache hit or shared flight, ttl %s): %d of %d (%.1f %%), %d distinct",
		ttl, shared, ranges, 100*float64(shared)/float64(max(ranges, 1)), len(evalStart))
	latLine(t, "all", all)
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		latLine(t, k, byKind[k])
	}
	p95 := pct(all, .95)
	t.Logf("goal p95 < 100ms: p95=%s => met=%v", p95.Round(100*time.Microsecond), p95 < 100*time.Millisecond && errs == 0)
}

// ingest is the connector's output at 10k events/s: a flush every 500 ms
// (its flush_interval) carrying every series, since at that rate nearly
// every series changes between flushes. After each export a probe polls
// the query API every 50 ms until the new samples show: that is the
// store's share of freshness (an event waits up to a further 500 ms for its
// flush).
type ingest struct {
	exp   exporter.Metrics
	gen   *catalogGen
	httpc *http.Client
	base  string

	mu            sync.Mutex
	appends, seen []time.Duration
	errs          int
	firstErr      error
}

func (in *ingest) start() (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			at := time.Now()
			md := in.gen.batch(at)
			err := in.exp.ConsumeMetrics(context.Background(), md)
			lat := time.Since(at)
			in.mu.Lock()
			in.appends = append(in.appends, lat)
			if err != nil {
				in.errs++
				in.firstErr = err
			}
			in.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				in.probe(at)
			}()
		}
	}()
	return func() { close(done); wg.Wait() }
}

// probe waits (at most 10 s) until the export of at is queryable.
func (in *ingest) probe(at time.Time) {
	v := url.Values{"query": {`max(timestamp(pulse_events_total{job="shop"}))`}}
	for time.Since(at) < 10*time.Second {
		resp, err := in.httpc.PostForm(in.base+"/api/v1/query", v)
		if err == nil {
			var r struct {
				Data struct {
					Result []struct {
						Value [2]any `json:"value"`
					} `json:"result"`
				} `json:"data"`
			}
			err = json.NewDecoder(resp.Body).Decode(&r)
			_ = resp.Body.Close()
			if err == nil && len(r.Data.Result) == 1 {
				s, _ := r.Data.Result[0].Value[1].(string)
				if f, _ := strconv.ParseFloat(s, 64); f*1000 >= float64(at.UnixMilli()) {
					in.mu.Lock()
					in.seen = append(in.seen, time.Since(at))
					in.mu.Unlock()
					return
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	in.mu.Lock()
	in.seen = append(in.seen, 10*time.Second)
	in.mu.Unlock()
}

type ingestStats struct {
	appends, seen []time.Duration
	errs          int
	firstErr      error
}

func (in *ingest) take() ingestStats {
	in.mu.Lock()
	defer in.mu.Unlock()
	s := ingestStats{in.appends, in.seen, in.errs, in.firstErr}
	in.appends, in.seen, in.errs, in.firstErr = nil, nil, 0, nil
	return s
}

func (s ingestStats) log(t *testing.T, name string) {
	t.Helper()
	t.Logf("%s: %d exports, %d failed (first: %v)", name, len(s.appends), s.errs, s.firstErr)
	latLine(t, "  append", s.appends)
	latLine(t, "  visible", s.seen)
}

// catalogGen holds one stream per series of every catalog metric, with
// label values a panel really selects on (the approach of
// internal/dashboards' data_test.go; internal/metricgen names every value
// key_N, which would leave those panels empty). It writes the same
// samples straight to a TSDB (the fill) and as the connector's OTel
// batches (the live exports), with the names promstore's translation
// gives them.
type catalogGen struct {
	metrics []catalog.Metric
	points  [][]*genPoint // per metric
	rng     *rand.Rand
	start   pcommon.Timestamp
}

type genPoint struct {
	attrs   [][2]string
	whole   float64
	value   float64   // sum or gauge
	buckets []float64 // histogram: observations per bucket
	count   float64
	sum     float64
	lsets   []labels.Labels // prom series: value; or each le, _sum, _count
	refs    []storage.SeriesRef
}

func newCatalogGen() *catalogGen {
	g := &catalogGen{metrics: catalog.All(), rng: rand.New(rand.NewPCG(1, 2))}
	for _, m := range g.metrics {
		combos := [][][2]string{nil}
		for _, key := range m.Labels {
			vals := metricgen.LabelValues[key]
			if key == "platform" && strings.HasPrefix(m.Name, "pulse.business.") {
				vals = []string{""}
			}
			if len(vals) == 0 {
				vals = []string{key + "_0"}
			}
			var next [][][2]string
			for _, c := range combos {
				for _, v := range vals {
					next = append(next, append(slices.Clone(c), [2]string{key, v}))
				}
			}
			combos = next
		}
		var pts []*genPoint
		for _, c := range combos {
			p := &genPoint{attrs: c, whole: 1}
			if metricgen.RatioWholes[m.Name] {
				p.whole = 100
			}
			mk := func(name string, extra ...string) {
				b := labels.NewBuilder(labels.FromStrings("__name__", name, "job", "shop", "instance", "pulse-0"))
				for _, kv := range c {
					b.Set(kv[0], kv[1])
				}
				if len(extra) == 2 {
					b.Set(extra[0], extra[1])
				}
				p.lsets = append(p.lsets, b.Labels())
			}
			if m.Kind != catalog.Histogram {
				mk(m.PromName())
			} else {
				p.buckets = make([]float64, len(m.Bounds)+1)
				for j := range p.buckets {
					le := "+Inf"
					if j < len(m.Bounds) {
						le = strconv.FormatFloat(m.Bounds[j], 'f', -1, 64)
					}
					mk(m.PromName()+"_bucket", "le", le)
				}
				mk(m.PromName() + "_sum")
				mk(m.PromName() + "_count")
			}
			p.refs = make([]storage.SeriesRef, len(p.lsets))
			pts = append(pts, p)
		}
		g.points = append(g.points, pts)
	}
	// The receiver's rejected-items counter, of the collector's own
	// telemetry, which a panel reads: filled, not in the connector's batches.
	g.metrics = append(g.metrics, catalog.Metric{Name: rejectedItems, Kind: catalog.Sum})
	var rejected []*genPoint
	for _, reason := range []string{"missing", "type"} {
		rejected = append(rejected, &genPoint{whole: 1, refs: make([]storage.SeriesRef, 1), lsets: []labels.Labels{
			labels.FromStrings("__name__", rejectedItems, "job", "pulse", "endpoint", "events", "reason", reason)}})
	}
	g.points = append(g.points, rejected)
	return g
}

const rejectedItems = "otelcol_receiver_analytics_rejected_items"

func (g *catalogGen) seriesCount() int {
	n := 0
	for _, pts := range g.points {
		for _, p := range pts {
			n += len(p.lsets)
		}
	}
	return n
}

// step advances every stream: counters and histograms grow, gauges take a
// value within their unit's range.
func (g *catalogGen) step() {
	for i, m := range g.metrics {
		for _, p := range g.points[i] {
			switch m.Kind {
			case catalog.Sum:
				p.value += math.Round(p.whole * 10 * (0.5 + g.rng.Float64()))
			case catalog.Gauge:
				switch m.Unit {
				case "1":
					p.value = 0.5 + 0.4*g.rng.Float64()
				case "%":
					p.value = 95 + 5*g.rng.Float64()
				default:
					p.value = math.Round(p.whole * (10 + 90*g.rng.Float64()))
				}
			case catalog.Histogram:
				// Half the observations in the first bucket, the rest
				// spread evenly over the others (whole numbers each).
				per := math.Round(p.whole * (0.5 + g.rng.Float64()))
				others := float64(len(p.buckets) - 1)
				n := 2 * per * others
				p.buckets[0] += per * others
				for j := 1; j < len(p.buckets); j++ {
					p.buckets[j] += per
				}
				p.count += n
				p.sum += n * m.Bounds[0] * 0.7
			}
		}
	}
}

// appendStep writes the current samples at ts.
func (g *catalogGen) appendStep(app storage.AppenderV2, ts int64) (int, error) {
	n := 0
	for _, pts := range g.points {
		for _, p := range pts {
			vals := []float64{p.value}
			if p.buckets != nil {
				vals = vals[:0]
				var cum float64
				for _, b := range p.buckets {
					cum += b
					vals = append(vals, cum)
				}
				vals = append(vals, p.sum, p.count)
			}
			for j, v := range vals {
				ref, err := app.Append(p.refs[j], p.lsets[j], 0, ts, v, nil, nil, storage.AOptions{})
				if err != nil {
					return n, err
				}
				p.refs[j] = ref
				n++
			}
		}
	}
	return n, nil
}

// fill writes samples every step from first to dense, every 15 s from
// there to end, into a TSDB opened with promstore's options, then
// compacts it into blocks as promstore would.
func (g *catalogGen) fill(t *testing.T, cfg *promstoreexporter.Config, first, dense, end time.Time, step time.Duration) int {
	t.Helper()
	db, err := tsdb.Open(cfg.Directory, nil, nil, promstoreOptions(cfg), nil)
	require.NoError(t, err)
	g.start = pcommon.NewTimestampFromTime(first.Add(-time.Minute))
	ctx := context.Background()
	samples := 0
	for ts := first; !ts.After(end); {
		g.step()
		app := db.AppenderV2(ctx)
		n, err := g.appendStep(app, ts.UnixMilli())
		require.NoError(t, err)
		require.NoError(t, app.Commit())
		samples += n
		if ts.Before(dense) {
			ts = ts.Add(step)
		} else {
			ts = ts.Add(dashboards.ScrapeInterval)
		}
	}
	require.NoError(t, db.Compact(ctx))
	require.NoError(t, db.Close())
	return samples
}

// promstoreOptions are the TSDB options promstore opens its store with
// (blocks merged up to a tenth of the retention, at most 31 days).
func promstoreOptions(cfg *promstoreexporter.Config) *tsdb.Options {
	opts := tsdb.DefaultOptions()
	opts.RetentionDuration = cfg.Retention.Time.Milliseconds()
	opts.MaxBlockDuration = max(2*time.Hour, min(31*24*time.Hour, cfg.Retention.Time/10)).Milliseconds()
	return opts
}

// batch advances every stream and returns the connector-shaped OTel batch
// at ts (job "shop", instance "pulse-0", as the fill names them).
func (g *catalogGen) batch(ts time.Time) pmetric.Metrics {
	g.step()
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "shop")
	rm.Resource().Attributes().PutStr("service.instance.id", "pulse-0")
	sm := rm.ScopeMetrics().AppendEmpty()
	now := pcommon.NewTimestampFromTime(ts)
	for i, m := range g.metrics {
		if m.Name == rejectedItems {
			continue
		}
		out := sm.Metrics().AppendEmpty()
		out.SetName(m.Name)
		out.SetUnit(m.Unit)
		attrs := func(dst pcommon.Map, p *genPoint) {
			for _, kv := range p.attrs {
				if kv[1] != "" {
					dst.PutStr(kv[0], kv[1])
				}
			}
		}
		switch m.Kind {
		case catalog.Sum:
			s := out.SetEmptySum()
			s.SetIsMonotonic(true)
			s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			for _, p := range g.points[i] {
				dp := s.DataPoints().AppendEmpty()
				dp.SetStartTimestamp(g.start)
				dp.SetTimestamp(now)
				dp.SetDoubleValue(p.value)
				attrs(dp.Attributes(), p)
			}
		case catalog.Gauge:
			s := out.SetEmptyGauge()
			for _, p := range g.points[i] {
				dp := s.DataPoints().AppendEmpty()
				dp.SetTimestamp(now)
				dp.SetDoubleValue(p.value)
				attrs(dp.Attributes(), p)
			}
		case catalog.Histogram:
			h := out.SetEmptyHistogram()
			h.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			for _, p := range g.points[i] {
				dp := h.DataPoints().AppendEmpty()
				dp.SetStartTimestamp(g.start)
				dp.SetTimestamp(now)
				dp.ExplicitBounds().FromRaw(m.Bounds)
				counts := make([]uint64, len(p.buckets))
				for j, b := range p.buckets {
					counts[j] = uint64(b)
				}
				dp.BucketCounts().FromRaw(counts)
				dp.SetCount(uint64(p.count))
				dp.SetSum(p.sum)
				attrs(dp.Attributes(), p)
			}
		}
	}
	return md
}
