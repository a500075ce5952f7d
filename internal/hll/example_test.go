package hll_test

import (
	"fmt"
	"time"

	"github.com/pulse-otel/pulse/internal/hll"
)

func Example() {
	r, err := hll.NewRing(hll.DefaultWindows())
	if err != nil {
		panic(err)
	}
	now := time.Now()
	r.Add("user-1", now)
	r.Add("user-2", now.Add(-2*time.Hour)) // not in "1h", in "1d"
	r.Add("user-1", now.Add(-3*24*time.Hour))

	for _, w := range r.Windows() {
		n, _ := r.Estimate(w.Name, now)
		fmt.Println(w.Name, n)
	}

	// Persist and restore, e.g. through a storage extension.
	state, _ := r.MarshalBinary()
	restored, _ := hll.NewRing(hll.DefaultWindows())
	if err := restored.UnmarshalBinary(state); err != nil {
		panic(err)
	}
	n, _ := restored.Estimate("30d", now)
	fmt.Println("restored 30d", n)
	// Output:
	// 1h 1
	// 1d 2
	// 7d 2
	// 30d 2
	// restored 30d 2
}
