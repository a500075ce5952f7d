package analyticsmetricsconnector

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/pulse-otel/pulse/internal/catalog"
	"github.com/pulse-otel/pulse/internal/hll"
)

// A partition's whole state, for partitioned mode (partitioned.go): what a
// partition moving to another shard must take with it so that the new
// owner carries on exactly where the old one stopped. Beyond what save()
// keeps across restarts (users seen, sketches, cohorts, ids, the join
// table) it holds the cumulative series, the open sessions, the field
// counts and the Kafka offsets already counted: the new owner's series
// continue the old owner's values (no counter reset, no double count), its
// sessions are not split, and a re-delivered record is recognised.
//
// Layout: a version byte, then length-prefixed parts in a fixed order.
// Numbers are uvarints, floats their IEEE bits, strings length-prefixed.
const coreStateVersion = 1

// marshalCore encodes the connector's state and the applied offsets; c.mu
// is held.
func (c *analyticsConnector) marshalCore(applied *offsetSet) ([]byte, error) {
	filter, err1 := c.seen.MarshalBinary()
	ring, err2 := c.users.MarshalBinary()
	cohorts, err3 := c.cohorts.MarshalBinary()
	ids, err4 := c.dedup.MarshalBinary()
	join, err5 := c.join.MarshalBinary()
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return nil, err
	}
	buf := []byte{coreStateVersion}
	for _, part := range [][]byte{filter, ring, cohorts, ids, join, c.agg.marshal(), c.marshalSessions(), c.marshalCounts(), applied.marshal()} {
		buf = binary.AppendUvarint(buf, uint64(len(part)))
		buf = append(buf, part...)
	}
	return buf, nil
}

// unmarshalCore replaces a fresh connector's state by buf and returns the
// applied offsets. It is called before the connector is used.
func (c *analyticsConnector) unmarshalCore(buf []byte) (*offsetSet, error) {
	if len(buf) == 0 || buf[0] != coreStateVersion {
		return nil, fmt.Errorf("partition state: version %d, this build reads %d", firstByte(buf), coreStateVersion)
	}
	buf = buf[1:]
	var parts [9][]byte
	for i := range parts {
		n, k := binary.Uvarint(buf)
		if k <= 0 || uint64(len(buf)-k) < n {
			return nil, fmt.Errorf("partition state: corrupt (part %d)", i)
		}
		parts[i], buf = buf[k:k+int(n)], buf[k+int(n):]
	}
	seen, err := unmarshalFilter(parts[0])
	if err != nil {
		return nil, fmt.Errorf("partition state: user filter: %w", err)
	}
	users, err := hll.NewRing(c.windowList)
	if err != nil {
		return nil, err
	}
	if err := users.UnmarshalBinary(parts[1]); err != nil {
		return nil, fmt.Errorf("partition state: active-user sketches: %w", err)
	}
	cohorts := newCohorts(c.cfg.ExpectedUsers)
	if err := cohorts.UnmarshalBinary(parts[2]); err != nil {
		return nil, fmt.Errorf("partition state: cohorts: %w", err)
	}
	dedup := newDedup(c.cfg.Dedup.Window, c.cfg.Dedup.MaxIDs)
	if err := dedup.UnmarshalBinary(parts[3]); err != nil {
		return nil, fmt.Errorf("partition state: dedup ids: %w", err)
	}
	join := newJoinTable(c.cfg.RecommendationJoin.MaxEntries, uint32(c.cfg.RecommendationJoin.MaxAge/time.Second))
	if err := join.UnmarshalBinary(parts[4]); err != nil {
		return nil, fmt.Errorf("partition state: recommendation join table: %w", err)
	}
	c.seen, c.users, c.cohorts, c.dedup, c.join = seen, users, cohorts, dedup, join
	if err := c.agg.unmarshal(parts[5]); err != nil {
		return nil, fmt.Errorf("partition state: series: %w", err)
	}
	if err := c.unmarshalSessions(parts[6]); err != nil {
		return nil, fmt.Errorf("partition state: sessions: %w", err)
	}
	if err := c.unmarshalCounts(parts[7]); err != nil {
		return nil, fmt.Errorf("partition state: counts: %w", err)
	}
	applied := &offsetSet{}
	if err := applied.unmarshal(parts[8]); err != nil {
		return nil, fmt.Errorf("partition state: offsets: %w", err)
	}
	return applied, nil
}

func firstByte(b []byte) int {
	if len(b) == 0 {
		return -1
	}
	return int(b[0])
}

// marshal encodes every series' points by metric name, so that a catalog
// that gained or reordered metrics still reads an older state.
func (a *aggregator) marshal() []byte {
	var b []byte
	b = binary.AppendUvarint(b, uint64(len(a.metrics)))
	for _, s := range a.metrics {
		b = appendString(b, s.def.Name)
		b = binary.AppendUvarint(b, uint64(len(s.labels)))
		b = binary.AppendUvarint(b, uint64(len(s.points)))
		for ls, p := range s.points {
			for i := range s.labels {
				b = appendString(b, ls[i])
			}
			b = binary.AppendUvarint(b, uint64(p.start))
			b = binary.AppendUvarint(b, math.Float64bits(p.value))
			b = binary.AppendUvarint(b, p.count)
			b = binary.AppendUvarint(b, uint64(len(p.buckets)))
			for _, n := range p.buckets {
				b = binary.AppendUvarint(b, n)
			}
			var flags uint64
			if p.exported {
				flags |= 1
			}
			b = binary.AppendUvarint(b, flags)
		}
	}
	return b
}

// unmarshal restores the points into a fresh aggregator. Every restored
// point is dirty: the new owner exports them at its first flush, so the
// store sees the series carry on.
func (a *aggregator) unmarshal(b []byte) error {
	r := reader{b: b}
	byName := map[string]int{}
	for i, s := range a.metrics {
		byName[s.def.Name] = i
	}
	nm := r.uvarint()
	for range nm {
		name := r.string()
		nl := int(r.uvarint())
		np := r.uvarint()
		m, known := byName[name]
		if r.err == nil && known && nl != len(a.metrics[m].labels) {
			return fmt.Errorf("metric %s: %d labels saved, %d configured (event_dimensions changed?)", name, nl, len(a.metrics[m].labels))
		}
		if nl > maxLabels {
			return fmt.Errorf("metric %s: %d labels", name, nl)
		}
		for range np {
			var ls labelSet
			for i := range nl {
				ls[i] = r.string()
			}
			p := &point{start: pcommon.Timestamp(r.uvarint()), value: math.Float64frombits(r.uvarint()), count: r.uvarint()}
			nb := r.uvarint()
			if nb > 1024 {
				return fmt.Errorf("metric %s: %d buckets", name, nb)
			}
			if nb > 0 {
				p.buckets = make([]uint64, nb)
				for i := range p.buckets {
					p.buckets[i] = r.uvarint()
				}
			}
			p.exported = r.uvarint()&1 != 0
			p.dirty = true
			if r.err != nil {
				return r.err
			}
			if !known {
				continue // a metric this build no longer has
			}
			s := a.metrics[m]
			if s.def.Kind == catalog.Histogram && len(p.buckets) != len(s.def.Bounds)+1 {
				return fmt.Errorf("metric %s: %d buckets saved, %d in the catalog", name, len(p.buckets), len(s.def.Bounds)+1)
			}
			if _, dup := s.points[ls]; !dup {
				a.total++
			}
			s.points[ls] = p
			for i, l := range s.labels {
				if !boundedLabels[l] {
					s.values[i][ls[i]] = struct{}{}
				}
			}
		}
	}
	if r.err == nil && len(r.b) != 0 {
		return fmt.Errorf("%d trailing bytes", len(r.b))
	}
	return r.err
}

func (c *analyticsConnector) marshalSessions() []byte {
	var b []byte
	b = binary.AppendUvarint(b, uint64(len(c.sessions)))
	for id, s := range c.sessions {
		b = appendString(b, id)
		b = binary.AppendVarint(b, s.first)
		b = binary.AppendVarint(b, s.last)
		b = binary.AppendUvarint(b, uint64(s.events))
		b = appendString(b, s.platform)
		b = binary.AppendUvarint(b, uint64(s.npages))
		for _, h := range s.pages[:s.npages] {
			b = binary.AppendUvarint(b, h)
		}
		conv := uint64(0)
		if s.converted {
			conv = 1
		}
		b = binary.AppendUvarint(b, conv)
	}
	return b
}

// unmarshalSessions restores the open sessions and their platforms'
// tallies.
func (c *analyticsConnector) unmarshalSessions(b []byte) error {
	r := reader{b: b}
	n := r.uvarint()
	if n > uint64(c.cfg.MaxSessions) {
		return fmt.Errorf("%d sessions saved, max_sessions is %d", n, c.cfg.MaxSessions)
	}
	for range n {
		id := r.string()
		s := &session{first: r.varint(), last: r.varint(), events: int(r.uvarint()), platform: r.string()}
		s.npages = int(r.uvarint())
		if s.npages > len(s.pages) {
			return fmt.Errorf("session with %d pages", s.npages)
		}
		for i := range s.npages {
			s.pages[i] = r.uvarint()
		}
		s.converted = r.uvarint() == 1
		if r.err != nil {
			return r.err
		}
		s.open = c.openTally(s.platform)
		s.open.sessions++
		s.open.span += s.last - s.first
		if s.events == 1 {
			s.open.single++
		}
		s.open.dirty = true
		c.sessions[id] = s
	}
	if r.err == nil && len(r.b) != 0 {
		return fmt.Errorf("%d trailing bytes", len(r.b))
	}
	return r.err
}

// marshalCounts encodes the new-user count and the optional-field counts.
func (c *analyticsConnector) marshalCounts() []byte {
	b := binary.AppendUvarint(nil, c.usersSeen)
	b = binary.AppendUvarint(b, numOptionalFields)
	for _, f := range c.fields {
		b = binary.AppendUvarint(b, f[0])
		b = binary.AppendUvarint(b, f[1])
	}
	return b
}

func (c *analyticsConnector) unmarshalCounts(b []byte) error {
	r := reader{b: b}
	c.usersSeen, c.usersSeenDirty = r.uvarint(), true
	n := r.uvarint()
	if r.err == nil && n != numOptionalFields {
		return fmt.Errorf("%d optional fields saved, this build has %d", n, numOptionalFields)
	}
	for i := range c.fields {
		c.fields[i][0], c.fields[i][1] = r.uvarint(), r.uvarint()
	}
	c.fieldsDirty = true
	return r.err
}

// offsetSet is the Kafka offsets of one partition already counted: sorted,
// disjoint, non-adjacent [lo, hi] ranges. With records in flight the
// receiver hands them over out of order, so a single watermark would not
// do; the ranges merge as the gaps fill, leaving about one range.
type offsetSet struct {
	r [][2]int64
}

// maxOffsetRanges bounds the ranges kept. Beyond it the lowest ranges are
// merged: offsets in the gaps between them count as seen. Gaps that old
// are records the receiver gave up on, never re-delivered in order.
const maxOffsetRanges = 4096

// has reports whether offset o was counted.
func (s *offsetSet) has(o int64) bool {
	i, found := slices.BinarySearchFunc(s.r, o, func(r [2]int64, o int64) int {
		switch {
		case r[1] < o:
			return -1
		case r[0] > o:
			return 1
		}
		return 0
	})
	_ = i
	return found
}

// add records offset o (not already in the set).
func (s *offsetSet) add(o int64) {
	i, _ := slices.BinarySearchFunc(s.r, o, func(r [2]int64, o int64) int {
		if r[1] < o {
			return -1
		}
		return 1
	})
	// s.r[i-1] ends before o; s.r[i] (if any) starts after o.
	joinLeft := i > 0 && s.r[i-1][1] == o-1
	joinRight := i < len(s.r) && s.r[i][0] == o+1
	switch {
	case joinLeft && joinRight:
		s.r[i-1][1] = s.r[i][1]
		s.r = slices.Delete(s.r, i, i+1)
	case joinLeft:
		s.r[i-1][1] = o
	case joinRight:
		s.r[i][0] = o
	default:
		s.r = slices.Insert(s.r, i, [2]int64{o, o})
	}
	if len(s.r) > maxOffsetRanges {
		s.r[1][0] = s.r[0][0]
		s.r = s.r[1:]
	}
}

func (s *offsetSet) marshal() []byte {
	b := binary.AppendUvarint(nil, uint64(len(s.r)))
	for _, r := range s.r {
		b = binary.AppendVarint(b, r[0])
		b = binary.AppendVarint(b, r[1])
	}
	return b
}

func (s *offsetSet) unmarshal(b []byte) error {
	r := reader{b: b}
	n := r.uvarint()
	if n > maxOffsetRanges {
		return fmt.Errorf("%d offset ranges", n)
	}
	s.r = make([][2]int64, 0, n)
	for range n {
		lo, hi := r.varint(), r.varint()
		if r.err == nil && (hi < lo || (len(s.r) > 0 && lo <= s.r[len(s.r)-1][1]+1)) {
			return fmt.Errorf("offset ranges not sorted and disjoint at [%d, %d]", lo, hi)
		}
		s.r = append(s.r, [2]int64{lo, hi})
	}
	return r.err
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// reader decodes what the marshal functions wrote; the first error sticks
// and later reads return zero values.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, k := binary.Uvarint(r.b)
	if k <= 0 {
		r.err = errors.New("truncated number")
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, k := binary.Varint(r.b)
	if k <= 0 {
		r.err = errors.New("truncated number")
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *reader) string() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.b)) || n > 1<<16 {
		r.err = fmt.Errorf("string of %d bytes, %d left", n, len(r.b))
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}
