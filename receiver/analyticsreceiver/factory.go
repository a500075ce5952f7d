// Package analyticsreceiver receives product-analytics events, AI
// recommendations and model, business and system snapshots as HTTP JSON,
// validates every field, and emits OTel logs (events) and metrics
// (snapshots). docs/events.md is the wire format and the mapping.
package analyticsreceiver // import "github.com/pulse-otel/pulse/receiver/analyticsreceiver"

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/pulse-otel/pulse/receiver/analyticsreceiver/internal/decoder"
	"github.com/pulse-otel/pulse/receiver/analyticsreceiver/internal/metadata"
)

// NewFactory returns the factory of the analytics receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(
		metadata.Type,
		createDefaultConfig,
		receiver.WithLogs(createLogs, metadata.LogsStability),
		receiver.WithMetrics(createMetrics, metadata.MetricsStability),
	)
}

func createDefaultConfig() component.Config {
	server := confighttp.NewDefaultServerConfig()
	server.NetAddr.Endpoint = defaultEndpoint
	server.MaxRequestBodySize = defaultMaxRequestBody
	// A header must arrive within 10 s (confighttp's default is 1 m);
	// the body within body_read_timeout after it.
	server.ReadHeaderTimeout = defaultReadHeaderTimeout
	return &Config{
		ServerConfig:          server,
		MaxEventsPerRequest:   decoder.DefaultMaxEvents,
		MaxNestingDepth:       decoder.DefaultMaxDepth,
		MaxStringLength:       decoder.DefaultMaxStringLength,
		MaxArrayLength:        decoder.DefaultMaxArrayLength,
		MaxFutureSkew:         decoder.DefaultMaxFutureSkew,
		DefaultRetention:      decoder.DefaultRetentionPeriod,
		MaxSnapshotAge:        decoder.DefaultMaxSnapshotAge,
		RetryAfter:            defaultRetryAfter,
		MaxConcurrentRequests: defaultMaxConcurrentRequests,
		MaxValuesPerRequest:   decoder.DefaultMaxValues,
		BodyReadTimeout:       defaultBodyReadTimeout,
		SnapshotLabels:        defaultSnapshotLabels(),
	}
}

// receivers shares one HTTP server between the logs and metrics pipelines
// that use the same receiver configuration.
var receivers = struct {
	sync.Mutex
	m map[*Config]*analyticsReceiver
}{m: map[*Config]*analyticsReceiver{}}

func shared(cfg *Config, set receiver.Settings) (*analyticsReceiver, error) {
	receivers.Lock()
	defer receivers.Unlock()
	if r, ok := receivers.m[cfg]; ok {
		return r, nil
	}
	r, err := newReceiver(cfg, set, func() {
		receivers.Lock()
		delete(receivers.m, cfg)
		receivers.Unlock()
	})
	if err != nil {
		return nil, err
	}
	receivers.m[cfg] = r
	return r, nil
}

func createLogs(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	r, err := shared(cfg.(*Config), set)
	if err != nil {
		return nil, err
	}
	r.nextLogs = next
	return r, nil
}

func createMetrics(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	r, err := shared(cfg.(*Config), set)
	if err != nil {
		return nil, err
	}
	r.nextMetrics = next
	return r, nil
}
