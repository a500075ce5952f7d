package procstat

import (
	"os"
	"testing"
	"time"
)

func TestReadSelf(t *testing.T) {
	// Burn some CPU so that the reading cannot be zero.
	deadline := time.Now().Add(50 * time.Millisecond)
	for x := 0; time.Now().Before(deadline); x++ {
		_ = x * x
	}
	cpu, rss := Read(os.Getpid())
	if cpu <= 0 || rss < 1<<20 {
		t.Fatalf("Read(self) = %s CPU, %d bytes RSS", cpu, rss)
	}
	if cpu, rss := Read(-1); cpu != 0 || rss != 0 {
		t.Fatalf("Read(-1) = %s, %d; want zeros", cpu, rss)
	}
}
