package analyticsreceiver

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/bearertokenauthextension"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/pulse-otel/pulse/internal/testutil"
	"github.com/pulse-otel/pulse/receiver/analyticsreceiver/internal/metadata"
)

// event returns a valid analytics event JSON object with the given id.
func event(id string) string {
	ts := time.Now().Add(-time.Minute).UnixMilli()
	return fmt.Sprintf(`{"eventId":%q,"sessionId":"s-1","userId":"u-1","deviceId":"d-1","eventType":"user_action",
"category":"workout","action":"view","properties":{"page":"/plan","duration":1200},"platform":"ios","appVersion":"2.4.0",
"consentLevel":"analytics","dataRetentionDays":365,"timestamp":%d,
"behavior":{"behaviorType":"navigation","pageData":{"path":"/plan","title":"Plan","scrollDepth":40}}}`, id, ts)
}

func systemSnapshot() string {
	ts := time.Now().Add(-time.Minute).UnixMilli()
	return fmt.Sprintf(`{"serviceName":"api","serviceVersion":"1.0.0","environment":"production",
"responseTime":{"average":12,"median":9,"p95":40,"p99":80},"throughput":{"requestsPerSecond":120,"transactionsPerSecond":30},
"errorMetrics":{"errorRate":0.01,"errorCount":4,"errorTypes":[{"type":"timeout","count":4}]},
"resourceUsage":{"cpuUtilization":35,"memoryUtilization":60,"diskUtilization":40,"networkIO":{"bytesIn":1000,"bytesOut":2000}},
"availability":{"uptime":99.95,"downtimeMinutes":0,"incidentCount":0},
"timeWindow":{"start":%d,"end":%d,"granularity":"minute"},"timestamp":%d}`, ts-60000, ts, ts)
}

type server struct {
	url     string
	logs    *consumertest.LogsSink
	metrics *consumertest.MetricsSink
}

type setup struct {
	cfg       func(*Config)
	logs      consumer.Logs
	metrics   consumer.Metrics
	noMetrics bool
	host      component.Host
}

// start runs the receiver on a loopback port for the test's lifetime.
func start(t *testing.T, s setup) *server {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.NetAddr.Endpoint = testutil.FreeAddr(t)
	if s.cfg != nil {
		s.cfg(cfg)
	}
	srv := &server{url: "http://" + cfg.NetAddr.Endpoint, logs: new(consumertest.LogsSink), metrics: new(consumertest.MetricsSink)}
	logs, metrics := s.logs, s.metrics
	if logs == nil {
		logs = srv.logs
	}
	if metrics == nil {
		metrics = srv.metrics
	}
	host := s.host
	if host == nil {
		host = componenttest.NewNopHost()
	}
	f := NewFactory()
	set := receivertest.NewNopSettings(metadata.Type)
	lr, err := f.CreateLogs(context.Background(), set, cfg, logs)
	require.NoError(t, err)
	require.NoError(t, lr.Start(context.Background(), host))
	t.Cleanup(func() { require.NoError(t, lr.Shutdown(context.Background())) })
	if !s.noMetrics {
		mr, err := f.CreateMetrics(context.Background(), set, cfg, metrics)
		require.NoError(t, err)
		require.NoError(t, mr.Start(context.Background(), host))
		t.Cleanup(func() { require.NoError(t, mr.Shutdown(context.Background())) })
	}
	return srv
}

type reply struct {
	status int
	header http.Header
	body   answer
	raw    string
}

func post(t *testing.T, url, contentType string, body []byte, headers ...string) reply {
	t.Helper()
	r, err := tryPost(url, contentType, body, headers...)
	require.NoError(t, err)
	return r
}

// tryPost is post for goroutines other than the test's: it returns the
// error instead of failing the test.
func tryPost(url, contentType string, body []byte, headers ...string) (reply, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return reply{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return tryDo(req)
}

func do(t *testing.T, req *http.Request) reply {
	t.Helper()
	r, err := tryDo(req)
	require.NoError(t, err)
	return r
}

func tryDo(req *http.Request) (reply, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer func() { _ = resp.Body.Close() }() // read to the end below; a close error says nothing more
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	r := reply{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			return r, fmt.Errorf("body %s: %w", raw, err)
		}
	}
	return r, nil
}

func TestMixedBatchAcceptsGoodEvents(t *testing.T) {
	srv := start(t, setup{})
	body := "[" + event("e-1") + `,{"eventId":"e-2"},` + event("e-3") + "]"
	r := post(t, srv.url+"/v1/events", "application/json", []byte(body))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, 2, r.body.Accepted)
	require.Len(t, r.body.Rejected, 1)
	assert.Equal(t, 1, r.body.Rejected[0].Index)
	assert.NotEmpty(t, r.body.Rejected[0].Errors)
	assert.Equal(t, 2, srv.logs.LogRecordCount())
}

func TestRequestForms(t *testing.T) {
	srv := start(t, setup{})
	for name, body := range map[string]string{
		"array":   "[" + event("a") + "]",
		"wrapper": `{"events":[` + event("b") + "]}",
		"object":  event("c"),
	} {
		t.Run(name, func(t *testing.T) {
			r := post(t, srv.url+"/v1/events", "application/json; charset=utf-8", []byte(body))
			require.Equal(t, http.StatusOK, r.status, r.raw)
			assert.Equal(t, 1, r.body.Accepted)
			assert.Empty(t, r.body.Rejected)
		})
	}
	assert.Equal(t, 3, srv.logs.LogRecordCount())
}

func TestMetricsEndpoint(t *testing.T) {
	srv := start(t, setup{})
	r := post(t, srv.url+"/v1/system-metrics", "application/json", []byte(`{"metrics":[`+systemSnapshot()+`]}`))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, 1, r.body.Accepted)
	require.Len(t, srv.metrics.AllMetrics(), 1)
	md := srv.metrics.AllMetrics()[0]
	svc, _ := md.ResourceMetrics().At(0).Resource().Attributes().Get("service.name")
	assert.Equal(t, "api", svc.Str())
	assert.Positive(t, md.DataPointCount())
}

func TestErrorStatuses(t *testing.T) {
	srv := start(t, setup{cfg: func(c *Config) {
		c.MaxRequestBodySize = 4096
		c.MaxEventsPerRequest = 2
	}})
	big := "[" + event("x") + "," + strings.Repeat(" ", 5000) + "]"
	tests := []struct {
		name, path, ctype, body string
		method                  string
		status                  int
		errContains             string
	}{
		{"malformed", "/v1/events", "application/json", `[{"eventId":`, "", 400, "malformed JSON at byte offset"},
		{"scalar", "/v1/events", "application/json", `42`, "", 400, "body must be a JSON array"},
		{"empty", "/v1/events", "application/json", `[]`, "", 400, "no events in request"},
		{"all invalid", "/v1/events", "application/json", `[{"eventId":"e"}]`, "", 400, "no event in the request is valid"},
		{"too large", "/v1/events", "application/json", big, "", 413, "max_request_body_size"},
		{"too many", "/v1/events", "application/json", "[" + event("1") + "," + event("2") + "," + event("3") + "]", "", 413, "3 events, the limit is 2"},
		{"content type", "/v1/events", "text/plain", event("1"), "", 415, "application/json"},
		{"no content type", "/v1/events", "", event("1"), "", 415, "application/json"},
		{"unknown path", "/v1/nope", "application/json", event("1"), "", 404, "unknown path"},
		{"method", "/v1/events", "application/json", "", http.MethodGet, 405, "use POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			req, err := http.NewRequest(method, srv.url+tt.path, strings.NewReader(tt.body))
			require.NoError(t, err)
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			r := do(t, req)
			assert.Equal(t, tt.status, r.status, r.raw)
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			assert.Contains(t, r.body.Error, tt.errContains)
			if tt.status == 405 {
				assert.Equal(t, "POST", r.header.Get("Allow"))
			}
		})
	}
	assert.Zero(t, srv.logs.LogRecordCount(), "nothing may reach the pipeline from a failed request")
	// The server still serves good traffic after all of that.
	r := post(t, srv.url+"/v1/events", "application/json", []byte(event("ok")))
	assert.Equal(t, http.StatusOK, r.status, r.raw)
}

func TestDisabledSignal(t *testing.T) {
	srv := start(t, setup{noMetrics: true})
	r := post(t, srv.url+"/v1/model-metrics", "application/json", []byte(`{}`))
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.Contains(t, r.body.Error, "no metrics pipeline uses this receiver")
}

func TestCompressedBodies(t *testing.T) {
	srv := start(t, setup{})
	body := []byte("[" + event("gz") + "]")

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(body)
	require.NoError(t, zw.Close())
	r := post(t, srv.url+"/v1/events", "application/json", gz.Bytes(), "Content-Encoding", "gzip")
	require.Equal(t, http.StatusOK, r.status, r.raw)

	enc, err := zstd.NewWriter(nil)
	require.NoError(t, err)
	r = post(t, srv.url+"/v1/events", "application/json", enc.EncodeAll(body, nil), "Content-Encoding", "zstd")
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, 2, srv.logs.LogRecordCount())

	r = post(t, srv.url+"/v1/events", "application/json", []byte("not gzip"), "Content-Encoding", "gzip")
	assert.Equal(t, http.StatusBadRequest, r.status, r.raw)
}

func TestBackpressure(t *testing.T) {
	refused := consumertest.NewErr(errors.New("data refused due to high memory usage"))
	srv := start(t, setup{logs: refused, cfg: func(c *Config) { c.RetryAfter = 3 * time.Second }})
	r := post(t, srv.url+"/v1/events", "application/json", []byte(event("e")))
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
	assert.Equal(t, "3", r.header.Get("Retry-After"))
	assert.Zero(t, r.body.Accepted)

	permanent := consumertest.NewErr(consumererror.NewPermanent(errors.New("bad data")))
	srv = start(t, setup{logs: permanent})
	r = post(t, srv.url+"/v1/events", "application/json", []byte(event("e")))
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Zero(t, r.body.Accepted)
}

// heldLogs holds every ConsumeLogs call until release is closed.
type heldLogs struct {
	consumertest.LogsSink
	entered chan struct{}
	release chan struct{}
}

func (b *heldLogs) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	b.entered <- struct{}{}
	<-b.release
	return b.LogsSink.ConsumeLogs(ctx, ld)
}

func TestMaxConcurrentRequests(t *testing.T) {
	held := &heldLogs{entered: make(chan struct{}, 2), release: make(chan struct{})}
	srv := start(t, setup{logs: held, cfg: func(c *Config) { c.MaxConcurrentRequests = 2; c.RetryAfter = 2 * time.Second }})
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := tryPost(srv.url+"/v1/events", "application/json", []byte(event(fmt.Sprintf("held-%d", i))))
			assert.NoError(t, err)
			assert.Equal(t, http.StatusOK, r.status, r.raw)
		}()
	}
	<-held.entered
	<-held.entered
	r := post(t, srv.url+"/v1/events", "application/json", []byte(event("third")))
	assert.Equal(t, http.StatusTooManyRequests, r.status, r.raw)
	assert.Equal(t, "2", r.header.Get("Retry-After"))
	assert.Contains(t, r.body.Error, "max_concurrent_requests")
	assert.Zero(t, r.body.Accepted)
	close(held.release)
	wg.Wait()
	// The slots are free again.
	held.entered = make(chan struct{}, 1)
	r = post(t, srv.url+"/v1/events", "application/json", []byte(event("after")))
	assert.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, 3, held.LogRecordCount(), "the refused request was not accepted")
}

func TestBearerTokenAuth(t *testing.T) {
	authID := component.MustNewID("bearertokenauth")
	f := bearertokenauthextension.NewFactory()
	acfg := f.CreateDefaultConfig().(*bearertokenauthextension.Config)
	acfg.BearerToken = "s3cret"
	ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), acfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { _ = ext.Shutdown(context.Background()) })
	host := testutil.Host(map[component.ID]component.Component{authID: ext})

	srv := start(t, setup{host: host, cfg: func(c *Config) {
		c.Auth = configoptional.Some(confighttp.AuthConfig{Config: configauth.Config{AuthenticatorID: authID}})
	}})
	r := post(t, srv.url+"/v1/events", "application/json", []byte(event("e")))
	assert.Equal(t, http.StatusUnauthorized, r.status, r.raw)
	r = post(t, srv.url+"/v1/events", "application/json", []byte(event("e")), "Authorization", "Bearer wrong")
	assert.Equal(t, http.StatusUnauthorized, r.status, r.raw)
	r = post(t, srv.url+"/v1/events", "application/json", []byte(event("e")), "Authorization", "Bearer s3cret")
	assert.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, 1, srv.logs.LogRecordCount())
}

func TestCORSPreflight(t *testing.T) {
	srv := start(t, setup{cfg: func(c *Config) {
		c.CORS = configoptional.Some(confighttp.CORSConfig{AllowedOrigins: []string{"https://app.example.com"}, AllowedHeaders: []string{"Content-Type"}})
	}})
	req, err := http.NewRequest(http.MethodOptions, srv.url+"/v1/events", http.NoBody)
	require.NoError(t, err)
	req.Header.Set("Origin", "https://app.example.com")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type") // browsers send it lower-case
	r := do(t, req)
	assert.Less(t, r.status, 300, "%d %v %s", r.status, r.header, r.raw)
	assert.Equal(t, "https://app.example.com", r.header.Get("Access-Control-Allow-Origin"))

	req, err = http.NewRequest(http.MethodOptions, srv.url+"/v1/events", http.NoBody)
	require.NoError(t, err)
	req.Header.Set("Origin", "https://evil.example.com")
	req.Header.Set("Access-Control-Request-Method", "POST")
	r = do(t, req)
	assert.Empty(t, r.header.Get("Access-Control-Allow-Origin"))
}

// blockingLogs holds every ConsumeLogs call until release is closed.
type blockingLogs struct {
	consumertest.LogsSink
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (b *blockingLogs) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	b.once.Do(func() { close(b.entered) })
	<-b.release
	return b.LogsSink.ConsumeLogs(ctx, ld)
}

func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	next := &blockingLogs{entered: make(chan struct{}), release: make(chan struct{})}
	cfg := createDefaultConfig().(*Config)
	cfg.NetAddr.Endpoint = testutil.FreeAddr(t)
	rcv, err := NewFactory().CreateLogs(context.Background(), receivertest.NewNopSettings(metadata.Type), cfg, next)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(context.Background(), componenttest.NewNopHost()))

	done := make(chan reply, 1)
	go func() {
		r, err := tryPost("http://"+cfg.NetAddr.Endpoint+"/v1/events", "application/json", []byte(event("inflight")))
		assert.NoError(t, err)
		done <- r
	}()
	select {
	case <-next.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("request never reached the consumer")
	}
	stopped := make(chan error, 1)
	go func() { stopped <- rcv.Shutdown(context.Background()) }()
	select {
	case err := <-stopped:
		t.Fatalf("Shutdown returned (%v) while a request was in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(next.release)
	select {
	case r := <-done:
		assert.Equal(t, http.StatusOK, r.status, r.raw)
	case <-time.After(5 * time.Second):
		t.Fatal("in-flight request did not finish")
	}
	require.NoError(t, <-stopped)
	assert.Equal(t, 1, next.LogRecordCount())
}

func TestObsReportCountsAccepted(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	cfg := createDefaultConfig().(*Config)
	cfg.NetAddr.Endpoint = testutil.FreeAddr(t)
	set := receivertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	sink := new(consumertest.LogsSink)
	rcv, err := NewFactory().CreateLogs(context.Background(), set, cfg, sink)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, rcv.Shutdown(context.Background())) })

	r := post(t, "http://"+cfg.NetAddr.Endpoint+"/v1/events", "application/json", []byte("["+event("1")+`,{"eventId":"bad"},`+event("2")+"]"))
	require.Equal(t, http.StatusOK, r.status, r.raw)
	m, err := tel.GetMetric("otelcol_receiver_accepted_log_records")
	require.NoError(t, err)
	accepted, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, "accepted_log_records is %T", m.Data)
	var total int64
	for _, dp := range accepted.DataPoints {
		total += dp.Value
	}
	assert.Equal(t, int64(2), total)
	m, err = tel.GetMetric("otelcol_receiver_analytics_rejected_items")
	require.NoError(t, err)
	rejected, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, "rejected_items is %T", m.Data)
	require.Len(t, rejected.DataPoints, 1)
	assert.Equal(t, int64(1), rejected.DataPoints[0].Value)
	endpoint, _ := rejected.DataPoints[0].Attributes.Value("endpoint")
	assert.Equal(t, "events", endpoint.AsString())
	reason, _ := rejected.DataPoints[0].Attributes.Value("reason")
	assert.Equal(t, "missing", reason.AsString(), "reason code of the first error")
}

func TestLogsAndMetricsShareOneServer(t *testing.T) {
	srv := start(t, setup{})
	r := post(t, srv.url+"/v1/events", "application/json", []byte(event("e")))
	assert.Equal(t, http.StatusOK, r.status, r.raw)
	r = post(t, srv.url+"/v1/system-metrics", "application/json", []byte(systemSnapshot()))
	assert.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, 1, srv.logs.LogRecordCount(), "the event reached the logs pipeline")
	require.Len(t, srv.metrics.AllMetrics(), 1, "the snapshot reached the metrics pipeline")
	assert.Positive(t, srv.metrics.AllMetrics()[0].DataPointCount())
}
