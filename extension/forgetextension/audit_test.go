package forgetextension

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/bearertokenauthextension"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/pulse-otel/pulse/internal/audit"
	"github.com/pulse-otel/pulse/internal/audit/audittest"
)

// auditHost is an audit log offered to the extension as the host's
// extension "audit" (the audit extension does the same over the same log).
type auditHost struct {
	component.StartFunc
	component.ShutdownFunc
	audit.Appender
}

var auditID = component.MustNewID("audit")

// failingAppender refuses every append.
type failingAppender struct{}

func (failingAppender) Append(context.Context, audit.Entry) (audit.Record, error) {
	return audit.Record{}, errors.New("disk full")
}

func openAuditLog(t *testing.T) (*audit.Log, string) {
	t.Helper()
	dir := t.TempDir()
	l, err := audit.Open(dir, audit.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	return l, dir
}

// TestAuditRecordsForgetRequests: each accepted request, new or repeated,
// is one record naming who (the auth role), from where and whom only by
// pseudonyms; the audit files hold none of the planted PII.
func TestAuditRecordsForgetRequests(t *testing.T) {
	authID := component.MustNewID("bearertokenauth")
	f := bearertokenauthextension.NewFactory()
	acfg := f.CreateDefaultConfig().(*bearertokenauthextension.Config)
	const token = "s3cret-admin-token-value"
	acfg.BearerToken = token
	auth, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), acfg)
	require.NoError(t, err)
	require.NoError(t, auth.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { _ = auth.Shutdown(context.Background()) })

	l, dir := openAuditLog(t)
	h := start(t, setup{
		host: newHost(map[component.ID]component.Component{authID: auth, auditID: auditHost{Appender: l}}),
		cfg: func(c *Config) {
			c.Auth = configoptional.Some(confighttp.AuthConfig{Config: configauth.Config{AuthenticatorID: authID}})
			c.Audit = &auditID
		},
	})
	assert.Contains(t, h.ext.Dependencies(), auditID, "the audit extension starts first")

	planted := []string{"jane.doe@example.com", "+4915123632299", "4111111111111111", "DE89370400440532013000", "Jane Doe"}
	for _, id := range planted {
		r := forgetUser(t, h.url, id, "Authorization", "Bearer "+token)
		require.Equal(t, http.StatusAccepted, r.status, r.raw)
	}
	r := forgetUser(t, h.url, planted[0], "Authorization", "Bearer "+token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	// Refused by auth: not accepted, not recorded.
	require.Equal(t, http.StatusUnauthorized, forgetUser(t, h.url, "u-x").status)

	rs := audittest.Records(t, dir)
	require.Len(t, rs, len(planted)+1)
	wantSource := "client:" + h.ext.hasher.subject("127.0.0.1").prefix()
	for i, rec := range rs {
		id := planted[i%len(planted)]
		assert.Equal(t, audit.ActionForget, rec.Action)
		assert.Equal(t, "admin-token", rec.Actor)
		assert.Equal(t, wantSource, rec.Source)
		assert.Equal(t, h.ext.hasher.subject(id).prefix(), rec.Object)
		assert.Equal(t, "false", rec.Details["replicated"])
		assert.Equal(t, "false", rec.Details["persisted"])
		_, err := time.Parse(time.RFC3339, rec.Details["effective"])
		require.NoError(t, err)
		assert.Len(t, rec.Details["request_id"], 32)
	}
	assert.Equal(t, outcomeNew, rs[0].Details["outcome"])
	assert.Equal(t, outcomeRepeated, rs[len(rs)-1].Details["outcome"])
	assert.Equal(t, rs[0].Details["request_id"], rs[len(rs)-1].Details["request_id"], "a repeat names the original request")

	files, err := filepath.Glob(filepath.Join(dir, "*"))
	require.NoError(t, err)
	for _, p := range files {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		for _, pii := range append(planted, token, "127.0.0.1", `\u002b4915`) {
			assert.NotContains(t, strings.ToLower(string(b)), strings.ToLower(pii), "%s holds planted PII", filepath.Base(p))
		}
	}
}

// TestAuditFailureRefusesRequest: when the audit log cannot record a
// request, it is answered 503 and not applied.
func TestAuditFailureRefusesRequest(t *testing.T) {
	h := start(t, setup{
		host: newHost(map[component.ID]component.Component{auditID: auditHost{Appender: failingAppender{}}}),
		cfg:  func(c *Config) { c.Audit = &auditID },
	})
	r := forgetUser(t, h.url, "u-1")
	require.Equal(t, http.StatusServiceUnavailable, r.status, r.raw)
	assert.Equal(t, "5", r.header.Get("Retry-After"))
	assert.Contains(t, r.str(t, "error"), "could not be written to the audit log and was not recorded")
	assert.False(t, h.ext.Forgotten("u-1"))
	assert.JSONEq(t, `{"count":0}`, get(t, h.url+basePath).raw)
}

// TestAuditStorageFailureRecorded: a request recorded as new and then
// refused by the storage gets a second record saying it was not applied.
func TestAuditStorageFailureRecorded(t *testing.T) {
	storeID := component.MustNewIDWithName("mem_storage", "forget")
	mem := newMemStorage()
	l, dir := openAuditLog(t)
	h := start(t, setup{
		host: newHost(map[component.ID]component.Component{storeID: mem, auditID: auditHost{Appender: l}}),
		cfg:  func(c *Config) { c.Storage = &storeID; c.Audit = &auditID },
	})
	mem.fail.Store(true)
	require.Equal(t, http.StatusServiceUnavailable, forgetUser(t, h.url, "u-1").status)
	rs := audittest.Records(t, dir)
	require.Len(t, rs, 2)
	assert.Equal(t, outcomeNew, rs[0].Details["outcome"])
	assert.Equal(t, outcomeNotApplied, rs[1].Details["outcome"])
	assert.Equal(t, "true", rs[1].Details["persisted"])
	assert.Equal(t, "anonymous", rs[0].Actor, "no auth configured")
}

func TestAuditMissingExtension(t *testing.T) {
	cfg := testConfig(t)
	cfg.Audit = &auditID
	ext, _ := newForget(t, cfg)
	err := ext.Start(context.Background(), newHost(nil))
	require.ErrorContains(t, err, `audit: audit: extension "audit" is not configured`)
}

type oidcAuth struct{ subject string }

func (a oidcAuth) GetAttribute(name string) any {
	switch name {
	case "subject":
		return a.subject
	case "raw":
		return "eyJ.raw.token"
	}
	return nil
}
func (oidcAuth) GetAttributeNames() []string { return []string{"subject", "raw"} }

// TestRequesterOIDC: an OIDC caller is named by the HMAC of the token's
// subject, never by the subject or the token.
func TestRequesterOIDC(t *testing.T) {
	ext, _ := newForget(t, testConfig(t))
	req := httptest.NewRequest(http.MethodPost, basePath, nil)
	req.RemoteAddr = "192.0.2.7:51234"
	req = req.WithContext(client.NewContext(req.Context(), client.Info{Auth: oidcAuth{subject: "alice@example.com"}}))
	who := ext.requesterOf(req)
	assert.Equal(t, "oidc:"+ext.hasher.subject("alice@example.com").prefix(), who.actor)
	assert.Equal(t, "client:"+ext.hasher.subject("192.0.2.7").prefix(), who.source)
	assert.NotContains(t, who.actor+who.source, "alice")
	assert.NotContains(t, who.actor+who.source, "192.0.2.7")
}
