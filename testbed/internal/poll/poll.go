// Package poll waits for a condition on the calling goroutine.
//
// testify's Eventually runs its condition on a goroutine of its own. The
// e2e tests' conditions query the collector through helpers that call
// t.Fatal on a transport or decoding error, and FailNow must run on the
// test's goroutine: from another one it ends only that goroutine, and the
// test fails at the timeout with the cause hidden. Until and Wait call the
// condition on the caller's goroutine, so such a failure stops the test at
// once and names its cause.
package poll // import "github.com/pulse-otel/pulse/testbed/internal/poll"

import (
	"testing"
	"time"
)

// Wait calls cond every tick until it returns true or limit has passed,
// and reports whether it did. cond is called once more at the limit.
func Wait(limit, tick time.Duration, cond func() bool) bool {
	timeout := time.NewTimer(limit)
	defer timeout.Stop()
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	for {
		if cond() {
			return true
		}
		select {
		case <-timeout.C:
			return cond()
		case <-ticker.C:
		}
	}
}

// Until is Wait that fails t when cond never held: "timed out after
// <limit> waiting for <what>".
func Until(t testing.TB, limit, tick time.Duration, cond func() bool, what string) {
	t.Helper()
	if !Wait(limit, tick, cond) {
		t.Fatalf("timed out after %s waiting for %s", limit, what)
	}
}
