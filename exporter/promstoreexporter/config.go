package promstoreexporter // import "github.com/pulse-otel/pulse/exporter/promstoreexporter"

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

// Config is the promstore exporter's configuration.
type Config struct {
	// ServerConfig is the Prometheus HTTP API server: endpoint (default
	// localhost:9090), TLS, auth, CORS, compression.
	confighttp.ServerConfig `mapstructure:",squash"`

	// TimeoutConfig bounds one export (translation, append and WAL commit).
	exporterhelper.TimeoutConfig `mapstructure:",squash"`
	// QueueConfig is the exporterhelper sending queue in front of the TSDB.
	QueueConfig configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`
	// RetryConfig retries exports that failed on a storage error.
	RetryConfig configretry.BackOffConfig `mapstructure:"retry_on_failure"`

	// Directory is where the TSDB keeps its WAL and blocks.
	Directory string `mapstructure:"directory"`
	// Retention bounds how much data the TSDB keeps.
	Retention RetentionConfig `mapstructure:"retention"`
	// OutOfOrderTimeWindow accepts samples up to this much older than the
	// newest sample of their series (and of the TSDB head), so late and
	// backfilled snapshots are stored; 0 refuses every out-of-order sample,
	// as Prometheus does by default. Default 7 days, the analytics
	// receiver's max_snapshot_age.
	OutOfOrderTimeWindow time.Duration `mapstructure:"out_of_order_time_window"`
	// MetadataLimit is the most metric families whose type, help and unit
	// /api/v1/metadata serves; families first seen after that have none.
	MetadataLimit int `mapstructure:"metadata_limit"`

	// Query configures the PromQL engine behind the HTTP API.
	Query QueryConfig `mapstructure:"query"`
	// Limits bound what clients can make the store keep.
	Limits LimitsConfig `mapstructure:"limits"`
	// MaxConnections caps the API's open connections; more wait in the
	// accept backlog. 0: a quarter of the open-file limit less 512, at most
	// 4096 (internal/httpserver), which keeps descriptors for the TSDB; a
	// larger value is lowered to that.
	MaxConnections int `mapstructure:"max_connections"`

	// Translation configures the OTLP to Prometheus translation, the same one
	// the prometheusremotewrite exporter uses.
	Translation TranslationConfig `mapstructure:"translation"`

	// Rules are the Prometheus rule files (recording and alerting rules)
	// evaluated against the TSDB, as `pulsectl rules compile` writes them.
	Rules RulesConfig `mapstructure:"rules"`
	// Alertmanager is where firing and resolved alerts are sent.
	Alertmanager AlertmanagerConfig `mapstructure:"alertmanager"`

	// Live is the live dashboard page served under /dashboards/ on this
	// listener (docs/live.md).
	Live LiveConfig `mapstructure:"live"`

	// Telemetry stores the collector's own telemetry in the TSDB
	// (selfscrape.go). Off by default.
	Telemetry TelemetryConfig `mapstructure:"telemetry"`

	// Audit is the audit extension that records each retention execution
	// and the policy version in force at start (internal/audit); nil: none.
	Audit *component.ID `mapstructure:"audit"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// RetentionConfig is when the TSDB deletes old blocks; whichever limit is
// reached first wins.
type RetentionConfig struct {
	// Time is the age after which blocks are deleted.
	Time time.Duration `mapstructure:"time"`
	// Size is the most bytes the blocks may use; 0 means unlimited. The WAL
	// and the in-memory head are not counted.
	Size int64 `mapstructure:"size"`
	// Policies is the retention plan `pulsectl retention compile` writes
	// (policies.json): per data type, how long raw, 5m and 1h series are
	// kept within Time (retention_policies.go). Empty: none.
	Policies string `mapstructure:"policies"`
	// Interval is how often the policies are executed.
	Interval time.Duration `mapstructure:"interval"`
}

// QueryConfig limits the PromQL engine.
type QueryConfig struct {
	// Timeout is the longest one query may run, waiting for a slot
	// included; it must be shorter than the server's write_timeout so that
	// a query that runs out of time is answered 503, not cut off.
	Timeout time.Duration `mapstructure:"timeout"`
	// MaxMemory is the heap all queries evaluated at once may take
	// together, in bytes; it sets MaxSamples when that is 0.
	MaxMemory int64 `mapstructure:"max_memory"`
	// MaxSamples is the most samples one query may hold in memory; 0
	// derives it from MaxMemory: MaxMemory / MaxConcurrency /
	// bytesPerQuerySample.
	MaxSamples int `mapstructure:"max_samples"`
	// MaxConcurrency is the most queries evaluated at once; more wait.
	MaxConcurrency int `mapstructure:"max_concurrency"`
	// MaxLength is the most bytes of one PromQL expression or selector;
	// longer ones are refused before they are parsed.
	MaxLength int `mapstructure:"max_length"`
	// MaxDepth is the deepest nesting of brackets and operator chains one
	// expression may have; deeper ones are refused before they are parsed,
	// whose cost grows with the square of the depth.
	MaxDepth int `mapstructure:"max_depth"`
	// LookbackDelta is how far back an instant selector looks for a sample.
	LookbackDelta time.Duration `mapstructure:"lookback_delta"`
	// RangeCacheTTL is how long the answer to a range query is reused for
	// identical range queries (same expression, start, end and step), and
	// identical queries arriving while one is evaluated wait for it. 0
	// turns both off. Instant queries are never cached.
	RangeCacheTTL time.Duration `mapstructure:"range_cache_ttl"`
	// RangeCacheSize is the most bytes of answers kept.
	RangeCacheSize int `mapstructure:"range_cache_size"`
}

// LimitsConfig bounds the series clients can create.
type LimitsConfig struct {
	// MaxSeries is the most series the TSDB head may hold; samples of new
	// series past it are refused (existing series still take samples).
	// 0 means unlimited.
	MaxSeries int `mapstructure:"max_series"`
}

// TranslationConfig mirrors the translation settings of the
// prometheusremotewrite exporter.
type TranslationConfig struct {
	// Namespace is prefixed to every metric name.
	Namespace string `mapstructure:"namespace"`
	// AddMetricSuffixes adds type and unit suffixes (_total, _seconds,
	// _bucket...).
	AddMetricSuffixes bool `mapstructure:"add_metric_suffixes"`
	// TargetInfo emits the target_info series with the resource attributes.
	TargetInfo bool `mapstructure:"target_info"`
}

// RulesConfig selects the Prometheus rule files to evaluate.
type RulesConfig struct {
	// Files are globs of Prometheus rule files, as in Prometheus'
	// rule_files; they are read when the exporter starts.
	Files []string `mapstructure:"files"`
	// EvaluationInterval is how often a rule group is evaluated when the
	// group does not set its own interval.
	EvaluationInterval time.Duration `mapstructure:"evaluation_interval"`
}

// AlertmanagerConfig is the one Alertmanager alerts are sent to, over its
// v2 API (POST <url>/api/v2/alerts).
type AlertmanagerConfig struct {
	// URL is the Alertmanager base URL, e.g. http://localhost:9093, with
	// its path prefix if it has one. Empty: rules are evaluated and served
	// on the API, alerts are sent nowhere.
	URL string `mapstructure:"url"`
	// Timeout bounds one POST of alerts.
	Timeout time.Duration `mapstructure:"timeout"`
}

// LiveConfig is the live dashboard page: the dashboards `pulsectl
// dashboards compile` wrote, drawn in the browser and pushed to it as the
// store changes. Each viewer holds one of max_connections.
type LiveConfig struct {
	// Enabled serves the page under /dashboards/.
	Enabled bool `mapstructure:"enabled"`
	// Directory is the compile's output directory (--out): it holds
	// pulse-dashboards.yaml and dashboards/*.json, re-read when it changes.
	Directory string `mapstructure:"directory"`
	// Tick is how often an open dashboard is evaluated when the store
	// changed; it bounds the time from an append to the screen.
	Tick time.Duration `mapstructure:"tick"`
	// MaxViewers is the most open live pages at once; more are answered
	// 503. It must leave connections of max_connections to API queries.
	MaxViewers int `mapstructure:"max_viewers"`
	// MaxStreams is the most distinct (dashboard, time range) pairs open
	// at once: each is evaluated once per tick whatever its viewers.
	MaxStreams int `mapstructure:"max_streams"`
	// QueryTimeout bounds one panel query of a live evaluation.
	QueryTimeout time.Duration `mapstructure:"query_timeout"`
	// MaxSeriesPerTarget is the most series one panel query sends to the
	// page; the frame says truncated past it.
	MaxSeriesPerTarget int `mapstructure:"max_series_per_target"`
}

const (
	defaultLiveDirectory = "./data/dashboards"
	defaultLiveTick      = 250 * time.Millisecond
	// defaultLiveMaxViewers: 1,000 viewers of one dashboard and room to
	// spare, below the 4096 connections of a host with a large open-file
	// limit (internal/httpserver) with 2,000 left for API queries.
	defaultLiveMaxViewers = 2000
	// defaultLiveMaxStreams: a stream costs its dashboard's queries per
	// tick with a change (about 20 for a built-in dashboard), whatever its
	// number of viewers.
	defaultLiveMaxStreams   = 16
	defaultLiveQueryTimeout = 5 * time.Second
	defaultLiveMaxSeries    = 100
	// liveAPIReserve is the least of max_connections the live page leaves
	// to API queries (Grafana, promtool, the page's own JSON requests).
	liveAPIReserve = 16
	minLiveTick    = 10 * time.Millisecond
)

func defaultLiveConfig() LiveConfig {
	return LiveConfig{
		Enabled: true, Directory: defaultLiveDirectory, Tick: defaultLiveTick,
		MaxViewers: defaultLiveMaxViewers, MaxStreams: defaultLiveMaxStreams,
		QueryTimeout: defaultLiveQueryTimeout, MaxSeriesPerTarget: defaultLiveMaxSeries,
	}
}

// validate checks the live page's fields; maxConnections is the
// configured max_connections (0: derived at start).
func (l LiveConfig) validate(maxConnections int) []error {
	if !l.Enabled {
		return nil
	}
	var errs []error
	if l.Directory == "" {
		errs = append(errs, errors.New("live.directory: must not be empty"))
	}
	if l.Tick < minLiveTick || l.Tick > time.Minute {
		errs = append(errs, fmt.Errorf("live.tick: must be between %s and 1m, got %s", minLiveTick, l.Tick))
	}
	if l.MaxViewers <= 0 {
		errs = append(errs, fmt.Errorf("live.max_viewers: must be positive, got %d", l.MaxViewers))
	} else if maxConnections > 0 && l.MaxViewers > maxConnections-liveAPIReserve {
		errs = append(errs, fmt.Errorf("live.max_viewers: must leave at least %d of max_connections (%d) to API queries, got %d", liveAPIReserve, maxConnections, l.MaxViewers))
	}
	if l.MaxStreams <= 0 {
		errs = append(errs, fmt.Errorf("live.max_streams: must be positive, got %d", l.MaxStreams))
	}
	if l.QueryTimeout <= 0 {
		errs = append(errs, fmt.Errorf("live.query_timeout: must be positive, got %s", l.QueryTimeout))
	}
	if l.MaxSeriesPerTarget <= 0 {
		errs = append(errs, fmt.Errorf("live.max_series_per_target: must be positive, got %d", l.MaxSeriesPerTarget))
	}
	return errs
}

// liveMaxViewers is max_viewers within the connection cap in force:
// lowered to leave liveAPIReserve connections to the API, and reported
// lowered, when the derived cap is small.
func (l LiveConfig) liveMaxViewers(connCap int) (n int, lowered bool) {
	limit := max(1, connCap-liveAPIReserve)
	if l.MaxViewers > limit {
		return limit, true
	}
	return l.MaxViewers, false
}

const (
	defaultEndpoint      = "localhost:9090"
	defaultDirectory     = "./data/promstore"
	defaultRetentionTime = 730 * 24 * time.Hour
	// defaultQueryTimeout is under confighttp's default write_timeout
	// (30s) with room to encode the answer, and Grafana's default data
	// source timeout (30s).
	defaultQueryTimeout = 20 * time.Second
	// defaultQueryMaxMemory is the query heap budget of a small host.
	defaultQueryMaxMemory = 512 << 20
	// defaultMaxConcurrency: with max_memory 512 MiB this leaves each
	// query 1,048,576 samples (see bytesPerQuerySample).
	defaultMaxConcurrency = 4
	// bytesPerQuerySample is the engine's heap per sample it counts
	// against max_samples in the costliest shapes measured (a subquery of
	// a function: 109 B, BenchmarkQuerySampleHeap), rounded up.
	bytesPerQuerySample = 128
	// defaultQueryMaxLength and defaultQueryMaxDepth keep parsing to a
	// few milliseconds (BenchmarkParseAtLimits).
	defaultQueryMaxLength = 16 << 10
	defaultQueryMaxDepth  = 256
	// defaultMaxSeries: ~2 KB of head memory per series (the issue
	// measured 1.9 KB) makes 1,000,000 series about 2 GB.
	defaultMaxSeries     = 1_000_000
	defaultLookbackDelta = 5 * time.Minute
	defaultExportTimeout = 30 * time.Second
	defaultEvalInterval  = time.Minute
	defaultAlertTimeout  = 10 * time.Second
	// defaultOutOfOrderTimeWindow is the analytics receiver's default
	// max_snapshot_age: a snapshot the receiver accepts can be stored.
	defaultOutOfOrderTimeWindow = 7 * 24 * time.Hour
	defaultMetadataLimit        = 10_000
	// minRetentionTime is two hours: the TSDB cuts blocks every two hours,
	// so anything shorter would delete the block being written.
	minRetentionTime = 2 * time.Hour
)

// Validate checks the configuration; errors name the field and the value.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.NetAddr.Endpoint == "" {
		errs = append(errs, errors.New("endpoint: must not be empty"))
	}
	if cfg.MaxConnections < 0 {
		errs = append(errs, fmt.Errorf("max_connections: must not be negative (0: derived from the open-file limit), got %d", cfg.MaxConnections))
	}
	if cfg.Directory == "" {
		errs = append(errs, errors.New("directory: must not be empty"))
	}
	if cfg.Retention.Time < minRetentionTime {
		errs = append(errs, fmt.Errorf("retention.time: must be at least %s, got %s", minRetentionTime, cfg.Retention.Time))
	}
	if cfg.Retention.Size < 0 {
		errs = append(errs, fmt.Errorf("retention.size: must not be negative, got %d", cfg.Retention.Size))
	}
	errs = append(errs, cfg.Retention.validatePolicies()...)
	if cfg.OutOfOrderTimeWindow < 0 {
		errs = append(errs, fmt.Errorf("out_of_order_time_window: must not be negative, got %s", cfg.OutOfOrderTimeWindow))
	}
	if cfg.MetadataLimit < 0 {
		errs = append(errs, fmt.Errorf("metadata_limit: must not be negative (0: no metadata), got %d", cfg.MetadataLimit))
	}
	if cfg.Query.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("query.timeout: must be positive, got %s", cfg.Query.Timeout))
	}
	if wt := cfg.ServerConfig.WriteTimeout; wt > 0 && cfg.Query.Timeout >= wt {
		errs = append(errs, fmt.Errorf("query.timeout: must be shorter than write_timeout (%s) so that a slow query is answered 503 before the connection is closed, got %s", wt, cfg.Query.Timeout))
	}
	if cfg.Query.MaxMemory <= 0 {
		errs = append(errs, fmt.Errorf("query.max_memory: must be positive, got %d", cfg.Query.MaxMemory))
	}
	if cfg.Query.MaxSamples < 0 {
		errs = append(errs, fmt.Errorf("query.max_samples: must not be negative (0: from max_memory), got %d", cfg.Query.MaxSamples))
	}
	if cfg.Query.MaxConcurrency <= 0 {
		errs = append(errs, fmt.Errorf("query.max_concurrency: must be positive, got %d", cfg.Query.MaxConcurrency))
	} else if cfg.Query.MaxMemory > 0 && cfg.Query.MaxSamples == 0 && cfg.Query.maxSamples() < 1 {
		errs = append(errs, fmt.Errorf("query.max_memory: %d bytes leave no sample for each of max_concurrency (%d) queries", cfg.Query.MaxMemory, cfg.Query.MaxConcurrency))
	}
	if cfg.Query.MaxLength <= 0 {
		errs = append(errs, fmt.Errorf("query.max_length: must be positive, got %d", cfg.Query.MaxLength))
	}
	if cfg.Query.MaxDepth <= 0 {
		errs = append(errs, fmt.Errorf("query.max_depth: must be positive, got %d", cfg.Query.MaxDepth))
	}
	if cfg.Limits.MaxSeries < 0 {
		errs = append(errs, fmt.Errorf("limits.max_series: must not be negative (0: unlimited), got %d", cfg.Limits.MaxSeries))
	}
	if cfg.Query.LookbackDelta <= 0 {
		errs = append(errs, fmt.Errorf("query.lookback_delta: must be positive, got %s", cfg.Query.LookbackDelta))
	}
	if cfg.Query.RangeCacheTTL < 0 {
		errs = append(errs, fmt.Errorf("query.range_cache_ttl: must not be negative (0: no cache), got %s", cfg.Query.RangeCacheTTL))
	}
	if cfg.Query.RangeCacheTTL > 0 && cfg.Query.RangeCacheSize < 1<<20 {
		errs = append(errs, fmt.Errorf("query.range_cache_size: must be at least 1048576 bytes with range_cache_ttl set, got %d", cfg.Query.RangeCacheSize))
	}
	if cfg.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout: must not be negative, got %s", cfg.Timeout))
	}
	for i, f := range cfg.Rules.Files {
		if f == "" {
			errs = append(errs, fmt.Errorf("rules.files[%d]: must not be empty", i))
		} else if _, err := filepath.Match(f, ""); err != nil {
			errs = append(errs, fmt.Errorf("rules.files[%d]: invalid glob %q: %w", i, f, err))
		}
	}
	if cfg.Rules.EvaluationInterval <= 0 {
		errs = append(errs, fmt.Errorf("rules.evaluation_interval: must be positive, got %s", cfg.Rules.EvaluationInterval))
	}
	if cfg.Alertmanager.URL != "" {
		if _, err := parseAlertmanagerURL(cfg.Alertmanager.URL); err != nil {
			errs = append(errs, fmt.Errorf("alertmanager.url: %w", err))
		}
	}
	if cfg.Alertmanager.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("alertmanager.timeout: must be positive, got %s", cfg.Alertmanager.Timeout))
	}
	errs = append(errs, cfg.Live.validate(cfg.MaxConnections)...)
	if err := cfg.Telemetry.validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// maxSamples is the per-query sample limit: MaxSamples, or MaxMemory
// shared by MaxConcurrency queries at bytesPerQuerySample each.
func (q QueryConfig) maxSamples() int {
	if q.MaxSamples > 0 {
		return q.MaxSamples
	}
	if q.MaxConcurrency <= 0 {
		return 0
	}
	return int(q.MaxMemory / int64(q.MaxConcurrency) / bytesPerQuerySample)
}

// parseAlertmanagerURL accepts an absolute http or https URL with a host
// and no query or fragment.
func parseAlertmanagerURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("invalid URL %q: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("scheme must be http or https, got %q", s)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("must have a host, got %q", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("must not have a query or fragment, got %q", s)
	}
	return u, nil
}
