//go:build unix

package hll

import (
	"syscall"
	"testing"
	"time"
)

// reportCPU reports the process CPU time per operation as "cpu-ns/op",
// next to the wall-clock ns/op, which is inflated when the machine is busy
// with other work. start is a value returned by cpuTime.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
