package analyticsmetricsconnector

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/pulse-otel/pulse/connector/analyticsmetricsconnector/internal/metadata"
	"github.com/pulse-otel/pulse/internal/testutil"
)

// stuckStore is a next consumer that never accepts: like an exporter
// retrying against a store that is down, it returns only when its context
// ends.
type stuckStore struct{ calls atomic.Int64 }

func (s *stuckStore) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (s *stuckStore) ConsumeMetrics(ctx context.Context, _ pmetric.Metrics) error {
	s.calls.Add(1)
	<-ctx.Done()
	return ctx.Err()
}

// Shutdown returns within its context's deadline (or shutdownFlushTimeout)
// even when the next consumer blocks in the loop's flush and in the final
// one, saves the state before it tries the final flush, and logs that the
// final export did not happen.
func TestShutdownIsBoundedWhenTheNextConsumerBlocks(t *testing.T) {
	storageID := component.MustNewID("file_storage")
	startStorage := func(dir string) component.Component {
		f := filestorage.NewFactory()
		cfg := f.CreateDefaultConfig().(*filestorage.Config)
		cfg.Directory = dir
		ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), cfg)
		require.NoError(t, err)
		require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
		return ext
	}

	for _, tc := range []struct {
		name     string
		ctx      func() (context.Context, context.CancelFunc)
		max, lim time.Duration
	}{
		{"shutdown context with a deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 300*time.Millisecond)
		}, time.Hour, 5 * time.Second},
		{"shutdown context without a deadline", func() (context.Context, context.CancelFunc) {
			return context.WithCancel(context.Background())
		}, 300 * time.Millisecond, 5 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			saved := shutdownFlushTimeout
			shutdownFlushTimeout = tc.max
			defer func() { shutdownFlushTimeout = saved }()

			dir := t.TempDir()
			ext := startStorage(dir)
			store := &stuckStore{}
			cfg := createDefaultConfig().(*Config)
			cfg.FlushInterval = 20 * time.Millisecond
			cfg.WaitForExport = false
			cfg.Storage = &storageID
			core, logs := observer.New(zap.WarnLevel)
			set := connectortest.NewNopSettings(metadata.Type)
			set.ID = component.NewID(metadata.Type)
			set.Logger = zap.New(core)
			c, err := newConnector(set, cfg, store)
			require.NoError(t, err)
			require.NoError(t, c.Start(context.Background(), testutil.Host(map[component.ID]component.Component{storageID: ext})))
			require.NoError(t, c.ConsumeLogs(context.Background(), logsOf(ev{eventType: "user_action", category: "c", action: "a", platform: "web", user: "u1"})))
			require.Eventually(t, func() bool { return store.calls.Load() > 0 }, 5*time.Second, 5*time.Millisecond,
				"the flush loop is blocked in an export")

			ctx, cancel := tc.ctx()
			defer cancel()
			returned := make(chan error, 1)
			start := time.Now()
			go func() { returned <- c.Shutdown(ctx) }()
			var shutdownErr error
			select {
			case shutdownErr = <-returned:
			case <-time.After(tc.lim):
				t.Fatalf("Shutdown still running %s after it was called, with the next consumer blocked", tc.lim)
			}
			t.Logf("Shutdown returned after %s (%v)", time.Since(start).Round(time.Millisecond), shutdownErr)
			assert.NotZero(t, logs.FilterMessageSnippet("not exported").Len(), "the lost final export is logged: %v", logs.All())
			require.NoError(t, ext.Shutdown(context.Background()))

			// The state was saved: u1 is not new to the next process.
			ext = startStorage(dir)
			defer func() { require.NoError(t, ext.Shutdown(context.Background())) }()
			c2, sink := newTestConnector(t, func(cfg *Config) { cfg.Storage = &storageID })
			require.NoError(t, c2.Start(context.Background(), testutil.Host(map[component.ID]component.Component{storageID: ext})))
			require.NoError(t, c2.ConsumeLogs(context.Background(), logsOf(ev{eventType: "user_action", category: "c", action: "a", platform: "web", user: "u1"})))
			require.NoError(t, c2.Shutdown(context.Background()))
			n, _ := sumPoints(t, sink, "pulse.users.new")
			assert.Zero(t, n, "u1 was saved by the first process's Shutdown")
		})
	}
}
