package promstoreexporter

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/pulse-otel/pulse/exporter/promstoreexporter/internal/metadata"
	"github.com/pulse-otel/pulse/internal/httpserver"
	"github.com/pulse-otel/pulse/internal/testutil"
)

var configPath = filepath.Join("testdata", "config.yaml")

func TestLoadConfig(t *testing.T) {
	custom := createDefaultConfig().(*Config)
	custom.NetAddr.Endpoint = "0.0.0.0:19090"
	custom.Directory = "/var/lib/pulse/promstore"
	custom.Retention = RetentionConfig{Time: 720 * time.Hour, Size: 10 << 30, Interval: 30 * time.Minute}
	auditID := component.MustNewID("audit")
	custom.Audit = &auditID
	custom.OutOfOrderTimeWindow = 10 * time.Minute
	custom.MetadataLimit = 500
	custom.Timeout = 10 * time.Second
	custom.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	custom.RetryConfig.MaxElapsedTime = time.Minute
	custom.WriteTimeout = time.Minute
	custom.Query = QueryConfig{Timeout: 30 * time.Second, MaxMemory: 1 << 30, MaxSamples: 1_000_000, MaxConcurrency: 8, LookbackDelta: 2 * time.Minute,
		MaxLength: 4096, MaxDepth: 64, RangeCacheTTL: 30 * time.Second, RangeCacheSize: 2 << 20}
	custom.Limits = LimitsConfig{MaxSeries: 50_000}
	custom.Translation = TranslationConfig{Namespace: "pulse"}
	custom.Rules = RulesConfig{Files: []string{"/etc/pulse/rules/*.yaml", "/etc/pulse/extra.yaml"}, EvaluationInterval: 30 * time.Second}
	custom.Alertmanager = AlertmanagerConfig{URL: "http://alertmanager:9093", Timeout: 5 * time.Second}
	custom.Live = LiveConfig{Enabled: true, Directory: "/var/lib/pulse/dashboards", Tick: 500 * time.Millisecond,
		MaxViewers: 100, MaxStreams: 4, QueryTimeout: 2 * time.Second, MaxSeriesPerTarget: 20}

	testutil.CheckConfigs(t, configPath, createDefaultConfig,
		testutil.ConfigCase{ID: component.NewID(metadata.Type), Expected: createDefaultConfig().(*Config)},
		testutil.ConfigCase{ID: component.NewIDWithName(metadata.Type, "custom"), Expected: custom},
	)
}

func TestDefaultConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.Equal(t, "localhost:9090", cfg.NetAddr.Endpoint)
	assert.Equal(t, "./data/promstore", cfg.Directory)
	assert.Equal(t, 730*24*time.Hour, cfg.Retention.Time)
	assert.Zero(t, cfg.Retention.Size)
	assert.Equal(t, 7*24*time.Hour, cfg.OutOfOrderTimeWindow, "the analytics receiver's max_snapshot_age")
	assert.Equal(t, 10_000, cfg.MetadataLimit)
	assert.Equal(t, 20*time.Second, cfg.Query.Timeout)
	assert.Less(t, cfg.Query.Timeout, cfg.WriteTimeout, "a query that times out is answered 503 before the connection closes")
	assert.Equal(t, int64(512<<20), cfg.Query.MaxMemory)
	assert.Zero(t, cfg.Query.MaxSamples, "derived from max_memory")
	assert.Equal(t, 4, cfg.Query.MaxConcurrency)
	assert.Equal(t, 1_048_576, cfg.Query.maxSamples(), "512 MiB / 4 queries / 128 B per sample")
	assert.Equal(t, 16<<10, cfg.Query.MaxLength)
	assert.Equal(t, 256, cfg.Query.MaxDepth)
	assert.Equal(t, 1_000_000, cfg.Limits.MaxSeries)
	assert.True(t, cfg.Translation.AddMetricSuffixes)
	assert.True(t, cfg.Translation.TargetInfo)
	assert.False(t, cfg.QueueConfig.HasValue(), "no queue by default: acknowledged means committed")
	assert.True(t, cfg.RetryConfig.Enabled)
	assert.Empty(t, cfg.Rules.Files)
	assert.Equal(t, time.Minute, cfg.Rules.EvaluationInterval)
	assert.Empty(t, cfg.Alertmanager.URL, "no Alertmanager by default: evaluate and serve only")
	assert.Equal(t, 10*time.Second, cfg.Alertmanager.Timeout)
	assert.True(t, cfg.Live.Enabled, "the live page is on by default")
	assert.Equal(t, "./data/dashboards", cfg.Live.Directory, "where make run compiles config/dashboards")
	assert.Equal(t, 250*time.Millisecond, cfg.Live.Tick)
	assert.GreaterOrEqual(t, cfg.Live.MaxViewers, 1000, "the issue's 1,000 viewers")
	assert.LessOrEqual(t, cfg.Live.MaxViewers, httpserver.MaxDefaultConnections-liveAPIReserve, "room for API queries under the largest derived cap")
	assert.Equal(t, 16, cfg.Live.MaxStreams)
	require.NoError(t, cfg.Validate())
}

func TestLiveMaxViewers(t *testing.T) {
	l := defaultLiveConfig()
	n, lowered := l.liveMaxViewers(4096)
	assert.Equal(t, 2000, n)
	assert.False(t, lowered)
	n, lowered = l.liveMaxViewers(128)
	assert.Equal(t, 128-liveAPIReserve, n, "a small derived cap keeps connections for the API")
	assert.True(t, lowered)
	l.Enabled = false
	l.Directory = ""
	assert.Empty(t, l.validate(10), "a disabled page is not checked")
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		want []string
	}{
		{name: "bad_retention", want: []string{"retention.time: must be at least 2h0m0s, got 1h0m0s"}},
		{name: "bad_many", want: []string{
			"endpoint: must not be empty",
			"directory: must not be empty",
			"retention.size: must not be negative, got -1",
			"out_of_order_time_window: must not be negative, got -1s",
			"metadata_limit: must not be negative (0: no metadata), got -1",
			"query.timeout: must be positive, got 0s",
			"query.max_memory: must be positive, got 0",
			"query.max_samples: must not be negative (0: from max_memory), got -1",
			"query.max_concurrency: must be positive, got -2",
			"query.max_length: must be positive, got 0",
			"query.max_depth: must be positive, got -1",
			"limits.max_series: must not be negative (0: unlimited), got -1",
			"query.lookback_delta: must be positive, got 0s",
			"query.range_cache_ttl: must not be negative (0: no cache), got -1s",
		}},
		{name: "bad_alerting", want: []string{
			"rules.files[0]: must not be empty",
			`rules.files[1]: invalid glob "/etc/pulse/[rules.yaml": syntax error in pattern`,
			"rules.evaluation_interval: must be positive, got 0s",
			`alertmanager.url: scheme must be http or https, got "ftp://alertmanager:21"`,
			"alertmanager.timeout: must be positive, got -1s",
		}},
		{name: "bad_timeouts", want: []string{
			"query.timeout: must be shorter than write_timeout (30s) so that a slow query is answered 503 before the connection is closed, got 2m0s",
		}},
		{name: "bad_query_memory", want: []string{
			"query.max_memory: 1000 bytes leave no sample for each of max_concurrency (20) queries",
		}},
		{name: "bad_live", want: []string{
			"live.directory: must not be empty",
			"live.tick: must be between 10ms and 1m, got 1ms",
			"live.max_viewers: must leave at least 16 of max_connections (100) to API queries, got 90",
			"live.max_streams: must be positive, got 0",
			"live.query_timeout: must be positive, got -1s",
			"live.max_series_per_target: must be positive, got 0",
		}},
		{name: "bad_alertmanager_host", want: []string{
			`alertmanager.url: must have a host, got "http:///api"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			err := testutil.LoadConfig(t, configPath, component.NewIDWithName(metadata.Type, tt.name), cfg)
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Len(t, strings.Split(cfg.Validate().Error(), "\n"), len(tt.want))
		})
	}
}
