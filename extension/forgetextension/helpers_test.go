package forgetextension

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/pulse-otel/pulse/extension/forgetextension/internal/metadata"
	"github.com/pulse-otel/pulse/internal/testutil"
)

const testKey = "test-key-0123456789abcdef0123456789"

func newHost(ext map[component.ID]component.Component) component.Host { return testutil.Host(ext) }

func freeEndpoint(t *testing.T) string {
	t.Helper()
	return testutil.FreeAddr(t)
}

type setup struct {
	cfg  func(*Config)
	host component.Host
}

type harness struct {
	ext  *forgetExtension
	url  string
	logs *observer.ObservedLogs
}

// newForget creates the extension through the factory, with an observed logger.
func newForget(t *testing.T, cfg *Config) (*forgetExtension, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zap.DebugLevel)
	set := extensiontest.NewNopSettings(metadata.Type)
	set.Logger = zap.New(core)
	set.ID = component.NewID(metadata.Type) // the storage client is named after it
	require.NoError(t, cfg.Validate())
	ext, err := NewFactory().Create(context.Background(), set, cfg)
	require.NoError(t, err)
	return ext.(*forgetExtension), logs
}

func testConfig(t *testing.T) *Config {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.NetAddr.Endpoint = freeEndpoint(t)
	cfg.Key = configopaque.String(testKey)
	return cfg
}

// start runs the extension on a loopback port until the test ends.
func start(t *testing.T, s setup) *harness {
	t.Helper()
	cfg := testConfig(t)
	if s.cfg != nil {
		s.cfg(cfg)
	}
	ext, logs := newForget(t, cfg)
	host := s.host
	if host == nil {
		host = componenttest.NewNopHost()
	}
	require.NoError(t, ext.Start(context.Background(), host))
	t.Cleanup(func() { require.NoError(t, ext.Shutdown(context.Background())) })
	return &harness{ext: ext, url: "http://" + cfg.NetAddr.Endpoint, logs: logs}
}

// newFileStorage starts a real file_storage extension on dir.
func newFileStorage(t *testing.T, dir string) extension.Extension {
	t.Helper()
	f := filestorage.NewFactory()
	cfg := f.CreateDefaultConfig().(*filestorage.Config)
	cfg.Directory = dir
	cfg.Compaction.Directory = dir
	ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { _ = ext.Shutdown(context.Background()) })
	return ext
}

type reply struct {
	status int
	header http.Header
	raw    string
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	require.Equal(t, "application/json", r.header.Get("Content-Type"), r.raw)
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.raw), &m), r.raw)
	return m
}

func (r reply) str(t *testing.T, field string) string {
	t.Helper()
	v, ok := r.json(t)[field].(string)
	require.True(t, ok, "no string %q in %s", field, r.raw)
	return v
}

func request(t *testing.T, method, url, contentType string, body []byte) reply {
	t.Helper()
	r, err := tryRequest(method, url, contentType, body)
	require.NoError(t, err)
	return r
}

// tryRequest is request for goroutines other than the test's: it returns
// the error instead of failing the test.
func tryRequest(method, url, contentType string, body []byte, headers ...string) (reply, error) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return reply{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer func() { _ = resp.Body.Close() }() // read to the end below; a close error says nothing more
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	return reply{status: resp.StatusCode, header: resp.Header, raw: string(raw)}, nil
}

func forgetUser(t *testing.T, url, userID string, headers ...string) reply {
	t.Helper()
	r, err := tryForgetUser(url, userID, headers...)
	require.NoError(t, err)
	return r
}

// tryForgetUser is forgetUser for goroutines other than the test's.
func tryForgetUser(url, userID string, headers ...string) (reply, error) {
	body, err := json.Marshal(map[string]string{"userId": userID})
	if err != nil {
		return reply{}, err
	}
	return tryRequest(http.MethodPost, url+basePath, "application/json", body, headers...)
}

func get(t *testing.T, url string) reply {
	t.Helper()
	return request(t, http.MethodGet, url, "", nil)
}

// memStorage is an in-memory storage extension whose writes can be made to fail.
type memStorage struct {
	component.StartFunc
	component.ShutdownFunc

	mu      sync.Mutex
	data    map[string][]byte
	fail    atomic.Bool
	clients atomic.Int32 // open clients
}

var errInjected = errors.New("injected storage failure")

func newMemStorage() *memStorage { return &memStorage{data: map[string][]byte{}} }

func (m *memStorage) GetClient(context.Context, component.Kind, component.ID, string) (storage.Client, error) {
	m.clients.Add(1)
	return &memClient{m: m}, nil
}

func (m *memStorage) snapshot() map[string][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.data)
}

type memClient struct {
	m      *memStorage
	closed bool
}

func (c *memClient) Get(ctx context.Context, key string) ([]byte, error) {
	op := storage.GetOperation(key)
	err := c.Batch(ctx, op)
	return op.Value, err
}

func (c *memClient) Set(ctx context.Context, key string, value []byte) error {
	return c.Batch(ctx, storage.SetOperation(key, value))
}

func (c *memClient) Delete(ctx context.Context, key string) error {
	return c.Batch(ctx, storage.DeleteOperation(key))
}

func (c *memClient) Batch(_ context.Context, ops ...*storage.Operation) error {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	if c.closed {
		return errors.New("client closed")
	}
	for _, op := range ops {
		if op.Type != storage.Get && c.m.fail.Load() {
			return errInjected
		}
	}
	for _, op := range ops {
		switch op.Type {
		case storage.Get:
			op.Value = bytes.Clone(c.m.data[op.Key])
		case storage.Set:
			c.m.data[op.Key] = bytes.Clone(op.Value)
		case storage.Delete:
			delete(c.m.data, op.Key)
		}
	}
	return nil
}

func (c *memClient) Close(context.Context) error {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	if !c.closed {
		c.closed = true
		c.m.clients.Add(-1)
	}
	return nil
}

func extensionSettings() extension.Settings { return extensiontest.NewNopSettings(metadata.Type) }
