package analyticsmetricsconnector

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"

	"github.com/pulse-otel/pulse/internal/partstate"
)

// Partitioned mode: the connector of an aggregator shard behind Kafka
// (docs/scale-out.md). Gateways key each user's events to one partition of
// the events topic; the kafka receiver hands every record on with its
// partition and offset in the request metadata. The connector keeps one
// whole state per partition (users, sketches, cohorts, sessions, ids, the
// join table and the cumulative series) and labels every series with the
// partition, so that:
//
//   - per-user aggregations stay exact across shards: a user's events all
//     reach one partition's state, and the partitions' series add up;
//   - a partition moving to another shard (scale up or down, crash) takes
//     its state with it, as a Kafka Streams task restores its store from
//     a changelog: the new owner claims the partition in the state store
//     (internal/partstate, a Kafka topic) and carries on from the latest
//     saved state; the old owner sees the claim and drops its copy
//     without exporting it again;
//   - a record is acknowledged only once the state that counted it has
//     been saved and the series carrying it exported, in that order, so a
//     crash loses nothing acknowledged, a series never goes back (no
//     counter reset for increase() to count twice), and a re-delivered
//     record (at-least-once) is recognised by its offset and not counted
//     again.
//
// Each flush saves the state of every partition that changed, then exports
// the series of all of them in one request: the flush interval is also the
// save interval, and the bytes written per flush are the changed
// partitions' state sizes (docs/scale-out.md, sizing).

// metaPartition and metaOffset are the request metadata the kafka receiver
// sets for every record (contrib kafkareceiver, contextWithMetadata).
const (
	metaPartition = "kafka.partition"
	metaOffset    = "kafka.offset"
)

// newPartitionStore opens the partitions' state store; tests replace it.
var newPartitionStore = func(ctx context.Context, cfg *PartitionedConfig, set component.TelemetrySettings) (partstate.Store, error) {
	if cfg.Kafka.ClientID == "" {
		cfg.Kafka.ClientID = "pulse-aggregator"
	}
	return partstate.NewKafka(ctx, partstate.KafkaConfig{
		Brokers:      cfg.Kafka.Brokers,
		Topic:        cfg.Kafka.Topic,
		ClientID:     cfg.Kafka.ClientID,
		StartTimeout: cfg.Kafka.StartTimeout,
	}, set.Logger)
}

type partitionedConnector struct {
	cfg   *Config
	set   connector.Settings
	next  consumer.Metrics
	store partstate.Store

	mu       sync.Mutex
	parts    map[int32]*partition
	claiming map[int32]chan struct{} // closed when the claim in progress ends
	closed   bool

	stop       chan struct{}
	done       chan struct{}
	cancelLoop context.CancelFunc
	shutOnce   sync.Once
}

// partition is one input partition's state; core.mu guards applied and
// changed as well.
type partition struct {
	id      int32
	epoch   uint64 // the state store's ownership epoch
	core    *analyticsConnector
	applied *offsetSet // offsets counted
	changed bool       // counted something since the last save
}

func newPartitionedConnector(set connector.Settings, cfg *Config, next consumer.Metrics) *partitionedConnector {
	return &partitionedConnector{cfg: cfg, set: set, next: next, parts: map[int32]*partition{}, claiming: map[int32]chan struct{}{}}
}

func (c *partitionedConnector) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

func (c *partitionedConnector) Start(ctx context.Context, _ component.Host) error {
	store, err := newPartitionStore(ctx, c.cfg.Partitioned.Get(), c.set.TelemetrySettings)
	if err != nil {
		return fmt.Errorf("partitioned.kafka: opening the state store (topic %q): %w", c.cfg.Partitioned.Get().Kafka.Topic, err)
	}
	c.store = store
	c.stop, c.done = make(chan struct{}), make(chan struct{})
	var loopCtx context.Context
	loopCtx, c.cancelLoop = context.WithCancel(context.Background())
	go c.loop(loopCtx)
	return nil
}

// Shutdown stops the loop, saves and exports every partition one last
// time (bounded like the unpartitioned connector's final export) and
// closes the state store.
func (c *partitionedConnector) Shutdown(ctx context.Context) error {
	var err error
	c.shutOnce.Do(func() {
		if c.stop == nil {
			return
		}
		fctx, cancel := stopFlushLoop(ctx, c.stop, c.done, c.cancelLoop)
		defer cancel()
		c.cycle(fctx, time.Now(), true)
		c.mu.Lock()
		c.closed = true
		parts := c.parts
		c.parts = map[int32]*partition{}
		c.mu.Unlock()
		for _, p := range parts {
			p.core.mu.Lock()
			if !p.core.closed {
				p.core.closed = true
				close(p.core.flushed)
			}
			p.core.mu.Unlock()
		}
		err = c.store.Close()
	})
	return err
}

func (c *partitionedConnector) loop(ctx context.Context) {
	defer close(c.done)
	flushLoop(c.cfg, c.stop, func(now time.Time, full bool) { c.cycle(ctx, now, full) })
}

// ConsumeLogs counts one Kafka record's events in its partition's state
// and returns once that state is saved and exported.
func (c *partitionedConnector) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	id, offset, err := recordPosition(ctx)
	if err != nil {
		return consumererror.NewPermanent(err)
	}
	p, err := c.partition(ctx, id)
	if err != nil {
		return err
	}
	core := p.core
	core.mu.Lock()
	if core.closed {
		core.mu.Unlock()
		return fmt.Errorf("analytics_metrics: partition %d moved to another shard before this record was counted; Kafka re-delivers it there", id)
	}
	if core.exportErr != nil {
		err := core.exportErr
		core.mu.Unlock()
		return fmt.Errorf("analytics_metrics: the metrics pipeline is refusing exports, nothing of this record was counted: %w", err)
	}
	if !p.applied.has(offset) {
		// A record already counted (re-delivered after a restart or a
		// move) is acknowledged once the state that counted it is
		// saved, like a new one.
		core.consume(ld)
		p.applied.add(offset)
		p.changed = true
	}
	epoch := core.epoch
	core.mu.Unlock()
	return core.waitForExport(ctx, epoch)
}

// recordPosition reads the record's partition and offset from the kafka
// receiver's request metadata.
func recordPosition(ctx context.Context) (int32, int64, error) {
	md := client.FromContext(ctx).Metadata
	ps, os := md.Get(metaPartition), md.Get(metaOffset)
	if len(ps) != 1 || len(os) != 1 {
		return 0, 0, fmt.Errorf("analytics_metrics: partitioned mode needs the kafka receiver's %s and %s request metadata, and this request has none; feed the connector from a kafka receiver directly (no batch processor in between)", metaPartition, metaOffset)
	}
	p, err := strconv.ParseInt(ps[0], 10, 32)
	if err != nil || p < 0 {
		return 0, 0, fmt.Errorf("analytics_metrics: request metadata %s: not a partition number", metaPartition)
	}
	o, err := strconv.ParseInt(os[0], 10, 64)
	if err != nil || o < 0 {
		return 0, 0, fmt.Errorf("analytics_metrics: request metadata %s: not an offset", metaOffset)
	}
	return int32(p), o, nil
}

// partition returns the state of partition id, claiming it from the state
// store on its first record here.
func (c *partitionedConnector) partition(ctx context.Context, id int32) (*partition, error) {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, errors.New("analytics_metrics: shutting down")
		}
		if p := c.parts[id]; p != nil {
			c.mu.Unlock()
			return p, nil
		}
		if ch := c.claiming[id]; ch != nil {
			c.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return nil, context.Cause(ctx)
			}
		}
		ch := make(chan struct{})
		c.claiming[id] = ch
		c.mu.Unlock()
		p, err := c.claim(ctx, id)
		c.mu.Lock()
		delete(c.claiming, id)
		close(ch)
		if err == nil {
			c.parts[id] = p
		}
		c.mu.Unlock()
		return p, err
	}
}

func (c *partitionedConnector) claim(ctx context.Context, id int32) (*partition, error) {
	start := time.Now()
	state, epoch, err := c.store.Claim(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("analytics_metrics: claiming partition %d in the state store: %w", id, err)
	}
	core, err := newConnector(c.set, c.cfg, c.next)
	if err != nil {
		return nil, err
	}
	core.agg.extraLabel, core.agg.extraValue = c.cfg.Partitioned.Get().Label, strconv.Itoa(int(id))
	p := &partition{id: id, epoch: epoch, core: core, applied: &offsetSet{}}
	if state != nil {
		applied, err := core.unmarshalCore(state)
		if err != nil {
			// Starting afresh would count its users as new and reset its
			// counters: refuse, and leave the records in Kafka.
			c.set.Logger.Error("The saved state of a partition cannot be read; its records are not counted until it can (see docs/scale-out.md, recovering a partition)",
				zap.Int32("partition", id), zap.Uint64("epoch", epoch), zap.Int("bytes", len(state)), zap.Error(err))
			return nil, fmt.Errorf("analytics_metrics: partition %d: %w", id, err)
		}
		p.applied = applied
	}
	c.set.Logger.Info("Claimed partition", zap.Int32("partition", id), zap.Uint64("epoch", epoch),
		zap.Int("state_bytes", len(state)), zap.Int("sessions", len(core.sessions)), zap.Duration("took", time.Since(start)))
	return p, nil
}

// drop forgets a partition another shard has claimed: its requests still
// waiting fail (Kafka re-delivers their records to the new owner, which
// recognises those it has counted), and its series are not exported again.
func (c *partitionedConnector) drop(p *partition) {
	c.mu.Lock()
	if c.parts[p.id] == p {
		delete(c.parts, p.id)
	}
	c.mu.Unlock()
	p.core.mu.Lock()
	if !p.core.closed {
		p.core.closed = true
		close(p.core.flushed)
	}
	p.core.mu.Unlock()
	c.set.Logger.Info("Partition moved to another shard; its state went with it", zap.Int32("partition", p.id), zap.Uint64("epoch", p.epoch))
}

// flushed is one partition's part of a cycle.
type flushed struct {
	p     *partition
	md    pmetric.Metrics
	n     int
	epoch uint64
	state []byte // nil: unchanged since the last save
	err   error
}

// cycle saves the changed partitions' state, then exports every
// partition's series: what is exported is never ahead of what is saved.
func (c *partitionedConnector) cycle(ctx context.Context, now time.Time, full bool) {
	c.mu.Lock()
	parts := make([]*partition, 0, len(c.parts))
	for _, p := range c.parts {
		parts = append(parts, p)
	}
	c.mu.Unlock()
	fs := make([]*flushed, 0, len(parts))
	for _, p := range parts {
		if c.store.Lost(p.id, p.epoch) {
			c.drop(p)
			continue
		}
		f := &flushed{p: p, md: pmetric.NewMetrics()}
		core := p.core
		core.mu.Lock()
		sessions := len(core.sessions)
		f.n = core.collect(f.md, now, full)
		// A full export re-sends every counter: saved first too, so that
		// Save's check for a newer claim covers it (an owner that lost the
		// partition must not send a counter behind the new owner's).
		// Between full exports an unchanged partition sends only gauges.
		if p.changed || len(core.sessions) != sessions || full {
			f.state, f.err = core.marshalCore(p.applied)
			p.changed = false
		}
		core.epoch++
		f.epoch = core.epoch
		core.mu.Unlock()
		fs = append(fs, f)
	}
	var wg sync.WaitGroup
	for _, f := range fs {
		if f.state == nil || f.err != nil {
			continue
		}
		wg.Go(func() { f.err = c.store.Save(ctx, f.p.id, f.p.epoch, f.state) })
	}
	wg.Wait()
	md := pmetric.NewMetrics()
	var sent []*flushed
	n := 0
	for _, f := range fs {
		switch {
		case errors.Is(f.err, partstate.ErrLost) || (f.err == nil && c.store.Lost(f.p.id, f.p.epoch)):
			c.drop(f.p)
		case f.err != nil:
			// Not saved: not exported either, and saved and exported in
			// full at a later flush.
			c.set.Logger.Warn("Saving a partition's state failed; its records wait for the next flush", zap.Int32("partition", f.p.id), zap.Error(f.err))
			f.p.core.mu.Lock()
			f.p.changed = true
			f.p.core.mu.Unlock()
			f.p.core.exportFailedWith(fmt.Errorf("saving the state of partition %d: %w", f.p.id, f.err))
		default:
			f.md.ResourceMetrics().MoveAndAppendTo(md.ResourceMetrics())
			n += f.n
			sent = append(sent, f)
		}
	}
	if n > 0 {
		if err := c.next.ConsumeMetrics(ctx, md); err != nil {
			c.set.Logger.Warn("Exporting analytics metrics failed; the next flush exports every series again", zap.Error(err))
			for _, f := range sent {
				f.p.core.exportFailedWith(err)
			}
			return
		}
	}
	for _, f := range sent {
		f.p.core.committedUpTo(f.epoch)
	}
}
