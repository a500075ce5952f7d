package hll

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"
)

// Limits checked by NewRing.
const (
	// MinBucket is the smallest bucket width.
	MinBucket = time.Minute
	// MaxBucketsPerWidth bounds the number of buckets of the longest window
	// of one bucket width, and so the memory of a Ring.
	MaxBucketsPerWidth = 64
	// maxWindows and maxNameLen keep the persisted layout description small
	// (both are stored in one byte).
	maxWindows = 255
	maxNameLen = 255
)

// ErrUnknownWindow is returned (wrapped) by Estimate for a window name the
// Ring was not built with.
var ErrUnknownWindow = errors.New("hll: unknown window")

// Window is a rolling window split in buckets of equal width.
type Window struct {
	Name   string
	Length time.Duration
	Bucket time.Duration
}

// DefaultWindows returns the hourly, daily, weekly and monthly active-user
// windows: 1h in 5 minute buckets, 1d in hourly buckets, and 7d and 30d in
// daily buckets (shared).
func DefaultWindows() []Window {
	return []Window{
		{Name: "1h", Length: time.Hour, Bucket: 5 * time.Minute},
		{Name: "1d", Length: 24 * time.Hour, Bucket: time.Hour},
		{Name: "7d", Length: 7 * 24 * time.Hour, Bucket: 24 * time.Hour},
		{Name: "30d", Length: 30 * 24 * time.Hour, Bucket: 24 * time.Hour},
	}
}

// emptySlot marks a slot that holds no bucket.
const emptySlot = math.MinInt64

// Ring counts distinct ids over several rolling windows at once. It keeps one
// sketch per bucket per distinct bucket width (buckets are shared between
// windows with the same width: 7d and 30d share the daily buckets), so memory
// is bounded by the longest window. Safe for concurrent use.
//
// Buckets are aligned on the Unix epoch: the bucket of an event at time t is
// t.Unix() / Bucket-in-seconds (rounded down), so daily buckets are UTC days
// and a Ring restored by UnmarshalBinary after a restart carries on with the
// buckets it had. Each width keeps one slot more than its longest window has
// buckets, for the bucket after the current one (see Add).
type Ring struct {
	mu        sync.Mutex
	clock     func() time.Time
	windows   []window // in the order given to NewRing
	widths    []width  // sorted by width, ascending
	minBucket int64    // seconds

	// The clock's last reading in Unix seconds (see AddOK).
	now   int64
	nowOK bool
}

type window struct {
	Window
	width   int   // index in Ring.widths
	buckets int64 // Length / Bucket
}

// width is the ring of buckets of one bucket width.
type width struct {
	sec     int64 // bucket width in seconds
	buckets int64 // buckets of the longest window of this width
	slots   int64 // buckets + 1: the ring also holds the bucket after "now"

	idx  []int64   // bucket index held by each slot, or emptySlot
	regs [][]uint8 // registers of each slot, allocated on first use

	// The bucket of Ring.now and its start in Unix seconds, so that Add
	// needs no division in the common case.
	curIdx, curStart int64
}

// NewRing returns an empty Ring counting over windows. Window names must be
// distinct and non-empty, Bucket a whole number of seconds and at least
// MinBucket, Length a positive multiple of Bucket, and the longest window of
// each bucket width at most MaxBucketsPerWidth buckets long.
func NewRing(windows []Window) (*Ring, error) {
	if len(windows) == 0 {
		return nil, errors.New("hll: no windows")
	}
	if len(windows) > maxWindows {
		return nil, fmt.Errorf("hll: %d windows, at most %d", len(windows), maxWindows)
	}
	r := &Ring{clock: time.Now, minBucket: math.MaxInt64}
	names := make(map[string]bool, len(windows))
	byWidth := map[int64]int64{} // width in seconds -> buckets of its longest window
	for i, w := range windows {
		switch {
		case w.Name == "":
			return nil, fmt.Errorf("hll: window %d has no name", i)
		case len(w.Name) > maxNameLen:
			return nil, fmt.Errorf("hll: window %d: name is %d bytes long, at most %d", i, len(w.Name), maxNameLen)
		case names[w.Name]:
			return nil, fmt.Errorf("hll: window %q is defined twice", w.Name)
		case w.Bucket < MinBucket:
			return nil, fmt.Errorf("hll: window %q: bucket %v is shorter than %v", w.Name, w.Bucket, MinBucket)
		case w.Bucket%time.Second != 0:
			return nil, fmt.Errorf("hll: window %q: bucket %v is not a whole number of seconds", w.Name, w.Bucket)
		case w.Length <= 0:
			return nil, fmt.Errorf("hll: window %q: length %v is not positive", w.Name, w.Length)
		case w.Length%w.Bucket != 0:
			return nil, fmt.Errorf("hll: window %q: length %v is not a multiple of bucket %v", w.Name, w.Length, w.Bucket)
		case w.Length/w.Bucket > MaxBucketsPerWidth:
			return nil, fmt.Errorf("hll: window %q: %v in buckets of %v is %d buckets, at most %d", w.Name, w.Length, w.Bucket, w.Length/w.Bucket, MaxBucketsPerWidth)
		}
		names[w.Name] = true
		sec := int64(w.Bucket / time.Second)
		n := int64(w.Length / w.Bucket)
		byWidth[sec] = max(byWidth[sec], n)
		r.minBucket = min(r.minBucket, sec)
	}
	secs := make([]int64, 0, len(byWidth))
	for sec := range byWidth {
		secs = append(secs, sec)
	}
	sort.Slice(secs, func(i, j int) bool { return secs[i] < secs[j] })
	for _, sec := range secs {
		r.widths = append(r.widths, newWidth(sec, byWidth[sec]))
	}
	for _, w := range windows {
		sec := int64(w.Bucket / time.Second)
		wi := sort.Search(len(secs), func(i int) bool { return secs[i] >= sec })
		r.windows = append(r.windows, window{Window: w, width: wi, buckets: int64(w.Length / w.Bucket)})
	}
	return r, nil
}

func newWidth(sec, buckets int64) width {
	w := width{sec: sec, buckets: buckets, slots: buckets + 1}
	w.idx = make([]int64, w.slots)
	for i := range w.idx {
		w.idx[i] = emptySlot
	}
	w.regs = make([][]uint8, w.slots)
	return w
}

// SetClock replaces the clock Add and MarshalBinary use for "now" (time.Now
// by default; nil restores it). Meant for tests.
func (r *Ring) SetClock(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	r.mu.Lock()
	r.clock = now
	r.nowOK = false
	r.mu.Unlock()
}

// Windows returns the windows the Ring was built with, in their order.
func (r *Ring) Windows() []Window {
	out := make([]Window, len(r.windows))
	for i, w := range r.windows {
		out[i] = w.Window
	}
	return out
}

// Add counts id as seen at event time t. See AddOK.
func (r *Ring) Add(id string, t time.Time) { r.AddOK(id, t) }

// AddOK counts id as seen at event time t, and reports whether it was kept.
//
// Events more than one (smallest) bucket ahead of the Ring's clock are
// ignored. Events whose bucket is older than the longest window of a bucket
// width are not kept in that width (an event two hours old is not kept in
// the 5 minute buckets of "1h" but is in the hourly buckets of "1d"), and
// AddOK reports false when no width kept it.
//
// id is hashed once, whatever the number of windows. To stay fast AddOK
// reads the clock only when t is ahead of the last reading by more than the
// smallest bucket, so while events keep arriving "now" for the old-event
// check lags the clock by at most that bucket; when events stop for a
// while an old event may be reported kept although no window covers it any
// more (it is never counted: Estimate and MarshalBinary look at bucket
// indexes). AddOK does not allocate, except once for each bucket slot the
// first time it is used.
func (r *Ring) AddOK(id string, t time.Time) bool {
	reg, rank := hashID(id)
	ts := t.Unix()

	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.nowOK || ahead(ts, r.now, r.minBucket) {
		r.readClock()
		if ahead(ts, r.now, r.minBucket) {
			return false // more than one bucket in the future
		}
	}
	kept := false
	for i := range r.widths {
		w := &r.widths[i]
		var idx int64
		switch d := ts - w.curStart; {
		case d >= 0 && d < w.sec:
			idx = w.curIdx
		case d >= w.sec && d < 2*w.sec:
			idx = w.curIdx + 1
		default:
			idx = floorDiv(ts, w.sec)
			if idx <= w.curIdx-w.buckets {
				continue // older than the longest window of this width
			}
		}
		s := floorMod(idx, w.slots)
		if w.idx[s] != idx {
			// The slot holds no bucket, or one the clock has passed (idx is
			// in [cur-buckets+1, cur+1] and the slot's bucket is congruent
			// modulo buckets+1), or one more than a bucket ahead of the
			// clock (written before the clock was set back): reuse it.
			if w.regs[s] == nil {
				w.regs[s] = make([]uint8, numRegs)
			} else {
				clear(w.regs[s])
			}
			w.idx[s] = idx
		}
		regs := w.regs[s][:numRegs]
		if rank > regs[reg] {
			regs[reg] = rank
		}
		kept = true
	}
	return kept
}

// ahead reports whether ts is more than limit seconds after now.
func ahead(ts, now, limit int64) bool {
	return ts > now && uint64(ts)-uint64(now) > uint64(limit)
}

// readClock reads the clock into r.now and the current bucket of each
// width. r.mu must be held.
func (r *Ring) readClock() {
	r.now = r.clock().Unix()
	r.nowOK = true
	for i := range r.widths {
		w := &r.widths[i]
		w.curIdx = floorDiv(r.now, w.sec)
		w.curStart = w.curIdx * w.sec
	}
}

// Estimate returns the estimated number of distinct ids seen in window at
// now: those added with an event time in the window's last Length/Bucket
// buckets up to and including the bucket of now, that is (now-Length, now]
// at bucket granularity. The standard error is about 0.81 % (p = 14).
func (r *Ring) Estimate(windowName string, now time.Time) (uint64, error) {
	var win *window
	for i := range r.windows {
		if r.windows[i].Name == windowName {
			win = &r.windows[i]
			break
		}
	}
	if win == nil {
		return 0, fmt.Errorf("%w %q", ErrUnknownWindow, windowName)
	}
	acc := make([]uint8, numRegs)
	r.mu.Lock()
	w := &r.widths[win.width]
	cur := floorDiv(now.Unix(), w.sec)
	lo := cur - win.buckets + 1
	for s, idx := range w.idx {
		if idx >= lo && idx <= cur && w.regs[s] != nil {
			mergeMax(acc, w.regs[s])
		}
	}
	r.mu.Unlock()
	return toCount(estimate(acc)), nil
}

// MemoryBytes returns the bytes the Ring holds: registers (16 KiB for each
// bucket slot in use; slots are allocated when first used and kept) plus
// bookkeeping. With DefaultWindows it is at most about 1.1 MB (69 slots).
func (r *Ring) MemoryBytes() int {
	const sliceHeader = 24
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 128 // the Ring itself, approximately
	for _, w := range r.windows {
		n += 64 + len(w.Name)
	}
	for i := range r.widths {
		w := &r.widths[i]
		n += 96 + len(w.idx)*8 + len(w.regs)*sliceHeader
		for _, regs := range w.regs {
			n += cap(regs)
		}
	}
	return n
}

// floorDiv and floorMod round towards minus infinity (b > 0), so that times
// before 1970 fall in the right bucket.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}
