package grafanasync

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulse-otel/pulse/internal/dashboards"
	"github.com/pulse-otel/pulse/internal/grafanasync/grafanatest"
)

func TestGrafanaErrors(t *testing.T) {
	defs := builtins(t)
	changed := append([]dashboards.Dashboard(nil), defs...)
	changed[1].Description = "changed"
	for _, tc := range []struct {
		name   string
		setup  func(g *grafanatest.Server)
		token  string
		want   []string
		synced bool // sync once before the failing run
		input  []dashboards.Dashboard
	}{
		{
			name: "401 wrong token", token: "glsa_wrong_TOKEN_987",
			want: []string{"GET /api/folders?limit=1000&page=1: HTTP 401: Unauthorized; Grafana did not accept the token"},
		},
		{
			name: "403 folder create",
			setup: func(g *grafanatest.Server) {
				g.Fail(http.MethodPost, "/api/folders", 403, `{"message":"Access denied"}`)
			},
			want: []string{"creating folder Pulse: POST /api/folders: HTTP 403: Access denied; the token may not do this"},
		},
		{
			name: "412 version-mismatch", synced: true, input: changed,
			setup: func(g *grafanatest.Server) {
				g.Fail(http.MethodPost, "/api/dashboards/db", 412, `{"status":"version-mismatch","message":"The dashboard has been changed by someone else"}`)
			},
			want: []string{"dashboard pulse-executive: someone saved it in Grafana while sync ran (version-mismatch); run sync again", "HTTP 412 (version-mismatch)"},
		},
		{
			name: "412 version-mismatch from a concurrent save", synced: true, input: changed,
			setup: func(g *grafanatest.Server) { g.SavedMeanwhile = "pulse-executive" },
			want:  []string{"dashboard pulse-executive: someone saved it in Grafana while sync ran (version-mismatch); run sync again"},
		},
		{
			name: "412 name-exists",
			setup: func(g *grafanatest.Server) {
				g.AddFolder("pulse", "Pulse")
				g.PutDashboard("pulse", map[string]any{"uid": "other", "title": "Pulse / Executive"}, false)
			},
			want: []string{`dashboard pulse-executive: folder Pulse already holds another dashboard titled "Pulse / Executive" (name-exists)`},
		},
		{
			name: "422",
			setup: func(g *grafanatest.Server) {
				g.Fail(http.MethodPost, "/api/dashboards/db", 422, `{"message":"Unprocessable entity"}`)
			},
			want: []string{"dashboard pulse-ai-monitoring: saving: POST /api/dashboards/db: HTTP 422: Unprocessable entity; Grafana could not process the request"},
		},
		{
			name:  "503",
			setup: func(g *grafanatest.Server) { g.Fail(http.MethodGet, "/api/folders", 503, "upstream down") },
			want:  []string{"HTTP 503: upstream down; Grafana failed: retry later"},
		},
		{
			name: "500 echoing the token",
			setup: func(g *grafanatest.Server) {
				g.Fail(http.MethodGet, "/api/search", 500, `{"message":"bad header Authorization: Bearer `+token+`"}`)
			},
			synced: true,
			want:   []string{"listing folder Pulse: GET /api/search?", "HTTP 500: bad header Authorization: Bearer [token]"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := grafanatest.New(t, token)
			o := opts(g, nil)
			if tc.synced {
				_, err := Sync(context.Background(), o, compiled(t, defs))
				require.NoError(t, err)
			}
			if tc.setup != nil {
				tc.setup(g)
			}
			if tc.token != "" {
				o.Token = tc.token
			}
			input := tc.input
			if input == nil {
				input = defs
			}
			_, err := Sync(context.Background(), o, compiled(t, input))
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), o.Token)
			assert.NotContains(t, err.Error(), token)
		})
	}
}

func TestOversizedAnswerIsAnError(t *testing.T) {
	big := strings.Repeat("x", MaxResponseBytes+10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(big)) }))
	defer srv.Close()
	_, err := Sync(context.Background(), Options{URL: srv.URL, Token: token}, nil)
	require.ErrorContains(t, err, "answer larger than 16777216 bytes")
}

func TestRequestsAreBoundedInTime(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer srv.Close()
	start := time.Now()
	_, err := Sync(context.Background(), Options{URL: srv.URL, Token: token, Client: &http.Client{Timeout: 100 * time.Millisecond}}, nil)
	require.ErrorContains(t, err, "GET /api/folders?limit=1000&page=1: ")
	assert.Less(t, time.Since(start), 4*time.Second)
}

func TestURLCredentialsStayOutOfErrors(t *testing.T) {
	_, err := Sync(context.Background(), Options{URL: "ftp://user:hunter2@grafana", Token: token}, nil)
	require.ErrorContains(t, err, "grafana URL must be http(s)")
	assert.NotContains(t, err.Error(), "hunter2")

	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.Listener.Addr().String()
	srv.Close() // nothing listens there now
	_, err = Sync(context.Background(), Options{URL: "http://user:hunter2@" + addr, Token: token}, nil)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2")
	assert.NotContains(t, err.Error(), token)

	_, err = Sync(context.Background(), Options{URL: "http://grafana"}, nil)
	require.EqualError(t, err, "no Grafana token given")
}
