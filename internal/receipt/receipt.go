// Package receipt lets a pipeline stage that drops records by policy tell
// the receiver that took them in, so that the receiver's answer says what
// was stored: a 200 that counts an event the privacy processor then drops
// for want of consent would be an acknowledgement of nothing.
//
// The receiver puts a Receipt in the context it passes to ConsumeLogs; a
// stage that runs synchronously in that call (the privacy processor, with no
// batch processor before it) records each record it drops by its position
// in the plog.Logs it was handed: resource by resource, scope by scope,
// record by record, counted before anything is removed. Stages that see a
// batch of several requests (after a batch processor) find no receipt, or
// must not use it; a receipt is filled by at most one request's pipeline.
package receipt

import (
	"context"
	"slices"
	"sync"
)

// Drop is one record dropped by policy.
type Drop struct {
	// Record is the record's position in the plog.Logs the stage was given.
	Record int
	// Reason is a fixed code (never client text), e.g. "consent_event_type".
	Reason string
}

// Receipt collects the records dropped while one request is consumed. It is
// safe for concurrent use: a receiver shared by two pipelines fans a request
// out to both.
type Receipt struct {
	mu      sync.Mutex
	dropped []Drop
}

type ctxKey struct{}

// NewContext returns ctx carrying r.
func NewContext(ctx context.Context, r *Receipt) context.Context {
	return context.WithValue(ctx, ctxKey{}, r)
}

// FromContext returns the receipt ctx carries, or nil.
func FromContext(ctx context.Context) *Receipt {
	r, _ := ctx.Value(ctxKey{}).(*Receipt)
	return r
}

// Drop records that the record at position record was dropped for reason.
func (r *Receipt) Drop(record int, reason string) {
	r.mu.Lock()
	r.dropped = append(r.dropped, Drop{Record: record, Reason: reason})
	r.mu.Unlock()
}

// Dropped returns the dropped records by position, each once (the first
// reason recorded for it wins when two pipelines dropped it).
func (r *Receipt) Dropped() []Drop {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.dropped)
	slices.SortStableFunc(out, func(a, b Drop) int { return a.Record - b.Record })
	return slices.CompactFunc(out, func(a, b Drop) bool { return a.Record == b.Record })
}
