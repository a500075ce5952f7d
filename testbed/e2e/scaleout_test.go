package e2e

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/pulse-otel/pulse/testbed/internal/poll"
)

// soStep is one step of TestScaleOut and what it measured.
type soStep struct {
	name                  string
	events                int64 // events counted after the step (acknowledged, less the forgotten)
	recs                  int64
	load, catchUp, settle time.Duration
	vals                  []soValue
	users                 float64
	partitions            []string
}

// TestScaleOut runs config/scale-out as shipped: a Kafka-protocol broker
// (kfake), 2 gateways, 3 aggregator shards and VictoriaMetrics (Debian's
// single node) as the store, next to one reference Pulse with
// config/pulse.yaml and promstore. Every batch goes to one gateway
// (alternately) and, once that gateway answered 200, to the reference: a
// seed-shaped load of loadgen's events (6,000 users with sessions, page
// views, purchases, errors) and recommendations with responses, and the
// truth mix's model, business and system snapshots.
//
// After each step, once both stores hold every acknowledged event, it
// compares every KPI of the registry (window 1h) and the cumulative total
// of every counter and histogram of the connector at the same evaluation
// time: counts exact, HyperLogLog estimates within 2 % of the active
// users, the new-user filter's counts within 1 % (a shard that takes over
// a partition estimates its users seen from the saved filter), ratios
// within 0.01. The steps: 3 shards; a 4th shard added mid-load; one
// removed with SIGTERM mid-load; one killed with SIGKILL mid-load and
// started again; a gateway restarted mid-load (its batches retried on the
// other, as a client would); a user forgotten through one gateway whose
// events reach the other a second later (and the reference forgets them
// too), and again after that gateway restarted. Throughout, VictoriaMetrics' sum(pulse_events_total) must be
// exactly what the gateways acknowledged (nothing lost, nothing counted
// twice) and every connector series must carry the partition label.
//
// VictoriaMetrics' own PromQL differences are logged, not failed: it does
// not extrapolate increase() (the registry's exact increase does not rely
// on it either way), and it keeps __name__ after some functions.
func TestScaleOut(t *testing.T) {
	binary(t)
	testStart := time.Now()
	r := startScaleOutRig(t)
	families := catalogFamilies(t)
	for range 2 {
		r.addGateway()
	}
	for range 3 {
		r.addShard()
	}
	t.Logf("setup (broker, VictoriaMetrics, reference, 2 gateways, 3 shards): %s", time.Since(testStart).Round(time.Millisecond))

	l := newSOLoad(r)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const (
		rate    = 1500
		workers = 16
	)
	var forgotten int64 // events of the forgotten user sent after the forget
	var steps []soStep

	// check waits until both stores hold what was acknowledged, then
	// compares them until they agree or 30 s have passed.
	check := func(name string, load time.Duration) {
		t.Helper()
		if p := l.problems(); len(p) > 0 {
			t.Fatalf("%s: load failures:\n%s", name, strings.Join(p, "\n"))
		}
		acked, recs, _, _ := l.totals()
		want := acked - forgotten
		st := soStep{name: name, events: want, recs: recs, load: load}
		began := time.Now()
		var refEvents, vmEvents, refRecs, vmRecs float64
		const recQ = "sum(pulse_recommendations_total) + sum(pulse_recommendation_responses_total) + (sum(pulse_recommendation_responses_unjoined_total) or vector(0))"
		caught := poll.Wait(2*time.Minute, 250*time.Millisecond, func() bool {
			at := time.Now().Add(-2 * time.Second)
			re, _ := soQuery(t, r.refAPI, "sum(pulse_events_total)", at)
			ve, _ := soQuery(t, r.vm, "sum(pulse_events_total)", at)
			rr, _ := soQuery(t, r.refAPI, recQ, at)
			vr, _ := soQuery(t, r.vm, recQ, at)
			refEvents, vmEvents, refRecs, vmRecs = re[""], ve[""], rr[""], vr[""]
			return refEvents == float64(want) && vmEvents == float64(want) && refRecs == vmRecs && refRecs > 0
		})
		st.catchUp = time.Since(began)
		if !caught {
			t.Fatalf("%s: not caught up after %s: events acknowledged %d, reference %v, VictoriaMetrics %v; recommendation items reference %v, VictoriaMetrics %v (acknowledged %d)\nload: %s",
				name, st.catchUp.Round(time.Millisecond), want, refEvents, vmEvents, refRecs, vmRecs, recs, l.statuses())
		}
		began = time.Now()
		poll.Wait(30*time.Second, time.Second, func() bool {
			st.vals, st.users = soCompare(t, r.refAPI, r.vm, families)
			return len(soFailures(st.vals, st.users)) == 0
		})
		st.settle = time.Since(began)
		for _, f := range soFailures(st.vals, st.users) {
			t.Errorf("%s: %s", name, f)
		}
		parts, problems := soPartitionLabels(t, r.vm, families)
		for _, p := range problems {
			t.Errorf("%s: %s", name, p)
		}
		if len(parts) != scaleOutPartitions {
			t.Errorf("%s: connector series of partitions %v in VictoriaMetrics, want all %d", name, parts, scaleOutPartitions)
		}
		st.partitions = parts
		steps = append(steps, st)
		t.Logf("%s: %d events, %d recommendation items counted; load %s, caught up in %s, compared in %s; %d active users (1h)",
			name, want, recs, st.load.Round(time.Millisecond), st.catchUp.Round(time.Millisecond), st.settle.Round(time.Millisecond), int64(st.users))
	}
	// step sends events events at rate; disrupt, when set, runs on the
	// test's goroutine once half of them are sent.
	step := func(name string, events int64, disrupt func()) {
		t.Helper()
		began := time.Now()
		run := l.run(ctx, events, rate, workers)
		if disrupt != nil {
			run.untilSent(events/2, time.Minute)
			disrupt()
		}
		if !run.wait(3 * time.Minute) {
			t.Fatalf("%s: load did not finish within 3 minutes", name)
		}
		check(name, time.Since(began))
	}

	// The snapshots (not per user: from the gateways straight to the store).
	m := newTruthMix(time.Now())
	for _, s := range []struct {
		path  string
		items []map[string]any
	}{{"/v1/model-metrics", m.model}, {"/v1/business-metrics", m.business}, {"/v1/system-metrics", m.system}} {
		for _, item := range s.items {
			if a, ok := l.send(ctx, 0, soBatch{path: s.path, body: mustMarshal(item)}); !ok || a.Accepted != 1 {
				t.Fatalf("%s: %+v %v", s.path, a, l.problems())
			}
		}
	}

	step("3 shards", 12_000, nil)
	step("4th shard added mid-load", 6_000, func() { r.addShard() })
	step("shard removed (SIGTERM) mid-load", 6_000, func() { r.stop(r.shards[1]) })
	killed := r.shards[0]
	step("shard killed (SIGKILL) mid-load, then started again", 6_000, func() {
		r.kill(killed)
		time.Sleep(2 * time.Second)
		r.start(killed)
	})
	step("gateway restarted mid-load", 6_000, func() {
		gw := r.gateways[1]
		r.stop(gw)
		r.start(gw)
	})

	// Forget a user through gateway 0 (and the reference); a second later
	// the user's events reach gateway 1, which must drop them.
	began := time.Now()
	const user = "u-forgotten-1"
	mine := func(i int) bool { return i%10 == 0 }
	before, n := l.userBatch(time.Now(), user, mine)
	if a, ok := l.send(ctx, 1, before); !ok || a.Accepted != soEventsPerBatch {
		t.Fatalf("before the forget: %+v %v", a, l.problems())
	}
	r.forget(r.gateways[0].Forget, user)
	r.forget(r.ref.Forget, user)
	forgetAt := time.Now()
	time.Sleep(time.Until(forgetAt.Add(time.Second)))
	after, n2 := l.userBatch(time.Now(), user, mine)
	// Forgotten users' events are counted in accepted and not listed
	// (docs/events.md): the stores say whether they were dropped.
	if a, ok := l.send(ctx, 1, after); !ok || a.Accepted != soEventsPerBatch {
		t.Fatalf("after the forget: %+v %v", a, l.problems())
	}
	forgotten += int64(n2)
	check(fmt.Sprintf("user forgotten through gateway 0, %d events through gateway 1 %s later (and %d before)", n2, time.Second, n), time.Since(began))

	// The forget survives a restart: gateway 1, started again, reads it
	// back from the topic and still drops the user's events.
	began = time.Now()
	r.stop(r.gateways[1])
	r.start(r.gateways[1])
	again, n3 := l.userBatch(time.Now(), user, mine)
	if a, ok := l.send(ctx, 1, again); !ok || a.Accepted != soEventsPerBatch {
		t.Fatalf("after the restart: %+v %v", a, l.problems())
	}
	forgotten += int64(n3)
	check(fmt.Sprintf("gateway 1 restarted, %d more events of the forgotten user through it", n3), time.Since(began))

	// The report.
	events, recs, requests, retries := l.totals()
	t.Logf("total: %d events and %d recommendation items acknowledged in %d batches (%d resent after a gateway failed them); %d forgotten events not counted; answers: %s; whole test %s",
		events, recs, requests, retries, forgotten, l.statuses(), time.Since(testStart).Round(time.Second))
	var b strings.Builder
	b.WriteString("| step | events | load | caught up | compared |\n|---|---|---|---|---|\n")
	for _, s := range steps {
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s |\n", s.name, s.events, s.load.Round(time.Millisecond), s.catchUp.Round(time.Millisecond), s.settle.Round(time.Millisecond))
	}
	b.WriteString("\n| value | class | reference | VictoriaMetrics (last step) | largest diff over the steps |\n|---|---|---|---|---|\n")
	last := steps[len(steps)-1]
	worst := map[string]float64{}
	for _, s := range steps {
		for _, v := range s.vals {
			if d := v.got - v.ref; math.Abs(d) > math.Abs(worst[v.name]) {
				worst[v.name] = d
			}
		}
	}
	for _, v := range last.vals {
		fmt.Fprintf(&b, "| %s | %s | %.6g | %.6g | %.3g |\n", v.name, v.class, v.ref, v.got, worst[v.name])
	}
	t.Logf("scale-out against one Pulse:\n%s", b.String())
	var kept []string
	for q := range soNamesKept {
		if strings.HasPrefix(q, r.vm+" ") && !soNamesKept[r.refAPI+strings.TrimPrefix(q, r.vm)] {
			kept = append(kept, strings.TrimPrefix(q, r.vm+" "))
		}
	}
	t.Logf("VictoriaMetrics kept __name__ (Prometheus drops it) in %d KPI answers: %v", len(kept), kept)
	var nan []string
	for _, v := range last.vals {
		if v.nanDropped() {
			nan = append(nan, v.name)
		}
	}
	t.Logf("VictoriaMetrics answered nothing where Prometheus answers NaN (0/0): %v", nan)
	at := time.Now().Add(-2 * time.Second)
	for _, q := range []string{"sum(increase(pulse_events_total[1h]))", "sum(rate(pulse_events_total[1h])) * 3600"} {
		ref, _ := soQuery(t, r.refAPI, q, at)
		vm, _ := soQuery(t, r.vm, q, at)
		t.Logf("%s: reference (Prometheus engine, extrapolates) %.6g, VictoriaMetrics (no extrapolation) %.6g; counted %d", q, ref[""], vm[""], last.events)
	}
}
