// Package e2e starts bin/otelcol-pulse as a process and checks the wire
// contract from outside: answers on the analytics endpoints and what reaches
// an exporter. `make test` sets PULSE_BIN; under CI=true a missing binary
// fails instead of skipping.
package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"

	"github.com/pulse-otel/pulse/internal/testutil"
	"github.com/pulse-otel/pulse/testbed/internal/poll"
	"github.com/pulse-otel/pulse/testbed/internal/proc"
)

func binary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("PULSE_BIN")
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("PULSE_BIN is not set; run the suite with `make test`")
		}
		t.Skip("PULSE_BIN is not set; `make test` builds bin/otelcol-pulse and sets it")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("PULSE_BIN=%s: %v", bin, err)
	}
	return bin
}

// freePort returns a loopback address no other test holds (see
// testutil.FreeAddr).
func freePort(t *testing.T) string {
	t.Helper()
	return testutil.FreeAddr(t)
}

// sink is an OTLP/HTTP endpoint that records what the collector exports.
type sink struct {
	mu      sync.Mutex
	logs    []plog.Logs
	metrics []pmetric.Metrics
	raw     bytes.Buffer
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.raw.Write(body)
	w.Header().Set("Content-Type", "application/x-protobuf")
	switch r.URL.Path {
	case "/v1/logs":
		req := plogotlp.NewExportRequest()
		if err := req.UnmarshalProto(body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.logs = append(s.logs, req.Logs())
		out, _ := plogotlp.NewExportResponse().MarshalProto()
		_, _ = w.Write(out)
	case "/v1/metrics":
		req := pmetricotlp.NewExportRequest()
		if err := req.UnmarshalProto(body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.metrics = append(s.metrics, req.Metrics())
		out, _ := pmetricotlp.NewExportResponse().MarshalProto()
		_, _ = w.Write(out)
	default:
		http.NotFound(w, r)
	}
}

// eventIDs returns the pulse.event.id of every exported log record.
func (s *sink) eventIDs() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := map[string]int{}
	for _, ld := range s.logs {
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			sls := ld.ResourceLogs().At(i).ScopeLogs()
			for j := 0; j < sls.Len(); j++ {
				lrs := sls.At(j).LogRecords()
				for k := 0; k < lrs.Len(); k++ {
					id, ok := lrs.At(k).Attributes().Get("pulse.event.id")
					if !ok {
						id, _ = lrs.At(k).Attributes().Get("pulse.recommendation.id")
					}
					ids[id.AsString()]++
				}
			}
		}
	}
	return ids
}

func (s *sink) dataPoints() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, md := range s.metrics {
		n += md.DataPointCount()
	}
	return n
}

type collector struct {
	p      *proc.Process
	dir    string
	out    *proc.Buffer
	events string
	health string
	// wrap, when set (by the config function), runs the binary through
	// this command line (e.g. prlimit --nofile=2048:2048 --).
	wrap []string
}

const configTemplate = `
extensions:
  health_check:
    endpoint: %[1]s
receivers:
  analytics:
    endpoint: %[2]s
processors:
  memory_limiter:
    check_interval: 1s
    limit_mib: 512
  batch:
    timeout: 100ms
exporters:
  otlphttp:
    endpoint: http://%[3]s
    compression: none
    retry_on_failure:
      enabled: false
service:
  extensions: [health_check]
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [analytics]
      processors: [memory_limiter, batch]
      exporters: [otlphttp]
    metrics:
      receivers: [analytics]
      processors: [memory_limiter, batch]
      exporters: [otlphttp]
`

// startCollector runs the binary with the default test configuration.
func startCollector(t *testing.T, s *sink) *collector {
	t.Helper()
	return startCollectorWith(t, s, func(c *collector, sinkAddr string) string {
		return fmt.Sprintf(configTemplate, c.health, c.events, sinkAddr)
	})
}

// startCollectorWith runs the binary against an OTLP sink, with the
// configuration config returns, and waits for health.
func startCollectorWith(t *testing.T, s *sink, config func(c *collector, sinkAddr string) string) *collector {
	t.Helper()
	bin := binary(t)
	sinkLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sinkSrv := &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = sinkSrv.Serve(sinkLn) }()
	t.Cleanup(func() { _ = sinkSrv.Close() })

	c := &collector{out: new(proc.Buffer), events: freePort(t), health: freePort(t)}
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	c.dir = filepath.Dir(cfgPath)
	if err := os.WriteFile(cfgPath, []byte(config(c, sinkLn.Addr().String())), 0o600); err != nil {
		t.Fatal(err)
	}
	path, args := bin, []string{"--config", cfgPath}
	if len(c.wrap) > 0 {
		path, args = c.wrap[0], slices.Concat(c.wrap[1:], []string{bin}, args)
	}
	c.p = proc.StartReady(t, proc.Spec{Name: "collector", Path: path, Args: args, Dir: c.dir, Output: c.out},
		60*time.Second, proc.HTTPReady("http://"+c.health+"/"))
	return c
}

// stop sends SIGTERM and requires a clean exit within 20 s.
func (c *collector) stop(t *testing.T) {
	t.Helper()
	if err := c.p.Stop(20 * time.Second); err != nil {
		t.Fatal(err)
	}
}

type answer struct {
	Accepted int `json:"accepted"`
	Rejected []struct {
		Index  int `json:"index"`
		Errors []struct {
			Field, Value, Reason string
		} `json:"errors"`
	} `json:"rejected"`
	Error string `json:"error"`
}

func post(t *testing.T, url, body string) (int, answer) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var a answer
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatalf("answer %d is not JSON: %s", resp.StatusCode, raw)
	}
	return resp.StatusCode, a
}

func event(id string, ts int64) string {
	return fmt.Sprintf(`{"eventId":%q,"sessionId":"s1","userId":"u1","deviceId":"d1","eventType":"user_action","category":"workout",
"action":"view","properties":{"page":"/p"},"platform":"android","appVersion":"3.1.0","consentLevel":"analytics",
"dataRetentionDays":30,"timestamp":%d,"behavior":{"behaviorType":"interaction","interactionData":{"elementType":"button","clickPosition":{"x":10,"y":20}}}}`, id, ts)
}

// editedEvent is event(id, ts) with each pair of edit (old, new) replaced
// once; an old text the event does not hold is a bug in the test.
func editedEvent(id string, ts int64, edit ...string) string {
	e := event(id, ts)
	for i := 0; i+1 < len(edit); i += 2 {
		if !strings.Contains(e, edit[i]) {
			panic("no " + edit[i] + " in the e2e event")
		}
		e = strings.Replace(e, edit[i], edit[i+1], 1)
	}
	return e
}

// waitFor polls cond every 50 ms for up to 15 s, on the test's goroutine
// (conditions query through helpers that may call t.Fatal).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	poll.Until(t, 15*time.Second, 50*time.Millisecond, cond, what)
}

func TestDistribution(t *testing.T) {
	s := &sink{}
	c := startCollector(t, s)
	base := "http://" + c.events
	now := time.Now().UnixMilli()

	// A good batch with one bad event in the middle.
	status, a := post(t, base+"/v1/events", "["+event("good-1", now)+`,{"eventId":"bad-1","platform":"bb"},`+event("good-2", now)+"]")
	if status != http.StatusOK || a.Accepted != 2 || len(a.Rejected) != 1 || a.Rejected[0].Index != 1 {
		t.Fatalf("mixed batch: status %d, answer %+v", status, a)
	}
	// Nothing acceptable.
	if status, a = post(t, base+"/v1/events", `[{"eventId":"bad-2"}]`); status != http.StatusBadRequest || a.Accepted != 0 {
		t.Fatalf("all-bad batch: status %d, answer %+v", status, a)
	}
	// Malformed JSON.
	if status, a = post(t, base+"/v1/events", `[{"eventId":`); status != http.StatusBadRequest || !strings.Contains(a.Error, "malformed JSON") {
		t.Fatalf("malformed: status %d, answer %+v", status, a)
	}
	// A later response to a recommendation.
	rec := fmt.Sprintf(`{"recommendationId":"rec-1","userId":"u1","consentLevel":"analytics","userResponse":{"action":"accepted","responseTime":4.5},"responseTimestamp":%d}`, now)
	if status, a = post(t, base+"/v1/recommendations", rec); status != http.StatusOK || a.Accepted != 1 {
		t.Fatalf("recommendation response: status %d, answer %+v", status, a)
	}
	// A business snapshot becomes metrics.
	biz := fmt.Sprintf(`{"metricId":"m1","metricName":"revenue","category":"revenue","value":1250.5,"unit":"USD","trend":"up",
"dimensions":{"timeGranularity":"daily","platform":"web"},"confidence":0.9,"periodStart":%d,"periodEnd":%d,"timestamp":%d}`, now-86400000, now, now)
	if status, a = post(t, base+"/v1/business-metrics", biz); status != http.StatusOK || a.Accepted != 1 {
		t.Fatalf("business snapshot: status %d, answer %+v", status, a)
	}

	waitFor(t, "3 log records and the business data points at the exporter", func() bool {
		ids := s.eventIDs()
		return len(ids) == 3 && s.dataPoints() >= 3
	})
	ids := s.eventIDs()
	for _, id := range []string{"good-1", "good-2", "rec-1"} {
		if ids[id] != 1 {
			t.Errorf("event %s exported %d times, want 1 (%v)", id, ids[id], ids)
		}
	}
	for _, id := range []string{"bad-1", "bad-2"} {
		if ids[id] != 0 {
			t.Errorf("rejected event %s reached the exporter", id)
		}
	}
	c.stop(t)
}

// TestGracefulStopKeepsAcceptedEvents checks that events answered 200 just
// before SIGTERM are still exported: the batch processor is flushed on
// shutdown.
func TestGracefulStopKeepsAcceptedEvents(t *testing.T) {
	s := &sink{}
	c := startCollector(t, s)
	now := time.Now().UnixMilli()
	accepted := 0
	for i := range 20 {
		status, a := post(t, "http://"+c.events+"/v1/events", "["+event(fmt.Sprintf("e-%d", i), now)+"]")
		if status != http.StatusOK {
			t.Fatalf("status %d: %+v", status, a)
		}
		accepted += a.Accepted
	}
	c.stop(t)
	if got := len(s.eventIDs()); got != accepted {
		t.Fatalf("%d events accepted, %d exported after a graceful stop", accepted, got)
	}
}

// writePrivacyKey writes the privacy processor's HMAC key file that the
// test configurations read as ./privacy.key.
func writePrivacyKey(t *testing.T, dir string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "privacy.key"), []byte(strings.Repeat("k", 40)), 0o600); err != nil {
		t.Fatal(err)
	}
}
