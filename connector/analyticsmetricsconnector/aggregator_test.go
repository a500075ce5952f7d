package analyticsmetricsconnector

import (
	"context"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/translator/prometheusremotewrite"
	"github.com/prometheus/prometheus/prompb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pulse-otel/pulse/internal/catalog"
)

// exportAt runs one export of a at now and returns its metrics by name.
func exportAt(a *aggregator, now pcommon.Timestamp, full bool) map[string]pmetric.Metric {
	sm := pmetric.NewScopeMetrics()
	a.export(sm, now, full)
	out := map[string]pmetric.Metric{}
	for i := 0; i < sm.Metrics().Len(); i++ {
		out[sm.Metrics().At(i).Name()] = sm.Metrics().At(i)
	}
	return out
}

type numPoint struct {
	start, ts pcommon.Timestamp
	v         int64
}

func numPoints(m pmetric.Metric) []numPoint {
	var dps pmetric.NumberDataPointSlice
	if m.Type() == pmetric.MetricTypeGauge {
		dps = m.Gauge().DataPoints()
	} else {
		dps = m.Sum().DataPoints()
	}
	var out []numPoint
	for i := 0; i < dps.Len(); i++ {
		out = append(out, numPoint{dps.At(i).StartTimestamp(), dps.At(i).Timestamp(), dps.At(i).IntValue()})
	}
	return out
}

func TestFirstExportOfASeriesStartsAtZero(t *testing.T) {
	a := newAggregator(createDefaultConfig().(*Config).EventDimensions, 200, 1000)
	t0 := pcommon.NewTimestampFromTime(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	t1, t2, t3 := t0+pcommon.Timestamp(time.Second), t0+pcommon.Timestamp(2*time.Second), t0+pcommon.Timestamp(3*time.Second)
	web, ios := labelSet{"web"}, labelSet{"ios"}

	a.now = t0
	a.add(catalog.Sessions, web, 3)
	a.observe(catalog.SessionDuration, web, 12)
	a.set(catalog.SessionsOpen, web, 5)
	got := exportAt(a, t1, false)

	assert.Equal(t, []numPoint{{t0, t0, 0}, {t0, t1, 3}}, numPoints(got["pulse.sessions"]), "0 at the start time, then the value")
	h := got["pulse.session.duration"].Histogram().DataPoints()
	require.Equal(t, 2, h.Len())
	zero, first := h.At(0), h.At(1)
	assert.Equal(t, []pcommon.Timestamp{t0, t0}, []pcommon.Timestamp{zero.StartTimestamp(), zero.Timestamp()})
	assert.Equal(t, uint64(0), zero.Count())
	assert.True(t, zero.HasSum(), "a sum of 0, not none: else there is no _sum sample")
	assert.Equal(t, 0.0, zero.Sum())
	assert.Equal(t, make([]uint64, len(catalog.BoundsSeconds)+1), zero.BucketCounts().AsRaw())
	assert.Equal(t, catalog.BoundsSeconds, zero.ExplicitBounds().AsRaw())
	assert.Equal(t, "web", func() string { v, _ := zero.Attributes().Get(catalog.LabelPlatform); return v.Str() }())
	assert.Equal(t, []pcommon.Timestamp{t0, t1}, []pcommon.Timestamp{first.StartTimestamp(), first.Timestamp()})
	assert.Equal(t, uint64(1), first.Count())
	assert.Equal(t, []numPoint{{0, t1, 5}}, numPoints(got["pulse.sessions.open"]), "gauges have no zero point")

	// Later exports write the value only, full or not.
	a.add(catalog.Sessions, web, 1)
	got = exportAt(a, t2, true)
	assert.Equal(t, []numPoint{{t0, t2, 4}}, numPoints(got["pulse.sessions"]))
	assert.Equal(t, 1, got["pulse.session.duration"].Histogram().DataPoints().Len())

	// A series created later gets its own zero, at its own start.
	a.now = t2 + pcommon.Timestamp(time.Millisecond)
	a.add(catalog.Sessions, ios, 2)
	got = exportAt(a, t3, false)
	assert.Equal(t, []numPoint{{a.now, a.now, 0}, {a.now, t3, 2}}, numPoints(got["pulse.sessions"]), "only the new series is exported, with its zero")

	// No zero when the start is not a millisecond before the export:
	// Prometheus would see two samples at one timestamp.
	a.now = t3 + pcommon.Timestamp(100*time.Microsecond)
	a.add(catalog.Sessions, labelSet{"android"}, 1)
	got = exportAt(a, t3+pcommon.Timestamp(900*time.Microsecond), false)
	assert.Len(t, numPoints(got["pulse.sessions"]), 1)
}

// Series the flush creates (ended sessions) start at the previous export,
// not at the export that first carries them.
func TestSeriesCreatedByAFlushStartAtThePreviousExport(t *testing.T) {
	c, sink := newTestConnector(t, nil)
	ctx := context.Background()
	start := time.Now().Add(-29 * time.Minute)
	require.NoError(t, c.ConsumeLogs(ctx, logsOf(ev{eventType: "user_action", category: "c", action: "a", platform: "web", session: "A", ts: start})))
	consumed := c.agg.now
	t1 := time.Now().Add(time.Second)
	c.flush(ctx, t1, false)
	// Session A is idle past session_timeout (30m) at the next flush.
	t2 := t1.Add(2 * time.Minute)
	c.flush(ctx, t2, false)

	sessions := numPoints(sink.AllMetrics()[0].ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(indexOf(t, sink.AllMetrics()[0], "pulse.sessions")))
	assert.Equal(t, []numPoint{{consumed, consumed, 0}, {consumed, pcommon.NewTimestampFromTime(t1), 1}}, sessions)
	bounced := numPoints(sink.AllMetrics()[1].ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(indexOf(t, sink.AllMetrics()[1], "pulse.sessions.bounced")))
	p1 := pcommon.NewTimestampFromTime(t1)
	assert.Equal(t, []numPoint{{p1, p1, 0}, {p1, pcommon.NewTimestampFromTime(t2), 1}}, bounced)
}

func indexOf(t *testing.T, md pmetric.Metrics, name string) int {
	t.Helper()
	ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	for i := 0; i < ms.Len(); i++ {
		if ms.At(i).Name() == name {
			return i
		}
	}
	t.Fatalf("no %s in the export", name)
	return -1
}

// The prometheus_remote_write exporter's translator (contrib v0.165.1, the
// one promstore uses too) keeps the zero and the value of a new series as
// two samples of one series, in time order.
func TestFirstExportTranslatesToTwoSamples(t *testing.T) {
	a := newAggregator(createDefaultConfig().(*Config).EventDimensions, 200, 1000)
	t0 := pcommon.NewTimestampFromTime(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	a.now = t0
	a.add(catalog.Sessions, labelSet{"web"}, 3)
	a.observe(catalog.SessionDuration, labelSet{"web"}, 12)
	md := pmetric.NewMetrics()
	a.export(md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty(), t0+pcommon.Timestamp(time.Second), false)
	tsMap, err := prometheusremotewrite.FromMetrics(md, prometheusremotewrite.Settings{AddMetricSuffixes: true})
	require.NoError(t, err)
	ms := t0.AsTime().UnixMilli()
	samples := map[string][]prompb.Sample{}
	for _, ts := range tsMap {
		name := ""
		for _, l := range ts.Labels {
			if l.Name == "__name__" {
				name = l.Value
			}
			if l.Name == "le" {
				name += "{le=" + l.Value + "}"
			}
		}
		samples[name] = ts.Samples
	}
	want := []prompb.Sample{{Value: 0, Timestamp: ms}, {Value: 3, Timestamp: ms + 1000}}
	assert.Equal(t, want, samples["pulse_sessions_total"])
	assert.Equal(t, []prompb.Sample{{Value: 0, Timestamp: ms}, {Value: 1, Timestamp: ms + 1000}}, samples["pulse_session_duration_seconds_count"])
	assert.Equal(t, []prompb.Sample{{Value: 0, Timestamp: ms}, {Value: 12, Timestamp: ms + 1000}}, samples["pulse_session_duration_seconds_sum"])
	assert.Equal(t, []prompb.Sample{{Value: 0, Timestamp: ms}, {Value: 1, Timestamp: ms + 1000}}, samples["pulse_session_duration_seconds_bucket{le=+Inf}"])
	assert.Equal(t, []prompb.Sample{{Value: 0, Timestamp: ms}, {Value: 0, Timestamp: ms + 1000}}, samples["pulse_session_duration_seconds_bucket{le=10}"])
}
