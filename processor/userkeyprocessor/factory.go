package userkeyprocessor // import "github.com/pulse-otel/pulse/processor/userkeyprocessor"

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"

	"github.com/pulse-otel/pulse/processor/userkeyprocessor/internal/metadata"
)

// DefaultKeys is the default number of key groups: enough to spread evenly
// over up to 16 partitions.
const DefaultKeys = 64

// DefaultMetadataKey is the default client metadata key of the group number.
const DefaultMetadataKey = "pulse.user_key"

// NewFactory returns the factory of the userkey processor. It supports logs
// only: Pulse's per-user state is built from log records.
func NewFactory() processor.Factory {
	return processor.NewFactory(
		metadata.Type,
		createDefaultConfig,
		processor.WithLogs(createLogs, metadata.LogsStability),
	)
}

func createDefaultConfig() component.Config {
	return &Config{Keys: DefaultKeys, MetadataKey: DefaultMetadataKey}
}

func createLogs(_ context.Context, _ processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	return newUserKeyProcessor(cfg.(*Config), next), nil
}
