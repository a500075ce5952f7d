// Package procstat reads a process's CPU time and resident memory from
// /proc, for the testbed's measurements of the collector under test.
package procstat // import "github.com/pulse-otel/pulse/testbed/internal/procstat"

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the kernel's clock tick for /proc/<pid>/stat times (USER_HZ,
// 100 on Linux).
const userHZ = 100

// Read returns the CPU time (user + system) and the resident set size of
// process pid; zero values when it cannot be read (the process is gone).
func Read(pid int) (cpu time.Duration, rss int64) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0
	}
	s := string(stat)
	// The fields after the command name, which is in parentheses and may
	// hold spaces.
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(fields) < 22 {
		return 0, 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	pages, _ := strconv.ParseInt(fields[21], 10, 64)
	return time.Duration(utime+stime) * time.Second / userHZ, pages * int64(os.Getpagesize())
}
