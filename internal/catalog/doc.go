// Package catalog is the one source of truth for the metrics Pulse writes:
// the analytics_metrics connector's aggregates and the analytics receiver's
// snapshot gauges, each with its OTel name, type, unit, help, labels and
// histogram buckets. The Prometheus names are derived here, once, with
// github.com/prometheus/otlptranslator configured as the
// prometheus_remote_write exporter and promstore configure it by default
// (suffixes on, no UTF-8, no namespace).
//
// Readers: the connector (what it aggregates and exports), the decoder (the
// snapshot gauges its spec points at), internal/kpi (the series each KPI
// reads), the rule compiler (counter or gauge), internal/metricgen (bucket
// bounds and kinds), promstore's /api/v1/metadata (type, unit and help
// before any data arrives) and docs/metrics.md, whose tables
// TestDocsMatchCatalog checks against All().
package catalog // import "github.com/pulse-otel/pulse/internal/catalog"
