package forgetextension

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest/observer"

	"github.com/pulse-otel/pulse/internal/plantedpii"
	"github.com/pulse-otel/pulse/internal/testutil/kafkatest"
)

// TestRawUserIDNeverLeaves plants an email-like user id in good and bad
// requests and looks for it in every log entry, every answer and every
// byte the storage wrote.
func TestRawUserIDNeverLeaves(t *testing.T) {
	const raw = "jane.doe+pulse@example.com"
	dir := t.TempDir()
	var answers []string
	keep := func(r reply) reply {
		answers = append(answers, r.raw, fmt.Sprint(r.header))
		return r
	}

	first := run(t, dir)
	url := first.url
	r := keep(forgetUser(t, url, raw))
	require.Equal(t, http.StatusAccepted, r.status, r.raw)
	keep(forgetUser(t, url, raw))
	keep(get(t, url+basePath+"/"+r.str(t, "requestId")))
	keep(get(t, url+basePath))
	// Bad requests that carry the id somewhere.
	for _, bad := range []struct{ method, path, contentType, body string }{
		{"POST", basePath, "text/plain", `{"userId":"` + raw + `"}`},
		{"POST", basePath, "application/json", `{"userId":"` + raw + `"`},
		{"POST", basePath, "application/json", `{"userId":"` + raw + `" x}`},
		{"POST", basePath, "application/json", `{"` + raw + `":"x"}`},
		{"POST", basePath, "application/json", `{"userId":"` + raw + `","email":"` + raw + `"}`},
		{"POST", basePath, "application/json", `{"userId":"` + raw + `"} "` + raw + `"`},
		{"POST", basePath, "application/json", `{"userId":"` + raw + strings.Repeat("x", 1024) + `"}`},
		{"POST", basePath, "application/json", `["` + raw + `"]`},
		{"POST", basePath, "application/json", "{\"userId\":\"" + raw + "\xff\"}"},
		{"POST", basePath + "/" + raw, "application/json", `{"userId":"` + raw + `"}`},
		{"GET", basePath + "/" + raw, "", ""},
		{"GET", "/v1/" + raw, "", ""},
		{raw[:4], basePath, "application/json", `{"userId":"` + raw + `"}`},
	} {
		rr := keep(request(t, bad.method, url+bad.path, bad.contentType, []byte(bad.body)))
		assert.GreaterOrEqual(t, rr.status, 400, rr.raw)
	}
	logs := []*observer.ObservedLogs{first.h.logs}
	first.stop(t)

	second := run(t, dir)
	assert.True(t, second.h.ext.Forgotten(raw))
	keep(forgetUser(t, second.url, raw))
	logs = append(logs, second.h.logs)
	second.stop(t)

	sub := second.h.ext.hasher.subject(raw)
	prefix := fmt.Sprintf("%x", sub[:8])
	sawPrefix := false
	for _, l := range logs {
		for _, e := range l.All() {
			text := e.Message + " " + fmt.Sprint(e.ContextMap())
			assert.NotContains(t, text, raw, "log entry %q", e.Message)
			assert.NotContains(t, text, "jane.doe", "log entry %q", e.Message)
			sawPrefix = sawPrefix || strings.Contains(text, prefix)
		}
	}
	assert.True(t, sawPrefix, "the audit log names the subject prefix")
	for _, a := range answers {
		assert.NotContains(t, a, raw)
		assert.NotContains(t, a, "jane.doe")
	}

	files := 0
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		files++
		assert.NotContains(t, string(b), raw, path)
		assert.NotContains(t, string(b), "jane.doe", path)
		assert.Contains(t, string(b), string(sub[:]), "the store holds the subject (sanity check of this test)")
		return nil
	}))
	assert.Positive(t, files)
}

// TestSyncTopicHoldsNoRawID plants personal data as user ids, forgets them
// at one gateway, and looks for them in every byte of the sync topic (keys,
// values, headers) and in both gateways' logs.
func TestSyncTopicHoldsNoRawID(t *testing.T) {
	broker := kafkatest.Start(t, 1)
	a := gateway(t, broker.Addr, nil)
	b := gateway(t, broker.Addr, nil)
	var users []string
	for _, k := range slices.Sorted(maps.Keys(plantedpii.Values)) {
		users = append(users, plantedpii.Values[k])
	}
	for _, u := range users {
		r := forgetUser(t, a.url, u)
		require.Equal(t, http.StatusAccepted, r.status, r.raw)
		assert.Empty(t, plantedpii.Leaks(r.raw))
	}
	for _, u := range users {
		waitForgotten(t, b, u, time.Now())
	}

	recs := readTopic(t, broker.Addr)
	require.Len(t, recs, len(users))
	var raw bytes.Buffer
	for _, kr := range recs {
		raw.Write(kr.Key)
		raw.Write(kr.Value)
		for _, h := range kr.Headers {
			raw.WriteString(h.Key)
			raw.Write(h.Value)
		}
	}
	h := newHasher([]byte(testKey))
	assert.Contains(t, raw.String(), hex.EncodeToString(sub(h, users[0])), "the topic holds the subjects (sanity check of this test)")
	assert.Empty(t, plantedpii.Leaks(raw.String()), "personal data in the topic")
	for _, u := range users {
		assert.NotContains(t, raw.String(), u)
	}
	for name, logs := range map[string]*observer.ObservedLogs{"A": a.logs, "B": b.logs} {
		require.Positive(t, logs.Len())
		for _, e := range logs.All() {
			text := e.Message + " " + fmt.Sprint(e.ContextMap())
			assert.Empty(t, plantedpii.Leaks(text), "gateway %s log entry %q", name, e.Message)
		}
	}
}

func sub(h *hasher, userID string) []byte {
	s := h.subject(userID)
	return s[:]
}
