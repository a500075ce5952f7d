package userkeyprocessor

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine outlives them: the
// kafka exporter and the test's Kafka client are shut down by the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
