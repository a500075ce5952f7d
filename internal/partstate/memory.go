package partstate

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// Memory is an in-process Store shared by several Handles, each of which
// stands for one process (owner). It has the Kafka store's semantics
// without a broker, for the connector's unit tests.
type Memory struct {
	mu     sync.Mutex
	parts  map[int32]*memPart
	owners atomic.Uint64
}

type memPart struct {
	epoch uint64
	owner uint64
	state []byte // nil when never saved
}

// NewMemory returns an empty shared store.
func NewMemory() *Memory { return &Memory{parts: map[int32]*memPart{}} }

// Handle returns a Store with its own owner identity on m.
func (m *Memory) Handle() Store { return &memHandle{m: m, owner: m.owners.Add(1)} }

type memHandle struct {
	m      *Memory
	owner  uint64
	closed atomic.Bool
}

func (h *memHandle) part(p int32) *memPart {
	mp := h.m.parts[p]
	if mp == nil {
		mp = &memPart{}
		h.m.parts[p] = mp
	}
	return mp
}

func (h *memHandle) Claim(ctx context.Context, p int32) ([]byte, uint64, error) {
	if h.closed.Load() {
		return nil, 0, fmt.Errorf("partstate: claiming partition %d: %w", p, ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, fmt.Errorf("partstate: claiming partition %d: %w", p, err)
	}
	h.m.mu.Lock()
	defer h.m.mu.Unlock()
	mp := h.part(p)
	mp.epoch++
	mp.owner = h.owner
	var state []byte
	if mp.state != nil {
		state = append([]byte{}, mp.state...)
	}
	return state, mp.epoch, nil
}

func (h *memHandle) Save(ctx context.Context, p int32, epoch uint64, state []byte) error {
	if h.closed.Load() {
		return fmt.Errorf("partstate: saving partition %d at epoch %d: %w", p, epoch, ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("partstate: saving partition %d at epoch %d: %w", p, epoch, err)
	}
	h.m.mu.Lock()
	defer h.m.mu.Unlock()
	mp := h.part(p)
	if mp.epoch != epoch || mp.owner != h.owner {
		return fmt.Errorf("partstate: saving partition %d at epoch %d (now epoch %d): %w", p, epoch, mp.epoch, ErrLost)
	}
	mp.state = append([]byte{}, state...)
	return nil
}

func (h *memHandle) Lost(p int32, epoch uint64) bool {
	if h.closed.Load() {
		return true
	}
	h.m.mu.Lock()
	defer h.m.mu.Unlock()
	mp := h.m.parts[p]
	if mp == nil {
		return false
	}
	return mp.epoch > epoch || (mp.epoch == epoch && mp.owner != h.owner)
}

func (h *memHandle) Close() error {
	h.closed.Store(true)
	return nil
}
