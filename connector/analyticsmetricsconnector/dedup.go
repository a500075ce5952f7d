package analyticsmetricsconnector

import (
	"encoding/binary"
	"errors"
	"math/bits"
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

// rekind turns the hash of an id in one key space into its hash in
// another, so an id is hashed once per record.
func rekind(h uint64, from, to dedupKind) uint64 { //nolint:unparam // a change between any two key spaces; the connector only starts from recommendations today
	return h ^ kindSalt[from] ^ kindSalt[to]
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
	cur    hashSet
	prev   hashSet
}

func newDedup(window time.Duration, maxIDs int) *dedup {
	return &dedup{window: window, maxIDs: maxIDs}
}

// seen reports whether the id was seen in the last generations and
// remembers it otherwise. now is unix ns.
func (d *dedup) seen(kind dedupKind, id string, now int64) bool {
	return d.seenHash(idHash(kind, id), now)
}

// seenHash is seen for an id already hashed with idHash.
func (d *dedup) seenHash(h uint64, now int64) bool {
	if d.start == 0 {
		d.start = now
	}
	if now-d.start >= int64(d.window) {
		d.rotate(now)
	}
	h = setKey(h)
	// Both probes are loaded before either is tested, so that their cache
	// misses overlap.
	ci, pi := d.cur.home(h), d.prev.home(h)
	ck, pk := d.cur.at(ci), d.prev.at(pi)
	if ck == h || pk == h {
		return true
	}
	if ck != 0 && d.cur.find(h, ci) || pk != 0 && d.prev.find(h, pi) {
		return true
	}
	if d.cur.n >= d.maxIDs {
		d.rotate(now)
	}
	d.cur.insert(h)
	return false
}

// len is the number of ids remembered.
func (d *dedup) len() int { return d.cur.n + d.prev.n }

// rotate starts a new generation; the previous table's memory is reused.
// After two idle windows (or a long restart) both generations are stale.
func (d *dedup) rotate(now int64) {
	stale := now-d.start >= 2*int64(d.window)
	d.prev, d.cur = d.cur, d.prev
	d.cur.reset()
	if stale {
		d.prev.reset()
	}
	d.start = now
}

// MarshalBinary writes the generation start and both generations' hashes.
func (d *dedup) MarshalBinary() ([]byte, error) {
	buf := make([]byte, 0, 8+2*binary.MaxVarintLen64+8*d.len())
	buf = binary.LittleEndian.AppendUint64(buf, uint64(d.start))
	for _, gen := range []*hashSet{&d.cur, &d.prev} {
		buf = binary.AppendUvarint(buf, uint64(gen.n))
		for _, h := range gen.slots {
			if h != 0 {
				buf = binary.LittleEndian.AppendUint64(buf, h)
			}
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
	var gens [2]hashSet
	for i := range gens {
		n, k := binary.Uvarint(buf)
		if k <= 0 || uint64(len(buf)-k)/8 < n {
			return errors.New("truncated")
		}
		buf = buf[k:]
		gens[i].grow(int(n))
		for range n {
			if h := setKey(binary.LittleEndian.Uint64(buf)); !gens[i].find(h, gens[i].home(h)) {
				gens[i].insert(h)
			}
			buf = buf[8:]
		}
	}
	if len(buf) != 0 {
		return errors.New("trailing bytes")
	}
	d.start, d.cur, d.prev = start, gens[0], gens[1]
	return nil
}

// hashSet is a set of nonzero 64-bit hashes: open addressing with linear
// probing in one flat array, at most half full. A probe costs one cache
// miss where a Go map of that size costs several (directory, control
// word, slot), and the array is cleared, not freed, by reset. Keys are
// uniform hashes already: the home slot is their top bits.
type hashSet struct {
	slots []uint64 // 0 is an empty slot
	shift uint8    // 64 - log2(len(slots))
	n     int
}

// hugeTableBytes is the size from which a table asks for huge pages.
const hugeTableBytes = 4 << 20

// minSetSlots is the size of a set's first array.
const minSetSlots = 1 << 10

// tableSize returns the slots of an open-addressing table (dedup and join)
// that holds n keys at most half full, the shift that turns a 64-bit hash
// into a slot, and whether that is more slots than cur.
func tableSize(n, cur int) (size int, shift uint8, grows bool) {
	size = minSetSlots
	for size < 2*n {
		size <<= 1
	}
	return size, uint8(64 - bits.TrailingZeros(uint(size))), size > cur
}

// setKey maps the hash 0, which marks empty slots, to 1: ids hashing to 0
// and 1 count as one (a chance of 2^-63 per pair).
func setKey(h uint64) uint64 {
	if h == 0 {
		return 1
	}
	return h
}

func (s *hashSet) home(h uint64) int {
	if len(s.slots) == 0 {
		return 0
	}
	return int(h >> s.shift)
}

// at is the key in slot i (0 for an empty one or an unallocated set).
func (s *hashSet) at(i int) uint64 {
	if len(s.slots) == 0 {
		return 0
	}
	return s.slots[i]
}

// find reports whether h is in the set, probing from slot i = home(h).
func (s *hashSet) find(h uint64, i int) bool {
	if len(s.slots) == 0 {
		return false
	}
	mask := len(s.slots) - 1
	for {
		switch s.slots[i] {
		case h:
			return true
		case 0:
			return false
		}
		i = (i + 1) & mask
	}
}

// insert adds h, which is not in the set.
func (s *hashSet) insert(h uint64) {
	if 2*(s.n+1) > len(s.slots) {
		s.grow(s.n + 1)
	}
	mask := len(s.slots) - 1
	i := int(h >> s.shift)
	for s.slots[i] != 0 {
		i = (i + 1) & mask
	}
	s.slots[i] = h
	s.n++
}

// grow makes room for n keys at most half full, keeping the keys.
func (s *hashSet) grow(n int) {
	size, shift, ok := tableSize(n, len(s.slots))
	if !ok {
		return
	}
	old := s.slots
	s.slots, s.shift, s.n = make([]uint64, size), shift, 0
	adviseHuge(s.slots)
	for _, h := range old {
		if h != 0 {
			s.insert(h)
		}
	}
}

// reset empties the set and keeps its array.
func (s *hashSet) reset() {
	clear(s.slots)
	s.n = 0
}
