package livepage

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
)

// t0 is the fake clock's start: 1 s past a 15 s step boundary.
var t0 = time.UnixMilli(1_780_000_005_000 + 1_000)

// clock is a fake time the tests move.
type clock struct{ ms atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ms.Store(t0.UnixMilli())
	return c
}

func (c *clock) Now() time.Time              { return time.UnixMilli(c.ms.Load()) }
func (c *clock) Add(d time.Duration)         { c.ms.Add(d.Milliseconds()) }
func (c *clock) Set(t time.Time)             { c.ms.Store(t.UnixMilli()) }
func (c *clock) Since(d time.Duration) int64 { return c.Now().Add(-d).UnixMilli() }

// env is a handler over a real TSDB and engine, with the append counter
// and the clock in the test's hands.
type env struct {
	t       *testing.T
	db      *tsdb.DB
	h       *Handler
	srv     *httptest.Server
	clock   *clock
	changes atomic.Uint64
	dir     string
}

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	db, err := tsdb.Open(t.TempDir(), nil, nil, tsdb.DefaultOptions(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 1_000_000, Timeout: 10 * time.Second, LookbackDelta: 5 * time.Minute})
	t.Cleanup(func() { _ = engine.Close() })
	e := &env{t: t, db: db, clock: newClock(), dir: t.TempDir()}
	writeDashboards(t, e.dir)
	opts.Engine, opts.Queryable, opts.Dir = engine, db, e.dir
	if opts.Tick == 0 {
		opts.Tick = 10 * time.Millisecond
	}
	opts.Changed = e.changes.Load
	opts.now = e.clock.Now
	if opts.ping == 0 {
		opts.ping = time.Minute
	}
	e.h, err = New(opts)
	require.NoError(t, err)
	e.srv = httptest.NewServer(withTestUser(e.h))
	t.Cleanup(func() {
		e.h.Close()
		e.srv.Close()
	})
	return e
}

// appendSample stores one sample and bumps the counter, as promstore does
// after a committed append.
func (e *env) appendSample(ls labels.Labels, t time.Time, v float64) {
	e.t.Helper()
	app := e.db.Appender(context.Background())
	_, err := app.Append(0, ls, t.UnixMilli(), v)
	require.NoError(e.t, err)
	require.NoError(e.t, app.Commit())
	e.changes.Add(1)
}

// withTestUser plays an auth extension: the X-Test-User header becomes
// the authenticated subject, as oidcauth would set it.
func withTestUser(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := r.Header.Get("X-Test-User"); u != "" {
			r = r.WithContext(client.NewContext(r.Context(), client.Info{Auth: testAuth{"subject": u}}))
		}
		h.ServeHTTP(w, r)
	})
}

type testAuth map[string]string

func (a testAuth) GetAttribute(name string) any {
	if v, ok := a[name]; ok {
		return v
	}
	return nil
}

func (a testAuth) GetAttributeNames() []string {
	var names []string
	for k := range a {
		names = append(names, k)
	}
	return names
}

// testDashboard has a stat reading a recorded series with its raw
// expression hidden, a time series, a row holding a stat of several
// series, a panel whose query is invalid, a text panel without query, and
// a stat whose query fails while test_value has more than one series.
const testDashboard = `{
  "uid": "live-a", "title": "B live", "description": "test", "tags": ["pulse"],
  "time": {"from": "now-1h", "to": "now"}, "timezone": "utc",
  "panels": [
    {"type": "stat", "id": 1, "gridPos": {"h": 4, "w": 4, "x": 0, "y": 0},
     "targets": [{"refId": "A", "expr": "pulse:recorded"}, {"refId": "raw", "expr": "sum(test_value)", "hide": true}]},
    {"type": "timeseries", "id": 2, "gridPos": {"h": 8, "w": 12, "x": 4, "y": 0},
     "targets": [{"refId": "A", "expr": "sum(test_value)"}]},
    {"type": "row", "id": 3, "panels": [
      {"type": "table", "id": 4, "gridPos": {"h": 8, "w": 12, "x": 0, "y": 8},
       "targets": [{"refId": "A", "expr": "test_value"}]}
    ]},
    {"type": "stat", "id": 5, "gridPos": {"h": 4, "w": 4, "x": 16, "y": 0},
     "targets": [{"refId": "A", "expr": "sum(rate(test_value[$__rate_interval])) +"}]},
    {"type": "text", "id": 6, "gridPos": {"h": 4, "w": 4, "x": 20, "y": 0}},
    {"type": "stat", "id": 7, "gridPos": {"h": 4, "w": 4, "x": 20, "y": 4},
     "targets": [{"refId": "A", "expr": "vector(1) + on() test_value"}]}
  ]
}`

const publicDashboard = `{"uid": "live-b", "title": "A public", "panels": [
  {"type": "gauge", "id": 1, "targets": [{"refId": "A", "expr": "vector(1)"}]}]}`

const sidecar = `dashboards:
    - uid: live-a
      file: dashboards/live-a.json
      type: custom
      theme: light
      owner: alice
      viewers: [bob]
      isPublic: false
    - uid: live-b
      file: dashboards/live-b.json
      type: custom
      theme: dark
      isPublic: true
`

func writeDashboards(t *testing.T, dir string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "dashboards"), 0o750))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dashboards", "live-a.json"), []byte(testDashboard), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dashboards", "live-b.json"), []byte(publicDashboard), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pulse-dashboards.yaml"), []byte(sidecar), 0o600))
}

// frame is a decoded data line of the stream.
type frame struct {
	Event  string
	Raw    string
	Seq    uint64 `json:"seq"`
	Now    int64  `json:"now"`
	From   int64  `json:"from"`
	To     int64  `json:"to"`
	Step   int64  `json:"step"`
	Panels map[string]struct {
		Targets map[string]map[string]json.RawMessage `json:"targets"`
	} `json:"panels"`
}

// target returns the raw fields of one target, nil when absent.
func (f frame) target(panel, ref string) map[string]json.RawMessage {
	return f.Panels[panel].Targets[ref]
}

// sse is one open stream read by a goroutine.
type sse struct {
	resp   *http.Response
	cancel context.CancelFunc
	frames chan frame
	first  string // the first line
	pings  atomic.Int64
}

// openStream opens the live stream at path and returns once its headers
// arrived; frames are read in the background until the body closes.
func (e *env) openStream(path string, user string) *sse {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	e.t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+path, nil)
	require.NoError(e.t, err)
	if user != "" {
		req.Header.Set("X-Test-User", user)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	require.Equal(e.t, http.StatusOK, resp.StatusCode)
	require.Equal(e.t, "text/event-stream", resp.Header.Get("Content-Type"))
	s := &sse{resp: resp, cancel: cancel, frames: make(chan frame, 1024)}
	r := bufio.NewReader(resp.Body)
	line, err := r.ReadString('\n')
	require.NoError(e.t, err)
	s.first = strings.TrimSpace(line)
	go func() {
		defer close(s.frames)
		defer resp.Body.Close()
		var ev string
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\n")
			switch {
			case line == ": ping":
				s.pings.Add(1)
			case strings.HasPrefix(line, "event: "):
				ev = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				f := frame{Event: ev, Raw: line[len("data: "):]}
				if json.Unmarshal([]byte(f.Raw), &f) != nil {
					f.Event = "invalid"
				}
				s.frames <- f
			}
		}
	}()
	return s
}

// next returns the next frame, failing after timeout.
func (s *sse) next(t *testing.T, timeout time.Duration) frame {
	t.Helper()
	select {
	case f, ok := <-s.frames:
		require.True(t, ok, "stream ended")
		return f
	case <-time.After(timeout):
		t.Fatalf("no frame within %s", timeout)
	}
	return frame{}
}

// get answers path with its status and JSON body.
func (e *env) get(path, user string) (int, map[string]any, http.Header) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	require.NoError(e.t, err)
	if user != "" {
		req.Header.Set("X-Test-User", user)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body, resp.Header
}
