package privacyprocessor

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/pulse-otel/pulse/processor/privacyprocessor/internal/metadata"
)

// Consent decisions are counted by the record's own level; a missing or
// unknown level (treated as necessary) is "unknown", and a hostile level
// adds no series.
func TestConsentDecisionsByLevel(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	cfg := createDefaultConfig().(*Config)
	cfg.Pseudonymize.Key = testKey
	set := processortest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	p, err := newPrivacyProcessor(set, cfg)
	require.NoError(t, err)

	ld := plog.NewLogs()
	for level, n := range map[string]int{"necessary": 2, "analytics": 3, "marketing": 1, "full": 4, "": 2} {
		for range n {
			analyticsEvent(ld, level, nil)
		}
	}
	for range 500 {
		analyticsEvent(ld, "jane.doe@example.com", nil)
	}
	_, err = p.processLogs(context.Background(), ld)
	require.NoError(t, err)

	m, err := tel.GetMetric("otelcol_processor_privacy_consent_decisions")
	require.NoError(t, err)
	sum, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, "%T", m.Data)
	got := map[string]int64{}
	for _, dp := range sum.DataPoints {
		var parts []string
		for _, kv := range dp.Attributes.ToSlice() {
			parts = append(parts, string(kv.Key)+"="+kv.Value.AsString())
		}
		got[strings.Join(parts, ",")] += dp.Value
	}
	assert.Equal(t, map[string]int64{
		"consent_level=necessary,decision=dropped": 2,
		"consent_level=analytics,decision=kept":    3,
		"consent_level=marketing,decision=kept":    1,
		"consent_level=full,decision=kept":         4,
		"consent_level=unknown,decision=dropped":   502,
	}, got)
}
