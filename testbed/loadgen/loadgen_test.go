package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/pulse-otel/pulse/internal/testutil"
	"github.com/pulse-otel/pulse/receiver/analyticsreceiver"
)

// record is a log record with its resource, without ObservedTimestamp
// (the receiver's clock).
type record struct {
	Resource, Attributes map[string]any
	EventName            string
	Timestamp            int64
}

func records(ld plog.Logs) []record {
	var out []record
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		rl := ld.ResourceLogs().At(i)
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			sl := rl.ScopeLogs().At(j)
			for k := 0; k < sl.LogRecords().Len(); k++ {
				lr := sl.LogRecords().At(k)
				out = append(out, record{rl.Resource().Attributes().AsRaw(), lr.Attributes().AsRaw(), lr.EventName(), int64(lr.Timestamp())})
			}
		}
	}
	sort.Slice(out, func(a, b int) bool {
		return out[a].Attributes["pulse.event.id"].(string) < out[b].Attributes["pulse.event.id"].(string)
	})
	return out
}

// The same seed sends the same events over JSON and OTLP: the OTLP body is
// what the real analytics receiver builds from the JSON one, timestamps
// rewritten to the send time included.
func TestOTLPBodiesMatchWhatTheReceiverBuilds(t *testing.T) {
	cfg := Config{Batch: 40, Users: 50, Sessions: 100, PIIShare: 0.3, Bodies: 3, Seed: 7}
	gen := time.Now().Add(-time.Hour)
	jsonCfg, otlpCfg := cfg, cfg
	jsonCfg.Protocol, otlpCfg.Protocol = JSON, OTLP
	jreqs, err := Generate(jsonCfg, gen)
	require.NoError(t, err)
	oreqs, err := Generate(otlpCfg, gen)
	require.NoError(t, err)
	require.Len(t, oreqs, len(jreqs))

	f := analyticsreceiver.NewFactory()
	rcfg := f.CreateDefaultConfig().(*analyticsreceiver.Config)
	rcfg.NetAddr.Endpoint = testutil.FreeAddr(t)
	sink := new(consumertest.LogsSink)
	r, err := f.CreateLogs(context.Background(), receivertest.NewNopSettings(f.Type()), rcfg, sink)
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, r.Shutdown(context.Background())) }()

	now := time.Now().Truncate(time.Millisecond)
	for i := range jreqs {
		require.Len(t, jreqs[i].stamps, cfg.Batch, "every event's timestamp is rewritten")
		resp, err := http.Post("http://"+rcfg.NetAddr.Endpoint+jreqs[i].Path, jreqs[i].ContentType, bytesReader(jreqs[i].StampedAs(now, 1)))
		require.NoError(t, err)
		_ = resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)

		er := plogotlp.NewExportRequest()
		require.NoError(t, er.UnmarshalProto(oreqs[i].StampedAs(now, 1)))
		got := records(er.Logs())
		want := records(sink.AllLogs()[i])
		require.Len(t, got, cfg.Batch)
		assert.Equal(t, want, got, "request %d", i)
		for _, g := range got {
			assert.Equal(t, now.UnixNano(), g.Timestamp)
		}
	}
}

// Every kind of JSON body loadgen sends (events with every behaviour type
// and PII, recommendations and responses, model and business snapshots) is
// accepted whole by the real analytics receiver: a rejected item would be
// load that never reaches the pipeline under test.
func TestEveryBodyIsAcceptedByTheReceiver(t *testing.T) {
	cfg := Config{Protocol: JSON, Batch: 40, Users: 50, Sessions: 100, PIIShare: 0.3, RecommendationShare: 0.5, Bodies: 8, Seed: 3}
	ts := time.Now().Add(-time.Minute)
	reqs, err := Generate(cfg, ts)
	require.NoError(t, err)
	reqs = append(reqs, snapshots(ts)...)

	f := analyticsreceiver.NewFactory()
	rcfg := f.CreateDefaultConfig().(*analyticsreceiver.Config)
	rcfg.NetAddr.Endpoint = testutil.FreeAddr(t)
	set := receivertest.NewNopSettings(f.Type())
	lr, err := f.CreateLogs(context.Background(), set, rcfg, new(consumertest.LogsSink))
	require.NoError(t, err)
	mr, err := f.CreateMetrics(context.Background(), set, rcfg, new(consumertest.MetricsSink))
	require.NoError(t, err)
	for _, c := range []interface {
		Start(context.Context, component.Host) error
		Shutdown(context.Context) error
	}{lr, mr} {
		require.NoError(t, c.Start(context.Background(), componenttest.NewNopHost()))
		defer func() { require.NoError(t, c.Shutdown(context.Background())) }()
	}

	kinds := map[string]int{}
	for i, req := range reqs {
		resp, err := http.Post("http://"+rcfg.NetAddr.Endpoint+req.Path, req.ContentType, bytesReader(req.Body))
		require.NoError(t, err)
		var answer struct {
			Accepted int              `json:"accepted"`
			Rejected []map[string]any `json:"rejected"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&answer))
		_ = resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, "request %d (%s)", i, req.Path)
		assert.Empty(t, answer.Rejected, "request %d (%s)", i, req.Path)
		assert.Equal(t, req.Events, answer.Accepted, "request %d (%s)", i, req.Path)
		kinds[req.Path]++
	}
	for _, path := range []string{"/v1/events", "/v1/recommendations", "/v1/model-metrics", "/v1/business-metrics"} {
		assert.Positive(t, kinds[path], "no %s body generated", path)
	}
}

// A closed-loop run counts what the server acknowledged and honours
// Retry-After when asked to retry.
func TestRunCountsAnswersAndRetries(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n%4 == 0 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(`{"accepted": 10, "rejected": []}`))
	}))
	defer srv.Close()
	cfg := Config{URL: srv.URL, Batch: 10, Users: 5, Sessions: 5, Workers: 2, Bodies: 4, Seed: 1}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := Run(ctx, cfg, 100, nil)
	require.NoError(t, err)
	assert.Equal(t, int64(100), st.Sent)
	assert.Less(t, st.Accepted, st.Sent, "the 503 answers acknowledged nothing")
	assert.Equal(t, st.Status[http.StatusServiceUnavailable], st.RetryAfter)

	cfg.Retry = true
	calls = 0
	st, err = Run(ctx, cfg, 100, nil)
	require.NoError(t, err)
	assert.Equal(t, int64(100), st.Accepted, "every 503 was retried after its Retry-After")
	assert.Positive(t, st.Retried)
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
