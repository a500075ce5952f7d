package livepage

import (
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
)

// BenchmarkTickFanOut is one tick of one stream with 1,000 viewers: the
// executive dashboard's shape (12 stats, 4 time series of 300 points), a
// delta of every stat value and every edge, encoded once and written to
// each viewer (io.Discard stands for the connection).
func BenchmarkTickFanOut(b *testing.B) {
	const viewers = 1000
	var ps []Panel
	for i := 1; i <= 16; i++ {
		ps = append(ps, Panel{ID: strconv.Itoa(i), Instant: i <= 12, Targets: []Target{{RefID: "A"}}})
	}
	d := &Dashboard{UID: "bench", Panels: ps}
	opts := &Options{Logger: slog.New(slog.DiscardHandler)}
	h := newHub(opts, nil, time.Now)
	st := &stream{hub: h, dash: d, subs: map[*subscriber]bool{}, stop: make(chan struct{})}
	subs := make([]*subscriber, viewers)
	for i := range subs {
		subs[i] = newSubscriber("")
		st.subs[subs[i]] = false
	}
	now := time.UnixMilli(1_780_000_000_000)
	win := window{from: now.Add(-7 * 24 * time.Hour).UnixMilli(), to: now.UnixMilli(), step: 2016 * time.Second}
	stateAt := func(t int64) (map[string]map[string]*targetState, map[string]map[string]changes) {
		state := map[string]map[string]*targetState{}
		changed := map[string]map[string]changes{}
		for _, p := range ps {
			ts := &targetState{instant: p.Instant}
			v := promql.Vector{{Metric: labels.EmptyLabels(), T: t, F: float64(t % 1000)}}
			if p.Instant {
				ts.series, _ = encodeVector(v, 100, true)
				changed[p.ID] = map[string]changes{"A": {series: true}}
			} else {
				m := promql.Matrix{{Metric: labels.FromStrings("platform", "web")}}
				for k := range 300 {
					m[0].Floats = append(m[0].Floats, promql.FPoint{T: win.from + int64(k)*win.step.Milliseconds(), F: float64(k)})
				}
				ts.series, _ = encodeMatrix(m, 100)
				ts.edge, _ = encodeVector(v, 100, false)
				changed[p.ID] = map[string]changes{"A": {edge: true}}
			}
			state[p.ID] = map[string]*targetState{"A": ts}
		}
		return state, changed
	}
	state, _ := stateAt(now.UnixMilli())
	st.publish(d, state, nil, win, now.UnixMilli(), true)
	drain(subs)
	// Two states that differ in every value, published in turn: the
	// queries are not part of the fan-out.
	t1, t2 := now.UnixMilli()+250, now.UnixMilli()+500
	s1, c1 := stateAt(t1)
	s2, c2 := stateAt(t2)
	var frameBytes int
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			st.publish(d, s1, c1, win, t1, false)
		} else {
			st.publish(d, s2, c2, win, t2, false)
		}
		frameBytes = drain(subs)
	}
	b.ReportMetric(float64(frameBytes), "bytes/frame")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/viewers, "ns/viewer")
}

// drain writes every queued frame to io.Discard, as the viewers'
// handlers would to their connections; it returns one frame's size.
func drain(subs []*subscriber) int {
	n := 0
	for _, s := range subs {
		for {
			select {
			case f := <-s.ch:
				n = len(f)
				_, _ = io.Discard.Write(f)
				continue
			default:
			}
			break
		}
	}
	return n
}
