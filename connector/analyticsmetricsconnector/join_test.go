package analyticsmetricsconnector

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/pulse-otel/pulse/internal/schema"
)

// recLogs builds recommendation records (schema.EventRecommendation or
// schema.EventRecommendationResponse) with the given attributes.
func recLogs(recs ...map[string]any) plog.Logs {
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for _, r := range recs {
		lr := lrs.AppendEmpty()
		lr.SetEventName(r["event"].(string))
		lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Now().Add(-time.Second)))
		for k, v := range r {
			if k == "event" {
				continue
			}
			lr.Attributes().PutStr(k, v.(string))
		}
	}
	return ld
}

// shown is the shown event of recommendation id: a workout recommendation
// of model coach 1.4.
func shown(id string) map[string]any {
	return map[string]any{"event": schema.EventRecommendation, schema.AttrRecommendationID: id,
		schema.AttrModelID: "coach", schema.AttrModelVersion: "1.4", schema.AttrRecommendationType: "workout"}
}

func answered(id, action string, extra ...string) map[string]any {
	r := map[string]any{"event": schema.EventRecommendationResponse, schema.AttrRecommendationID: id, schema.AttrResponseAction: action}
	for i := 0; i+1 < len(extra); i += 2 {
		r[extra[i]] = extra[i+1]
	}
	return r
}

func respKey(model, version, typ, action string) string {
	return fmt.Sprint(map[string]any{"model_id": model, "model_version": version, "recommendation_type": typ, "response": action})
}

func TestLaterResponseJoinsItsRecommendation(t *testing.T) {
	c, sink := newTestConnector(t, nil)
	ctx := context.Background()
	require.NoError(t, c.ConsumeLogs(ctx, recLogs(shown("r-1"), shown("r-2"))))
	require.NoError(t, c.ConsumeLogs(ctx, recLogs(
		answered("r-1", "accepted"),
		answered("r-2", "rejected", schema.AttrModelVersion, "1.5"), // its own label wins
		answered("r-9", "accepted"),                                 // never seen
	)))
	c.flush(ctx, time.Now(), true)
	_, series := sumPoints(t, sink, "pulse.recommendation.responses")
	assert.Equal(t, map[string]int64{
		respKey("coach", "1.4", "workout", "accepted"): 1,
		respKey("coach", "1.5", "workout", "rejected"): 1,
		respKey("", "", "", "accepted"):                1,
	}, series)
	unjoined, byResponse := sumPoints(t, sink, "pulse.recommendation.responses.unjoined")
	assert.Equal(t, int64(1), unjoined)
	assert.Equal(t, int64(1), byResponse[fmt.Sprint(map[string]any{"response": "accepted"})])
}

func TestRecommendationDedupKeySpaces(t *testing.T) {
	c, sink := newTestConnector(t, nil)
	ctx := context.Background()
	for range 2 { // the client sent everything twice
		require.NoError(t, c.ConsumeLogs(ctx, recLogs(shown("r-1"))))
		require.NoError(t, c.ConsumeLogs(ctx, recLogs(answered("r-1", "accepted"))))
	}
	c.flush(ctx, time.Now(), true)
	shownN, _ := sumPoints(t, sink, "pulse.recommendations")
	assert.Equal(t, int64(1), shownN)
	_, series := sumPoints(t, sink, "pulse.recommendation.responses")
	assert.Equal(t, map[string]int64{respKey("coach", "1.4", "workout", "accepted"): 1}, series, "the response is no duplicate of its recommendation")
	_, byKind := sumPoints(t, sink, "pulse.events.duplicates")
	assert.Equal(t, map[string]int64{
		fmt.Sprint(map[string]any{"kind": "recommendation"}): 1,
		fmt.Sprint(map[string]any{"kind": "response"}):       1,
	}, byKind)
}

func TestJoinSurvivesRestart(t *testing.T) {
	client := &memClient{m: map[string][]byte{}}
	ctx := context.Background()
	c, _ := newTestConnector(t, nil)
	c.client = client
	require.NoError(t, c.load(ctx))
	require.NoError(t, c.ConsumeLogs(ctx, recLogs(shown("r-1"))))
	require.NoError(t, c.save(ctx))

	d, sink := newTestConnector(t, nil)
	d.client = client
	require.NoError(t, d.load(ctx))
	require.NoError(t, d.ConsumeLogs(ctx, recLogs(answered("r-1", "modified"))))
	d.flush(ctx, time.Now(), true)
	_, series := sumPoints(t, sink, "pulse.recommendation.responses")
	assert.Equal(t, map[string]int64{respKey("coach", "1.4", "workout", "modified"): 1}, series)
}

func TestJoinTableBounds(t *testing.T) {
	j := newJoinTable(2, 100)
	a := recLabels{"m", "1", "t"}
	j.remember(1, a, 10)
	j.remember(2, recLabels{"m", "2", "t"}, 20)
	j.remember(3, a, 30) // evicts 1, the oldest
	_, ok := j.lookup(1, 30)
	assert.False(t, ok, "evicted")
	got, ok := j.lookup(3, 30)
	assert.True(t, ok)
	assert.Equal(t, a, got)
	_, ok = j.lookup(2, 121)
	assert.False(t, ok, "older than max_age")
	j.remember(4, recLabels{"n", "1", "t"}, 131) // expires 2 and 3
	assert.Equal(t, 1, j.len())
	assert.Len(t, j.index, 1, "unused label triples are released")

	b, err := j.MarshalBinary()
	require.NoError(t, err)
	k := newJoinTable(2, 100)
	require.NoError(t, k.UnmarshalBinary(b))
	got, ok = k.lookup(4, 140)
	assert.True(t, ok)
	assert.Equal(t, recLabels{"n", "1", "t"}, got)
	assert.Error(t, k.UnmarshalBinary(b[:len(b)-1]))
}

// BenchmarkJoinMemory reports the heap bytes per remembered recommendation
// with a full table (1 M entries, 10 models × 3 versions × 2 types).
func BenchmarkJoinMemory(b *testing.B) {
	ids := uuidLike(1_000_000)
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		j := newJoinTable(1_000_000, 7*24*3600)
		for i, id := range ids {
			j.remember(idHash(kindRecommendation, id), recLabels{fmt.Sprint("m", i%10), fmt.Sprint(i % 3), fmt.Sprint("t", i%2)}, 1)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(j.len()), "B/entry")
		runtime.KeepAlive(j)
	}
}

// BenchmarkJoinLookup measures a later response's join.
func BenchmarkJoinLookup(b *testing.B) {
	ids := uuidLike(1 << 20)
	j := newJoinTable(1_000_000, 7*24*3600)
	for _, id := range ids {
		j.remember(idHash(kindRecommendation, id), recLabels{"coach", "1.4", "workout"}, 1)
	}
	b.ReportAllocs()
	i := 0
	cpu := cpuTime()
	for b.Loop() {
		j.lookup(idHash(kindRecommendation, ids[i&(len(ids)-1)]), 2)
		i++
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
}

func TestJoinTableLoadKeepsAgeOrder(t *testing.T) {
	j := newJoinTable(100, 1000)
	for i := range 50 {
		j.remember(uint64(i+1), recLabels{"m", fmt.Sprint(i % 4), "t"}, uint32(10+i))
	}
	b, err := j.MarshalBinary()
	require.NoError(t, err)
	k := newJoinTable(10, 1000) // a smaller max_entries after a restart
	require.NoError(t, k.UnmarshalBinary(b))
	assert.Equal(t, 10, k.len(), "the newest 10")
	_, ok := k.lookup(40, 60)
	assert.False(t, ok)
	got, ok := k.lookup(41, 60)
	require.True(t, ok)
	assert.Equal(t, recLabels{"m", "0", "t"}, got)
	k.remember(99, recLabels{"m", "x", "t"}, 61)
	_, ok = k.lookup(41, 61)
	assert.False(t, ok, "the oldest is evicted first after a load")
	_, ok = k.lookup(42, 61)
	assert.True(t, ok)
}

// TestJoinTableMatchesMap checks the flat table against a map with an
// insertion queue: the same answers under eviction by count and by age,
// re-remembered recommendations, and a save and load; hashes are drawn
// from few home slots so runs are long and wrap around the array.
func TestJoinTableMatchesMap(t *testing.T) {
	const maxEntries, maxAge = 700, 50
	type entry struct {
		at uint32
		ls recLabels
	}
	model := map[uint64]entry{}
	var queue []uint64
	evict := func() {
		delete(model, queue[0])
		queue = queue[1:]
	}
	j := newJoinTable(maxEntries, maxAge)
	rng := uint64(7)
	now := uint32(1)
	for i := range 60_000 {
		rng = rng*6364136223846793005 + 1442695040888963407
		// 2,000 distinct hashes, homes crowded in the top and bottom slots.
		h := (rng>>53)%2000 + 1
		if h%2 == 0 {
			h = ^h
		}
		if i%300 == 0 {
			now += 7
		}
		if i == 30_000 {
			b, err := j.MarshalBinary()
			require.NoError(t, err)
			j = newJoinTable(maxEntries, maxAge)
			require.NoError(t, j.UnmarshalBinary(b))
			// The load orders by time; the model's queue is already so.
		}
		if rng>>20%3 == 0 {
			ls := recLabels{"m", fmt.Sprint(rng >> 40 % 5), "t"}
			for len(queue) > 0 && now > model[queue[0]].at && now-model[queue[0]].at > maxAge {
				evict()
			}
			if e, ok := model[h]; ok {
				model[h] = entry{e.at, ls}
			} else {
				for len(model) >= maxEntries {
					evict()
				}
				model[h] = entry{now, ls}
				queue = append(queue, h)
			}
			j.remember(h, ls, now)
		} else {
			e, ok := model[h]
			ok = ok && !(now > e.at && now-e.at > maxAge)
			got, gotOK := j.lookup(h, now)
			require.Equal(t, ok, gotOK, "record %d", i)
			if ok {
				require.Equal(t, e.ls, got, "record %d", i)
			}
		}
		require.Equal(t, len(model), j.len(), "record %d", i)
	}
}
