package proc

import (
	"testing"
	"time"
)

// tailLines is how much of a process's output a failed test shows.
const tailLines = 200

// StartTest starts spec's command for a test: a start error fails the test,
// and a cleanup kills the process if it still runs and, when the test
// failed, logs the tail of its output (once for a Buffer several starts
// share).
func StartTest(t testing.TB, spec Spec) *Process {
	t.Helper()
	p, err := Start(spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Kill()
		if b, isBuf := p.out.(*Buffer); t.Failed() && (!isBuf || b.show()) {
			t.Logf("%s output (last %d lines):\n%s", p.name, tailLines, p.Tail(tailLines))
		}
	})
	return p
}

// StartReady is StartTest followed by WaitReady: the test fails (and the
// cleanup shows the output's tail) when the process exits first or is not
// ready within timeout.
func StartReady(t testing.TB, spec Spec, timeout time.Duration, ready func() bool) *Process {
	t.Helper()
	p := StartTest(t, spec)
	if err := p.WaitReady(timeout, ready); err != nil {
		t.Fatal(err)
	}
	return p
}
