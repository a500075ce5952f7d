package analyticsreceiver // import "github.com/pulse-otel/pulse/receiver/analyticsreceiver"

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/config/confighttp"

	"github.com/pulse-otel/pulse/receiver/analyticsreceiver/internal/decoder"
)

// Config is the analytics receiver's configuration.
type Config struct {
	// ServerConfig is the HTTP server: endpoint, TLS, auth, CORS,
	// compression and max_request_body_size (default 5 MiB).
	confighttp.ServerConfig `mapstructure:",squash"`

	// MaxEventsPerRequest is the most events or snapshots one request may carry.
	MaxEventsPerRequest int `mapstructure:"max_events_per_request"`
	// MaxNestingDepth is the deepest nesting of free-form values
	// (properties.metadata, recommendationData.items).
	MaxNestingDepth int `mapstructure:"max_nesting_depth"`
	// MaxStringLength is the longest string value, in bytes.
	MaxStringLength int `mapstructure:"max_string_length"`
	// MaxArrayLength is the longest array, and the most fields of a
	// free-form object.
	MaxArrayLength int `mapstructure:"max_array_length"`
	// MaxFutureSkew is how far ahead of the server's clock a timestamp may be.
	MaxFutureSkew time.Duration `mapstructure:"max_future_skew"`
	// DefaultRetention is the oldest a timestamp may be for records without
	// dataRetentionDays (recommendations and snapshots).
	DefaultRetention time.Duration `mapstructure:"default_retention"`
	// MaxSnapshotAge is the oldest a snapshot (model-metrics,
	// business-metrics, system-metrics) may be. Keep it at most the
	// promstore exporter's out_of_order_time_window (both 7 days by
	// default), or the store refuses what the receiver accepted.
	MaxSnapshotAge time.Duration `mapstructure:"max_snapshot_age"`
	// RetryAfter is what 429 and 503 answers put in Retry-After.
	RetryAfter time.Duration `mapstructure:"retry_after"`
	// MaxConcurrentRequests bounds the requests handled at once; beyond it
	// a request is answered 429 with Retry-After before its body is read.
	// Pipelines that acknowledge only exported data (the analytics_metrics
	// connector's wait_for_export) hold each request up to a flush interval,
	// so allow the rate in requests/s times that interval. 0: no limit.
	MaxConcurrentRequests int `mapstructure:"max_concurrent_requests"`
	// MaxValuesPerRequest bounds the JSON values (strings, numbers,
	// literals, arrays, objects) of one request, counted before anything is
	// parsed; past it the request is answered 413. It bounds the memory of
	// the parse and the pdata, about 170 bytes per value.
	MaxValuesPerRequest int `mapstructure:"max_values_per_request"`
	// BodyReadTimeout is how long a request's body may take to arrive,
	// from the end of its header; past it the answer is 408 and the
	// connection is closed. 0: no limit (not recommended).
	BodyReadTimeout time.Duration `mapstructure:"body_read_timeout"`
	// MaxConnections caps the open connections; more wait in the accept
	// backlog. 0: a quarter of the open-file limit less 512, at most 4096
	// (internal/httpserver); a larger value is lowered to that.
	MaxConnections int `mapstructure:"max_connections"`
	// SnapshotLabels bound the label values of snapshot metrics (config_limits.go).
	SnapshotLabels SnapshotLabelsConfig `mapstructure:"snapshot_labels"`

	// prevent unkeyed literal initialization
	_ struct{}
}

const (
	defaultEndpoint       = "localhost:4320"
	defaultMaxRequestBody = 5 << 20
	maxMaxNestingDepth    = 64
	maxMaxEvents          = 100_000
)

// Validate checks the configuration; errors name the field and the value.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.NetAddr.Endpoint == "" {
		errs = append(errs, errors.New("endpoint: must not be empty"))
	}
	if cfg.MaxRequestBodySize <= 0 {
		errs = append(errs, fmt.Errorf("max_request_body_size: must be positive, got %d", cfg.MaxRequestBodySize))
	}
	if cfg.MaxEventsPerRequest <= 0 || cfg.MaxEventsPerRequest > maxMaxEvents {
		errs = append(errs, fmt.Errorf("max_events_per_request: must be between 1 and %d, got %d", maxMaxEvents, cfg.MaxEventsPerRequest))
	}
	if cfg.MaxNestingDepth <= 0 || cfg.MaxNestingDepth > maxMaxNestingDepth {
		errs = append(errs, fmt.Errorf("max_nesting_depth: must be between 1 and %d, got %d", maxMaxNestingDepth, cfg.MaxNestingDepth))
	}
	if cfg.MaxStringLength <= 0 {
		errs = append(errs, fmt.Errorf("max_string_length: must be positive, got %d", cfg.MaxStringLength))
	}
	if cfg.MaxArrayLength <= 0 {
		errs = append(errs, fmt.Errorf("max_array_length: must be positive, got %d", cfg.MaxArrayLength))
	}
	if cfg.MaxFutureSkew <= 0 {
		errs = append(errs, fmt.Errorf("max_future_skew: must be positive, got %s", cfg.MaxFutureSkew))
	}
	if cfg.DefaultRetention < 24*time.Hour {
		errs = append(errs, fmt.Errorf("default_retention: must be at least 24h, got %s", cfg.DefaultRetention))
	}
	if cfg.MaxSnapshotAge <= 0 {
		errs = append(errs, fmt.Errorf("max_snapshot_age: must be positive, got %s", cfg.MaxSnapshotAge))
	}
	if cfg.MaxConcurrentRequests < 0 {
		errs = append(errs, fmt.Errorf("max_concurrent_requests: must not be negative (0: no limit), got %d", cfg.MaxConcurrentRequests))
	}
	if cfg.MaxValuesPerRequest <= 0 {
		errs = append(errs, fmt.Errorf("max_values_per_request: must be positive, got %d", cfg.MaxValuesPerRequest))
	}
	if cfg.BodyReadTimeout < 0 {
		errs = append(errs, fmt.Errorf("body_read_timeout: must not be negative (0: no limit), got %s", cfg.BodyReadTimeout))
	}
	if cfg.MaxConnections < 0 {
		errs = append(errs, fmt.Errorf("max_connections: must not be negative (0: derived from the open-file limit), got %d", cfg.MaxConnections))
	}
	if cfg.RetryAfter < time.Second {
		errs = append(errs, fmt.Errorf("retry_after: must be at least 1s, got %s", cfg.RetryAfter))
	}
	return errors.Join(errs...)
}

func (cfg *Config) decoderOptions() decoder.Options {
	return decoder.Options{
		MaxEvents:        cfg.MaxEventsPerRequest,
		MaxDepth:         cfg.MaxNestingDepth,
		MaxStringLength:  cfg.MaxStringLength,
		MaxArrayLength:   cfg.MaxArrayLength,
		MaxFutureSkew:    cfg.MaxFutureSkew,
		DefaultRetention: cfg.DefaultRetention,
		MaxSnapshotAge:   cfg.MaxSnapshotAge,
		MaxValues:        cfg.MaxValuesPerRequest,
		Labels:           cfg.SnapshotLabels.decoderLimits(),
	}
}
