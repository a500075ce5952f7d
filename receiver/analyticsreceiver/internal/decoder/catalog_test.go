package decoder

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pulse-otel/pulse/internal/catalog"
)

// The snapshot gauges of internal/catalog (which docs/metrics.md is checked
// against) are what the specs emit: the same metrics, in spec order, with
// the labels the decoder puts on their points.
func TestSnapshotMetricsMatchCatalog(t *testing.T) {
	assert.Equal(t, catalog.SnapshotMetrics(), SnapshotMetrics())
}
