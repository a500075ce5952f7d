//go:build !unix

package testutil // import "github.com/pulse-otel/pulse/internal/testutil"

import "os"

// lockPort always succeeds where there is no flock: processes are kept
// apart only by their starting points.
func lockPort(path string) (*os.File, bool) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	return f, err == nil
}
