package receipt

import (
	"context"
	"sync"
	"testing"
)

func TestFromContext(t *testing.T) {
	if FromContext(context.Background()) != nil {
		t.Fatal("a context without a receipt must give nil")
	}
	r := &Receipt{}
	if got := FromContext(NewContext(context.Background(), r)); got != r {
		t.Fatalf("FromContext = %p, want %p", got, r)
	}
}

func TestDroppedSortedOncePerRecord(t *testing.T) {
	r := &Receipt{}
	var wg sync.WaitGroup
	// Two pipelines fed the same request drop the same records.
	for range 2 {
		wg.Go(func() {
			for _, i := range []int{7, 2, 5} {
				r.Drop(i, "consent_event_type")
			}
		})
	}
	wg.Wait()
	r.Drop(0, "pii")
	got := r.Dropped()
	want := []Drop{{0, "pii"}, {2, "consent_event_type"}, {5, "consent_event_type"}, {7, "consent_event_type"}}
	if len(got) != len(want) {
		t.Fatalf("Dropped() = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Dropped()[%d] = %v, want %v", i, got[i], want[i])
		}
	}
}
