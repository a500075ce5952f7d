package analyticsmetricsconnector

import (
	"encoding/binary"
	"errors"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/pulse-otel/pulse/internal/schema"
)

// dedupKind is the key space of an id: an event id, a full recommendation's
// id and a later response's id are never duplicates of one another.
type dedupKind uint8

const (
	kindEvent dedupKind = iota
	kindRecommendation
	kindResponse
	numDedupKinds
)

// dedupKindNames are the values of the kind label of pulse.events.duplicates.
var dedupKindNames = [numDedupKinds]string{"event", "recommendation", "response"}

// kindSalt separates the key spaces in one set: the hash of an id is
// XORed with its kind's salt (odd 64-bit constants, no structure shared
// with xxhash).
var kindSalt = [numDedupKinds]uint64{0, 0x9e3779b97f4a7c15, 0xc2b2ae3d27d4eb4f}

// usableID reports whether id can identify a record: not empty and not
// masked by the privacy processor ("[REDACTED:credit_card]" for a 16-digit
// id that passes the Luhn check: distinct ids masked alike are not the
// same record; hashed ids stay distinct and are usable).
func usableID(id string) bool {
	return id != "" && !strings.Contains(id, schema.RedactedMarker)
}

// idHash is the stable (restart-proof, seedless) 64-bit hash of an id.
func idHash(kind dedupKind, id string) uint64 {
	return xxhash.Sum64String(id) ^ kindSalt[kind]
}

// dedup remembers the hashes of the ids seen in the current and the
// previous generation. A generation lasts window (server clock) or until it
// holds maxIDs hashes, whichever comes first; then the previous one is
// dropped. An id is thus remembered for at least one window unless the
// generations fill early, and for at most two. Two ids whose 64-bit
// hashes collide count as one (the chance of any collision among 2
// million ids is about 1 in 10^7).
type dedup struct {
	window time.Duration
	maxIDs int
	start  int64 // unix ns the current generation began
	cur    map[uint64]struct{}
	prev   map[uint64]struct{}
}

func newDedup(window time.Duration, maxIDs int) *dedup {
	return &dedup{window: window, maxIDs: maxIDs, cur: map[uint64]struct{}{}, prev: map[uint64]struct{}{}}
}

// seen reports whether the id was seen in the last generations and
// remembers it otherwise. now is unix ns.
func (d *dedup) seen(kind dedupKind, id string, now int64) bool {
	if d.start == 0 {
		d.start = now
	}
	if now-d.start >= int64(d.window) {
		d.rotate(now)
	}
	h := idHash(kind, id)
	if _, ok := d.cur[h]; ok {
		return true
	}
	if _, ok := d.prev[h]; ok {
		return true
	}
	if len(d.cur) >= d.maxIDs {
		d.rotate(now)
	}
	d.cur[h] = struct{}{}
	return false
}

// rotate starts a new generation; the previous map's memory is reused.
// After two idle windows (or a long restart) both generations are stale.
func (d *dedup) rotate(now int64) {
	stale := now-d.start >= 2*int64(d.window)
	d.prev, d.cur = d.cur, d.prev
	clear(d.cur)
	if stale {
		clear(d.prev)
	}
	d.start = now
}

// MarshalBinary writes the generation start and both generations' hashes.
func (d *dedup) MarshalBinary() ([]byte, error) {
	buf := make([]byte, 0, 8+2*binary.MaxVarintLen64+8*(len(d.cur)+len(d.prev)))
	buf = binary.LittleEndian.AppendUint64(buf, uint64(d.start))
	for _, gen := range []map[uint64]struct{}{d.cur, d.prev} {
		buf = binary.AppendUvarint(buf, uint64(len(gen)))
		for h := range gen {
			buf = binary.LittleEndian.AppendUint64(buf, h)
		}
	}
	return buf, nil
}

// UnmarshalBinary restores what MarshalBinary wrote.
func (d *dedup) UnmarshalBinary(buf []byte) error {
	if len(buf) < 8 {
		return errors.New("truncated")
	}
	start := int64(binary.LittleEndian.Uint64(buf))
	buf = buf[8:]
	var gens [2]map[uint64]struct{}
	for i := range gens {
		n, k := binary.Uvarint(buf)
		if k <= 0 || uint64(len(buf)-k)/8 < n {
			return errors.New("truncated")
		}
		buf = buf[k:]
		gens[i] = make(map[uint64]struct{}, n)
		for range n {
			gens[i][binary.LittleEndian.Uint64(buf)] = struct{}{}
			buf = buf[8:]
		}
	}
	if len(buf) != 0 {
		return errors.New("trailing bytes")
	}
	d.start, d.cur, d.prev = start, gens[0], gens[1]
	return nil
}
