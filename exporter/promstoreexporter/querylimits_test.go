package promstoreexporter

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// apiAnswer is the status code, errorType and error of one API call.
type apiAnswer struct {
	status    int
	errorType string
	err       string
}

func callAPI(t *testing.T, base, path string, form url.Values) apiAnswer {
	t.Helper()
	resp, err := http.PostForm(base+path, form)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var body struct {
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
	}
	require.NoError(t, json.Unmarshal(b, &body), "%.200s", b)
	return apiAnswer{resp.StatusCode, body.ErrorType, body.Error}
}

// TestSubqueryAttackRefusedCheaply: a subquery whose range/step is more
// than max_samples steps is refused before evaluation. The engine alone
// allocates every step of a step-invariant subquery before it counts a
// sample: count_over_time(vector(1)[30d:1s]) (2.6 M steps) allocated
// ~580 MB and answered 200 under the old 50 M max_samples, [10y:1s] ~5 GB
// before its 422.
func TestSubqueryAttackRefusedCheaply(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	exp := startExporter(t, cfg)
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
	base := "http://" + cfg.NetAddr.Endpoint
	now := time.Now()

	tests := []struct {
		name, path string
		form       url.Values
	}{
		{"instant 30d at 1s", "/api/v1/query", url.Values{"query": {"count_over_time(vector(1)[30d:1s])"}}},
		{"instant 10y at 1s", "/api/v1/query", url.Values{"query": {"count_over_time(vector(1)[10y:1s])"}}},
		{"nested widens the span", "/api/v1/query", url.Values{"query": {"max_over_time(sum_over_time(vector(1)[10d:1s])[5d:1h])"}}},
		{"range query span counts", "/api/v1/query_range", url.Values{
			"query": {"count_over_time(vector(1)[1m:1s])"},
			"start": {formatTime(now.Add(-20 * 24 * time.Hour))}, "end": {formatTime(now)}, "step": {"3h"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			got := callAPI(t, base, tt.path, tt.form)
			runtime.ReadMemStats(&after)
			assert.Equal(t, http.StatusUnprocessableEntity, got.status)
			assert.Equal(t, "execution", got.errorType)
			assert.Contains(t, got.err, "more than query.max_samples (1048576)")
			assert.NotContains(t, got.err, "vector(1)", "the answer echoes no query text")
			// The whole test process, server included.
			assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<20), "bytes allocated to refuse the query")
		})
	}
	// A subquery within the limit is evaluated.
	ok := callAPI(t, base, "/api/v1/query", url.Values{"query": {"count_over_time(vector(1)[1d:1s])"}})
	assert.Equal(t, http.StatusOK, ok.status, ok.err)
}

func TestQueryTextLimits(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	exp := startExporter(t, cfg)
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
	base := "http://" + cfg.NetAddr.Endpoint

	parens := func(n int) string { return strings.Repeat("(", n) + "1" + strings.Repeat(")", n) }
	tests := []struct {
		name, path, param, query, want string
	}{
		{"200 KB of parentheses", "/api/v1/query", "query", parens(100_000), "query: 200001 bytes, more than query.max_length (16384)"},
		{"deep parentheses", "/api/v1/query", "query", parens(2_000), "query: nested deeper than query.max_depth (256) at byte 256"},
		{"operator chain", "/api/v1/query_range", "query", strings.Repeat("1+", 1000) + "1", "query: nested deeper than query.max_depth (256)"},
		{"unary chain", "/api/v1/query", "query", strings.Repeat("-", 1000) + "1", "query: nested deeper than query.max_depth (256)"},
		{"keyword chain", "/api/v1/query", "query", strings.Repeat("up OR ", 300) + "up", "query: nested deeper than query.max_depth (256)"},
		{"parse_query", "/api/v1/parse_query", "query", parens(2_000), "query: nested deeper than query.max_depth (256)"},
		{"format_query", "/api/v1/format_query", "query", parens(2_000), "query: nested deeper than query.max_depth (256)"},
		{"series selector", "/api/v1/series", "match[]", "{a=\"" + strings.Repeat("x", 20_000) + "\"}", "more than query.max_length (16384)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{tt.param: {tt.query}, "start": {"0"}, "end": {"60"}, "step": {"15"}}
			got := callAPI(t, base, tt.path, form)
			assert.Equal(t, http.StatusBadRequest, got.status)
			assert.Equal(t, "bad_data", got.errorType)
			assert.Contains(t, got.err, tt.want)
		})
	}
	within := strings.Repeat("(", 100) + "sum by (a) (rate(up{job=~\"(((((a)))))\"}[5m])) + 1 or up" + strings.Repeat(")", 100)
	got := callAPI(t, base, "/api/v1/query", url.Values{"query": {within}})
	assert.Equal(t, http.StatusOK, got.status, got.err)
}

func TestCheckQueryText(t *testing.T) {
	tests := []struct {
		query string
		depth int // the smallest max_depth that accepts it
	}{
		{"up", 0},
		{"sum(rate(up[5m]))", 3},
		{"a + b + c", 2},
		{"(a + b) + (c + d)", 3},
		{`up{job="((((((((("}`, 1}, // brackets in strings do not count
		{"up{job!=`))))`, a=~'x'}", 1},
		{"a and b or c unless d", 3},
		{"ANDROID + x", 1}, // a name starting with a keyword is no keyword
		{"up # (((((\n", 0},
		{"-1", 1},
		{"1e-3", 1}, // over-counted: an upper bound
	}
	for _, tt := range tests {
		require.NoError(t, checkQueryText(tt.query, 1<<10, tt.depth), tt.query)
		if tt.depth > 0 {
			require.Error(t, checkQueryText(tt.query, 1<<10, tt.depth-1), tt.query)
		}
	}
	assert.EqualError(t, checkQueryText("up", 1, 10), "query: 2 bytes, more than query.max_length (1)")
}

// BenchmarkParseAtLimits: at the default limits, the costliest
// shapes found parse in a few milliseconds (the parser's cost is the
// square of the depth: 40 KB of parentheses took 1.9 CPU-s).
func BenchmarkParseAtLimits(b *testing.B) {
	p := parser.NewParser(parser.Options{})
	for name, q := range map[string]string{
		"parens":  strings.Repeat("(", 255) + "1" + strings.Repeat(")", 255),
		"chain":   strings.Repeat("1+", 255) + "1",
		"chains":  strings.Repeat("("+strings.Repeat("1+", 127)+"1)+", 60) + "1",
		"matcher": "up{a=\"" + strings.Repeat("x", 16<<10-10) + "\"}",
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if err := checkQueryText(q, defaultQueryMaxLength, defaultQueryMaxDepth); err != nil {
					b.Fatal(err)
				}
				_, _ = p.ParseExpr(q)
			}
		})
	}
}

// BenchmarkQuerySampleHeap measures the engine's peak heap per sample it
// counts against max_samples, for the costliest shape found (a subquery
// over a function, 1.7 M samples): the 128 B of bytesPerQuerySample.
func BenchmarkQuerySampleHeap(b *testing.B) {
	db, err := tsdb.Open(b.TempDir(), nil, nil, tsdb.DefaultOptions(), nil)
	require.NoError(b, err)
	b.Cleanup(func() { _ = db.Close() })
	ng := promql.NewEngine(promql.EngineOpts{MaxSamples: 50_000_000, Timeout: time.Minute})
	const q, samples = `count_over_time(label_replace(vector(1), "a", "b", "", "")[20d:1s])`, 20 * 24 * 3600
	var worst uint64
	for b.Loop() {
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		var peak atomic.Uint64
		done := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			var m runtime.MemStats
			for {
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > base.HeapAlloc && m.HeapAlloc-base.HeapAlloc > peak.Load() {
					peak.Store(m.HeapAlloc - base.HeapAlloc)
				}
				select {
				case <-done:
					return
				case <-time.After(2 * time.Millisecond):
				}
			}
		}()
		qry, err := ng.NewInstantQuery(context.Background(), db, nil, q, time.Now())
		require.NoError(b, err)
		res := qry.Exec(context.Background())
		require.NoError(b, res.Err)
		close(done)
		<-sampled
		qry.Close()
		worst = max(worst, peak.Load())
	}
	b.ReportMetric(float64(worst)/samples, "peak-heap-B/sample")
}

// slowRange is seconds of CPU and little memory: a day at a 10 s step,
// each step the median of a 2 h window of a 1 s subquery (93,601 steps,
// within max_samples).
func slowRange() url.Values {
	end := time.Now()
	return url.Values{
		"query": {"quantile_over_time(0.5, vector(time())[2h:1s])"},
		"start": {formatTime(end.Add(-4 * time.Hour))}, "end": {formatTime(end)}, "step": {"10"},
	}
}

// TestSlowQueryAnswered503: a query past query.timeout is answered 503
// timeout, not cut off by the server's write_timeout.
func TestSlowQueryAnswered503(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.Query.Timeout = 20 * time.Millisecond
	cfg.Query.RangeCacheTTL = 0
	require.NoError(t, cfg.Validate())
	exp := startExporter(t, cfg)
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
	form := slowRange()
	// 5 M points: about 0.15 s of work, which the engine cannot interrupt
	// (see maxScanPerSample); past the timeout it answers 503.
	form.Set("query", "quantile_over_time(0.5, vector(time())[10m:1s])")
	form.Set("start", formatTime(time.Now().Add(-24*time.Hour)))
	got := callAPI(t, "http://"+cfg.NetAddr.Endpoint, "/api/v1/query_range", form)
	assert.Equal(t, http.StatusServiceUnavailable, got.status, got.err)
	assert.Equal(t, "timeout", got.errorType)
}

// TestSubqueryScanRefused: a range function over a subquery that would scan
// more points in all than max_samples × maxScanPerSample is refused before
// evaluation; the engine could not stop it at query.timeout.
func TestSubqueryScanRefused(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	exp := startExporter(t, cfg)
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
	now := time.Now()
	got := callAPI(t, "http://"+cfg.NetAddr.Endpoint, "/api/v1/query_range", url.Values{
		"query": {"quantile_over_time(0.5, vector(time())[5d:1s])"},
		"start": {formatTime(now.Add(-24 * time.Hour))}, "end": {formatTime(now)}, "step": {"60"},
	})
	assert.Equal(t, http.StatusUnprocessableEntity, got.status)
	assert.Equal(t, "execution", got.errorType)
	assert.Equal(t, "query processing would take too long: quantile_over_time over a subquery of range 5d at step 1s scans 432001 points at each of 1441 steps, more than query.max_samples × 16 (16777216) in all", got.err)
	// The slow query of the other tests is within the budget.
	c := subqueryCheck{maxSamples: 1 << 20}
	assert.NoError(t, c.walk(mustParse(t, "quantile_over_time(0.5, vector(time())[2h:1s])"), (4*time.Hour).Milliseconds(), 1441))
}

func mustParse(t *testing.T, q string) parser.Expr {
	t.Helper()
	e, err := parser.NewParser(parser.Options{}).ParseExpr(q)
	require.NoError(t, err)
	return e
}

// TestClientDisconnectCancelsQuery: a client that gives up frees its
// query slot at once, through the range cache too.
func TestClientDisconnectCancelsQuery(t *testing.T) {
	for _, cacheTTL := range []time.Duration{0, 10 * time.Second} {
		t.Run(fmt.Sprintf("range_cache_ttl=%s", cacheTTL), func(t *testing.T) {
			p, tel := startWithTelemetry(t, func(c *Config) { c.Query.RangeCacheTTL = cacheTTL })
			running := func() float64 {
				m, err := tel.GetMetric("prometheus_engine_queries")
				require.NoError(t, err)
				return m.Data.(metricdata.Gauge[float64]).DataPoints[0].Value
			}
			addr := p.cfg.NetAddr.Endpoint
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/api/v1/query_range", strings.NewReader(slowRange().Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if resp, err := http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
				}
			}()
			require.Eventually(t, func() bool { return running() == 1 }, 10*time.Second, 5*time.Millisecond, "the query runs")
			cancel()
			<-done
			require.Eventually(t, func() bool { return running() == 0 }, 5*time.Second, 10*time.Millisecond,
				"the query went on after its client left (query.timeout is 20s)")
		})
	}
}
