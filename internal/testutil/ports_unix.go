//go:build unix

package testutil // import "github.com/pulse-otel/pulse/internal/testutil"

import (
	"os"
	"syscall"
)

// lockPort takes the exclusive lock of path without waiting; it reports
// false when another process holds it.
func lockPort(path string) (*os.File, bool) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, false
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		return nil, false
	}
	return f, true
}
