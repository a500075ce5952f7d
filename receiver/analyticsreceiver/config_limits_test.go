package analyticsreceiver

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"

	"github.com/pulse-otel/pulse/internal/testutil"
	"github.com/pulse-otel/pulse/receiver/analyticsreceiver/internal/metadata"
)

func TestLoadSnapshotLabels(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.Equal(t, SnapshotLabelsConfig{MaxValuesPerLabel: 1000, MaxLabelSets: 2000, MaxValueLength: 256}, cfg.SnapshotLabels)

	require.NoError(t, testutil.LoadConfig(t, configPath, component.NewIDWithName(metadata.Type, "labels"), cfg))
	id := component.MustNewID("file_storage")
	assert.Equal(t, SnapshotLabelsConfig{MaxValuesPerLabel: 50, MaxLabelSets: 500, MaxValueLength: 64, Storage: &id}, cfg.SnapshotLabels)
}

func TestSnapshotLabelsErrors(t *testing.T) {
	err := testutil.LoadConfig(t, configPath, component.NewIDWithName(metadata.Type, "bad_labels"), createDefaultConfig())
	require.Error(t, err)
	// The collector prefixes the nested struct's errors with its key.
	require.ErrorContains(t, err, "snapshot_labels: ")
	for _, w := range []string{
		"max_values_per_label: must be between 1 and 1000000, got 0",
		"max_label_sets: must be between 1 and 1000000, got -1",
		"max_value_length: must be between 1 and 65536, got 70000",
	} {
		assert.ErrorContains(t, err, w)
	}
}
