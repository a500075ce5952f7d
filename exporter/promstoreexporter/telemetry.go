package promstoreexporter // import "github.com/pulse-otel/pulse/exporter/promstoreexporter"

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/pulse-otel/pulse/exporter/promstoreexporter/internal/metadata"
)

// telemetry is the exporter's own metrics on the collector's telemetry.
type telemetry struct {
	refused     metric.Int64Counter
	reasonAttrs [numRefusals]metric.AddOption
}

func newTelemetry(set component.TelemetrySettings) (*telemetry, error) {
	meter := set.MeterProvider.Meter(metadata.ScopeName)
	t := &telemetry{}
	var err error
	if t.refused, err = meter.Int64Counter("otelcol_exporter_promstore_samples_refused",
		metric.WithDescription("Samples the TSDB refused, by reason (too_old, out_of_bounds, out_of_order, duplicate, invalid); the export fails with a permanent error."),
		metric.WithUnit("{sample}")); err != nil {
		return nil, err
	}
	for r := range numRefusals {
		t.reasonAttrs[r] = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", refusalNames[r])))
	}
	return t, nil
}

func (t *telemetry) recordRefused(ctx context.Context, res *appendResult) {
	for r, n := range res.refused {
		if n > 0 {
			t.refused.Add(ctx, n, t.reasonAttrs[r])
		}
	}
}
