package promstoreexporter // import "github.com/pulse-otel/pulse/exporter/promstoreexporter"

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// retentionTelemetry is the retention enforcement on the collector's
// telemetry: when it ran, when it runs next, what it deleted.
type retentionTelemetry struct {
	last, next    metric.Float64ObservableGauge
	series        metric.Int64Counter
	samples       metric.Int64Counter
	executions    metric.Int64Counter
	finishedAttrs metric.AddOption
	failedAttrs   metric.AddOption
	timesCallback metric.Registration
}

// newRetentionTelemetry creates the instruments with the exporter, so that
// they are known before it starts (and without retention.policies); watch
// starts reading an enforcer's times into the gauges.
func newRetentionTelemetry(meter metric.Meter) (*retentionTelemetry, error) {
	t := &retentionTelemetry{
		finishedAttrs: metric.WithAttributeSet(attribute.NewSet(attribute.String("result", "finished"))),
		failedAttrs:   metric.WithAttributeSet(attribute.NewSet(attribute.String("result", "failed"))),
	}
	var err error
	if t.last, err = meter.Float64ObservableGauge("otelcol_exporter_promstore_retention_last_executed",
		metric.WithDescription("When the last retention execution finished (seconds since 1970; 0 before the first)."), metric.WithUnit("s")); err != nil {
		return nil, err
	}
	if t.next, err = meter.Float64ObservableGauge("otelcol_exporter_promstore_retention_next_execution",
		metric.WithDescription("When the next retention execution is due (seconds since 1970)."), metric.WithUnit("s")); err != nil {
		return nil, err
	}
	if t.series, err = meter.Int64Counter("otelcol_exporter_promstore_retention_deleted_series",
		metric.WithDescription("Series that lost samples to a retention execution, by policy, data_type and resolution (raw, 5m, 1h)."), metric.WithUnit("{series}")); err != nil {
		return nil, err
	}
	if t.samples, err = meter.Int64Counter("otelcol_exporter_promstore_retention_deleted_samples",
		metric.WithDescription("Samples deleted by retention executions, by policy, data_type and resolution."), metric.WithUnit("{sample}")); err != nil {
		return nil, err
	}
	if t.executions, err = meter.Int64Counter("otelcol_exporter_promstore_retention_executions",
		metric.WithDescription("Retention executions by result (finished, failed: retried at the next interval, or resumed at the next start)."), metric.WithUnit("{execution}")); err != nil {
		return nil, err
	}
	return t, nil
}

// watch reads times into the last and next execution gauges until stop.
func (t *retentionTelemetry) watch(meter metric.Meter, times func() (last, next float64)) error {
	var err error
	t.timesCallback, err = meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		last, next := times()
		o.ObserveFloat64(t.last, last)
		o.ObserveFloat64(t.next, next)
		return nil
	}, t.last, t.next)
	return err
}

func (t *retentionTelemetry) deleted(ctx context.Context, policy, dataType, resolution string, d deleted) {
	if t == nil {
		return
	}
	attrs := metric.WithAttributeSet(attribute.NewSet(
		attribute.String("policy", policy), attribute.String("data_type", dataType), attribute.String("resolution", resolution)))
	t.series.Add(ctx, d.series, attrs)
	t.samples.Add(ctx, d.samples, attrs)
}

func (t *retentionTelemetry) executed(ctx context.Context, finished bool) {
	if t == nil {
		return
	}
	if finished {
		t.executions.Add(ctx, 1, t.finishedAttrs)
		return
	}
	t.executions.Add(ctx, 1, t.failedAttrs)
}

// stop stops reading the enforcer's times.
func (t *retentionTelemetry) stop() {
	if t == nil || t.timesCallback == nil {
		return
	}
	_ = t.timesCallback.Unregister()
	t.timesCallback = nil
}
