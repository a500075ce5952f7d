package analyticsmetricsconnector

import (
	"context"
	"encoding/binary"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/pulse-otel/pulse/internal/schema"
)

// withEventIDs gives the records of ld the event ids ids, in order ("" for
// none).
func withEventIDs(ld plog.Logs, ids ...string) plog.Logs {
	k := 0
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		sls := rls.At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for l := 0; l < lrs.Len(); l++ {
				if ids[k] != "" {
					lrs.At(l).Attributes().PutStr(schema.AttrEventID, ids[k])
				}
				k++
			}
		}
	}
	return ld
}

func TestRetriedEventsCountOnce(t *testing.T) {
	c, sink := newTestConnector(t, nil)
	ctx := context.Background()
	batch := func() plog.Logs {
		return withEventIDs(logsOf(
			ev{eventType: "user_action", category: "c", action: "a", platform: "web", user: "u1", session: "s1"},
			ev{eventType: "user_action", category: "c", action: "a", platform: "web", user: "u2", session: "s2"},
			ev{eventType: "user_action", category: "c", action: "a", platform: "web", user: "u3", session: "s3"},
		), "e1", "e2", "")
	}
	require.NoError(t, c.ConsumeLogs(ctx, batch()))
	// The SDK timed out and sent the same batch again.
	require.NoError(t, c.ConsumeLogs(ctx, batch()))
	c.mu.Lock()
	c.endSessions(0, true)
	c.mu.Unlock()
	c.flush(ctx, time.Now(), true)

	events, _ := sumPoints(t, sink, "pulse.events")
	assert.Equal(t, int64(4), events, "e1 and e2 once, the record without id twice")
	sessions, _ := sumPoints(t, sink, "pulse.sessions")
	assert.Equal(t, int64(3), sessions, "a duplicate starts no session")
	hist := last(t, sink, "pulse.session.events")
	var perSession uint64
	for _, m := range hist {
		dps := m.Histogram().DataPoints()
		perSession = uint64(dps.At(dps.Len() - 1).Sum())
	}
	assert.Equal(t, uint64(4), perSession, "a duplicate is no event of its session")
	newUsers, _ := sumPoints(t, sink, "pulse.users.new")
	assert.Equal(t, int64(3), newUsers)
	dups, byKind := sumPoints(t, sink, "pulse.events.duplicates")
	assert.Equal(t, int64(2), dups)
	assert.Equal(t, int64(2), byKind[fmt.Sprint(map[string]any{"kind": "event"})])
}

func TestDedupGenerations(t *testing.T) {
	const w = int64(time.Hour)
	d := newDedup(time.Hour, 1000)
	assert.False(t, d.seen(kindEvent, "a", 1))
	assert.True(t, d.seen(kindEvent, "a", 2))
	assert.False(t, d.seen(kindResponse, "a", 3), "a response id is another key space")
	assert.True(t, d.seen(kindEvent, "a", w+w/2), "remembered in the previous generation")
	assert.False(t, d.seen(kindEvent, "a", 4*w), "forgotten after two windows")

	d = newDedup(time.Hour, 3)
	for _, id := range []string{"a", "b", "c", "d"} { // d starts a generation early
		assert.False(t, d.seen(kindEvent, id, 1), id)
	}
	assert.True(t, d.seen(kindEvent, "a", 1))
	for _, id := range []string{"e", "f", "g"} { // g rotates again: a, b, c dropped
		assert.False(t, d.seen(kindEvent, id, 1), id)
	}
	assert.False(t, d.seen(kindEvent, "a", 1), "a full generation shortens the window")
	assert.True(t, d.seen(kindEvent, "e", 1))
}

func TestDedupMarshalRoundTrip(t *testing.T) {
	d := newDedup(time.Hour, 2)
	for _, id := range []string{"a", "b", "c"} {
		d.seen(kindEvent, id, 10)
	}
	b, err := d.MarshalBinary()
	require.NoError(t, err)
	e := newDedup(time.Hour, 2)
	require.NoError(t, e.UnmarshalBinary(b))
	for _, id := range []string{"a", "b", "c"} {
		assert.True(t, e.seen(kindEvent, id, 20), id)
	}
	require.Error(t, e.UnmarshalBinary(b[:len(b)-1]))
	require.Error(t, e.UnmarshalBinary(append(b, 0)))
}

func TestDedupSurvivesRestart(t *testing.T) {
	client := &memClient{m: map[string][]byte{}}
	run := func(ids ...string) (events, dups int64) {
		c, sink := newTestConnector(t, nil)
		c.client = client
		require.NoError(t, c.load(context.Background()))
		var evs []ev
		for range ids {
			evs = append(evs, ev{eventType: "user_action", category: "c", action: "a", platform: "web"})
		}
		require.NoError(t, c.ConsumeLogs(context.Background(), withEventIDs(logsOf(evs...), ids...)))
		require.NoError(t, c.save(context.Background()))
		c.flush(context.Background(), time.Now(), true)
		events, _ = sumPoints(t, sink, "pulse.events")
		dups, _ = sumPoints(t, sink, "pulse.events.duplicates")
		return events, dups
	}
	events, dups := run("e1", "e2")
	assert.Equal(t, [2]int64{2, 0}, [2]int64{events, dups})
	events, dups = run("e1", "e3")
	assert.Equal(t, [2]int64{1, 1}, [2]int64{events, dups}, "e1 was counted before the restart")
}

func TestLoadsV2State(t *testing.T) {
	client := &memClient{m: map[string][]byte{}}
	c, _ := newTestConnector(t, nil)
	c.client = client
	c.seen.AddString("old-user")
	require.NoError(t, c.save(context.Background()))
	// A v2 state is the first three parts of a v3 one.
	buf := client.m[stateKey]
	v2 := buf
	for range 3 {
		n, k := binary.Uvarint(v2)
		v2 = v2[k+int(n):]
	}
	client.m = map[string][]byte{stateKeyV2: buf[:len(buf)-len(v2)]}

	d, sink := newTestConnector(t, nil)
	d.client = client
	require.NoError(t, d.load(context.Background()))
	require.NoError(t, d.ConsumeLogs(context.Background(), logsOf(ev{eventType: "user_action", category: "c", action: "a", platform: "web", user: "old-user"})))
	d.flush(context.Background(), time.Now(), true)
	n, _ := sumPoints(t, sink, "pulse.users.new")
	assert.Zero(t, n, "the v2 user filter was loaded")
}

// uuidLike returns n distinct 36-character ids, like SDKs send.
func uuidLike(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", i*2654435761, i&0xffff, i&0xfff, (i>>12)&0xfff, i)
	}
	return ids
}

// BenchmarkDedup measures the per-record cost of the dedup check on new
// ids (masking check, two lookups, insert), with 1 M ids per generation.
func BenchmarkDedup(b *testing.B) {
	ids := uuidLike(1 << 22)
	d := newDedup(24*time.Hour, 1_000_000)
	now := time.Now().UnixNano()
	// Steady state: both generations grown to 1 M ids (their maps keep
	// their capacity across rotations).
	for _, id := range ids[:2_500_000] {
		d.seen(kindEvent, id, now)
	}
	b.ReportAllocs()
	i := 2_500_000
	cpu := cpuTime()
	for b.Loop() {
		if id := ids[i&(len(ids)-1)]; usableID(id) {
			d.seen(kindEvent, id, now)
		}
		i++
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
}

// BenchmarkDedupMemory reports the heap bytes per remembered id with full
// generations (2 × 1 M ids).
func BenchmarkDedupMemory(b *testing.B) {
	ids := uuidLike(2_000_000)
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		d := newDedup(24*time.Hour, 1_000_000)
		for _, id := range ids {
			d.seen(kindEvent, id, 1)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(d.len()), "B/id")
		runtime.KeepAlive(d)
	}
}

// BenchmarkSaveFullState measures a save with both dedup generations and
// the join table full at the defaults: the lock is held while marshaling.
func BenchmarkSaveFullState(b *testing.B) {
	c, _ := newTestConnector(b, nil)
	client := &memClient{m: map[string][]byte{}}
	c.client = client
	ids := uuidLike(2_000_000)
	for i, id := range ids {
		c.dedup.seen(kindEvent, id, 1)
		if i < 1_000_000 {
			c.join.remember(idHash(kindRecommendation, id), recLabels{"coach", fmt.Sprint(i % 3), "workout"}, 1)
		}
	}
	ctx := context.Background()
	for b.Loop() {
		if err := c.save(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(client.m[stateKey]))/1e6, "MB")
}

// TestDedupMatchesTwoMaps checks the flat tables against the two-map model
// they replaced: the same answers for ids repeated across generations,
// rotations by window and by a full generation, and a save and load.
func TestDedupMatchesTwoMaps(t *testing.T) {
	type model struct {
		start     int64
		cur, prev map[uint64]bool
	}
	const window, maxIDs = int64(time.Hour), 3000
	m := model{cur: map[uint64]bool{}, prev: map[uint64]bool{}}
	rotate := func(now int64) {
		stale := now-m.start >= 2*window
		m.prev, m.cur = m.cur, map[uint64]bool{}
		if stale {
			m.prev = map[uint64]bool{}
		}
		m.start = now
	}
	modelSeen := func(h uint64, now int64) bool {
		if m.start == 0 {
			m.start = now
		}
		if now-m.start >= window {
			rotate(now)
		}
		if m.cur[h] || m.prev[h] {
			return true
		}
		if len(m.cur) >= maxIDs {
			rotate(now)
		}
		m.cur[h] = true
		return false
	}
	d := newDedup(time.Hour, maxIDs)
	rng := uint64(1)
	now := int64(1)
	for i := range 200_000 {
		rng = rng*6364136223846793005 + 1442695040888963407
		id := fmt.Sprint("id-", rng>>40%9000) // repeats often
		if i%5000 == 0 {
			now += window / 3
		}
		if i%70_000 == 0 {
			now += 3 * window // idle: both generations stale
		}
		if i == 100_000 {
			b, err := d.MarshalBinary()
			require.NoError(t, err)
			d = newDedup(time.Hour, maxIDs)
			require.NoError(t, d.UnmarshalBinary(b))
		}
		want := modelSeen(idHash(kindEvent, id), now)
		require.Equal(t, want, d.seen(kindEvent, id, now), "record %d", i)
		require.Equal(t, len(m.cur)+len(m.prev), d.len(), "record %d", i)
	}
}

func TestHashSetEdges(t *testing.T) {
	var s hashSet
	assert.False(t, s.find(setKey(0), s.home(setKey(0))), "an empty set holds nothing")
	s.insert(setKey(0))
	assert.True(t, s.find(setKey(0), s.home(setKey(0))), "the hash 0 is kept as 1")
	// Keys whose home is the last slot wrap around to the first ones.
	last := ^uint64(0)
	for k := range uint64(5) {
		s.insert(last - k)
	}
	for k := range uint64(5) {
		assert.True(t, s.find(last-k, s.home(last-k)), k)
	}
	assert.False(t, s.find(last-9, s.home(last-9)))
	size := len(s.slots)
	for k := range uint64(5000) {
		s.insert(k<<40 | 7)
	}
	assert.Equal(t, 5006, s.n)
	assert.LessOrEqual(t, 2*s.n, len(s.slots), "at most half full")
	for k := range uint64(5000) {
		require.True(t, s.find(k<<40|7, s.home(k<<40|7)), k)
	}
	grown := len(s.slots)
	assert.Greater(t, grown, size)
	s.reset()
	assert.Zero(t, s.n)
	assert.Len(t, s.slots, grown, "reset keeps the array")
	assert.False(t, s.find(last, s.home(last)))
}

// TestDedupStateFormat pins the saved layout (start, then each generation
// as a count and its hashes), which states saved before the flat tables
// share.
func TestDedupStateFormat(t *testing.T) {
	buf := binary.LittleEndian.AppendUint64(nil, 42)
	buf = binary.AppendUvarint(buf, 2)
	buf = binary.LittleEndian.AppendUint64(buf, idHash(kindEvent, "a"))
	buf = binary.LittleEndian.AppendUint64(buf, idHash(kindEvent, "b"))
	buf = binary.AppendUvarint(buf, 1)
	buf = binary.LittleEndian.AppendUint64(buf, idHash(kindResponse, "c"))
	d := newDedup(time.Hour, 1000)
	require.NoError(t, d.UnmarshalBinary(buf))
	assert.Equal(t, int64(42), d.start)
	assert.Equal(t, 3, d.len())
	again, err := d.MarshalBinary()
	require.NoError(t, err)
	assert.Len(t, again, len(buf))
	assert.True(t, d.seen(kindEvent, "b", 43))
	assert.True(t, d.seen(kindResponse, "c", 43), "the previous generation")
	assert.False(t, d.seen(kindEvent, "c", 43))
}

// TestDedupCheckAllocatesNothing: at steady state (generations at their
// size) the check allocates nothing, for new and for repeated ids.
func TestDedupCheckAllocatesNothing(t *testing.T) {
	ids := uuidLike(1 << 14)
	d := newDedup(24*time.Hour, 2000)
	for _, id := range ids {
		d.seen(kindEvent, id, 1)
	}
	i := 0
	allocs := testing.AllocsPerRun(10_000, func() {
		d.seen(kindEvent, ids[i&(len(ids)-1)], 1)
		d.seen(kindEvent, ids[i&(len(ids)-1)], 1)
		i++
	})
	assert.Zero(t, allocs)
}

func TestRekind(t *testing.T) {
	for _, id := range []string{"r-1", "", "a long recommendation id"} {
		h := idHash(kindRecommendation, id)
		assert.Equal(t, idHash(kindResponse, id), rekind(h, kindRecommendation, kindResponse), id)
		assert.Equal(t, idHash(kindEvent, id), rekind(h, kindRecommendation, kindEvent), id)
	}
}
