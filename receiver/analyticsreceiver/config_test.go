package analyticsreceiver

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"

	"github.com/pulse-otel/pulse/internal/testutil"
	"github.com/pulse-otel/pulse/receiver/analyticsreceiver/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	custom := createDefaultConfig().(*Config)
	custom.NetAddr.Endpoint = "0.0.0.0:9999"
	custom.MaxRequestBodySize = 1 << 20
	custom.MaxEventsPerRequest = 50
	custom.MaxNestingDepth = 4
	custom.MaxStringLength = 256
	custom.MaxArrayLength = 20
	custom.MaxFutureSkew = time.Minute
	custom.DefaultRetention = 72 * time.Hour
	custom.MaxSnapshotAge = 48 * time.Hour
	custom.RetryAfter = 5 * time.Second
	custom.MaxConcurrentRequests = 16
	custom.CORS = configoptional.Some(confighttp.CORSConfig{AllowedOrigins: []string{"https://app.example.com"}})

	testutil.CheckConfigs(t, configPath, createDefaultConfig,
		testutil.ConfigCase{ID: component.NewID(metadata.Type), Expected: createDefaultConfig().(*Config)},
		testutil.ConfigCase{ID: component.NewIDWithName(metadata.Type, "custom"), Expected: custom},
	)
}

var configPath = filepath.Join("testdata", "config.yaml")

func TestDefaultConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.Equal(t, "localhost:4320", cfg.NetAddr.Endpoint)
	assert.Equal(t, int64(5<<20), cfg.MaxRequestBodySize)
	assert.Equal(t, 1000, cfg.MaxEventsPerRequest)
	require.NoError(t, cfg.Validate())
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		want []string
	}{
		{name: "bad_events", want: []string{"max_events_per_request: must be between 1 and 100000, got 0"}},
		{name: "bad_depth", want: []string{"max_nesting_depth: must be between 1 and 64, got 65"}},
		{name: "bad_many", want: []string{
			"endpoint: must not be empty",
			"max_request_body_size: must be positive, got -1",
			"max_string_length: must be positive, got -1",
			"max_array_length: must be positive, got 0",
			"max_future_skew: must be positive, got -1s",
			"default_retention: must be at least 24h, got 1h0m0s",
			"max_snapshot_age: must be positive, got -1s",
			"retry_after: must be at least 1s, got 100ms",
			"max_concurrent_requests: must not be negative (0: no limit), got -1",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := testutil.LoadConfig(t, configPath, component.NewIDWithName(metadata.Type, tt.name), createDefaultConfig())
			require.Error(t, err)
			for _, w := range tt.want {
				assert.ErrorContains(t, err, w)
			}
		})
	}
}
