package metricgen // import "github.com/pulse-otel/pulse/internal/metricgen"

// LabelValues are the values that catalog-shaped test data gives each
// catalog label: the real ones where a KPI or a dashboard panel selects on
// them (response="accepted", stat="p95", goal_type="purchase",
// metric_name="revenue", granularity="daily", present="true",
// event_type="error_tracking"), two made-up ones elsewhere. Gen names
// values key_N, which leaves such panels empty; the dashboards' query
// tests and the viewer benchmark write their samples with these instead.
var LabelValues = map[string][]string{
	"action": {"click", "view"}, "app_version": {"1.0.0"}, "category": {"shop", "search"},
	"cohort": {"2026-11-16", "2026-11-23"}, "content_type": {"text"}, "direction": {"in", "out"},
	"element_type": {"button"}, "environment": {"production", "staging"}, "error_type": {"timeout"},
	"event_type": {"user_action", "error_tracking"}, "field": {"user_id", "page"}, "funnel_step": {"1"},
	"goal_type": {"purchase", "subscription"}, "granularity": {"daily", "hourly"}, "kind": {"event", "response"},
	"label": {"platform"}, "metric": {"pulse.events"}, "metric_name": {"revenue", "signups"},
	"model_id": {"ranker", "chat"}, "model_type": {"classifier"}, "model_version": {"v1", "v2"},
	"period": {"0", "1"}, "platform": {"web", "ios"}, "present": {"true", "false"},
	"recommendation_type": {"product"}, "response": {"accepted", "modified", "rejected"},
	"stat": {"average", "p95"}, "unit": {"EUR"}, "window": {"1h", "1d", "7d", "30d"},
	// Business metrics' revenue is the unsegmented series: these stay
	// empty (absent) there.
	"segment": {""}, "channel": {""}, "geography": {""},
}

// RatioWholes are the metrics that are the denominator of a ratio KPI:
// test data makes them grow (or stand) 100 times higher than the parts, so
// every ratio stays in [0, 1].
var RatioWholes = map[string]bool{
	"pulse.sessions": true, "pulse.recommendations": true, "pulse.session.duration": true,
	"pulse.sessions.open": true, "pulse.cohort.size": true,
}
