package analyticsmetricsconnector

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// recLabels are the model labels a later response takes from its
// recommendation: model id, model version, recommendation type.
type recLabels [3]string

// joinEntry is one remembered recommendation: when (unix seconds) and the
// index of its labels in the interned table.
type joinEntry struct {
	at     uint32
	labels uint32
}

// labelSlot is one interned label triple and how many entries use it.
type labelSlot struct {
	labels recLabels
	refs   int
}

// joinTable maps recommendation id hashes to the model labels of the
// recommendation, for at most maxEntries recommendations of at most maxAge
// seconds; the oldest are forgotten first. Label triples are interned
// (recommendations share a few models), so an entry costs its slot in a
// flat table and its place in the insertion queue.
type joinTable struct {
	maxEntries int
	maxAge     uint32 // seconds
	entries    joinSet
	order      []uint64 // id hashes in insertion (so age) order, from head
	orderAt    []uint32 // their times, so that expiring reads no entry
	head       int
	slots      []labelSlot
	index      map[recLabels]uint32
	free       []uint32
}

func newJoinTable(maxEntries int, maxAgeSeconds uint32) *joinTable {
	return &joinTable{maxEntries: maxEntries, maxAge: maxAgeSeconds, index: map[recLabels]uint32{}}
}

// len is the number of recommendations remembered.
func (j *joinTable) len() int { return j.entries.n }

// remember records the labels of recommendation h at now (unix seconds).
// A recommendation remembered again keeps its place in the queue.
func (j *joinTable) remember(h uint64, ls recLabels, now uint32) {
	h = setKey(h)
	j.expire(now)
	if e := j.entries.get(h); e != nil {
		j.release(e.labels)
		e.labels = j.intern(ls)
		return
	}
	for j.entries.n >= j.maxEntries {
		j.evictOldest()
	}
	j.entries.insert(h, joinEntry{at: now, labels: j.intern(ls)})
	j.order, j.orderAt = append(j.order, h), append(j.orderAt, now)
}

// lookup returns the labels of recommendation h if it is remembered and
// not older than maxAge.
func (j *joinTable) lookup(h uint64, now uint32) (recLabels, bool) {
	e := j.entries.get(setKey(h))
	if e == nil || now > e.at && now-e.at > j.maxAge {
		return recLabels{}, false
	}
	return j.slots[e.labels].labels, true
}

// expire forgets the recommendations older than maxAge.
func (j *joinTable) expire(now uint32) {
	for j.head < len(j.order) {
		if at := j.orderAt[j.head]; now <= at || now-at <= j.maxAge {
			return
		}
		j.evictOldest()
	}
}

func (j *joinTable) evictOldest() {
	h := j.order[j.head]
	j.order[j.head] = 0
	j.head++
	if e, ok := j.entries.remove(h); ok {
		j.release(e.labels)
	}
	// Compact once the consumed prefix is half the queue, so the queue
	// stays within twice the entries.
	if j.head > len(j.order)/2 && j.head > 1024 {
		n := copy(j.order, j.order[j.head:])
		copy(j.orderAt, j.orderAt[j.head:])
		j.order, j.orderAt, j.head = j.order[:n], j.orderAt[:n], 0
	}
}

func (j *joinTable) intern(ls recLabels) uint32 {
	if i, ok := j.index[ls]; ok {
		j.slots[i].refs++
		return i
	}
	ls = recLabels{strings.Clone(ls[0]), strings.Clone(ls[1]), strings.Clone(ls[2])}
	var i uint32
	if n := len(j.free); n > 0 {
		i, j.free = j.free[n-1], j.free[:n-1]
		j.slots[i] = labelSlot{labels: ls, refs: 1}
	} else {
		i = uint32(len(j.slots))
		j.slots = append(j.slots, labelSlot{labels: ls, refs: 1})
	}
	j.index[ls] = i
	return i
}

func (j *joinTable) release(i uint32) {
	s := &j.slots[i]
	if s.refs--; s.refs == 0 {
		delete(j.index, s.labels)
		*s = labelSlot{}
		j.free = append(j.free, i)
	}
}

// MarshalBinary writes the live label triples, then the entries (hash,
// time, triple) in table order: iterating the table is sequential, looking
// each queued hash up would be a cache miss per entry. Loading sorts by time.
func (j *joinTable) MarshalBinary() ([]byte, error) {
	buf := make([]byte, 0, 2*binary.MaxVarintLen64+16*j.entries.n)
	renum := make([]uint32, len(j.slots))
	live := uint32(0)
	buf = binary.AppendUvarint(buf, uint64(len(j.index)))
	for i, s := range j.slots {
		if s.refs == 0 {
			continue
		}
		renum[i], live = live, live+1
		for _, l := range s.labels {
			buf = binary.AppendUvarint(buf, uint64(len(l)))
			buf = append(buf, l...)
		}
	}
	buf = binary.AppendUvarint(buf, uint64(j.entries.n))
	for _, s := range j.entries.slots {
		h, e := s.h, s.e
		if h == 0 {
			continue
		}
		buf = binary.LittleEndian.AppendUint64(buf, h)
		buf = binary.LittleEndian.AppendUint32(buf, e.at)
		buf = binary.AppendUvarint(buf, uint64(renum[e.labels]))
	}
	return buf, nil
}

// UnmarshalBinary restores what MarshalBinary wrote, keeping at most
// maxEntries (the newest).
func (j *joinTable) UnmarshalBinary(buf []byte) error {
	errTrunc := errors.New("truncated")
	uvarint := func() (uint64, error) {
		v, k := binary.Uvarint(buf)
		if k <= 0 {
			return 0, errTrunc
		}
		buf = buf[k:]
		return v, nil
	}
	n, err := uvarint()
	if err != nil {
		return err
	}
	if n > uint64(len(buf)) {
		return errTrunc
	}
	triples := make([]recLabels, n)
	for i := range triples {
		for k := range triples[i] {
			l, err := uvarint()
			if err != nil || l > uint64(len(buf)) {
				return errTrunc
			}
			triples[i][k], buf = string(buf[:l]), buf[l:]
		}
	}
	m, err := uvarint()
	if err != nil {
		return err
	}
	if m > uint64(len(buf))/13 {
		return errTrunc
	}
	type saved struct {
		h      uint64
		at     uint32
		labels uint32
	}
	all := make([]saved, 0, m)
	for range m {
		if len(buf) < 12 {
			return errTrunc
		}
		h, at := setKey(binary.LittleEndian.Uint64(buf)), binary.LittleEndian.Uint32(buf[8:])
		buf = buf[12:]
		t, err := uvarint()
		if err != nil {
			return err
		}
		if t >= uint64(len(triples)) {
			return fmt.Errorf("label index %d out of range", t)
		}
		all = append(all, saved{h, at, uint32(t)})
	}
	if len(buf) != 0 {
		return errors.New("trailing bytes")
	}
	// Oldest first, and only the newest maxEntries.
	slices.SortStableFunc(all, func(a, b saved) int { return cmp.Compare(a.at, b.at) })
	all = all[max(0, len(all)-j.maxEntries):]
	fresh := newJoinTable(j.maxEntries, j.maxAge)
	fresh.order, fresh.orderAt = make([]uint64, 0, len(all)), make([]uint32, 0, len(all))
	fresh.entries.grow(len(all))
	for _, e := range all {
		if fresh.entries.get(e.h) != nil {
			continue
		}
		fresh.entries.insert(e.h, joinEntry{at: e.at, labels: fresh.intern(triples[e.labels])})
		fresh.order, fresh.orderAt = append(fresh.order, e.h), append(fresh.orderAt, e.at)
	}
	*j = *fresh
	return nil
}

// joinSet maps nonzero id hashes (setKey) to entries: open addressing with
// linear probing in one flat array, at most half full, as hashSet, with
// removal by backward shift (no tombstones, so lookups never slow down).
type joinSet struct {
	slots []joinSlot // h 0 is an empty slot
	shift uint8      // 64 - log2(len(slots))
	n     int
}

type joinSlot struct {
	h uint64
	e joinEntry
}

// get returns h's entry, to read or update in place, or nil.
func (s *joinSet) get(h uint64) *joinEntry {
	if len(s.slots) == 0 {
		return nil
	}
	mask := len(s.slots) - 1
	for i := int(h >> s.shift); ; i = (i + 1) & mask {
		switch s.slots[i].h {
		case h:
			return &s.slots[i].e
		case 0:
			return nil
		}
	}
}

// insert adds h, which is not in the set.
func (s *joinSet) insert(h uint64, e joinEntry) {
	if 2*(s.n+1) > len(s.slots) {
		s.grow(s.n + 1)
	}
	mask := len(s.slots) - 1
	i := int(h >> s.shift)
	for s.slots[i].h != 0 {
		i = (i + 1) & mask
	}
	s.slots[i] = joinSlot{h, e}
	s.n++
}

// remove deletes h if present and returns its entry, moving back the
// entries after it in its run that could no longer be reached.
func (s *joinSet) remove(h uint64) (joinEntry, bool) {
	if len(s.slots) == 0 {
		return joinEntry{}, false
	}
	mask := len(s.slots) - 1
	i := int(h >> s.shift)
	for s.slots[i].h != h {
		if s.slots[i].h == 0 {
			return joinEntry{}, false
		}
		i = (i + 1) & mask
	}
	e := s.slots[i].e
	for j := (i + 1) & mask; s.slots[j].h != 0; j = (j + 1) & mask {
		// The entry at j may fill the hole at i unless its home lies
		// cyclically in (i, j].
		if home := int(s.slots[j].h >> s.shift); (j-home)&mask >= (j-i)&mask {
			s.slots[i], i = s.slots[j], j
		}
	}
	s.slots[i] = joinSlot{}
	s.n--
	return e, true
}

// grow makes room for n entries at most half full, keeping the entries.
func (s *joinSet) grow(n int) {
	size, shift, ok := tableSize(n, len(s.slots))
	if !ok {
		return
	}
	old := s.slots
	s.slots, s.shift, s.n = make([]joinSlot, size), shift, 0
	adviseHuge(s.slots)
	for _, sl := range old {
		if sl.h != 0 {
			s.insert(sl.h, sl.e)
		}
	}
}
