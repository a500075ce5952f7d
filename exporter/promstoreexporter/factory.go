// Package promstoreexporter writes metrics into an embedded Prometheus TSDB
// and serves the Prometheus HTTP query API over it, so Grafana and promtool
// can query Pulse without a separate Prometheus server.
package promstoreexporter // import "github.com/pulse-otel/pulse/exporter/promstoreexporter"

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/pulse-otel/pulse/exporter/promstoreexporter/internal/metadata"
)

// NewFactory returns the factory of the promstore exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(
		metadata.Type,
		createDefaultConfig,
		exporter.WithMetrics(createMetrics, metadata.MetricsStability),
	)
}

func createDefaultConfig() component.Config {
	server := confighttp.NewDefaultServerConfig()
	server.NetAddr.Endpoint = defaultEndpoint
	return &Config{
		ServerConfig:  server,
		TimeoutConfig: exporterhelper.TimeoutConfig{Timeout: defaultExportTimeout},
		// No sending queue by default: an export returns only once its samples
		// are committed to the WAL, so what the pipeline acknowledged is durable.
		QueueConfig: configoptional.None[exporterhelper.QueueBatchConfig](),
		RetryConfig: configretry.NewDefaultBackOffConfig(),
		Directory:   defaultDirectory,
		Retention:   RetentionConfig{Time: defaultRetentionTime, Interval: defaultRetentionInterval},
		// Snapshots (model, business, system metrics) may arrive days late.
		OutOfOrderTimeWindow: defaultOutOfOrderTimeWindow,
		MetadataLimit:        defaultMetadataLimit,
		Query: QueryConfig{
			Timeout:        defaultQueryTimeout,
			MaxMemory:      defaultQueryMaxMemory,
			MaxConcurrency: defaultMaxConcurrency,
			MaxLength:      defaultQueryMaxLength,
			MaxDepth:       defaultQueryMaxDepth,
			LookbackDelta:  defaultLookbackDelta,
			RangeCacheTTL:  defaultRangeCacheTTL,
			RangeCacheSize: defaultRangeCacheSize,
		},
		Limits: LimitsConfig{MaxSeries: defaultMaxSeries},
		Translation: TranslationConfig{
			AddMetricSuffixes: true,
			TargetInfo:        true,
		},
		Rules:        RulesConfig{EvaluationInterval: defaultEvalInterval},
		Alertmanager: AlertmanagerConfig{Timeout: defaultAlertTimeout},
		Live:         defaultLiveConfig(),
		Telemetry:    defaultTelemetryConfig(),
	}
}

func createMetrics(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Metrics, error) {
	c := cfg.(*Config)
	e, err := newExporter(c, set)
	if err != nil {
		return nil, err
	}
	return exporterhelper.NewMetrics(ctx, set, cfg,
		e.pushMetrics,
		exporterhelper.WithStart(e.start),
		exporterhelper.WithShutdown(e.shutdown),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		exporterhelper.WithTimeout(c.TimeoutConfig),
		exporterhelper.WithRetry(c.RetryConfig),
		exporterhelper.WithQueue(c.QueueConfig),
	)
}
