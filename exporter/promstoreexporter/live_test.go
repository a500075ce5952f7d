package promstoreexporter

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/bearertokenauthextension"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/pulse-otel/pulse/exporter/promstoreexporter/internal/metadata"
	"github.com/pulse-otel/pulse/internal/testutil"
)

// writeLiveDashboard writes a compile's output directory with one public
// dashboard whose stat reads the gauge liveGauge.
func writeLiveDashboard(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "dashboards"), 0o750))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pulse-dashboards.yaml"), []byte(
		"dashboards:\n  - uid: live-test\n    file: dashboards/live-test.json\n    type: custom\n    theme: dark\n    isPublic: true\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dashboards", "live-test.json"), []byte(
		`{"uid":"live-test","title":"Live test","panels":[{"type":"stat","id":1,"targets":[{"refId":"A","expr":"sum(pulse_live_test)"}]}]}`), 0o600))
	return dir
}

func liveGauge(v float64, at time.Time) pmetric.Metrics {
	md := pmetric.NewMetrics()
	m := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("pulse.live.test")
	dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(pcommon.NewTimestampFromTime(at))
	dp.SetDoubleValue(v)
	return md
}

// liveEvents reads the stream's data lines into a channel.
func liveEvents(t *testing.T, url string) (<-chan string, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	out := make(chan string, 256)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "event: ") || strings.HasPrefix(line, "data: ") {
				out <- line
			}
		}
	}()
	return out, cancel
}

// waitFor returns the first line with want, failing after 5 s.
func waitFor(t *testing.T, lines <-chan string, want string) string {
	t.Helper()
	const timeout = 5 * time.Second
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-lines:
			require.True(t, ok, "the stream ended before %q", want)
			if strings.Contains(l, want) {
				return l
			}
		case <-deadline:
			t.Fatalf("no %q within %s", want, timeout)
		}
	}
}

// TestLivePage serves the live page on the API's listener, pushes an
// append to an open stream, keeps the stream past write_timeout, and
// shuts down promptly with the stream open.
func TestLivePage(t *testing.T) {
	p, cfg := newStarted(t, func(c *Config) {
		c.Live.Directory = writeLiveDashboard(t)
		c.Live.Tick = 20 * time.Millisecond
		c.WriteTimeout = 400 * time.Millisecond
		c.Query.Timeout = 300 * time.Millisecond
	})
	base := "http://" + cfg.NetAddr.Endpoint

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(base + "/dashboards")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMovedPermanently, resp.StatusCode)

	resp, err = http.Get(base + "/dashboards/api/list")
	require.NoError(t, err)
	var list struct {
		Dashboards []struct{ UID string } `json:"dashboards"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&list))
	resp.Body.Close()
	require.Len(t, list.Dashboards, 1)
	assert.Equal(t, "live-test", list.Dashboards[0].UID)

	lines, cancel := liveEvents(t, base+"/dashboards/api/live/live-test?from=now-5m&to=now")
	defer cancel()
	waitFor(t, lines, "event: full")

	require.NoError(t, p.pushMetrics(context.Background(), liveGauge(7, time.Now())))
	waitFor(t, lines, `"7"]`)

	// Past write_timeout the stream still delivers.
	time.Sleep(2 * cfg.WriteTimeout)
	require.NoError(t, p.pushMetrics(context.Background(), liveGauge(11, time.Now())))
	waitFor(t, lines, `"11"]`)

	start := time.Now()
	ctx, cancelShutdown := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelShutdown()
	require.NoError(t, p.shutdown(ctx))
	assert.Less(t, time.Since(start), 3*time.Second, "shutdown ends open streams")
	for range lines {
	}
}

func TestLivePageDisabled(t *testing.T) {
	p, cfg := newStarted(t, func(c *Config) { c.Live.Enabled = false })
	t.Cleanup(func() { require.NoError(t, p.shutdown(context.Background())) })
	resp, err := http.Get("http://" + cfg.NetAddr.Endpoint + "/dashboards/api/list")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestLivePageTelemetry(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	set := exportertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	cfg := testConfig(t, t.TempDir())
	cfg.Live.Directory = writeLiveDashboard(t)
	cfg.Live.Tick = 20 * time.Millisecond
	p, err := newExporter(cfg, set)
	require.NoError(t, err)
	require.NoError(t, p.start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, p.shutdown(context.Background())) })

	lines, cancel := liveEvents(t, "http://"+cfg.NetAddr.Endpoint+"/dashboards/api/live/live-test")
	defer cancel()
	waitFor(t, lines, "event: full")
	gauge := func(name string) int64 {
		m, err := tel.GetMetric(name)
		if err != nil {
			return -1
		}
		switch d := m.Data.(type) {
		case metricdata.Gauge[int64]:
			return d.DataPoints[0].Value
		case metricdata.Sum[int64]:
			return d.DataPoints[0].Value
		}
		return -1
	}
	assert.Equal(t, int64(1), gauge("otelcol_exporter_promstore_live_viewers"))
	assert.Equal(t, int64(1), gauge("otelcol_exporter_promstore_live_streams"))
	assert.GreaterOrEqual(t, gauge("otelcol_exporter_promstore_live_evaluations"), int64(1))
	assert.Equal(t, int64(0), gauge("otelcol_exporter_promstore_live_viewers_dropped"))
	cancel()
	require.Eventually(t, func() bool { return gauge("otelcol_exporter_promstore_live_viewers") == 0 }, 5*time.Second, 10*time.Millisecond,
		"a viewer that leaves is no longer counted")
	assert.Equal(t, int64(0), gauge("otelcol_exporter_promstore_live_streams"))
}

// TestLivePageShellWithoutToken: with bearer-token auth on the listener,
// the page's shell (HTML and scripts, no data) is served without a token,
// so a browser can load the page that asks for one; the page's API, its
// streams and the Prometheus API still answer 401 without it.
func TestLivePageShellWithoutToken(t *testing.T) {
	authID := component.MustNewID("bearertokenauth")
	f := bearertokenauthextension.NewFactory()
	acfg := f.CreateDefaultConfig().(*bearertokenauthextension.Config)
	acfg.BearerToken = "s3cret"
	ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), acfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { _ = ext.Shutdown(context.Background()) })

	cfg := testConfig(t, t.TempDir())
	cfg.Live.Directory = writeLiveDashboard(t)
	cfg.Auth = configoptional.Some(confighttp.AuthConfig{Config: configauth.Config{AuthenticatorID: authID}})
	p, err := newExporter(cfg, exportertest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	require.NoError(t, p.start(context.Background(), testutil.Host(map[component.ID]component.Component{authID: ext})))
	t.Cleanup(func() { require.NoError(t, p.shutdown(context.Background())) })
	base := "http://" + cfg.NetAddr.Endpoint

	status := func(method, path, token string) int {
		t.Helper()
		req, err := http.NewRequest(method, base+path, http.NoBody)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	for _, path := range []string{"/dashboards/", "/dashboards/d/live-test", "/dashboards/static/app.js", "/dashboards/static/app.css"} {
		assert.Equal(t, http.StatusOK, status(http.MethodGet, path, ""), "GET %s without a token", path)
	}
	assert.Equal(t, http.StatusMovedPermanently, status(http.MethodGet, "/dashboards", ""))
	for _, path := range []string{"/dashboards/api/list", "/dashboards/api/dashboard/live-test",
		"/dashboards/api/live/live-test?from=now-5m&to=now", "/api/v1/query?query=1", "/dashboards/static/index.html"} {
		assert.Equal(t, http.StatusUnauthorized, status(http.MethodGet, path, ""), "GET %s without a token", path)
		assert.Equal(t, http.StatusUnauthorized, status(http.MethodGet, path, "wrong"), "GET %s with a wrong token", path)
	}
	assert.Equal(t, http.StatusUnauthorized, status(http.MethodPost, "/dashboards/", ""), "only GET and HEAD of the shell are public")
	assert.Equal(t, http.StatusOK, status(http.MethodGet, "/dashboards/api/list", "s3cret"))
	assert.Equal(t, http.StatusOK, status(http.MethodGet, "/api/v1/query?query=1", "s3cret"))
}
