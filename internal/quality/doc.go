// Package quality computes the seed's dataQualityReports from what the
// store already holds: one report per data source (receiver endpoint and
// client platform) over a period, read through any Prometheus-compatible
// query API (promstore's, Prometheus, VictoriaMetrics, Mimir).
//
// It reads counters only, never events: the analytics receiver's
// otelcol_receiver_analytics_accepted_items and _rejected_items (stored by
// promstore's telemetry option), and the analytics_metrics connector's
// pulse_quality_fields_total, pulse_event_timeliness_seconds and
// pulse_recommendation_responses_unjoined_total. Every figure is the exact
// increase of a counter over the period (kpi.ExactIncreaseBy), so a report
// over a closed period is the same each time it is generated.
//
// What it does not do: it cannot say which event was bad (the counters
// carry the schema field and the error code, never client text), and it
// cannot split field completeness by platform (the connector counts field
// presence over all events); docs/quality.md says how each number is made.
package quality // import "github.com/pulse-otel/pulse/internal/quality"
