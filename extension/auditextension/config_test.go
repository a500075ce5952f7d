package auditextension

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"

	"github.com/pulse-otel/pulse/extension/auditextension/internal/metadata"
	"github.com/pulse-otel/pulse/internal/testutil"
)

var configPath = filepath.Join("testdata", "config.yaml")

func TestLoadConfig(t *testing.T) {
	custom := createDefaultConfig().(*Config)
	custom.Directory = "/var/lib/otelcol-pulse/audit"
	custom.MaxFileBytes = 1 << 20
	testutil.CheckConfigs(t, configPath, createDefaultConfig,
		testutil.ConfigCase{ID: component.NewID(metadata.Type), Expected: &Config{Directory: "./data/audit", MaxFileBytes: 16 << 20}},
		testutil.ConfigCase{ID: component.NewIDWithName(metadata.Type, "custom"), Expected: custom},
	)
}

func TestConfigErrors(t *testing.T) {
	err := testutil.LoadConfig(t, configPath, component.NewIDWithName(metadata.Type, "bad_empty"), createDefaultConfig())
	require.Error(t, err)
	require.Contains(t, err.Error(), "directory: must not be empty")
	require.Contains(t, err.Error(), "max_file_bytes: must be at least 65536 (one record's limit), got 100")
}
