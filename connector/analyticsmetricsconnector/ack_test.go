package analyticsmetricsconnector

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pulse-otel/pulse/connector/analyticsmetricsconnector/internal/metadata"
)

// flakyStore accepts exports only while up, and keeps what it accepted.
type flakyStore struct {
	up     atomic.Bool
	calls  atomic.Int64
	mu     sync.Mutex
	events int64 // latest pulse.events total it accepted
}

func (s *flakyStore) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (s *flakyStore) ConsumeMetrics(_ context.Context, md pmetric.Metrics) error {
	s.calls.Add(1)
	if !s.up.Load() {
		return errors.New("store down")
	}
	sink := new(consumertest.MetricsSink)
	_ = sink.ConsumeMetrics(context.Background(), md)
	s.mu.Lock()
	defer s.mu.Unlock()
	if md.ResourceMetrics().Len() > 0 {
		ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
		for i := 0; i < ms.Len(); i++ {
			if ms.At(i).Name() == "pulse.events" {
				var n int64
				dps := ms.At(i).Sum().DataPoints()
				for j := 0; j < dps.Len(); j++ {
					n += int64(dps.At(j).DoubleValue()) + dps.At(j).IntValue()
				}
				s.events = n
			}
		}
	}
	return nil
}

func (s *flakyStore) accepted() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.events
}

func startAckConnector(t *testing.T, store consumer.Metrics) *analyticsConnector {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.FlushInterval = 20 * time.Millisecond
	require.True(t, cfg.WaitForExport, "waiting for the export is the default")
	set := connectortest.NewNopSettings(metadata.Type)
	set.ID = component.NewID(metadata.Type)
	c, err := newConnector(set, cfg, store)
	require.NoError(t, err)
	require.NoError(t, c.Start(context.Background(), componenttest.NewNopHost()))
	return c
}

func oneEvent() ev {
	return ev{eventType: "user_action", category: "c", action: "a", platform: "web", user: "u1", session: "s1"}
}

// ConsumeLogs returns only after an export that carries its events was
// accepted: while the store refuses, the request waits.
func TestConsumeLogsWaitsForTheExport(t *testing.T) {
	store := &flakyStore{}
	c := startAckConnector(t, store)
	defer func() { require.NoError(t, c.Shutdown(context.Background())) }()

	returned := make(chan error, 1)
	go func() { returned <- c.ConsumeLogs(context.Background(), logsOf(oneEvent(), oneEvent())) }()
	require.Eventually(t, func() bool { return store.calls.Load() >= 3 }, 5*time.Second, 5*time.Millisecond,
		"the flush loop keeps trying")
	select {
	case err := <-returned:
		t.Fatalf("ConsumeLogs returned (%v) while every export failed", err)
	default:
	}
	// While exports fail, new requests are refused at once, uncounted.
	err := c.ConsumeLogs(context.Background(), logsOf(oneEvent(), oneEvent(), oneEvent()))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nothing of this request was counted")
	assert.Contains(t, err.Error(), "store down")
	store.up.Store(true)
	select {
	case err := <-returned:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("ConsumeLogs did not return after the store came back")
	}
	assert.Equal(t, int64(2), store.accepted(), "acknowledged events are in the store when ConsumeLogs returns")
}

// A request whose context ends before any export succeeds fails, and its
// events are still exported once the store is back (at-least-once).
func TestConsumeLogsFailsWhenItsContextEnds(t *testing.T) {
	store := &flakyStore{}
	c := startAckConnector(t, store)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := c.ConsumeLogs(ctx, logsOf(oneEvent()))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "not yet exported")
	store.up.Store(true)
	// Refused until a flush succeeds again, then accepted.
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		assert.NoError(ct, c.ConsumeLogs(context.Background(), logsOf(oneEvent())))
	}, 5*time.Second, 10*time.Millisecond, "accepted again once a flush succeeds")
	assert.Equal(t, int64(2), store.accepted(), "the timed-out request's event and the accepted one")
	require.NoError(t, c.Shutdown(context.Background()))
}

// Shutdown exports what is pending and releases every waiter.
func TestShutdownReleasesWaiters(t *testing.T) {
	store := &flakyStore{}
	store.up.Store(true)
	cfg := createDefaultConfig().(*Config)
	cfg.FlushInterval = time.Hour // only Shutdown flushes
	set := connectortest.NewNopSettings(metadata.Type)
	c, err := newConnector(set, cfg, store)
	require.NoError(t, err)
	require.NoError(t, c.Start(context.Background(), componenttest.NewNopHost()))
	returned := make(chan error, 1)
	go func() { returned <- c.ConsumeLogs(context.Background(), logsOf(oneEvent())) }()
	// Shut down once the event is aggregated (the request then waits for
	// the export), not after a guessed delay.
	require.Eventually(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.agg.total > 0
	}, 5*time.Second, time.Millisecond, "the event was not aggregated")
	require.NoError(t, c.Shutdown(context.Background()))
	select {
	case err := <-returned:
		require.NoError(t, err, "the final flush exported the events")
	case <-time.After(5 * time.Second):
		t.Fatal("a waiter was left blocked by Shutdown")
	}
	assert.Equal(t, int64(1), store.accepted())
	// After shutdown nothing waits.
	require.NoError(t, c.ConsumeLogs(context.Background(), logsOf(oneEvent())))
}
