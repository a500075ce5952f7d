package cardinality

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

var testLabels = []Label{{Name: "metric_name"}, {Name: "category", Bounded: true}, {Name: "segment"}}

func TestValueLimitFoldsNewValues(t *testing.T) {
	f := NewFamily(testLabels, Limits{MaxValues: 3, MaxSets: 1000})
	for i := range 10 {
		vals := []string{fmt.Sprintf("m%d", i), "revenue", ""}
		folds := f.Admit(vals)
		if i < 3 {
			if folds.Any() || vals[0] != fmt.Sprintf("m%d", i) {
				t.Fatalf("value %d: folds %b, vals %q; want it admitted", i, folds, vals)
			}
			continue
		}
		if !folds.Label(0) || folds.Label(1) || folds.Sets() || vals[0] != Other || vals[1] != "revenue" {
			t.Fatalf("value %d: folds %b, vals %q; want metric_name folded only", i, folds, vals)
		}
	}
	// An admitted value stays admitted.
	vals := []string{"m1", "growth", "premium"}
	if folds := f.Admit(vals); folds.Any() || !slices.Equal(vals, []string{"m1", "growth", "premium"}) {
		t.Fatalf("admitted value: folds %b, vals %q", folds, vals)
	}
	if _, n := f.Len(0); n != 3 {
		t.Fatalf("metric_name holds %d values, want 3", n)
	}
}

func TestBoundedLabelIsNotFolded(t *testing.T) {
	f := NewFamily(testLabels, Limits{MaxValues: 1, MaxSets: 1000})
	for _, c := range []string{"revenue", "growth", "retention"} {
		vals := []string{"m", c}
		if folds := f.Admit(vals); folds.Any() || vals[1] != c {
			t.Fatalf("category %s: folds %b, vals %q", c, folds, vals)
		}
	}
}

func TestSetLimitFoldsEveryLabel(t *testing.T) {
	f := NewFamily(testLabels, Limits{MaxValues: 100, MaxSets: 4})
	for i := range 4 {
		if folds := f.Admit([]string{fmt.Sprintf("m%d", i), "revenue", "s"}); folds.Any() {
			t.Fatalf("set %d folded: %b", i, folds)
		}
	}
	vals := []string{"m0", "growth", "s"} // every value known, the set new
	folds := f.Admit(vals)
	if !folds.Sets() || folds.Label(0) || !slices.Equal(vals, []string{Other, Other, Other}) {
		t.Fatalf("fifth set: folds %b, vals %q; want the whole set folded", folds, vals)
	}
	// A shorter set (a series without the last label) folds to as many labels.
	vals = []string{"m9", "revenue"}
	if folds := f.Admit(vals); !folds.Sets() || !slices.Equal(vals, []string{Other, Other}) {
		t.Fatalf("short set: folds %b, vals %q", folds, vals)
	}
	// Known sets and the overflow set itself still pass.
	if folds := f.Admit([]string{"m2", "revenue", "s"}); folds.Any() {
		t.Fatalf("known set folded: %b", folds)
	}
	if folds := f.Admit([]string{Other, Other, Other}); folds.Any() {
		t.Fatalf("the overflow set folded: %b", folds)
	}
	if sets, _ := f.Len(0); sets != 4 {
		t.Fatalf("%d sets, want 4", sets)
	}
}

func TestOtherIsNeverAdmitted(t *testing.T) {
	f := NewFamily(testLabels, Limits{MaxValues: 1, MaxSets: 1000})
	f.Admit([]string{Other, "revenue"})
	if _, n := f.Len(0); n != 0 {
		t.Fatalf("Other took a value slot: %d values", n)
	}
	if folds := f.Admit([]string{"m", "revenue"}); folds.Any() {
		t.Fatalf("first real value folded: %b", folds)
	}
}

func TestStateRoundTrip(t *testing.T) {
	f := NewFamily(testLabels, Limits{MaxValues: 3, MaxSets: 5})
	for i := range 8 {
		f.Admit([]string{fmt.Sprintf("m%d", i%4), "revenue", fmt.Sprintf("s%d", i)})
	}
	state, err := f.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	g := NewFamily(testLabels, Limits{MaxValues: 3, MaxSets: 5})
	if err := g.UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	// The restored family folds exactly as the original: no new room.
	for i := range 12 {
		a := []string{fmt.Sprintf("m%d", i%6), "growth", fmt.Sprintf("s%d", i%3)}
		b := slices.Clone(a)
		if fa, fb := f.Admit(a), g.Admit(b); fa != fb || !slices.Equal(a, b) {
			t.Fatalf("set %d: original folds %b to %q, restored %b to %q", i, fa, a, fb, b)
		}
	}
}

func TestStateUnderLowerLimits(t *testing.T) {
	f := NewFamily(testLabels, Limits{MaxValues: 10, MaxSets: 10})
	for i := range 10 {
		f.Admit([]string{fmt.Sprintf("m%d", i), "revenue"})
	}
	state, _ := f.MarshalBinary()
	g := NewFamily(testLabels, Limits{MaxValues: 2, MaxSets: 10})
	if err := g.UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	sets, vals := g.Len(0)
	if vals != 2 || sets != 2 {
		t.Fatalf("restored under max 2 values: %d sets, %d values; want 2 and 2", sets, vals)
	}
	if folds := g.Admit([]string{"m1", "revenue"}); folds.Any() {
		t.Fatalf("an early value was dropped: %b", folds)
	}
	if folds := g.Admit([]string{"m5", "revenue"}); !folds.Label(0) {
		t.Fatalf("a late value survived the lower limit: %b", folds)
	}
}

func TestStateOfOtherLabelsIsRefused(t *testing.T) {
	f := NewFamily(testLabels, Limits{MaxValues: 10, MaxSets: 10})
	f.Admit([]string{"m", "revenue"})
	state, _ := f.MarshalBinary()
	for _, labels := range [][]Label{testLabels[:2], {{Name: "model_id"}, {Name: "category"}, {Name: "segment"}}} {
		g := NewFamily(labels, Limits{MaxValues: 10, MaxSets: 10})
		if err := g.UnmarshalBinary(state); err != ErrLabels {
			t.Errorf("labels %v: err %v, want ErrLabels", labels, err)
		}
	}
}

func TestCorruptStateIsAnErrorAndLeavesItEmpty(t *testing.T) {
	f := NewFamily(testLabels, Limits{MaxValues: 10, MaxSets: 10})
	for i := range 5 {
		f.Admit([]string{fmt.Sprintf("m%d", i), "revenue", "s"})
	}
	state, _ := f.MarshalBinary()
	for cut := range len(state) {
		g := NewFamily(testLabels, Limits{MaxValues: 10, MaxSets: 10})
		if err := g.UnmarshalBinary(state[:cut]); err == nil {
			t.Fatalf("state cut at %d of %d: no error", cut, len(state))
		}
		if sets, vals := g.Len(0); sets != 0 || vals != 0 {
			t.Fatalf("state cut at %d: %d sets, %d values kept", cut, sets, vals)
		}
	}
	g := NewFamily(testLabels, Limits{MaxValues: 10, MaxSets: 10})
	if err := g.UnmarshalBinary(append(state, 0)); err == nil {
		t.Fatal("trailing byte: no error")
	}
}

func TestConcurrentAdmitsKeepTheBound(t *testing.T) {
	f := NewFamily(testLabels, Limits{MaxValues: 50, MaxSets: 200})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				f.Admit([]string{fmt.Sprintf("m%d-%d", g, i), "revenue", fmt.Sprintf("s%d", i%7)})
			}
		}()
	}
	wg.Wait()
	sets, vals := f.Len(0)
	_, segs := f.Len(2)
	if vals != 50 || segs != 7 || sets > 200 {
		t.Fatalf("%d sets, %d metric names, %d segments; want ≤200, 50, 7", sets, vals, segs)
	}
}

func FuzzUnmarshal(f *testing.F) {
	fam := NewFamily(testLabels, Limits{MaxValues: 10, MaxSets: 10})
	fam.Admit([]string{"m", "revenue", "s"})
	state, _ := fam.MarshalBinary()
	f.Add(state)
	f.Fuzz(func(t *testing.T, data []byte) {
		g := NewFamily(testLabels, Limits{MaxValues: 3, MaxSets: 3})
		if err := g.UnmarshalBinary(data); err != nil {
			return
		}
		sets, _ := g.Len(0)
		for i := range len(testLabels) {
			if _, n := g.Len(i); n > 3 && !testLabels[i].Bounded {
				t.Fatalf("label %d holds %d values past the limit 3", i, n)
			}
		}
		if sets > 3 {
			t.Fatalf("%d sets past the limit 3", sets)
		}
	})
}

// BenchmarkAdmitKnown is the cost per snapshot whose label set is already
// admitted: the path every request takes once the values are known.
func BenchmarkAdmitKnown(b *testing.B) {
	labels := []Label{{Name: "metric_name"}, {Name: "category", Bounded: true}, {Name: "unit"}, {Name: "granularity", Bounded: true},
		{Name: "segment"}, {Name: "channel"}, {Name: "geography"}, {Name: "platform"}}
	f := NewFamily(labels, Limits{MaxValues: 1000, MaxSets: 2000})
	src := []string{"subscription_revenue", "revenue", "EUR", "daily", "premium", "organic", "EU", "web"}
	f.Admit(slices.Clone(src))
	vals := make([]string, len(src))
	b.ReportAllocs()
	for b.Loop() {
		copy(vals, src)
		if f.Admit(vals).Any() {
			b.Fatal("folded")
		}
	}
}

// BenchmarkAdmitFolded is the cost per snapshot whose value is past the
// limit: what an attack with new values costs on each request.
func BenchmarkAdmitFolded(b *testing.B) {
	f := NewFamily(testLabels, Limits{MaxValues: 1, MaxSets: 2000})
	f.Admit([]string{"first", "revenue"})
	vals := make([]string, 2)
	b.ReportAllocs()
	for b.Loop() {
		vals[0], vals[1] = "another", "revenue"
		if !f.Admit(vals).Label(0) {
			b.Fatal("not folded")
		}
	}
}

func TestLongValuesFold(t *testing.T) {
	f := NewFamily(testLabels, Limits{MaxValues: 10, MaxSets: 10, MaxValueLength: 4})
	vals := []string{"abcde", "revenue-long-but-bounded", "abcd"}
	folds := f.Admit(vals)
	if !folds.Label(0) || folds.Label(1) || folds.Label(2) || !slices.Equal(vals, []string{Other, "revenue-long-but-bounded", "abcd"}) {
		t.Fatalf("folds %b, vals %q; want the 5-byte metric_name folded only", folds, vals)
	}
}

// TestStateUnderShorterValueLength: a value dropped from the middle of the
// saved order must not shift the ids the saved label sets refer to.
func TestStateUnderShorterValueLength(t *testing.T) {
	f := NewFamily(testLabels, Limits{MaxValues: 10, MaxSets: 10})
	for _, v := range []string{"a", "long-value", "b"} {
		f.Admit([]string{v, "revenue", "s-" + v})
	}
	state, _ := f.MarshalBinary()
	g := NewFamily(testLabels, Limits{MaxValues: 10, MaxSets: 10, MaxValueLength: 4})
	if err := g.UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	if sets, vals := g.Len(0); sets != 2 || vals != 2 {
		t.Fatalf("%d sets, %d values; want the two short ones", sets, vals)
	}
	for _, v := range []string{"a", "b"} {
		if folds := g.Admit([]string{v, "revenue", "s-" + v}); folds.Any() {
			t.Errorf("restored set of %s folded: %b", v, folds)
		}
	}
	if sets, _ := g.Len(0); sets != 2 {
		t.Errorf("%d sets after admitting the restored ones again, want 2: ids shifted", sets)
	}
}
