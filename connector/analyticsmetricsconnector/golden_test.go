package analyticsmetricsconnector

import (
	"context"
	"flag"
	"path/filepath"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/pulse-otel/pulse/internal/schema"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/<family>.yaml from the connector's output")

var goldenNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// goldenStart is the pinned start time of the golden series.
var goldenStart = goldenNow.Add(-time.Minute)

// pinStarts sets the start time of every series so far, and of those the
// next flush creates, to at: otherwise they are the wall clock.
func pinStarts(a *aggregator, at time.Time) {
	ts := pcommon.NewTimestampFromTime(at)
	for _, s := range a.metrics {
		for _, p := range s.points {
			p.start = ts
		}
	}
	a.exportedAt = ts
}

// family builds the log records of one event family at fixed times.
type family func(ld plog.Logs)

func record(ld plog.Logs, platform, eventName string, offset time.Duration, attrs map[string]any) {
	rl := ld.ResourceLogs().AppendEmpty()
	if platform != "" {
		rl.Resource().Attributes().PutStr(schema.ResourcePlatform, platform)
		rl.Resource().Attributes().PutStr(schema.ResourceAppVersion, "2.0.0")
	}
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetEventName(eventName)
	lr.SetTimestamp(pcommon.NewTimestampFromTime(goldenNow.Add(-offset)))
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(goldenNow.Add(-offset + 250*time.Millisecond)))
	if err := lr.Attributes().FromRaw(attrs); err != nil {
		panic(err)
	}
}

func base(extra map[string]any) map[string]any {
	m := map[string]any{
		schema.AttrEventType: "user_action", schema.AttrCategory: "workout", schema.AttrAction: "view",
		schema.AttrUserID: "3f2a0c", schema.AttrSessionID: "s-1", schema.AttrQualityScore: 71.4,
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

var families = map[string]family{
	"behaviour": func(ld plog.Logs) {
		record(ld, "web", schema.EventAnalytics, 40*time.Second, base(map[string]any{
			schema.AttrBehaviorType: "navigation", schema.AttrPagePath: "/plan", schema.AttrPageTimeOnPage: 5230.0, schema.AttrPageScrollDep: 55.0,
			schema.AttrDuration: 120.0, schema.AttrValue: 3.0,
		}))
		record(ld, "web", schema.EventAnalytics, 30*time.Second, base(map[string]any{
			schema.AttrBehaviorType: "interaction", schema.AttrInteractionElementType: "button", schema.AttrInteractionCount: int64(3),
		}))
		record(ld, "ios", schema.EventAnalytics, 20*time.Second, base(map[string]any{
			schema.AttrSessionID: "s-2", schema.AttrUserID: "77aa01",
			schema.AttrBehaviorType: "engagement", schema.AttrEngagementContentType: "video", schema.AttrEngagementDuration: 42000.0, schema.AttrEngagementCompletion: 80.0,
		}))
		record(ld, "web", schema.EventAnalytics, 10*time.Second, base(map[string]any{
			schema.AttrBehaviorType: "conversion", schema.AttrConversionGoalType: "purchase", schema.AttrConversionFunnelStep: "checkout",
			schema.AttrConversionTime: 90000.0, schema.AttrConversionGoalValue: 19.99,
		}))
		record(ld, "android", schema.EventAnalytics, 5*time.Second, base(map[string]any{
			schema.AttrSessionID: "s-3", schema.AttrBehaviorType: "abandonment", schema.AttrEventType: "error_tracking",
		}))
	},
	"recommendations": func(ld plog.Logs) {
		rec := map[string]any{
			schema.AttrRecommendationID: "r-1", schema.AttrUserID: "3f2a0c", schema.AttrModelID: "coach", schema.AttrModelVersion: "1.4",
			schema.AttrRecommendationType: "workout", schema.AttrConfidence: 0.82, schema.AttrViewDuration: 3200.0, schema.AttrClickThroughRate: 0.3,
		}
		record(ld, "", schema.EventRecommendation, 50*time.Second, rec)
		record(ld, "", schema.EventRecommendationResponse, 20*time.Second, map[string]any{
			schema.AttrRecommendationID: "r-1", schema.AttrUserID: "3f2a0c", schema.AttrModelID: "coach", schema.AttrModelVersion: "1.4",
			schema.AttrRecommendationType: "workout", schema.AttrResponseAction: "modified", schema.AttrResponseTime: 12.5, schema.AttrResponseRating: 4.0,
		})
	},
}

// TestGolden runs each event family through the connector at fixed times
// and compares every exported metric with testdata/golden/<family>.yaml.
func TestGolden(t *testing.T) {
	for name, build := range families {
		t.Run(name, func(t *testing.T) {
			c, sink := newTestConnector(t, nil)
			c.users.SetClock(func() time.Time { return goldenNow })
			ld := plog.NewLogs()
			build(ld)
			require.NoError(t, c.ConsumeLogs(context.Background(), ld))
			c.mu.Lock()
			c.endSessions(0, true)
			pinStarts(c.agg, goldenStart)
			c.mu.Unlock()
			c.flush(context.Background(), goldenNow, true)
			require.Len(t, sink.AllMetrics(), 1)
			got := sink.AllMetrics()[0]
			path := filepath.Join("testdata", "golden", name+".yaml")
			if *update {
				require.NoError(t, golden.WriteMetrics(t, path, got, golden.SkipMetricTimestampNormalization()))
			}
			want, err := golden.ReadMetrics(path)
			require.NoError(t, err)
			// Timestamps are compared: every sum and histogram series is
			// new, so it has a 0 at goldenStart before its value at goldenNow.
			require.NoError(t, pmetrictest.CompareMetrics(want, got,
				pmetrictest.IgnoreMetricsOrder(),
				pmetrictest.IgnoreMetricDataPointsOrder(),
			))
		})
	}
}
