package analyticsmetricsconnector

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pulse-otel/pulse/internal/catalog"
	"github.com/pulse-otel/pulse/internal/schema"
	"github.com/pulse-otel/pulse/internal/testutil"
)

// latest returns the latest value of every series of a sum or gauge, by
// the value of label ("" for a metric without labels).
func latest(sink *consumertest.MetricsSink, name, label string) map[string]float64 {
	out := map[string]float64{}
	for _, md := range sink.AllMetrics() {
		ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
		for i := 0; i < ms.Len(); i++ {
			m := ms.At(i)
			if m.Name() != name {
				continue
			}
			var dps pmetric.NumberDataPointSlice
			if m.Type() == pmetric.MetricTypeGauge {
				dps = m.Gauge().DataPoints()
			} else {
				dps = m.Sum().DataPoints()
			}
			for j := 0; j < dps.Len(); j++ {
				dp := dps.At(j)
				key := ""
				if v, ok := dp.Attributes().Get(label); ok {
					key = v.Str()
				}
				if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
					out[key] = float64(dp.IntValue())
				} else {
					out[key] = dp.DoubleValue()
				}
			}
		}
	}
	return out
}

func conversion(session, goalType string, goalValue any) map[string]any {
	m := map[string]any{
		schema.AttrEventType: "user_action", schema.AttrCategory: "shop", schema.AttrAction: "buy",
		schema.AttrSessionID: session, schema.AttrBehaviorType: "conversion", schema.AttrConversionGoalType: goalType,
	}
	if goalValue != nil {
		m[schema.AttrConversionGoalValue] = goalValue
	}
	return m
}

func navigation(session string) map[string]any {
	return map[string]any{
		schema.AttrEventType: "user_action", schema.AttrCategory: "shop", schema.AttrAction: "view",
		schema.AttrSessionID: session, schema.AttrBehaviorType: "navigation", schema.AttrPagePath: "/p",
	}
}

func TestSessionsConvertedOncePerSession(t *testing.T) {
	c, sink := newTestConnector(t, nil)
	ctx := context.Background()
	ld := plog.NewLogs()
	record(ld, "web", schema.EventAnalytics, 50*time.Second, conversion("A", "signup", nil))
	record(ld, "web", schema.EventAnalytics, 40*time.Second, conversion("A", "purchase", 10.0))
	record(ld, "web", schema.EventAnalytics, 30*time.Second, navigation("A"))
	record(ld, "web", schema.EventAnalytics, 25*time.Second, navigation("C"))
	record(ld, "web", schema.EventAnalytics, 20*time.Second, conversion("C", "purchase", 5.0))
	record(ld, "ios", schema.EventAnalytics, 20*time.Second, navigation("B"))
	require.NoError(t, c.ConsumeLogs(ctx, ld))
	c.flush(ctx, goldenNow, true)
	// A converts again in a later batch: still one converted session.
	ld = plog.NewLogs()
	record(ld, "web", schema.EventAnalytics, 10*time.Second, conversion("A", "purchase", 12.0))
	require.NoError(t, c.ConsumeLogs(ctx, ld))
	c.flush(ctx, goldenNow, true)
	assert.Equal(t, map[string]float64{"web": 2}, latest(sink, "pulse.sessions.converted", catalog.LabelPlatform))
	assert.Equal(t, map[string]float64{"web": 2, "ios": 1}, latest(sink, "pulse.sessions", catalog.LabelPlatform))
}

func TestConversionsValuedCountsGoalValuesAboveZero(t *testing.T) {
	c, sink := newTestConnector(t, nil)
	ld := plog.NewLogs()
	record(ld, "web", schema.EventAnalytics, 50*time.Second, conversion("A", "purchase", 19.99))
	record(ld, "web", schema.EventAnalytics, 40*time.Second, conversion("A", "purchase", int64(5)))
	record(ld, "web", schema.EventAnalytics, 30*time.Second, conversion("A", "purchase", 0.0))
	record(ld, "web", schema.EventAnalytics, 30*time.Second, conversion("A", "purchase", nil))
	record(ld, "ios", schema.EventAnalytics, 20*time.Second, conversion("B", "signup", nil))
	record(ld, "ios", schema.EventAnalytics, 20*time.Second, conversion("B", "subscription", 9.0))
	require.NoError(t, c.ConsumeLogs(context.Background(), ld))
	c.flush(context.Background(), goldenNow, true)
	assert.Equal(t, map[string]float64{"purchase": 2, "subscription": 1}, latest(sink, "pulse.conversions.valued", catalog.LabelGoalType))
	assert.Equal(t, map[string]float64{"purchase": 4, "signup": 1, "subscription": 1},
		func() map[string]float64 {
			out := map[string]float64{}
			for _, md := range sink.AllMetrics() {
				ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
				dps := ms.At(indexOf(t, md, "pulse.conversions")).Sum().DataPoints()
				for i := 0; i < dps.Len(); i++ {
					g, _ := dps.At(i).Attributes().Get(catalog.LabelGoalType)
					out[g.Str()] = float64(dps.At(i).IntValue())
				}
			}
			return out
		}(), "every conversion event is still in pulse.conversions")
}

func TestOpenSessionGauges(t *testing.T) {
	c, sink := newTestConnector(t, nil)
	ctx := context.Background()
	ld := plog.NewLogs()
	record(ld, "web", schema.EventAnalytics, 60*time.Second, navigation("A"))
	record(ld, "web", schema.EventAnalytics, 30*time.Second, navigation("A"))
	record(ld, "web", schema.EventAnalytics, 40*time.Second, navigation("B"))
	record(ld, "ios", schema.EventAnalytics, 20*time.Second, navigation("C"))
	require.NoError(t, c.ConsumeLogs(ctx, ld))
	c.flush(ctx, goldenNow, false)
	assertOpenSessions(t, sink, map[string]float64{"web": 2, "ios": 1}, map[string]float64{"web": 30, "ios": 0}, map[string]float64{"web": 1, "ios": 1})

	// B gets a second event, 10 s after its first: no longer a bounce.
	ld = plog.NewLogs()
	record(ld, "web", schema.EventAnalytics, 30*time.Second, navigation("B"))
	require.NoError(t, c.ConsumeLogs(ctx, ld))
	c.flush(ctx, goldenNow, false)
	assertOpenSessions(t, sink, map[string]float64{"web": 2, "ios": 1}, map[string]float64{"web": 40, "ios": 0}, map[string]float64{"web": 0, "ios": 1})

	// Past session_timeout every session ends: the gauges go to 0, and
	// the ended sessions are in the ended-session metrics.
	c.flush(ctx, goldenNow.Add(time.Hour), false)
	assertOpenSessions(t, sink, map[string]float64{"web": 0, "ios": 0}, map[string]float64{"web": 0, "ios": 0}, map[string]float64{"web": 0, "ios": 0})
	assert.Equal(t, map[string]float64{"ios": 1}, latest(sink, "pulse.sessions.bounced", catalog.LabelPlatform))
}

// The open-session tallies, kept incrementally, equal a recount of the
// session table whatever the order of events, evictions and timeouts.
func TestOpenSessionTalliesMatchTheSessionTable(t *testing.T) {
	c, _ := newTestConnector(t, func(cfg *Config) { cfg.MaxSessions = 50 })
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 11))
	platforms := []string{"web", "ios", "android"}
	var at time.Time // the last flush's time
	for batch := range 40 {
		ld := plog.NewLogs()
		for range 25 {
			s := rng.IntN(120)
			// A session keeps its platform; events arrive out of order.
			record(ld, platforms[s%3], schema.EventAnalytics, -time.Duration(batch)*time.Minute+time.Duration(rng.IntN(300))*time.Second, navigation(fmt.Sprintf("s%d", s)))
		}
		require.NoError(t, c.ConsumeLogs(ctx, ld))
		if batch%5 == 4 {
			at = goldenNow.Add(time.Duration(batch) * time.Minute)
			c.flush(ctx, at, false)
		}
		c.mu.Lock()
		want := map[string]openSessions{}
		for _, s := range c.sessions {
			o := want[s.platform]
			o.sessions++
			o.span += s.last - s.first
			if s.events == 1 {
				o.single++
			}
			want[s.platform] = o
		}
		for _, p := range platforms {
			got := c.open[p]
			if got == nil {
				got = &openSessions{}
			}
			w := want[p]
			assert.Equal(t, [3]int64{w.sessions, w.span, w.single}, [3]int64{got.sessions, got.span, got.single}, "batch %d platform %s", batch, p)
		}
		c.mu.Unlock()
	}
}

func TestUsersSeenCountsTheFilterAcrossRestarts(t *testing.T) {
	c, sink := newTestConnector(t, nil)
	require.NoError(t, c.ConsumeLogs(context.Background(), logsOf(
		ev{eventType: "user_action", category: "c", action: "a", platform: "web", user: "u1"},
		ev{eventType: "user_action", category: "c", action: "a", platform: "ios", user: "u2"},
		ev{eventType: "user_action", category: "c", action: "a", platform: "web", user: "u1"},
	)))
	c.flush(context.Background(), time.Now(), false)
	assert.Equal(t, map[string]float64{"": 2}, latest(sink, "pulse.users.seen", ""))

	// With storage, a restart starts from the saved filter's estimate.
	dir := t.TempDir()
	storageID := component.MustNewID("file_storage")
	run := func(users ...string) float64 {
		f := filestorage.NewFactory()
		cfg := f.CreateDefaultConfig().(*filestorage.Config)
		cfg.Directory = dir
		ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), cfg)
		require.NoError(t, err)
		require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
		defer func() { require.NoError(t, ext.Shutdown(context.Background())) }()
		c, sink := newTestConnector(t, func(cfg *Config) { cfg.Storage = &storageID })
		require.NoError(t, c.Start(context.Background(), testutil.Host(map[component.ID]component.Component{storageID: ext})))
		var evs []ev
		for _, u := range users {
			evs = append(evs, ev{eventType: "user_action", category: "c", action: "a", platform: "web", user: u})
		}
		require.NoError(t, c.ConsumeLogs(context.Background(), logsOf(evs...)))
		require.NoError(t, c.Shutdown(context.Background()))
		return latest(sink, "pulse.users.seen", "")[""]
	}
	users := make([]string, 500)
	for i := range users {
		users[i] = fmt.Sprintf("user-%d", i)
	}
	assert.Equal(t, 500.0, run(users...))
	// The estimate of 500 users (exact to about 0.1 %), plus 2 new ones;
	// the 10 returning users add nothing.
	assert.InDelta(t, 502, run(append(users[:10:10], "new-1", "new-2")...), 2)
}

// assertOpenSessions checks the latest open-session gauges by platform:
// sessions, their duration so far and those with a single event.
func assertOpenSessions(t *testing.T, sink *consumertest.MetricsSink, open, duration, bounced map[string]float64) {
	t.Helper()
	assert.Equal(t, open, latest(sink, "pulse.sessions.open", catalog.LabelPlatform))
	assert.Equal(t, duration, latest(sink, "pulse.sessions.open.duration", catalog.LabelPlatform))
	assert.Equal(t, bounced, latest(sink, "pulse.sessions.open.bounced", catalog.LabelPlatform))
}
