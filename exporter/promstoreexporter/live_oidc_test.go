package promstoreexporter

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/oidcauthextension"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.yaml.in/yaml/v3"

	"github.com/pulse-otel/pulse/exporter/promstoreexporter/internal/metadata"
	"github.com/pulse-otel/pulse/internal/testutil"
	"github.com/pulse-otel/pulse/internal/testutil/oidctest"
)

// docsOIDCExample is docs/live.md's oidcauth example with issuer as its
// issuer_url, so that the documented configuration is the one tested.
func docsOIDCExample(t *testing.T, issuer string) *confmap.Conf {
	t.Helper()
	var raw map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(oidctest.DocsExample(t, "../../docs/live.md", issuer)), &raw))
	return confmap.NewFromStringMap(raw)
}

// writeSharedDashboards writes a compile's output directory with three
// dashboards: a public one, one owned by alice and one alice does not own
// but bob views.
func writeSharedDashboards(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "dashboards"), 0o750))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pulse-dashboards.yaml"), []byte(`dashboards:
  - {uid: everyone, file: dashboards/everyone.json, type: custom, theme: dark, isPublic: true}
  - {uid: alices, file: dashboards/alices.json, type: custom, theme: dark, owner: alice, isPublic: false}
  - {uid: bobs, file: dashboards/bobs.json, type: custom, theme: dark, owner: carol, viewers: [bob], isPublic: false}
`), 0o600))
	for uid, title := range map[string]string{"everyone": "Everyone's", "alices": "Alice's revenue", "bobs": "Bob's funnel"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "dashboards", uid+".json"), []byte(
			`{"uid":"`+uid+`","title":"`+title+`","panels":[{"type":"stat","id":1,"targets":[{"refId":"A","expr":"sum(pulse_live_test)"}]}]}`), 0o600))
	}
	return dir
}

// TestLivePageOIDC shares dashboards per user through the oidcauth
// extension, configured as docs/live.md says, against a fake issuer: each
// caller lists and reads the public dashboards and those shared with its
// token's sub, a dashboard shared with someone else is 403 without naming
// it, and a missing, expired, foreign or mis-addressed token is 401.
func TestLivePageOIDC(t *testing.T) {
	issuer := oidctest.NewIssuer(t)
	example := docsOIDCExample(t, issuer.URL)

	// The extension, from the documented block.
	extSection, err := example.Sub("extensions::oidc")
	require.NoError(t, err)
	f := oidcauthextension.NewFactory()
	acfg := f.CreateDefaultConfig().(*oidcauthextension.Config)
	require.NoError(t, extSection.Unmarshal(acfg))
	require.NoError(t, acfg.Validate())
	require.Len(t, acfg.Providers, 1)
	audience := acfg.Providers[0].Audience
	ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), acfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()), "the extension reads the issuer's discovery document")
	t.Cleanup(func() { _ = ext.Shutdown(context.Background()) })

	// promstore, from the documented block on a test listener and directory.
	cfg := testConfig(t, t.TempDir())
	expSection, err := example.Sub("exporters::promstore")
	require.NoError(t, err)
	require.NoError(t, expSection.Unmarshal(cfg))
	require.True(t, cfg.Auth.HasValue(), "the example puts auth on promstore's listener")
	authID := cfg.Auth.Get().Config.AuthenticatorID
	require.Equal(t, f.Type(), authID.Type())
	cfg.Live.Directory = writeSharedDashboards(t)
	require.NoError(t, cfg.Validate())
	p, err := newExporter(cfg, exportertest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	require.NoError(t, p.start(context.Background(), testutil.Host(map[component.ID]component.Component{authID: ext})))
	t.Cleanup(func() { require.NoError(t, p.shutdown(context.Background())) })
	base := "http://" + cfg.NetAddr.Endpoint

	// get returns a response's status and body; a stream that opens
	// where it should not is cut after 3 s, its body unread.
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
		if err != nil {
			return resp.StatusCode, ""
		}
		return resp.StatusCode, string(body)
	}
	list := func(token string) []string {
		t.Helper()
		status, body := get("/dashboards/api/list", token)
		require.Equal(t, http.StatusOK, status, body)
		var out struct {
			Dashboards []struct{ UID string } `json:"dashboards"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &out))
		var uids []string
		for _, d := range out.Dashboards {
			uids = append(uids, d.UID)
		}
		return uids
	}
	later := time.Now().Add(time.Hour)
	alice := issuer.Token(t, "alice", audience, later)
	bob := issuer.Token(t, "bob", audience, later)

	assert.ElementsMatch(t, []string{"everyone", "alices"}, list(alice), "alice: the public dashboard and the one she owns")
	assert.ElementsMatch(t, []string{"everyone", "bobs"}, list(bob), "bob: the public dashboard and the one he views")
	assert.ElementsMatch(t, []string{"everyone"}, list(issuer.Token(t, "mallory", audience, later)), "a valid token the definitions do not name")

	status, body := get("/dashboards/api/dashboard/alices", alice)
	assert.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, "Alice's revenue")
	status, _ = get("/dashboards/api/dashboard/everyone", bob)
	assert.Equal(t, http.StatusOK, status)

	// alice asking for bob's dashboard: 403, and the answer names neither
	// the dashboard nor anyone it is shared with.
	for _, path := range []string{"/dashboards/api/dashboard/bobs", "/dashboards/api/live/bobs?from=now-5m&to=now"} {
		status, body := get(path, alice)
		assert.Equal(t, http.StatusForbidden, status, "GET %s as alice", path)
		for _, name := range []string{"bobs", "Bob", "bob", "carol", "alice", "funnel"} {
			assert.NotContains(t, body, name, "the 403 of %s names %q", path, name)
		}
	}
	status, _ = get("/dashboards/api/dashboard/alices", bob)
	assert.Equal(t, http.StatusForbidden, status, "and bob cannot read alice's")

	// The stream of one's own dashboard opens with its full frame.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
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
	assert.True(t, gotFull, "bob's stream of his dashboard sends a full frame")
	cancel()
	resp.Body.Close()

	// Without a valid token the API is 401; the shell is still served.
	otherIssuer := oidctest.NewIssuer(t)
	for name, token := range map[string]string{
		"no token":              "",
		"expired":               issuer.Token(t, "alice", audience, time.Now().Add(-time.Minute)),
		"another audience":      issuer.Token(t, "alice", "someone-else", later),
		"another issuer's":      otherIssuer.Token(t, "alice", audience, later),
		"not a JWT":             "s3cret",
		"signed by another key": forgeWithIssuer(t, issuer.URL, otherIssuer, audience, later),
	} {
		for _, path := range []string{"/dashboards/api/list", "/dashboards/api/dashboard/everyone",
			"/dashboards/api/live/everyone?from=now-5m&to=now", "/api/v1/query?query=1"} {
			status, _ := get(path, token)
			assert.Equal(t, http.StatusUnauthorized, status, "GET %s, %s", path, name)
		}
	}
	for _, path := range []string{"/dashboards/", "/dashboards/d/alices", "/dashboards/static/app.js"} {
		status, _ := get(path, "")
		assert.Equal(t, http.StatusOK, status, "GET %s without a token", path)
	}
}

// forgeWithIssuer signs a token that claims issuer iss with another
// issuer's key: the extension must refuse it against iss's JWKS.
func forgeWithIssuer(t *testing.T, iss string, signer *oidctest.Issuer, aud string, exp time.Time) string {
	t.Helper()
	return signer.Claiming(iss).Token(t, "alice", aud, exp)
}
