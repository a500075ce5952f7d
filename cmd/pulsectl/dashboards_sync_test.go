package main

// No Grafana server can be installed where these tests run: sync runs
// against grafanatest, a test server that follows Grafana's documented
// HTTP API and status codes.

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulse-otel/pulse/internal/grafanasync/grafanatest"
)

const grafanaToken = "glsa_cmdTEST_secret_42"

func TestDashboardsCompileThenSync(t *testing.T) {
	g := grafanatest.New(t, grafanaToken)
	adminID := g.AddUser("admin", "admin@localhost")
	dir := filepath.Join(t.TempDir(), "out")
	code, _, errs := runCmd("dashboards", "compile", "--out", dir, builtinDashboards)
	require.Equal(t, 0, code, errs)
	users := filepath.Join(t.TempDir(), "users.yaml")
	require.NoError(t, os.WriteFile(users, []byte("admin: {user: admin}\n"), 0o644))

	t.Setenv(tokenEnv, grafanaToken)
	code, out, errs := runCmd("dashboards", "sync", "--grafana-url", g.URL, "--users", users, dir)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "folder Pulse (uid pulse): created\n")
	assert.Contains(t, out, "dashboard pulse-executive: created\n")
	assert.Contains(t, out, "dashboard pulse-executive: permissions set\n")
	assert.Contains(t, out, "folder pulse: created 5, updated 0, unchanged 0, deleted 0, permissions set 5\n")
	d, ok := g.Dashboard("pulse-executive")
	require.True(t, ok)
	assert.Equal(t, []grafanatest.Item{{UserID: adminID, Permission: 4}}, d.Perms)

	g.Requests()
	code, out, errs = runCmd("dashboards", "sync", "--grafana-url", g.URL, "--users", users, dir)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "created 0, updated 0, unchanged 5, deleted 0, permissions set 0\nnothing written: Grafana already matches "+dir+"\n")
	for _, r := range g.Requests() {
		assert.Equal(t, "GET", r.Method, "%s %s on an unchanged sync", r.Method, r.Path)
	}

	// Definitions instead of DIR are compiled in memory: same dashboards.
	code, out, errs = runCmd("dashboards", "sync", "--grafana-url", g.URL, "--token", grafanaToken, "--users", users, builtinDashboards)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "unchanged 5")
}

func TestDashboardsSyncDryRun(t *testing.T) {
	g := grafanatest.New(t, grafanaToken)
	code, out, errs := runCmd("dashboards", "sync", "--grafana-url", g.URL, "--token", grafanaToken, "--dry-run", builtinDashboards)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "folder Pulse (uid pulse): would be created\n")
	assert.Contains(t, out, "dry run, would have: created 5,")
	assert.Empty(t, g.Dashboards())
}

func TestDashboardsSyncErrors(t *testing.T) {
	g := grafanatest.New(t, grafanaToken)
	t.Setenv(tokenEnv, "")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--token", "x", builtinDashboards}, 2, "--grafana-url URL is required"},
		{[]string{"--grafana-url", g.URL, builtinDashboards}, 2, "--token TOKEN (or $" + tokenEnv + ") is required"},
		{[]string{"--grafana-url", g.URL, "--token", "x"}, 2, "give DIR"},
		{[]string{"--grafana-url", g.URL, "--token", "glsa_wrong_secret_7", builtinDashboards}, 1, "HTTP 401: Unauthorized; Grafana did not accept the token"},
		{[]string{"--grafana-url", g.URL, "--token", grafanaToken, "--users", "/nonexistent/users.yaml", builtinDashboards}, 1, "users.yaml"},
	} {
		code, out, errs := runCmd(append([]string{"dashboards", "sync"}, tc.args...)...)
		assert.Equal(t, tc.code, code, "%v: %s", tc.args, errs)
		assert.Contains(t, errs, tc.want, tc.args)
		assert.NotContains(t, out+errs, "glsa_wrong_secret_7", "the token must not be printed")
		if tc.code == 2 {
			assert.Contains(t, errs, "pulsectl dashboards help")
		}
	}
}
