package grafanasync

// No Grafana server can be installed where these tests run: they sync
// against grafanatest, an HTTP test server that follows Grafana's
// documented endpoints, request shapes and status codes and keeps state.

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulse-otel/pulse/internal/dashboards"
	"github.com/pulse-otel/pulse/internal/grafanasync/grafanatest"
)

const token = "glsa_secretTOKEN_0123456789"

var builtinUIDs = []string{"pulse-ai-monitoring", "pulse-executive", "pulse-system-performance", "pulse-user-analytics"}

// builtins are the built-in dashboards of the four seed types (the
// tests count them; the custom data-quality one is left out), by UID.
func builtins(t *testing.T) []dashboards.Dashboard {
	t.Helper()
	dbs, err := dashboards.Load("../../config/dashboards")
	require.NoError(t, err)
	dbs = slices.DeleteFunc(dbs, func(d dashboards.Dashboard) bool { return d.Type == "custom" })
	slices.SortFunc(dbs, func(a, b dashboards.Dashboard) int { return strings.Compare(a.DashboardID, b.DashboardID) })
	return dbs
}

// compiled compiles dbs into a temporary directory and reads it back.
func compiled(t *testing.T, dbs []dashboards.Dashboard) []Dashboard {
	t.Helper()
	files, err := dashboards.CompileAll(dbs, dashboards.ProvisioningOptions{})
	require.NoError(t, err)
	dir := t.TempDir()
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, b, 0o644))
	}
	out, err := ReadDir(dir)
	require.NoError(t, err)
	mem, err := FromFiles(files)
	require.NoError(t, err)
	require.Equal(t, out, mem, "ReadDir and FromFiles must read a compile alike")
	return out
}

func adminUsers(g *grafanatest.Server) (*Users, int64) {
	id := g.AddUser("admin", "admin@localhost")
	return &Users{File: "users.yaml", IDs: map[string]Principal{"admin": {User: "admin"}}}, id
}

func opts(g *grafanatest.Server, users *Users) Options {
	return Options{URL: g.URL, Token: token, Users: users, Client: &http.Client{Timeout: DefaultTimeout}}
}

// writes returns the requests that change Grafana.
func writes(reqs []grafanatest.Request) []string {
	var w []string
	for _, r := range reqs {
		if r.Method != http.MethodGet {
			w = append(w, r.Method+" "+r.Path)
		}
	}
	return w
}

func TestFirstSyncCreatesAllAndSecondWritesNothing(t *testing.T) {
	g := grafanatest.New(t, token)
	users, adminID := adminUsers(g)
	dbs := compiled(t, builtins(t))
	ctx := context.Background()

	res, err := Sync(ctx, opts(g, users), dbs)
	require.NoError(t, err)
	assert.True(t, res.FolderCreated)
	assert.True(t, res.FolderPermissionSet)
	assert.Equal(t, builtinUIDs, res.Created)
	assert.Equal(t, builtinUIDs, res.PermissionsSet)
	assert.Equal(t, "created 4, updated 0, unchanged 0, deleted 0, permissions set 4", res.Summary())
	assert.Equal(t, builtinUIDs, g.Dashboards())
	for _, d := range dbs {
		got, ok := g.Dashboard(d.UID)
		require.True(t, ok)
		assert.Equal(t, "pulse", got.FolderUID, d.UID)
		assert.Equal(t, 1, got.Version, d.UID)
		assert.Contains(t, got.Model["tags"], d.Marker(), d.UID)
		assert.Contains(t, got.Model["tags"], dashboards.PulseTag, d.UID)
		assert.Equal(t, d.Title, got.Model["title"])
		assert.Equal(t, []grafanatest.Item{{UserID: adminID, Permission: Admin}}, got.Perms, d.UID)
	}
	fp, ok := g.FolderPerms("pulse")
	require.True(t, ok)
	assert.Empty(t, fp, "the folder must grant nothing of its own")

	g.Requests()
	res, err = Sync(ctx, opts(g, users), dbs)
	require.NoError(t, err)
	assert.Empty(t, writes(g.Requests()), "a second sync must not POST or DELETE")
	assert.False(t, res.Wrote())
	assert.Equal(t, builtinUIDs, res.Unchanged)
	assert.Equal(t, "created 0, updated 0, unchanged 4, deleted 0, permissions set 0", res.Summary())
}

func TestChangedDefinitionUpdatesOnlyIt(t *testing.T) {
	g := grafanatest.New(t, token)
	users, _ := adminUsers(g)
	defs := builtins(t)
	ctx := context.Background()
	_, err := Sync(ctx, opts(g, users), compiled(t, defs))
	require.NoError(t, err)

	defs[1].Description = "Changed for the test."
	g.Requests()
	res, err := Sync(ctx, opts(g, users), compiled(t, defs))
	require.NoError(t, err)
	assert.Equal(t, []string{"pulse-executive"}, res.Updated)
	assert.Len(t, res.Unchanged, 3)
	assert.Empty(t, res.PermissionsSet)
	assert.Equal(t, []string{"POST /api/dashboards/db"}, writes(g.Requests()))
	got, _ := g.Dashboard("pulse-executive")
	assert.Equal(t, 2, got.Version)
	assert.Equal(t, "Changed for the test.", got.Model["description"])
	tags := got.Model["tags"].([]any)
	n := 0
	for _, tag := range tags {
		if strings.HasPrefix(tag.(string), MarkerPrefix) {
			n++
		}
	}
	assert.Equal(t, 1, n, "exactly one marker tag after an update: %v", tags)
}

func TestRemovedDefinitionIsDeletedAndUnmanagedSurvive(t *testing.T) {
	g := grafanatest.New(t, token)
	defs := builtins(t)
	ctx := context.Background()
	_, err := Sync(ctx, opts(g, nil), compiled(t, defs))
	require.NoError(t, err)
	// Hand-made dashboards in the same folder: one tagged pulse, one with
	// a marker-like tag but not pulse, one untagged; and a managed-looking
	// one in another folder.
	g.PutDashboard("pulse", map[string]any{"uid": "hand-pulse", "title": "Hand pulse", "tags": []any{"pulse"}}, false)
	g.PutDashboard("pulse", map[string]any{"uid": "hand-marker", "title": "Hand marker", "tags": []any{MarkerPrefix + "0123"}}, false)
	g.PutDashboard("pulse", map[string]any{"uid": "hand-plain", "title": "Hand plain"}, false)
	g.AddFolder("other", "Other")
	g.PutDashboard("other", map[string]any{"uid": "elsewhere", "title": "Elsewhere", "tags": []any{"pulse", MarkerPrefix + "0123"}}, false)

	g.Requests()
	res, err := Sync(ctx, opts(g, nil), compiled(t, defs[:3]))
	require.NoError(t, err)
	assert.Equal(t, []string{"pulse-user-analytics"}, res.Deleted)
	assert.Equal(t, []string{"DELETE /api/dashboards/uid/pulse-user-analytics"}, writes(g.Requests()))
	assert.Equal(t, []string{"elsewhere", "hand-marker", "hand-plain", "hand-pulse", "pulse-ai-monitoring", "pulse-executive", "pulse-system-performance"}, g.Dashboards())
	assert.Equal(t, "created 0, updated 0, unchanged 3, deleted 1, permissions set 0 (permissions not managed: no users file)", res.Summary())
}

func TestUnmanagedDashboardOfSameUIDIsNotOverwritten(t *testing.T) {
	g := grafanatest.New(t, token)
	g.AddFolder("pulse", "Pulse")
	g.PutDashboard("pulse", map[string]any{"uid": "pulse-executive", "title": "Mine", "tags": []any{"pulse"}}, false)
	_, err := Sync(context.Background(), opts(g, nil), compiled(t, builtins(t)))
	require.ErrorContains(t, err, "dashboard pulse-executive: exists in Grafana without the pulse-sync:")
	got, _ := g.Dashboard("pulse-executive")
	assert.Equal(t, "Mine", got.Model["title"])
}

func TestProvisionedDashboardIsNamed(t *testing.T) {
	g := grafanatest.New(t, token)
	g.AddFolder("pulse", "Pulse")
	g.PutDashboard("pulse", map[string]any{"uid": "pulse-executive", "title": "Pulse / Executive", "tags": []any{"pulse"}}, true)
	_, err := Sync(context.Background(), opts(g, nil), compiled(t, builtins(t)))
	require.ErrorContains(t, err, "dashboard pulse-executive: Grafana provisions it from files")
}

func TestDryRunWritesNothing(t *testing.T) {
	g := grafanatest.New(t, token)
	users, _ := adminUsers(g)
	o := opts(g, users)
	o.DryRun = true
	res, err := Sync(context.Background(), o, compiled(t, builtins(t)))
	require.NoError(t, err)
	assert.Empty(t, writes(g.Requests()))
	assert.Empty(t, g.Dashboards())
	assert.Equal(t, "dry run, would have: created 4, updated 0, unchanged 0, deleted 0, permissions set 4", res.Summary())
}

func TestFolderTitleTakenByAnotherUID(t *testing.T) {
	g := grafanatest.New(t, token)
	g.AddFolder("abc123", "Pulse")
	_, err := Sync(context.Background(), opts(g, nil), compiled(t, builtins(t)))
	require.ErrorContains(t, err, `folder Pulse: Grafana has a folder of that title with uid "abc123", not "pulse"`)
	assert.Empty(t, writes(g.Requests()))
}

func TestFolderUID(t *testing.T) {
	for title, want := range map[string]string{
		"Pulse": "pulse", "Pulse / AI models": "pulse-ai-models", "  Ops & SRE  ": "ops-sre",
		strings.Repeat("a", 50): strings.Repeat("a", 40),
	} {
		assert.Equal(t, want, FolderUID(title), title)
	}
	u := FolderUID("漢字")
	assert.True(t, strings.HasPrefix(u, "pulse-") && len(u) <= 40, u)
	assert.Equal(t, u, FolderUID("漢字"))
}

func TestReadDirErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := ReadDir(dir)
	require.ErrorContains(t, err, "output of pulsectl dashboards compile")

	require.NoError(t, os.WriteFile(filepath.Join(dir, dashboards.MetaFile), []byte("dashboards:\n  - uid: a\n    file: dashboards/a.json\n"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "dashboards"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dashboards", "a.json"), []byte(`{"uid":"b","title":"A"}`), 0o644))
	_, err = ReadDir(dir)
	require.ErrorContains(t, err, `uid "b", but pulse-dashboards.yaml lists it as "a"`)
}

func TestHashIgnoresFormattingIDAndVersion(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) Dashboard {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "dashboards"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, dashboards.MetaFile), []byte("dashboards:\n  - uid: a\n    file: dashboards/a.json\n"), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "dashboards", "a.json"), []byte(body), 0o644))
		d, err := ReadDir(dir)
		require.NoError(t, err)
		return d[0]
	}
	a := write(`{"uid":"a","title":"A","tags":["pulse"]}`)
	b := write("{\n  \"title\": \"A\", \"id\": 7, \"version\": 3,\n  \"tags\": [\"pulse\"], \"uid\": \"a\"\n}")
	c := write(`{"uid":"a","title":"B","tags":["pulse"]}`)
	assert.Equal(t, a.Hash, b.Hash)
	assert.NotEqual(t, a.Hash, c.Hash)
	var m map[string]any
	raw, err := json.Marshal(a.model(5))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &m))
	assert.Nil(t, m["id"])
	assert.InDelta(t, 5, m["version"], 0)
	assert.Equal(t, []any{"pulse", a.Marker()}, m["tags"])
}

func TestDashboardMovedOutOfTheFolderIsMovedBack(t *testing.T) {
	g := grafanatest.New(t, token)
	dbs := compiled(t, builtins(t))
	ctx := context.Background()
	_, err := Sync(ctx, opts(g, nil), dbs)
	require.NoError(t, err)
	g.AddFolder("other", "Other")
	d, _ := g.Dashboard("pulse-executive")
	g.PutDashboard("other", d.Model, false) // moved by hand, marker kept

	res, err := Sync(ctx, opts(g, nil), dbs)
	require.NoError(t, err)
	assert.Equal(t, []string{"pulse-executive"}, res.Updated)
	got, _ := g.Dashboard("pulse-executive")
	assert.Equal(t, "pulse", got.FolderUID)
}
