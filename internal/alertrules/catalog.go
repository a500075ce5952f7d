package alertrules

import (
	mcatalog "github.com/pulse-otel/pulse/internal/catalog"
	"github.com/pulse-otel/pulse/internal/kpi"
)

// catalog holds the Prometheus series names of internal/catalog by kind:
// the series of sums and histograms only grow (counters, for rate() and
// increase()), gauges are gauges; and the collector's stored counters
// (kpi.StoredTelemetry).
var catalog = func() map[string]metricKind {
	out := map[string]metricKind{}
	for _, m := range mcatalog.All() {
		k := kindGauge
		if m.IsCounter() {
			k = kindCounter
		}
		for _, s := range m.SeriesNames() {
			out[s] = k
		}
	}
	for s := range kpi.StoredTelemetry() {
		out[s] = kindCounter
	}
	return out
}()
