//go:build !unix

package analyticsmetricsconnector

import "time"

// cpuTime is not measured here: the cpu-ns metrics read 0.
func cpuTime() time.Duration { return 0 }
