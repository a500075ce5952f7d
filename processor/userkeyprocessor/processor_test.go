package userkeyprocessor

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/pulse-otel/pulse/internal/schema"
)

// batch builds plog.Logs: one resource per platform in order, each with
// one scope, records numbered by a seq attribute in the order given.
type batch struct {
	ld   plog.Logs
	seq  int
	last string
	sl   plog.ScopeLogs
}

func newBatch() *batch { return &batch{ld: plog.NewLogs()} }

func (b *batch) add(platform, event string, attrs map[string]any) *batch {
	if platform != b.last {
		rl := b.ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr(schema.ResourcePlatform, platform)
		rl.SetSchemaUrl("https://opentelemetry.io/schemas/1.30.0")
		b.sl = rl.ScopeLogs().AppendEmpty()
		b.sl.Scope().SetName("pulse.analytics." + platform)
		b.last = platform
	}
	lr := b.sl.LogRecords().AppendEmpty()
	lr.SetEventName(event)
	if err := lr.Attributes().FromRaw(attrs); err != nil {
		panic(err)
	}
	lr.Attributes().PutInt("seq", int64(b.seq))
	lr.Body().SetStr(fmt.Sprintf("record %d", b.seq))
	b.seq++
	return b
}

func newTestProcessor(t testing.TB, keys int, next consumer.Logs) *userKeyProcessor {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.Keys = keys
	require.NoError(t, cfg.Validate())
	return newUserKeyProcessor(cfg, next)
}

// part is what one downstream call received.
type part struct {
	group     string
	seqs      []int64
	platforms []string
}

func parts(t *testing.T, sink *consumertest.LogsSink) []part {
	t.Helper()
	var out []part
	for i, ld := range sink.AllLogs() {
		vals := client.FromContext(sink.Contexts()[i]).Metadata.Get(DefaultMetadataKey)
		require.Len(t, vals, 1)
		p := part{group: vals[0]}
		for _, rl := range ld.ResourceLogs().All() {
			platform, _ := rl.Resource().Attributes().Get(schema.ResourcePlatform)
			p.platforms = append(p.platforms, platform.Str())
			require.Equal(t, 1, rl.ScopeLogs().Len())
			sl := rl.ScopeLogs().At(0)
			assert.Equal(t, "pulse.analytics."+platform.Str(), sl.Scope().Name(), "the scope travels with its records")
			assert.Equal(t, "https://opentelemetry.io/schemas/1.30.0", rl.SchemaUrl())
			require.Positive(t, sl.LogRecords().Len(), "no empty scope is passed on")
			for _, lr := range sl.LogRecords().All() {
				seq, _ := lr.Attributes().Get("seq")
				p.seqs = append(p.seqs, seq.Int())
				assert.Equal(t, fmt.Sprintf("record %d", seq.Int()), lr.Body().Str())
			}
		}
		out = append(out, p)
	}
	return out
}

// Groups at keys 64 (testdata/xxh64.py): u-1 17, u-2 3, u-3 6,
// d-anon-9 16, rec-42 8; records without identity 0.
func mixedBatch() plog.Logs {
	ev := schema.EventAnalytics
	return newBatch().
		add("web", ev, map[string]any{"user.id": "u-1", "session.id": "s-a"}).        // 0 → 17
		add("web", ev, map[string]any{"user.id": "u-2", "device.id": "d-7"}).         // 1 → 3
		add("web", ev, map[string]any{"device.id": "d-anon-9", "session.id": "s-b"}). // 2 → 16
		add("web", ev, map[string]any{"user.id": "u-1"}).                             // 3 → 17
		add("web", ev, map[string]any{"pulse.page": "/pricing"}).                     // 4 → 0
		add("web", schema.EventRecommendation, map[string]any{                        // 5 → 8
										"user.id": "u-3", "pulse.recommendation.id": "rec-42"}).
		add("web", ev, map[string]any{"user.id": "u-2"}).              // 6 → 3
		add("ios", ev, map[string]any{"user.id": "u-3"}).              // 7 → 6
		add("ios", schema.EventRecommendationResponse, map[string]any{ // 8 → 8
												"user.id": "u-3", "pulse.recommendation.id": "rec-42"}).
		add("ios", ev, map[string]any{"user.id": "u-1", "device.id": "d-anon-9"}). // 9 → 17
		add("ios", ev, map[string]any{"device.id": "d-anon-9"}).                   // 10 → 16
		add("ios", ev, map[string]any{"user.id": "u-3", "session.id": "s-c"}).     // 11 → 6
		ld
}

func TestMixedBatch(t *testing.T) {
	sink := new(consumertest.LogsSink)
	p := newTestProcessor(t, 64, sink)
	require.NoError(t, p.ConsumeLogs(context.Background(), mixedBatch()))
	assert.Equal(t, []part{
		{group: "0", seqs: []int64{4}, platforms: []string{"web"}},
		{group: "3", seqs: []int64{1, 6}, platforms: []string{"web"}},
		{group: "6", seqs: []int64{7, 11}, platforms: []string{"ios"}},
		{group: "8", seqs: []int64{5, 8}, platforms: []string{"web", "ios"}},
		{group: "16", seqs: []int64{2, 10}, platforms: []string{"web", "ios"}},
		{group: "17", seqs: []int64{0, 3, 9}, platforms: []string{"web", "ios"}},
	}, parts(t, sink), "groups in ascending order, records in their order, each resource once per group")
	assert.Equal(t, 12, sink.LogRecordCount(), "every record passed exactly once")
}

type authData map[string]any

func (a authData) GetAttribute(k string) any { return a[k] }
func (a authData) GetAttributeNames() []string {
	var names []string
	for k := range a {
		names = append(names, k)
	}
	return names
}

func TestMetadata(t *testing.T) {
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4320}
	auth := authData{"subject": "gateway-1"}
	in := client.Info{
		Addr: addr,
		Auth: auth,
		Metadata: client.NewMetadata(map[string][]string{
			"x-tenant": {"acme"},
			// A client must not pick its own partition: the processor's
			// value replaces whatever arrives under its key, in any case.
			"Pulse.User_Key": {"999"},
		}),
	}
	sink := new(consumertest.LogsSink)
	p := newTestProcessor(t, 64, sink)
	require.NoError(t, p.ConsumeLogs(client.NewContext(context.Background(), in), mixedBatch()))
	require.Len(t, sink.Contexts(), 6)
	var groups []string
	for _, ctx := range sink.Contexts() {
		info := client.FromContext(ctx)
		assert.Same(t, addr, info.Addr)
		assert.Equal(t, auth, info.Auth)
		assert.Equal(t, []string{"acme"}, info.Metadata.Get("x-tenant"))
		vals := info.Metadata.Get(DefaultMetadataKey)
		require.Len(t, vals, 1)
		groups = append(groups, vals[0])
		assert.ElementsMatch(t, []string{"x-tenant", DefaultMetadataKey}, slices.Collect(info.Metadata.Keys()))
	}
	assert.Equal(t, []string{"0", "3", "6", "8", "16", "17"}, groups)

	// A custom key, as the exporter's message_key_from_metadata_key reads it.
	cfg := createDefaultConfig().(*Config)
	cfg.MetadataKey = "X-Pulse-Key"
	sink.Reset()
	require.NoError(t, newUserKeyProcessor(cfg, sink).ConsumeLogs(context.Background(), mixedBatch()))
	assert.Equal(t, []string{"0"}, client.FromContext(sink.Contexts()[0]).Metadata.Get("x-pulse-key"))
	assert.Empty(t, client.FromContext(sink.Contexts()[0]).Metadata.Get(DefaultMetadataKey))
}

func TestSingleGroupPassesThrough(t *testing.T) {
	ld := newBatch().
		add("web", schema.EventAnalytics, map[string]any{"user.id": "u-1"}).
		add("ios", schema.EventAnalytics, map[string]any{"user.id": "u-1", "device.id": "d-7"}).
		add("ios", schema.EventRecommendation, map[string]any{"user.id": "u-2", "pulse.recommendation.id": "u-1"}).
		ld
	sink := new(consumertest.LogsSink)
	p := newTestProcessor(t, 64, sink)
	require.NoError(t, p.ConsumeLogs(context.Background(), ld))
	require.Len(t, sink.AllLogs(), 1)
	assert.True(t, sameLogs(sink.AllLogs()[0], ld), "one group: the request itself is passed on, not a copy")
	assert.Equal(t, []string{"17"}, client.FromContext(sink.Contexts()[0]).Metadata.Get(DefaultMetadataKey))

	// No records: passed on as they are, keyed 0.
	sink.Reset()
	empty := plog.NewLogs()
	empty.ResourceLogs().AppendEmpty()
	require.NoError(t, p.ConsumeLogs(context.Background(), empty))
	require.Len(t, sink.AllLogs(), 1)
	assert.True(t, sameLogs(sink.AllLogs()[0], empty))
	assert.Equal(t, []string{"0"}, client.FromContext(sink.Contexts()[0]).Metadata.Get(DefaultMetadataKey))

	// keys: 1 never splits.
	sink.Reset()
	ld = mixedBatch()
	require.NoError(t, newTestProcessor(t, 1, sink).ConsumeLogs(context.Background(), ld))
	require.Len(t, sink.AllLogs(), 1)
	assert.True(t, sameLogs(sink.AllLogs()[0], ld))
}

// sameLogs reports whether a and b are one request, not equal copies: a
// resource appended to a shows in b.
func sameLogs(a, b plog.Logs) bool {
	n := b.ResourceLogs().Len()
	a.ResourceLogs().AppendEmpty()
	return b.ResourceLogs().Len() == n+1
}

// failOn passes every group to sink but fails the groups in fail.
type failOn struct {
	sink  *consumertest.LogsSink
	fail  map[string]error
	calls []string
}

func (f *failOn) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (f *failOn) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	g := client.FromContext(ctx).Metadata.Get(DefaultMetadataKey)[0]
	f.calls = append(f.calls, g)
	if err := f.fail[g]; err != nil {
		return err
	}
	return f.sink.ConsumeLogs(ctx, ld)
}

func TestDownstreamErrors(t *testing.T) {
	// Group sizes in mixedBatch: 0:1 3:2 6:2 8:2 16:2 17:3 (12).
	t.Run("retryable stops", func(t *testing.T) {
		down := errors.New("kafka: not enough replicas")
		f := &failOn{sink: new(consumertest.LogsSink), fail: map[string]error{"8": down}}
		err := newTestProcessor(t, 64, f).ConsumeLogs(context.Background(), mixedBatch())
		require.ErrorIs(t, err, down)
		assert.False(t, consumererror.IsPermanent(err), "the client must retry")
		assert.Equal(t, "userkey: key group 8 (2 records) failed after 5 of 12 records were passed on: kafka: not enough replicas", err.Error())
		assert.Equal(t, []string{"0", "3", "6", "8"}, f.calls, "no group after a retryable failure")
		assert.Equal(t, 5, f.sink.LogRecordCount())
	})
	t.Run("permanent refuses one group", func(t *testing.T) {
		down := consumererror.NewPermanent(errors.New("message too large"))
		f := &failOn{sink: new(consumertest.LogsSink), fail: map[string]error{"16": down}}
		err := newTestProcessor(t, 64, f).ConsumeLogs(context.Background(), mixedBatch())
		require.ErrorIs(t, err, down)
		assert.True(t, consumererror.IsPermanent(err))
		assert.Contains(t, err.Error(), "userkey: key groups [16] refused 2 of 12 records, 10 were passed on: ")
		assert.Contains(t, err.Error(), "message too large")
		assert.Equal(t, []string{"0", "3", "6", "8", "16", "17"}, f.calls, "the other groups are still passed on")
		assert.Equal(t, 10, f.sink.LogRecordCount())
	})
	t.Run("retryable after permanent stays retryable", func(t *testing.T) {
		perm := consumererror.NewPermanent(errors.New("message too large"))
		down := errors.New("broker down")
		f := &failOn{sink: new(consumertest.LogsSink), fail: map[string]error{"3": perm, "16": down}}
		err := newTestProcessor(t, 64, f).ConsumeLogs(context.Background(), mixedBatch())
		require.ErrorIs(t, err, down)
		assert.False(t, consumererror.IsPermanent(err), "a retry re-sends the groups that failed for a transient reason")
		assert.Contains(t, err.Error(), "key group 16 (2 records) failed after 5 of 12 records were passed on (groups [3] refused permanently: Permanent error: message too large)")
	})
	t.Run("single group error is passed as it is", func(t *testing.T) {
		down := errors.New("broker down")
		ld := newBatch().add("web", schema.EventAnalytics, map[string]any{"user.id": "u-1"}).ld
		err := newTestProcessor(t, 64, consumertest.NewErr(down)).ConsumeLogs(context.Background(), ld)
		assert.Equal(t, down, err)
	})
}

// TestRandomBatches: whatever the shape of a batch, the multiset of
// records (with their resource and scope) out equals the multiset in, each
// part holds only records of its own group, and groups come in ascending
// order, each once.
func TestRandomBatches(t *testing.T) {
	for seed := range uint64(300) {
		rng := rand.New(rand.NewPCG(seed, 17))
		keys := 1 + rng.IntN(100)
		ld := randomBatch(rng)
		want := fingerprints(ld)
		total := ld.LogRecordCount()

		sink := new(consumertest.LogsSink)
		p := newTestProcessor(t, keys, sink)
		require.NoError(t, p.ConsumeLogs(context.Background(), ld))

		got := map[string]int{}
		last := -1
		for i, part := range sink.AllLogs() {
			g, err := strconv.Atoi(client.FromContext(sink.Contexts()[i]).Metadata.Get(DefaultMetadataKey)[0])
			require.NoError(t, err)
			require.Greater(t, g, last, "seed %d: groups ascending and distinct", seed)
			last = g
			for _, rl := range part.ResourceLogs().All() {
				for _, sl := range rl.ScopeLogs().All() {
					for _, lr := range sl.LogRecords().All() {
						require.Equal(t, g, int(recordGroup(lr, keys)), "seed %d: a record in another group's part", seed)
					}
				}
			}
			for k, n := range fingerprints(part) {
				got[k] += n
			}
		}
		require.Equal(t, want, got, "seed %d: records out = records in", seed)
		require.Equal(t, total, sink.LogRecordCount(), "seed %d", seed)
	}
}

func randomBatch(rng *rand.Rand) plog.Logs {
	ld := plog.NewLogs()
	pick := func(prefix string, n int) string { return fmt.Sprintf("%s-%d", prefix, rng.IntN(n)) }
	seq := 0
	for r := range rng.IntN(4) {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr(schema.ResourcePlatform, fmt.Sprintf("platform-%d", r))
		rl.SetSchemaUrl(fmt.Sprintf("schema-%d", r))
		for s := range rng.IntN(4) {
			sl := rl.ScopeLogs().AppendEmpty()
			sl.Scope().SetName(fmt.Sprintf("scope-%d-%d", r, s))
			sl.Scope().SetVersion("v1")
			sl.SetSchemaUrl(fmt.Sprintf("scope-schema-%d", s))
			// Some scopes are all one user (moved whole), most are mixed.
			onlyUser := ""
			if rng.IntN(3) == 0 {
				onlyUser = pick("u", 20)
			}
			for range rng.IntN(30) {
				lr := sl.LogRecords().AppendEmpty()
				lr.SetEventName(schema.EventAnalytics)
				attrs := lr.Attributes()
				attrs.PutInt("seq", int64(seq))
				seq++
				switch {
				case onlyUser != "":
					attrs.PutStr(schema.AttrUserID, onlyUser)
				default:
					if rng.IntN(4) == 0 {
						lr.SetEventName([]string{schema.EventRecommendation, schema.EventRecommendationResponse}[rng.IntN(2)])
						attrs.PutStr(schema.AttrRecommendationID, pick("rec", 10))
					}
					if rng.IntN(2) == 0 {
						attrs.PutStr(schema.AttrUserID, pick("u", 20))
					}
					if rng.IntN(2) == 0 {
						attrs.PutStr(schema.AttrDeviceID, pick("d", 20))
					}
					if rng.IntN(2) == 0 {
						attrs.PutStr(schema.AttrSessionID, pick("s", 20))
					}
				}
			}
		}
	}
	return ld
}

// fingerprints counts each record with the resource and scope it is under.
func fingerprints(ld plog.Logs) map[string]int {
	out := map[string]int{}
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				k := fmt.Sprint(rl.Resource().Attributes().AsRaw(), rl.SchemaUrl(), sl.Scope().Name(), sl.Scope().Version(),
					sl.SchemaUrl(), lr.EventName(), lr.Attributes().AsRaw())
				out[k]++
			}
		}
	}
	return out
}
