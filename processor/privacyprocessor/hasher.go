package privacyprocessor

import (
	"hash/maphash"
	"strings"
	"sync/atomic"

	"github.com/pulse-otel/pulse/internal/pseudonym"
)

// hasher computes the truncated, hex-encoded HMAC-SHA256 of identifiers
// (internal/pseudonym, the forget extension's HMAC too), remembering recent
// results: the same users, sessions and devices come back batch after
// batch, and a lookup costs a twentieth of an HMAC.
type hasher struct {
	mac   *pseudonym.HMAC
	bytes int
	// recent is a direct-mapped cache of the last identifier hashed per
	// slot, lock-free: a slot holds an immutable entry, replaced whole.
	recent []atomic.Pointer[cachedID]
	seed   maphash.Seed
}

// recentPseudonyms is the size of the hasher's cache (a power of two):
// about 6 MB when full with typical identifiers.
const recentPseudonyms = 1 << 16

func newHasher(key []byte, n int) *hasher {
	return &hasher{mac: pseudonym.New(key), bytes: n,
		recent: make([]atomic.Pointer[cachedID], recentPseudonyms), seed: maphash.MakeSeed()}
}

func (h *hasher) sum(s string) string {
	slot := &h.recent[maphash.String(h.seed, s)&(recentPseudonyms-1)]
	if c := slot.Load(); c != nil && c.raw == s {
		return c.sum
	}
	sum := h.compute(s)
	// The raw value may point into a request buffer that is reused: keep a
	// copy.
	slot.Store(&cachedID{raw: strings.Clone(s), sum: sum})
	return sum
}

// compute hashes s without the cache; it allocates only the returned
// string.
func (h *hasher) compute(s string) string { return h.mac.Hex(s, h.bytes) }

// pseudonym returns the pseudonym of identifier id's raw value, reusing the
// batch's last result for that identifier: the events of one batch mostly
// come from one client, so session and device ids repeat.
func (p *privacyProcessor) pseudonym(id int, raw string, bs *batchStats) string {
	if id < len(bs.ids) {
		if c := &bs.ids[id]; c.raw == raw && c.sum != "" {
			return c.sum
		}
	}
	sum := p.hasher.sum(raw)
	if id < len(bs.ids) {
		bs.ids[id] = cachedID{raw: raw, sum: sum}
	}
	return sum
}

type cachedID struct{ raw, sum string }
