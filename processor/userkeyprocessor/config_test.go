package userkeyprocessor

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pipeline"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/pulse-otel/pulse/internal/testutil"
	"github.com/pulse-otel/pulse/processor/userkeyprocessor/internal/metadata"
)

var configPath = filepath.Join("testdata", "config.yaml")

func TestLoadConfig(t *testing.T) {
	custom := createDefaultConfig().(*Config)
	custom.Keys = 256
	custom.MetadataKey = "x-pulse-key"
	custom.Partitions = 8
	testutil.CheckConfigs(t, configPath, createDefaultConfig,
		testutil.ConfigCase{ID: component.NewID(metadata.Type), Expected: createDefaultConfig()},
		testutil.ConfigCase{ID: component.NewIDWithName(metadata.Type, "custom"), Expected: custom},
	)
}

func TestDefaultConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.Equal(t, 64, cfg.Keys)
	assert.Equal(t, "pulse.user_key", cfg.MetadataKey)
	require.NoError(t, cfg.Validate())
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		want []string
	}{
		{"bad_zero", []string{"keys: must be between 1 and 4096, got 0"}},
		{"bad_partitions", []string{"keys: must be a multiple of partitions (6), got 64"}},
		{"bad_negative", []string{"partitions: must not be negative (0: not set), got -1"}},
		{"bad_many", []string{
			"keys: must be between 1 and 4096, got 5000",
			`metadata_key: must not be empty (default "pulse.user_key")`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := testutil.LoadConfig(t, configPath, component.NewIDWithName(metadata.Type, tt.name), createDefaultConfig())
			require.Error(t, err)
			for _, w := range tt.want {
				require.ErrorContains(t, err, w)
			}
		})
	}
}

func TestFactory(t *testing.T) {
	f := NewFactory()
	assert.Equal(t, metadata.Type, f.Type())
	assert.Equal(t, metadata.LogsStability, f.LogsStability())
	set := processortest.NewNopSettings(metadata.Type)
	p, err := f.CreateLogs(context.Background(), set, f.CreateDefaultConfig(), consumertest.NewNop())
	require.NoError(t, err)
	assert.True(t, p.Capabilities().MutatesData, "records are moved out of the request")
	require.NoError(t, p.Start(context.Background(), nil))
	require.NoError(t, p.Shutdown(context.Background()))

	// Metrics and traces are not supported: the per-user state is built
	// from log records only.
	_, err = f.CreateMetrics(context.Background(), set, f.CreateDefaultConfig(), consumertest.NewNop())
	require.ErrorIs(t, err, pipeline.ErrSignalNotSupported)
	_, err = f.CreateTraces(context.Background(), set, f.CreateDefaultConfig(), consumertest.NewNop())
	require.ErrorIs(t, err, pipeline.ErrSignalNotSupported)
}
