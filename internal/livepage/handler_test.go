package livepage

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRoutes(t *testing.T) {
	e := newEnv(t, Options{})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(e.srv.URL + "/dashboards")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMovedPermanently, resp.StatusCode)
	assert.Equal(t, "/dashboards/", resp.Header.Get("Location"))

	for _, p := range []string{"/dashboards/", "/dashboards/d/live-a"} {
		resp, err := http.Get(e.srv.URL + p)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, p)
		assert.Contains(t, resp.Header.Get("Content-Type"), "text/html", p)
		assert.Contains(t, string(b), "<", p)
	}

	// Static assets carry an ETag and answer 304 to it.
	resp, err = http.Get(e.srv.URL + "/dashboards/static/index.html")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "index.html is served on the page paths only")
	var name string
	entries, err := os.ReadDir("web")
	require.NoError(t, err)
	for _, en := range entries {
		if !en.IsDir() && en.Name() != "index.html" {
			name = en.Name()
		}
	}
	if name != "" {
		resp, err = http.Get(e.srv.URL + "/dashboards/static/" + name)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		etag := resp.Header.Get("ETag")
		require.NotEmpty(t, etag)
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/dashboards/static/"+name, nil)
		req.Header.Set("If-None-Match", etag)
		resp, err = http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusNotModified, resp.StatusCode)
	}

	status, body, _ := e.get("/dashboards/nope", "")
	assert.Equal(t, http.StatusNotFound, status)
	assert.Equal(t, "error", body["status"])
	resp, err = http.Post(e.srv.URL+"/dashboards/api/list", "application/json", strings.NewReader("{}"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestList(t *testing.T) {
	e := newEnv(t, Options{})
	status, body, _ := e.get("/dashboards/api/list", "")
	require.Equal(t, http.StatusOK, status)
	list := body["dashboards"].([]any)
	require.Len(t, list, 2, "without auth every dashboard is visible")
	first := list[0].(map[string]any)
	assert.Equal(t, "live-b", first["uid"], "sorted by title")
	second := list[1].(map[string]any)
	assert.Equal(t, "B live", second["title"])
	assert.Equal(t, "light", second["theme"])
	assert.Equal(t, "/dashboards/d/live-a", second["url"])
	assert.Equal(t, []any{"pulse"}, second["tags"])
	assert.NotContains(t, body, "problem")
}

func TestListProblemAndReload(t *testing.T) {
	e := newEnv(t, Options{})
	require.NoError(t, os.RemoveAll(filepath.Join(e.dir, "pulse-dashboards.yaml")))
	e.clock.Add(2 * rescanInterval)
	status, body, _ := e.get("/dashboards/api/list", "")
	require.Equal(t, http.StatusOK, status)
	assert.Empty(t, body["dashboards"])
	assert.Contains(t, body["problem"], "no compiled dashboards in "+e.dir)
	assert.Contains(t, body["problem"], "pulsectl dashboards compile")

	// A compile puts them back: no restart needed.
	writeDashboards(t, e.dir)
	e.clock.Add(2 * rescanInterval)
	_, body, _ = e.get("/dashboards/api/list", "")
	assert.Len(t, body["dashboards"], 2)

	// A broken file is named, the others still listed.
	require.NoError(t, os.WriteFile(filepath.Join(e.dir, "dashboards", "live-a.json"), []byte("{"), 0o600))
	e.clock.Add(2 * rescanInterval)
	_, body, _ = e.get("/dashboards/api/list", "")
	assert.Len(t, body["dashboards"], 1)
	assert.Contains(t, body["problem"], "dashboards/live-a.json")
}

func TestAccess(t *testing.T) {
	e := newEnv(t, Options{AuthEnabled: true})
	uids := func(user string) []string {
		status, body, _ := e.get("/dashboards/api/list", user)
		require.Equal(t, http.StatusOK, status)
		var out []string
		for _, d := range body["dashboards"].([]any) {
			out = append(out, d.(map[string]any)["uid"].(string))
		}
		return out
	}
	assert.Equal(t, []string{"live-b"}, uids(""), "anonymous callers see public dashboards only")
	assert.Equal(t, []string{"live-b"}, uids("mallory"))
	assert.Equal(t, []string{"live-b", "live-a"}, uids("alice"), "owner")
	assert.Equal(t, []string{"live-b", "live-a"}, uids("bob"), "viewer")

	for _, tc := range []struct {
		path, user string
		status     int
	}{
		{"/dashboards/api/dashboard/live-a", "alice", http.StatusOK},
		{"/dashboards/api/dashboard/live-a", "mallory", http.StatusForbidden},
		{"/dashboards/api/dashboard/live-a", "", http.StatusForbidden},
		{"/dashboards/api/live/live-a", "mallory", http.StatusForbidden},
		{"/dashboards/api/dashboard/live-b", "mallory", http.StatusOK},
		{"/dashboards/api/dashboard/nope", "alice", http.StatusNotFound},
	} {
		status, body, _ := e.get(tc.path, tc.user)
		assert.Equal(t, tc.status, status, "%s as %q", tc.path, tc.user)
		if tc.status != http.StatusOK {
			assert.Equal(t, "error", body["status"])
			if tc.user != "" {
				assert.NotContains(t, body["error"], tc.user)
			}
		}
	}
}

func TestAccessLive(t *testing.T) {
	e := newEnv(t, Options{AuthEnabled: true})
	s := e.openStream(livePath, "bob")
	assert.Equal(t, "full", s.next(t, 5*time.Second).Event, "a viewer the definition names gets the stream")
}

func TestDashboard(t *testing.T) {
	e := newEnv(t, Options{})
	status, body, _ := e.get("/dashboards/api/dashboard/live-a", "")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "light", body["theme"])
	d := body["dashboard"].(map[string]any)
	assert.Equal(t, "live-a", d["uid"])
	assert.Len(t, d["panels"], 6, "the compiled JSON as it is on disk")

	status, body, _ = e.get("/dashboards/api/dashboard/nope", "")
	assert.Equal(t, http.StatusNotFound, status)
	assert.Equal(t, "unknown dashboard", body["error"])
}

func TestLiveParameterErrors(t *testing.T) {
	e := newEnv(t, Options{})
	const pii = "jane.doe@example.com"
	for _, tc := range []struct{ query, param string }{
		{"from=" + pii, "from"},
		{"from=now-" + pii, "from"},
		{"from=now-0s", "from"},
		{"to=" + pii, "to"},
		{"from=now&to=now-1h", "from"},
		{"from=0&to=now", "from"},
		{"width=" + pii, "width"},
		{"width=-5", "width"},
	} {
		status, body, _ := e.get("/dashboards/api/live/live-a?"+tc.query, "")
		assert.Equal(t, http.StatusBadRequest, status, tc.query)
		msg, _ := body["error"].(string)
		assert.True(t, strings.HasPrefix(msg, tc.param+":"), "%s: %q names the parameter", tc.query, msg)
		assert.NotContains(t, msg, pii)
		assert.NotContains(t, msg, "jane")
	}
	status, body, _ := e.get("/dashboards/api/live/nope", "")
	assert.Equal(t, http.StatusNotFound, status)
	assert.Equal(t, "unknown dashboard", body["error"])
}

func TestTimeRange(t *testing.T) {
	now := time.UnixMilli(1_700_000_012_345)
	for _, tc := range []struct {
		from, to string
		step     time.Duration
	}{
		{"now-5m", "now", 15 * time.Second},
		{"now-6h", "now", 72 * time.Second},
		{"now-7d", "now", 2016 * time.Second},
		{"now-30d", "now", 8640 * time.Second},
		{"now-1h", "now-30m", 15 * time.Second},
		{"1699999000000", "1700000000000", 15 * time.Second},
		{"now-1001s", "now", 15 * time.Second},
		{"now-100001s", "now", 334 * time.Second}, // 333.34 s rounded up
	} {
		f, err := parseTimeSpec(tc.from)
		require.NoError(t, err)
		to, err := parseTimeSpec(tc.to)
		require.NoError(t, err)
		r, err := newTimeRange(f, to, now)
		require.NoError(t, err)
		assert.Equal(t, tc.step, r.step, "%s..%s", tc.from, tc.to)
		w := r.at(now)
		s := r.step.Milliseconds()
		assert.Zero(t, w.start%s, "start aligned")
		assert.Zero(t, w.end%s, "end aligned")
		assert.LessOrEqual(t, w.start, w.from)
		assert.LessOrEqual(t, w.end, w.to)
		assert.LessOrEqual(t, (w.end-w.start)/s, int64(pointsPerRange))
	}
}
