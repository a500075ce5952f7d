//go:build unix

package analyticsmetricsconnector

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user + system) the test process has used. On a
// shared machine a benchmark's wall time per op grows with the other
// processes' load; its CPU time per op much less.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
