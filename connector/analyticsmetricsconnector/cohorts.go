package analyticsmetricsconnector

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/bits-and-blooms/bloom/v3"

	"github.com/pulse-otel/pulse/internal/catalog"
)

// Weekly cohorts (the seed's userCohorts): users grouped by the week they
// were first seen, and how many of each cohort were active in each later
// week. The last numCohorts cohorts are kept, each for numCohorts periods.
const numCohorts = 12

// week is the number of whole weeks since Monday 1970-01-05 UTC.
func weekOf(t time.Time) int64 {
	const mondayEpoch = 4 * 24 * 3600 // 1970-01-05 is the first Monday
	return (t.Unix() - mondayEpoch) / (7 * 24 * 3600)
}

// weekStart is the Monday a week number starts on, as a cohort label.
func weekStart(w int64) string {
	return time.Unix(w*7*24*3600+4*24*3600, 0).UTC().Format(time.DateOnly)
}

type cohort struct {
	week    int64 // -1 when the slot is unused
	members *bloom.BloomFilter
	size    uint64
	active  [numCohorts]uint64 // users of the cohort active in week+period
}

// cohorts tracks the cohorts in a ring of weeks. A user is counted at most
// once per week: activeWeek filters the users already seen this week.
type cohorts struct {
	slots      [numCohorts]cohort
	activeWeek int64
	active     *bloom.BloomFilter
	perCohort  uint
	expected   uint
}

func newCohorts(expectedUsers uint) *cohorts {
	c := &cohorts{activeWeek: -1, expected: expectedUsers, perCohort: max(expectedUsers/4, 1000)}
	c.active = bloom.NewWithEstimates(expectedUsers, 0.01)
	for i := range c.slots {
		c.slots[i].week = -1
	}
	return c
}

// observe counts user u's activity at t; isNew says whether the user was
// seen for the first time.
func (c *cohorts) observe(u string, t time.Time, isNew bool) {
	w := weekOf(t)
	switch {
	case w > c.activeWeek:
		c.activeWeek = w
		c.active.ClearAll()
	case w < c.activeWeek:
		return // a late event of an earlier week: it cannot be de-duplicated
	}
	if c.active.TestAndAddString(u) {
		return
	}
	if isNew {
		s := &c.slots[w%numCohorts]
		if s.week != w {
			*s = cohort{week: w, members: bloom.NewWithEstimates(c.perCohort, 0.01)}
		}
		s.members.AddString(u)
		s.size++
		s.active[0]++
		return
	}
	for i := range c.slots {
		s := &c.slots[i]
		if s.week < 0 || s.week > w || w-s.week >= numCohorts {
			continue
		}
		if s.members.TestString(u) {
			s.active[w-s.week]++
			return
		}
	}
}

// export sets the cohort gauges of the cohorts still in range at now.
func (c *cohorts) export(a *aggregator, now time.Time) {
	cur := weekOf(now)
	for i := range c.slots {
		s := &c.slots[i]
		if s.week < 0 || cur-s.week >= numCohorts {
			continue
		}
		label := weekStart(s.week)
		a.set(catalog.CohortSize, labelSet{label}, float64(s.size))
		for p := int64(0); p <= cur-s.week && p < numCohorts; p++ {
			a.set(catalog.CohortActive, labelSet{label, periods[p]}, float64(s.active[p]))
		}
	}
}

var periods = func() (out [numCohorts]string) {
	for i := range out {
		out[i] = strconv.Itoa(i)
	}
	return out
}()

func appendFilter(b []byte, f *bloom.BloomFilter) ([]byte, error) {
	raw, err := f.MarshalBinary()
	if err != nil {
		return nil, err
	}
	b = binary.AppendUvarint(b, uint64(len(raw)))
	return append(b, raw...), nil
}

func readFilter(b []byte) (*bloom.BloomFilter, []byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return nil, nil, errors.New("truncated filter")
	}
	f, err := unmarshalFilter(b[k : k+int(n)])
	if err != nil {
		return nil, nil, err
	}
	return f, b[k+int(n):], nil
}

// unmarshalFilter decodes a bloom filter, checking first that the sizes its
// header declares fit the bytes at hand: the library allocates whatever the
// header says, so a corrupt state could otherwise exhaust memory or panic.
func unmarshalFilter(b []byte) (f *bloom.BloomFilter, err error) {
	// Layout (bloom v3 WriteTo): m, k, then the bitset: its length in bits
	// and that many bits in 64-bit words, all big-endian uint64.
	if len(b) < 24 {
		return nil, errors.New("filter: truncated header")
	}
	m := binary.BigEndian.Uint64(b[0:8])
	bits := binary.BigEndian.Uint64(b[16:24])
	words := (bits + 63) / 64
	if m == 0 || bits != m || words > uint64(len(b)-24)/8 {
		return nil, fmt.Errorf("filter: header declares %d bits for %d bytes of data", bits, len(b)-24)
	}
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("filter: corrupt: %v", r)
		}
	}()
	f = &bloom.BloomFilter{}
	if err := f.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	return f, nil
}

// MarshalBinary encodes the cohorts for the storage extension.
func (c *cohorts) MarshalBinary() ([]byte, error) {
	b := binary.AppendVarint(nil, c.activeWeek)
	b, err := appendFilter(b, c.active)
	if err != nil {
		return nil, err
	}
	for i := range c.slots {
		s := &c.slots[i]
		b = binary.AppendVarint(b, s.week)
		if s.week < 0 {
			continue
		}
		b = binary.AppendUvarint(b, s.size)
		for _, n := range s.active {
			b = binary.AppendUvarint(b, n)
		}
		if b, err = appendFilter(b, s.members); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// UnmarshalBinary restores what MarshalBinary encoded; on error c is unchanged.
func (c *cohorts) UnmarshalBinary(b []byte) error {
	next := newCohorts(c.expected)
	var k int
	if next.activeWeek, k = binary.Varint(b); k <= 0 {
		return errors.New("cohorts: truncated week")
	}
	var err error
	if next.active, b, err = readFilter(b[k:]); err != nil {
		return fmt.Errorf("cohorts: active filter: %w", err)
	}
	for i := range next.slots {
		s := &next.slots[i]
		if s.week, k = binary.Varint(b); k <= 0 {
			return fmt.Errorf("cohorts: slot %d: truncated", i)
		}
		b = b[k:]
		if s.week < 0 {
			continue
		}
		if s.size, k = binary.Uvarint(b); k <= 0 {
			return fmt.Errorf("cohorts: slot %d: truncated size", i)
		}
		b = b[k:]
		for p := range s.active {
			if s.active[p], k = binary.Uvarint(b); k <= 0 {
				return fmt.Errorf("cohorts: slot %d: truncated period %d", i, p)
			}
			b = b[k:]
		}
		if s.members, b, err = readFilter(b); err != nil {
			return fmt.Errorf("cohorts: slot %d members: %w", i, err)
		}
	}
	if len(b) != 0 {
		return fmt.Errorf("cohorts: %d bytes of trailing data", len(b))
	}
	*c = *next
	return nil
}
