package analyticsmetricsconnector // import "github.com/pulse-otel/pulse/connector/analyticsmetricsconnector"

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"

	"github.com/pulse-otel/pulse/internal/catalog"
)

// Config is the analytics_metrics connector's configuration.
type Config struct {
	// FlushInterval is how often metrics are exported. Freshness (event
	// time to export) is bounded by it plus pipeline latency.
	FlushInterval time.Duration `mapstructure:"flush_interval"`
	// FullExportInterval is how often every series is exported, changed or
	// not, so stores keep them fresh; in between only changed series are.
	FullExportInterval time.Duration `mapstructure:"full_export_interval"`
	// EventDimensions are the labels of pulse.events, from
	// event_type, category, action, platform, app_version, feature, page,
	// consent_level. User-level identifiers are never allowed.
	EventDimensions []string `mapstructure:"event_dimensions"`
	// MaxValuesPerLabel caps the distinct values of one label of one metric;
	// further values become "_other".
	MaxValuesPerLabel int `mapstructure:"max_values_per_label"`
	// MaxSeries caps the series of all metrics together; beyond it new
	// series fold into each metric's all-"_other" series.
	MaxSeries int `mapstructure:"max_series"`
	// SessionTimeout ends a session after this much inactivity (event time).
	SessionTimeout time.Duration `mapstructure:"session_timeout"`
	// MaxSessions bounds the open sessions tracked; the oldest are ended first.
	MaxSessions int `mapstructure:"max_sessions"`
	// ExpectedUsers sizes the new-user filter (false "returning" rate 0.1 %
	// at this many users).
	ExpectedUsers uint `mapstructure:"expected_users"`
	// Storage is a storage extension (file_storage) that keeps the user
	// filter and the active-user sketches across restarts.
	Storage *component.ID `mapstructure:"storage"`
	// SaveInterval is how often that state is saved (and at shutdown).
	SaveInterval time.Duration `mapstructure:"save_interval"`
	// WaitForExport makes ConsumeLogs return only once a flush carrying
	// its events has been accepted by the metrics pipeline (with promstore
	// and no batch processor: committed to the TSDB WAL). A receiver then
	// acknowledges only what is durable, at the cost of up to one
	// flush_interval of request latency. While exports fail, new requests
	// are refused (retryable) before anything is counted. A request already
	// waiting whose context ends fails although its events stay aggregated
	// and are exported with the next successful flush, so a client retry
	// counts them twice unless they carry ids (see Dedup).
	WaitForExport bool `mapstructure:"wait_for_export"`
	// Dedup drops records whose id was already counted (client retries).
	Dedup DedupConfig `mapstructure:"dedup"`
	// RecommendationJoin gives a later response without model labels
	// those of its recommendation.
	RecommendationJoin RecommendationJoinConfig `mapstructure:"recommendation_join"`
	// Partitioned, when present, makes this connector an aggregator shard
	// behind Kafka (docs/scale-out.md): one state per partition of the
	// events topic, labelled on every series, saved to a Kafka topic
	// before its records are acknowledged and handed over when the
	// partition moves. The limits above (expected_users, max_series,
	// max_sessions, dedup, recommendation_join) then apply per partition.
	Partitioned configoptional.Optional[PartitionedConfig] `mapstructure:"partitioned"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// PartitionedConfig configures partitioned mode.
type PartitionedConfig struct {
	// Label names the partition on every series (default "partition").
	// Queries sum over it: users are split between partitions, never
	// shared.
	Label string `mapstructure:"label"`
	// Kafka is where the partitions' state is kept.
	Kafka PartitionStateConfig `mapstructure:"kafka"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// PartitionStateConfig is the Kafka topic of the partitions' state
// (internal/partstate).
type PartitionStateConfig struct {
	// Brokers are the seed brokers, host:port.
	Brokers []string `mapstructure:"brokers"`
	// Topic holds the state; created (compacted) when missing.
	Topic string `mapstructure:"topic"`
	// ClientID names this shard's Kafka clients; default from the process.
	ClientID string `mapstructure:"client_id"`
	// StartTimeout bounds reading the topic's ownership records at start.
	StartTimeout time.Duration `mapstructure:"start_timeout"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// DedupConfig bounds the ids remembered to drop duplicates: events by
// pulse.event.id, recommendations and later responses by
// pulse.recommendation.id (apart from each other).
type DedupConfig struct {
	// Window is how long a generation of ids lasts; an id is remembered
	// for between one and two windows.
	Window time.Duration `mapstructure:"window"`
	// MaxIDs caps the ids of one generation; a full generation starts the
	// next one early, which shortens the window.
	MaxIDs int `mapstructure:"max_ids"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// RecommendationJoinConfig bounds the recommendations remembered for
// joining later responses.
type RecommendationJoinConfig struct {
	// MaxEntries caps the recommendations remembered; the oldest go first.
	MaxEntries int `mapstructure:"max_entries"`
	// MaxAge is how long a recommendation is remembered.
	MaxAge time.Duration `mapstructure:"max_age"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// eventDimensions maps each allowed pulse.events label to its attribute.
var eventDimensions = map[string]string{
	catalog.LabelEventType:  "pulse.event.type",
	catalog.LabelCategory:   "pulse.event.category",
	catalog.LabelAction:     "pulse.event.action",
	catalog.LabelPlatform:   "pulse.platform",
	catalog.LabelAppVersion: "pulse.app.version",
	"feature":               "pulse.feature",
	"page":                  "pulse.page",
	"consent_level":         "pulse.consent_level",
}

// forbiddenLabels are user-level identifiers. They can never be labels: the
// validation names them so nobody tries twice.
var forbiddenLabels = []string{"user_id", "user.id", "device_id", "device.id", "session_id", "session.id", "event_id", "pulse.event.id", "recommendation_id", "pulse.recommendation.id", "user_agent", "user_agent.original", "ip", "client.address"}

const maxEventDimensions = 5

// Validate checks the configuration; errors name the field and the value.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.FlushInterval < 10*time.Millisecond {
		errs = append(errs, fmt.Errorf("flush_interval: must be at least 10ms, got %s", cfg.FlushInterval))
	}
	if cfg.FullExportInterval < cfg.FlushInterval {
		errs = append(errs, fmt.Errorf("full_export_interval: must be at least flush_interval (%s), got %s", cfg.FlushInterval, cfg.FullExportInterval))
	}
	if len(cfg.EventDimensions) == 0 || len(cfg.EventDimensions) > maxEventDimensions {
		errs = append(errs, fmt.Errorf("event_dimensions: between 1 and %d dimensions, got %d", maxEventDimensions, len(cfg.EventDimensions)))
	}
	for i, d := range cfg.EventDimensions {
		switch {
		case slices.Contains(forbiddenLabels, d) || strings.HasSuffix(d, "_id") || strings.HasSuffix(d, ".id"):
			errs = append(errs, fmt.Errorf("event_dimensions[%d]: %q is a user-level identifier and can never be a label", i, d))
		case eventDimensions[d] == "":
			errs = append(errs, fmt.Errorf("event_dimensions[%d]: unknown dimension %q; one of %s", i, d, strings.Join(sortedDims(), ", ")))
		case slices.Index(cfg.EventDimensions, d) != i:
			errs = append(errs, fmt.Errorf("event_dimensions[%d]: %q listed twice", i, d))
		}
	}
	if cfg.MaxValuesPerLabel < 1 {
		errs = append(errs, fmt.Errorf("max_values_per_label: must be positive, got %d", cfg.MaxValuesPerLabel))
	}
	if cfg.MaxSeries < 100 {
		errs = append(errs, fmt.Errorf("max_series: must be at least 100, got %d", cfg.MaxSeries))
	}
	if cfg.SessionTimeout < time.Minute {
		errs = append(errs, fmt.Errorf("session_timeout: must be at least 1m, got %s", cfg.SessionTimeout))
	}
	if cfg.MaxSessions < 1 {
		errs = append(errs, fmt.Errorf("max_sessions: must be positive, got %d", cfg.MaxSessions))
	}
	if cfg.ExpectedUsers < 1000 {
		errs = append(errs, fmt.Errorf("expected_users: must be at least 1000, got %d", cfg.ExpectedUsers))
	}
	if cfg.SaveInterval < time.Second {
		errs = append(errs, fmt.Errorf("save_interval: must be at least 1s, got %s", cfg.SaveInterval))
	}
	if cfg.Dedup.Window < time.Minute {
		errs = append(errs, fmt.Errorf("dedup.window: must be at least 1m, got %s", cfg.Dedup.Window))
	}
	if cfg.Dedup.MaxIDs < 1000 {
		errs = append(errs, fmt.Errorf("dedup.max_ids: must be at least 1000, got %d", cfg.Dedup.MaxIDs))
	}
	if cfg.RecommendationJoin.MaxEntries < 1 {
		errs = append(errs, fmt.Errorf("recommendation_join.max_entries: must be positive, got %d", cfg.RecommendationJoin.MaxEntries))
	}
	if cfg.RecommendationJoin.MaxAge < time.Minute || cfg.RecommendationJoin.MaxAge > maxJoinAge {
		errs = append(errs, fmt.Errorf("recommendation_join.max_age: between 1m and %s, got %s", maxJoinAge, cfg.RecommendationJoin.MaxAge))
	}
	if cfg.Partitioned.HasValue() {
		p := cfg.Partitioned.Get()
		if !labelName.MatchString(p.Label) || strings.HasPrefix(p.Label, "__") {
			errs = append(errs, fmt.Errorf("partitioned.label: must be a Prometheus label name not starting with __, got %q", p.Label))
		}
		if slices.Contains(cfg.EventDimensions, p.Label) {
			errs = append(errs, fmt.Errorf("partitioned.label: %q is also an event dimension", p.Label))
		}
		if len(p.Kafka.Brokers) == 0 {
			errs = append(errs, errors.New("partitioned.kafka.brokers: at least one host:port"))
		}
		for i, b := range p.Kafka.Brokers {
			if b == "" || !strings.Contains(b, ":") {
				errs = append(errs, fmt.Errorf("partitioned.kafka.brokers[%d]: want host:port, got %q", i, b))
			}
		}
		if p.Kafka.Topic == "" {
			errs = append(errs, errors.New("partitioned.kafka.topic: must not be empty"))
		}
		if p.Kafka.StartTimeout < time.Second {
			errs = append(errs, fmt.Errorf("partitioned.kafka.start_timeout: must be at least 1s, got %s", p.Kafka.StartTimeout))
		}
		if !cfg.WaitForExport {
			errs = append(errs, errors.New("partitioned: needs wait_for_export: true (a record is acknowledged once its partition's state is saved and exported)"))
		}
		if cfg.Storage != nil {
			errs = append(errs, fmt.Errorf("storage: not used in partitioned mode, whose state is kept in partitioned.kafka.topic; remove storage (%s)", cfg.Storage))
		}
	}
	return errors.Join(errs...)
}

// labelName is Prometheus' label name syntax.
var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// maxJoinAge keeps ages within the join table's 32-bit seconds.
const maxJoinAge = 10 * 365 * 24 * time.Hour

func sortedDims() []string {
	out := make([]string, 0, len(eventDimensions))
	for k := range eventDimensions {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
