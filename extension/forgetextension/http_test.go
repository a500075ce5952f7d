package forgetextension

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/bearertokenauthextension"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.uber.org/zap/zapcore"
)

var requestIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestForgetIsEffectiveImmediately(t *testing.T) {
	h := start(t, setup{})
	assert.False(t, h.ext.Forgotten("u-1"))

	before := time.Now().Add(-time.Second)
	r := forgetUser(t, h.url, "u-1")
	require.Equal(t, http.StatusAccepted, r.status, r.raw)
	// The answer is sent after the set was swapped: no wait is needed.
	assert.True(t, h.ext.Forgotten("u-1"))
	assert.False(t, h.ext.Forgotten("u-2"))
	assert.False(t, h.ext.Forgotten("U-1"))
	assert.False(t, h.ext.Forgotten(""))

	body := r.json(t)
	assert.Len(t, body, 3, r.raw)
	assert.Equal(t, "effective", body["status"])
	id := r.str(t, "requestId")
	assert.Regexp(t, requestIDPattern, id)
	at, err := time.Parse(time.RFC3339, r.str(t, "receivedAt"))
	require.NoError(t, err)
	assert.WithinRange(t, at, before, time.Now().Add(time.Second))
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))

	c := get(t, h.url+basePath)
	require.Equal(t, http.StatusOK, c.status, c.raw)
	assert.JSONEq(t, `{"count":1}`, c.raw)

	rec := get(t, h.url+basePath+"/"+id)
	require.Equal(t, http.StatusOK, rec.status, rec.raw)
	sub := h.ext.hasher.subject("u-1")
	assert.JSONEq(t, fmt.Sprintf(`{"requestId":%q,"receivedAt":%q,"subject":%q}`, id, r.str(t, "receivedAt"), fmt.Sprintf("%x", sub[:8])), rec.raw)
	// Upper-case request ids are the same id.
	assert.Equal(t, http.StatusOK, get(t, h.url+basePath+"/"+strings.ToUpper(id)).status)

	entries := h.logs.FilterMessageSnippet("Forget request recorded").All()
	require.Len(t, entries, 1)
	assert.Equal(t, zapcore.InfoLevel, entries[0].Level)
	fields := entries[0].ContextMap()
	assert.Equal(t, id, fields["request_id"])
	assert.Equal(t, fmt.Sprintf("%x", sub[:8]), fields["subject"])
	assert.Equal(t, 1, h.logs.FilterMessageSnippet("No storage configured").Len(), "the missing storage is warned about")
}

func TestForgetIsIdempotent(t *testing.T) {
	h := start(t, setup{})
	first := forgetUser(t, h.url, "u-1")
	require.Equal(t, http.StatusAccepted, first.status, first.raw)

	again := forgetUser(t, h.url, "u-1")
	require.Equal(t, http.StatusOK, again.status, again.raw)
	assert.JSONEq(t, first.raw, again.raw, "a repeated request gets the original record")
	assert.Equal(t, 1, h.logs.FilterMessageSnippet("already forgotten").Len())

	other := forgetUser(t, h.url, "u-2")
	require.Equal(t, http.StatusAccepted, other.status, other.raw)
	assert.NotEqual(t, first.str(t, "requestId"), other.str(t, "requestId"))
	assert.JSONEq(t, `{"count":2}`, get(t, h.url+basePath).raw)

	// Concurrent requests for one user: exactly one creates the record.
	var wg sync.WaitGroup
	replies := make([]reply, 16)
	for i := range replies {
		wg.Go(func() {
			var err error
			replies[i], err = tryForgetUser(h.url, "u-3")
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	created, ids := 0, map[string]bool{}
	for _, r := range replies {
		if r.status == http.StatusAccepted {
			created++
		} else {
			assert.Equal(t, http.StatusOK, r.status, r.raw)
		}
		ids[r.str(t, "requestId")] = true
	}
	assert.Equal(t, 1, created)
	assert.Len(t, ids, 1)
	assert.JSONEq(t, `{"count":3}`, get(t, h.url+basePath).raw)
}

func TestLongestUserID(t *testing.T) {
	h := start(t, setup{})
	long := strings.Repeat("é", maxUserIDLength/2) // 1024 bytes
	r := forgetUser(t, h.url, long)
	require.Equal(t, http.StatusAccepted, r.status, r.raw)
	assert.True(t, h.ext.Forgotten(long))
	assert.False(t, h.ext.Forgotten(long[:maxUserIDLength-2]))
}

func TestErrorStatuses(t *testing.T) {
	h := start(t, setup{cfg: func(c *Config) { c.MaxRequestBodySize = 2048 }})
	const jsonType = "application/json"
	unknownID := strings.Repeat("ab", requestIDSize)
	tests := []struct {
		name        string
		method      string
		path        string
		contentType string
		body        string
		status      int
		want        string
		allow       string
	}{
		{name: "text content type", method: "POST", path: basePath, contentType: "text/plain", body: `{"userId":"u"}`, status: 415, want: "Content-Type must be application/json"},
		{name: "no content type", method: "POST", path: basePath, body: `{"userId":"u"}`, status: 415, want: "Content-Type must be application/json"},
		{name: "bad content type", method: "POST", path: basePath, contentType: "application/", body: `{"userId":"u"}`, status: 415, want: "Content-Type must be application/json"},
		{name: "empty body", method: "POST", path: basePath, contentType: jsonType, status: 400, want: `empty body; the body must be {"userId":"..."}`},
		{name: "truncated", method: "POST", path: basePath, contentType: jsonType, body: `{"userId":`, status: 400, want: "body is not valid JSON (it ends too early)"},
		{name: "syntax", method: "POST", path: basePath, contentType: jsonType, body: `{"userId" "u"}`, status: 400, want: "body is not valid JSON (syntax error at byte 11)"},
		{name: "array", method: "POST", path: basePath, contentType: jsonType, body: `["u"]`, status: 400, want: "body must be a JSON object, got a JSON array"},
		{name: "number id", method: "POST", path: basePath, contentType: jsonType, body: `{"userId":42}`, status: 400, want: "userId: must be a string, got a JSON number"},
		{name: "null id", method: "POST", path: basePath, contentType: jsonType, body: `{"userId":null}`, status: 400, want: "userId: required"},
		{name: "missing id", method: "POST", path: basePath, contentType: jsonType, body: `{}`, status: 400, want: "userId: required"},
		{name: "empty id", method: "POST", path: basePath, contentType: jsonType, body: `{"userId":""}`, status: 400, want: "userId: must not be empty"},
		{name: "long id", method: "POST", path: basePath, contentType: jsonType, body: `{"userId":"` + strings.Repeat("x", 1025) + `"}`, status: 400, want: "userId: must be at most 1024 bytes, got 1025"},
		{name: "unknown field", method: "POST", path: basePath, contentType: jsonType, body: `{"userId":"u","reason":"gdpr"}`, status: 400, want: "body has a field other than userId"},
		{name: "trailing data", method: "POST", path: basePath, contentType: jsonType, body: `{"userId":"u"} {}`, status: 400, want: "body has data after the JSON object"},
		{name: "duplicate id", method: "POST", path: basePath, contentType: jsonType, body: `{"userId":"decoy","userId":"u"}`, status: 400, want: `userId: duplicate field; the body must be {"userId":"..."}`},
		{name: "duplicate id spelled with an escape", method: "POST", path: basePath, contentType: jsonType, body: `{"userId":"u","user\u0049d":"decoy"}`, status: 400, want: "userId: duplicate field"},
		{name: "duplicate id of another type", method: "POST", path: basePath, contentType: jsonType, body: `{"userId":"u","userId":null}`, status: 400, want: "userId: duplicate field"},
		{name: "id in another case", method: "POST", path: basePath, contentType: jsonType, body: `{"USERID":"u"}`, status: 400, want: "body has a field other than userId"},
		{name: "id and another case", method: "POST", path: basePath, contentType: jsonType, body: `{"userId":"decoy","userid":"u"}`, status: 400, want: "body has a field other than userId"},
		{name: "lone high surrogate", method: "POST", path: basePath, contentType: jsonType, body: `{"userId":"\ud800"}`, status: 400, want: `userId: holds a \u escape of a lone UTF-16 surrogate`},
		{name: "lone low surrogate", method: "POST", path: basePath, contentType: jsonType, body: `{"userId":"u\uDC00"}`, status: 400, want: `userId: holds a \u escape of a lone UTF-16 surrogate`},
		{name: "high surrogate and a letter", method: "POST", path: basePath, contentType: jsonType, body: `{"userId":"\ud800\u0041"}`, status: 400, want: `userId: holds a \u escape of a lone UTF-16 surrogate`},
		{name: "two high surrogates", method: "POST", path: basePath, contentType: jsonType, body: `{"userId":"\ud83d\ud83d"}`, status: 400, want: `userId: holds a \u escape of a lone UTF-16 surrogate`},
		{name: "invalid utf-8", method: "POST", path: basePath, contentType: jsonType, body: "{\"userId\":\"u\xff\"}", status: 400, want: "body is not valid UTF-8"},
		{name: "too large", method: "POST", path: basePath, contentType: jsonType, body: `{"userId":"` + strings.Repeat("x", 3000) + `"}`, status: 413, want: "body larger than max_request_body_size (2048 bytes)"},
		{name: "put", method: "PUT", path: basePath, contentType: jsonType, body: `{"userId":"u"}`, status: 405, want: `method not allowed`, allow: "GET, POST"},
		{name: "delete record", method: "DELETE", path: basePath + "/" + unknownID, status: 405, want: `method not allowed`, allow: "GET"},
		{name: "post record", method: "POST", path: basePath + "/" + unknownID, contentType: jsonType, body: `{"userId":"u"}`, status: 405, want: `method not allowed`, allow: "GET"},
		{name: "bad request id", method: "GET", path: basePath + "/not-an-id", status: 400, want: "requestId: must be 32 hexadecimal digits"},
		{name: "empty request id", method: "GET", path: basePath + "/", status: 400, want: "requestId: must be 32 hexadecimal digits"},
		{name: "unknown request id", method: "GET", path: basePath + "/" + unknownID, status: 404, want: "no forget request has this requestId"},
		{name: "unknown path", method: "GET", path: "/v1/other", status: 404, want: "unknown path"},
		{name: "nested path", method: "GET", path: basePath + "/" + unknownID + "/x", status: 404, want: "unknown path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := request(t, tt.method, h.url+tt.path, tt.contentType, []byte(tt.body))
			require.Equal(t, tt.status, r.status, r.raw)
			assert.Equal(t, tt.want, r.str(t, "error")[:min(len(tt.want), len(r.str(t, "error")))], r.raw)
			assert.Len(t, r.json(t), 1, "an error answer is only {\"error\":...}")
			if tt.allow != "" {
				assert.Equal(t, tt.allow, r.header.Get("Allow"))
			}
		})
	}
	for _, id := range []string{"u", "decoy", "\ufffd", "\ufffdA"} {
		assert.False(t, h.ext.Forgotten(id), id)
	}
	assert.JSONEq(t, `{"count":0}`, get(t, h.url+basePath).raw)
	assert.Nil(t, h.ext.forgotten.Load(), "rejected requests leave the set empty")
}

// Escapes that are valid JSON text are accepted and forget the id they
// decode to, as the analytics receiver decodes it.
func TestEscapedUserIDs(t *testing.T) {
	h := start(t, setup{})
	for body, id := range map[string]string{
		`{"userId":"\ud83d\ude00"}`:      "\U0001F600", // a surrogate pair
		`{"userId":"\\ud800"}`:           `\ud800`,     // an escaped backslash, then text
		`{"userId":"\u0075-1"}`:          "u-1",
		`{ "userId" : "caf\u00e9" }`:     "café",
		`{"userId":"\ufffd"}`:            "\ufffd", // the replacement character itself
		"{\"userId\":\"\xef\xbf\xbd!\"}": "\ufffd!",
	} {
		r := request(t, http.MethodPost, h.url+basePath, "application/json", []byte(body))
		require.Equal(t, http.StatusAccepted, r.status, "%s: %s", body, r.raw)
		assert.True(t, h.ext.Forgotten(id), body)
	}
}

func TestBearerTokenAuth(t *testing.T) {
	authID := component.MustNewID("bearertokenauth")
	f := bearertokenauthextension.NewFactory()
	acfg := f.CreateDefaultConfig().(*bearertokenauthextension.Config)
	acfg.BearerToken = "s3cret"
	auth, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), acfg)
	require.NoError(t, err)
	require.NoError(t, auth.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { _ = auth.Shutdown(context.Background()) })

	h := start(t, setup{host: newHost(map[component.ID]component.Component{authID: auth}), cfg: func(c *Config) {
		c.Auth = configoptional.Some(confighttp.AuthConfig{Config: configauth.Config{AuthenticatorID: authID}})
	}})
	assert.Equal(t, []component.ID{authID}, h.ext.Dependencies(), "the auth extension starts first")
	r := forgetUser(t, h.url, "u-1")
	assert.Equal(t, http.StatusUnauthorized, r.status, r.raw)
	assert.NotEmpty(t, r.str(t, "error"))
	r = forgetUser(t, h.url, "u-1", "Authorization", "Bearer wrong")
	assert.Equal(t, http.StatusUnauthorized, r.status, r.raw)
	assert.Equal(t, http.StatusUnauthorized, get(t, h.url+basePath).status)
	assert.False(t, h.ext.Forgotten("u-1"))

	r = forgetUser(t, h.url, "u-1", "Authorization", "Bearer s3cret")
	assert.Equal(t, http.StatusAccepted, r.status, r.raw)
	assert.True(t, h.ext.Forgotten("u-1"))
}

func TestStorageFailureChangesNothing(t *testing.T) {
	storeID := component.MustNewIDWithName("mem_storage", "forget")
	mem := newMemStorage()
	h := start(t, setup{
		host: newHost(map[component.ID]component.Component{storeID: mem}),
		cfg:  func(c *Config) { c.Storage = &storeID },
	})
	assert.Equal(t, int32(1), mem.clients.Load())

	mem.fail.Store(true)
	r := forgetUser(t, h.url, "u-1")
	require.Equal(t, http.StatusServiceUnavailable, r.status, r.raw)
	assert.Equal(t, "5", r.header.Get("Retry-After"))
	assert.Contains(t, r.str(t, "error"), "was not recorded")
	assert.False(t, h.ext.Forgotten("u-1"))
	assert.JSONEq(t, `{"count":0}`, get(t, h.url+basePath).raw)
	assert.Empty(t, mem.snapshot())
	assert.Equal(t, 1, h.logs.FilterLevelExact(zapcore.ErrorLevel).Len())

	mem.fail.Store(false)
	require.Equal(t, http.StatusAccepted, forgetUser(t, h.url, "u-1").status)
	assert.True(t, h.ext.Forgotten("u-1"))

	// A failure when appending to an existing chunk changes nothing either.
	mem.fail.Store(true)
	before := mem.snapshot()
	require.Equal(t, http.StatusServiceUnavailable, forgetUser(t, h.url, "u-2").status)
	assert.False(t, h.ext.Forgotten("u-2"))
	assert.Equal(t, before, mem.snapshot())
	mem.fail.Store(false)
	require.Equal(t, http.StatusAccepted, forgetUser(t, h.url, "u-2").status)
	assert.JSONEq(t, `{"count":2}`, get(t, h.url+basePath).raw)

	require.NoError(t, h.ext.Shutdown(context.Background()))
	assert.Zero(t, mem.clients.Load(), "Shutdown closes the storage client")
	// After Shutdown nothing is acknowledged without being stored.
	_, _, err := h.ext.forget(context.Background(), "u-3", time.Now())
	require.Error(t, err)
	assert.True(t, h.ext.Forgotten("u-1"), "the set stays readable after Shutdown")
}

func TestStartErrors(t *testing.T) {
	storeID := component.MustNewID("file_storage")
	notStorage := component.MustNewID("bearertokenauth")
	tests := []struct {
		name string
		id   component.ID
		ext  map[component.ID]component.Component
		want string
	}{
		{name: "missing", id: storeID, want: `storage: extension "file_storage" not found; add it to service.extensions`},
		{
			name: "not a storage",
			id:   notStorage,
			ext:  map[component.ID]component.Component{notStorage: struct{ component.Component }{}},
			want: `storage: extension "bearertokenauth" is not a storage extension`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.Storage = &tt.id
			ext, _ := newForget(t, cfg)
			assert.Equal(t, []component.ID{tt.id}, ext.Dependencies())
			err := ext.Start(context.Background(), newHost(tt.ext))
			require.EqualError(t, err, tt.want)
			require.NoError(t, ext.Shutdown(context.Background()))
		})
	}

	t.Run("port in use", func(t *testing.T) {
		h := start(t, setup{})
		cfg := testConfig(t)
		cfg.NetAddr.Endpoint = strings.TrimPrefix(h.url, "http://")
		ext, _ := newForget(t, cfg)
		err := ext.Start(context.Background(), componenttest.NewNopHost())
		require.ErrorContains(t, err, "forget extension: listen on")
		require.NoError(t, ext.Shutdown(context.Background()))
	})
}

func TestNoStorageNoDependencies(t *testing.T) {
	ext, _ := newForget(t, testConfig(t))
	assert.Empty(t, ext.Dependencies())
	// Shutdown without Start is fine.
	require.NoError(t, ext.Shutdown(context.Background()))
}
