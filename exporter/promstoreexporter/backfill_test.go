package promstoreexporter

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/pulse-otel/pulse/exporter/promstoreexporter/internal/metadata"
)

// TestLateSnapshotsAreStoredOrRefusedLoudly: with the default 7-day
// out-of-order window, a snapshot two days older than the newest sample is
// stored and queryable; one older than the window is refused with a
// permanent error that says so, and counted by reason.
func TestLateSnapshotsAreStoredOrRefusedLoudly(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	set := exportertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	cfg := testConfig(t, t.TempDir())
	require.Equal(t, 7*24*time.Hour, cfg.OutOfOrderTimeWindow)
	exp, err := NewFactory().CreateMetrics(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
	ctx := context.Background()
	c := apiClient(t, cfg)

	now := time.Now().Truncate(time.Minute)
	late, tooLate := now.Add(-48*time.Hour), now.Add(-8*24*time.Hour)
	require.NoError(t, exp.ConsumeMetrics(ctx, counterMetrics(true, point{at: now, v: 1})))

	require.NoError(t, exp.ConsumeMetrics(ctx, counterMetrics(true, point{at: late, v: 42})))
	v := queryVector(t, c, "level", late)
	require.Len(t, v, 1)
	assert.Equal(t, model.SampleValue(42), v[0].Value)
	assert.Equal(t, model.TimeFromUnixNano(late.UnixNano()), v[0].Timestamp)

	err = exp.ConsumeMetrics(ctx, counterMetrics(true, point{at: tooLate, v: 7}))
	require.Error(t, err)
	assert.True(t, consumererror.IsPermanent(err), "%v", err)
	assert.Contains(t, err.Error(), "the TSDB refused 1 of 1 samples: 1 older than out_of_order_time_window (168h0m0s)")
	assert.NotContains(t, err.Error(), "shop", "no label values in the error")
	assert.Empty(t, queryVector(t, c, "level", tooLate))

	t.Log(err)
	m, err := tel.GetMetric("otelcol_exporter_promstore_samples_refused")
	require.NoError(t, err)
	byReason := map[string]int64{}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		r, _ := dp.Attributes.Value("reason")
		byReason[r.AsString()] += dp.Value
	}
	assert.Equal(t, int64(1), byReason["too_old"]+byReason["out_of_bounds"], "%v", byReason)
}
