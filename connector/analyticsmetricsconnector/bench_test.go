package analyticsmetricsconnector

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/pulse-otel/pulse/internal/schema"
)

// benchLogs builds n privacy-processed events shaped like the analytics
// receiver's (about 30 attributes each), across 3 platforms, 500 users and
// 2000 sessions.
func benchLogs(n int) plog.Logs {
	ld := plog.NewLogs()
	platforms := []string{"web", "ios", "android"}
	behaviors := []string{"navigation", "interaction", "engagement", "conversion", ""}
	now := time.Now()
	for p, platform := range platforms {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr(schema.ResourcePlatform, platform)
		rl.Resource().Attributes().PutStr(schema.ResourceAppVersion, "4.2.0")
		lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
		for i := p; i < n; i += len(platforms) {
			lr := lrs.AppendEmpty()
			lr.SetEventName(schema.EventAnalytics)
			lr.SetTimestamp(pcommon.NewTimestampFromTime(now.Add(-time.Duration(i%1000) * time.Millisecond)))
			lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(now))
			a := lr.Attributes()
			a.PutStr(schema.AttrEventID, fmt.Sprintf("evt-%d", i))
			a.PutStr(schema.AttrSessionID, fmt.Sprintf("%032x", i%2000))
			a.PutStr(schema.AttrUserID, fmt.Sprintf("%032x", 1<<20+i%500))
			a.PutStr(schema.AttrDeviceID, fmt.Sprintf("%032x", 1<<21+i%700))
			a.PutStr(schema.AttrEventType, "user_action")
			a.PutStr(schema.AttrCategory, []string{"workout", "nutrition", "payment", "profile"}[i%4])
			a.PutStr(schema.AttrAction, []string{"view", "create", "complete"}[i%3])
			a.PutStr(schema.AttrPage, "/workouts/plan")
			a.PutStr(schema.AttrFeature, "planner")
			a.PutDouble(schema.AttrValue, float64(i%50))
			a.PutDouble(schema.AttrDuration, float64(100+i%5000))
			a.PutEmptyMap(schema.AttrMetadata).PutStr("plan", "pro")
			a.PutStr(schema.AttrUserAgent, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X)")
			a.PutStr(schema.AttrConsentLevel, "analytics")
			a.PutInt(schema.AttrDataRetentionDays, 365)
			if b := behaviors[i%len(behaviors)]; b != "" {
				a.PutStr(schema.AttrBehaviorType, b)
				switch b {
				case "navigation":
					a.PutStr(schema.AttrPagePath, fmt.Sprintf("/p/%d", i%20))
					a.PutStr(schema.AttrPageTitle, "Plan")
					a.PutDouble(schema.AttrPageTimeOnPage, 5230)
					a.PutDouble(schema.AttrPageScrollDep, 60)
				case "interaction":
					a.PutStr(schema.AttrInteractionElementType, "button")
					a.PutInt(schema.AttrInteractionCount, 2)
				case "engagement":
					a.PutStr(schema.AttrEngagementContentType, "video")
					a.PutDouble(schema.AttrEngagementDuration, 30000)
					a.PutDouble(schema.AttrEngagementCompletion, 80)
				case "conversion":
					a.PutStr(schema.AttrConversionGoalType, "purchase")
					a.PutStr(schema.AttrConversionFunnelStep, "checkout")
					a.PutDouble(schema.AttrConversionTime, 90000)
					a.PutDouble(schema.AttrConversionGoalValue, 19.99)
				}
			}
			a.PutBool(schema.AttrIsValid, true)
			a.PutDouble(schema.AttrQualityScore, 85.7)
			a.PutStr(schema.AttrProcessingStatus, "processed")
			a.PutBool(schema.AttrIsAnonymized, true)
			a.PutStr("pulse.privacy.key_id", "k1")
			a.PutInt("pulse.privacy.masked", 0)
			a.PutInt("pulse.privacy.removed", 0)
			a.PutStr("pulse.privacy.decision", "kept")
		}
	}
	return ld
}

// BenchmarkConsumeLogs measures aggregation per event with the default
// dimensions, flushing as the connector does every 500 ms worth of events.
func BenchmarkConsumeLogs(b *testing.B) {
	c, _ := newTestConnector(b, nil)
	const n = 1000
	ld := benchLogs(n)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		_ = c.ConsumeLogs(ctx, ld)
		// The same events again would be dropped as duplicates: forget
		// their ids (BenchmarkDedup measures the check alone).
		b.StopTimer()
		c.dedup.cur.reset()
		b.StartTimer()
		if i%10 == 9 {
			b.StopTimer()
			c.flush(ctx, time.Now(), false)
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
}

// BenchmarkDedupJoin measures what de-duplication and the join cost per
// recommendation record at steady state, at the defaults (1 M ids per
// generation, 1 M recommendations remembered): one op is a new
// recommendation (hashed once, checked, remembered) and a response to the
// one shown 500,000 recommendations earlier (checked, joined), as
// recommendation() does them.
func BenchmarkDedupJoin(b *testing.B) {
	ids := uuidLike(1 << 22)
	d := newDedup(24*time.Hour, 1_000_000)
	j := newJoinTable(1_000_000, 7*24*3600)
	ls := recLabels{"coach", "1.4", "workout"}
	rec := func(id string) {
		if h := idHash(kindRecommendation, id); usableID(id) && !d.seenHash(h, 1) {
			j.remember(h, ls, 1)
		}
	}
	resp := func(id string) {
		if h := idHash(kindRecommendation, id); usableID(id) && !d.seenHash(rekind(h, kindRecommendation, kindResponse), 1) {
			j.lookup(h, 2)
		}
	}
	const lag = 500_000
	i := 0
	for ; i < 1_500_000; i++ { // both generations and the table full
		rec(ids[i])
		if i >= lag {
			resp(ids[i-lag])
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		rec(ids[i&(len(ids)-1)])
		resp(ids[(i-lag)&(len(ids)-1)])
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(2*b.N), "ns/record")
	b.ReportMetric(float64(cpuTime()-cpu)/float64(2*b.N), "cpu-ns/record")
}
