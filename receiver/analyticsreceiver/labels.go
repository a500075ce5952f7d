package analyticsreceiver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/pulse-otel/pulse/receiver/analyticsreceiver/internal/decoder"
)

// labelSaveInterval is the most often the admitted snapshot labels are
// saved: a crash loses at most the values admitted in this time.
const labelSaveInterval = time.Second

// labelKeyPrefix prefixes the storage key of each endpoint's label state.
const labelKeyPrefix = "snapshot_labels/"

// labelState is the receiver's side of the snapshot label bounds (the
// bounds themselves are in the decoder): their telemetry and their saved
// copy.
type labelState struct {
	overflow metric.Int64Counter

	client  storage.Client // nil without snapshot_labels.storage
	saveNow chan struct{}
	stop    chan struct{}
	done    chan struct{}
	saved   atomic.Uint64 // decoder.LabelVersion of the last save
	saveMu  sync.Mutex
}

func (r *analyticsReceiver) initLabels(meter metric.Meter) error {
	var err error
	r.labels.overflow, err = meter.Int64Counter("otelcol_receiver_analytics_label_overflow",
		metric.WithDescription("Snapshot label values replaced by _other, by endpoint and label; label max_label_sets when the cap on label combinations replaced every label of a series."),
		metric.WithUnit("{value}"))
	return err
}

// startLabels restores the saved label state and starts saving it.
func (r *analyticsReceiver) startLabels(ctx context.Context, host component.Host) error {
	id := r.cfg.SnapshotLabels.Storage
	if id == nil {
		return nil
	}
	ext, ok := host.GetExtensions()[*id]
	if !ok {
		return fmt.Errorf("snapshot_labels::storage: extension %q is not configured in service.extensions", id)
	}
	se, ok := ext.(storage.Extension)
	if !ok {
		return fmt.Errorf("snapshot_labels::storage: extension %q is not a storage extension", id)
	}
	client, err := se.GetClient(ctx, component.KindReceiver, r.set.ID, "")
	if err != nil {
		return fmt.Errorf("snapshot_labels::storage: %w", err)
	}
	saved := map[string][]byte{}
	for _, k := range []decoder.Kind{decoder.ModelMetrics, decoder.BusinessMetrics, decoder.SystemMetrics} {
		b, err := client.Get(ctx, labelKeyPrefix+k.String())
		if err != nil {
			_ = client.Close(ctx)
			return fmt.Errorf("snapshot_labels::storage: reading the saved labels: %w", err)
		}
		if b != nil {
			saved[k.String()] = b
		}
	}
	if err := r.dec.UnmarshalLabels(saved); err != nil {
		// The state is a bound, not data: start that endpoint afresh.
		r.set.Logger.Warn("Saved snapshot labels not restored; those endpoints admit new values again", zap.Error(err))
	}
	r.labels.client = client
	r.labels.saved.Store(r.dec.LabelVersion())
	r.labels.saveNow = make(chan struct{}, 1)
	r.labels.stop, r.labels.done = make(chan struct{}), make(chan struct{})
	go r.saveLabelsLoop()
	return nil
}

func (r *analyticsReceiver) saveLabelsLoop() {
	defer close(r.labels.done)
	for {
		select {
		case <-r.labels.stop:
			return
		case <-r.labels.saveNow:
		}
		if err := r.saveLabels(context.Background()); err != nil {
			r.set.Logger.Warn("Saving the snapshot labels failed; a restart may admit new values again", zap.Error(err))
		}
		select {
		case <-r.labels.stop:
			return
		case <-time.After(labelSaveInterval):
		}
	}
}

// saveLabels writes the label state when it changed since the last save.
func (r *analyticsReceiver) saveLabels(ctx context.Context) error {
	r.labels.saveMu.Lock()
	defer r.labels.saveMu.Unlock()
	v := r.dec.LabelVersion()
	if v == r.labels.saved.Load() {
		return nil
	}
	state, err := r.dec.MarshalLabels()
	if err != nil {
		return err
	}
	ops := make([]*storage.Operation, 0, len(state))
	for k, b := range state {
		ops = append(ops, storage.SetOperation(labelKeyPrefix+k, b))
	}
	if err := r.labels.client.Batch(ctx, ops...); err != nil {
		return err
	}
	r.labels.saved.Store(v)
	return nil
}

// stopLabels saves the label state a last time and closes the storage.
func (r *analyticsReceiver) stopLabels(ctx context.Context) error {
	if r.labels.client == nil {
		return nil
	}
	close(r.labels.stop)
	<-r.labels.done
	err := r.saveLabels(ctx)
	return errors.Join(err, r.labels.client.Close(ctx))
}

// noteLabels counts a request's folds and asks for a save when it admitted
// new values.
func (r *analyticsReceiver) noteLabels(ctx context.Context, kind decoder.Kind, res *decoder.Result) {
	for _, f := range res.Folds {
		r.labels.overflow.Add(ctx, int64(f.Count), metric.WithAttributeSet(attribute.NewSet(
			attribute.String("endpoint", kind.String()),
			attribute.String("label", f.Label))))
	}
	if r.labels.client == nil || kind.IsLogs() || r.dec.LabelVersion() == r.labels.saved.Load() {
		return
	}
	select {
	case r.labels.saveNow <- struct{}{}:
	default: // a save is pending already
	}
}
