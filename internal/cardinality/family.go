package cardinality

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
)

// Other replaces a label value beyond the limits; the analytics_metrics
// connector folds into the same value.
const Other = "_other"

// SetsLabel is the label a Fold names when the label-set cap, not one
// label's value limit, folded a set.
const SetsLabel = "max_label_sets"

// MaxLabels is the most labels a Family may have.
const MaxLabels = 8

// Label is one label of a Family.
type Label struct {
	// Name is the label's key, as emitted and as counted in overflows.
	Name string
	// Bounded labels take their values from a fixed vocabulary (an enum):
	// the value limit does not apply to them.
	Bounded bool
}

// Ids of a label's values: 0 is an absent value, 1 is Other, admitted
// values count from 2 in admission order.
const (
	idAbsent uint32 = iota
	idOther
	firstID
)

type setKey [MaxLabels]uint32

// values is the admitted values of one label.
type values struct {
	ids   map[string]uint32
	order []string // order[id-firstID] is the value of id
}

// Limits bound a Family.
type Limits struct {
	// MaxValues caps the admitted values of each unbounded label.
	MaxValues int
	// MaxSets caps the distinct label sets.
	MaxSets int
	// MaxValueLength is the longest value, in bytes, an unbounded label
	// admits; a longer one is folded like a value past MaxValues. 0: any.
	MaxValueLength int
}

// Family bounds the label values and label sets of one metric family. It
// is safe for concurrent use.
type Family struct {
	labels    []Label
	maxValues int
	maxSets   int
	maxLen    int

	mu      sync.RWMutex
	vals    []values
	sets    map[setKey]struct{}
	version uint64
}

// NewFamily returns an empty family. MaxValues and MaxSets must be
// positive, MaxValueLength not negative, and there are 1 to MaxLabels
// labels; it panics otherwise: the labels are fixed by the caller's code,
// the limits checked by its configuration.
func NewFamily(labels []Label, l Limits) *Family {
	if len(labels) == 0 || len(labels) > MaxLabels || l.MaxValues < 1 || l.MaxSets < 1 || l.MaxValueLength < 0 {
		panic(fmt.Sprintf("cardinality: NewFamily(%d labels, %+v)", len(labels), l))
	}
	f := &Family{labels: append([]Label(nil), labels...), maxValues: l.MaxValues, maxSets: l.MaxSets, maxLen: l.MaxValueLength}
	f.reset()
	return f
}

func (f *Family) reset() {
	f.vals = make([]values, len(f.labels))
	for i := range f.vals {
		f.vals[i].ids = map[string]uint32{}
	}
	f.sets = map[setKey]struct{}{}
}

// Labels returns the family's labels.
func (f *Family) Labels() []Label { return f.labels }

// Folds says which labels one Admit folded into Other.
type Folds uint16

const setsBit Folds = 1 << MaxLabels

// Any reports whether anything was folded.
func (fo Folds) Any() bool { return fo != 0 }

// Label reports whether label i's value was folded because the label was full.
func (fo Folds) Label(i int) bool { return fo&(1<<i) != 0 }

// Sets reports whether the whole set was folded because the family was full.
func (fo Folds) Sets() bool { return fo&setsBit != 0 }

// Admit bounds one label set: vals[i] is the value of label i, "" when the
// series does not carry it, and vals covers the first len(vals) labels.
// Values are replaced by Other in place as the limits require; the result
// says which. Other itself, sent as a value, is never admitted: it is the
// overflow series already.
func (f *Family) Admit(vals []string) Folds {
	if len(vals) > len(f.labels) {
		panic("cardinality: more values than labels")
	}
	var k setKey
	f.mu.RLock()
	known := f.lookup(vals, &k)
	if known {
		_, known = f.sets[k]
	}
	f.mu.RUnlock()
	if known {
		return 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.admit(vals)
}

// lookup fills k with the ids of vals; false when a value is not admitted.
func (f *Family) lookup(vals []string, k *setKey) bool {
	for i, v := range vals {
		switch v {
		case "":
			continue
		case Other:
			k[i] = idOther
			continue
		}
		id, ok := f.vals[i].ids[v]
		if !ok {
			return false
		}
		k[i] = id
	}
	return true
}

// admit is Admit's slow path, under the write lock.
func (f *Family) admit(vals []string) Folds {
	var k setKey
	var folds Folds
	for i, v := range vals {
		switch v {
		case "":
			continue
		case Other:
			k[i] = idOther
			continue
		}
		lv := &f.vals[i]
		id, ok := lv.ids[v]
		if !ok {
			if !f.labels[i].Bounded && (len(lv.order) >= f.maxValues || f.maxLen > 0 && len(v) > f.maxLen) {
				vals[i] = Other
				k[i] = idOther
				folds |= 1 << i
				continue
			}
			id = firstID + uint32(len(lv.order))
			lv.ids[v] = id
			lv.order = append(lv.order, v)
			f.version++
		}
		k[i] = id
	}
	if _, ok := f.sets[k]; ok || isOther(k, len(vals)) {
		return folds
	}
	if len(f.sets) >= f.maxSets {
		for i := range vals {
			vals[i] = Other
		}
		return folds | setsBit
	}
	f.sets[k] = struct{}{}
	f.version++
	return folds
}

// isOther reports whether the first n ids are all Other: the overflow set,
// which is never stored.
func isOther(k setKey, n int) bool {
	for _, id := range k[:n] {
		if id != idOther {
			return false
		}
	}
	return n > 0
}

// Len returns the number of admitted label sets and of values of label i.
func (f *Family) Len(i int) (sets, vals int) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return len(f.sets), len(f.vals[i].order)
}

// Version changes whenever a value or a label set is admitted: a caller
// that persists the state saves it when the version moved.
func (f *Family) Version() uint64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.version
}

const stateFormat = 1

// ErrLabels is returned by UnmarshalBinary when the saved state is of a
// family with other labels: the caller starts afresh.
var ErrLabels = errors.New("cardinality: saved state has other labels")

// MarshalBinary encodes the admitted values and label sets.
func (f *Family) MarshalBinary() ([]byte, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	buf := []byte{stateFormat}
	buf = binary.AppendUvarint(buf, uint64(len(f.labels)))
	for i, l := range f.labels {
		buf = appendString(buf, l.Name)
		buf = binary.AppendUvarint(buf, uint64(len(f.vals[i].order)))
		for _, v := range f.vals[i].order {
			buf = appendString(buf, v)
		}
	}
	buf = binary.AppendUvarint(buf, uint64(len(f.sets)))
	for k := range f.sets {
		for _, id := range k {
			buf = binary.AppendUvarint(buf, uint64(id))
		}
	}
	return buf, nil
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// UnmarshalBinary replaces the state with a saved one. Values and sets
// beyond the family's current limits (lowered since the save) are dropped,
// the earliest admitted kept.
func (f *Family) UnmarshalBinary(data []byte) error {
	r := reader{buf: data}
	if r.byte() != stateFormat {
		return errors.New("cardinality: unknown state format")
	}
	if n := r.uvarint(); r.err == nil && n != uint64(len(f.labels)) {
		return ErrLabels
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reset()
	// remap[i][old id-firstID] is the restored id of a saved value of
	// label i, idAbsent when a lowered limit dropped it.
	remap := make([][]uint32, len(f.labels))
	for i, l := range f.labels {
		if r.string() != l.Name && r.err == nil {
			f.reset()
			return ErrLabels
		}
		n := r.uvarint()
		lv := &f.vals[i]
		for j := uint64(0); j < n && r.err == nil; j++ {
			v := r.string()
			if r.err != nil {
				break
			}
			if _, dup := lv.ids[v]; dup || v == "" || v == Other {
				r.err = errors.New("cardinality: saved state has an empty, repeated or overflow value")
				break
			}
			if !l.Bounded && (len(lv.order) >= f.maxValues || f.maxLen > 0 && len(v) > f.maxLen) {
				remap[i] = append(remap[i], idAbsent) // a limit was lowered: keep the earliest
				continue
			}
			id := firstID + uint32(len(lv.order))
			lv.ids[v] = id
			lv.order = append(lv.order, v)
			remap[i] = append(remap[i], id)
		}
	}
	n := r.uvarint()
	for j := uint64(0); j < n && r.err == nil; j++ {
		var k setKey
		ok := true
		for i := range k {
			id := r.uvarint()
			if i >= len(f.labels) {
				if id != uint64(idAbsent) {
					r.err = errors.New("cardinality: saved state has a bad label set")
				}
				continue
			}
			switch {
			case id == uint64(idAbsent) || id == uint64(idOther):
				k[i] = uint32(id)
			case id-uint64(firstID) < uint64(len(remap[i])):
				k[i] = remap[i][id-uint64(firstID)]
				ok = ok && k[i] != idAbsent
			default:
				r.err = errors.New("cardinality: saved state has a bad label set")
			}
		}
		if ok && r.err == nil && len(f.sets) < f.maxSets {
			f.sets[k] = struct{}{}
		}
	}
	if r.err == nil && len(r.buf) > 0 {
		r.err = errors.New("cardinality: trailing bytes in saved state")
	}
	if r.err != nil {
		f.reset()
		return r.err
	}
	return nil
}

// reader decodes the state, remembering the first error.
type reader struct {
	buf []byte
	err error
}

var errTruncated = errors.New("cardinality: saved state is truncated")

func (r *reader) byte() byte {
	if len(r.buf) == 0 {
		r.err = errTruncated
		return 0
	}
	b := r.buf[0]
	r.buf = r.buf[1:]
	return b
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.buf)
	if n <= 0 {
		r.err = errTruncated
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

func (r *reader) string() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.buf)) {
		r.err = errTruncated
		return ""
	}
	s := string(r.buf[:n])
	r.buf = r.buf[n:]
	return s
}
