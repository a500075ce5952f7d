package analyticsreceiver

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/pulse-otel/pulse/receiver/analyticsreceiver/internal/decoder"
)

// countItems counts a request's valid and invalid items by data source:
// accepted by endpoint and platform, rejected by endpoint, reason, field
// and platform. Every label is bounded (codes, the schema's field paths,
// the platforms and "unknown"), so hostile input cannot add series.
func (r *analyticsReceiver) countItems(ctx context.Context, kind decoder.Kind, res *decoder.Result) {
	endpoint := attribute.String("endpoint", kind.String())
	for p, n := range res.AcceptedBy {
		if n > 0 {
			r.accepted.Add(ctx, int64(n), metric.WithAttributeSet(attribute.NewSet(
				endpoint, attribute.String("platform", decoder.PlatformName(p)))))
		}
	}
	for _, rej := range res.Rejected {
		r.rejected.Add(ctx, 1, metric.WithAttributeSet(attribute.NewSet(
			endpoint,
			attribute.String("reason", rej.Code().String()),
			attribute.String("field", rej.Field()),
			attribute.String("platform", rej.Platform()))))
	}
}
