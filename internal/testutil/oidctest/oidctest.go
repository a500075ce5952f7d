// Package oidctest is a fake OpenID Connect provider for tests of the
// oidc auth extension (contrib's oidcauth) in front of Pulse's listeners:
// a loopback HTTP server with the discovery document and the JWKS, and
// RS256 ID tokens signed with its key (go-jose, the library oidcauth's
// go-oidc verifies with). It also reads docs/live.md's oidcauth example, so
// that the documented configuration is the tested one.
package oidctest // import "github.com/pulse-otel/pulse/internal/testutil/oidctest"

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// DocsIssuer is the issuer_url of docs/live.md's oidcauth example.
const DocsIssuer = "https://login.example.com/realms/pulse"

// Issuer is a running fake provider.
type Issuer struct {
	// URL is the issuer URL (and the server's base URL).
	URL    string
	signer jose.Signer
}

// NewIssuer starts a provider on loopback, stopped when the test ends.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwks := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: string(jose.RS256), Use: "sig"}}}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                srv.URL,
			"jwks_uri":                              srv.URL + "/keys",
			"authorization_endpoint":                srv.URL + "/auth",
			"token_endpoint":                        srv.URL + "/token",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(jwks)
	})
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	return &Issuer{URL: srv.URL, signer: signer}
}

// Token is an ID token of the issuer for sub and aud, expiring at exp.
func (f *Issuer) Token(t testing.TB, sub, aud string, exp time.Time) string {
	t.Helper()
	claims, err := json.Marshal(map[string]any{
		"iss": f.URL, "sub": sub, "aud": aud,
		"iat": exp.Add(-time.Hour).Unix(), "exp": exp.Unix(),
	})
	if err != nil {
		t.Fatal(err)
	}
	jws, err := f.signer.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Claiming is an issuer that signs with f's key but claims iss: its
// tokens are forgeries a verifier of iss must refuse.
func (f *Issuer) Claiming(iss string) *Issuer { return &Issuer{URL: iss, signer: f.signer} }

// DocsExample is the first YAML block of the "Per-user dashboards with
// oidcauth" section of the live page's docs at path, with issuer as its
// issuer_url.
func DocsExample(t testing.TB, path, issuer string) string {
	t.Helper()
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "### Per-user dashboards with oidcauth")
	if !ok {
		t.Fatalf("%s has no oidcauth section", path)
	}
	_, block, ok := strings.Cut(section, "```yaml\n")
	if !ok {
		t.Fatalf("%s: the oidcauth section has no YAML example", path)
	}
	block, _, ok = strings.Cut(block, "```")
	if !ok || !strings.Contains(block, DocsIssuer) {
		t.Fatalf("%s: the oidcauth example is not closed or does not name %s", path, DocsIssuer)
	}
	return strings.ReplaceAll(block, DocsIssuer, issuer)
}
