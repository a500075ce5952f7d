package promstoreexporter

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// describedMetrics is a sum, a gauge and a histogram with descriptions.
func describedMetrics(at time.Time, help string) pmetric.Metrics {
	md := pmetric.NewMetrics()
	ms := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
	ts := pcommon.NewTimestampFromTime(at)

	sum := ms.AppendEmpty()
	sum.SetName("pulse.events")
	sum.SetDescription("Events received" + help)
	sum.SetUnit("{event}")
	s := sum.SetEmptySum()
	s.SetIsMonotonic(true)
	s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	s.DataPoints().AppendEmpty().SetTimestamp(ts)

	gauge := ms.AppendEmpty()
	gauge.SetName("pulse.model.accuracy")
	gauge.SetDescription("Accuracy of the model")
	gauge.SetUnit("1")
	gauge.SetEmptyGauge().DataPoints().AppendEmpty().SetTimestamp(ts)

	hist := ms.AppendEmpty()
	hist.SetName("pulse.page.load")
	hist.SetDescription("Page load time")
	hist.SetUnit("ms")
	h := hist.SetEmptyHistogram()
	h.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	dp := h.DataPoints().AppendEmpty()
	dp.SetTimestamp(ts)
	dp.ExplicitBounds().FromRaw([]float64{100})
	dp.BucketCounts().FromRaw([]uint64{1, 0})
	dp.SetCount(1)
	return md
}

func getJSON(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url) //nolint:noctx // test on loopback
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// TestMetadataServesTypeHelpAndUnit: /api/v1/metadata answers, in
// Prometheus' shape, the type, help and unit of every family received,
// under the names the series have, and follows a changed description.
func TestMetadataServesTypeHelpAndUnit(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	exp := startExporter(t, cfg)
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
	now := time.Now().Truncate(time.Minute)
	require.NoError(t, exp.ConsumeMetrics(context.Background(), describedMetrics(now, "")))
	base := "http://" + cfg.NetAddr.Endpoint + "/api/v1/metadata"

	assert.JSONEq(t, `{"status":"success","data":{
		"pulse_events_total":[{"type":"counter","help":"Events received","unit":""}],
		"pulse_model_accuracy_ratio":[{"type":"gauge","help":"Accuracy of the model","unit":""}],
		"pulse_page_load_milliseconds":[{"type":"histogram","help":"Page load time","unit":"milliseconds"}]
	}}`, getJSON(t, base))
	assert.JSONEq(t, `{"status":"success","data":{
		"pulse_page_load_milliseconds":[{"type":"histogram","help":"Page load time","unit":"milliseconds"}]
	}}`, getJSON(t, base+"?metric=pulse_page_load_milliseconds"))
	var limited struct {
		Data map[string]json.RawMessage `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(getJSON(t, base+"?limit=2")), &limited))
	assert.Len(t, limited.Data, 2)

	require.NoError(t, exp.ConsumeMetrics(context.Background(), describedMetrics(now.Add(time.Second), " (all sources)")))
	assert.JSONEq(t, `{"status":"success","data":{
		"pulse_events_total":[{"type":"counter","help":"Events received (all sources)","unit":""}]
	}}`, getJSON(t, base+"?metric=pulse_events_total"))
}

// TestMetadataIsBounded: families beyond metadata_limit are not recorded.
func TestMetadataIsBounded(t *testing.T) {
	f := newFamilyMetadata(TranslationConfig{AddMetricSuffixes: true}, 2)
	f.observe(describedMetrics(time.Now(), ""))
	assert.Equal(t, 2, f.LengthMetadata())
	f.observe(describedMetrics(time.Now(), " changed"))
	assert.Equal(t, 2, f.LengthMetadata())
	off := newFamilyMetadata(TranslationConfig{}, 0)
	off.observe(describedMetrics(time.Now(), ""))
	assert.Zero(t, off.LengthMetadata())
}
