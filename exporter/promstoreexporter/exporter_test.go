package promstoreexporter

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pulse-otel/pulse/exporter/promstoreexporter/internal/metadata"
	"github.com/pulse-otel/pulse/internal/catalog"
	"github.com/pulse-otel/pulse/internal/testutil"
)

// testConfig has no sending queue, so ConsumeMetrics returns only once the
// batch is committed, and no retries, so errors surface at once.
func testConfig(t *testing.T, dir string) *Config {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.NetAddr.Endpoint = testutil.FreeAddr(t)
	cfg.Directory = dir
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	cfg.RetryConfig.Enabled = false
	require.NoError(t, cfg.Validate())
	return cfg
}

func startExporter(t *testing.T, cfg *Config) exporter.Metrics {
	t.Helper()
	exp, err := NewFactory().CreateMetrics(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	return exp
}

func apiClient(t *testing.T, cfg *Config) promv1.API {
	t.Helper()
	c, err := api.NewClient(api.Config{Address: "http://" + cfg.NetAddr.Endpoint})
	require.NoError(t, err)
	return promv1.NewAPI(c)
}

// testMetrics builds, for one resource, a cumulative monotonic sum, a gauge
// and a cumulative explicit-bucket histogram, each with one point at t0
// and one at t1.
func testMetrics(t0, t1 time.Time) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "checkout")
	rm.Resource().Attributes().PutStr("service.instance.id", "i-1")
	rm.Resource().Attributes().PutStr("deployment.environment", "test")
	sm := rm.ScopeMetrics().AppendEmpty()
	start := pcommon.NewTimestampFromTime(t0.Add(-time.Minute))

	sum := sm.Metrics().AppendEmpty()
	sum.SetName("pulse.requests")
	sum.SetUnit("{request}")
	sum.SetEmptySum().SetIsMonotonic(true)
	sum.Sum().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	for i, ts := range []time.Time{t0, t1} {
		dp := sum.Sum().DataPoints().AppendEmpty()
		dp.SetStartTimestamp(start)
		dp.SetTimestamp(pcommon.NewTimestampFromTime(ts))
		dp.SetIntValue(int64(10 * (i + 1)))
		dp.Attributes().PutStr("route", "/home")
	}

	gauge := sm.Metrics().AppendEmpty()
	gauge.SetName("pulse.queue.depth")
	gauge.SetEmptyGauge()
	for i, ts := range []time.Time{t0, t1} {
		dp := gauge.Gauge().DataPoints().AppendEmpty()
		dp.SetTimestamp(pcommon.NewTimestampFromTime(ts))
		dp.SetDoubleValue(2.5 * float64(i+1))
	}

	hist := sm.Metrics().AppendEmpty()
	hist.SetName("pulse.latency")
	hist.SetUnit("s")
	hist.SetEmptyHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	for i, ts := range []time.Time{t0, t1} {
		dp := hist.Histogram().DataPoints().AppendEmpty()
		dp.SetStartTimestamp(start)
		dp.SetTimestamp(pcommon.NewTimestampFromTime(ts))
		dp.ExplicitBounds().FromRaw([]float64{0.1, 1})
		n := uint64(i + 1)
		dp.BucketCounts().FromRaw([]uint64{2 * n, 1 * n, 1 * n}) // 4n observations
		dp.SetCount(4 * n)
		dp.SetSum(3.5 * float64(n))
	}
	return md
}

// testTimes are two recent, minute-aligned timestamps: inside the TSDB
// head's appendable window and the query lookback.
func testTimes() (time.Time, time.Time) {
	t1 := time.Now().Truncate(time.Minute)
	return t1.Add(-time.Minute), t1
}

func queryVector(t *testing.T, c promv1.API, q string, ts time.Time) model.Vector {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, _, _, err := c.Query(ctx, q, ts)
	require.NoError(t, err, q)
	require.Equal(t, model.ValVector, v.Type(), q)
	return v.(model.Vector)
}

func TestExportThenQuery(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	exp := startExporter(t, cfg)
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
	t0, t1 := testTimes()
	require.NoError(t, exp.ConsumeMetrics(context.Background(), testMetrics(t0, t1)))
	c := apiClient(t, cfg)

	t.Run("sum", func(t *testing.T) {
		v := queryVector(t, c, "pulse_requests_total", t1)
		require.Len(t, v, 1)
		assert.Equal(t, model.SampleValue(20), v[0].Value)
		assert.Equal(t, model.Metric{
			"__name__": "pulse_requests_total",
			"job":      "checkout",
			"instance": "i-1",
			"route":    "/home",
		}, v[0].Metric)
	})
	t.Run("gauge", func(t *testing.T) {
		v := queryVector(t, c, "pulse_queue_depth", t1)
		require.Len(t, v, 1)
		assert.Equal(t, model.SampleValue(5), v[0].Value)
	})
	t.Run("histogram", func(t *testing.T) {
		v := queryVector(t, c, `pulse_latency_seconds_bucket{job="checkout"}`, t1)
		got := map[model.LabelValue]model.SampleValue{}
		for _, s := range v {
			got[s.Metric["le"]] = s.Value
		}
		assert.Equal(t, map[model.LabelValue]model.SampleValue{"0.1": 4, "1": 6, "+Inf": 8}, got)
		assert.Equal(t, model.SampleValue(8), queryVector(t, c, "pulse_latency_seconds_count", t1)[0].Value)
		assert.Equal(t, model.SampleValue(7), queryVector(t, c, "pulse_latency_seconds_sum", t1)[0].Value)
		q := queryVector(t, c, "histogram_quantile(0.5, pulse_latency_seconds_bucket)", t1)
		require.Len(t, q, 1)
		assert.InDelta(t, 0.1, float64(q[0].Value), 1e-9)
	})
	t.Run("target_info", func(t *testing.T) {
		v := queryVector(t, c, "target_info", t1)
		require.Len(t, v, 1)
		assert.Equal(t, model.LabelValue("test"), v[0].Metric["deployment_environment"])
		assert.Equal(t, model.LabelValue("checkout"), v[0].Metric["job"])
	})
	t.Run("query_range", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		v, _, _, err := c.QueryRange(ctx, "pulse_queue_depth", promv1.Range{Start: t0, End: t1, Step: time.Minute})
		require.NoError(t, err)
		m := v.(model.Matrix)
		require.Len(t, m, 1)
		require.Len(t, m[0].Values, 2)
		assert.Equal(t, model.SampleValue(2.5), m[0].Values[0].Value)
		assert.Equal(t, model.TimeFromUnixNano(t0.UnixNano()), m[0].Values[0].Timestamp)
		assert.Equal(t, model.SampleValue(5), m[0].Values[1].Value)

		r, _, _, err := c.QueryRange(ctx, "rate(pulse_requests_total[2m])", promv1.Range{Start: t1, End: t1, Step: time.Minute})
		require.NoError(t, err)
		require.Len(t, r.(model.Matrix), 1)
		assert.Positive(t, float64(r.(model.Matrix)[0].Values[0].Value))
	})
	t.Run("series_labels_values", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		from, to := t0.Add(-time.Hour), t1.Add(time.Hour)
		series, _, _, err := c.Series(ctx, []string{`{__name__=~"pulse_latency_seconds_.*"}`}, from, to)
		require.NoError(t, err)
		assert.Len(t, series, 5) // 3 buckets, _sum, _count
		names, _, _, err := c.LabelNames(ctx, nil, from, to)
		require.NoError(t, err)
		assert.Subset(t, names, model.LabelNames{"__name__", "instance", "job", "le", "route"})
		values, _, _, err := c.LabelValues(ctx, "__name__", nil, from, to)
		require.NoError(t, err)
		assert.Subset(t, values, model.LabelValues{
			"pulse_latency_seconds_bucket", "pulse_latency_seconds_count", "pulse_latency_seconds_sum",
			"pulse_queue_depth", "pulse_requests_total", "target_info",
		})
		md, err := c.Metadata(ctx, "", "")
		require.NoError(t, err)
		// The families received, besides internal/catalog's (known from
		// the start).
		assert.Len(t, md, len(catalog.All())+3)
		for name, want := range map[string][]promv1.Metadata{
			"pulse_latency_seconds": {{Type: "histogram", Unit: "seconds"}},
			"pulse_queue_depth":     {{Type: "gauge"}},
			"pulse_requests_total":  {{Type: "counter"}},
		} {
			assert.Equal(t, want, md[name], name)
		}
		bi, err := c.Buildinfo(ctx)
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(bi.Version, "3."), bi.Version)
	})
}

func TestBadQueryErrorShape(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	exp := startExporter(t, cfg)
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
	base := "http://" + cfg.NetAddr.Endpoint

	tests := []struct {
		path       string
		wantStatus int
		wantType   string
	}{
		{path: "/api/v1/query?query=sum(", wantStatus: http.StatusBadRequest, wantType: "bad_data"},
		{path: "/api/v1/query_range?query=up&start=10&end=1&step=1", wantStatus: http.StatusBadRequest, wantType: "bad_data"},
		{path: "/api/v1/query?query=up&time=notatime", wantStatus: http.StatusBadRequest, wantType: "bad_data"},
		{path: "/api/v1/targets", wantStatus: http.StatusNotFound, wantType: "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := http.Get(base + tt.path)
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, tt.wantStatus, resp.StatusCode)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			var body map[string]any
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
			assert.Equal(t, "error", body["status"])
			assert.Equal(t, tt.wantType, body["errorType"])
			assert.NotEmpty(t, body["error"])
		})
	}
}

func TestSuccessShape(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	exp := startExporter(t, cfg)
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
	_, t1 := testTimes()
	require.NoError(t, exp.ConsumeMetrics(context.Background(), testMetrics(t1.Add(-time.Minute), t1)))

	resp, err := http.Get("http://" + cfg.NetAddr.Endpoint + "/api/v1/query?query=pulse_queue_depth&time=" + formatTime(t1))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	want := `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"pulse_queue_depth","instance":"i-1","job":"checkout"},"value":[` + formatTime(t1) + `,"5"]}]}}`
	assert.JSONEq(t, want, string(b))
}

func formatTime(t time.Time) string {
	return model.TimeFromUnixNano(t.UnixNano()).String()
}

func TestHealthAndReady(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	exp := startExporter(t, cfg)
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
	for path, want := range map[string]string{
		"/-/healthy": "Prometheus Server is Healthy.\n",
		"/-/ready":   "Prometheus Server is Ready.\n",
	} {
		resp, err := http.Get("http://" + cfg.NetAddr.Endpoint + path)
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.Equal(t, want, string(b), path)
	}
}

func TestDataSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	t0, t1 := testTimes()

	cfg := testConfig(t, dir)
	exp := startExporter(t, cfg)
	require.NoError(t, exp.ConsumeMetrics(context.Background(), testMetrics(t0, t1)))
	require.NoError(t, exp.Shutdown(context.Background()))

	cfg2 := testConfig(t, dir)
	exp2 := startExporter(t, cfg2)
	t.Cleanup(func() { require.NoError(t, exp2.Shutdown(context.Background())) })
	c := apiClient(t, cfg2)
	v := queryVector(t, c, "pulse_requests_total", t1)
	require.Len(t, v, 1)
	assert.Equal(t, model.SampleValue(20), v[0].Value)
	assert.Len(t, queryVector(t, c, "pulse_latency_seconds_bucket", t1), 3)
}

// newStarted is the exporter without exporterhelper, for tests that look
// at its counters.
func newStarted(t *testing.T, configure ...func(*Config)) (*promstore, *Config) {
	t.Helper()
	cfg := testConfig(t, t.TempDir())
	for _, f := range configure {
		f(cfg)
	}
	p, err := newExporter(cfg, exportertest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	require.NoError(t, p.start(context.Background(), componenttest.NewNopHost()))
	return p, cfg
}

// TestRefusedSamplesFailTheBatchPermanently: with no out-of-order window,
// samples older than their series' newest one are refused; the rest of the
// batch is stored and the export fails with a permanent error that says
// how many and why, so a 200 upstream never hides a dropped sample.
func TestRefusedSamplesFailTheBatchPermanently(t *testing.T) {
	p, cfg := newStarted(t, func(c *Config) { c.OutOfOrderTimeWindow = 0 })
	t.Cleanup(func() { require.NoError(t, p.shutdown(context.Background())) })
	t0, t1 := testTimes()
	ctx := context.Background()

	require.NoError(t, p.pushMetrics(ctx, testMetrics(t0, t1)))
	// sum, gauge, 3 buckets, _sum, _count: 7 series with 2 points each;
	// target_info once.
	assert.Equal(t, int64(15), p.stats.samples.Load())
	assert.Zero(t, p.stats.outOfOrder.Load())

	// Sent again: the t0 points are now out of order and refused; the t1
	// points are identical to stored ones, which the TSDB accepts as no-ops.
	err := p.pushMetrics(ctx, testMetrics(t0, t1))
	require.Error(t, err)
	assert.True(t, consumererror.IsPermanent(err))
	assert.Contains(t, err.Error(), "refused 7 of 15 samples: 7 older than the newest sample of their series (out_of_order)")
	assert.NotContains(t, err.Error(), "checkout", "no label values in the error")
	assert.Equal(t, int64(7), p.stats.outOfOrder.Load())

	// A different value at a stored timestamp is a duplicate-sample error.
	dup := pmetric.NewMetrics()
	rm := dup.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "checkout")
	rm.Resource().Attributes().PutStr("service.instance.id", "i-1")
	g := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	g.SetName("pulse.queue.depth")
	dp := g.SetEmptyGauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(pcommon.NewTimestampFromTime(t1))
	dp.SetDoubleValue(99)
	err = p.pushMetrics(ctx, dup)
	require.Error(t, err)
	assert.True(t, consumererror.IsPermanent(err))
	assert.Contains(t, err.Error(), "1 a different value at a timestamp already stored (duplicate)")
	assert.Equal(t, int64(8), p.stats.outOfOrder.Load())

	// Older points next to a new one: the new one is stored.
	before := p.stats.samples.Load()
	require.Error(t, p.pushMetrics(ctx, testMetrics(t0, t1.Add(30*time.Second))))
	assert.Equal(t, before+8, p.stats.samples.Load())

	c := apiClient(t, cfg)
	v := queryVector(t, c, `pulse_queue_depth{job="checkout"}`, t1)
	require.Len(t, v, 1)
	assert.Equal(t, model.SampleValue(5), v[0].Value, "the duplicate did not overwrite")
	v = queryVector(t, c, `pulse_queue_depth{job="checkout"}`, t1.Add(30*time.Second))
	require.Len(t, v, 1)
	assert.Equal(t, model.SampleValue(5), v[0].Value)
	assert.Equal(t, model.TimeFromUnixNano(t1.Add(30*time.Second).UnixNano()), v[0].Timestamp)
}

func TestExportAfterShutdownIsRetryable(t *testing.T) {
	p, _ := newStarted(t)
	require.NoError(t, p.shutdown(context.Background()))
	t0, t1 := testTimes()
	err := p.pushMetrics(context.Background(), testMetrics(t0, t1))
	require.Error(t, err)
	assert.False(t, consumererror.IsPermanent(err))
}

func TestSecondExporterOnSameDirectoryFails(t *testing.T) {
	dir := t.TempDir()
	exp := startExporter(t, testConfig(t, dir))
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })

	other, err := NewFactory().CreateMetrics(context.Background(), exportertest.NewNopSettings(metadata.Type), testConfig(t, dir))
	require.NoError(t, err)
	err = other.Start(context.Background(), componenttest.NewNopHost())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "open TSDB")
	require.NoError(t, other.Shutdown(context.Background()))
}

func TestPrometheusRelease(t *testing.T) {
	for in, want := range map[string]string{
		"v0.316.0":      "3.16.0",
		"v0.300.1":      "3.0.1",
		"v0.316.0-rc.1": "3.16.0",
	} {
		got, ok := prometheusRelease(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	_, ok := prometheusRelease("v1.2.3")
	assert.False(t, ok)
}

// TestPromtool queries the server with the real promtool, as operators do.
func TestPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not on PATH (Debian package prometheus); skipping the promtool compatibility test")
	}
	cfg := testConfig(t, t.TempDir())
	exp := startExporter(t, cfg)
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
	t0, t1 := testTimes()
	require.NoError(t, exp.ConsumeMetrics(context.Background(), testMetrics(t0, t1)))
	server := "http://" + cfg.NetAddr.Endpoint

	run := func(args ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, promtool, args...).CombinedOutput()
		require.NoError(t, err, "promtool %v: %s", args, out)
		return string(out)
	}
	out := run("query", "instant", "--time="+t1.Format(time.RFC3339), server, "pulse_requests_total")
	assert.Contains(t, out, "pulse_requests_total")
	assert.Contains(t, out, "=> 20")
	out = run("query", "range", "--start="+t0.Format(time.RFC3339), "--end="+t1.Format(time.RFC3339), "--step=1m", server, "pulse_queue_depth")
	assert.Contains(t, out, "2.5 @[")
	assert.Contains(t, out, "5 @[")
	out = run("query", "labels", server, "job")
	assert.Contains(t, out, "checkout")
	out = run("query", "series", "--match=pulse_queue_depth", server)
	assert.Contains(t, out, "pulse_queue_depth")
}

func TestMaxBlockDuration(t *testing.T) {
	day := 24 * time.Hour
	for retention, want := range map[time.Duration]time.Duration{
		730 * day: 31 * day, // the default: blocks grow to 31 days
		15 * day:  36 * time.Hour,
		time.Hour: 2 * time.Hour,
		0:         31 * day,
	} {
		assert.Equal(t, want, maxBlockDuration(retention), "retention %s", retention)
	}
}
