package analyticsmetricsconnector

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pulse-otel/pulse/connector/analyticsmetricsconnector/internal/metadata"
	"github.com/pulse-otel/pulse/internal/catalog"
	"github.com/pulse-otel/pulse/internal/schema"
	"github.com/pulse-otel/pulse/internal/testutil"
)

func newTestConnector(t testing.TB, mutate func(*Config)) (*analyticsConnector, *consumertest.MetricsSink) {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.FlushInterval = time.Hour // tests flush by hand
	cfg.FullExportInterval = time.Hour
	cfg.WaitForExport = false // no flush loop to wait for
	if mutate != nil {
		mutate(cfg)
	}
	require.NoError(t, cfg.Validate())
	sink := new(consumertest.MetricsSink)
	set := connectortest.NewNopSettings(metadata.Type)
	set.ID = component.NewID(metadata.Type) // a stable ID: storage keys depend on it
	c, err := newConnector(set, cfg, sink)
	require.NoError(t, err)
	return c, sink
}

type ev struct {
	eventType, category, action, platform, user, session, behavior, path string
	duration                                                             float64
	ts                                                                   time.Time
}

func logsOf(evs ...ev) plog.Logs {
	ld := plog.NewLogs()
	for _, e := range evs {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr(schema.ResourcePlatform, e.platform)
		rl.Resource().Attributes().PutStr(schema.ResourceAppVersion, "1.0.0")
		lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		lr.SetEventName(schema.EventAnalytics)
		ts := e.ts
		if ts.IsZero() {
			ts = time.Now().Add(-time.Second)
		}
		lr.SetTimestamp(pcommon.NewTimestampFromTime(ts))
		lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(ts.Add(100 * time.Millisecond)))
		a := lr.Attributes()
		a.PutStr(schema.AttrEventType, e.eventType)
		a.PutStr(schema.AttrCategory, e.category)
		a.PutStr(schema.AttrAction, e.action)
		if e.user != "" {
			a.PutStr(schema.AttrUserID, e.user)
		}
		if e.session != "" {
			a.PutStr(schema.AttrSessionID, e.session)
		}
		if e.duration > 0 {
			a.PutDouble(schema.AttrDuration, e.duration)
		}
		if e.behavior != "" {
			a.PutStr(schema.AttrBehaviorType, e.behavior)
			if e.path != "" {
				a.PutStr(schema.AttrPagePath, e.path)
			}
		}
		a.PutDouble(schema.AttrQualityScore, 80)
	}
	return ld
}

// last returns the latest exported points of a metric, by label values.
func last(t *testing.T, sink *consumertest.MetricsSink, name string) map[string]pmetric.Metric {
	t.Helper()
	out := map[string]pmetric.Metric{}
	for _, md := range sink.AllMetrics() {
		sms := md.ResourceMetrics().At(0).ScopeMetrics()
		for i := 0; i < sms.Len(); i++ {
			ms := sms.At(i).Metrics()
			for j := 0; j < ms.Len(); j++ {
				if ms.At(j).Name() == name {
					out[fmt.Sprint(len(out))] = ms.At(j)
				}
			}
		}
	}
	return out
}

// sumPoints adds the latest value of every series of a sum metric.
func sumPoints(t *testing.T, sink *consumertest.MetricsSink, name string) (total int64, series map[string]int64) {
	t.Helper()
	series = map[string]int64{}
	for _, md := range sink.AllMetrics() {
		sms := md.ResourceMetrics().At(0).ScopeMetrics()
		for i := 0; i < sms.Len(); i++ {
			ms := sms.At(i).Metrics()
			for j := 0; j < ms.Len(); j++ {
				m := ms.At(j)
				if m.Name() != name {
					continue
				}
				require.Equal(t, pmetric.AggregationTemporalityCumulative, m.Sum().AggregationTemporality())
				require.True(t, m.Sum().IsMonotonic())
				for k := 0; k < m.Sum().DataPoints().Len(); k++ {
					dp := m.Sum().DataPoints().At(k)
					require.NotZero(t, dp.StartTimestamp())
					require.LessOrEqual(t, dp.StartTimestamp(), dp.Timestamp())
					series[fmt.Sprint(dp.Attributes().AsRaw())] = dp.IntValue()
				}
			}
		}
	}
	for _, v := range series {
		total += v
	}
	return total, series
}

func TestExactCountsAcrossBatchesAndFlushes(t *testing.T) {
	c, sink := newTestConnector(t, nil)
	ctx := context.Background()
	types := []string{"user_action", "error_tracking", "ai_recommendation"}
	platforms := []string{"web", "ios", "android"}
	want := 0
	for batch := range 50 {
		var evs []ev
		for i := range 37 {
			n := batch*37 + i
			evs = append(evs, ev{eventType: types[n%3], category: fmt.Sprintf("c%d", n%7), action: "view", platform: platforms[n%3], user: fmt.Sprintf("u%d", n%101)})
		}
		require.NoError(t, c.ConsumeLogs(ctx, logsOf(evs...)))
		want += len(evs)
		if batch%10 == 9 {
			c.flush(ctx, time.Now(), batch%20 == 19)
		}
	}
	c.flush(ctx, time.Now(), true)
	total, series := sumPoints(t, sink, "pulse.events")
	assert.Equal(t, int64(want), total, "every event counted exactly once")
	assert.Len(t, series, 3*7, "event_type × category (platform follows event type here)")
}

func TestCardinalityLimits(t *testing.T) {
	c, sink := newTestConnector(t, func(cfg *Config) { cfg.MaxValuesPerLabel = 3 })
	var evs []ev
	for i := range 10 {
		evs = append(evs, ev{eventType: "user_action", category: fmt.Sprintf("cat-%d", i), action: "view", platform: "web"})
	}
	require.NoError(t, c.ConsumeLogs(context.Background(), logsOf(evs...)))
	c.flush(context.Background(), time.Now(), true)
	total, series := sumPoints(t, sink, "pulse.events")
	assert.Equal(t, int64(10), total, "overflowed events are still counted")
	assert.Len(t, series, 4, "3 categories and _other")
	assert.Equal(t, int64(7), series[fmt.Sprint(map[string]any{"action": "view", "app_version": "1.0.0", "category": "_other", "event_type": "user_action", "platform": "web"})])
	overflow, byLabel := sumPoints(t, sink, "pulse.connector.overflow")
	assert.Equal(t, int64(7), overflow, "only the category label overflowed: %v", byLabel)
	assert.Equal(t, int64(7), byLabel[fmt.Sprint(map[string]any{"metric": "pulse.events", "label": "category"})])
}

func TestSeriesCap(t *testing.T) {
	c, sink := newTestConnector(t, func(cfg *Config) { cfg.MaxSeries = 100 })
	var evs []ev
	for i := range 500 {
		evs = append(evs, ev{eventType: "user_action", category: fmt.Sprintf("cat-%d", i%150), action: fmt.Sprintf("a-%d", i%160), platform: "web"})
	}
	require.NoError(t, c.ConsumeLogs(context.Background(), logsOf(evs...)))
	c.flush(context.Background(), time.Now(), true)
	total, series := sumPoints(t, sink, "pulse.events")
	assert.Equal(t, int64(500), total)
	assert.LessOrEqual(t, c.agg.total, 100+catalog.NumConnector*2, "series stay bounded")
	assert.Less(t, len(series), 150)
}

func TestIdentifiersCanNeverBeLabels(t *testing.T) {
	for _, d := range []string{"user_id", "user.id", "session_id", "device.id", "pulse.event.id", "customer_id", "user_agent"} {
		cfg := createDefaultConfig().(*Config)
		cfg.EventDimensions = []string{"event_type", d}
		err := cfg.Validate()
		require.Error(t, err, d)
		assert.Contains(t, err.Error(), fmt.Sprintf("%q", d))
	}
	// And no catalog metric has one.
	for _, m := range Catalog() {
		for _, l := range m.Labels {
			assert.NotContains(t, forbiddenLabels, l, m.Name)
		}
	}
	// Nor does any exported series, whatever the events carry.
	c, sink := newTestConnector(t, nil)
	require.NoError(t, c.ConsumeLogs(context.Background(), logsOf(ev{eventType: "user_action", category: "c", action: "a", platform: "web", user: "u-secret", session: "s-secret", behavior: "navigation", path: "/p"})))
	c.flush(context.Background(), time.Now(), true)
	for _, md := range sink.AllMetrics() {
		b, err := (&pmetric.JSONMarshaler{}).MarshalMetrics(md)
		require.NoError(t, err)
		assert.NotContains(t, string(b), "u-secret")
		assert.NotContains(t, string(b), "s-secret")
	}
}

func TestSessionsBouncesAndUniquePageViews(t *testing.T) {
	c, sink := newTestConnector(t, nil)
	now := time.Now().Add(-time.Minute)
	require.NoError(t, c.ConsumeLogs(context.Background(), logsOf(
		ev{eventType: "user_action", category: "c", action: "a", platform: "web", session: "A", behavior: "navigation", path: "/a", ts: now},
		ev{eventType: "user_action", category: "c", action: "a", platform: "web", session: "A", behavior: "navigation", path: "/a", ts: now.Add(10 * time.Second)},
		ev{eventType: "user_action", category: "c", action: "a", platform: "web", session: "A", behavior: "navigation", path: "/b", ts: now.Add(20 * time.Second)},
		ev{eventType: "user_action", category: "c", action: "a", platform: "ios", session: "B", ts: now},
	)))
	c.mu.Lock()
	c.endSessions(0, true)
	c.mu.Unlock()
	c.flush(context.Background(), time.Now(), true)
	sessions, _ := sumPoints(t, sink, "pulse.sessions")
	assert.Equal(t, int64(2), sessions)
	bounced, _ := sumPoints(t, sink, "pulse.sessions.bounced")
	assert.Equal(t, int64(1), bounced)
	views, _ := sumPoints(t, sink, "pulse.page.views")
	assert.Equal(t, int64(3), views)
	unique, _ := sumPoints(t, sink, "pulse.page.unique_views")
	assert.Equal(t, int64(2), unique)
	for _, m := range last(t, sink, "pulse.session.duration") {
		dps := m.Histogram().DataPoints()
		for i := 0; i < dps.Len(); i++ {
			// A new series' first export starts with a 0 point.
			if v, _ := dps.At(i).Attributes().Get("platform"); v.Str() == "web" && dps.At(i).Count() > 0 {
				assert.InDelta(t, 20.0, dps.At(i).Sum(), 0.001)
			}
		}
	}
}

func TestActiveAndNewUsers(t *testing.T) {
	c, sink := newTestConnector(t, nil)
	var evs []ev
	for i := range 1000 {
		evs = append(evs, ev{eventType: "user_action", category: "c", action: "a", platform: "web", user: fmt.Sprintf("user-%d", i%250)})
	}
	require.NoError(t, c.ConsumeLogs(context.Background(), logsOf(evs...)))
	c.flush(context.Background(), time.Now(), true)
	newUsers, _ := sumPoints(t, sink, "pulse.users.new")
	assert.InDelta(t, 250, newUsers, 2, "250 distinct users are new once each (bloom false positives at most a few)")
	found := false
	for _, m := range last(t, sink, "pulse.users.active") {
		dps := m.Gauge().DataPoints()
		for i := 0; i < dps.Len(); i++ {
			found = true
			assert.InDelta(t, 250, dps.At(i).IntValue(), 5, "window %v", dps.At(i).Attributes().AsRaw())
		}
	}
	assert.True(t, found)
}

func TestNewUserStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	storageID := component.MustNewID("file_storage")
	startStorage := func() component.Component {
		f := filestorage.NewFactory()
		cfg := f.CreateDefaultConfig().(*filestorage.Config)
		cfg.Directory = dir
		ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), cfg)
		require.NoError(t, err)
		require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
		return ext
	}
	run := func(users ...string) int64 {
		ext := startStorage()
		defer func() { require.NoError(t, ext.Shutdown(context.Background())) }()
		c, sink := newTestConnector(t, func(cfg *Config) { cfg.Storage = &storageID })
		h := testutil.Host(map[component.ID]component.Component{storageID: ext})
		require.NoError(t, c.Start(context.Background(), h))
		var evs []ev
		for _, u := range users {
			evs = append(evs, ev{eventType: "user_action", category: "c", action: "a", platform: "web", user: u})
		}
		require.NoError(t, c.ConsumeLogs(context.Background(), logsOf(evs...)))
		require.NoError(t, c.Shutdown(context.Background()))
		n, _ := sumPoints(t, sink, "pulse.users.new")
		return n
	}
	assert.Equal(t, int64(2), run("u1", "u2"))
	assert.Equal(t, int64(1), run("u1", "u3"), "u1 is returning after the restart")
}

func TestFreshnessAndTimeliness(t *testing.T) {
	c, sink := newTestConnector(t, nil)
	require.NoError(t, c.ConsumeLogs(context.Background(), logsOf(ev{eventType: "user_action", category: "c", action: "a", platform: "web", ts: time.Now().Add(-2 * time.Second)})))
	c.flush(context.Background(), time.Now(), true)
	for _, m := range last(t, sink, "pulse.event.freshness") {
		dps := m.Histogram().DataPoints()
		dp := dps.At(dps.Len() - 1)
		assert.Equal(t, uint64(1), dp.Count())
		assert.InDelta(t, 2.0, dp.Sum(), 0.5)
	}
	for _, m := range last(t, sink, "pulse.event.timeliness") {
		dps := m.Histogram().DataPoints()
		assert.InDelta(t, 0.1, dps.At(dps.Len()-1).Sum(), 0.001)
	}
}
