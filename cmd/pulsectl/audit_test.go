package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulse-otel/pulse/internal/audit"
	"github.com/pulse-otel/pulse/internal/audit/audittest"
	"github.com/pulse-otel/pulse/internal/grafanasync/grafanatest"
)

// TestMain points the default --audit-dir of every test's sync at a
// temporary directory, so no test writes ./data/audit in the source tree.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pulsectl-audit-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_ = os.Setenv(auditDirEnv, dir)
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func TestAuditVerifyAndShow(t *testing.T) {
	dir := t.TempDir()
	l, err := audit.Open(dir, audit.Options{})
	require.NoError(t, err)
	for i := range 3 {
		_, err := l.Append(context.Background(), audit.Entry{Action: audit.ActionForget, Actor: "admin-token", Source: "client:0011", Object: fmt.Sprintf("subj%d", i),
			Details: map[string]string{"outcome": "new", "note": "two words"}})
		require.NoError(t, err)
	}
	require.NoError(t, l.Close())

	code, out, errs := runCmd("audit", "verify", "--audit-dir", dir)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "OK: 3 records in 1 files, seq 1 to 3")
	res, err := audit.Verify(dir)
	require.NoError(t, err)
	assert.Contains(t, out, "head: seq 3 hash "+res.Head.Hash+"\n")

	code, out, errs = runCmd("audit", "show", "--since", "1h", "--audit-dir", dir)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "forget.request    actor=admin-token source=client:0011 object=subj1 note=\"two words\" outcome=new\n")
	assert.Contains(t, out, "3 records since ")
	assert.Contains(t, out, "head: seq 3 hash "+res.Head.Hash)

	code, out, _ = runCmd("audit", "show", "--since", time.Now().Add(time.Hour).Format(time.RFC3339), "--audit-dir", dir)
	require.Equal(t, 0, code)
	assert.Contains(t, out, "0 records since")

	code, out, errs = runCmd("audit", "show", "--format", "json", "--audit-dir", dir)
	require.Equal(t, 0, code, errs)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3)
	var r audit.Record
	require.NoError(t, json.Unmarshal([]byte(lines[2]), &r))
	assert.Equal(t, res.Head.Hash, r.Hash)

	// One byte of the second record changed: verify names it, exit 1.
	files, _ := filepath.Glob(filepath.Join(dir, "audit-*.jsonl"))
	require.Len(t, files, 1)
	b, err := os.ReadFile(files[0])
	require.NoError(t, err)
	i := strings.Index(string(b), "subj1")
	b[i+4] = '7'
	require.NoError(t, os.WriteFile(files[0], b, 0o640))
	code, out, errs = runCmd("audit", "verify", "--audit-dir", dir)
	require.Equal(t, 1, code)
	assert.Contains(t, out, "BROKEN: audit: "+filepath.Base(files[0])+":2: record seq 2: bad hash")
	assert.Contains(t, out, "valid before it: 1 records, up to seq 1")
	assert.Contains(t, errs, "record seq 2: bad hash")
}

func TestAuditUsage(t *testing.T) {
	for _, args := range [][]string{
		{"audit"}, {"audit", "nope"}, {"audit", "verify", "extra"},
		{"audit", "show", "--since", "yesterday"}, {"audit", "show", "--format", "yaml"},
	} {
		code, _, errs := runCmd(args...)
		assert.Equal(t, 2, code, "%v: %s", args, errs)
	}
	code, _, errs := runCmd("audit", "verify", "--audit-dir", filepath.Join(t.TempDir(), "missing"))
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "no such file or directory")
}

func TestRulesSyncIsAudited(t *testing.T) {
	fake := &fakeRuler{}
	ts := httptest.NewServer(fake)
	t.Cleanup(ts.Close)
	srv := ts.URL
	dir := t.TempDir()
	withCreds := strings.Replace(srv, "http://", "http://ops:hunter2@", 1) + "/"
	code, _, errs := runCmd("rules", "sync", "--ruler-url", withCreds, "--tenant", "team-a", "--audit-dir", dir, copyDefaults(t))
	require.Equal(t, 0, code, errs)
	rs := audittest.Records(t, dir)
	require.Len(t, rs, 1)
	r := rs[0]
	assert.Equal(t, audit.ActionRulesSync, r.Action)
	assert.Equal(t, "pulsectl", r.Actor)
	assert.Equal(t, srv+"/", r.Object, "no credentials")
	assert.Equal(t, "ruler", r.Details["mode"])
	assert.Equal(t, "pulse-every-1m,pulse-every-5m", r.Details["groups"])
	assert.Equal(t, r.Details["groups"], r.Details["created"])
	assert.Len(t, r.Details["content_sha256"], 64)

	code, _, errs = runCmd("rules", "sync", "--ruler-url", withCreds, "--tenant", "team-a", "--audit-dir", dir, copyDefaults(t))
	require.Equal(t, 0, code, errs)
	rs = audittest.Records(t, dir)
	require.Len(t, rs, 2, "an unchanged run is recorded too")
	assert.Empty(t, rs[1].Details["created"])
	assert.Equal(t, r.Details["content_sha256"], rs[1].Details["content_sha256"])
	assertNotInDir(t, dir, "hunter2", "ops:")
}

func TestDashboardsSyncIsAudited(t *testing.T) {
	g := grafanatest.New(t, grafanaToken)
	dir := t.TempDir()
	code, _, errs := runCmd("dashboards", "sync", "--grafana-url", g.URL, "--token", grafanaToken, "--dry-run", "--audit-dir", dir, builtinDashboards)
	require.Equal(t, 0, code, errs)
	code, _, errs = runCmd("dashboards", "sync", "--grafana-url", g.URL, "--token", grafanaToken, "--audit-dir", dir, builtinDashboards)
	require.Equal(t, 0, code, errs)
	rs := audittest.Records(t, dir)
	require.Len(t, rs, 1, "the dry run is not recorded")
	r := rs[0]
	assert.Equal(t, audit.ActionDashboardsSync, r.Action)
	assert.Equal(t, g.URL, r.Object)
	assert.Equal(t, "pulse", r.Details["folder"])
	assert.Equal(t, r.Details["dashboards"], r.Details["created"])
	assert.Equal(t, "ok", r.Details["outcome"])
	assert.Len(t, r.Details["content_sha256"], 64)
	assertNotInDir(t, dir, grafanaToken)
}

func assertNotInDir(t *testing.T, dir string, secrets ...string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	require.NoError(t, err)
	for _, p := range files {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		for _, s := range secrets {
			assert.NotContains(t, string(b), s, filepath.Base(p))
		}
	}
}
