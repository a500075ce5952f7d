package poll

import (
	"runtime"
	"testing"
	"time"
)

func TestWaitReturnsWhenCondHolds(t *testing.T) {
	calls := 0
	if !Wait(5*time.Second, time.Millisecond, func() bool { calls++; return calls == 3 }) {
		t.Fatal("Wait gave up on a condition that held at the third call")
	}
	if calls != 3 {
		t.Fatalf("cond called %d times after it held at the third, want 3", calls)
	}
}

func TestWaitGivesUpAtTheLimit(t *testing.T) {
	start := time.Now()
	calls := 0
	if Wait(50*time.Millisecond, 10*time.Millisecond, func() bool { calls++; return false }) {
		t.Fatal("Wait reported success for a condition that never held")
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("Wait gave up after %s, before its 50ms limit", d)
	}
	if calls < 2 {
		t.Fatalf("cond called %d times, want it polled more than once", calls)
	}
}

// TestCondRunsOnTheCallersGoroutine: t.Fatal in a condition ends the
// goroutine it runs on (runtime.Goexit); it must be the caller's, so that
// the test stops at once. With testify's Eventually the caller would wait
// for the limit instead.
func TestCondRunsOnTheCallersGoroutine(t *testing.T) {
	done := make(chan bool)
	go func() {
		reached := false
		defer func() { done <- reached }()
		Wait(time.Minute, time.Millisecond, func() bool { runtime.Goexit(); return false })
		reached = true
	}()
	select {
	case reached := <-done:
		if reached {
			t.Fatal("the code after Wait ran although its condition ended the goroutine")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the condition's Goexit did not end the caller's goroutine")
	}
}
