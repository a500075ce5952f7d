package promstoreexporter

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pulse-otel/pulse/internal/catalog"
)

// describedMetrics is a sum, a gauge and a histogram with descriptions,
// none of them in internal/catalog.
func describedMetrics(at time.Time, help string) pmetric.Metrics {
	md := pmetric.NewMetrics()
	ms := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
	ts := pcommon.NewTimestampFromTime(at)

	sum := ms.AppendEmpty()
	sum.SetName("shop.orders")
	sum.SetDescription("Orders received" + help)
	sum.SetUnit("{order}")
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

	// The listing holds the catalog's families and the three received.
	var all struct {
		Data map[string]json.RawMessage `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(getJSON(t, base)), &all))
	assert.Len(t, all.Data, len(catalog.All())+3)
	for name, want := range map[string]string{
		"shop_orders_total":            `[{"type":"counter","help":"Orders received","unit":""}]`,
		"pulse_model_accuracy_ratio":   `[{"type":"gauge","help":"Accuracy of the model","unit":""}]`,
		"pulse_page_load_milliseconds": `[{"type":"histogram","help":"Page load time","unit":"milliseconds"}]`,
	} {
		assert.JSONEq(t, want, string(all.Data[name]), name)
	}
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
		"shop_orders_total":[{"type":"counter","help":"Orders received (all sources)","unit":""}]
	}}`, getJSON(t, base+"?metric=shop_orders_total"))
}

// TestMetadataIsBounded: families beyond metadata_limit are not recorded
// (the catalog's are known besides them).
func TestMetadataIsBounded(t *testing.T) {
	f := newFamilyMetadata(TranslationConfig{AddMetricSuffixes: true}, 2)
	known := len(catalog.All())
	f.observe(describedMetrics(time.Now(), ""))
	assert.Equal(t, known+2, f.LengthMetadata())
	f.observe(describedMetrics(time.Now(), " changed"))
	assert.Equal(t, known+2, f.LengthMetadata())
	off := newFamilyMetadata(TranslationConfig{}, 0)
	off.observe(describedMetrics(time.Now(), ""))
	assert.Zero(t, off.LengthMetadata())
}

// TestMetadataKnowsTheCatalog: before any data arrives, /api/v1/metadata
// answers a catalog family's type, help and unit, under the name the
// configured translation gives it; data with another description does not
// change a catalog family.
func TestMetadataKnowsTheCatalog(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	exp := startExporter(t, cfg)
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
	base := "http://" + cfg.NetAddr.Endpoint + "/api/v1/metadata"

	m, ok := catalog.ByName("pulse.event.duration")
	require.True(t, ok)
	want := `{"status":"success","data":{
		"pulse_event_duration_milliseconds":[{"type":"histogram","help":` + strconv.Quote(m.Help) + `,"unit":"milliseconds"}]
	}}`
	assert.JSONEq(t, want, getJSON(t, base+"?metric=pulse_event_duration_milliseconds"))
	assert.JSONEq(t, `{"status":"success","data":{
		"pulse_users_active":[{"type":"gauge","help":"Distinct users in the rolling window (HyperLogLog estimate).","unit":""}]
	}}`, getJSON(t, base+"?metric=pulse_users_active"))

	md := pmetric.NewMetrics()
	h := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	h.SetName("pulse.event.duration")
	h.SetUnit("ms")
	h.SetDescription("something else")
	hist := h.SetEmptyHistogram()
	hist.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	dp := hist.DataPoints().AppendEmpty()
	dp.SetTimestamp(pcommon.NewTimestampFromTime(time.Now().Truncate(time.Minute)))
	dp.ExplicitBounds().FromRaw([]float64{100})
	dp.BucketCounts().FromRaw([]uint64{1, 0})
	dp.SetCount(1)
	require.NoError(t, exp.ConsumeMetrics(context.Background(), md))
	assert.JSONEq(t, want, getJSON(t, base+"?metric=pulse_event_duration_milliseconds"))
}

// With a namespace, the catalog's families carry it like their series.
func TestMetadataCatalogFollowsTranslation(t *testing.T) {
	f := newFamilyMetadata(TranslationConfig{AddMetricSuffixes: true, Namespace: "x"}, 10)
	got, ok := f.GetMetadata("x_pulse_events_total")
	require.True(t, ok)
	assert.Equal(t, "counter", string(got.Type))
	_, ok = f.GetMetadata("pulse_events_total")
	assert.False(t, ok)
	off := newFamilyMetadata(TranslationConfig{AddMetricSuffixes: true}, 0)
	assert.Zero(t, off.LengthMetadata(), "metadata_limit 0 turns metadata off")
}
