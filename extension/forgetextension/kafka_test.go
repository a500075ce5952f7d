package forgetextension

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"

	"github.com/pulse-otel/pulse/internal/testutil/kafkatest"
)

const testTopic = "pulse-forget-test"

// syncConfig points the extension at the broker.
func syncConfig(addr string) func(*Config) {
	return func(c *Config) {
		c.Sync.Kafka = configoptional.Some(KafkaConfig{
			Brokers:        []string{addr},
			Topic:          testTopic,
			StartTimeout:   20 * time.Second,
			PublishTimeout: 2 * time.Second,
		})
	}
}

// gateway starts a forget extension synced through the broker at addr,
// with the storage extension given (none when nil).
func gateway(t *testing.T, addr string, st component.Component) *harness {
	t.Helper()
	s := setup{cfg: syncConfig(addr)}
	if st != nil {
		s.host = newHost(map[component.ID]component.Component{memStorageID: st})
		s.cfg = func(c *Config) {
			syncConfig(addr)(c)
			c.Storage = &memStorageID
		}
	}
	return start(t, s)
}

var memStorageID = component.MustNewIDWithName("memstorage", "forget")

// kafkaClient is a plain client of the broker for the test's own reads and
// writes of the topic.
func kafkaClient(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	versions := kversion.Tip()
	versions.SetMaxKeyVersion(18, 4) // as newKafkaSync does
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.MaxVersions(versions)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(cl.Close)
	return cl
}

// createTopic makes the sync topic compacted with several partitions, as
// an operator would.
func createTopic(t *testing.T, addr string, partitions int32) {
	t.Helper()
	compact := "compact"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(kafkaClient(t, addr)).CreateTopic(ctx, partitions, -1, map[string]*string{"cleanup.policy": &compact}, testTopic)
	require.NoError(t, err)
	require.NoError(t, resp.Err)
}

// readTopic returns every record of the topic up to its current end.
func readTopic(t *testing.T, addr string) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(kafkaClient(t, addr)).ListEndOffsets(ctx, testTopic)
	require.NoError(t, err)
	want := int64(0)
	ends.Each(func(o kadm.ListedOffset) { want += o.Offset })
	cl := kafkaClient(t, addr, kgo.ConsumeTopics(testTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var recs []*kgo.Record
	for int64(len(recs)) < want {
		fs := cl.PollFetches(ctx)
		require.NoError(t, ctx.Err(), "read %d of %d records", len(recs), want)
		recs = append(recs, fs.Records()...)
	}
	return recs
}

// produce writes raw records to the topic.
func produce(t *testing.T, addr string, recs ...*kgo.Record) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, r := range recs {
		r.Topic = testTopic
	}
	require.NoError(t, kafkaClient(t, addr).ProduceSync(ctx, recs...).FirstErr())
}

// waitForgotten polls until h forgets userID, at most 10 s, and returns how
// long it took.
func waitForgotten(t *testing.T, h *harness, userID string, since time.Time) time.Duration {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !h.ext.Forgotten(userID) {
		require.True(t, time.Now().Before(deadline), "the request did not reach the other gateway within 10s")
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(since)
}

// TestSyncTwoGateways: a request accepted by one gateway is in force on
// the other, with the same audit record, and on a gateway started later
// with no storage of its own as soon as Start returned.
func TestSyncTwoGateways(t *testing.T) {
	broker := kafkatest.Start(t, 1)
	createTopic(t, broker.Addr, 3)
	a := gateway(t, broker.Addr, nil)
	b := gateway(t, broker.Addr, nil)

	users := []string{"u-1", "u-2", "u-3", "u-4", "u-5", "u-6"}
	var worst time.Duration
	ids := map[string]string{}
	for _, u := range users {
		sent := time.Now()
		r := forgetUser(t, a.url, u)
		require.Equal(t, http.StatusAccepted, r.status, r.raw)
		assert.True(t, a.ext.Forgotten(u), "in force on the accepting gateway when it answers")
		ids[u] = r.str(t, "requestId")
		latency := waitForgotten(t, b, u, sent)
		t.Logf("%s: forgotten at B %v after A was sent the request", u, latency)
		worst = max(worst, latency)
	}
	t.Logf("worst latency from the POST at A to Forgotten at B: %v (requirement: 1s)", worst)
	assert.False(t, b.ext.Forgotten("u-7"))

	// B holds A's audit records; a repeat at B answers A's.
	rec := get(t, b.url+basePath+"/"+ids["u-1"])
	require.Equal(t, http.StatusOK, rec.status, rec.raw)
	again := forgetUser(t, b.url, "u-1")
	require.Equal(t, http.StatusOK, again.status, again.raw)
	assert.Equal(t, ids["u-1"], again.str(t, "requestId"))
	assert.JSONEq(t, `{"count":6}`, get(t, b.url+basePath).raw)

	// A request at B reaches A.
	r := forgetUser(t, b.url, "u-8")
	require.Equal(t, http.StatusAccepted, r.status, r.raw)
	waitForgotten(t, a, "u-8", time.Now())

	// One record per request in the topic, keyed by the subject.
	recs := readTopic(t, broker.Addr)
	assert.Len(t, recs, 7)
	partitions := map[int32]bool{}
	for _, kr := range recs {
		partitions[kr.Partition] = true
	}
	assert.Greater(t, len(partitions), 1, "the records are spread over the partitions (the test reads several)")

	// A restarted gateway without storage knows them all when Start returns.
	require.NoError(t, b.ext.Shutdown(context.Background()))
	c := gateway(t, broker.Addr, nil)
	for _, u := range append(users, "u-8") {
		assert.True(t, c.ext.Forgotten(u), "%s forgotten right after Start", u)
	}
	assert.False(t, c.ext.Forgotten("u-7"))
	rec = get(t, c.url+basePath+"/"+ids["u-3"])
	require.Equal(t, http.StatusOK, rec.status, rec.raw)
}

// TestSyncCreatesCompactedTopic: without a topic, the first gateway makes
// one that compaction keeps forever.
func TestSyncCreatesCompactedTopic(t *testing.T) {
	broker := kafkatest.Start(t, 1)
	a := gateway(t, broker.Addr, nil)
	require.Equal(t, http.StatusAccepted, forgetUser(t, a.url, "u-1").status)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rcs, err := kadm.NewClient(kafkaClient(t, broker.Addr)).DescribeTopicConfigs(ctx, testTopic)
	require.NoError(t, err)
	rc, err := rcs.On(testTopic, nil)
	require.NoError(t, err)
	require.NoError(t, rc.Err)
	policy := ""
	for _, c := range rc.Configs {
		if c.Key == "cleanup.policy" && c.Value != nil {
			policy = *c.Value
		}
	}
	assert.Equal(t, "compact", policy)
	assert.Equal(t, 1, a.logs.FilterMessageSnippet("Created the forget sync topic").Len())
}

// TestSyncRefusesDeletePolicy: a topic that deletes records after its
// retention would forget requests; Start says so and does not start.
func TestSyncRefusesDeletePolicy(t *testing.T) {
	broker := kafkatest.Start(t, 1, testTopic) // created with the broker's defaults: delete
	cfg := testConfig(t)
	syncConfig(broker.Addr)(cfg)
	ext, _ := newForget(t, cfg)
	err := ext.Start(context.Background(), newHost(nil))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `sync.kafka: topic "`+testTopic+`" has cleanup.policy="delete"`)
	assert.Contains(t, err.Error(), "set cleanup.policy=compact")
	require.NoError(t, ext.Shutdown(context.Background()))
}

// TestSyncKafkaDown: with the brokers gone, a request is answered 503 and
// is nowhere: not in force, not counted, not in the local storage.
func TestSyncKafkaDown(t *testing.T) {
	broker := kafkatest.Start(t, 1)
	st := newMemStorage()
	a := gateway(t, broker.Addr, st)
	require.Equal(t, http.StatusAccepted, forgetUser(t, a.url, "u-1").status)
	before := st.snapshot()
	broker.Stop()

	r := forgetUser(t, a.url, "u-2")
	require.Equal(t, http.StatusServiceUnavailable, r.status, r.raw)
	assert.Equal(t, "5", r.header.Get("Retry-After"))
	assert.Contains(t, r.str(t, "error"), "could not be written to Kafka and was not recorded")
	assert.False(t, a.ext.Forgotten("u-2"))
	assert.True(t, a.ext.Forgotten("u-1"))
	assert.JSONEq(t, `{"count":1}`, get(t, a.url+basePath).raw)
	assert.Equal(t, before, st.snapshot(), "nothing was stored")
	logged := a.logs.FilterMessageSnippet("Could not record a forget request; answered 503").All()
	require.Len(t, logged, 1)
	assert.Contains(t, logged[0].ContextMap()["error"], testTopic)

	done := make(chan error, 1)
	go func() { done <- a.ext.Shutdown(context.Background()) }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("Shutdown did not return within 20s with the brokers gone")
	}
}

// TestSyncStartTimeout: without reachable brokers Start fails within
// start_timeout, naming the topic.
func TestSyncStartTimeout(t *testing.T) {
	cfg := testConfig(t)
	syncConfig(freeEndpoint(t))(cfg)
	cfg.Sync.Kafka.Get().StartTimeout = time.Second
	ext, _ := newForget(t, cfg)
	began := time.Now()
	err := ext.Start(context.Background(), newHost(nil))
	require.Error(t, err)
	t.Log(err)
	assert.Contains(t, err.Error(), `topic "`+testTopic+`"`)
	assert.Less(t, time.Since(began), 15*time.Second, "bounded by start_timeout")
	require.NoError(t, ext.Shutdown(context.Background()))
}

// TestSyncRefusesForeignRecords: records made with another key, tombstones
// and malformed records are not applied, at start or while tailing, and are
// logged by position without their content; a good one next to them is.
func TestSyncRefusesForeignRecords(t *testing.T) {
	const user = "grace.hopper@example.com"
	broker := kafkatest.Start(t, 1)
	createTopic(t, broker.Addr, 1)
	other := keyCheck([]byte("another-key-0123456789abcdef0123456789"))
	h := newHasher([]byte(testKey))
	foreign := func(u string) *kgo.Record {
		r := record{subject: h.subject(u), receivedAt: time.Unix(1_700_000_000, 0).UTC()}
		key, value := encodeTopicRecord(&r, other)
		return &kgo.Record{Key: key, Value: value}
	}
	good := func(u string) *kgo.Record {
		r := record{subject: h.subject(u), receivedAt: time.Unix(1_700_000_000, 0).UTC(), id: requestID{1, 2, 3}}
		key, value := encodeTopicRecord(&r, keyCheck([]byte(testKey)))
		return &kgo.Record{Key: key, Value: value}
	}
	produce(t, broker.Addr,
		foreign(user),
		&kgo.Record{Key: good("tomb").Key}, // tombstone
		&kgo.Record{Key: []byte(user), Value: []byte(`{"userId":"` + user + `"}`)},
		good("u-ok"),
	)

	b := gateway(t, broker.Addr, nil)
	assert.False(t, b.ext.Forgotten(user), "a record made with another key is not applied")
	assert.True(t, b.ext.Forgotten("u-ok"), "a good record next to the refused ones is applied")
	rec := get(t, b.url+basePath+"/"+requestID{1, 2, 3}.String())
	require.Equal(t, http.StatusOK, rec.status, rec.raw)
	assert.Equal(t, "2023-11-14T22:13:20Z", rec.str(t, "receivedAt"))

	// While tailing.
	produce(t, broker.Addr, foreign("u-later"), good("u-later-ok"))
	waitForgotten(t, b, "u-later-ok", time.Now())
	assert.False(t, b.ext.Forgotten("u-later"))

	refused := b.logs.FilterMessageSnippet("Refused a record of the forget sync topic").All()
	require.Len(t, refused, 2)
	ctx := refused[0].ContextMap()
	assert.Contains(t, ctx["error"], "made with a different forget key (keyCheck mismatch)")
	assert.Equal(t, testTopic, ctx["topic"])
	assert.Equal(t, int64(0), ctx["offset"])
	assert.Equal(t, h.subject(user).prefix(), ctx["subject"])
	assert.Equal(t, 1, b.logs.FilterMessageSnippet("Ignored a record of the forget sync topic").Len(), "the tombstone")
	malformed := b.logs.FilterMessageSnippet("Refused a malformed record").All()
	require.Len(t, malformed, 1)
	assert.Contains(t, malformed[0].ContextMap()["error"], "key: must be 64 hex digits, got 24 bytes")
	for _, e := range b.logs.All() {
		text := e.Message + " " + fmt.Sprint(e.ContextMap())
		assert.NotContains(t, text, "grace.hopper", e.Message)
	}
}

// TestSyncPublishesLocalRecords: requests a gateway stored before sync was
// configured reach the topic at its first synced start, and requests read
// from the topic are stored locally.
func TestSyncPublishesLocalRecords(t *testing.T) {
	broker := kafkatest.Start(t, 1)
	st := newMemStorage()
	alone := start(t, setup{
		host: newHost(map[component.ID]component.Component{memStorageID: st}),
		cfg:  func(c *Config) { c.Storage = &memStorageID },
	})
	require.Equal(t, http.StatusAccepted, forgetUser(t, alone.url, "u-old").status)
	require.NoError(t, alone.ext.Shutdown(context.Background()))

	a := gateway(t, broker.Addr, st)
	assert.Equal(t, 1, a.logs.FilterMessageSnippet("Published the local storage's forget requests").Len())
	b := gateway(t, broker.Addr, nil)
	assert.True(t, b.ext.Forgotten("u-old"), "the stored request reached the topic")

	require.Equal(t, http.StatusAccepted, forgetUser(t, b.url, "u-new").status)
	waitForgotten(t, a, "u-new", time.Now())
	require.NoError(t, a.ext.Shutdown(context.Background()))
	broker.Stop()

	// Without sync, the local storage alone knows both.
	again := start(t, setup{
		host: newHost(map[component.ID]component.Component{memStorageID: st}),
		cfg:  func(c *Config) { c.Storage = &memStorageID },
	})
	assert.True(t, again.ext.Forgotten("u-old"))
	assert.True(t, again.ext.Forgotten("u-new"), "a request read from the topic was stored locally")
}

// TestSyncStartReadsManyRecords: a topic of several partitions and many
// fetch batches (duplicates included, as before compaction) is read whole
// before Start returns.
func TestSyncStartReadsManyRecords(t *testing.T) {
	const n = 3000
	broker := kafkatest.Start(t, 1)
	createTopic(t, broker.Addr, 3)
	h := newHasher([]byte(testKey))
	check := keyCheck([]byte(testKey))
	recs := make([]*kgo.Record, 0, n+10)
	for i := range n + 10 {
		r := record{subject: h.subject(fmt.Sprint("user-", i%n)), id: requestID{byte(i), byte(i >> 8)}, receivedAt: time.Unix(1_700_000_000, 0).UTC()}
		key, value := encodeTopicRecord(&r, check)
		recs = append(recs, &kgo.Record{Key: key, Value: value})
	}
	produce(t, broker.Addr, recs...)

	st := newMemStorage()
	g := gateway(t, broker.Addr, st)
	for i := range n {
		require.True(t, g.ext.Forgotten(fmt.Sprint("user-", i)), "user-%d forgotten right after Start", i)
	}
	assert.Equal(t, n, g.ext.count())
	assert.Zero(t, g.logs.FilterMessageSnippet("Published the local storage's").Len(), "nothing local was missing")
	require.NoError(t, g.ext.Shutdown(context.Background()))
	local := start(t, setup{
		host: newHost(map[component.ID]component.Component{memStorageID: st}),
		cfg:  func(c *Config) { c.Storage = &memStorageID },
	})
	assert.Equal(t, n, local.ext.count(), "all stored locally")
}

func TestDescribeBehind(t *testing.T) {
	assert.Equal(t, "partition 0 not yet read up to offset 7, partition 2 not yet read up to offset 3",
		describeBehind(map[int32]int64{2: 3, 0: 7}))
}
