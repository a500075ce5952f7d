package grafanasync

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulse-otel/pulse/internal/dashboards"
	"github.com/pulse-otel/pulse/internal/grafanasync/grafanatest"
)

// handMade writes a compile output of two small dashboards with the
// permissions of permSidecar and reads it back.
func handMade(t *testing.T) []Dashboard {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, dashboards.DashboardsDir), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, dashboards.MetaFile), []byte("dashboards:\n"+permSidecar), 0o644))
	for _, uid := range []string{"d1", "d2"} {
		b := `{"uid":"` + uid + `","title":"Dashboard ` + uid + `","tags":["pulse"],"schemaVersion":42}`
		require.NoError(t, os.WriteFile(filepath.Join(dir, dashboards.DashboardsDir, uid+".json"), []byte(b), 0o644))
	}
	dbs, err := ReadDir(dir)
	require.NoError(t, err)
	return dbs
}

const permSidecar = `  - uid: d1
    file: dashboards/d1.json
    owner: alice
    editors: [ops, bob]
    viewers: [carol, alice]
    isPublic: true
  - uid: d2
    file: dashboards/d2.json
    owner: bob
    viewers: [bob]
    isPublic: false
`

type people struct{ alice, bob, carol, ops int64 }

func addPeople(g *grafanatest.Server) (people, *Users) {
	p := people{
		alice: g.AddUser("alice", "alice@example.com"),
		bob:   g.AddUser("bob", "bob@example.com"),
		carol: g.AddUser("carol", "carol@example.com"),
		ops:   g.AddTeam("Operations"),
	}
	return p, &Users{File: "users.yaml", IDs: map[string]Principal{
		"alice": {User: "alice"}, "bob": {User: "bob@example.com"}, "carol": {User: "carol"}, "ops": {Team: "Operations"},
	}}
}

func TestPermissionsFollowTheMapping(t *testing.T) {
	for _, serverAdmin := range []bool{true, false} {
		t.Run(map[bool]string{true: "server admin lookup", false: "organization lookup"}[serverAdmin], func(t *testing.T) {
			g := grafanatest.New(t, token)
			g.ServerAdmin = serverAdmin
			p, users := addPeople(g)
			res, err := Sync(context.Background(), opts(g, users), handMade(t))
			require.NoError(t, err)
			assert.Equal(t, []string{"d1", "d2"}, res.PermissionsSet)

			posted := map[string][]map[string]any{}
			for _, r := range g.Requests() {
				if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/permissions") {
					var body struct{ Items []map[string]any }
					require.NoError(t, json.Unmarshal(r.Body, &body), string(r.Body))
					posted[r.Path] = body.Items
				}
			}
			n := func(id int64) float64 { return float64(id) }
			assert.Equal(t, []map[string]any{
				{"userId": n(p.alice), "permission": 4.0},
				{"userId": n(p.bob), "permission": 2.0},
				{"userId": n(p.carol), "permission": 1.0},
				{"teamId": n(p.ops), "permission": 2.0},
				{"role": "Viewer", "permission": 1.0},
			}, posted["/api/dashboards/uid/d1/permissions"])
			assert.Equal(t, []map[string]any{{"userId": n(p.bob), "permission": 4.0}}, posted["/api/dashboards/uid/d2/permissions"])
			assert.Equal(t, []map[string]any{}, posted["/api/folders/pulse/permissions"])

			d2, _ := g.Dashboard("d2")
			assert.Equal(t, []grafanatest.Item{{UserID: p.bob, Permission: Admin}}, d2.Perms)
		})
	}
}

func TestPermissionDriftIsRepaired(t *testing.T) {
	g := grafanatest.New(t, token)
	p, users := addPeople(g)
	dbs := handMade(t)
	_, err := Sync(context.Background(), opts(g, users), dbs)
	require.NoError(t, err)

	// Someone gives carol Edit on d2 by hand.
	req, err := http.NewRequest(http.MethodPost, g.URL+"/api/dashboards/uid/d2/permissions",
		strings.NewReader(`{"items":[{"userId":`+jsonInt(p.bob)+`,"permission":4},{"userId":`+jsonInt(p.carol)+`,"permission":2}]}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	g.Requests()
	res, err := Sync(context.Background(), opts(g, users), dbs)
	require.NoError(t, err)
	assert.Equal(t, []string{"d2"}, res.PermissionsSet)
	assert.Equal(t, []string{"POST /api/dashboards/uid/d2/permissions"}, writes(g.Requests()))
	d2, _ := g.Dashboard("d2")
	assert.Equal(t, []grafanatest.Item{{UserID: p.bob, Permission: Admin}}, d2.Perms)
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestUnknownSeedUserIsPreciseAndWritesNothing(t *testing.T) {
	g := grafanatest.New(t, token)
	_, users := addPeople(g)
	delete(users.IDs, "carol")
	_, err := Sync(context.Background(), opts(g, users), handMade(t))
	require.EqualError(t, err, `dashboard d1: viewers: seed user "carol" is not in the users file users.yaml`)
	assert.Empty(t, writes(g.Requests()))
}

func TestSeedUserMissingInGrafana(t *testing.T) {
	for name, p := range map[string]Principal{"user": {User: "nobody@example.com"}, "team": {Team: "Nobody team"}} {
		t.Run(name, func(t *testing.T) {
			g := grafanatest.New(t, token)
			_, users := addPeople(g)
			users.IDs["carol"] = p
			_, err := Sync(context.Background(), opts(g, users), handMade(t))
			require.ErrorContains(t, err, `dashboard d1: viewers: seed user "carol" (users file users.yaml): no `)
			assert.NotContains(t, err.Error(), "nobody", "the login, email or team name may be personal data")
			assert.Empty(t, writes(g.Requests()))
		})
	}
}

func TestReadUsers(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, "users.yaml")
		require.NoError(t, os.WriteFile(p, []byte(s), 0o644))
		return p
	}
	u, err := ReadUsers(write("admin: {user: admin}\nops: {team: Operations}\n"))
	require.NoError(t, err)
	assert.Equal(t, map[string]Principal{"admin": {User: "admin"}, "ops": {Team: "Operations"}}, u.IDs)

	u, err = ReadUsers(write(""))
	require.NoError(t, err)
	assert.Empty(t, u.IDs)

	_, err = ReadUsers(write("admin: {user: a, team: b}\n"))
	require.ErrorContains(t, err, `seed user "admin": give exactly one of user`)
	_, err = ReadUsers(write("admin: {}\n"))
	require.ErrorContains(t, err, `seed user "admin": give exactly one of user`)
	_, err = ReadUsers(write("admin: {login: a}\n"))
	require.ErrorContains(t, err, "field login not found")
}
