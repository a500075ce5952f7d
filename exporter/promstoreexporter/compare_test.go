package promstoreexporter

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/golang/snappy"
	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/prometheusremotewriteexporter"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/prompb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exportertest"
)

// remoteWriteSink records the samples of Prometheus remote-write requests,
// by series (labels in canonical text form).
type remoteWriteSink struct {
	mu     sync.Mutex
	series map[string][]prompb.Sample
}

func (s *remoteWriteSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	compressed, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	raw, err := snappy.Decode(nil, compressed)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req prompb.WriteRequest
	if err := req.Unmarshal(raw); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ts := range req.Timeseries {
		m := model.Metric{}
		for _, l := range ts.Labels {
			m[model.LabelName(l.Name)] = model.LabelValue(l.Value)
		}
		s.series[m.String()] = append(s.series[m.String()], ts.Samples...)
	}
	w.WriteHeader(http.StatusNoContent)
}

// TestSameSeriesAsRemoteWrite sends the same metrics through the upstream
// prometheus_remote_write exporter (default translation settings) and
// through promstore, and requires promstore to hold exactly the series and
// values the remote-write exporter sends: users can switch stores without
// renaming a series.
func TestSameSeriesAsRemoteWrite(t *testing.T) {
	t0, t1 := testTimes()

	rw := &remoteWriteSink{series: map[string][]prompb.Sample{}}
	srv := httptest.NewServer(rw)
	defer srv.Close()
	f := prometheusremotewriteexporter.NewFactory()
	rwCfg := f.CreateDefaultConfig().(*prometheusremotewriteexporter.Config)
	rwCfg.ClientConfig.Endpoint = srv.URL
	rwCfg.HTTP.Endpoint = srv.URL          // the newer "http" block wins when both are set
	rwCfg.RemoteWriteQueue.Enabled = false // synchronous: sent when ConsumeMetrics returns
	rwCfg.BackOffConfig.Enabled = false
	rwExp, err := f.CreateMetrics(context.Background(), exportertest.NewNopSettings(f.Type()), rwCfg)
	require.NoError(t, err)
	require.NoError(t, rwExp.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, rwExp.ConsumeMetrics(context.Background(), testMetrics(t0, t1)))
	require.NoError(t, rwExp.Shutdown(context.Background()))
	// sum, gauge, three buckets + _sum + _count, target_info
	require.GreaterOrEqual(t, len(rw.series), 8, "%v", rw.series)

	cfg := testConfig(t, t.TempDir())
	exp := startExporter(t, cfg)
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
	require.NoError(t, exp.ConsumeMetrics(context.Background(), testMetrics(t0, t1)))
	client := apiClient(t, cfg)

	// Every remote-written series, with its value at each time, is in promstore.
	for series, samples := range rw.series {
		for _, smp := range samples {
			ts := model.Time(smp.Timestamp).Time()
			vec := queryVector(t, client, series, ts)
			require.Len(t, vec, 1, "%s at %s: promstore has no such series", series, ts)
			assert.Equal(t, model.SampleValue(smp.Value), vec[0].Value, "%s at %s", series, ts)
		}
	}
	// And promstore holds no series the remote-write exporter did not send.
	ctx := context.Background()
	labelSets, _, _, err := client.Series(ctx, []string{`{__name__=~".+"}`}, t0.Add(-1e9), t1.Add(1e9))
	require.NoError(t, err)
	var got, want []string
	for _, ls := range labelSets {
		got = append(got, model.Metric(ls).String())
	}
	for s := range rw.series {
		want = append(want, s)
	}
	sort.Strings(got)
	sort.Strings(want)
	assert.Equal(t, want, got)
	assert.Contains(t, strings.Join(got, "\n"), "pulse_requests_total")
}
