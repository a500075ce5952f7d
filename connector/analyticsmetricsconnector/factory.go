// Package analyticsmetricsconnector turns privacy-processed analytics events
// (log records of docs/events.md) into the metric catalog of
// docs/metrics.md: counts, durations, active users per rolling window,
// new users, sessions, behaviour, recommendation outcomes, data quality and
// freshness. Cumulative temporality, bounded cardinality, exact counts.
package analyticsmetricsconnector // import "github.com/pulse-otel/pulse/connector/analyticsmetricsconnector"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"

	"github.com/pulse-otel/pulse/connector/analyticsmetricsconnector/internal/metadata"
	"github.com/pulse-otel/pulse/internal/catalog"
)

// NewFactory returns the factory of the analytics_metrics connector.
func NewFactory() connector.Factory {
	return connector.NewFactory(
		metadata.Type,
		createDefaultConfig,
		connector.WithLogsToMetrics(createLogsToMetrics, metadata.LogsToMetricsStability),
	)
}

func createDefaultConfig() component.Config {
	return &Config{
		FlushInterval:      500 * time.Millisecond,
		FullExportInterval: 15 * time.Second,
		EventDimensions:    []string{catalog.LabelEventType, catalog.LabelCategory, catalog.LabelAction, catalog.LabelPlatform, catalog.LabelAppVersion},
		MaxValuesPerLabel:  200,
		MaxSeries:          20000,
		SessionTimeout:     30 * time.Minute,
		MaxSessions:        200000,
		ExpectedUsers:      1_000_000,
		SaveInterval:       30 * time.Second,
		WaitForExport:      true,
		Dedup:              DedupConfig{Window: 24 * time.Hour, MaxIDs: 1_000_000},
		RecommendationJoin: RecommendationJoinConfig{MaxEntries: 1_000_000, MaxAge: 7 * 24 * time.Hour},
		Partitioned: configoptional.Default(PartitionedConfig{
			Label: "partition",
			Kafka: PartitionStateConfig{Topic: "pulse-aggregator-state", StartTimeout: 30 * time.Second},
		}),
	}
}

func createLogsToMetrics(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Metrics) (connector.Logs, error) {
	c := cfg.(*Config)
	if c.Partitioned.HasValue() {
		return newPartitionedConnector(set, c, next), nil
	}
	return newConnector(set, c, next)
}
