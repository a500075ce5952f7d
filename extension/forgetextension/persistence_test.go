package forgetextension

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configopaque"
)

var fileStorageID = component.MustNewIDWithName("file_storage", "forget")

// collector is one run of a file_storage and a forget extension on dir.
type collector struct {
	fs  component.Component
	h   *harness
	url string
}

// run starts the extension with a file_storage in dir.
func run(t *testing.T, dir string) *collector {
	t.Helper()
	fs := newFileStorage(t, dir)
	h := start(t, setup{
		host: newHost(map[component.ID]component.Component{fileStorageID: fs}),
		cfg:  func(c *Config) { c.Storage = &fileStorageID },
	})
	return &collector{fs: fs, h: h, url: h.url}
}

func (c *collector) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, c.h.ext.Shutdown(context.Background()))
	require.NoError(t, c.fs.Shutdown(context.Background()))
}

func TestPersistenceAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	first := run(t, dir)
	r := forgetUser(t, first.url, "u-1")
	require.Equal(t, http.StatusAccepted, r.status, r.raw)
	assert.True(t, first.h.ext.Forgotten("u-1"))
	first.stop(t)

	second := run(t, dir)
	assert.True(t, second.h.ext.Forgotten("u-1"), "the request survived the restart")
	assert.False(t, second.h.ext.Forgotten("u-2"))
	assert.JSONEq(t, `{"count":1}`, get(t, second.url+basePath).raw)
	rec := get(t, second.url+basePath+"/"+r.str(t, "requestId"))
	require.Equal(t, http.StatusOK, rec.status, rec.raw)
	assert.Equal(t, r.str(t, "receivedAt"), rec.str(t, "receivedAt"))

	again := forgetUser(t, second.url, "u-1")
	require.Equal(t, http.StatusOK, again.status, again.raw)
	assert.JSONEq(t, r.raw, again.raw)
	assert.Equal(t, 1, second.h.logs.FilterMessageSnippet("Loaded forget requests").Len())
	assert.Zero(t, second.h.logs.FilterMessageSnippet("No storage configured").Len())
}

// TestPersistenceChunks fills several chunks, restarts, and appends to the
// last one again.
func TestPersistenceChunks(t *testing.T) {
	saved := chunkRecords
	chunkRecords = 3
	t.Cleanup(func() { chunkRecords = saved })

	dir := t.TempDir()
	first := run(t, dir)
	ids := map[string]string{}
	for i := range 8 {
		user := fmt.Sprintf("user-%d", i)
		r := forgetUser(t, first.url, user)
		require.Equal(t, http.StatusAccepted, r.status, r.raw)
		ids[user] = r.str(t, "requestId")
	}
	wantRecords := first.h.ext.records
	first.stop(t)

	second := run(t, dir)
	ext := second.h.ext
	assert.Equal(t, wantRecords, ext.records, "records come back in order, with their ids and times")
	assert.Equal(t, 3, ext.store.meta.Chunks)
	assert.Len(t, ext.store.last, 2*recordSize)
	for user, id := range ids {
		assert.True(t, ext.Forgotten(user), user)
		assert.Equal(t, http.StatusOK, get(t, second.url+basePath+"/"+id).status)
	}
	for i := 8; i < 11; i++ {
		require.Equal(t, http.StatusAccepted, forgetUser(t, second.url, fmt.Sprintf("user-%d", i)).status)
	}
	assert.Equal(t, 4, ext.store.meta.Chunks)
	second.stop(t)

	third := run(t, dir)
	assert.JSONEq(t, `{"count":11}`, get(t, third.url+basePath).raw)
	for i := range 11 {
		assert.True(t, third.h.ext.Forgotten(fmt.Sprintf("user-%d", i)))
	}
}

func TestKeyChangeRefusesToStart(t *testing.T) {
	dir := t.TempDir()
	first := run(t, dir)
	require.Equal(t, http.StatusAccepted, forgetUser(t, first.url, "u-1").status)
	first.stop(t)

	const otherKey = "another-key-0123456789abcdef012345"
	fs := newFileStorage(t, dir)
	cfg := testConfig(t)
	cfg.Key = configopaque.String(otherKey)
	cfg.Storage = &fileStorageID
	ext, _ := newForget(t, cfg)
	err := ext.Start(context.Background(), newHost(map[component.ID]component.Component{fileStorageID: fs}))
	require.ErrorIs(t, err, errKeyMismatch)
	assert.NotContains(t, err.Error(), otherKey)
	assert.NotContains(t, err.Error(), testKey)
	require.NoError(t, ext.Shutdown(context.Background()))
}

func TestCorruptStorageRefusesToStart(t *testing.T) {
	storeID := component.MustNewID("mem_storage")
	meta := func(chunks int) []byte {
		b, err := json.Marshal(storedMeta{Format: storageFormat, RecordSize: recordSize, Chunks: chunks, KeyCheck: keyCheck([]byte(testKey))})
		require.NoError(t, err)
		return b
	}
	tests := []struct {
		name string
		data map[string][]byte
		want string
	}{
		{name: "meta not JSON", data: map[string][]byte{metaKey: []byte("{")}, want: `"forget.meta" is not valid JSON`},
		{name: "future format", data: map[string][]byte{metaKey: []byte(`{"format":2}`)}, want: `"forget.meta": format 2 is not supported`},
		{name: "missing chunk", data: map[string][]byte{metaKey: meta(2), chunkKey(0): make([]byte, recordSize)}, want: `"forget.chunk.000001" is missing`},
		{name: "short chunk", data: map[string][]byte{metaKey: meta(1), chunkKey(0): make([]byte, recordSize-1)}, want: `"forget.chunk.000000": length 55 is not a positive multiple of 56`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := newMemStorage()
			mem.data = tt.data
			cfg := testConfig(t)
			cfg.Storage = &storeID
			ext, _ := newForget(t, cfg)
			err := ext.Start(context.Background(), newHost(map[component.ID]component.Component{storeID: mem}))
			require.ErrorContains(t, err, tt.want)
			assert.Zero(t, mem.clients.Load(), "the client is closed when Start fails")
			require.NoError(t, ext.Shutdown(context.Background()))
		})
	}
}

func TestRecordEncoding(t *testing.T) {
	r := record{subject: subject{1, 2, 3}, id: requestID{9, 8, 7}, receivedAt: time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)}
	b := r.appendBinary(nil)
	require.Len(t, b, recordSize)
	assert.Equal(t, r, decodeRecord(b))
}

// TestAppendAll: many records in one write fill the last chunk, then new
// ones, and read back in order.
func TestAppendAll(t *testing.T) {
	saved := chunkRecords
	chunkRecords = 3
	t.Cleanup(func() { chunkRecords = saved })
	key := []byte(testKey)
	h := newHasher(key)
	recs := make([]record, 10)
	for i := range recs {
		recs[i] = record{subject: h.subject(fmt.Sprint("u-", i)), id: requestID{byte(i)}, receivedAt: time.Unix(int64(i), 0).UTC()}
	}
	ms := newMemStorage()
	client, err := ms.GetClient(context.Background(), component.KindExtension, component.MustNewID("forget"), "")
	require.NoError(t, err)
	st := &store{client: client}
	_, err = st.load(context.Background(), key)
	require.NoError(t, err)
	require.NoError(t, st.appendAll(context.Background(), recs[:2]))
	require.NoError(t, st.appendAll(context.Background(), recs[2:]))
	assert.Equal(t, 4, st.meta.Chunks)

	ms.fail.Store(true)
	require.Error(t, st.appendAll(context.Background(), recs[:1]))
	ms.fail.Store(false)

	again := &store{client: client}
	got, err := again.load(context.Background(), key)
	require.NoError(t, err)
	assert.Equal(t, recs, got)
	require.NoError(t, again.appendAll(context.Background(), recs[:2]))
	got, err = (&store{client: client}).load(context.Background(), key)
	require.NoError(t, err)
	assert.Len(t, got, 12, "the last chunk (1 record) took 2 more")
}
