package analyticsmetricsconnector

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// gauges returns the latest value of each series of a gauge, by labels.
func gauges(sink interface{ AllMetrics() []pmetric.Metrics }, name string) map[string]int64 {
	out := map[string]int64{}
	for _, md := range sink.AllMetrics() {
		ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
		for i := 0; i < ms.Len(); i++ {
			if ms.At(i).Name() != name {
				continue
			}
			dps := ms.At(i).Gauge().DataPoints()
			for j := 0; j < dps.Len(); j++ {
				key := ""
				for _, l := range []string{"cohort", "period"} {
					if v, ok := dps.At(j).Attributes().Get(l); ok {
						key += v.Str() + "/"
					}
				}
				out[key] = dps.At(j).IntValue()
			}
		}
	}
	return out
}

func TestWeeklyCohorts(t *testing.T) {
	c, sink := newTestConnector(t, nil)
	monday := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC) // a Monday
	at := func(week int, user string) ev {
		return ev{eventType: "user_action", category: "c", action: "a", platform: "web", user: user, ts: monday.Add(time.Duration(week) * 7 * 24 * time.Hour)}
	}
	require.NoError(t, c.ConsumeLogs(context.Background(), logsOf(
		at(0, "a"), at(0, "b"), at(0, "c"), at(0, "a"), // cohort 2026-11-02: a, b, c
		at(1, "a"), at(1, "b"), at(1, "d"), at(1, "b"), // a and b return; d is new
		at(2, "c"), // c returns in week 2
	)))
	c.flush(context.Background(), monday.Add(15*24*time.Hour), true)

	size := gauges(sink, "pulse.cohort.size")
	assert.Equal(t, map[string]int64{"2026-11-02/": 3, "2026-11-09/": 1}, size)
	active := gauges(sink, "pulse.cohort.active_users")
	assert.Equal(t, map[string]int64{
		"2026-11-02/0/": 3, "2026-11-02/1/": 2, "2026-11-02/2/": 1,
		"2026-11-09/0/": 1, "2026-11-09/1/": 0,
	}, active)
}

func TestCohortsRoundTrip(t *testing.T) {
	c := newCohorts(10000)
	now := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	c.observe("a", now, true)
	c.observe("b", now.Add(8*24*time.Hour), false)
	b, err := c.MarshalBinary()
	require.NoError(t, err)
	d := newCohorts(10000)
	require.NoError(t, d.UnmarshalBinary(b))
	assert.Equal(t, c.activeWeek, d.activeWeek)
	assert.Equal(t, c.slots[weekOf(now)%numCohorts].size, d.slots[weekOf(now)%numCohorts].size)
	assert.True(t, d.slots[weekOf(now)%numCohorts].members.TestString("a"))
	for i := range b {
		assert.Error(t, newCohorts(10000).UnmarshalBinary(b[:i]), "truncated at %d", i)
	}
}
