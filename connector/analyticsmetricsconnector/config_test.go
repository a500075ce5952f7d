package analyticsmetricsconnector

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"

	"github.com/pulse-otel/pulse/connector/analyticsmetricsconnector/internal/metadata"
	"github.com/pulse-otel/pulse/internal/testutil"
)

func loadConfig(t *testing.T, name string) (*Config, error) {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	err := testutil.LoadConfig(t, filepath.Join("testdata", "config.yaml"), component.NewIDWithName(metadata.Type, name), cfg)
	return cfg, err
}

func TestLoadConfig(t *testing.T) {
	cfg, err := loadConfig(t, "")
	require.NoError(t, err)
	assert.Equal(t, createDefaultConfig(), cfg)

	cfg, err = loadConfig(t, "custom")
	require.NoError(t, err)
	storage := component.MustNewID("file_storage")
	want := &Config{
		FlushInterval:      250 * time.Millisecond,
		FullExportInterval: 10 * time.Second,
		EventDimensions:    []string{"event_type", "platform", "feature"},
		MaxValuesPerLabel:  50,
		MaxSeries:          5000,
		SessionTimeout:     15 * time.Minute,
		MaxSessions:        1000,
		ExpectedUsers:      10_000_000,
		Storage:            &storage,
		SaveInterval:       time.Minute,
		WaitForExport:      false,
		Dedup:              DedupConfig{Window: time.Hour, MaxIDs: 50_000},
		RecommendationJoin: RecommendationJoinConfig{MaxEntries: 20_000, MaxAge: 48 * time.Hour},
		Partitioned:        createDefaultConfig().(*Config).Partitioned,
	}
	assert.Equal(t, want, cfg)
	assert.False(t, cfg.Partitioned.HasValue(), "partitioned mode is off unless configured")

	cfg, err = loadConfig(t, "partitioned")
	require.NoError(t, err)
	require.True(t, cfg.Partitioned.HasValue())
	assert.Equal(t, PartitionedConfig{
		Label: "kafka_partition",
		Kafka: PartitionStateConfig{Brokers: []string{"kafka-1:9092", "kafka-2:9092"}, Topic: "pulse-aggregator-state", StartTimeout: 30 * time.Second},
	}, *cfg.Partitioned.Get())

	_, err = loadConfig(t, "partitioned_bad")
	require.Error(t, err)
	for _, want := range []string{
		`partitioned.label: must be a Prometheus label name not starting with __, got "__p"`,
		`partitioned.kafka.brokers[0]: want host:port, got "nohost"`,
		"partitioned.kafka.topic: must not be empty",
		"partitioned.kafka.start_timeout: must be at least 1s, got 10ms",
		"partitioned: needs wait_for_export: true",
		"storage: not used in partitioned mode",
	} {
		assert.ErrorContains(t, err, want)
	}
}

func TestConfigErrors(t *testing.T) {
	_, err := loadConfig(t, "identifier")
	require.ErrorContains(t, err, `event_dimensions[1]: "user_id" is a user-level identifier and can never be a label`)

	_, err = loadConfig(t, "bad")
	require.Error(t, err)
	for _, want := range []string{
		"flush_interval: must be at least 10ms, got 1ms",
		"full_export_interval: must be at least flush_interval (1ms), got 0s",
		`event_dimensions[1]: unknown dimension "colour"`,
		`event_dimensions[2]: "event_type" listed twice`,
		"max_values_per_label: must be positive, got 0",
		"max_series: must be at least 100, got 10",
		"session_timeout: must be at least 1m, got 10s",
		"max_sessions: must be positive, got 0",
		"expected_users: must be at least 1000, got 5",
		"save_interval: must be at least 1s, got 100ms",
		"dedup.window: must be at least 1m, got 1s",
		"dedup.max_ids: must be at least 1000, got 10",
		"recommendation_join.max_entries: must be positive, got 0",
		"recommendation_join.max_age: between 1m and 87600h0m0s, got 0s",
	} {
		assert.ErrorContains(t, err, want)
	}
}
