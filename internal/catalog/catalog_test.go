package catalog

import (
	"testing"

	"github.com/prometheus/otlptranslator"
	prw "github.com/prometheus/prometheus/storage/remote/otlptranslator/prometheusremotewrite"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// exported is m in the shape its emitter writes it: monotonic cumulative
// sums, cumulative histograms, gauges.
func exported(m Metric) pmetric.Metric {
	out := pmetric.NewMetric()
	out.SetName(m.Name)
	out.SetUnit(m.Unit)
	switch m.Kind {
	case Sum:
		s := out.SetEmptySum()
		s.SetIsMonotonic(true)
		s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	case Histogram:
		out.SetEmptyHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	default:
		out.SetEmptyGauge()
	}
	return out
}

// PromName is the name the prometheus_remote_write exporter's translator
// (default settings) gives the metric as emitted.
func TestPromNameIsTheExportersName(t *testing.T) {
	namer := otlptranslator.MetricNamer{WithMetricSuffixes: true}
	for _, m := range All() {
		want, err := namer.Build(prw.TranslatorMetricFromOtelMetric(exported(m)))
		require.NoError(t, err, m.Name)
		assert.Equal(t, want, m.PromName(), m.Name)
	}
}

func TestSeriesNamesAndLookup(t *testing.T) {
	m, ok := ByName("pulse.event.duration")
	require.True(t, ok)
	assert.Equal(t, "pulse_event_duration_milliseconds", m.PromName())
	assert.Equal(t, []string{"pulse_event_duration_milliseconds_bucket", "pulse_event_duration_milliseconds_sum", "pulse_event_duration_milliseconds_count"}, m.SeriesNames())
	for _, s := range append(m.SeriesNames(), m.PromName()) {
		got, ok := Lookup(s)
		require.True(t, ok, s)
		assert.Equal(t, m.Name, got.Name, s)
	}

	m, ok = ByName("pulse.events")
	require.True(t, ok)
	assert.Equal(t, []string{"pulse_events_total"}, m.SeriesNames())
	assert.True(t, m.IsCounter())

	m, ok = Lookup("pulse_ai_model_accuracy_ratio")
	require.True(t, ok)
	assert.Equal(t, Gauge, m.Kind)
	assert.Equal(t, Snapshot, m.Source)
	assert.False(t, m.IsCounter())

	_, ok = Lookup("pulse_events")
	assert.False(t, ok, "the family of a sum is its _total series")
	_, ok = Lookup("pulse_nothing")
	assert.False(t, ok)
}

func TestAllIsACopy(t *testing.T) {
	a := All()
	a[0].Labels[0] = "changed"
	a[0].Name = "changed"
	assert.NotEqual(t, "changed", All()[0].Labels[0])
	assert.Equal(t, "pulse.events", ConnectorMetrics()[Events].Name)
	assert.Len(t, ConnectorMetrics(), NumConnector)
	assert.Len(t, All(), NumConnector+len(SnapshotMetrics()))
}

func TestEveryHistogramHasBounds(t *testing.T) {
	for _, m := range All() {
		if m.Kind == Histogram {
			assert.NotEmpty(t, m.Bounds, m.Name)
			assert.False(t, m.Int, m.Name)
		} else {
			assert.Empty(t, m.Bounds, m.Name)
		}
	}
}
