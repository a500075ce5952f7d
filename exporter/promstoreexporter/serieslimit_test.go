package promstoreexporter

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/pulse-otel/pulse/exporter/promstoreexporter/internal/metadata"
	"github.com/pulse-otel/pulse/internal/testutil"
)

// gaugeSeries is one gauge with a point at ts for each of the series
// key="<prefix><i>", i < n; no target_info.
func gaugeSeries(prefix string, n int, ts time.Time) pmetric.Metrics {
	md := pmetric.NewMetrics()
	g := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	g.SetName("pulse.cardinality")
	g.SetEmptyGauge()
	for i := range n {
		dp := g.Gauge().DataPoints().AppendEmpty()
		dp.SetTimestamp(pcommon.NewTimestampFromTime(ts))
		dp.SetDoubleValue(1)
		dp.Attributes().PutStr("key", fmt.Sprintf("%s%d", prefix, i))
	}
	return md
}

// startWithTelemetry is newStarted with telemetry that the test reads.
func startWithTelemetry(t *testing.T, configure func(*Config)) (*promstore, *componenttest.Telemetry) {
	t.Helper()
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	cfg := testConfig(t, t.TempDir())
	cfg.Translation.TargetInfo = false
	configure(cfg)
	set := exportertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	p, err := newExporter(cfg, set)
	require.NoError(t, err)
	require.NoError(t, p.start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, p.shutdown(context.Background())) })
	return p, tel
}

func refusedBy(t *testing.T, tel *componenttest.Telemetry, reason string) int64 {
	t.Helper()
	m, err := tel.GetMetric("otelcol_exporter_promstore_samples_refused")
	if err != nil {
		return 0
	}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		if v, _ := dp.Attributes.Value("reason"); v.AsString() == reason {
			return dp.Value
		}
	}
	return 0
}

// TestSeriesLimitRefusesNewSeriesOnly: past limits.max_series, samples of
// new series are refused with a permanent error that names the limit and
// are counted; series the head has still take samples.
func TestSeriesLimitRefusesNewSeriesOnly(t *testing.T) {
	p, tel := startWithTelemetry(t, func(c *Config) { c.Limits.MaxSeries = 10 })
	ctx := context.Background()
	t0 := time.Now().Truncate(time.Second)

	require.NoError(t, p.pushMetrics(ctx, gaugeSeries("old", 8, t0)))
	err := p.pushMetrics(ctx, gaugeSeries("new", 5, t0))
	require.Error(t, err)
	assert.True(t, consumererror.IsPermanent(err), "retrying cannot help: %v", err)
	assert.Contains(t, err.Error(), "refused 3 of 5 samples: 3 new series past limits.max_series (10) (series_limit)")
	assert.NotContains(t, err.Error(), "new2", "no label value in the error")
	assert.Equal(t, uint64(10), p.db.Head().NumSeries())
	assert.Equal(t, int64(3), refusedBy(t, tel, "series_limit"))

	// Existing series keep being written; the same new ones are refused.
	require.NoError(t, p.pushMetrics(ctx, gaugeSeries("old", 8, t0.Add(time.Second))))
	err = p.pushMetrics(ctx, gaugeSeries("new", 5, t0.Add(time.Second)))
	require.ErrorContains(t, err, "refused 3 of 5 samples")
	assert.Equal(t, uint64(10), p.db.Head().NumSeries())
	assert.Equal(t, int64(6), refusedBy(t, tel, "series_limit"))
}

// TestSeriesLimitKeepsReplayedSeries: a limit lowered below what the WAL
// holds drops nothing at restart; only new series are refused.
func TestSeriesLimitKeepsReplayedSeries(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	t0 := time.Now().Truncate(time.Second)
	p, err := newExporter(testConfig(t, dir), exportertest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	require.NoError(t, p.start(ctx, componenttest.NewNopHost()))
	require.NoError(t, p.pushMetrics(ctx, gaugeSeries("a", 20, t0)))
	require.NoError(t, p.shutdown(ctx))

	cfg := testConfig(t, dir)
	cfg.Limits.MaxSeries = 5
	p, err = newExporter(cfg, exportertest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	require.NoError(t, p.start(ctx, componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, p.shutdown(ctx)) })
	assert.Equal(t, uint64(20), p.db.Head().NumSeries(), "every series replayed")
	require.NoError(t, p.pushMetrics(ctx, gaugeSeries("a", 20, t0.Add(time.Second))))
	require.Error(t, p.pushMetrics(ctx, gaugeSeries("b", 1, t0.Add(time.Second))))
}

// TestStoreMetricsOnTelemetry: the TSDB's, the engine's, the rules
// manager's and the notifier's health metrics are on the collector's
// telemetry.
func TestStoreMetricsOnTelemetry(t *testing.T) {
	p, tel := startWithTelemetry(t, func(*Config) {})
	require.NoError(t, p.pushMetrics(context.Background(), gaugeSeries("s", 3, time.Now())))

	gauge := func(name string) float64 {
		m, err := tel.GetMetric(name)
		require.NoError(t, err, name)
		dps := m.Data.(metricdata.Gauge[float64]).DataPoints
		require.Len(t, dps, 1, name)
		return dps[0].Value
	}
	counter := func(name string, attrs ...attribute.KeyValue) {
		m, err := tel.GetMetric(name)
		require.NoError(t, err, name)
		sum := m.Data.(metricdata.Sum[float64])
		assert.True(t, sum.IsMonotonic, name)
		require.NotEmpty(t, sum.DataPoints, name)
		for _, a := range attrs {
			found := false
			for _, dp := range sum.DataPoints {
				v, ok := dp.Attributes.Value(a.Key)
				found = found || (ok && v == a.Value)
			}
			assert.True(t, found, "%s has %s=%s", name, a.Key, a.Value.String())
		}
	}
	assert.Equal(t, float64(3), gauge("prometheus_tsdb_head_series"))
	assert.Equal(t, float64(4), gauge("prometheus_engine_queries_concurrent_max"), "query.max_concurrency")
	counter("prometheus_tsdb_wal_corruptions_total")
	counter("prometheus_tsdb_compactions_failed_total")
	counter("prometheus_tsdb_out_of_order_samples_total", attribute.String("type", "float"))
	assert.Equal(t, float64(notifierQueueCapacity), gauge("prometheus_notifications_queue_capacity"))
	// prometheus_rule_evaluation_failures_total has a series per rule
	// group and prometheus_notifications_dropped_total per Alertmanager:
	// TestStoreMetricsOfRulesAndNotifier.
}

// failingRules has a rule that fails at every evaluation (duplicate series
// on the "one" side of a group_left) and an alert that always fires.
const failingRules = `groups:
  - name: failing
    rules:
      - record: pulse:failing
        expr: vector(1) + on() group_left() (label_replace(vector(1), "a", "1", "", "") or label_replace(vector(1), "a", "2", "", ""))
      - alert: PulseAlways
        expr: vector(1)
`

// TestStoreMetricsOfRulesAndNotifier: rule failures and alerts the notifier
// could not deliver are counted on the collector's telemetry.
func TestStoreMetricsOfRulesAndNotifier(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	require.NoError(t, os.WriteFile(rules, []byte(failingRules), 0o600))
	_, tel := startWithTelemetry(t, func(c *Config) {
		c.Rules.Files = []string{rules}
		c.Rules.EvaluationInterval = time.Second
		c.Alertmanager.URL = "http://" + testutil.FreeAddr(t) // nothing listens
		c.Alertmanager.Timeout = time.Second
	})
	value := func(name string) float64 {
		m, err := tel.GetMetric(name)
		if err != nil {
			return 0
		}
		var v float64
		for _, dp := range m.Data.(metricdata.Sum[float64]).DataPoints {
			v += dp.Value
		}
		return v
	}
	require.Eventually(t, func() bool {
		return value("prometheus_rule_evaluation_failures_total") > 0 && value("prometheus_notifications_dropped_total") > 0
	}, 20*time.Second, 100*time.Millisecond, "rule failures %v, dropped alerts %v",
		value("prometheus_rule_evaluation_failures_total"), value("prometheus_notifications_dropped_total"))
}
