package partstate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"
)

// tailer reads the whole control topic from the start and keeps, per
// input partition, the winning claim and the latest valid pointers.
type tailer struct {
	topic  string
	logger *zap.Logger
	me     owner
	n      int32 // control topic partitions at start
	cl     *kgo.Client

	mu      sync.Mutex
	parts   map[int32]*partView
	pos     map[int32]int64 // control partition -> next offset to read
	changed chan struct{}   // closed and replaced whenever pos moves
	closed  bool
}

// partView is what the tailer knows about one input partition.
type partView struct {
	epoch    uint64 // highest claim's epoch, 0 when none
	owner    owner  // the first owner to claim that epoch
	claimOff int64
	ptrs     []pointer // valid pointers, newest last, at most keptPointers

	// This process's latest claim that won its epoch when it was read,
	// and the valid pointers before it: what that Claim restores, even
	// if a newer claim has superseded it since.
	wonEpoch uint64
	wonOff   int64
	wonPtrs  []pointer

	misplaced bool // a record for it was found off p % n (logged once)
}

func startTailer(cfg KafkaConfig, logger *zap.Logger, me owner, n int32) (*tailer, error) {
	cl, err := kgo.NewClient(append(clientOpts(cfg, "-tailer"),
		kgo.ConsumeTopics(cfg.Topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(50*time.Millisecond),
	)...)
	if err != nil {
		return nil, fmt.Errorf("partstate: kafka consumer of topic %q: %w", cfg.Topic, err)
	}
	return &tailer{topic: cfg.Topic, logger: logger, me: me, n: n, cl: cl, parts: map[int32]*partView{},
		pos: map[int32]int64{}, changed: make(chan struct{})}, nil
}

func (t *tailer) run(ctx context.Context) {
	var lastErr time.Time
	for {
		fs := t.cl.PollFetches(ctx)
		if fs.IsClientClosed() || ctx.Err() != nil {
			return
		}
		fs.EachError(func(topic string, part int32, err error) {
			if errors.Is(err, context.Canceled) || time.Since(lastErr) < 10*time.Second {
				return
			}
			lastErr = time.Now()
			t.logger.Warn("reading the partition state topic", zap.String("topic", topic), zap.Int32("partition", part), zap.Error(err))
		})
		t.mu.Lock()
		fs.EachRecord(t.apply)
		close(t.changed)
		t.changed = make(chan struct{})
		t.mu.Unlock()
	}
}

// apply folds one control record into the views; t.mu is held.
func (t *tailer) apply(r *kgo.Record) {
	t.pos[r.Partition] = r.Offset + 1
	kind, id, err := decodeHeader(r.Value)
	if err == nil && kind != kindClaim && kind != kindPointer {
		err = fmt.Errorf("kind %d does not belong on the control topic", kind)
	}
	var pt pointer
	if err == nil && kind == kindPointer {
		pt, err = decodePointer(id, r.Value)
	}
	if err != nil {
		t.logger.Warn("skipping a malformed partition state record", zap.String("topic", r.Topic),
			zap.Int32("partition", r.Partition), zap.Int64("offset", r.Offset), zap.Error(err))
		return
	}
	v := t.parts[id.p]
	if v == nil {
		v = &partView{}
		t.parts[id.p] = v
	}
	if want := int32(uint32(id.p) % uint32(t.n)); r.Partition != want && !v.misplaced {
		v.misplaced = true
		t.logger.Error("partition state record on the wrong control partition: the topic's partition count changed, which breaks the order of claims and snapshots",
			zap.String("topic", r.Topic), zap.Int32("input_partition", id.p), zap.Int32("partition", r.Partition),
			zap.Int32("expected_partition", want), zap.Int32("partitions", t.n))
	}
	if kind == kindClaim {
		// The first claim of an epoch wins; lower epochs are stale.
		if id.epoch > v.epoch {
			v.epoch, v.owner, v.claimOff = id.epoch, id.owner, r.Offset
			if id.owner == t.me {
				v.wonEpoch, v.wonOff, v.wonPtrs = id.epoch, r.Offset, append([]pointer(nil), v.ptrs...)
			}
		}
		return
	}
	pt.offset = r.Offset
	if reason := v.reject(pt); reason != "" {
		t.logger.Debug("ignoring a stale snapshot pointer", zap.String("topic", r.Topic), zap.Int32("partition", id.p),
			zap.Int64("offset", r.Offset), zap.Uint64("epoch", id.epoch), zap.String("reason", reason))
		return
	}
	v.ptrs = append(v.ptrs, pt)
	if len(v.ptrs) > keptPointers {
		v.ptrs = append(v.ptrs[:0], v.ptrs[len(v.ptrs)-keptPointers:]...)
	}
}

// reject says why pt is not a valid snapshot pointer, or "" when it is.
// On an uncompacted log a valid pointer's epoch equals the highest claim
// before it and its owner won that epoch. Compaction may remove the claim
// a pointer was written under (each owner's latest claim survives), so an
// epoch above every claim seen is accepted too, as long as pointers'
// epochs never go backwards.
func (v *partView) reject(pt pointer) string {
	switch {
	case pt.epoch < v.epoch:
		return "claimed at a newer epoch"
	case pt.epoch == v.epoch && pt.owner != v.owner:
		return "written by an owner that lost the epoch"
	case len(v.ptrs) > 0 && pt.epoch < v.ptrs[len(v.ptrs)-1].epoch:
		return "older than the newest snapshot"
	}
	return ""
}

// view returns a copy of what the tailer knows about p.
func (t *tailer) view(p int32) partView {
	t.mu.Lock()
	defer t.mu.Unlock()
	v := t.parts[p]
	if v == nil {
		return partView{}
	}
	c := *v
	c.ptrs = append([]pointer(nil), v.ptrs...)
	c.wonPtrs = append([]pointer(nil), v.wonPtrs...)
	return c
}

func (t *tailer) lost(p int32, epoch uint64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	v := t.parts[p]
	if v == nil {
		return false
	}
	return v.epoch > epoch || (v.epoch == epoch && v.owner != t.me)
}

// waitPast waits until the tailer has read control partition part past
// offset off.
func (t *tailer) waitPast(ctx context.Context, part int32, off int64) error {
	for {
		t.mu.Lock()
		done, closed, ch := t.pos[part] > off, t.closed, t.changed
		t.mu.Unlock()
		if done {
			return nil
		}
		if closed {
			return ErrClosed
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

func (t *tailer) close() {
	t.mu.Lock()
	t.closed = true
	close(t.changed)
	t.changed = make(chan struct{})
	t.mu.Unlock()
	t.cl.Close()
}
