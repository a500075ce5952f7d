package alertrules

import (
	"testing"

	"github.com/stretchr/testify/assert"

	mcatalog "github.com/pulse-otel/pulse/internal/catalog"
	"github.com/pulse-otel/pulse/internal/kpi"
)

// The rule compiler knows every series of internal/catalog (whose tables
// docs/metrics.md is checked against), histograms as their _bucket, _sum
// and _count series, and treats the series of sums and histograms as
// counters; and the collector's counters promstore stores.
func TestCatalogKinds(t *testing.T) {
	assert.Len(t, catalog, len(mcatalog.SeriesNames())+len(kpi.StoredTelemetry()))
	for name, want := range map[string]metricKind{
		"pulse_events_total":                        kindCounter,
		"pulse_event_duration_milliseconds_bucket":  kindCounter,
		"pulse_event_duration_milliseconds_sum":     kindCounter,
		"pulse_event_duration_milliseconds_count":   kindCounter,
		"pulse_users_active":                        kindGauge,
		"pulse_sessions_open_duration_seconds":      kindGauge,
		"pulse_ai_model_accuracy_ratio":             kindGauge,
		"pulse_system_errors_by_type":               kindGauge,
		"otelcol_receiver_analytics_accepted_items": kindCounter,
	} {
		assert.Equal(t, want, catalog[name], name)
	}
	for _, name := range []string{"pulse_event_duration_milliseconds", "pulse_events", "pulse.events"} {
		assert.NotContains(t, catalog, name, "not a stored series")
	}
	// Every KPI's metrics are in the catalog.
	for _, k := range kpi.All() {
		for _, m := range k.Metrics {
			assert.Contains(t, catalog, m, "KPI %s", k.Name)
		}
	}
}
