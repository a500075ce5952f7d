package scalerig

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pulse-otel/pulse/testbed/internal/procstat"
)

// KafkaPID is the broker's process id, found among this process's
// children by name (kafkatest.Broker does not export it); 0 when it is
// not running.
func (r *Rig) KafkaPID() int { return childPID("kfake") }

// CPU is the user+system time of process pid so far (0 once it is gone).
func CPU(pid int) time.Duration {
	cpu, _ := procstat.Read(pid)
	return cpu
}

// childPID returns the id of a child of this process whose command name
// is comm, or 0.
func childPID(comm string) int {
	self := os.Getpid()
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join(d, "stat"))
		if err != nil {
			continue
		}
		s := string(stat)
		lp, rp := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if lp < 0 || rp < lp {
			continue
		}
		// After the name: state, then the parent's id.
		fields := strings.Fields(s[rp+1:])
		if len(fields) < 2 || s[lp+1:rp] != comm {
			continue
		}
		if ppid, _ := strconv.Atoi(fields[1]); ppid == self {
			return pid
		}
	}
	return 0
}
