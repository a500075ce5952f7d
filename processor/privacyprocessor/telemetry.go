package privacyprocessor

import (
	"context"
	"slices"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/pulse-otel/pulse/internal/pii"
	"github.com/pulse-otel/pulse/internal/schema"
	"github.com/pulse-otel/pulse/processor/privacyprocessor/internal/metadata"
)

// telemetry is the processor's own metrics: every decision, counted once
// per batch. Labels are reasons, PII types and consent levels, never values.
type telemetry struct {
	dropped   metric.Int64Counter
	masked    metric.Int64Counter
	decisions metric.Int64Counter
	removed   metric.Int64Counter

	reasonAttrs   [numDropReasons]metric.AddOption
	typeAttrs     [pii.Custom + 2]metric.AddOption
	decisionAttrs [unknownLevel + 1][3]metric.AddOption
}

var decisionNames = [3]string{"kept", "reduced", "dropped"}

func newTelemetry(set component.TelemetrySettings) (*telemetry, error) {
	meter := set.MeterProvider.Meter(metadata.ScopeName)
	t := &telemetry{}
	var err error
	if t.dropped, err = meter.Int64Counter("otelcol_processor_privacy_records_dropped",
		metric.WithDescription("Records dropped by the privacy processor, by reason."), metric.WithUnit("{record}")); err != nil {
		return nil, err
	}
	if t.masked, err = meter.Int64Counter("otelcol_processor_privacy_values_masked",
		metric.WithDescription("Values masked, hashed or removed because they held PII, by PII type (sensitive_key: the key named PII)."), metric.WithUnit("{value}")); err != nil {
		return nil, err
	}
	if t.decisions, err = meter.Int64Counter("otelcol_processor_privacy_consent_decisions",
		metric.WithDescription("Consent decisions on analytics records, by the record's consent level (unknown: missing or not a known level, treated as necessary) and decision."), metric.WithUnit("{record}")); err != nil {
		return nil, err
	}
	if t.removed, err = meter.Int64Counter("otelcol_processor_privacy_attributes_removed",
		metric.WithDescription("Attributes removed by consent, IP, or PII rules."), metric.WithUnit("{attribute}")); err != nil {
		return nil, err
	}
	for r := dropReason(1); r < numDropReasons; r++ {
		t.reasonAttrs[r] = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", dropReasonNames[r])))
	}
	for _, ty := range append(pii.AllTypes(), pii.Custom) {
		t.typeAttrs[ty] = metric.WithAttributeSet(attribute.NewSet(attribute.String("pii_type", ty.String())))
	}
	t.typeAttrs[sensitiveSlot] = metric.WithAttributeSet(attribute.NewSet(attribute.String("pii_type", "sensitive_key")))
	for i, l := range append(slices.Clone(schema.ConsentLevels), "unknown") {
		for d, name := range decisionNames {
			t.decisionAttrs[i][d] = metric.WithAttributeSet(attribute.NewSet(attribute.String("consent_level", l), attribute.String("decision", name)))
		}
	}
	return t, nil
}

func (t *telemetry) record(ctx context.Context, bs *batchStats) {
	for r := dropReason(1); r < numDropReasons; r++ {
		if n := bs.dropped[r]; n > 0 {
			t.dropped.Add(ctx, n, t.reasonAttrs[r])
		}
	}
	for ty, n := range bs.masked {
		if n > 0 && t.typeAttrs[ty] != nil {
			t.masked.Add(ctx, n, t.typeAttrs[ty])
		}
	}
	for i := range bs.decisions {
		for d, n := range bs.decisions[i] {
			if n > 0 {
				t.decisions.Add(ctx, n, t.decisionAttrs[i][d])
			}
		}
	}
	if bs.removed > 0 {
		t.removed.Add(ctx, bs.removed)
	}
}
