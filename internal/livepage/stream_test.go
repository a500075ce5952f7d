package livepage

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulse-otel/pulse/internal/dashboards"
)

const livePath = "/dashboards/api/live/live-a?from=now-1h&to=now&width=1200"

func series(k string) labels.Labels { return labels.FromStrings("__name__", "test_value", "k", k) }

// values decodes a target's series field.
func values(t *testing.T, raw json.RawMessage) []struct {
	Metric map[string]string `json:"metric"`
	Values [][2]any          `json:"values"`
} {
	t.Helper()
	var out []struct {
		Metric map[string]string `json:"metric"`
		Values [][2]any          `json:"values"`
	}
	require.NoError(t, json.Unmarshal(raw, &out))
	return out
}

func TestFullThenDelta(t *testing.T) {
	const tick = 50 * time.Millisecond
	e := newEnv(t, Options{Tick: tick})
	e.appendSample(series("a"), e.clock.Now(), 1)
	e.appendSample(series("b"), e.clock.Now(), 2)

	s := e.openStream(livePath, "")
	assert.Equal(t, "retry: 1000", s.first)
	full := s.next(t, 5*time.Second)
	require.Equal(t, "full", full.Event, full.Raw)
	assert.Equal(t, uint64(1), full.Seq)
	assert.Equal(t, t0.UnixMilli(), full.Now)
	assert.Equal(t, t0.Add(-time.Hour).UnixMilli(), full.From)
	assert.Equal(t, t0.UnixMilli(), full.To)
	assert.Equal(t, int64(15), full.Step)

	stat := full.target("1", "A")
	require.NotNil(t, stat, "the stat is reported under its visible refId")
	assert.Nil(t, full.target("1", "raw"))
	assert.JSONEq(t, `"instant"`, string(stat["type"]))
	v := values(t, stat["series"])
	require.Len(t, v, 1)
	assert.Equal(t, [2]any{float64(t0.UnixMilli()), "3"}, v[0].Values[0], "the raw expression, evaluated at the tick's time")

	ts := full.target("2", "A")
	assert.JSONEq(t, `"range"`, string(ts["type"]))
	require.Contains(t, ts, "series")
	require.Contains(t, ts, "edge")
	assert.JSONEq(t, `[{"metric":{},"value":[`+jsonInt(t0.UnixMilli())+`,"3"]}]`, string(ts["edge"]))

	table := full.target("4", "A")
	require.NotNil(t, table, "panels inside rows are evaluated")
	assert.Len(t, values(t, table["series"]), 2)

	bad := full.target("5", "A")
	require.Contains(t, bad, "error")
	assert.Contains(t, string(bad["error"]), "invalid query")
	assert.NotContains(t, full.Panels, "6", "a panel without query is not in frames")

	// Nothing changed: no frame.
	select {
	case f := <-s.frames:
		t.Fatalf("a frame without change: %s", f.Raw)
	case <-time.After(5 * tick):
	}

	e.clock.Add(time.Second)
	e.appendSample(series("a"), e.clock.Now(), 10)
	bumped := time.Now()
	d := s.next(t, 2*tick+2*time.Second)
	latency := time.Since(bumped)
	require.Equal(t, "delta", d.Event, d.Raw)
	assert.Equal(t, uint64(2), d.Seq)
	v = values(t, d.target("1", "A")["series"])
	require.Len(t, v, 1)
	assert.Equal(t, "12", v[0].Values[0][1])
	assert.NotContains(t, d.target("1", "A"), "type", "a delta carries only what changed")
	assert.NotContains(t, d.target("2", "A"), "series", "the aligned points did not change within the step")
	assert.Contains(t, d.target("2", "A"), "edge")
	assert.NotContains(t, d.Panels, "5", "an unchanged error is not sent again")
	t.Logf("append to delta: %s (tick %s)", latency, tick)
	assert.Less(t, latency, 2*tick+time.Second, "the delta follows the append within 2 ticks (plus evaluation)")
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestRangeSeriesOnStepOrChange(t *testing.T) {
	e := newEnv(t, Options{})
	e.appendSample(series("a"), e.clock.Now().Add(-2*time.Minute), 1)
	s := e.openStream(livePath, "")
	full := s.next(t, 5*time.Second)
	require.Equal(t, "full", full.Event)
	before := values(t, full.target("2", "A")["series"])
	require.Len(t, before, 1)

	// New data within the step, after the last aligned point: edge only.
	for _, dt := range []time.Duration{2 * time.Second, 6 * time.Second} {
		e.clock.Add(dt)
		e.appendSample(series("a"), e.clock.Now(), 5)
		d := s.next(t, 5*time.Second)
		assert.NotContains(t, d.target("2", "A"), "series", "+%s: %s", dt, d.Raw)
		assert.Contains(t, string(d.target("2", "A")["edge"]), `"5"`)
	}

	// A step boundary, no append: the series gains its next point, in a
	// frame of its own after the instant values' one.
	e.clock.Set(t0.Add(14 * time.Second))
	d := s.next(t, 5*time.Second)
	assert.NotContains(t, d.target("2", "A"), "series", "the instant values do not wait for the range query")
	assert.Contains(t, d.target("2", "A"), "edge")
	d = s.next(t, 5*time.Second)
	require.Contains(t, d.target("2", "A"), "series", d.Raw)
	assert.NotContains(t, d.target("2", "A"), "edge", "the range frame carries the series only")
	after := values(t, d.target("2", "A")["series"])
	require.Len(t, after, 1)
	assert.Len(t, after[0].Values, len(before[0].Values)+1)

	// A late sample before the last aligned point changes the series.
	e.clock.Add(rangeRefresh + time.Second)
	e.appendSample(series("late"), t0.Add(-time.Minute), 100)
	d = s.next(t, 5*time.Second)
	assert.Contains(t, string(d.target("2", "A")["edge"]), `"105"`, d.Raw)
	d = s.next(t, 5*time.Second)
	require.Contains(t, d.target("2", "A"), "series", d.Raw)
	assert.Contains(t, string(d.target("2", "A")["series"]), `"101"`)
}

func TestViewersShareOneEvaluation(t *testing.T) {
	e := newEnv(t, Options{})
	e.appendSample(series("a"), e.clock.Now(), 1)
	a := e.openStream(livePath, "")
	fa := a.next(t, 5*time.Second)
	b := e.openStream(livePath, "")
	fb := b.next(t, 5*time.Second)
	assert.Equal(t, "full", fb.Event)
	assert.Equal(t, fa.Raw, fb.Raw, "the second viewer gets the same full frame")
	assert.Equal(t, int64(1), e.h.hub.evaluations.Load(), "joining a stream does not evaluate it again")

	e.clock.Add(time.Second)
	e.appendSample(series("a"), e.clock.Now(), 2)
	da, db := a.next(t, 5*time.Second), b.next(t, 5*time.Second)
	assert.Equal(t, da.Raw, db.Raw)
	assert.Equal(t, "delta", da.Event)
	time.Sleep(5 * e.h.opts.Tick) // ticks without change must not evaluate
	assert.Equal(t, int64(2), e.h.hub.evaluations.Load(), "one evaluation per change for both viewers")

	e.h.hub.mu.Lock()
	assert.Len(t, e.h.hub.streams, 1)
	e.h.hub.mu.Unlock()
	c := e.openStream("/dashboards/api/live/live-a?from=now-6h&to=now", "")
	fc := c.next(t, 5*time.Second)
	assert.Equal(t, int64(72), fc.Step, "another range is another stream")
	e.h.hub.mu.Lock()
	assert.Len(t, e.h.hub.streams, 2)
	e.h.hub.mu.Unlock()
}

func TestPingWhenQuiet(t *testing.T) {
	e := newEnv(t, Options{ping: 50 * time.Millisecond})
	s := e.openStream(livePath, "")
	s.next(t, 5*time.Second)
	require.Eventually(t, func() bool { return s.pings.Load() >= 2 }, 5*time.Second, 10*time.Millisecond, "a quiet stream sends : ping")
}

func TestLimits(t *testing.T) {
	e := newEnv(t, Options{MaxViewers: 2, MaxStreams: 1})
	a := e.openStream(livePath, "")
	a.next(t, 5*time.Second)
	b := e.openStream(livePath, "")
	b.next(t, 5*time.Second)

	status, body, hdr := e.get(livePath, "")
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Equal(t, "too many live viewers", body["error"])
	assert.Equal(t, "5", hdr.Get("Retry-After"))

	b.cancel()
	require.Eventually(t, func() bool { return e.h.hub.viewers.Load() == 1 }, 5*time.Second, 10*time.Millisecond, "a viewer that leaves frees its place")
	status, body, _ = e.get("/dashboards/api/live/live-a?from=now-5m", "")
	assert.Equal(t, http.StatusServiceUnavailable, status, "a second stream is over max_streams")
	assert.Contains(t, body["error"], "too many")
	c := e.openStream(livePath, "")
	assert.Equal(t, "full", c.next(t, 5*time.Second).Event)
}

func TestSlowViewerDisconnected(t *testing.T) {
	e := newEnv(t, Options{})
	reader := e.openStream(livePath, "")
	reader.next(t, 5*time.Second)

	cat := e.h.store.get()
	from, _ := parseTimeSpec("now-1h")
	to, _ := parseTimeSpec("now")
	rng, err := newTimeRange(from, to, e.clock.Now())
	require.NoError(t, err)
	st, slow, err := e.h.hub.join(streamKey{uid: "live-a", from: from.String(), to: to.String()}, cat.byUID["live-a"], rng, "")
	require.NoError(t, err)
	defer e.h.hub.leave(st, slow)
	require.Equal(t, int64(2), e.h.hub.viewers.Load())

	// The slow viewer never reads: its buffer fills, then it is dropped.
	for i := 0; i < 3*subscriberBuffer; i++ {
		e.clock.Add(time.Second)
		e.appendSample(series("a"), e.clock.Now(), float64(i))
		reader.next(t, 5*time.Second)
		select {
		case <-slow.done:
			assert.Equal(t, int64(1), e.h.hub.viewers.Load())
			assert.Equal(t, Stats{Viewers: 1, Streams: 1, Evaluations: e.h.hub.evaluations.Load(), Dropped: 1}, e.h.Stats())
			assert.GreaterOrEqual(t, i, subscriberBuffer-1, "dropped only once its buffer is full")
			// The reading viewer stays.
			e.clock.Add(time.Second)
			e.appendSample(series("a"), e.clock.Now(), 1)
			assert.Equal(t, "delta", reader.next(t, 5*time.Second).Event)
			return
		default:
		}
	}
	t.Fatal("the slow viewer was never disconnected")
}

func TestShutdownWithOpenStreams(t *testing.T) {
	e := newEnv(t, Options{})
	var streams []*sse
	for _, q := range []string{livePath, livePath, "/dashboards/api/live/live-a?from=now-5m", "/dashboards/api/live/live-b"} {
		s := e.openStream(q, "")
		s.next(t, 5*time.Second)
		streams = append(streams, s)
	}
	start := time.Now()
	e.h.Close()
	for _, s := range streams {
		select {
		case _, ok := <-s.frames:
			for ok {
				_, ok = <-s.frames
			}
		case <-time.After(2 * time.Second):
			t.Fatal("a stream stayed open after Close")
		}
	}
	status, _, _ := e.get(livePath, "")
	assert.Equal(t, http.StatusServiceUnavailable, status, "no new stream after Close")
	e.srv.Close() // waits for the handlers
	assert.Less(t, time.Since(start), 2*time.Second)
}

// TestStreamOutlivesWriteTimeout serves the stream from a server whose
// write_timeout and read_timeout are far shorter than the stream: each
// write sets its own deadline (net/http lifts the read deadline itself once
// the request is read).
func TestStreamOutlivesWriteTimeout(t *testing.T) {
	e := newEnv(t, Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: e.h, WriteTimeout: 200 * time.Millisecond, ReadTimeout: 200 * time.Millisecond, ReadHeaderTimeout: time.Second}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		e.h.Close()
		_ = srv.Close()
		<-done
	})
	e.srv.URL = "http://" + ln.Addr().String()
	s := e.openStream(livePath, "")
	s.next(t, 5*time.Second)
	deadline := time.Now().Add(800 * time.Millisecond)
	n := 0
	for time.Now().Before(deadline) {
		e.clock.Add(time.Second)
		e.appendSample(series("a"), e.clock.Now(), float64(n))
		assert.Equal(t, "delta", s.next(t, 5*time.Second).Event)
		n++
	}
	assert.Greater(t, n, 1)
}

func TestDashboardRemovedEndsStream(t *testing.T) {
	e := newEnv(t, Options{})
	s := e.openStream(livePath, "")
	s.next(t, 5*time.Second)
	onlyB := "dashboards:\n    - uid: live-b\n      file: dashboards/live-b.json\n      isPublic: true\n"
	require.NoError(t, os.WriteFile(filepath.Join(e.dir, dashboards.MetaFile), []byte(onlyB), 0o600))
	e.clock.Add(2 * rescanInterval)
	select {
	case f, ok := <-s.frames:
		assert.False(t, ok, "unexpected frame %s", f.Raw)
	case <-time.After(5 * time.Second):
		t.Fatal("the stream of a removed dashboard stayed open")
	}
	require.Eventually(t, func() bool { return e.h.hub.viewers.Load() == 0 }, 5*time.Second, 10*time.Millisecond)
}

func TestAccessRevokedEndsStream(t *testing.T) {
	e := newEnv(t, Options{AuthEnabled: true})
	bob := e.openStream(livePath, "bob")
	bob.next(t, 5*time.Second)
	alice := e.openStream(livePath, "alice")
	alice.next(t, 5*time.Second)
	// A new compile drops bob from the viewers.
	require.NoError(t, os.WriteFile(filepath.Join(e.dir, dashboards.MetaFile), []byte(strings.Replace(sidecar, "viewers: [bob]", "viewers: []", 1)), 0o600))
	e.clock.Add(2 * rescanInterval)
	assert.Equal(t, "full", alice.next(t, 5*time.Second).Event, "the owner gets the new dashboard in full")
	select {
	case f, ok := <-bob.frames:
		assert.False(t, ok, "unexpected frame %s", f.Raw)
	case <-time.After(5 * time.Second):
		t.Fatal("a viewer the dashboard is no longer shared with stayed connected")
	}
}

func TestErrorSetAndCleared(t *testing.T) {
	e := newEnv(t, Options{})
	e.appendSample(series("a"), e.clock.Now(), 1)
	s := e.openStream(livePath, "")
	full := s.next(t, 5*time.Second)
	require.NotContains(t, full.target("7", "A"), "error", full.Raw)

	e.clock.Add(time.Second)
	e.appendSample(series("b"), e.clock.Now(), 2)
	d := s.next(t, 5*time.Second)
	require.Contains(t, d.target("7", "A"), "error", d.Raw)
	assert.Contains(t, string(d.target("7", "A")["error"]), "duplicate series")
	assert.JSONEq(t, "[]", string(d.target("7", "A")["series"]))

	// b goes stale (lookback 5m) while a takes new samples: the query
	// works again and the delta clears the error.
	e.clock.Add(6 * time.Minute)
	e.appendSample(series("a"), e.clock.Now(), 3)
	d = s.next(t, 5*time.Second)
	assert.JSONEq(t, `""`, string(d.target("7", "A")["error"]), d.Raw)
	v := values(t, d.target("7", "A")["series"])
	require.Len(t, v, 1)
	assert.Equal(t, "4", v[0].Values[0][1])
}

func TestSeriesCapped(t *testing.T) {
	e := newEnv(t, Options{MaxSeriesPerTarget: 1})
	e.appendSample(series("a"), e.clock.Now(), 1)
	e.appendSample(series("b"), e.clock.Now(), 2)
	f := e.openStream(livePath, "").next(t, 5*time.Second)
	table := f.target("4", "A")
	assert.Len(t, values(t, table["series"]), 1)
	assert.JSONEq(t, "true", string(table["truncated"]))
	assert.NotContains(t, f.target("1", "A"), "truncated", "one series is not truncated")
}

// TestBuiltinDashboards evaluates every panel of the built-in dashboards,
// compiled as make run compiles them: none may answer an error.
func TestBuiltinDashboards(t *testing.T) {
	dbs, err := dashboards.Load("../../config/dashboards")
	require.NoError(t, err)
	files, err := dashboards.CompileAll(dbs, dashboards.ProvisioningOptions{})
	require.NoError(t, err)
	e := newEnv(t, Options{})
	require.NoError(t, os.RemoveAll(filepath.Join(e.dir, "dashboards")))
	for name, b := range files {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(e.dir, name)), 0o750))
		require.NoError(t, os.WriteFile(filepath.Join(e.dir, name), b, 0o600))
	}
	e.clock.Add(2 * rescanInterval)
	cat := e.h.store.get()
	require.Empty(t, cat.problem)
	require.Len(t, cat.sorted, len(dbs))
	for _, d := range cat.sorted {
		f := e.openStream("/dashboards/api/live/"+d.UID, "").next(t, 10*time.Second)
		require.Equal(t, "full", f.Event)
		require.Len(t, f.Panels, len(d.Panels), d.UID)
		for id, p := range f.Panels {
			for ref, tg := range p.Targets {
				assert.NotContains(t, tg, "error", "%s panel %s target %s: %s", d.UID, id, ref, tg["error"])
			}
		}
	}
}

// countingEngine records the most queries executing at once.
type countingEngine struct {
	promql.QueryEngine
	running, most atomic.Int64
}

func (c *countingEngine) NewInstantQuery(ctx context.Context, q storage.Queryable, opts promql.QueryOpts, qs string, ts time.Time) (promql.Query, error) {
	qry, err := c.QueryEngine.NewInstantQuery(ctx, q, opts, qs, ts)
	if err != nil {
		return nil, err
	}
	return countingQuery{qry, c}, nil
}

func (c *countingEngine) NewRangeQuery(ctx context.Context, q storage.Queryable, opts promql.QueryOpts, qs string, start, end time.Time, step time.Duration) (promql.Query, error) {
	qry, err := c.QueryEngine.NewRangeQuery(ctx, q, opts, qs, start, end, step)
	if err != nil {
		return nil, err
	}
	return countingQuery{qry, c}, nil
}

type countingQuery struct {
	promql.Query
	c *countingEngine
}

func (q countingQuery) Exec(ctx context.Context) *promql.Result {
	n := q.c.running.Add(1)
	defer q.c.running.Add(-1)
	for {
		m := q.c.most.Load()
		if n <= m || q.c.most.CompareAndSwap(m, n) {
			break
		}
	}
	time.Sleep(time.Millisecond) // widen the window in which queries overlap
	return q.Query.Exec(ctx)
}

func TestQuerySlotsBounded(t *testing.T) {
	e := newEnv(t, Options{MaxConcurrentQueries: 1})
	counting := &countingEngine{QueryEngine: e.h.opts.Engine}
	e.h.opts.Engine = counting
	var streams []*sse
	for _, from := range []string{"now-1h", "now-6h", "now-24h"} {
		s := e.openStream("/dashboards/api/live/live-a?from="+from, "")
		streams = append(streams, s)
	}
	for range 5 {
		e.clock.Add(time.Second)
		e.appendSample(series("a"), e.clock.Now(), 1)
		for _, s := range streams {
			s.next(t, 10*time.Second)
		}
	}
	assert.Equal(t, int64(1), counting.most.Load(), "three streams, one query at a time")
}
