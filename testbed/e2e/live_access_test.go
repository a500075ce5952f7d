package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.yaml.in/yaml/v3"

	"github.com/pulse-otel/pulse/internal/testutil/oidctest"
)

// accessDefinitions are three seed-shaped dashboard definitions: a public
// one, one alice owns and one carol owns and bob views. The user ids are
// the sub claims of the test's tokens.
var accessDefinitions = map[string]string{
	"everyone": `permissions: {owner: admin, viewers: [], editors: [], isPublic: true}`,
	"alices":   `permissions: {owner: alice, viewers: [], editors: [], isPublic: false}`,
	"bobs":     `permissions: {owner: carol, viewers: [bob], editors: [], isPublic: false}`,
}

const accessDefinition = `dashboardId: %[1]s
name: E2E / %[1]s
type: custom
description: A dashboard of the access test.
tags: [e2e]
%[2]s
settings: {refreshInterval: 10, theme: dark, timezone: utc, defaultTimeRange: 1h}
layout:
  gridSize: {columns: 12, rows: 8}
  widgets:
    - id: stored
      type: stat
      position: {x: 0, y: 0, width: 4, height: 4}
      config:
        title: Events stored
        description: Every event the store counted.
        promql: sum(pulse_events_total)
        unit: short
`

// docsAccessConfig is docs/live.md's oidcauth example with issuer as its
// issuer_url, merged with rest (the listener, store and pipelines).
func docsAccessConfig(t *testing.T, issuer, rest string) string {
	t.Helper()
	block := oidctest.DocsExample(t, filepath.Join("..", "..", "docs", "live.md"), issuer)
	var base, more map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(block), &base))
	require.NoError(t, yaml.Unmarshal([]byte(rest), &more))
	conf := confmap.NewFromStringMap(base)
	require.NoError(t, conf.Merge(confmap.NewFromStringMap(more)))
	out, err := yaml.Marshal(conf.ToStringMap())
	require.NoError(t, err)
	return string(out)
}

// TestLiveAccess is per-user sharing of live dashboards through the built
// binary: docs/live.md's oidcauth configuration against a fake issuer,
// definitions compiled by bin/pulsectl whose owner and viewers are the
// tokens' sub claims. Alice lists the public dashboard and hers, bob the
// public one and the one he views; alice asking for bob's dashboard or its
// stream gets a 403 that names nothing; no token or an expired one is 401;
// the page's shell is served without a token.
func TestLiveAccess(t *testing.T) {
	bin := binary(t)
	issuer := oidctest.NewIssuer(t)
	dir := t.TempDir()
	writePrivacyKey(t, dir)
	var defs []string
	for uid, perms := range accessDefinitions {
		def := filepath.Join(t.TempDir(), uid+".yaml")
		require.NoError(t, os.WriteFile(def, []byte(fmt.Sprintf(accessDefinition, uid, perms)), 0o600))
		defs = append(defs, def)
	}
	out, err := exec.Command(filepath.Join(filepath.Dir(bin), "pulsectl"),
		append([]string{"dashboards", "compile", "--out", filepath.Join(dir, "data", "dashboards")}, defs...)...).CombinedOutput()
	require.NoError(t, err, "pulsectl dashboards compile: %s", out)

	api := freePort(t)
	c := startCollectorWith(t, &sink{}, func(c *collector, _ string) string {
		c.dir = dir
		return docsAccessConfig(t, issuer.URL, strings.NewReplacer("HEALTH", c.health, "EVENTS", c.events, "API", api).Replace(`
extensions:
  health_check:
    endpoint: HEALTH
receivers:
  analytics:
    endpoint: EVENTS
processors:
  privacy:
    pseudonymize:
      key_file: ./privacy.key
connectors:
  analytics_metrics:
    flush_interval: 500ms
exporters:
  promstore:
    endpoint: API
    directory: ./promstore
service:
  extensions: [health_check, oidc]
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [analytics]
      processors: [privacy]
      exporters: [analytics_metrics]
    metrics:
      receivers: [analytics_metrics]
      exporters: [promstore]
`))
	})
	defer c.stop(t)
	base := "http://" + api

	get := func(path, token string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, base+path, http.NoBody)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := (&http.Client{Timeout: 3 * time.Second}).Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil { // a stream that opened: cut by the timeout
			return resp.StatusCode, ""
		}
		return resp.StatusCode, string(body)
	}
	list := func(token string) []string {
		t.Helper()
		var uids []string
		waitFor(t, "the compiled dashboards listed", func() bool {
			status, body := get("/dashboards/api/list", token)
			require.Equal(t, http.StatusOK, status, body)
			var l struct {
				Dashboards []struct{ UID string } `json:"dashboards"`
			}
			require.NoError(t, json.Unmarshal([]byte(body), &l))
			uids = uids[:0]
			for _, d := range l.Dashboards {
				uids = append(uids, d.UID)
			}
			return len(uids) > 0
		})
		return uids
	}
	const audience = "pulse-dashboards" // docs/live.md's example
	later := time.Now().Add(time.Hour)
	alice, bob := issuer.Token(t, "alice", audience, later), issuer.Token(t, "bob", audience, later)

	assert.ElementsMatch(t, []string{"everyone", "alices"}, list(alice), "alice")
	assert.ElementsMatch(t, []string{"everyone", "bobs"}, list(bob), "bob")
	for _, path := range []string{"/dashboards/api/dashboard/bobs", "/dashboards/api/live/bobs?from=now-5m&to=now"} {
		status, body := get(path, alice)
		assert.Equal(t, http.StatusForbidden, status, "GET %s as alice", path)
		for _, name := range []string{"bobs", "bob", "carol", "alice"} {
			assert.NotContains(t, body, name, "the 403 of %s names %q", path, name)
		}
	}

	// bob's stream of his dashboard opens with a full frame.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/dashboards/api/live/bobs?from=now-5m&to=now", http.NoBody)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+bob)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	gotFull := false
	for !gotFull && sc.Scan() {
		gotFull = sc.Text() == "event: full"
	}
	cancel()
	_ = resp.Body.Close()
	assert.True(t, gotFull, "bob's stream sends a full frame")

	expired := issuer.Token(t, "alice", audience, time.Now().Add(-time.Minute))
	for _, path := range []string{"/dashboards/api/list", "/dashboards/api/dashboard/everyone", "/api/v1/query?query=1"} {
		for name, token := range map[string]string{"no token": "", "expired": expired} {
			status, _ := get(path, token)
			assert.Equal(t, http.StatusUnauthorized, status, "GET %s, %s", path, name)
		}
	}
	for _, path := range []string{"/dashboards/", "/dashboards/d/alices", "/dashboards/static/app.js"} {
		status, _ := get(path, "")
		assert.Equal(t, http.StatusOK, status, "GET %s without a token", path)
	}
	// The extension logs failed authentications (client address, the
	// issuer the token claims, the reason), never the token itself.
	assert.NotContains(t, c.out.String(), expired)
}
