package analyticsmetricsconnector

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/pulse-otel/pulse/connector/analyticsmetricsconnector/internal/metadata"
	"github.com/pulse-otel/pulse/internal/catalog"
	"github.com/pulse-otel/pulse/internal/partstate"
)

const testPartitions = 4

// shard is one aggregator process of a test: a partitioned connector on a
// shared in-memory state store.
type shard struct {
	c    *partitionedConnector
	sink *consumertest.MetricsSink
	logs *observer.ObservedLogs
}

func newShard(t *testing.T, mem *partstate.Memory, next func() error) *shard {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.FlushInterval = 20 * time.Millisecond
	cfg.FullExportInterval = time.Hour
	cfg.ExpectedUsers = 10_000
	cfg.Dedup.MaxIDs = 10_000
	cfg.RecommendationJoin.MaxEntries = 1000
	p := cfg.Partitioned.GetOrInsertDefault()
	p.Kafka.Brokers = []string{"127.0.0.1:1"} // never dialled: the store is replaced
	require.NoError(t, cfg.Validate())
	sink := new(consumertest.MetricsSink)
	set := connectortest.NewNopSettings(metadata.Type)
	set.ID = component.NewID(metadata.Type)
	core, logs := observer.New(zap.InfoLevel)
	set.Logger = zap.New(core)
	var consumer consumer.Metrics = sink
	if next != nil {
		consumer = failingSink{sink, next}
	}
	c := newPartitionedConnector(set, cfg, consumer)
	handle := mem.Handle()
	old := newPartitionStore
	newPartitionStore = func(context.Context, *PartitionedConfig, component.TelemetrySettings) (partstate.Store, error) {
		return handle, nil
	}
	err := c.Start(context.Background(), componenttest.NewNopHost())
	newPartitionStore = old
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Shutdown(context.Background()) })
	return &shard{c: c, sink: sink, logs: logs}
}

// failingSink fails exports while fail returns an error.
type failingSink struct {
	*consumertest.MetricsSink
	fail func() error
}

func (f failingSink) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	if err := f.fail(); err != nil {
		return err
	}
	return f.MetricsSink.ConsumeMetrics(ctx, md)
}

// krecord is one Kafka record of the test's events topic.
type krecord struct {
	partition int32
	offset    int64
	events    []ev
}

func partitionOf(user string) int32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(user))
	return int32(h.Sum32() % testPartitions)
}

// topic lays out events of users u0..u(users-1), sessions per user, as
// records of up to 5 events per partition, in order.
func topic(users, eventsPerUser int, at time.Time) []krecord {
	var out []krecord
	next := [testPartitions]int64{}
	open := [testPartitions]*krecord{}
	types := []string{"user_action", "error_tracking", "page_view"}
	behaviors := []string{"navigation", "interaction", "conversion"}
	for i := range eventsPerUser {
		for u := range users {
			user := fmt.Sprintf("u%d", u)
			p := partitionOf(user)
			if open[p] == nil {
				open[p] = &krecord{partition: p, offset: next[p]}
				next[p]++
			}
			r := open[p]
			r.events = append(r.events, ev{
				eventType: types[(u+i)%len(types)], category: "c", action: "a", platform: []string{"web", "ios"}[u%2],
				user: user, session: fmt.Sprintf("s%d-%d", u, i/3), behavior: behaviors[(u*7+i)%3],
				path: fmt.Sprintf("/p%d", (u+i)%4), duration: float64(i%5) / 10, ts: at.Add(time.Duration(i) * time.Second),
			})
			if len(r.events) == 5 {
				out = append(out, *r)
				open[p] = nil
			}
		}
	}
	for _, r := range open {
		if r != nil {
			out = append(out, *r)
		}
	}
	return out
}

func recordCtx(r krecord) context.Context {
	return client.NewContext(context.Background(), client.Info{Metadata: client.NewMetadata(map[string][]string{
		metaPartition: {strconv.Itoa(int(r.partition))},
		metaOffset:    {strconv.FormatInt(r.offset, 10)},
	})})
}

// deliver hands records to a shard concurrently, as the kafka receiver
// does with records in flight, and waits for every acknowledgement.
func deliver(t *testing.T, s *shard, rs []krecord) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(rs))
	for i, r := range rs {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(recordCtx(r), 10*time.Second)
			defer cancel()
			errs[i] = s.c.ConsumeLogs(ctx, logsOf(r.events...))
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
}

// totals is the latest exported value of every series, the partition
// label removed and the partitions added up: what sum without(partition)
// shows in a store. Histograms give their count and sum.
func totals(t *testing.T, sinks ...*consumertest.MetricsSink) map[string]float64 {
	t.Helper()
	type key struct{ series, partition string }
	latest := map[key]float64{}
	stamp := map[key]uint64{}
	put := func(name string, attrs map[string]any, ts uint64, v float64) {
		part := fmt.Sprint(attrs["partition"])
		delete(attrs, "partition")
		keys := slices.Sorted(maps.Keys(attrs))
		var b strings.Builder
		b.WriteString(name)
		for _, k := range keys {
			fmt.Fprintf(&b, ",%s=%v", k, attrs[k])
		}
		k := key{b.String(), part}
		if ts >= stamp[k] {
			latest[k], stamp[k] = v, ts
		}
	}
	for _, sink := range sinks {
		for _, md := range sink.AllMetrics() {
			for i := 0; i < md.ResourceMetrics().Len(); i++ {
				sms := md.ResourceMetrics().At(i).ScopeMetrics()
				for j := 0; j < sms.Len(); j++ {
					ms := sms.At(j).Metrics()
					for k := 0; k < ms.Len(); k++ {
						m := ms.At(k)
						if m.Name() == catalog.ConnectorMetrics()[catalog.Freshness].Name {
							continue // the time to export: not a function of the events
						}
						switch m.Type() {
						case pmetric.MetricTypeSum:
							for d := 0; d < m.Sum().DataPoints().Len(); d++ {
								dp := m.Sum().DataPoints().At(d)
								put(m.Name(), dp.Attributes().AsRaw(), uint64(dp.Timestamp()), numberValue(dp))
							}
						case pmetric.MetricTypeGauge:
							for d := 0; d < m.Gauge().DataPoints().Len(); d++ {
								dp := m.Gauge().DataPoints().At(d)
								put(m.Name(), dp.Attributes().AsRaw(), uint64(dp.Timestamp()), numberValue(dp))
							}
						case pmetric.MetricTypeHistogram:
							for d := 0; d < m.Histogram().DataPoints().Len(); d++ {
								dp := m.Histogram().DataPoints().At(d)
								put(m.Name()+"_count", dp.Attributes().AsRaw(), uint64(dp.Timestamp()), float64(dp.Count()))
								put(m.Name()+"_sum", dp.Attributes().AsRaw(), uint64(dp.Timestamp()), dp.Sum())
							}
						}
					}
				}
			}
		}
	}
	out := map[string]float64{}
	for k, v := range latest {
		out[k.series] += v
	}
	return out
}

func numberValue(dp pmetric.NumberDataPoint) float64 {
	if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
		return float64(dp.IntValue())
	}
	return dp.DoubleValue()
}

// reference counts the same records in one unpartitioned connector.
func reference(t *testing.T, rs []krecord, end time.Time) map[string]float64 {
	t.Helper()
	c, sink := newTestConnector(t, func(cfg *Config) { cfg.ExpectedUsers = 10_000 })
	for _, r := range rs {
		require.NoError(t, c.ConsumeLogs(context.Background(), logsOf(r.events...)))
	}
	c.flush(context.Background(), end, true)
	return totals(t, sink)
}

// assertSameTotals compares every series of the reference with the
// partitions' sum: counts exactly, the active-user estimates within the
// sketches' error.
func assertSameTotals(t *testing.T, want, got map[string]float64) {
	t.Helper()
	activeUsers := catalog.ConnectorMetrics()[catalog.ActiveUsers].Name
	for k, w := range want {
		g, ok := got[k]
		if !assert.Truef(t, ok, "series %s missing from the shards", k) {
			continue
		}
		if strings.HasPrefix(k, activeUsers+",") {
			assert.InDeltaf(t, w, g, math.Max(1, 0.02*w), "%s", k)
			continue
		}
		assert.InDeltaf(t, w, g, 1e-9*math.Max(1, math.Abs(w)), "%s", k)
	}
	for k := range got {
		_, ok := want[k]
		assert.Truef(t, ok, "series %s is only in the shards", k)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPartitionedEqualsOneConnector(t *testing.T) {
	at := time.Now().Add(-time.Minute).Truncate(time.Second)
	rs := topic(300, 9, at)
	want := reference(t, rs, time.Now())

	mem := partstate.NewMemory()
	a, b := newShard(t, mem, nil), newShard(t, mem, nil)
	// Partitions 0 and 1 start on a, 2 and 3 on b; halfway, partition 1
	// moves to b (a rebalance) and b is handed its last records again
	// (re-delivered: their offsets had not been committed).
	half := len(rs) / 2
	var first, second []krecord
	for i, r := range rs {
		switch {
		case i < half && r.partition < 2:
			first = append(first, r)
		case i < half:
			second = append(second, r)
		}
	}
	deliver(t, a, first)
	deliver(t, b, second)
	var moved, rest []krecord
	var redelivered []krecord
	for _, r := range rs[half:] {
		if r.partition == 0 {
			rest = append(rest, r)
		} else {
			moved = append(moved, r)
		}
	}
	for _, r := range first {
		if r.partition == 1 && len(redelivered) < 3 {
			redelivered = append(redelivered, r)
		}
	}
	deliver(t, a, rest)
	deliver(t, b, append(redelivered, moved...))
	waitFor(t, "shard a to drop partition 1", func() bool {
		a.c.mu.Lock()
		defer a.c.mu.Unlock()
		return a.c.parts[1] == nil
	})
	require.Equal(t, 1, a.logs.FilterMessage("Partition moved to another shard; its state went with it").Len())

	got := totals(t, a.sink, b.sink)
	assertSameTotals(t, want, got)
	events := catalog.ConnectorMetrics()[catalog.Events].Name
	var n float64
	for k, v := range got {
		if strings.HasPrefix(k, events+",") {
			n += v
		}
	}
	var sent int
	for _, r := range rs {
		sent += len(r.events)
	}
	assert.InDelta(t, float64(sent), n, 0, "every event counted once")
}

func TestPartitionedSeriesCarryThePartition(t *testing.T) {
	mem := partstate.NewMemory()
	s := newShard(t, mem, nil)
	rs := topic(20, 2, time.Now().Add(-time.Minute))
	deliver(t, s, rs)
	seen := map[string]bool{}
	for _, md := range s.sink.AllMetrics() {
		for i := 0; i < md.ResourceMetrics().Len(); i++ {
			sms := md.ResourceMetrics().At(i).ScopeMetrics()
			for j := 0; j < sms.Len(); j++ {
				ms := sms.At(j).Metrics()
				for k := 0; k < ms.Len(); k++ {
					m := ms.At(k)
					if m.Type() != pmetric.MetricTypeSum {
						continue
					}
					for d := 0; d < m.Sum().DataPoints().Len(); d++ {
						v, ok := m.Sum().DataPoints().At(d).Attributes().Get("partition")
						require.Truef(t, ok, "%s has no partition label", m.Name())
						seen[v.Str()] = true
					}
				}
			}
		}
	}
	assert.Len(t, seen, testPartitions)
}

func TestPartitionedRestartCarriesOn(t *testing.T) {
	mem := partstate.NewMemory()
	rs := topic(100, 6, time.Now().Add(-time.Minute))
	want := reference(t, rs, time.Now())
	a := newShard(t, mem, nil)
	deliver(t, a, rs[:len(rs)/2])
	// kill -9: no final save; what was acknowledged was saved.
	a.c.cancelLoop()
	close(a.c.stop)
	<-a.c.done
	a.c.stop = nil // Shutdown at cleanup: nothing left to do
	b := newShard(t, mem, nil)
	deliver(t, b, rs) // everything again: the first half is re-delivered
	got := totals(t, a.sink, b.sink)
	assertSameTotals(t, want, got)
}

func TestPartitionedRefusesRequestsWithoutKafkaMetadata(t *testing.T) {
	s := newShard(t, partstate.NewMemory(), nil)
	err := s.c.ConsumeLogs(context.Background(), logsOf(ev{eventType: "page_view", user: "u1"}))
	require.Error(t, err)
	assert.True(t, consumererror.IsPermanent(err))
	assert.Contains(t, err.Error(), "kafka.partition")
}

func TestPartitionedNothingAcknowledgedWhileExportsFail(t *testing.T) {
	var mu sync.Mutex
	failing := true
	s := newShard(t, partstate.NewMemory(), func() error {
		mu.Lock()
		defer mu.Unlock()
		if failing {
			return errors.New("store down")
		}
		return nil
	})
	r := topic(5, 1, time.Now())[0]
	ctx, cancel := context.WithTimeout(recordCtx(r), 200*time.Millisecond)
	defer cancel()
	require.Error(t, s.c.ConsumeLogs(ctx, logsOf(r.events...)), "acknowledged although nothing was exported")
	mu.Lock()
	failing = false
	mu.Unlock()
	// The krecord was counted; its re-delivery is acknowledged once
	// exported, and not counted again.
	waitFor(t, "an export", func() bool { return s.sink.DataPointCount() > 0 })
	deliver(t, s, []krecord{r})
	got := totals(t, s.sink)
	events := catalog.ConnectorMetrics()[catalog.Events].Name
	var n float64
	for k, v := range got {
		if strings.HasPrefix(k, events+",") {
			n += v
		}
	}
	assert.InDelta(t, float64(len(r.events)), n, 0)
}

func TestCoreStateRoundTrip(t *testing.T) {
	c, _ := newTestConnector(t, func(cfg *Config) { cfg.ExpectedUsers = 10_000 })
	rs := topic(50, 4, time.Now().Add(-time.Minute))
	for _, r := range rs {
		require.NoError(t, c.ConsumeLogs(context.Background(), logsOf(r.events...)))
	}
	applied := &offsetSet{}
	for _, o := range []int64{5, 1, 2, 3, 9, 7, 8} {
		applied.add(o)
	}
	c.mu.Lock()
	buf, err := c.marshalCore(applied)
	c.mu.Unlock()
	require.NoError(t, err)
	d, _ := newTestConnector(t, func(cfg *Config) { cfg.ExpectedUsers = 10_000 })
	got, err := d.unmarshalCore(buf)
	require.NoError(t, err)
	assert.Equal(t, [][2]int64{{1, 3}, {5, 5}, {7, 9}}, got.r)
	assert.Len(t, d.sessions, len(c.sessions))
	assert.Equal(t, c.agg.total, d.agg.total)
	d.mu.Lock()
	again, err := d.marshalCore(got)
	d.mu.Unlock()
	require.NoError(t, err)
	assert.Len(t, again, len(buf), "map order differs between encodings, sizes do not")
	for cut := 0; cut < len(buf); cut += 1 + len(buf)/50 {
		e, _ := newTestConnector(t, func(cfg *Config) { cfg.ExpectedUsers = 10_000 })
		_, err := e.unmarshalCore(buf[:cut])
		assert.Errorf(t, err, "a state cut at %d of %d bytes was accepted", cut, len(buf))
	}
}

func TestOffsetSet(t *testing.T) {
	var s offsetSet
	for _, o := range []int64{10, 12, 11, 14, 13, 20} {
		require.False(t, s.has(o))
		s.add(o)
		require.True(t, s.has(o))
	}
	assert.Equal(t, [][2]int64{{10, 14}, {20, 20}}, s.r)
	assert.False(t, s.has(15))
	assert.False(t, s.has(9))
	for i := range int64(maxOffsetRanges + 10) {
		s.add(100 + 2*i)
	}
	assert.LessOrEqual(t, len(s.r), maxOffsetRanges)
	assert.True(t, s.has(100+2*(maxOffsetRanges+9)))
}
