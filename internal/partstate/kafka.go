package partstate

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"hash/crc32"
	mrand "math/rand/v2"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"
	"go.uber.org/zap"
)

const (
	// DefaultTopic is the control topic's name when KafkaConfig.Topic is empty.
	DefaultTopic = "pulse-aggregator-state"
	// DefaultChunkBytes cuts snapshots into records well under Kafka's
	// default 1 MiB max.message.bytes.
	DefaultChunkBytes = 512 << 10
	// DefaultStartTimeout bounds NewKafka.
	DefaultStartTimeout = 30 * time.Second

	// maxChunkBytes keeps a chunk record (value header and key included)
	// under both kgo's default 1,000,012-byte batch limit and the broker's
	// default max.message.bytes.
	maxChunkBytes = 960 << 10
	// keptPointers is how many valid snapshots per partition the tailer
	// remembers, newest last, so that Claim falls back when the newest
	// cannot be read.
	keptPointers = 3
	// claimAttempts bounds Claim's retries when other owners' claims race
	// with its own.
	claimAttempts = 8
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// KafkaConfig configures NewKafka.
type KafkaConfig struct {
	// Brokers are the seed brokers, host:port.
	Brokers []string
	// Topic holds claims and snapshot pointers (small records every
	// process reads); default pulse-aggregator-state.
	Topic string
	// ChunkTopic holds the snapshots' bytes, read only by a claiming
	// process; default Topic + "-chunks".
	ChunkTopic string
	// Partitions is used only when NewKafka creates a missing topic;
	// 0 leaves it to the broker's num.partitions. Never change the
	// control topic's partition count afterwards (see the package doc).
	Partitions int32
	// ClientID is the Kafka client id (default pulse-partstate).
	ClientID string
	// ChunkBytes is the most snapshot bytes per chunk record; default
	// 512 KiB, at most 960 KiB.
	ChunkBytes int
	// StartTimeout bounds NewKafka: connecting, creating topics and
	// reading every earlier claim; default 30s.
	StartTimeout time.Duration
}

func (c *KafkaConfig) setDefaults() error {
	if len(c.Brokers) == 0 {
		return errors.New("partstate: brokers: at least one host:port is required")
	}
	if c.Topic == "" {
		c.Topic = DefaultTopic
	}
	if c.ChunkTopic == "" {
		c.ChunkTopic = c.Topic + "-chunks"
	}
	if c.ChunkTopic == c.Topic {
		return fmt.Errorf("partstate: chunk_topic %q: must differ from topic", c.ChunkTopic)
	}
	if c.Partitions < 0 {
		return fmt.Errorf("partstate: partitions %d: must not be negative", c.Partitions)
	}
	if c.ClientID == "" {
		c.ClientID = "pulse-partstate"
	}
	if c.ChunkBytes == 0 {
		c.ChunkBytes = DefaultChunkBytes
	}
	if c.ChunkBytes < 1 || c.ChunkBytes > maxChunkBytes {
		return fmt.Errorf("partstate: chunk_bytes %d: must be between 1 and %d", c.ChunkBytes, maxChunkBytes)
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = DefaultStartTimeout
	}
	if c.StartTimeout < 0 {
		return fmt.Errorf("partstate: start_timeout %s: must be positive", c.StartTimeout)
	}
	return nil
}

// clientOpts are the options every client of the store starts with.
// ApiVersions is capped at v4: v5 (KIP-1242) names the expected cluster
// and node, which brokers that parse only v4 (kfake at the revision the
// tests pin) answer by closing the connection; v4 loses nothing here.
func clientOpts(cfg KafkaConfig, role string) []kgo.Opt {
	versions := kversion.Tip()
	versions.SetMaxKeyVersion(18, 4)
	return []kgo.Opt{kgo.SeedBrokers(cfg.Brokers...), kgo.ClientID(cfg.ClientID + role), kgo.MaxVersions(versions)}
}

// kafkaStore is the Store on Kafka; see the package doc for the design.
type kafkaStore struct {
	cfg         KafkaConfig
	logger      *zap.Logger
	owner       owner
	cl          *kgo.Client // producer and admin
	closeClient func()      // closes cl once
	adm         *kadm.Client
	ctlN        int32 // control topic partitions, fixed at start
	chunkN      int32

	tail       *tailer
	tailCancel context.CancelFunc
	tailDone   chan struct{}

	mu     sync.Mutex
	saving map[int32]*saveState
	closed bool

	beforePointer func() // tests: runs between a Save's chunks and its pointer
}

// saveState is what one owner remembers about its saves of a partition.
type saveState struct {
	mu sync.Mutex // one Save of a partition at a time
	// resync is set after a Save failed midway: its pointer may have been
	// written without our seeing the acknowledgement, so the next Save
	// first reads the control partition to its end before picking a slot.
	resync bool
}

// NewKafka connects to the brokers, creates the two topics if they are
// missing (compacted), and reads every claim and pointer already in the
// control topic before it returns, so that a Claim right after it sees
// them all.
func NewKafka(ctx context.Context, cfg KafkaConfig, logger *zap.Logger) (Store, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	s := &kafkaStore{cfg: cfg, logger: logger, saving: map[int32]*saveState{}}
	if _, err := rand.Read(s.owner[:]); err != nil {
		return nil, fmt.Errorf("partstate: owner id: %w", err)
	}
	startCtx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancel()
	var err error
	s.cl, err = kgo.NewClient(append(clientOpts(cfg, ""),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(0),
	)...)
	if err != nil {
		return nil, fmt.Errorf("partstate: kafka client for brokers %v: %w", cfg.Brokers, err)
	}
	s.closeClient = sync.OnceFunc(s.cl.Close)
	s.adm = kadm.NewClient(s.cl)
	// kgo does not end a connection's handshake when a request's context
	// ends: a broker that accepts and never answers would hold NewKafka
	// for kgo's own 10 s. Closing the client at the deadline ends it.
	stopWatch := context.AfterFunc(startCtx, s.closeClient)
	defer stopWatch()
	fail := func(err error) (Store, error) {
		s.closeClient()
		if startCtx.Err() != nil {
			err = fmt.Errorf("%w (start_timeout %s: %w)", err, cfg.StartTimeout, startCtx.Err())
		}
		return nil, err
	}
	if s.ctlN, err = s.ensureTopic(startCtx, cfg.Topic); err != nil {
		return fail(err)
	}
	if s.chunkN, err = s.ensureTopic(startCtx, cfg.ChunkTopic); err != nil {
		return fail(err)
	}
	s.tail, err = startTailer(cfg, logger, s.owner, s.ctlN)
	if err != nil {
		return fail(err)
	}
	tailCtx, tailCancel := context.WithCancel(context.Background())
	s.tailCancel, s.tailDone = tailCancel, make(chan struct{})
	go func() { defer close(s.tailDone); s.tail.run(tailCtx) }()
	if err := s.catchUp(startCtx, -1); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("partstate: reading topic %q to its end within start_timeout %s: %w", cfg.Topic, cfg.StartTimeout, err)
	}
	if !stopWatch() {
		_ = s.Close()
		return nil, fmt.Errorf("partstate: starting on topic %q: start_timeout %s passed", cfg.Topic, cfg.StartTimeout)
	}
	logger.Info("partition state store started", zap.String("topic", cfg.Topic), zap.String("chunk_topic", cfg.ChunkTopic),
		zap.Int32("partitions", s.ctlN), zap.Stringer("owner", s.owner))
	return s, nil
}

// ensureTopic returns topic's partition count, creating it compacted if
// it is missing.
func (s *kafkaStore) ensureTopic(ctx context.Context, topic string) (int32, error) {
	for attempt := 0; ; attempt++ {
		details, err := s.adm.ListTopics(ctx, topic)
		if err != nil {
			return 0, fmt.Errorf("partstate: listing topic %q on brokers %v: %w", topic, s.cfg.Brokers, err)
		}
		if d := details[topic]; details.Has(topic) {
			if d.Err != nil {
				return 0, fmt.Errorf("partstate: topic %q: %w", topic, d.Err)
			}
			if len(d.Partitions) > 0 {
				return int32(len(d.Partitions)), nil
			}
		} else if attempt == 0 {
			parts := s.cfg.Partitions
			if parts == 0 {
				parts = -1
			}
			compact := "compact"
			resp, err := s.adm.CreateTopic(ctx, parts, -1, map[string]*string{"cleanup.policy": &compact}, topic)
			if err == nil {
				err = resp.Err
			}
			if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
				return 0, fmt.Errorf("partstate: creating topic %q: %w", topic, err)
			}
			// kgo cached the topic as missing; nothing uses it yet.
			s.cl.PurgeTopicsFromClient(topic)
			if err == nil && resp.NumPartitions > 0 {
				s.logger.Info("created partition state topic", zap.String("topic", topic), zap.Int32("partitions", resp.NumPartitions))
				return resp.NumPartitions, nil
			}
			// Another process created it meanwhile (or the broker did not
			// say how many partitions): wait for it in the metadata, which
			// kgo caches for a few seconds.
		}
		if attempt >= 200 {
			return 0, fmt.Errorf("partstate: topic %q has no partitions after creating it", topic)
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("partstate: waiting for topic %q: %w", topic, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// catchUp waits until the tailer has read control partition cp (-1: all)
// to the end offset it has now.
func (s *kafkaStore) catchUp(ctx context.Context, cp int32) error {
	ends, err := s.adm.ListEndOffsets(ctx, s.cfg.Topic)
	if err != nil {
		return fmt.Errorf("listing end offsets of topic %q: %w", s.cfg.Topic, err)
	}
	if err := ends.Error(); err != nil {
		return fmt.Errorf("listing end offsets of topic %q: %w", s.cfg.Topic, err)
	}
	var starts kadm.ListedOffsets
	for part, end := range ends[s.cfg.Topic] {
		if (cp >= 0 && part != cp) || end.Offset <= 0 {
			continue
		}
		if starts == nil {
			// An empty partition whose records all expired has
			// start == end and nothing for the tailer to read.
			if starts, err = s.adm.ListStartOffsets(ctx, s.cfg.Topic); err != nil {
				return fmt.Errorf("listing start offsets of topic %q: %w", s.cfg.Topic, err)
			}
		}
		if st, ok := starts.Lookup(s.cfg.Topic, part); ok && st.Err == nil && st.Offset >= end.Offset {
			continue
		}
		if err := s.tail.waitPast(ctx, part, end.Offset-1); err != nil {
			return fmt.Errorf("partition %d to offset %d: %w", part, end.Offset, err)
		}
	}
	return nil
}

func (s *kafkaStore) ctlPartition(p int32) int32   { return int32(uint32(p) % uint32(s.ctlN)) }
func (s *kafkaStore) chunkPartition(p int32) int32 { return int32(uint32(p) % uint32(s.chunkN)) }

func (s *kafkaStore) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *kafkaStore) Claim(ctx context.Context, p int32) ([]byte, uint64, error) {
	if s.isClosed() {
		return nil, 0, fmt.Errorf("partstate: claiming partition %d on topic %q: %w", p, s.cfg.Topic, ErrClosed)
	}
	cp := s.ctlPartition(p)
	var epoch uint64
	var ptrs []pointer
	won := false
	for attempt := 0; attempt < claimAttempts && !won; attempt++ {
		if attempt > 0 {
			// Another owner's claim came first: let it settle, then
			// outbid it.
			select {
			case <-ctx.Done():
				return nil, 0, fmt.Errorf("partstate: claiming partition %d on topic %q: %w", p, s.cfg.Topic, ctx.Err())
			case <-time.After(time.Duration(mrand.Int64N(int64(20*time.Millisecond) << attempt))):
			}
		}
		epoch = max(s.tail.view(p).epoch, epoch) + 1
		id := ident{p: p, epoch: epoch, owner: s.owner}
		rec := &kgo.Record{Topic: s.cfg.Topic, Partition: cp, Key: claimKey(p, s.owner), Value: encodeClaim(id)}
		if err := s.cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
			return nil, 0, fmt.Errorf("partstate: claiming partition %d at epoch %d on topic %q partition %d: %w", p, epoch, s.cfg.Topic, cp, err)
		}
		if err := s.tail.waitPast(ctx, cp, rec.Offset); err != nil {
			return nil, 0, fmt.Errorf("partstate: claiming partition %d at epoch %d: reading topic %q partition %d to offset %d: %w", p, epoch, s.cfg.Topic, cp, rec.Offset, err)
		}
		// Won when read: no claim of this epoch or higher came before
		// ours. One that came after supersedes it; the caller sees Lost.
		v := s.tail.view(p)
		if won = v.wonEpoch == epoch && v.wonOff == rec.Offset; won {
			ptrs = v.wonPtrs
		} else {
			s.logger.Debug("partition claim raced", zap.String("topic", s.cfg.Topic), zap.Int32("partition", p),
				zap.Uint64("epoch", epoch), zap.Uint64("winning_epoch", v.epoch))
		}
	}
	if !won {
		return nil, 0, fmt.Errorf("partstate: claiming partition %d on topic %q: lost %d races with other owners (last epoch tried %d)", p, s.cfg.Topic, claimAttempts, epoch)
	}
	if len(ptrs) == 0 {
		return nil, epoch, nil
	}
	var errs []error
	for i := len(ptrs) - 1; i >= 0; i-- {
		state, err := s.readSnapshot(ctx, ptrs[i])
		if err == nil {
			if len(errs) > 0 {
				s.logger.Warn("restored an older snapshot", zap.String("topic", s.cfg.Topic), zap.Int32("partition", p),
					zap.Uint64("epoch", ptrs[i].epoch), zap.Uint64("seq", ptrs[i].seq))
			}
			return state, epoch, nil
		}
		if ctx.Err() != nil {
			return nil, 0, fmt.Errorf("partstate: claiming partition %d at epoch %d: %w", p, epoch, err)
		}
		s.logger.Warn("snapshot rejected", zap.Error(err))
		errs = append(errs, err)
	}
	return nil, epoch, fmt.Errorf("partstate: claiming partition %d at epoch %d: %w: %w", p, epoch, ErrUnreadable, errors.Join(errs...))
}

func (s *kafkaStore) Save(ctx context.Context, p int32, epoch uint64, state []byte) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("partstate: saving partition %d at epoch %d on topic %q: %w", p, epoch, s.cfg.Topic, ErrClosed)
	}
	ss := s.saving[p]
	if ss == nil {
		ss = &saveState{}
		s.saving[p] = ss
	}
	s.mu.Unlock()
	ss.mu.Lock()
	defer ss.mu.Unlock()

	lost := func() error {
		v := s.tail.view(p)
		return fmt.Errorf("partstate: saving partition %d at epoch %d on topic %q: claimed at epoch %d: %w", p, epoch, s.cfg.Topic, v.epoch, ErrLost)
	}
	if s.Lost(p, epoch) {
		return lost()
	}
	cp := s.ctlPartition(p)
	if ss.resync {
		if err := s.catchUp(ctx, cp); err != nil {
			return fmt.Errorf("partstate: saving partition %d at epoch %d: %w", p, epoch, err)
		}
		ss.resync = false
	}
	// Write to the slot the newest valid snapshot is not in, so that
	// compaction, which keeps the latest record per key, always keeps
	// that snapshot's chunks whatever happens to this save.
	v := s.tail.view(p)
	pt := pointer{ident: ident{p: p, epoch: epoch, owner: s.owner}, seq: 1, cpart: s.chunkPartition(p), first: -1, last: -1}
	if n := len(v.ptrs); n > 0 {
		pt.seq = v.ptrs[n-1].seq + 1
		pt.slot = 1 - v.ptrs[n-1].slot
	}
	pt.total = uint64(len(state))
	pt.crc = crc32.Checksum(state, castagnoli)
	pt.n = uint32((len(state) + s.cfg.ChunkBytes - 1) / s.cfg.ChunkBytes)
	recs := make([]*kgo.Record, 0, pt.n)
	for i := uint32(0); i < pt.n; i++ {
		lo := int(i) * s.cfg.ChunkBytes
		c := chunk{ident: pt.ident, seq: pt.seq, i: i, n: pt.n, data: state[lo:min(lo+s.cfg.ChunkBytes, len(state))]}
		recs = append(recs, &kgo.Record{Topic: s.cfg.ChunkTopic, Partition: pt.cpart, Key: chunkKey(p, pt.slot, i), Value: encodeChunk(c)})
	}
	fail := func(what string, err error) error {
		ss.resync = true
		return fmt.Errorf("partstate: saving partition %d at epoch %d seq %d: %s: %w", p, epoch, pt.seq, what, err)
	}
	if len(recs) > 0 {
		if err := s.cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			return fail(fmt.Sprintf("writing %d chunks to topic %q partition %d", len(recs), s.cfg.ChunkTopic, pt.cpart), err)
		}
		pt.first, pt.last = recs[0].Offset, recs[len(recs)-1].Offset
	}
	if s.beforePointer != nil {
		s.beforePointer()
	}
	rec := &kgo.Record{Topic: s.cfg.Topic, Partition: cp, Key: pointerKey(p, pt.slot), Value: encodePointer(pt)}
	if err := s.cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
		return fail(fmt.Sprintf("writing the pointer to topic %q partition %d", s.cfg.Topic, cp), err)
	}
	// The pointer counts only if no newer claim precedes it in the
	// control partition: read up to it to know.
	if err := s.tail.waitPast(ctx, cp, rec.Offset); err != nil {
		return fail(fmt.Sprintf("reading topic %q partition %d to the pointer at offset %d", s.cfg.Topic, cp, rec.Offset), err)
	}
	if s.Lost(p, epoch) {
		return lost()
	}
	if v := s.tail.view(p); len(v.ptrs) == 0 || v.ptrs[len(v.ptrs)-1].offset != rec.Offset {
		return fail("checking the pointer", fmt.Errorf("pointer at topic %q partition %d offset %d was not accepted", s.cfg.Topic, cp, rec.Offset))
	}
	return nil
}

func (s *kafkaStore) Lost(p int32, epoch uint64) bool {
	if s.isClosed() {
		return true
	}
	return s.tail.lost(p, epoch)
}

func (s *kafkaStore) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	if s.tail != nil {
		s.tailCancel()
		s.tail.close()
		<-s.tailDone
	}
	s.closeClient()
	return nil
}
