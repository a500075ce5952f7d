// Package querybench measures promstore's Prometheus query API under
// dashboard load. It is a manual benchmark: TestQueryLatency runs only with
// QUERYBENCH=1.
package querybench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/tsdb"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"

	"github.com/pulse-otel/pulse/exporter/promstoreexporter"
	"github.com/pulse-otel/pulse/internal/metricgen"
	"github.com/pulse-otel/pulse/internal/testutil"
	"github.com/pulse-otel/pulse/testbed/internal/knob"
)

type dashQuery struct {
	name, expr   string
	span, step   time.Duration
	wantNonEmpty bool
}

var dashboard = []dashQuery{
	{"events_by_platform_24h", `sum by (platform) (rate(pulse_events_total[5m]))`, 24 * time.Hour, 5 * time.Minute, true},
	{"duration_p95_24h", `histogram_quantile(0.95, sum by (le) (rate(pulse_event_duration_milliseconds_bucket[5m])))`, 24 * time.Hour, 5 * time.Minute, true},
	{"active_users_1d_7d", `pulse_users_active{window="1d"}`, 7 * 24 * time.Hour, 10 * time.Minute, true},
}

// TestQueryLatency fills a promstore directory with 30 days of
// catalog-like data (about 490 series, one sample per 2 minutes), opens
// the promstore exporter on it and runs 200 concurrent clients issuing
// dashboard query_range requests over HTTP for 20 s.
//
// Knobs: QUERYBENCH_CLIENTS (200), QUERYBENCH_DURATION (20s),
// QUERYBENCH_DAYS (30), QUERYBENCH_PROM_BLOCKS=1 compacts the 2 h blocks
// into larger ones as the Prometheus server would (promstore's
// tsdb.DefaultOptions never does).
func TestQueryLatency(t *testing.T) {
	if os.Getenv("QUERYBENCH") != "1" {
		t.Skip("manual benchmark; run with QUERYBENCH=1")
	}
	clients := knob.Int(t, "QUERYBENCH_CLIENTS", 200)
	duration := knob.Duration(t, "QUERYBENCH_DURATION", 20*time.Second)
	days := knob.Int(t, "QUERYBENCH_DAYS", 30)
	dir := t.TempDir()

	cfg := promstoreexporter.NewFactory().CreateDefaultConfig().(*promstoreexporter.Config)
	cfg.NetAddr.Endpoint = testutil.FreeAddr(t)
	cfg.Directory = dir
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	cfg.RetryConfig.Enabled = false
	require.NoError(t, cfg.Validate())

	// Fill: in order, one commit per step, into a TSDB opened
	// with the options promstore uses; then persist the head as 2 h blocks
	// as promstore's background compaction would.
	// 2 minutes, not 5: rate(...[5m]) needs two samples in its window.
	step := 2 * time.Minute
	end := time.Now().Truncate(step)
	first := end.Add(-time.Duration(days) * 24 * time.Hour)
	opts := tsdb.DefaultOptions()
	opts.RetentionDuration = cfg.Retention.Time.Milliseconds()
	if os.Getenv("QUERYBENCH_PROM_BLOCKS") == "1" {
		opts.MaxBlockDuration = min(31*24*time.Hour, cfg.Retention.Time/10).Milliseconds()
	}
	db, err := tsdb.Open(dir, nil, nil, opts, nil)
	require.NoError(t, err)
	gen := metricgen.New(benchCatalog, first.Add(-time.Minute))
	series, err := gen.PromSeries()
	require.NoError(t, err)
	ctx := context.Background()
	began := time.Now()
	var samples int
	for ts := first; !ts.After(end); ts = ts.Add(step) {
		app := db.AppenderV2(ctx)
		n, err := gen.AppendStep(app, series, ts.UnixMilli())
		require.NoError(t, err)
		require.NoError(t, app.Commit())
		samples += n
	}
	require.NoError(t, db.Compact(ctx))
	nBlocks := len(db.Blocks())
	require.NoError(t, db.Close())
	t.Logf("fill: %d series, %d samples over %d days in %s; %d blocks (MaxBlockDuration %s) + head",
		len(series), samples, days, time.Since(began).Round(time.Millisecond), nBlocks,
		time.Duration(opts.MaxBlockDuration)*time.Millisecond)

	began = time.Now()
	exp, err := promstoreexporter.NewFactory().CreateMetrics(ctx, exportertest.NewNopSettings(promstoreexporter.NewFactory().Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(ctx, componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
	t.Logf("promstore start (block open + WAL replay): %s", time.Since(began).Round(time.Millisecond))

	base := "http://" + cfg.NetAddr.Endpoint + "/api/v1/query_range"
	httpc := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients},
	}
	// Dashboards align the range to the step, so the same panel asks the
	// same question until the next step: repeated identical requests.
	qend := end
	urls := make([]string, len(dashboard))
	for i, q := range dashboard {
		v := url.Values{}
		v.Set("query", q.expr)
		v.Set("start", strconv.FormatInt(qend.Add(-q.span).Unix(), 10))
		v.Set("end", strconv.FormatInt(qend.Unix(), 10))
		v.Set("step", strconv.FormatFloat(q.step.Seconds(), 'f', -1, 64))
		urls[i] = base + "?" + v.Encode()
	}
	do := func(u string) (int, error) {
		resp, err := httpc.Get(u)
		if err != nil {
			return 0, err
		}
		defer func() { _ = resp.Body.Close() }()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return 0, err
		}
		var r struct {
			Status string `json:"status"`
			Error  string `json:"error"`
			Data   struct {
				Result []struct {
					Values [][2]any `json:"values"`
				} `json:"result"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &r); err != nil {
			return 0, fmt.Errorf("HTTP %d: %w", resp.StatusCode, err)
		}
		if resp.StatusCode != http.StatusOK || r.Status != "success" {
			return 0, fmt.Errorf("HTTP %d: %s", resp.StatusCode, r.Error)
		}
		points := 0
		for _, s := range r.Data.Result {
			points += len(s.Values)
		}
		return points, nil
	}
	for i, q := range dashboard {
		start := time.Now()
		points, err := do(urls[i])
		require.NoError(t, err, q.name)
		if q.wantNonEmpty {
			require.Positive(t, points, q.name)
		}
		t.Logf("warm-up %s: %d points, %s", q.name, points, time.Since(start).Round(time.Microsecond))
	}

	type result struct {
		query int
		lat   time.Duration
		err   error
	}
	results := make([][]result, clients)
	var wg sync.WaitGroup
	deadline := time.Now().Add(duration)
	began = time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; time.Now().Before(deadline); i++ {
				q := i % len(dashboard)
				start := time.Now()
				_, err := do(urls[q])
				results[c] = append(results[c], result{q, time.Since(start), err})
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(began)

	all := map[int][]time.Duration{}
	var total, errs int
	var firstErr error
	for _, rs := range results {
		for _, r := range rs {
			total++
			if r.err != nil {
				errs++
				if firstErr == nil {
					firstErr = r.err
				}
				continue
			}
			all[-1] = append(all[-1], r.lat)
			all[r.query] = append(all[r.query], r.lat)
		}
	}
	pct := func(d []time.Duration, p float64) time.Duration {
		if len(d) == 0 {
			return 0
		}
		slices.Sort(d)
		return d[min(len(d)-1, int(float64(len(d))*p))]
	}
	line := func(name string, d []time.Duration) {
		t.Logf("%-24s n=%6d p50=%8s p95=%8s p99=%8s max=%8s", name, len(d),
			pct(d, 0.50).Round(100*time.Microsecond), pct(d, 0.95).Round(100*time.Microsecond),
			pct(d, 0.99).Round(100*time.Microsecond), pct(d, 1).Round(100*time.Microsecond))
	}
	qps := float64(total-errs) / elapsed.Seconds()
	t.Logf("%d clients for %s: %d queries, %d errors (first: %v), %.1f queries/s",
		clients, elapsed.Round(time.Millisecond), total, errs, firstErr, qps)
	line("all", all[-1])
	for i, q := range dashboard {
		line(q.name, all[i])
	}
	p95 := pct(all[-1], 0.95)
	t.Logf("goal p95 < 100ms at >= 300 queries/s: p95=%s at %.1f queries/s => met=%v",
		p95.Round(100*time.Microsecond), qps, p95 < 100*time.Millisecond && qps >= 300)
}

// benchCatalog is about 490 series once translated: pulse_events_total
// with 5 labels (48 series), pulse.event.duration with 13 buckets over 24
// label sets (384 series), sessions, users, session duration.
var benchCatalog = metricgen.FromCatalog(
	map[string]int{"event_type": 4, "category": 2, "action": 2, "platform": 3, "app_version": 1, "window": 4},
	"pulse.events",
	"pulse.event.duration",
	"pulse.page.views",
	"pulse.users.active",
	"pulse.sessions",
	"pulse.session.duration",
)
