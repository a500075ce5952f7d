package promstoreexporter

import (
	"context"
	"testing"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// point is one data point: start time, time and value.
type point struct {
	start, at time.Time
	v         float64
}

// counterMetrics is one cumulative monotonic sum "events" (stored as
// events_total) with the given points, or a gauge when gauge is set.
func counterMetrics(gauge bool, pts ...point) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "shop")
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	var dps pmetric.NumberDataPointSlice
	if gauge {
		m.SetName("level")
		dps = m.SetEmptyGauge().DataPoints()
	} else {
		m.SetName("events")
		sum := m.SetEmptySum()
		sum.SetIsMonotonic(true)
		sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		dps = sum.DataPoints()
	}
	for _, p := range pts {
		dp := dps.AppendEmpty()
		if !p.start.IsZero() {
			dp.SetStartTimestamp(pcommon.NewTimestampFromTime(p.start))
		}
		dp.SetTimestamp(pcommon.NewTimestampFromTime(p.at))
		dp.SetDoubleValue(p.v)
	}
	return md
}

// rawSamples is what the TSDB holds for q (a selector) from at-10m to at.
func rawSamples(t *testing.T, c promv1.API, q string, at time.Time) []model.SamplePair {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, _, _, err := c.Query(ctx, q+"[10m]", at)
	require.NoError(t, err)
	m := v.(model.Matrix)
	if len(m) == 0 {
		return nil
	}
	require.Len(t, m, 1)
	return m[0].Values
}

func sample(at time.Time, v float64) model.SamplePair {
	return model.SamplePair{Timestamp: model.TimeFromUnixNano(at.UnixNano()), Value: model.SampleValue(v)}
}

// TestStartTimeGivesTheFirstExportAZero: a new cumulative series whose
// points carry a start time gets a zero sample at the start time, as
// Prometheus' created-timestamp zero ingestion does, so increase() counts
// the events of the first export: three events, then two more, is an
// increase of 5, not 2.
func TestStartTimeGivesTheFirstExportAZero(t *testing.T) {
	base := time.Now().Truncate(time.Minute)
	start, t1, t2 := base.Add(-4*time.Minute), base.Add(-3*time.Minute), base.Add(-2*time.Minute)

	shapes := []struct {
		name    string
		exports []pmetric.Metrics
	}{
		{name: "start time only", exports: []pmetric.Metrics{
			counterMetrics(false, point{start, t1, 3}),
			counterMetrics(false, point{start, t2, 5}),
		}},
		// The connector may itself emit a 0 at the start time of a new
		// series: the injected zero must then change nothing.
		{name: "explicit zero in the same export", exports: []pmetric.Metrics{
			counterMetrics(false, point{start, start, 0}, point{start, t1, 3}),
			counterMetrics(false, point{start, t2, 5}),
		}},
		{name: "explicit zero in an earlier export", exports: []pmetric.Metrics{
			counterMetrics(false, point{start, start, 0}),
			counterMetrics(false, point{start, t1, 3}),
			counterMetrics(false, point{start, t2, 5}),
		}},
	}
	for _, tt := range shapes {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t, t.TempDir())
			exp := startExporter(t, cfg)
			t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
			for _, md := range tt.exports {
				require.NoError(t, exp.ConsumeMetrics(context.Background(), md))
			}
			c := apiClient(t, cfg)
			assert.Equal(t, []model.SamplePair{sample(start, 0), sample(t1, 3), sample(t2, 5)},
				rawSamples(t, c, "events_total", base))
			v := queryVector(t, c, "events_total - events_total offset 2m", t2)
			require.Len(t, v, 1)
			assert.InDelta(t, 5, float64(v[0].Value), 1e-9)
			// The range holds the start: no extrapolation before the zero.
			v = queryVector(t, c, "increase(events_total[3m])", t2)
			require.Len(t, v, 1)
			assert.InDelta(t, 5, float64(v[0].Value), 1e-9)
		})
	}
}

// TestStartTimeAfterAResetGivesAZero: a start time later than the series'
// last sample is a counter reset and gets a zero too; a start time that
// does not move, is unset, or is not before the point adds nothing, and
// gauges never get one.
func TestStartTimeAfterAResetGivesAZero(t *testing.T) {
	base := time.Now().Truncate(time.Minute)
	start, t1, reset, t2 := base.Add(-4*time.Minute), base.Add(-3*time.Minute), base.Add(-150*time.Second), base.Add(-2*time.Minute)
	t3 := base.Add(-time.Minute)

	cfg := testConfig(t, t.TempDir())
	exp := startExporter(t, cfg)
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
	ctx := context.Background()
	require.NoError(t, exp.ConsumeMetrics(ctx, counterMetrics(false, point{start, t1, 7})))
	require.NoError(t, exp.ConsumeMetrics(ctx, counterMetrics(false, point{reset, t2, 2})))
	require.NoError(t, exp.ConsumeMetrics(ctx, counterMetrics(false, point{t3, t3, 4})))
	c := apiClient(t, cfg)
	assert.Equal(t, []model.SamplePair{sample(start, 0), sample(t1, 7), sample(reset, 0), sample(t2, 2), sample(t3, 4)},
		rawSamples(t, c, "events_total", base))

	require.NoError(t, exp.ConsumeMetrics(ctx, counterMetrics(true, point{start, t1, 7}, point{time.Time{}, t2, 8})))
	assert.Equal(t, []model.SamplePair{sample(t1, 7), sample(t2, 8)}, rawSamples(t, c, "level", base))
}
