package forgetextension // import "github.com/pulse-otel/pulse/extension/forgetextension"

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"
	"github.com/twmb/franz-go/plugin/kzap"
	"go.uber.org/zap"
)

// Why a compacted topic, read whole by every gateway: a forget request
// reaching any gateway must be in force on all of them within a second and
// survive their restarts. Each gateway therefore publishes the request
// (keyed by the subject, so compaction keeps one record per user) and
// answers only once Kafka acknowledged it with acks=all; every gateway,
// the publisher included, consumes every partition without a consumer
// group (a group would give each record to one member), from the start at
// each Start and then tailing it with a 100 ms fetch wait.
//
// franz-go directly rather than contrib's kafka client helpers: those live
// in contrib's internal/kafka, which no other module may import, and what
// this needs of configkafka (brokers, client id, TLS) is a few lines.
const (
	// fetchMaxWait is how long a fetch waits at the broker for new
	// records; with the broker's replication it is most of the latency
	// from one gateway's answer to the others' Forgotten.
	fetchMaxWait = 100 * time.Millisecond
	// topicPartitions is the partition count of a topic the extension
	// creates: forget requests are rare, and one partition keeps them
	// in order.
	topicPartitions = 1
	// errorLogInterval throttles the tailing consumer's error logs while
	// the brokers are unreachable.
	errorLogInterval = 10 * time.Second
)

// kafkaSync is the extension's side of the topic: a producer (also used
// for the admin requests) and a consumer of every partition.
type kafkaSync struct {
	cfg      *KafkaConfig
	logger   *zap.Logger
	producer *kgo.Client
	consumer *kgo.Client

	cancel context.CancelFunc
	done   chan struct{} // closed when the tailing goroutine returned
}

// newKafkaSync creates the clients; they connect lazily, so nothing here
// needs the brokers.
func newKafkaSync(ctx context.Context, cfg *KafkaConfig, logger *zap.Logger) (*kafkaSync, error) {
	// ApiVersions is capped at v4: v5 (KIP-1242) names the expected
	// cluster and node, which brokers that parse only v4 (kfake at the
	// revision the tests pin) answer by closing the connection; v4 loses
	// nothing here (internal/partstate does the same).
	versions := kversion.Tip()
	versions.SetMaxKeyVersion(18, 4)
	common := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.MaxVersions(versions),
		kgo.WithLogger(kzap.New(logger.Named("kafka"), kzap.Level(kgo.LogLevelWarn))),
		kgo.DisableClientMetrics(),
	}
	if cfg.ClientID != "" {
		common = append(common, kgo.ClientID(cfg.ClientID))
	}
	if cfg.TLS != nil {
		tlsCfg, err := cfg.TLS.LoadTLSConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("sync.kafka.tls: %w", err)
		}
		if tlsCfg != nil {
			common = append(common, kgo.DialTLSConfig(tlsCfg))
		}
	}
	producer, err := kgo.NewClient(append(slices.Clone(common),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		// Not idempotent: an idempotent producer never fails a record
		// whose request was sent until a broker answers, so with the
		// brokers gone a POST would hang past publish_timeout instead of
		// answering 503. A retry that writes a record twice is harmless:
		// records are keyed by subject and applying one is idempotent.
		kgo.DisableIdempotentWrite(),
		kgo.ProducerLinger(0),
		kgo.RecordDeliveryTimeout(cfg.PublishTimeout),
	)...)
	if err != nil {
		return nil, fmt.Errorf("sync.kafka: creating the producer: %w", err)
	}
	consumer, err := kgo.NewClient(append(common,
		kgo.ConsumeTopics(cfg.Topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(fetchMaxWait),
	)...)
	if err != nil {
		producer.Close()
		return nil, fmt.Errorf("sync.kafka: creating the consumer: %w", err)
	}
	return &kafkaSync{cfg: cfg, logger: logger, producer: producer, consumer: consumer}, nil
}

// ensureTopic creates the topic, compacted, when it does not exist, and
// refuses one whose cleanup.policy would delete requests after its
// retention: gateways restarted without local storage would let those
// users' events through again. Brokers that do not let this client read
// topic configs are only warned about.
func (k *kafkaSync) ensureTopic(ctx context.Context) error {
	adm := kadm.NewClient(k.producer)
	topic := k.cfg.Topic
	rcs, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return fmt.Errorf("sync.kafka: describing topic %q: %w", topic, err)
	}
	rc, err := rcs.On(topic, nil)
	if err == nil {
		err = rc.Err
	}
	switch {
	case errors.Is(err, kerr.UnknownTopicOrPartition):
		compact := "compact"
		resp, err := adm.CreateTopic(ctx, topicPartitions, -1, map[string]*string{"cleanup.policy": &compact}, topic)
		if err == nil {
			err = resp.Err
		}
		switch {
		case errors.Is(err, kerr.TopicAlreadyExists): // another gateway was quicker
		case err != nil:
			return fmt.Errorf("sync.kafka: creating topic %q (cleanup.policy=compact): %w", topic, err)
		default:
			k.logger.Info("Created the forget sync topic", zap.String("topic", topic), zap.Int("partitions", topicPartitions), zap.String("cleanup_policy", compact))
		}
		return nil
	case err != nil:
		k.logger.Warn("Could not read the forget sync topic's cleanup.policy; make sure it is compact, or requests are lost after the topic's retention",
			zap.String("topic", topic), zap.Error(err))
		return nil
	}
	for _, c := range rc.Configs {
		if c.Key != "cleanup.policy" || c.Value == nil {
			continue
		}
		if !slices.Contains(strings.Split(*c.Value, ","), "compact") {
			return fmt.Errorf("sync.kafka: topic %q has cleanup.policy=%q: forget requests would be deleted after its retention; set cleanup.policy=compact on it", topic, *c.Value)
		}
	}
	return nil
}

// catchUp reads every partition until it reached the end offset it had
// when catchUp began, handing each fetched batch to handle. ctx bounds it.
func (k *kafkaSync) catchUp(ctx context.Context, handle func([]*kgo.Record)) error {
	adm := kadm.NewClient(k.producer)
	topic := k.cfg.Topic
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return fmt.Errorf("sync.kafka: listing the start offsets of topic %q: %w", topic, err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return fmt.Errorf("sync.kafka: listing the end offsets of topic %q: %w", topic, err)
	}
	behind := map[int32]int64{} // partition: the end offset to reach
	ends.Each(func(o kadm.ListedOffset) {
		if s, ok := starts.Lookup(topic, o.Partition); !ok || o.Offset > s.Offset {
			behind[o.Partition] = o.Offset
		}
	})
	for len(behind) > 0 {
		fs := k.consumer.PollFetches(ctx)
		if ctx.Err() != nil {
			return fmt.Errorf("sync.kafka: topic %q was not read up to its end offsets within start_timeout %s (%s)", topic, k.cfg.StartTimeout, describeBehind(behind))
		}
		fs.EachError(func(t string, p int32, err error) {
			k.logger.Warn("Fetching the forget sync topic failed; retrying", zap.String("topic", t), zap.Int32("partition", p), zap.Error(err))
		})
		fs.EachPartition(func(p kgo.FetchTopicPartition) {
			if len(p.Records) == 0 {
				return
			}
			handle(p.Records)
			if end, ok := behind[p.Partition]; ok && p.Records[len(p.Records)-1].Offset+1 >= end {
				delete(behind, p.Partition)
			}
		})
	}
	return nil
}

func describeBehind(behind map[int32]int64) string {
	parts := make([]string, 0, len(behind))
	for _, p := range slices.Sorted(maps.Keys(behind)) {
		parts = append(parts, fmt.Sprintf("partition %d not yet read up to offset %d", p, behind[p]))
	}
	return strings.Join(parts, ", ")
}

// tail hands every new batch to handle until stop.
func (k *kafkaSync) tail(handle func([]*kgo.Record)) {
	ctx, cancel := context.WithCancel(context.Background())
	k.cancel, k.done = cancel, make(chan struct{})
	go func() {
		defer close(k.done)
		var lastErrLog time.Time
		for {
			fs := k.consumer.PollFetches(ctx)
			if ctx.Err() != nil || fs.IsClientClosed() {
				return
			}
			fs.EachError(func(t string, p int32, err error) {
				if time.Since(lastErrLog) >= errorLogInterval {
					lastErrLog = time.Now()
					k.logger.Warn("Fetching the forget sync topic failed; retrying (logged at most every 10s)", zap.String("topic", t), zap.Int32("partition", p), zap.Error(err))
				}
			})
			fs.EachPartition(func(p kgo.FetchTopicPartition) {
				if len(p.Records) > 0 {
					handle(p.Records)
				}
			})
		}
	}()
}

// publish writes the records and returns once Kafka acknowledged all of
// them (acks=all) or one failed.
func (k *kafkaSync) publish(ctx context.Context, check string, recs ...record) error {
	krs := make([]*kgo.Record, len(recs))
	for i := range recs {
		key, value := encodeTopicRecord(&recs[i], check)
		krs[i] = &kgo.Record{Topic: k.cfg.Topic, Key: key, Value: value}
	}
	if err := k.producer.ProduceSync(ctx, krs...).FirstErr(); err != nil {
		return fmt.Errorf("writing to topic %q: %w", k.cfg.Topic, err)
	}
	return nil
}

// close stops the tailing goroutine and closes both clients.
func (k *kafkaSync) close() {
	if k.cancel != nil {
		k.cancel()
		<-k.done
	}
	k.consumer.Close()
	k.producer.Close()
}
