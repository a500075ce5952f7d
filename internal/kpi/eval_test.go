package kpi

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/promqltest"
)

// evalAt evaluates k's query with window at t (seconds after the load's
// start) over the series of load (promqltest's load syntax).
func evalAt(t *testing.T, k Def, window, load string, at time.Duration) float64 {
	t.Helper()
	st := promqltest.LoadedStorage(t, load)
	engine := promqltest.NewTestEngineWithOpts(t, promql.EngineOpts{MaxSamples: 1e6, Timeout: 10 * time.Second, LookbackDelta: 5 * time.Minute})
	q, err := k.Query(window)
	if err != nil {
		t.Fatal(err)
	}
	qry, err := engine.NewInstantQuery(context.Background(), st, nil, q, time.Unix(0, 0).Add(at))
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	res := qry.Exec(context.Background())
	if res.Err != nil {
		t.Fatalf("%s: %v", q, res.Err)
	}
	v, err := res.Vector()
	if err != nil || len(v) != 1 {
		t.Fatalf("%s: %v, %v", q, res.Value, err)
	}
	return v[0].F
}

// A counter that starts in the window and was last written 10 s before
// the evaluation (the connector writes a quiet series every 15 s): 100
// events in the last hour are 100/3600 per second. rate() would
// extrapolate to the window's end and read 9.5 % more.
func TestEventsPerSecondIsTheCountOverTheWindow(t *testing.T) {
	k, _ := Lookup("events_per_second")
	const load = `
load 15s
  pulse_events_total{event_type="user_action"} 0 100x7
  pulse_events_total{event_type="error_tracking"} 0 20x7
`
	got := evalAt(t, k, "1h", load, 115*time.Second)
	if want := 120.0 / 3600; math.Abs(got-want) > 1e-12 {
		t.Errorf("events_per_second over 1h = %v, want %v (120 events / 3600 s)", got, want)
	}
	got = evalAt(t, k, "90s", load, 115*time.Second)
	// In the last 90 s (from 25 s) both series added nothing after 15 s:
	// the count is 0.
	if got != 0 {
		t.Errorf("events_per_second over 90s = %v, want 0", got)
	}
}

// Sessions that are all anonymous (no user.id: the active-user gauge reads
// 0) give no value, not +Inf, which a panel would draw as infinity; once a
// user is identified the ratio is sessions per user.
func TestAvgSessionsPerUserWithoutUsers(t *testing.T) {
	k, _ := Lookup("avg_sessions_per_user")
	q, err := k.Query("1d")
	if err != nil {
		t.Fatal(err)
	}
	const load = `
load 15s
  pulse_sessions_total{platform="web"} 0+3x7
  pulse_users_active{window="1d"} 0x4 2x3
`
	st := promqltest.LoadedStorage(t, load)
	engine := promqltest.NewTestEngineWithOpts(t, promql.EngineOpts{MaxSamples: 1e6, Timeout: 10 * time.Second, LookbackDelta: 5 * time.Minute})
	at := func(sec int) promql.Vector {
		qry, err := engine.NewInstantQuery(context.Background(), st, nil, q, time.Unix(int64(sec), 0))
		if err != nil {
			t.Fatal(err)
		}
		v, err := qry.Exec(context.Background()).Vector()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := at(45); len(v) != 0 {
		t.Errorf("at 45 s (9 sessions, no user): %v, want no value", v)
	}
	if v := at(105); len(v) != 1 || v[0].F != 21.0/2 {
		t.Errorf("at 105 s (21 sessions, 2 users): %v, want 10.5", v)
	}
}
