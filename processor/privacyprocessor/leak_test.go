package privacyprocessor

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine outlives them: every
// component stops what it started in Shutdown.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
