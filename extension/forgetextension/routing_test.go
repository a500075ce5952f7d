package forgetextension

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Requests the router could treat differently from the endpoints'
// documented shapes (HEAD, unclean or escaped paths, "*") get the same JSON
// answers as their plain spellings would.
func TestRoutingEdges(t *testing.T) {
	e, _ := newForget(t, testConfig(t))
	h := e.handler()
	unknownID := strings.Repeat("ab", requestIDSize)
	for _, c := range []struct {
		method, target string
		status         int
		want, allow    string
	}{
		{"GET", basePath, 200, "", ""},
		{"GET", "/v1%2Fforget", 200, "", ""},
		{"HEAD", basePath, 405, "method not allowed on /v1/forget; use POST", "GET, POST"},
		{"HEAD", basePath + "/" + unknownID, 405, "method not allowed on /v1/forget/{requestId}; use GET", "GET"},
		{"OPTIONS", basePath + "/", 405, "method not allowed on /v1/forget/{requestId}; use GET", "GET"},
		{"GET", basePath + "/", 400, "requestId: must be 32 hexadecimal digits", ""},
		{"GET", basePath + "/..", 400, "requestId: must be 32 hexadecimal digits", ""},
		{"GET", basePath + "/a%2Fb", 404, "unknown path", ""},
		{"GET", "/v1//forget", 404, "unknown path", ""},
		{"GET", basePath + "/x/../" + unknownID, 404, "unknown path", ""},
		{"GET", basePath + "/" + unknownID + "/", 404, "unknown path", ""},
		{"GET", "/", 404, "unknown path", ""},
		{"OPTIONS", "*", 404, "unknown path", ""},
	} {
		req := httptest.NewRequest(c.method, c.target, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Equal(t, c.status, rec.Code, "%s %s: %s", c.method, c.target, rec.Body)
		assert.Equal(t, c.allow, rec.Header().Get("Allow"), "%s %s", c.method, c.target)
		var answer map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &answer), "%s %s: %s", c.method, c.target, rec.Body)
		if c.status == http.StatusOK {
			assert.Equal(t, map[string]any{"count": float64(0)}, answer)
			continue
		}
		assert.True(t, strings.HasPrefix(answer["error"].(string), c.want), "%s %s: %s", c.method, c.target, rec.Body)
	}
}
