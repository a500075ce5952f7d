package partstate

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/pulse-otel/pulse/internal/testutil"
	"github.com/pulse-otel/pulse/internal/testutil/kafkatest"
)

var topicSeq atomic.Int64

// kafkaBackend opens owners on one broker and one fresh pair of topics.
type kafkaBackend struct {
	cfg    KafkaConfig
	logger *zap.Logger
}

func newKafkaBackend(t *testing.T, addr string) *kafkaBackend {
	t.Helper()
	topic := fmt.Sprintf("state-%d", topicSeq.Add(1))
	return &kafkaBackend{cfg: KafkaConfig{Brokers: []string{addr}, Topic: topic, Partitions: 3, StartTimeout: 20 * time.Second},
		logger: zaptest.NewLogger(t, zaptest.Level(zapcore.WarnLevel))}
}

func (b *kafkaBackend) open(t *testing.T) Store {
	t.Helper()
	s, err := NewKafka(context.Background(), b.cfg, b.logger)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestKafkaConformance(t *testing.T) {
	broker := kafkatest.Start(t, 3)
	testConformance(t, func(t *testing.T) backend {
		t.Helper()
		return newKafkaBackend(t, broker.Addr)
	})
}

func TestKafkaCreatesTopics(t *testing.T) {
	broker := kafkatest.Start(t, 3)
	b := newKafkaBackend(t, broker.Addr)
	b.cfg.Partitions = 4
	s := b.open(t)
	cl, err := rawClient(broker.Addr)
	require.NoError(t, err)
	defer cl.Close()
	adm := kadm.NewClient(cl)
	details, err := adm.ListTopics(context.Background(), b.cfg.Topic, b.cfg.Topic+"-chunks")
	require.NoError(t, err)
	for _, topic := range []string{b.cfg.Topic, b.cfg.Topic + "-chunks"} {
		require.True(t, details.Has(topic), "topic %s created", topic)
		assert.Len(t, details[topic].Partitions, 4, topic)
	}
	configs, err := adm.DescribeTopicConfigs(context.Background(), b.cfg.Topic)
	require.NoError(t, err)
	rc, err := configs.On(b.cfg.Topic, nil)
	require.NoError(t, err)
	var policy string
	for _, c := range rc.Configs {
		if c.Key == "cleanup.policy" && c.Value != nil {
			policy = *c.Value
		}
	}
	assert.Equal(t, "compact", policy)
	// And it works on them.
	_, e, err := s.Claim(context.Background(), 9)
	require.NoError(t, err)
	require.NoError(t, s.Save(context.Background(), 9, e, []byte("x")))
}

func TestKafkaStartTimeout(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		dead := testutil.FreeAddr(t)
		start := time.Now()
		_, err := NewKafka(context.Background(), KafkaConfig{Brokers: []string{dead}, StartTimeout: time.Second}, zap.NewNop())
		require.Error(t, err)
		assert.Less(t, time.Since(start), 10*time.Second, "bounded by StartTimeout")
		assert.Contains(t, err.Error(), DefaultTopic)
		assert.Contains(t, err.Error(), dead)
	})
	t.Run("silent", func(t *testing.T) {
		// A listener that accepts and never answers: only the timeout
		// ends NewKafka.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		var wg sync.WaitGroup
		var conns []net.Conn
		var mu sync.Mutex
		wg.Go(func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}
		})
		defer func() {
			_ = ln.Close()
			wg.Wait()
			for _, c := range conns {
				_ = c.Close()
			}
		}()
		start := time.Now()
		_, err = NewKafka(context.Background(), KafkaConfig{Brokers: []string{ln.Addr().String()}, Topic: "t", StartTimeout: time.Second}, zap.NewNop())
		require.Error(t, err)
		took := time.Since(start)
		assert.GreaterOrEqual(t, took, 900*time.Millisecond, "it waited for the broker")
		assert.Less(t, took, 10*time.Second, "bounded by StartTimeout")
		assert.Contains(t, err.Error(), `topic "t"`)
	})
}

func TestKafkaConfigErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  KafkaConfig
		want string
	}{
		{KafkaConfig{}, "brokers"},
		{KafkaConfig{Brokers: []string{"x:1"}, ChunkBytes: 2 << 20}, "chunk_bytes 2097152"},
		{KafkaConfig{Brokers: []string{"x:1"}, ChunkBytes: -1}, "chunk_bytes -1"},
		{KafkaConfig{Brokers: []string{"x:1"}, Topic: "a", ChunkTopic: "a"}, `chunk_topic "a"`},
		{KafkaConfig{Brokers: []string{"x:1"}, StartTimeout: -time.Second}, "start_timeout -1s"},
		{KafkaConfig{Brokers: []string{"x:1"}, Partitions: -2}, "partitions -2"},
	} {
		_, err := NewKafka(context.Background(), c.cfg, nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), c.want)
	}
}

// TestKafkaBadPointer writes pointers whose chunks are missing or do not
// match straight into the topics: Claim must say precisely why it rejects
// each and restore the previous valid snapshot.
func TestKafkaBadPointer(t *testing.T) {
	broker := kafkatest.Start(t, 3)
	ctx := context.Background()
	for _, c := range []struct {
		name string
		bad  func(t *testing.T, pt pointer, raw *kgo.Client, chunkTopic string) pointer
		want string
	}{
		{"crc", func(_ *testing.T, pt pointer, _ *kgo.Client, _ string) pointer {
			pt.crc ^= 1
			return pt
		}, "crc32c"},
		{"size", func(_ *testing.T, pt pointer, _ *kgo.Client, _ string) pointer {
			pt.total++
			return pt
		}, "pointer says"},
		{"garbage chunk", func(t *testing.T, pt pointer, raw *kgo.Client, chunkTopic string) pointer {
			t.Helper()
			rec := &kgo.Record{Topic: chunkTopic, Partition: pt.cpart, Key: chunkKey(pt.p, pt.slot, 0), Value: []byte("not a chunk")}
			require.NoError(t, raw.ProduceSync(ctx, rec).FirstErr())
			pt.first, pt.last, pt.n, pt.seq = rec.Offset, rec.Offset, 1, pt.seq+1
			return pt
		}, "chunk 0 of 1 missing"},
		{"beyond the log", func(_ *testing.T, pt pointer, _ *kgo.Client, _ string) pointer {
			pt.first, pt.last = pt.last+100, pt.last+100+int64(pt.n)
			return pt
		}, "outside the log"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := newKafkaBackend(t, broker.Addr)
			core, logs := observer.New(zapcore.WarnLevel)
			b.logger = zap.New(core)
			a := b.open(t)
			const p = 2
			_, e, err := a.Claim(ctx, p)
			require.NoError(t, err)
			require.NoError(t, a.Save(ctx, p, e, []byte("good")))
			ks := a.(*kafkaStore)
			v := ks.tail.view(p)
			require.Len(t, v.ptrs, 1)

			raw, err := rawClient(broker.Addr)
			require.NoError(t, err)
			defer raw.Close()
			bad := c.bad(t, v.ptrs[0], raw, ks.cfg.ChunkTopic)
			bad.slot = 1 - bad.slot
			rec := &kgo.Record{Topic: ks.cfg.Topic, Partition: ks.ctlPartition(p), Key: pointerKey(p, bad.slot), Value: encodePointer(bad)}
			require.NoError(t, raw.ProduceSync(ctx, rec).FirstErr())

			o := b.open(t)
			state, _, err := o.Claim(ctx, p)
			require.NoError(t, err)
			assert.Equal(t, "good", string(state), "falls back to the previous valid snapshot")
			rejected := logs.FilterMessage("snapshot rejected").All()
			require.Len(t, rejected, 1)
			msg := rejected[0].ContextMap()["error"].(string)
			assert.Contains(t, msg, c.want)
			assert.Contains(t, msg, fmt.Sprintf("partition %d epoch %d", p, e))
			assert.Contains(t, msg, fmt.Sprintf("offset %d", rec.Offset), "names the bad pointer")
			assert.NotContains(t, msg, "good", "no state bytes in logs")
		})
	}

	t.Run("none readable", func(t *testing.T) {
		b := newKafkaBackend(t, broker.Addr)
		b.logger = zap.NewNop()
		a := b.open(t)
		_, e, err := a.Claim(ctx, 0)
		require.NoError(t, err)
		ks := a.(*kafkaStore)
		raw, err := rawClient(broker.Addr)
		require.NoError(t, err)
		defer raw.Close()
		bad := pointer{ident: ident{p: 0, epoch: e, owner: ks.owner}, seq: 1, first: 50, last: 50, n: 1, total: 3}
		rec := &kgo.Record{Topic: ks.cfg.Topic, Partition: ks.ctlPartition(0), Key: pointerKey(0, 0), Value: encodePointer(bad)}
		require.NoError(t, raw.ProduceSync(ctx, rec).FirstErr())
		state, e2, err := b.open(t).Claim(ctx, 0)
		require.ErrorIs(t, err, ErrUnreadable)
		assert.Nil(t, state)
		assert.Greater(t, e2, e, "the claim itself stands")
	})
}

// TestKafkaStalePointer: a pointer written by an owner after another
// owner's claim is ignored by everyone, and that owner's Save says ErrLost.
func TestKafkaStalePointer(t *testing.T) {
	broker := kafkatest.Start(t, 1)
	ctx := context.Background()
	b := newKafkaBackend(t, broker.Addr)
	a, o := b.open(t), b.open(t)
	_, ea, err := a.Claim(ctx, 1)
	require.NoError(t, err)
	require.NoError(t, a.Save(ctx, 1, ea, []byte("a1")))
	ka := a.(*kafkaStore)
	// B claims; A's Save races it without having seen the claim yet:
	// write A's pointer by hand, as a slow A would.
	_, _, err = o.Claim(ctx, 1)
	require.NoError(t, err)
	raw, err := rawClient(broker.Addr)
	require.NoError(t, err)
	defer raw.Close()
	pt := ka.tail.view(1).ptrs[0]
	pt.seq++
	pt.slot = 1 - pt.slot
	rec := &kgo.Record{Topic: ka.cfg.Topic, Partition: ka.ctlPartition(1), Key: pointerKey(1, pt.slot), Value: encodePointer(pt)}
	require.NoError(t, raw.ProduceSync(ctx, rec).FirstErr())
	require.NoError(t, ka.tail.waitPast(ctx, rec.Partition, rec.Offset))
	assert.Len(t, ka.tail.view(1).ptrs, 1, "the stale pointer is not a snapshot")
	require.ErrorIs(t, a.Save(ctx, 1, ea, []byte("a2")), ErrLost)
	state, _, err := b.open(t).Claim(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, "a1", string(state))
}

// rawClient writes records straight into the store's topics.
func rawClient(addr string) (*kgo.Client, error) {
	return kgo.NewClient(append(clientOpts(KafkaConfig{Brokers: []string{addr}}, "test"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(0))...)
}

// TestKafkaClaimDuringSave: another owner claims after Save's first Lost
// check but before its pointer; Save must still answer ErrLost, and the
// snapshot must not count for anyone.
func TestKafkaClaimDuringSave(t *testing.T) {
	broker := kafkatest.Start(t, 2)
	ctx := context.Background()
	b := newKafkaBackend(t, broker.Addr)
	a, o := b.open(t), b.open(t)
	_, ea, err := a.Claim(ctx, 4)
	require.NoError(t, err)
	require.NoError(t, a.Save(ctx, 4, ea, []byte("a1")))
	var eo uint64
	a.(*kafkaStore).beforePointer = func() {
		_, eo, err = o.Claim(ctx, 4)
		require.NoError(t, err)
	}
	require.ErrorIs(t, a.Save(ctx, 4, ea, []byte("a2")), ErrLost)
	a.(*kafkaStore).beforePointer = nil
	assert.True(t, a.Lost(4, ea))
	state, _, err := b.open(t).Claim(ctx, 4)
	require.NoError(t, err)
	assert.Equal(t, "a1", string(state), "a2 never became a snapshot")
	require.ErrorIs(t, o.Save(ctx, 4, eo, []byte("o1")), ErrLost, "the fresh owner took it from o")
}

// TestKafkaMisplacedRecord: a record off its p % n partition (the topic's
// partition count changed) is reported.
func TestKafkaMisplacedRecord(t *testing.T) {
	broker := kafkatest.Start(t, 2)
	ctx := context.Background()
	b := newKafkaBackend(t, broker.Addr)
	core, logs := observer.New(zapcore.WarnLevel)
	b.logger = zap.New(core)
	a := b.open(t)
	ks := a.(*kafkaStore)
	raw, err := rawClient(broker.Addr)
	require.NoError(t, err)
	defer raw.Close()
	const p = 1
	rec := &kgo.Record{Topic: ks.cfg.Topic, Partition: (ks.ctlPartition(p) + 1) % ks.ctlN, Key: claimKey(p, owner{7}), Value: encodeClaim(ident{p: p, epoch: 1, owner: owner{7}})}
	require.NoError(t, raw.ProduceSync(ctx, rec).FirstErr())
	require.NoError(t, ks.tail.waitPast(ctx, rec.Partition, rec.Offset))
	got := logs.FilterMessageSnippet("partition count changed").All()
	require.Len(t, got, 1)
	assert.Equal(t, ks.ctlPartition(p), got[0].ContextMap()["expected_partition"])
}
