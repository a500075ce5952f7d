package analyticsreceiver

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/pulse-otel/pulse/internal/testutil"
	"github.com/pulse-otel/pulse/receiver/analyticsreceiver/internal/metadata"
)

// businessMetrics returns a request body of one business snapshot per name.
func businessMetrics(names ...string) []byte {
	ts := time.Now().Add(-time.Minute).UnixMilli()
	items := make([]string, len(names))
	for i, n := range names {
		items[i] = fmt.Sprintf(`{"metricId":"m-%d","metricName":%q,"category":"revenue","value":%d,"unit":"EUR","trend":"up",
"dimensions":{"timeGranularity":"daily"},"confidence":0.9,"periodStart":%d,"periodEnd":%d,"timestamp":%d}`, i, n, i, ts-86_400_000, ts, ts)
	}
	return []byte("[" + strings.Join(items, ",") + "]")
}

// metricNames returns the distinct metric_name labels in the sink.
func metricNames(sink *consumertest.MetricsSink) map[string]bool {
	out := map[string]bool{}
	for _, md := range sink.AllMetrics() {
		rms := md.ResourceMetrics()
		for i := 0; i < rms.Len(); i++ {
			ms := rms.At(i).ScopeMetrics().At(0).Metrics()
			for j := 0; j < ms.Len(); j++ {
				if ms.At(j).Type() != pmetric.MetricTypeGauge {
					continue
				}
				dps := ms.At(j).Gauge().DataPoints()
				for k := 0; k < dps.Len(); k++ {
					if v, ok := dps.At(k).Attributes().Get("metric_name"); ok {
						out[v.Str()] = true
					}
				}
			}
		}
	}
	return out
}

func TestSnapshotLabelFoldsAreAnsweredAndCounted(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	cfg := createDefaultConfig().(*Config)
	cfg.NetAddr.Endpoint = testutil.FreeAddr(t)
	cfg.SnapshotLabels.MaxValuesPerLabel = 2
	set := receivertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	sink := new(consumertest.MetricsSink)
	rcv, err := NewFactory().CreateMetrics(context.Background(), set, cfg, sink)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, rcv.Shutdown(context.Background())) })
	url := "http://" + cfg.NetAddr.Endpoint + "/v1/business-metrics"

	r := post(t, url, "application/json", businessMetrics("a", "b"))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.NotContains(t, r.raw, "folded", "nothing folded: the answer is unchanged")

	r = post(t, url, "application/json", businessMetrics("c", "a", "d", "e"))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, 4, r.body.Accepted)
	assert.Equal(t, 3, r.body.Folded, r.raw)
	assert.Equal(t, map[string]bool{"a": true, "b": true, "_other": true}, metricNames(sink))

	m, err := tel.GetMetric("otelcol_receiver_analytics_label_overflow")
	require.NoError(t, err)
	sum := m.Data.(metricdata.Sum[int64])
	require.Len(t, sum.DataPoints, 1)
	assert.Equal(t, int64(3), sum.DataPoints[0].Value)
	assert.Equal(t, attribute.NewSet(attribute.String("endpoint", "business-metrics"), attribute.String("label", "metric_name")), sum.DataPoints[0].Attributes)
}

func TestSnapshotLabelsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	storageID := component.MustNewID("file_storage")
	run := func(names ...string) []int {
		f := filestorage.NewFactory()
		scfg := f.CreateDefaultConfig().(*filestorage.Config)
		scfg.Directory = dir
		ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), scfg)
		require.NoError(t, err)
		require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
		defer func() { require.NoError(t, ext.Shutdown(context.Background())) }()

		cfg := createDefaultConfig().(*Config)
		cfg.NetAddr.Endpoint = testutil.FreeAddr(t)
		cfg.SnapshotLabels.MaxValuesPerLabel = 2
		cfg.SnapshotLabels.Storage = &storageID
		set := receivertest.NewNopSettings(metadata.Type)
		set.ID = component.NewID(metadata.Type) // the same storage file on each run
		rcv, err := NewFactory().CreateMetrics(context.Background(), set, cfg, new(consumertest.MetricsSink))
		require.NoError(t, err)
		require.NoError(t, rcv.Start(context.Background(), testutil.Host(map[component.ID]component.Component{storageID: ext})))
		var folded []int
		for _, n := range names {
			r := post(t, "http://"+cfg.NetAddr.Endpoint+"/v1/business-metrics", "application/json", businessMetrics(n))
			require.Equal(t, http.StatusOK, r.status, r.raw)
			folded = append(folded, r.body.Folded)
		}
		require.NoError(t, rcv.Shutdown(context.Background()))
		return folded
	}
	assert.Equal(t, []int{0, 0, 1}, run("a", "b", "c"))
	assert.Equal(t, []int{1, 0, 0}, run("d", "a", "b"), "after a restart a and b are still the admitted values, and there is no room for d")
}

func TestSnapshotLabelsStorageMustExist(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.NetAddr.Endpoint = testutil.FreeAddr(t)
	id := component.MustNewID("file_storage")
	cfg.SnapshotLabels.Storage = &id
	rcv, err := NewFactory().CreateMetrics(context.Background(), receivertest.NewNopSettings(metadata.Type), cfg, new(consumertest.MetricsSink))
	require.NoError(t, err)
	err = rcv.Start(context.Background(), componenttest.NewNopHost())
	require.ErrorContains(t, err, `snapshot_labels::storage: extension "file_storage" is not configured`)
	require.NoError(t, rcv.Shutdown(context.Background()))
}
