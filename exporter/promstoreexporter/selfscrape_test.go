package promstoreexporter

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/pulse-otel/pulse/exporter/promstoreexporter/internal/metadata"
	"github.com/pulse-otel/pulse/internal/testutil"
)

// fakeTelemetry serves a Prometheus text exposition on a loopback port
// until the test ends; body says what, down makes it answer 500.
type fakeTelemetry struct {
	addr string
	body atomic.Value // string
	down atomic.Bool
}

func serveTelemetry(t *testing.T, body string) *fakeTelemetry {
	t.Helper()
	f := &fakeTelemetry{addr: testutil.FreeAddr(t)}
	f.body.Store(body)
	ln, err := net.Listen("tcp", f.addr)
	require.NoError(t, err)
	srv := &http.Server{ReadHeaderTimeout: time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if f.down.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = fmt.Fprint(w, f.body.Load().(string))
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return f
}

const exposition = `# HELP otelcol_receiver_analytics_rejected_items Rejected.
# TYPE otelcol_receiver_analytics_rejected_items counter
otelcol_receiver_analytics_rejected_items{endpoint="events",field="action",platform="ios",reason="missing"} 3
# HELP otelcol_processor_privacy_values_masked Masked.
# TYPE otelcol_processor_privacy_values_masked counter
otelcol_processor_privacy_values_masked{pii_type="email"} 2
# HELP otelcol_exporter_sent_metric_points Not in the allowlist.
# TYPE otelcol_exporter_sent_metric_points counter
otelcol_exporter_sent_metric_points{exporter="promstore"} 9
`

type scrapeRig struct {
	p      *promstore
	cfg    *Config
	tel    *componenttest.Telemetry
	logs   *observer.ObservedLogs
	target *fakeTelemetry
}

func startScrapeRig(t *testing.T, body string, configure func(*TelemetryConfig)) *scrapeRig {
	t.Helper()
	r := &scrapeRig{target: serveTelemetry(t, body), tel: componenttest.NewTelemetry()}
	t.Cleanup(func() { require.NoError(t, r.tel.Shutdown(context.Background())) })
	r.cfg = testConfig(t, t.TempDir())
	r.cfg.Telemetry.Enabled = true
	r.cfg.Telemetry.Endpoint = r.target.addr
	r.cfg.Telemetry.Interval = 200 * time.Millisecond
	r.cfg.Telemetry.Timeout = 200 * time.Millisecond
	if configure != nil {
		configure(&r.cfg.Telemetry)
	}
	require.NoError(t, r.cfg.Validate())
	set := exportertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = r.tel.NewTelemetrySettings()
	core, logs := observer.New(zap.InfoLevel)
	set.Logger = zap.New(core)
	r.logs = logs
	var err error
	r.p, err = newExporter(r.cfg, set)
	require.NoError(t, err)
	require.NoError(t, r.p.start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, r.p.shutdown(context.Background())) })
	return r
}

// waitVector polls q until it has a result, at most 10 s.
func (r *scrapeRig) waitVector(t *testing.T, q string) model.Vector {
	t.Helper()
	c := apiClient(t, r.cfg)
	var v model.Vector
	require.Eventually(t, func() bool {
		v = queryVector(t, c, q, time.Now())
		return len(v) > 0
	}, 10*time.Second, 50*time.Millisecond, q)
	return v
}

func (r *scrapeRig) failures(t *testing.T) int64 {
	t.Helper()
	m, err := r.tel.GetMetric("otelcol_exporter_promstore_telemetry_scrape_failures")
	if err != nil {
		return 0
	}
	var n int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		n += dp.Value
	}
	return n
}

func TestTelemetryIsStored(t *testing.T) {
	r := startScrapeRig(t, exposition, nil)
	v := r.waitVector(t, `otelcol_receiver_analytics_rejected_items{job="pulse"}`)
	require.Len(t, v, 1)
	assert.Equal(t, model.SampleValue(3), v[0].Value)
	assert.Equal(t, model.LabelValue(r.target.addr), v[0].Metric["instance"])
	assert.Equal(t, model.LabelValue("action"), v[0].Metric["field"])
	v = r.waitVector(t, `otelcol_processor_privacy_values_masked{job="pulse",pii_type="email"}`)
	assert.Equal(t, model.SampleValue(2), v[0].Value)
	r.waitVector(t, `up{job="pulse"} == 1`)

	c := apiClient(t, r.cfg)
	assert.Empty(t, queryVector(t, c, `{__name__=~"otelcol_exporter_sent.*"}`, time.Now()), "a family outside telemetry.metrics was stored")
}

func TestTelemetryScrapeFailuresCountedAndLoggedOnce(t *testing.T) {
	r := startScrapeRig(t, exposition, nil)
	r.waitVector(t, `up{job="pulse"} == 1`)
	r.target.down.Store(true)
	require.Eventually(t, func() bool { return r.failures(t) >= 3 }, 10*time.Second, 20*time.Millisecond)
	r.target.down.Store(false)
	require.Eventually(t, func() bool {
		return r.logs.FilterMessage("Storing the collector's telemetry again").Len() == 1
	}, 10*time.Second, 20*time.Millisecond)
	failed := r.logs.FilterMessageSnippet("Scraping the collector's telemetry failed").All()
	require.Len(t, failed, 1, "one warning per state change, not per scrape")
	assert.Contains(t, failed[0].ContextMap()["error"], "500")
}

func TestTelemetrySampleLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("# TYPE otelcol_receiver_x counter\n")
	for i := range 50 {
		fmt.Fprintf(&b, "otelcol_receiver_x{n=\"%d\"} 1\n", i)
	}
	r := startScrapeRig(t, b.String(), func(c *TelemetryConfig) { c.SampleLimit = 20 })
	require.Eventually(t, func() bool { return r.failures(t) >= 1 }, 10*time.Second, 20*time.Millisecond)
	c := apiClient(t, r.cfg)
	assert.Empty(t, queryVector(t, c, `otelcol_receiver_x`, time.Now()), "a scrape over sample_limit was stored")
	assert.NotEmpty(t, queryVector(t, c, `up{job="pulse"} == 0`, time.Now()))
}

func TestTelemetryConfigErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(*TelemetryConfig)
		want   string
	}{
		"endpoint":     {func(c *TelemetryConfig) { c.Endpoint = "localhost" }, `telemetry.endpoint: must be host:port, got "localhost"`},
		"interval":     {func(c *TelemetryConfig) { c.Interval = 0 }, "telemetry.interval: must be positive, got 0s"},
		"timeout":      {func(c *TelemetryConfig) { c.Timeout = time.Minute }, "telemetry.timeout: must be positive and at most interval (15s), got 1m0s"},
		"metrics":      {func(c *TelemetryConfig) { c.Metrics = nil }, "telemetry.metrics: must name at least one metric"},
		"regex":        {func(c *TelemetryConfig) { c.Metrics = []string{"otelcol_(("} }, `telemetry.metrics[0]: must be a non-empty regular expression, got "otelcol_(("`},
		"sample_limit": {func(c *TelemetryConfig) { c.SampleLimit = -1 }, "telemetry.sample_limit: must be positive, got -1"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			cfg.Telemetry.Enabled = true
			require.NoError(t, cfg.Validate())
			tc.mutate(&cfg.Telemetry)
			require.ErrorContains(t, cfg.Validate(), tc.want)
			cfg.Telemetry.Enabled = false
			assert.NoError(t, cfg.Validate(), "checked only when enabled")
		})
	}
}

// A counter that first appears in a later scrape (the collector shows a
// series only once it has counted) is stored from a zero at the previous
// scrape, so increase() over the period counts all of it; a gauge is not.
func TestTelemetryCounterStartsAtZero(t *testing.T) {
	r := startScrapeRig(t, exposition, nil)
	r.waitVector(t, `otelcol_receiver_analytics_rejected_items{job="pulse"}`)
	r.target.body.Store(exposition + `# TYPE otelcol_receiver_late counter
otelcol_receiver_late 5
# TYPE otelcol_receiver_level gauge
otelcol_receiver_level 7
`)
	r.waitVector(t, `otelcol_receiver_level`)
	c := apiClient(t, r.cfg)
	now := time.Now()
	first := queryVector(t, c, `min_over_time(otelcol_receiver_late[1m])`, now)
	require.Len(t, first, 1)
	assert.Equal(t, model.SampleValue(0), first[0].Value, "no zero before the late counter's first value")
	assert.Equal(t, model.SampleValue(7), queryVector(t, c, `min_over_time(otelcol_receiver_level[1m])`, now)[0].Value, "a gauge got a zero")
	// The counter that was there from the first scrape starts at zero too,
	// and only once.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, _, _, err := c.Query(ctx, `otelcol_receiver_analytics_rejected_items[1m]`, now)
	require.NoError(t, err)
	m, ok := res.(model.Matrix)
	require.True(t, ok, "%T", res)
	require.Len(t, m, 1)
	zeros := 0
	for _, p := range m[0].Values {
		if p.Value == 0 {
			zeros++
		}
	}
	assert.Equal(t, 1, zeros, "samples %v", m[0].Values)
	assert.Greater(t, len(m[0].Values), 2)
}
