package livepage_test

// Browser tests of the live page: headless Chromium, driven by chromedp,
// against a fake server that serves the embedded assets, the compiled
// built-in dashboards and an SSE stream the test writes frames to, as the
// contract of issue 16 describes. The real server has its own tests; here
// only the page is under test, through the DOM hooks the contract names.

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulse-otel/pulse/internal/dashboards"
	"github.com/pulse-otel/pulse/internal/livepage"
)

// ---- the built-in dashboards, compiled --------------------------------

type target struct {
	RefID        string `json:"refId"`
	Hide         bool   `json:"hide"`
	LegendFormat string `json:"legendFormat"`
}

type panel struct {
	ID          int      `json:"id"`
	Type        string   `json:"type"`
	Title       string   `json:"title"`
	Targets     []target `json:"targets"`
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
}

// scale keeps the fake values in the unit's natural range (ratios in
// [0, 1]), so the screenshots look like a dashboard.
func (p panel) scale() float64 {
	switch p.FieldConfig.Defaults.Unit {
	case "percentunit":
		return 0.01
	case "percent":
		return 1
	}
	return float64(p.ID)
}

type dashboard struct {
	UID, Title, Theme string
	JSON              json.RawMessage
	Panels            []panel
}

// builtins compiles config/dashboards the way `pulsectl dashboards
// compile` does.
func builtins(t *testing.T) []*dashboard {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	defs, err := dashboards.Load(filepath.Join(filepath.Dir(file), "..", "..", "config", "dashboards"))
	require.NoError(t, err)
	var out []*dashboard
	for _, def := range defs {
		b, err := dashboards.Compile(def)
		require.NoError(t, err)
		theme := def.Settings.Theme
		if theme == "" {
			theme = dashboards.DefaultTheme
		}
		out = append(out, decodeDashboard(t, b, theme))
	}
	require.NotEmpty(t, out)
	return out
}

func decodeDashboard(t *testing.T, b []byte, theme string) *dashboard {
	t.Helper()
	var head struct {
		UID    string  `json:"uid"`
		Title  string  `json:"title"`
		Panels []panel `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(b, &head))
	return &dashboard{UID: head.UID, Title: head.Title, Theme: theme, JSON: b, Panels: head.Panels}
}

// withTimezone is a copy of d under another uid with its timezone set.
func withTimezone(t *testing.T, d *dashboard, uid, tz string) *dashboard {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(d.JSON, &m))
	m["uid"], m["timezone"] = uid, tz
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return decodeDashboard(t, b, d.Theme)
}

// ---- the frames the fake stream sends ---------------------------------

// statRaw is the number sent for an instant panel: two panels get the odd
// values the API can return, to prove the page shows them without failing.
func statRaw(id int) string {
	switch id {
	case 2:
		return "+Inf"
	case 3:
		return "NaN"
	}
	return fmt.Sprintf("%d.25", id*7)
}

// emptyTimeseries says which time series panels get no series at all (the
// nodata state).
func emptyTimeseries(id int) bool { return id%4 == 3 }

var legendLabel = regexp.MustCompile(`\{\{\s*(\w+)\s*\}\}`)

type series struct {
	Metric map[string]string `json:"metric"`
	Values [][2]any          `json:"values"`
}

type edge struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// frameTarget is T of the contract; nil fields are left out, as in a delta.
type frameTarget struct {
	Type   string   `json:"type,omitempty"`
	Series []series `json:"series,omitempty"`
	Edge   []edge   `json:"edge,omitempty"`
	Error  *string  `json:"error,omitempty"`
	// Truncated: the server sent only the first series of a target.
	Truncated *bool `json:"truncated,omitempty"`
}

type frame struct {
	Seq    int                                          `json:"seq"`
	Now    int64                                        `json:"now,omitempty"`
	From   int64                                        `json:"from,omitempty"`
	To     int64                                        `json:"to,omitempty"`
	Step   int64                                        `json:"step,omitempty"`
	Panels map[string]map[string]map[string]frameTarget `json:"panels"`
}

func panelsOf(m map[string]map[string]frameTarget) map[string]map[string]map[string]frameTarget {
	out := map[string]map[string]map[string]frameTarget{}
	for id, targets := range m {
		out[id] = map[string]map[string]frameTarget{"targets": targets}
	}
	return out
}

// tsSeries are the label sets a time series panel gets: two per legend
// that names labels, one unlabelled otherwise.
func tsSeries(p panel) []map[string]string {
	var labels []string
	for _, tg := range p.Targets {
		if !tg.Hide {
			for _, m := range legendLabel.FindAllStringSubmatch(tg.LegendFormat, -1) {
				labels = append(labels, m[1])
			}
		}
	}
	if len(labels) == 0 {
		return []map[string]string{{}}
	}
	var out []map[string]string
	for _, v := range []string{"a", "b"} {
		m := map[string]string{}
		for _, l := range labels {
			m[l] = l + "-" + v
		}
		out = append(out, m)
	}
	return out
}

// tsValue is a time series panel's i-th series at its k-th point: a wave,
// different per series.
func tsValue(p panel, i int, k int64) float64 {
	return p.scale() * (40 + 10*float64(i) + 8*math.Sin(float64(k)/12+float64(i)))
}

// edgeRaw is the live edge value of a time series panel's i-th series.
func edgeRaw(p panel, i int) string {
	return strconv.FormatFloat(p.scale()*(45+10*float64(i)), 'f', -1, 64)
}

// fullFrame is the first frame of a stream over [now+from, now].
func fullFrame(d *dashboard, from string) frame {
	now := time.Now().UnixMilli()
	rng := 6 * time.Hour
	if dur, err := model.ParseDuration(strings.TrimPrefix(from, "now-")); err == nil {
		rng = time.Duration(dur)
	}
	step := max(15, int64(rng.Seconds()/300)+1)
	start := (now - rng.Milliseconds()) / (step * 1000) * step * 1000
	panels := map[string]map[string]frameTarget{}
	for _, p := range d.Panels {
		targets := map[string]frameTarget{}
		for _, tg := range p.Targets {
			if tg.Hide {
				continue
			}
			switch p.Type {
			case "timeseries":
				ft := frameTarget{Type: "range", Series: []series{}, Edge: []edge{}}
				if !emptyTimeseries(p.ID) {
					for i, m := range tsSeries(p) {
						s := series{Metric: m}
						for k := int64(0); start+k*step*1000 <= now && k < 300; k++ {
							v := strconv.FormatFloat(tsValue(p, i, k), 'f', 4, 64)
							switch k {
							case 5:
								v = "NaN"
							case 9:
								v = "+Inf"
							}
							s.Values = append(s.Values, [2]any{start + k*step*1000, v})
						}
						ft.Series = append(ft.Series, s)
						ft.Edge = append(ft.Edge, edge{Metric: m, Value: [2]any{now, edgeRaw(p, i)}})
					}
				}
				targets[tg.RefID] = ft
			default:
				ft := frameTarget{Type: "instant"}
				for i, m := range instantSeries(p) {
					raw := statRaw(p.ID)
					if len(m) > 0 {
						raw = fmt.Sprintf("%d", p.ID*3+i)
					}
					ft.Series = append(ft.Series, series{Metric: m, Values: [][2]any{{now, raw}}})
				}
				targets[tg.RefID] = ft
			}
		}
		panels[fmt.Sprint(p.ID)] = targets
	}
	return frame{Seq: 1, Now: now, From: now - rng.Milliseconds(), To: now, Step: step, Panels: panelsOf(panels)}
}

// instantSeries: one unlabelled series for stat and gauge, three labelled
// ones for a bar gauge or a table.
func instantSeries(p panel) []map[string]string {
	switch p.Type {
	case "bargauge":
		return []map[string]string{{"platform": "web"}, {"platform": "ios"}, {"platform": "android"}}
	case "table":
		return []map[string]string{{"cohort": "2026-W40", "period": "0"}, {"cohort": "2026-W40", "period": "1"}, {"cohort": "2026-W41", "period": "0"}}
	}
	return []map[string]string{{}}
}

// ---- the fake server --------------------------------------------------

// liveConn is one open stream; the test writes events to it or ends it.
type liveConn struct {
	uid    string
	query  url.Values
	auth   string
	events chan string
	end    chan struct{} // closed by the test to end the stream
	gone   chan struct{} // closed when the stream ended, by either side
	once   sync.Once
}

// delta sends a delta frame.
func (c *liveConn) delta(t *testing.T, f frame) {
	t.Helper()
	b, err := json.Marshal(f)
	require.NoError(t, err)
	select {
	case c.events <- fmt.Sprintf("event: delta\ndata: %s\n\n", b):
	case <-time.After(5 * time.Second):
		t.Fatal("the stream did not take the event")
	}
}

// raw sends an event as written, for shapes the frame type cannot hold.
func (c *liveConn) raw(t *testing.T, event string) {
	t.Helper()
	select {
	case c.events <- event:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream did not take the event")
	}
}

func (c *liveConn) close() { c.once.Do(func() { close(c.end) }) }

type fakeServer struct {
	*httptest.Server
	dash  map[string]*dashboard
	token atomic.Value // string: when not empty, the API wants "Bearer <token>"

	reject   atomic.Bool  // answer the stream with 503 (a collector that is down)
	rejected atomic.Int32 // stream requests answered 503

	mu    sync.Mutex
	conns []*liveConn
	auths []string // Authorization headers of API requests, in order
}

func newFakeServer(t *testing.T, ds ...*dashboard) *fakeServer {
	t.Helper()
	s := &fakeServer{dash: map[string]*dashboard{}}
	s.token.Store("")
	for _, d := range ds {
		s.dash[d.UID] = d
	}
	static := livepage.Static()
	index, err := fs.ReadFile(static, "index.html")
	require.NoError(t, err)
	mux := http.NewServeMux()
	page := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(index)
	}
	mux.HandleFunc("GET /dashboards/{$}", page)
	mux.HandleFunc("GET /dashboards/d/{uid}", page)
	mux.Handle("GET /dashboards/static/", http.StripPrefix("/dashboards/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /dashboards/api/list", s.authed(s.list))
	mux.HandleFunc("GET /dashboards/api/dashboard/{uid}", s.authed(s.dashboard))
	mux.HandleFunc("GET /dashboards/api/live/{uid}", s.authed(s.live))
	s.Server = httptest.NewServer(mux) // loopback, a free port
	t.Cleanup(func() {
		s.mu.Lock()
		for _, c := range s.conns {
			c.close()
		}
		s.mu.Unlock()
		s.Close()
	})
	return s
}

func (s *fakeServer) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Get("Authorization")
		s.mu.Lock()
		s.auths = append(s.auths, got)
		s.mu.Unlock()
		if tok := s.token.Load().(string); tok != "" && got != "Bearer "+tok {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"status": "error", "error": "unauthorized"})
			return
		}
		h(w, r)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *fakeServer) list(w http.ResponseWriter, _ *http.Request) {
	var list []map[string]any
	for _, d := range s.dash {
		list = append(list, map[string]any{"uid": d.UID, "title": d.Title, "theme": d.Theme, "tags": []string{"pulse"}, "url": "/dashboards/d/" + d.UID})
	}
	slices.SortFunc(list, func(a, b map[string]any) int { return strings.Compare(a["title"].(string), b["title"].(string)) })
	writeJSON(w, http.StatusOK, map[string]any{"dashboards": list})
}

func (s *fakeServer) dashboard(w http.ResponseWriter, r *http.Request) {
	d, ok := s.dash[r.PathValue("uid")]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"status": "error", "error": "unknown dashboard"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"dashboard": d.JSON, "theme": d.Theme})
}

func (s *fakeServer) live(w http.ResponseWriter, r *http.Request) {
	d, ok := s.dash[r.PathValue("uid")]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"status": "error", "error": "unknown dashboard"})
		return
	}
	if s.reject.Load() {
		s.rejected.Add(1)
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "error", "error": "too many live viewers"})
		return
	}
	c := &liveConn{uid: d.UID, query: r.URL.Query(), auth: r.Header.Get("Authorization"), events: make(chan string, 16), end: make(chan struct{}), gone: make(chan struct{})}
	defer close(c.gone)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	b, _ := json.Marshal(fullFrame(d, c.query.Get("from")))
	fmt.Fprintf(w, "retry: 1000\n\nevent: full\ndata: %s\n\n", b)
	flusher := w.(http.Flusher)
	flusher.Flush()
	s.mu.Lock()
	s.conns = append(s.conns, c)
	s.mu.Unlock()
	for {
		select {
		case ev := <-c.events:
			_, _ = fmt.Fprint(w, ev)
			flusher.Flush()
		case <-c.end:
			return
		case <-r.Context().Done():
			return
		}
	}
}

// conn waits for the n-th (1-based) stream connection.
func (s *fakeServer) conn(t *testing.T, n int) *liveConn {
	t.Helper()
	var c *liveConn
	require.Eventually(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(s.conns) >= n {
			c = s.conns[n-1]
		}
		return c != nil
	}, 10*time.Second, 10*time.Millisecond, "no stream connection #%d", n)
	return c
}

func (s *fakeServer) connCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// ---- the browser ------------------------------------------------------

// chromiumPath finds a Chromium: skip without one, unless CI says the
// tests must run (CI=true), then fail.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-headless-shell", "chrome-headless-shell", "google-chrome", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium found (chromium or chromium-headless-shell) and CI=true: the browser tests must run")
	}
	t.Skip("no Chromium found (install chromium or chromium-headless-shell); skipping the browser tests")
	return ""
}

// browser starts one headless Chromium for the test; tabs share it.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.WindowSize(1400, 1000),
		chromedp.Flag("disable-dev-shm-usage", true),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run as root with its sandbox
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// Start the browser with no deadline (a deadline on the first Run
	// would stop the browser with it); bound the start by a timer instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		require.NoError(t, err, "start Chromium")
	case <-time.After(60 * time.Second):
		t.Fatal("Chromium did not start within 60 s")
	}
	return ctx
}

// tab is one page of the browser; it fails the test on any script error
// the page throws or logs with console.error.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string
	mu   sync.Mutex
	errs []string
}

func newTab(b context.Context, t *testing.T, base string) *tab {
	t.Helper()
	tb := &tab{t: t, base: base}
	ctx, cancel := chromedp.NewContext(b, chromedp.WithListener(func(ev any) {
		var msg string
		switch e := ev.(type) {
		case *cdpruntime.EventExceptionThrown:
			msg = e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
		case *cdpruntime.EventConsoleAPICalled:
			if e.Type == cdpruntime.ConsoleAPICalledTypeError {
				for _, a := range e.Args {
					msg += " " + string(a.Value) + a.Description
				}
			}
		}
		if msg != "" {
			tb.mu.Lock()
			tb.errs = append(tb.errs, msg)
			tb.mu.Unlock()
		}
	}))
	tb.ctx = ctx
	// Open the tab with no deadline: the first Run's context owns the
	// tab, so a deadline there would close it after the first step.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		require.NoError(t, err, "open a tab")
	case <-time.After(20 * time.Second):
		t.Fatal("no tab within 20 s")
	}
	t.Cleanup(func() {
		cancel()
		tb.mu.Lock()
		defer tb.mu.Unlock()
		assert.Empty(t, tb.errs, "the page threw or logged errors")
	})
	return tb
}

func (tb *tab) do(what string, timeout time.Duration, steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, timeout)
	defer cancel()
	require.NoError(tb.t, chromedp.Do(ctx, steps...), what)
}

func (tb *tab) open(path string) {
	tb.t.Helper()
	tb.do("open "+path, 20*time.Second, chromedp.Navigate(tb.base+path))
}

// eval runs a JavaScript expression and decodes its JSON value into out.
func (tb *tab) eval(expr string, out any) error {
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	b, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

func (tb *tab) value(expr string, out any) {
	tb.t.Helper()
	require.NoError(tb.t, tb.eval(expr, out), expr)
}

// until polls expr (every 20 ms, at most timeout) until it is true, and
// returns how long that took.
func (tb *tab) until(what, expr string, timeout time.Duration) time.Duration {
	tb.t.Helper()
	start := time.Now()
	var ok bool
	var err error
	for time.Since(start) < timeout {
		if err = tb.eval("!!("+expr+")", &ok); err == nil && ok {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.t.Fatalf("%s: not true within %s: %s (last error: %v)", what, timeout, expr, err)
	return 0
}

func (tb *tab) attr(sel, name string) string {
	tb.t.Helper()
	var v string
	tb.value(fmt.Sprintf(`document.querySelector(%q)?.getAttribute(%q) ?? ""`, sel, name), &v)
	return v
}

func (tb *tab) text(sel string) string {
	tb.t.Helper()
	var v string
	tb.value(fmt.Sprintf(`document.querySelector(%q)?.textContent ?? ""`, sel), &v)
	return v
}

// ready waits until the dashboard applied the stream's first (full) frame
// and no panel is loading.
func (tb *tab) ready() {
	tb.t.Helper()
	tb.until("dashboard drawn", `document.querySelector("#dashboard")?.dataset.seq === "1" && `+drawn, 15*time.Second)
}

// drawn says every panel left the loading state.
const drawn = `document.querySelectorAll(".panel").length > 0 && !document.querySelector('.panel[data-state="loading"]')`

// readyAny waits for any applied frame (a real server's stream may start
// past seq 1) and no loading panel.
func (tb *tab) readyAny() {
	tb.t.Helper()
	tb.until("dashboard drawn", `Number(document.querySelector("#dashboard")?.dataset.seq) > 0 && `+drawn, 15*time.Second)
}

// screenshot saves the whole page as NAME.png in the artifacts directory.
func screenshot(t *testing.T, tb *tab, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	file := filepath.Join(artifactsDir(t), name+".png")
	require.NoError(t, os.WriteFile(file, png, 0o644))
	t.Logf("screenshot: %s", file)
}

func artifactsDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("PULSE_ARTIFACTS"); d != "" {
		require.NoError(t, os.MkdirAll(d, 0o755))
		return d
	}
	return t.TempDir()
}

// ---- the tests --------------------------------------------------------

// panelView is what a panel shows, read from the DOM hooks.
type panelView struct {
	ID     string   `json:"id"`
	Type   string   `json:"type"`
	State  string   `json:"state"`
	Title  string   `json:"title"`
	Error  string   `json:"error"`
	Raws   []string `json:"raws"`
	Series []string `json:"series"`
	Lasts  []string `json:"lasts"`
	Legend int      `json:"legend"`
	Rows   int      `json:"rows"`
}

const readPanels = `[...document.querySelectorAll(".panel")].map((p) => ({
  id: p.dataset.panelId, type: p.dataset.type, state: p.dataset.state,
  title: p.querySelector(".panel-title")?.textContent ?? "",
  error: p.querySelector(".panel-error")?.textContent ?? "",
  raws: [...p.querySelectorAll(".value[data-raw], .bar[data-raw]")].map((e) => e.dataset.raw),
  series: [...p.querySelectorAll("[data-series]:not(.legend-item)")].map((e) => e.dataset.series),
  lasts: [...p.querySelectorAll("svg path.series")].map((e) => e.dataset.last),
  legend: p.querySelectorAll(".legend-item").length,
  rows: p.querySelectorAll("table tr[data-series]").length,
}))`

func TestPage(t *testing.T) {
	b := browser(t)
	ds := builtins(t)
	byUID := map[string]*dashboard{}
	for _, d := range ds {
		byUID[d.UID] = d
	}
	executive := byUID["pulse-executive"]
	require.NotNil(t, executive, "the executive dashboard")
	kolkata := withTimezone(t, executive, "tz-kolkata", "Asia/Kolkata")
	s := newFakeServer(t, append(slices.Clone(ds), kolkata)...)

	t.Run("list", func(t *testing.T) {
		tb := newTab(b, t, s.URL)
		tb.open("/dashboards/")
		tb.until("links", fmt.Sprintf(`document.querySelectorAll("#dashboards a.dashboard-link[data-uid]").length === %d`, len(ds)+1), 10*time.Second)
		var hrefs map[string]string
		tb.value(`Object.fromEntries([...document.querySelectorAll("a.dashboard-link")].map((a) => [a.dataset.uid, a.getAttribute("href")]))`, &hrefs)
		for _, d := range ds {
			assert.Equal(t, "/dashboards/d/"+d.UID, hrefs[d.UID])
		}
		screenshot(t, tb, "list")
	})

	t.Run("builtins", func(t *testing.T) {
		for _, d := range ds {
			t.Run(d.UID, func(t *testing.T) {
				tb := newTab(b, t, s.URL)
				tb.open("/dashboards/d/" + d.UID)
				tb.ready()
				var views []panelView
				tb.value(readPanels, &views)
				require.Len(t, views, len(d.Panels))
				for i, p := range d.Panels {
					v := views[i]
					assert.Equal(t, fmt.Sprint(p.ID), v.ID)
					assert.Equal(t, p.Type, v.Type)
					assert.Equal(t, p.Title, v.Title)
					checkPanel(t, p, v)
				}
				screenshot(t, tb, d.UID)
			})
		}
	})

	t.Run("live", func(t *testing.T) {
		n := s.connCount()
		tb := newTab(b, t, s.URL)
		tb.open("/dashboards/d/pulse-executive")
		tb.ready()
		c := s.conn(t, n+1)
		assert.Equal(t, "Live", tb.text("#conn"))
		assert.Equal(t, "live", tb.attr("#conn", "data-state"))

		// A delta changes a stat on screen within 1 s.
		now := time.Now().UnixMilli()
		c.delta(t, frame{Seq: 2, Panels: panelsOf(map[string]map[string]frameTarget{
			"1": {"A": {Series: []series{{Metric: map[string]string{}, Values: [][2]any{{now, "4242"}}}}}},
		})})
		took := tb.until("stat 1 shows the delta", `document.querySelector('.panel[data-panel-id="1"] .value')?.dataset.raw === "4242"`, 3*time.Second)
		assert.Less(t, took, time.Second, "event to screen")
		t.Logf("delta on screen after %s", took)
		assert.Equal(t, "4.24 K", tb.text(`.panel[data-panel-id="1"] .value`))
		assert.Equal(t, "2", tb.attr("#dashboard", "data-seq"))
		// Other panels keep their values.
		assert.Equal(t, statRaw(4), tb.attr(`.panel[data-panel-id="4"] .value`, "data-raw"))

		// An error target shows the error state; "error":"" clears it.
		msg := "query timed out"
		c.delta(t, frame{Seq: 3, Panels: panelsOf(map[string]map[string]frameTarget{"5": {"A": {Error: &msg}}})})
		tb.until("panel 5 in error", `document.querySelector('.panel[data-panel-id="5"]').dataset.state === "error"`, 3*time.Second)
		assert.Equal(t, msg, tb.text(`.panel[data-panel-id="5"] .panel-error`))
		empty := ""
		c.delta(t, frame{Seq: 4, Panels: panelsOf(map[string]map[string]frameTarget{"5": {"A": {Error: &empty}}})})
		tb.until("panel 5 ok again", `document.querySelector('.panel[data-panel-id="5"]').dataset.state === "ok"`, 3*time.Second)
		assert.Equal(t, statRaw(5), tb.attr(`.panel[data-panel-id="5"] .value`, "data-raw"))

		// A target the server truncated is marked on its panel.
		yes, no := true, false
		c.delta(t, frame{Seq: 5, Panels: panelsOf(map[string]map[string]frameTarget{"6": {"A": {Truncated: &yes}}})})
		tb.until("partial note", `document.querySelector('.panel[data-panel-id="6"] .panel-note') !== null`, 3*time.Second)
		c.delta(t, frame{Seq: 6, Panels: panelsOf(map[string]map[string]frameTarget{"6": {"A": {Truncated: &no}}})})
		tb.until("partial note gone", `document.querySelector('.panel[data-panel-id="6"] .panel-note') === null`, 3*time.Second)

		// An edge-only delta moves a time series' live point and keeps its
		// aligned points.
		c.delta(t, frame{Seq: 7, Panels: panelsOf(map[string]map[string]frameTarget{
			"13": {"A": {Edge: []edge{{Metric: map[string]string{}, Value: [2]any{time.Now().UnixMilli(), "1234.5"}}}}},
		})})
		tb.until("edge drawn", `document.querySelector('.panel[data-panel-id="13"] path.series')?.dataset.last === "1234.5"`, 3*time.Second)
		var pathLen int
		tb.value(`document.querySelector('.panel[data-panel-id="13"] path.series').getAttribute("d").split(/[ML]/).length`, &pathLen)
		assert.Greater(t, pathLen, 100, "the aligned points are still drawn")

		// Odd shapes (nulls, strings for lists, short points) are drawn
		// from what is usable or as no data, never as a script error (the
		// tab fails the test on any); a torn event is skipped.
		c.raw(t, `event: delta
data: {"seq":8,"panels":{"1":{"targets":{"A":{"series":[null,{"metric":null,"values":[[1,"5"],"junk",[2]]}]}}},"14":{"targets":{"A":{"series":"x","edge":[{"metric":{},"value":null},null]}}},"15":{"targets":{"A":{"series":[],"edge":[]}}}}}

event: delta
data: {"seq":9,"pan

`)
		tb.until("odd data applied", `document.querySelector("#dashboard").dataset.seq === "8"`, 3*time.Second)
		assert.Equal(t, "ok", tb.attr(`.panel[data-panel-id="1"]`, "data-state"))
		assert.Equal(t, "5", tb.attr(`.panel[data-panel-id="1"] .value`, "data-raw"))
		assert.Equal(t, "nodata", tb.attr(`.panel[data-panel-id="14"]`, "data-state"))
		assert.Equal(t, "nodata", tb.attr(`.panel[data-panel-id="15"]`, "data-state"))

		// The stream ends while the server refuses new ones: the page
		// says so, retries, and is live again once the server accepts.
		s.reject.Store(true)
		c.close()
		tb.until("reconnecting shown", `document.querySelector("#conn").dataset.state === "reconnecting"`, 3*time.Second)
		assert.Equal(t, "Reconnecting…", tb.text("#conn"))
		require.Eventually(t, func() bool { return s.rejected.Load() > 0 }, 5*time.Second, 10*time.Millisecond, "the page retried")
		assert.Equal(t, "reconnecting", tb.attr("#conn", "data-state"), "still reconnecting while refused")
		s.reject.Store(false)
		tb.until("live again", `document.querySelector("#conn").dataset.state === "live"`, 10*time.Second)
		assert.Equal(t, "Live", tb.text("#conn"))
		tb.until("full frame applied", `document.querySelector("#dashboard").dataset.seq === "1"`, 3*time.Second)
		assert.Equal(t, statRaw(1), tb.attr(`.panel[data-panel-id="1"] .value`, "data-raw"))
	})

	t.Run("range", func(t *testing.T) {
		n := s.connCount()
		tb := newTab(b, t, s.URL)
		tb.open("/dashboards/d/pulse-executive")
		tb.ready()
		assert.Equal(t, "now-7d", s.conn(t, n+1).query.Get("from"), "default range: the JSON's time.from")
		var opts []string
		tb.value(`[...document.querySelectorAll("#range option")].map((o) => o.value)`, &opts)
		assert.Subset(t, opts, []string{"now-5m", "now-1h", "now-6h", "now-24h", "now-7d", "now-30d"})
		assert.Equal(t, "now-7d", tb.attr("#range option:checked", "value"))
		tb.value(`(() => { const r = document.querySelector("#range"); r.value = "now-1h"; r.dispatchEvent(new Event("change")); return true })()`, new(bool))
		c := s.conn(t, n+2)
		assert.Equal(t, "now-1h", c.query.Get("from"))
		assert.Equal(t, "now", c.query.Get("to"))
		tb.ready()
		// The page closed the old stream.
		select {
		case <-s.conn(t, n+1).gone:
		case <-time.After(5 * time.Second):
			t.Fatal("the stream of the old range is still open")
		}
		assert.Equal(t, n+2, s.connCount())
	})

	t.Run("theme", func(t *testing.T) {
		tb := newTab(b, t, s.URL)
		tb.open("/dashboards/d/pulse-executive") // theme: light
		tb.ready()
		assert.Equal(t, "light", tb.attr("body", "data-theme"))
		var before, after string
		tb.value(`getComputedStyle(document.querySelector(".panel")).backgroundColor`, &before)
		tb.do("toggle", 5*time.Second, chromedp.Click(chromedp.CSS("#theme-toggle")))
		assert.Equal(t, "dark", tb.attr("body", "data-theme"))
		tb.value(`getComputedStyle(document.querySelector(".panel")).backgroundColor`, &after)
		assert.NotEqual(t, before, after, "the panels change colour")

		tb2 := newTab(b, t, s.URL)
		tb2.open("/dashboards/d/pulse-system-performance") // theme: dark
		tb2.ready()
		assert.Equal(t, "dark", tb2.attr("body", "data-theme"))
	})

	t.Run("timezone", func(t *testing.T) {
		for _, c := range []struct {
			uid, zone, label string
			panel            int
			browser          string // the browser's own zone, for a "browser" dashboard
		}{
			{"pulse-executive", "UTC", "UTC", 13, ""},
			{"tz-kolkata", "Asia/Kolkata", "Asia/Kolkata", 13, ""},
			{"pulse-system-performance", "America/New_York", "Browser time (America/New_York)", 8, "America/New_York"},
		} {
			loc, err := time.LoadLocation(c.zone)
			require.NoError(t, err)
			tb := newTab(b, t, s.URL)
			if c.browser != "" {
				tb.do("browser timezone", 5*time.Second, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					_, err := cdp.Call(ctx, tg, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: c.browser})
					return err
				}))
			}
			tb.open("/dashboards/d/" + c.uid + "?from=now-6h")
			tb.ready()
			assert.Equal(t, c.label, tb.text("#timezone"))
			var ticks []struct {
				Ms   string `json:"ms"`
				Text string `json:"text"`
			}
			tb.value(fmt.Sprintf(`[...document.querySelectorAll('.panel[data-panel-id="%d"] .axis-x text[data-ms]')].map((e) => ({ms: e.dataset.ms, text: e.textContent}))`, c.panel), &ticks)
			require.GreaterOrEqual(t, len(ticks), 3, c.uid)
			for _, tk := range ticks {
				var ms int64
				_, err := fmt.Sscan(tk.Ms, &ms)
				require.NoError(t, err)
				at := time.UnixMilli(ms).In(loc)
				assert.Equal(t, at.Format("15:04"), tk.Text, "%s tick at %s", c.uid, at)
				assert.Zero(t, at.Minute(), "%s: ticks on whole local hours, got %s", c.uid, at)
			}
		}
	})

	t.Run("hover", func(t *testing.T) {
		tb := newTab(b, t, s.URL)
		tb.open("/dashboards/d/pulse-executive")
		tb.ready()
		var tip struct {
			Hidden bool   `json:"hidden"`
			Text   string `json:"text"`
		}
		tb.value(`(() => {
  const p = document.querySelector('.panel[data-panel-id="13"]');
  const svg = p.querySelector("svg.chart"), r = svg.getBoundingClientRect();
  svg.dispatchEvent(new MouseEvent("mousemove", {clientX: r.left + r.width / 2, clientY: r.top + r.height / 2, bubbles: true}));
  const tip = p.querySelector(".tooltip");
  return {hidden: tip.hidden, text: tip.textContent};
})()`, &tip)
		assert.False(t, tip.Hidden, "the tooltip shows")
		assert.Contains(t, tip.Text, "Daily active users: ", "the series and its value")
		assert.Regexp(t, `^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`, tip.Text, "the point's time first")
	})

	t.Run("table sort", func(t *testing.T) {
		ua := byUID["pulse-user-analytics"]
		require.NotNil(t, ua)
		var table *panel
		for i := range ua.Panels {
			if ua.Panels[i].Type == "table" {
				table = &ua.Panels[i]
			}
		}
		require.NotNil(t, table, "the user analytics dashboard has a table")
		n := s.connCount()
		tb := newTab(b, t, s.URL)
		tb.open("/dashboards/d/" + ua.UID)
		tb.ready()
		c := s.conn(t, n+1)
		sel := fmt.Sprintf(`.panel[data-panel-id="%d"]`, table.ID)
		raws := func() []string {
			var v []string
			tb.value(`[...document.querySelectorAll('`+sel+` tr[data-series] td.value')].map((e) => e.dataset.raw)`, &v)
			return v
		}
		id := table.ID * 3
		assert.Equal(t, []string{fmt.Sprint(id), fmt.Sprint(id + 1), fmt.Sprint(id + 2)}, raws(), "label order")
		for range 2 { // ascending, then descending
			tb.do("sort by value", 5*time.Second, chromedp.Click(chromedp.CSS(sel+" th.value")))
		}
		assert.Equal(t, []string{fmt.Sprint(id + 2), fmt.Sprint(id + 1), fmt.Sprint(id)}, raws(), "value, descending")
		assert.Equal(t, "descending", tb.attr(sel+" th.value", "aria-sort"))
		// The order holds when new values arrive.
		now := time.Now().UnixMilli()
		var ss []series
		for i, m := range instantSeries(*table) {
			ss = append(ss, series{Metric: m, Values: [][2]any{{now, fmt.Sprint([]int{98, 100, 99}[i])}}}) // label order: 98, 100, 99
		}
		refs := map[string]frameTarget{}
		for _, tg := range table.Targets {
			if !tg.Hide {
				refs[tg.RefID] = frameTarget{Series: ss}
			}
		}
		c.delta(t, frame{Seq: 2, Panels: panelsOf(map[string]map[string]frameTarget{fmt.Sprint(table.ID): refs})})
		tb.until("new values", `document.querySelector("#dashboard").dataset.seq === "2"`, 3*time.Second)
		assert.Equal(t, []string{"100", "99", "98"}, raws())
	})

	t.Run("phone", func(t *testing.T) {
		tb := newTab(b, t, s.URL)
		tb.do("narrow viewport", 5*time.Second, chromedp.EmulateViewport(420, 900))
		tb.open("/dashboards/d/pulse-user-analytics")
		tb.ready()
		// One panel per row, each the grid's width, in the JSON's order.
		var rows []struct {
			Left  float64 `json:"left"`
			Top   float64 `json:"top"`
			Width float64 `json:"width"`
		}
		tb.value(`[...document.querySelectorAll(".panel")].map((p) => { const r = p.getBoundingClientRect(); return {left: r.left, top: r.top, width: r.width}; })`, &rows)
		require.NotEmpty(t, rows)
		for i, r := range rows {
			assert.InDelta(t, rows[0].Left, r.Left, 1, "panel %d starts the row", i)
			assert.InDelta(t, rows[0].Width, r.Width, 1, "panel %d spans the row", i)
			if i > 0 {
				assert.Greater(t, r.Top, rows[i-1].Top, "panel %d below the one before", i)
			}
		}
	})

	t.Run("sse parser", func(t *testing.T) {
		tb := newTab(b, t, s.URL)
		tb.open("/dashboards/")
		// The stream cut into 3-byte pieces: splits inside "\r\n", inside
		// a UTF-8 character and inside field names.
		type event struct {
			Event string `json:"event"`
			Data  string `json:"data"`
			Retry int    `json:"retry"`
		}
		var got struct {
			Events  []event `json:"events"`
			Silence float64 `json:"silence"`
		}
		tb.value(`import("/dashboards/static/sse.js").then(async (m) => {
  const text = "retry: 1500\r\n\r\n: ping\n\nevent: full\ndata: {\"a\":1}\n\nevent: delta\r\ndata: line1\r\ndata: line2\r\rdata: é\n\nevent: delta\ndata:nospace\n\nevent: full\ndata: unterminated";
  const bytes = new TextEncoder().encode(text);
  const body = new ReadableStream({ start(c) { for (let i = 0; i < bytes.length; i += 3) c.enqueue(bytes.slice(i, i + 3)); c.close(); } });
  const events = [];
  await m.readEvents(body, new AbortController().signal, (e) => events.push(e));
  // A stream that goes quiet is given up after silenceMs.
  const t0 = performance.now();
  await m.readEvents(new ReadableStream({ start() {} }), new AbortController().signal, () => {}, 100);
  return { events, silence: performance.now() - t0 };
})`, &got)
		assert.Equal(t, []event{
			{Event: "message", Retry: 1500},
			{Event: "full", Data: `{"a":1}`},
			{Event: "delta", Data: "line1\nline2"},
			{Event: "message", Data: "é"},
			{Event: "delta", Data: "nospace"},
		}, got.Events, "an unterminated last event is dropped, as EventSource does")
		assert.Less(t, got.Silence, 2000.0, "a silent stream ends")
	})

	t.Run("units", func(t *testing.T) {
		tb := newTab(b, t, s.URL)
		tb.open("/dashboards/")
		cases := [][3]string{
			{"1234", "short", "1.23 K"},
			{"2500000", "short", "2.5 Mil"},
			{"12", "short", "12"},
			{"0.1234", "percentunit", "12.3%"},
			{"99.5", "percent", "99.5%"},
			{"0.25", "s", "250 ms"},
			{"90", "s", "1.5 min"},
			{"1500", "ms", "1.5 s"},
			{"12.5", "ms", "12.5 ms"},
			{"1234.5", "currencyUSD", "$1.23 K"},
			{"2048", "bytes", "2 KiB"},
			{"1500", "decbytes", "1.5 kB"},
			{"42", "reqps", "42 req/s"},
			{"3", "suffix: views/s", "3 views/s"},
			{"3", "suffix:events/s", "3 events/s"},
			{"3", "prefix:~", "~3"},
			{"3725", "dtdurations", "1h 2m"},
			{"7", "some-unknown-unit", "7"},
			{"7", "none", "7"},
			{"NaN", "short", "NaN"},
			{"+Inf", "percentunit", "+Inf"},
			{"-Inf", "s", "-Inf"},
			{"not a number", "short", "NaN"},
		}
		in, err := json.Marshal(cases)
		require.NoError(t, err)
		var got []string
		tb.value(fmt.Sprintf(`import("/dashboards/static/units.js").then((m) => %s.map(([v, u]) => m.format(v, u)))`, in), &got)
		require.Len(t, got, len(cases))
		for i, c := range cases {
			assert.Equal(t, c[2], got[i], "format(%q, %q)", c[0], c[1])
		}
	})

	t.Run("token", func(t *testing.T) {
		const token = "s3cret-token"
		s.token.Store(token)
		defer s.token.Store("")
		tb := newTab(b, t, s.URL)
		tb.open("/dashboards/")
		tb.until("token form shown", `!document.querySelector("#token-form").hidden`, 10*time.Second)
		tb.do("sign in", 5*time.Second,
			chromedp.SetValue(chromedp.CSS("#token"), token),
			chromedp.Click(chromedp.CSS(`#token-form button[type="submit"]`)),
		)
		tb.until("list after sign-in", `document.querySelectorAll("a.dashboard-link").length > 0`, 10*time.Second)
		assert.True(t, slices.Contains(s.authsSnapshot(), "Bearer "+token), "the API got the token")
		// The stream sends it too, after a navigation in the same tab.
		n := s.connCount()
		tb.open("/dashboards/d/pulse-executive")
		tb.ready()
		assert.Equal(t, "Bearer "+token, s.conn(t, n+1).auth)
		var hidden bool
		tb.value(`document.querySelector("#token-form").hidden`, &hidden)
		assert.True(t, hidden)
	})

	t.Run("unknown dashboard", func(t *testing.T) {
		tb := newTab(b, t, s.URL)
		tb.open("/dashboards/d/no-such-dashboard")
		tb.until("message", `document.querySelector(".problem")?.textContent.includes("no dashboard")`, 10*time.Second)
	})
}

func (s *fakeServer) authsSnapshot() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.auths)
}

// checkPanel compares what a panel shows with what the stream sent it.
func checkPanel(t *testing.T, p panel, v panelView) {
	t.Helper()
	visible := 0
	for _, tg := range p.Targets {
		if !tg.Hide {
			visible++
		}
	}
	if v.State == "error" {
		t.Errorf("panel %d (%s) in error: %s", p.ID, p.Title, v.Error)
		return
	}
	switch p.Type {
	case "stat", "gauge":
		assert.Equal(t, "ok", v.State, "panel %d", p.ID)
		want := slices.Repeat([]string{statRaw(p.ID)}, visible)
		assert.Equal(t, want, v.Raws, "panel %d (%s): the numbers sent", p.ID, p.Type)
		assert.Equal(t, slices.Repeat([]string{p.Title}, visible), v.Series, "panel %d: an unlabelled series is named by the panel title", p.ID)
	case "bargauge":
		assert.Equal(t, "ok", v.State, "panel %d", p.ID)
		assert.ElementsMatch(t, []string{fmt.Sprint(p.ID * 3), fmt.Sprint(p.ID*3 + 1), fmt.Sprint(p.ID*3 + 2)}, v.Raws, "panel %d", p.ID)
	case "table":
		assert.Equal(t, "ok", v.State, "panel %d", p.ID)
		assert.Equal(t, 3*visible, v.Rows, "panel %d: a row per series", p.ID)
		assert.Len(t, v.Raws, 3*visible)
	case "timeseries":
		if emptyTimeseries(p.ID) {
			assert.Equal(t, "nodata", v.State, "panel %d", p.ID)
			return
		}
		assert.Equal(t, "ok", v.State, "panel %d", p.ID)
		var want []string
		for i := range tsSeries(p) {
			for range visible {
				want = append(want, edgeRaw(p, i))
			}
		}
		assert.ElementsMatch(t, want, v.Lasts, "panel %d: the live edge is the last point drawn", p.ID)
		assert.Equal(t, len(want), v.Legend, "panel %d: a legend item per series", p.ID)
		for _, name := range v.Series {
			assert.NotContains(t, name, "{{", "panel %d: legendFormat filled in", p.ID)
		}
	default:
		t.Errorf("panel %d: a built-in dashboard has panel type %q the test does not know", p.ID, p.Type)
	}
	if v.Error != "" {
		t.Errorf("panel %d shows an error text while %s: %q", p.ID, v.State, v.Error)
	}
}

// TestPageOnServer opens the built-in dashboards on the real page server
// (livepage.New over a TSDB and the PromQL engine): the two halves of the
// contract agree, every panel is drawn without an error, a stat shows the
// stored value and a new sample reaches the screen within 1 s.
func TestPageOnServer(t *testing.T) {
	b := browser(t)
	db, err := tsdb.Open(t.TempDir(), nil, nil, tsdb.DefaultOptions(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 1_000_000, Timeout: 10 * time.Second, LookbackDelta: 5 * time.Minute})
	t.Cleanup(func() { _ = engine.Close() })

	_, file, _, _ := runtime.Caller(0)
	defs, err := dashboards.Load(filepath.Join(filepath.Dir(file), "..", "..", "config", "dashboards"))
	require.NoError(t, err)
	files, err := dashboards.CompileAll(defs, dashboards.ProvisioningOptions{})
	require.NoError(t, err)
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o750))
		require.NoError(t, os.WriteFile(p, body, 0o600))
	}
	var changes atomic.Uint64
	h, err := livepage.New(livepage.Options{Engine: engine, Queryable: db, Dir: dir, Changed: changes.Load})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		h.Close()
		srv.Close()
	})
	// The p95 response time stat reads max(max_over_time(...[1h])).
	p95 := labels.FromStrings("__name__", "pulse_system_response_time_milliseconds", "stat", "p95", "job", "api")
	store := func(v float64) {
		app := db.Appender(context.Background())
		_, err := app.Append(0, p95, time.Now().UnixMilli(), v)
		require.NoError(t, err)
		require.NoError(t, app.Commit())
		changes.Add(1) // as promstore does after a committed append
	}
	store(42)

	for _, d := range builtins(t) {
		t.Run(d.UID, func(t *testing.T) {
			tb := newTab(b, t, srv.URL)
			tb.open("/dashboards/d/" + d.UID)
			tb.readyAny()
			var views []panelView
			tb.value(readPanels, &views)
			require.Len(t, views, len(d.Panels))
			for _, v := range views {
				assert.Contains(t, []string{"ok", "nodata"}, v.State, "panel %s (%s): %s", v.ID, v.Title, v.Error)
			}
			if d.UID != "pulse-system-performance" {
				return
			}
			stat := `document.querySelector('.panel[data-panel-id="2"] .value')?.dataset.raw`
			tb.until("the stored p95", stat+` === "42"`, 5*time.Second)
			store(77)
			took := tb.until("the new p95", stat+` === "77"`, 5*time.Second)
			assert.Less(t, took, time.Second, "sample to screen")
			t.Logf("sample on screen after %s", took)
		})
	}
}
