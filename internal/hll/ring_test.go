package hll

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// testNow is a fixed "now": 12:33 UTC, so the 5 minute bucket began at
// 12:30 and the hourly one at 12:00.
var testNow = time.Date(2026, 3, 10, 12, 33, 0, 0, time.UTC)

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func newTestRing(t testing.TB, windows []Window, now time.Time) *Ring {
	t.Helper()
	r, err := NewRing(windows)
	if err != nil {
		t.Fatal(err)
	}
	r.SetClock(fixedClock(now))
	return r
}

func id(i int) string { return "user-" + strconv.Itoa(i) }

func estimateOf(t testing.TB, r *Ring, window string, now time.Time) uint64 {
	t.Helper()
	n, err := r.Estimate(window, now)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func relErr(est uint64, truth int) float64 {
	return math.Abs(float64(est)-float64(truth)) / float64(truth)
}

func TestDefaultWindows(t *testing.T) {
	r := newTestRing(t, DefaultWindows(), testNow)
	if got := len(r.widths); got != 3 {
		t.Fatalf("DefaultWindows use %d bucket widths, want 3 (5m, 1h, 1d shared by 7d and 30d)", got)
	}
	wantSlots := []int64{13, 25, 31}
	for i, w := range r.widths {
		if w.slots != wantSlots[i] {
			t.Errorf("width %ds: %d slots, want %d", w.sec, w.slots, wantSlots[i])
		}
	}
	if got := r.Windows(); len(got) != 4 || got[0].Name != "1h" || got[3].Name != "30d" {
		t.Errorf("Windows() = %v", got)
	}
}

func TestNewRingValidation(t *testing.T) {
	h, m := time.Hour, time.Minute
	for _, tc := range []struct {
		name    string
		windows []Window
		want    string
	}{
		{"none", nil, "no windows"},
		{"no name", []Window{{"", h, 5 * m}}, "window 0 has no name"},
		{"long name", []Window{{strings.Repeat("x", 256), h, 5 * m}}, "256 bytes long"},
		{"duplicate", []Window{{"a", h, 5 * m}, {"a", 2 * h, h}}, `window "a" is defined twice`},
		{"short bucket", []Window{{"a", h, 30 * time.Second}}, "bucket 30s is shorter than 1m0s"},
		{"fractional bucket", []Window{{"a", 90*m + 1500*time.Millisecond, 90*m + 500*time.Millisecond}}, "not a whole number of seconds"},
		{"zero length", []Window{{"a", 0, 5 * m}}, "length 0s is not positive"},
		{"not multiple", []Window{{"a", h, 7 * m}}, "length 1h0m0s is not a multiple of bucket 7m0s"},
		{"too many buckets", []Window{{"a", 65 * m, m}}, "65 buckets, at most 64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewRing(tc.windows)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewRing(%v) = %v, want error containing %q", tc.windows, err, tc.want)
			}
		})
	}
	if _, err := NewRing([]Window{{"a", 64 * m, m}}); err != nil {
		t.Errorf("64 buckets: %v", err)
	}
}

func TestEstimateUnknownWindow(t *testing.T) {
	r := newTestRing(t, DefaultWindows(), testNow)
	if _, err := r.Estimate("2h", testNow); !errors.Is(err, ErrUnknownWindow) || !strings.Contains(err.Error(), `"2h"`) {
		t.Fatalf("Estimate(2h) = %v", err)
	}
}

func TestSmallCountsExact(t *testing.T) {
	r := newTestRing(t, DefaultWindows(), testNow)
	for i := range 100 {
		r.Add(id(i), testNow)
		if got := estimateOf(t, r, "1h", testNow); got != uint64(i+1) {
			t.Fatalf("after %d ids: estimate %d", i+1, got)
		}
	}
}

// TestAccuracy adds 1M distinct ids, all within the last 50 minutes so that
// every window holds all of them, and checks the error at 1k, 10k, 100k and
// 1M ids. Each id is added twice, in two different buckets.
func TestAccuracy(t *testing.T) {
	r := newTestRing(t, DefaultWindows(), testNow)
	checkpoints := []int{1_000, 10_000, 100_000, 1_000_000}
	t.Logf("%-10s %6s %10s %8s", "distinct", "window", "estimate", "error")
	worst := 0.0
	n := 0
	for _, cp := range checkpoints {
		for ; n < cp; n++ {
			s := id(n)
			r.Add(s, testNow.Add(-time.Duration(n%50)*time.Minute))
			r.Add(s, testNow.Add(-time.Duration((n+25)%50)*time.Minute))
		}
		for _, w := range DefaultWindows() {
			est := estimateOf(t, r, w.Name, testNow)
			e := relErr(est, cp)
			worst = max(worst, e)
			t.Logf("%-10d %6s %10d %+7.3f%%", cp, w.Name, est, 100*(float64(est)-float64(cp))/float64(cp))
			if e > 0.02 {
				t.Errorf("%d ids, window %s: estimate %d, error %.2f%% > 2%%", cp, w.Name, est, 100*e)
			}
		}
	}
	t.Logf("worst error %.3f%%", 100*worst)
}

// TestAccuracySpread spreads events over 31 days, with repeated ids, and
// compares each window's estimate with the exact count under the bucket
// rule.
func TestAccuracySpread(t *testing.T) {
	const events, distinct = 300_000, 200_000
	r := newTestRing(t, DefaultWindows(), testNow)
	truth := map[string]map[int]bool{}
	for _, w := range DefaultWindows() {
		truth[w.Name] = map[int]bool{}
	}
	span := int64(31 * 24 * time.Hour / time.Second)
	x := uint64(12345)
	for i := range events {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		ts := testNow.Unix() - int64(x%uint64(span))
		u := i % distinct
		r.Add(id(u), time.Unix(ts, 0))
		for _, w := range DefaultWindows() {
			sec := int64(w.Bucket / time.Second)
			cur := floorDiv(testNow.Unix(), sec)
			if b := floorDiv(ts, sec); b <= cur && b > cur-int64(w.Length/w.Bucket) {
				truth[w.Name][u] = true
			}
		}
	}
	for _, w := range DefaultWindows() {
		est := estimateOf(t, r, w.Name, testNow)
		n := len(truth[w.Name])
		t.Logf("window %-4s exact %7d estimate %7d error %+.3f%%", w.Name, n, est, 100*(float64(est)-float64(n))/float64(n))
		if e := relErr(est, n); e > 0.02 {
			t.Errorf("window %s: estimate %d, exact %d, error %.2f%% > 2%%", w.Name, est, n, 100*e)
		}
	}
}

func TestRolling(t *testing.T) {
	r := newTestRing(t, DefaultWindows(), testNow)
	r.Add("old-a", testNow.Add(-2*time.Hour))
	r.Add("old-b", testNow.Add(-2*time.Hour))
	r.Add("new", testNow)
	r.Add("new", testNow.Add(-30*time.Minute)) // duplicate in another bucket
	want := map[string]uint64{"1h": 1, "1d": 3, "7d": 3, "30d": 3}
	for w, n := range want {
		if got := estimateOf(t, r, w, testNow); got != n {
			t.Errorf("%s at now: %d, want %d", w, got, n)
		}
	}
	// Windows move a bucket at a time: at 13:30 the 1h window starts at
	// 12:35, so "new" (12:33 and 12:03) has left it, and at 13:29 it starts
	// at 12:30. At 10:33 the next day the 1d window starts at 11:00: "old"
	// (10:33) has left it; at 12:00 it starts at 13:00 and "new" has left.
	// Days are UTC days.
	for _, tc := range []struct {
		after  time.Duration
		window string
		want   uint64
	}{
		{57 * time.Minute, "1h", 0},
		{56 * time.Minute, "1h", 1},
		{21 * time.Hour, "1d", 3},
		{22 * time.Hour, "1d", 1},
		{23*time.Hour + 26*time.Minute, "1d", 1},
		{23*time.Hour + 27*time.Minute, "1d", 0},
		{6 * 24 * time.Hour, "7d", 3},
		{7 * 24 * time.Hour, "7d", 0},
		{29 * 24 * time.Hour, "30d", 3},
		{30 * 24 * time.Hour, "30d", 0},
	} {
		if got := estimateOf(t, r, tc.window, testNow.Add(tc.after)); got != tc.want {
			t.Errorf("%s at now+%v: %d, want %d", tc.window, tc.after, got, tc.want)
		}
	}

	// Time moves on: slots of buckets the clock has passed are reused.
	later := testNow.Add(2 * time.Hour)
	r.SetClock(fixedClock(later))
	for i := range 50 {
		r.Add(id(i), later)
	}
	if got := estimateOf(t, r, "1h", later); got != 50 {
		t.Errorf("1h two hours later: %d, want 50", got)
	}
	if got := estimateOf(t, r, "1d", later); got != 53 {
		t.Errorf("1d two hours later: %d, want 53", got)
	}
}

func TestDuplicatesAcrossBuckets(t *testing.T) {
	r := newTestRing(t, DefaultWindows(), testNow)
	const n = 20_000
	// The same ids in each of the 12 five-minute buckets of the last hour,
	// and in each of the last 30 days.
	for b := range 12 {
		for i := range n {
			r.Add(id(i), testNow.Add(-time.Duration(b)*5*time.Minute))
		}
	}
	for d := range 30 {
		for i := range n {
			r.Add(id(i), testNow.Add(-time.Duration(d)*24*time.Hour))
		}
	}
	for _, w := range DefaultWindows() {
		if est := estimateOf(t, r, w.Name, testNow); relErr(est, n) > 0.02 {
			t.Errorf("%s: %d, want about %d", w.Name, est, n)
		}
	}
}

func TestFutureAndOldEvents(t *testing.T) {
	r := newTestRing(t, DefaultWindows(), testNow)
	for _, tc := range []struct {
		name string
		at   time.Time
		want bool
	}{
		{"six minutes ahead", testNow.Add(6 * time.Minute), false},
		{"a day ahead", testNow.Add(24 * time.Hour), false},
		{"31 days ago", testNow.Add(-31 * 24 * time.Hour), false},
		{"zero time", time.Time{}, false},
		{"before 1970", time.Unix(-1000, 0), false},
		{"four minutes ahead", testNow.Add(4 * time.Minute), true},
		{"two hours ago", testNow.Add(-2 * time.Hour), true},
		{"29 days ago", testNow.Add(-29 * 24 * time.Hour), true},
	} {
		if got := r.AddOK(tc.name, tc.at); got != tc.want {
			t.Errorf("AddOK(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
	// Kept: four minutes ahead (next 5m bucket, same hour and day), two
	// hours ago (hour and day buckets) and 29 days ago (day bucket).
	want := map[string]uint64{"1h": 0, "1d": 2, "7d": 2, "30d": 3}
	for w, n := range want {
		if got := estimateOf(t, r, w, testNow); got != n {
			t.Errorf("%s: %d, want %d", w, got, n)
		}
	}
	if got := estimateOf(t, r, "1h", testNow.Add(4*time.Minute)); got != 1 {
		t.Errorf("1h four minutes later: %d, want 1", got)
	}
}

// The slot for the bucket after the current one must not evict the oldest
// bucket of the window.
func TestFutureBucketKeepsOldest(t *testing.T) {
	r := newTestRing(t, DefaultWindows(), testNow)
	r.Add("oldest", testNow.Add(-55*time.Minute)) // 11:38: first bucket of 1h
	r.Add("future", testNow.Add(4*time.Minute))   // 12:37: bucket after now
	if got := estimateOf(t, r, "1h", testNow); got != 1 {
		t.Fatalf("1h: %d, want 1", got)
	}
	if got := estimateOf(t, r, "1h", testNow.Add(4*time.Minute)); got != 1 {
		t.Fatalf("1h at 12:37: %d, want 1 (oldest left, future arrived)", got)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	now := testNow
	a := newTestRing(t, DefaultWindows(), now)
	ref := newTestRing(t, DefaultWindows(), now)
	addBoth := func(s string, at time.Time) { a.Add(s, at); ref.Add(s, at) }
	// Dense buckets (many ids) and sparse ones (few).
	for i := range 50_000 {
		addBoth(id(i), now.Add(-time.Duration(i%40)*time.Minute))
	}
	for d := 1; d < 30; d++ {
		addBoth(id(d), now.Add(-time.Duration(d)*24*time.Hour))
	}

	b, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("encoded size: %d bytes", len(b))

	// Restore into a Ring built with the same windows in another order.
	ws := DefaultWindows()
	ws[0], ws[3] = ws[3], ws[0]
	c := newTestRing(t, ws, now)
	if err := c.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	b2, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if string(b2) != string(b) {
		t.Errorf("re-encoding differs: %d vs %d bytes", len(b2), len(b))
	}

	// Carry on after the "restart": a later clock, more ids.
	later := now.Add(90 * time.Minute)
	c.SetClock(fixedClock(later))
	ref.SetClock(fixedClock(later))
	for i := 40_000; i < 80_000; i++ {
		c.Add(id(i), later)
		ref.Add(id(i), later)
	}
	for _, w := range DefaultWindows() {
		got, want := estimateOf(t, c, w.Name, later), estimateOf(t, ref, w.Name, later)
		if got != want {
			t.Errorf("%s after restart: %d, without restart %d", w.Name, got, want)
		}
	}
	if got := estimateOf(t, c, "1h", later); relErr(got, 40_000) > 0.02 {
		t.Errorf("1h after restart: %d, want about 40000", got)
	}
	if got := estimateOf(t, c, "1d", later); relErr(got, 80_000) > 0.02 {
		t.Errorf("1d after restart: %d, want about 80000", got)
	}
}

func TestMarshalDropsStaleBuckets(t *testing.T) {
	r := newTestRing(t, DefaultWindows(), testNow)
	r.Add("x", testNow)
	fresh, _ := r.MarshalBinary()
	r.SetClock(fixedClock(testNow.Add(40 * 24 * time.Hour)))
	stale, _ := r.MarshalBinary()
	empty, _ := newTestRing(t, DefaultWindows(), testNow).MarshalBinary()
	if len(stale) != len(empty) || len(fresh) <= len(empty) {
		t.Errorf("sizes: fresh %d, 40 days later %d, empty %d", len(fresh), len(stale), len(empty))
	}
}

func TestMemoryBytes(t *testing.T) {
	// At 23:57, an event every minute from 31 days ago to 5 minutes ahead
	// (the next hour and day) fills every slot of every width.
	now := time.Date(2026, 3, 10, 23, 57, 0, 0, time.UTC)
	r := newTestRing(t, DefaultWindows(), now)
	empty := r.MemoryBytes()
	for at := now.Add(-31 * 24 * time.Hour); !at.After(now.Add(5 * time.Minute)); at = at.Add(time.Minute) {
		r.Add("x", at)
	}
	slots := 0
	for _, w := range r.widths {
		for _, regs := range w.regs {
			if regs != nil {
				slots++
			}
		}
	}
	full := r.MemoryBytes()
	t.Logf("DefaultWindows: MemoryBytes empty %d, full %d (%d slots of %d register bytes)", empty, full, slots, numRegs)
	if slots != 13+25+31 {
		t.Errorf("%d slots in use, want 69", slots)
	}
	if full < 69*numRegs || full > 1_200_000 {
		t.Errorf("MemoryBytes full = %d", full)
	}
}

func TestConcurrent(t *testing.T) {
	r := newTestRing(t, DefaultWindows(), testNow)
	const writers, perWriter = 4, 25_000
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				r.Add(id(g*perWriter+i), testNow.Add(-time.Duration(i%60)*time.Minute))
			}
		}()
	}
	var readers sync.WaitGroup
	readers.Add(1)
	go func() {
		defer readers.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			for _, w := range DefaultWindows() {
				if _, err := r.Estimate(w.Name, testNow); err != nil {
					t.Error(err)
					return
				}
			}
			b, err := r.MarshalBinary()
			if err != nil {
				t.Error(err)
				return
			}
			other, err := NewRing(DefaultWindows()) // not newTestRing: no t.Fatal off the test goroutine
			if err != nil {
				t.Error(err)
				return
			}
			other.SetClock(fixedClock(testNow))
			if err := other.UnmarshalBinary(b); err != nil {
				t.Error(err)
				return
			}
			_ = r.MemoryBytes()
		}
	}()
	wg.Wait()
	close(stop)
	readers.Wait()
	if got := estimateOf(t, r, "1d", testNow); relErr(got, writers*perWriter) > 0.02 {
		t.Errorf("1d: %d, want about %d", got, writers*perWriter)
	}
}

func BenchmarkAdd(b *testing.B) {
	r, err := NewRing(DefaultWindows()) // real clock: Add reads it every call
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, 1<<16)
	for i := range ids {
		ids[i] = id(i)
	}
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := range b.N {
		r.Add(ids[i&(len(ids)-1)], now)
	}
	reportCPU(b, cpu)
}

func BenchmarkAddParallel(b *testing.B) {
	r, err := NewRing(DefaultWindows())
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, 1<<16)
	for i := range ids {
		ids[i] = id(i)
	}
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			r.Add(ids[i&(len(ids)-1)], now)
			i++
		}
	})
}

func BenchmarkEstimate30d(b *testing.B) {
	r := newTestRing(b, DefaultWindows(), testNow)
	for d := range 30 {
		for i := range 100_000 {
			r.Add(id(d*50_000+i), testNow.Add(-time.Duration(d)*24*time.Hour))
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for range b.N {
		if _, err := r.Estimate("30d", testNow); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
}

func BenchmarkMarshal(b *testing.B) {
	r := newTestRing(b, DefaultWindows(), testNow)
	for at := testNow.Add(-30 * 24 * time.Hour); !at.After(testNow); at = at.Add(5 * time.Minute) {
		for i := range 200 {
			r.Add(id(i), at)
		}
	}
	buf, _ := r.MarshalBinary()
	b.Logf("encoded: %d bytes", len(buf))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := r.MarshalBinary(); err != nil {
			b.Fatal(err)
		}
	}
}

// After the clock is set back, buckets written under the later clock in the
// slots the current buckets need are reused, not left blocking them.
func TestClockSetBack(t *testing.T) {
	ahead := testNow.Add(65 * time.Minute) // 13 five-minute buckets: the same 5m slot
	r := newTestRing(t, DefaultWindows(), ahead)
	r.Add("from-the-future", ahead)
	r.SetClock(fixedClock(testNow))
	if !r.AddOK("x", testNow) {
		t.Fatal("AddOK after the clock was set back = false")
	}
	if got := estimateOf(t, r, "1h", testNow); got != 1 {
		t.Errorf("1h: %d, want 1", got)
	}
	if got := estimateOf(t, r, "1h", ahead); got != 0 {
		t.Errorf("1h at the old clock: %d, want 0 (its bucket was reused)", got)
	}
}
