package grafanasync

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pulse-otel/pulse/internal/dashboards"
)

// fakeGrafana follows the documented endpoints and status codes of
// Grafana's HTTP API (folders, dashboards by uid, search, dashboard
// permissions, user lookup, team search). No Grafana server can be
// installed where these tests run, so this server stands in for it.
type fakeGrafana struct {
	mu      sync.Mutex
	token   string
	folders map[string]string           // uid: title
	dash    map[string]map[string]any   // uid: stored dashboard (with id and version)
	folder  map[string]string           // dashboard uid: folder uid
	perms   map[string][]map[string]any // dashboard uid: permission items
	users   map[string]int64            // login: id
	teams   map[string]int64            // name: id
	writes  []string                    // method and path of every write
}

func newFake() *fakeGrafana {
	return &fakeGrafana{
		token: "tok", folders: map[string]string{}, dash: map[string]map[string]any{}, folder: map[string]string{},
		perms: map[string][]map[string]any{}, users: map[string]int64{"ana": 7}, teams: map[string]int64{"sre": 3},
	}
}

func (g *fakeGrafana) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	reply := func(code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(v)
	}
	if r.Header.Get("Authorization") != "Bearer "+g.token {
		reply(http.StatusUnauthorized, map[string]string{"message": "Unauthorized"})
		return
	}
	if r.Method != http.MethodGet {
		g.writes = append(g.writes, r.Method+" "+r.URL.Path)
	}
	var body map[string]any
	if r.Body != nil && r.Method == http.MethodPost {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			reply(http.StatusBadRequest, map[string]string{"message": "bad json"})
			return
		}
	}
	p := r.URL.Path
	switch {
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/api/folders/"):
		uid := strings.TrimPrefix(p, "/api/folders/")
		if t, ok := g.folders[uid]; ok {
			reply(http.StatusOK, map[string]any{"uid": uid, "title": t})
			return
		}
		reply(http.StatusNotFound, map[string]string{"message": "folder not found"})
	case r.Method == http.MethodPost && p == "/api/folders":
		g.folders[body["uid"].(string)] = body["title"].(string)
		reply(http.StatusOK, map[string]any{"uid": body["uid"]})
	case r.Method == http.MethodPost && p == "/api/dashboards/db":
		d := body["dashboard"].(map[string]any)
		uid := d["uid"].(string)
		fu, _ := body["folderUid"].(string)
		if _, ok := g.folders[fu]; !ok {
			reply(http.StatusBadRequest, map[string]string{"message": "folder not found"})
			return
		}
		version := 1.0
		if old, ok := g.dash[uid]; ok {
			version = old["version"].(float64) + 1
		}
		d["id"], d["version"] = 100.0, version
		g.dash[uid], g.folder[uid] = d, fu
		reply(http.StatusOK, map[string]any{"uid": uid, "status": "success", "version": version})
	case strings.HasPrefix(p, "/api/dashboards/uid/") && strings.HasSuffix(p, "/permissions"):
		uid := strings.TrimSuffix(strings.TrimPrefix(p, "/api/dashboards/uid/"), "/permissions")
		if _, ok := g.dash[uid]; !ok {
			reply(http.StatusNotFound, map[string]string{"message": "Dashboard not found"})
			return
		}
		if r.Method == http.MethodGet {
			// Grafana lists the folder's inherited items too.
			reply(http.StatusOK, append([]map[string]any{{"role": "Editor", "permission": 2.0, "inherited": true}}, g.perms[uid]...))
			return
		}
		var items []map[string]any
		for _, it := range body["items"].([]any) {
			items = append(items, it.(map[string]any))
		}
		g.perms[uid] = items
		reply(http.StatusOK, map[string]string{"message": "Dashboard permissions updated"})
	case strings.HasPrefix(p, "/api/dashboards/uid/"):
		uid := strings.TrimPrefix(p, "/api/dashboards/uid/")
		d, ok := g.dash[uid]
		if !ok {
			reply(http.StatusNotFound, map[string]string{"message": "Dashboard not found"})
			return
		}
		if r.Method == http.MethodDelete {
			delete(g.dash, uid)
			delete(g.perms, uid)
			reply(http.StatusOK, map[string]string{"title": "deleted"})
			return
		}
		reply(http.StatusOK, map[string]any{"dashboard": d, "meta": map[string]any{"folderUid": g.folder[uid]}})
	case p == "/api/search":
		q := r.URL.Query()
		var out []map[string]any
		for uid, d := range g.dash {
			tags, _ := d["tags"].([]any)
			if g.folder[uid] == q.Get("folderUIDs") && slices.Contains(tags, any(q.Get("tag"))) {
				out = append(out, map[string]any{"uid": uid, "type": "dash-db", "tags": tags})
			}
		}
		reply(http.StatusOK, out)
	case p == "/api/users/lookup":
		if id, ok := g.users[r.URL.Query().Get("loginOrEmail")]; ok {
			reply(http.StatusOK, map[string]any{"id": id})
			return
		}
		reply(http.StatusNotFound, map[string]string{"message": "user not found"})
	case p == "/api/teams/search":
		var teams []map[string]any
		if id, ok := g.teams[r.URL.Query().Get("name")]; ok {
			teams = append(teams, map[string]any{"id": id, "name": r.URL.Query().Get("name")})
		}
		reply(http.StatusOK, map[string]any{"totalCount": len(teams), "teams": teams})
	default:
		reply(http.StatusNotFound, map[string]string{"message": "not found"})
	}
}

func builtin(t *testing.T) []Dashboard {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dbs, err := dashboards.Load(filepath.Join(filepath.Dir(file), "..", "..", "..", "config", "dashboards"))
	if err != nil {
		t.Fatal(err)
	}
	var out []Dashboard
	for i, db := range dbs {
		if i == 0 {
			db.Permissions = dashboards.Permissions{Owner: "user_ana", Editors: []string{"user_sre"}, Viewers: []string{"user_ana"}, IsPublic: true}
		}
		b, err := dashboards.Compile(db)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, Dashboard{JSON: b, Meta: dashboards.MetaEntry{UID: db.DashboardID, Owner: db.Permissions.Owner, Editors: db.Permissions.Editors, Viewers: db.Permissions.Viewers, IsPublic: db.Permissions.IsPublic}})
	}
	return out
}

var principals = map[string]Principal{"admin": {User: "ana"}, "user_ana": {User: "ana"}, "user_sre": {Team: "sre"}}

func TestSyncIsIdempotentAndRemovesWhatIsGone(t *testing.T) {
	g := newFake()
	srv := httptest.NewServer(g)
	defer srv.Close()
	c := &Client{URL: srv.URL, Token: "tok", HTTP: srv.Client()}
	ctx := context.Background()
	ds := builtin(t)

	changes, err := c.Sync(ctx, ds, principals)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(changes, "created folder Pulse") || !slices.Contains(changes, "created dashboard pulse-ai-monitoring") {
		t.Errorf("first run: %v", changes)
	}
	first := ds[0].Meta.UID
	perms := g.perms[first]
	// Owner ana (admin) is also a viewer: one item, the highest level; team
	// sre edits; isPublic gives the Viewer role view.
	want := `[{"permission":4,"userId":7},{"permission":2,"teamId":3},{"permission":1,"role":"Viewer"}]`
	if got, _ := json.Marshal(perms); string(got) != want {
		t.Errorf("permissions of %s = %s, want %s", first, got, want)
	}

	g.writes = nil
	changes, err = c.Sync(ctx, ds, principals)
	if err != nil || len(changes) != 0 || len(g.writes) != 0 {
		t.Errorf("second run changed %v, wrote %v (err %v); want nothing", changes, g.writes, err)
	}

	// A dashboard changed in Grafana is written back; one no longer defined
	// is deleted; one of another folder or without the pulse tag is left.
	g.dash[ds[1].Meta.UID]["title"] = "edited in the UI"
	g.dash["someone-elses"] = map[string]any{"uid": "someone-elses", "tags": []any{"team"}, "version": 1.0}
	g.folder["someone-elses"] = folderUID
	g.writes = nil
	changes, err = c.Sync(ctx, ds[:3], principals)
	if err != nil {
		t.Fatal(err)
	}
	wantChanges := []string{"updated dashboard " + ds[1].Meta.UID, "deleted dashboard " + ds[3].Meta.UID}
	if !slices.Equal(changes, wantChanges) {
		t.Errorf("third run: %v, want %v", changes, wantChanges)
	}
	if _, ok := g.dash["someone-elses"]; !ok {
		t.Error("a dashboard pulsectl does not manage was deleted")
	}
}

func TestSyncErrors(t *testing.T) {
	g := newFake()
	srv := httptest.NewServer(g)
	defer srv.Close()
	ctx := context.Background()
	ds := builtin(t)

	c := &Client{URL: srv.URL, Token: "wrong", HTTP: srv.Client()}
	if _, err := c.Sync(ctx, ds, principals); err == nil || !strings.Contains(err.Error(), "HTTP 401: Unauthorized") {
		t.Errorf("bad token: %v", err)
	}
	c.Token = "tok"
	if _, err := c.Sync(ctx, ds, map[string]Principal{"admin": {User: "ana"}}); err == nil || !strings.Contains(err.Error(), `seed user "user_ana" has no Grafana user or team`) {
		t.Errorf("unmapped seed user: %v", err)
	}
	bad := map[string]Principal{"admin": {User: "ana"}, "user_ana": {User: "nobody"}, "user_sre": {Team: "sre"}}
	if _, err := c.Sync(ctx, ds, bad); err == nil || !strings.Contains(err.Error(), "Grafana user lookup") || !strings.Contains(err.Error(), "HTTP 404") {
		t.Errorf("unknown Grafana user: %v", err)
	}
}
