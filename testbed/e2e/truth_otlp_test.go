package e2e

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
)

// sendOTLP sends evs as OTLP log records with the Go OTel SDK (sdk/log and
// the otlploghttp exporter) to the collector's OTLP/HTTP receiver at
// endpoint, mapped as docs/events.md "Sending the same event over OTLP"
// says: one LoggerProvider per platform and app version, the SDK's default
// resource, numbers as the SDK types them (whole durations as ints). It
// returns when every record is acknowledged.
func sendOTLP(t *testing.T, endpoint string, evs []truthEvent) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	type group struct{ platform, version string }
	var order []group
	byGroup := map[group][]truthEvent{}
	for _, e := range evs {
		g := group{e.str("platform"), e.str("appVersion")}
		if _, ok := byGroup[g]; !ok {
			order = append(order, g)
		}
		byGroup[g] = append(byGroup[g], e)
	}
	for _, g := range order {
		exp, err := otlploghttp.New(ctx, otlploghttp.WithEndpoint(endpoint), otlploghttp.WithInsecure())
		if err != nil {
			t.Fatal(err)
		}
		res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
			attribute.String("pulse.platform", g.platform), attribute.String("pulse.app.version", g.version)))
		if err != nil {
			t.Fatal(err)
		}
		lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)))
		logger := lp.Logger("truth-test")
		for _, e := range byGroup[g] {
			var rec otellog.Record
			rec.SetEventName("pulse.event")
			rec.SetTimestamp(e.time())
			rec.AddAttributes(otlpAttributes(e)...)
			logger.Emit(ctx, rec)
		}
		if err := lp.ForceFlush(ctx); err != nil {
			t.Fatalf("OTLP export: %v", err)
		}
		if err := lp.Shutdown(ctx); err != nil {
			t.Fatalf("OTLP shutdown: %v", err)
		}
	}
}

// otlpAttributes maps an event to the attributes of docs/events.md.
func otlpAttributes(e truthEvent) []attribute.KeyValue {
	var kv []attribute.KeyValue
	str := func(k, json string) {
		if v := e.str(json); v != "" {
			kv = append(kv, attribute.String(k, v))
		}
	}
	str("pulse.event.id", "eventId")
	str("session.id", "sessionId")
	if e.intUser {
		id, err := strconv.ParseInt(e.str("userId"), 10, 64)
		if err != nil {
			panic(err)
		}
		kv = append(kv, attribute.Int64("user.id", id))
	} else {
		str("user.id", "userId")
	}
	str("device.id", "deviceId")
	str("pulse.event.type", "eventType")
	str("pulse.event.category", "category")
	str("pulse.event.action", "action")
	str("pulse.consent_level", "consentLevel")
	str("user_agent.original", "userAgent")
	kv = append(kv, attribute.Int("pulse.data_retention_days", e.ev["dataRetentionDays"].(int)))
	kv = appendAny(kv, "pulse.", e.props(), map[string]string{"page": "page", "feature": "feature", "value": "value", "duration": "duration"})
	b, ok := e.ev["behavior"].(map[string]any)
	if !ok {
		return kv
	}
	kv = append(kv, attribute.String("pulse.behavior.type", b["behaviorType"].(string)))
	if d, ok := b["pageData"].(map[string]any); ok {
		kv = appendAny(kv, "pulse.page.", d, map[string]string{"path": "path", "title": "title", "timeOnPage": "time_on_page", "scrollDepth": "scroll_depth"})
	}
	if d, ok := b["interactionData"].(map[string]any); ok {
		kv = appendAny(kv, "pulse.interaction.", d, map[string]string{"elementType": "element_type", "interactionCount": "count"})
	}
	if d, ok := b["engagementData"].(map[string]any); ok {
		kv = appendAny(kv, "pulse.engagement.", d, map[string]string{"contentType": "content_type", "engagementDuration": "duration", "completionPercentage": "completion_percentage"})
	}
	if d, ok := b["conversionData"].(map[string]any); ok {
		kv = appendAny(kv, "pulse.conversion.", d, map[string]string{"goalType": "goal_type", "goalValue": "goal_value", "funnelStep": "funnel_step", "conversionTime": "time", "previousSteps": "previous_steps"})
	}
	return kv
}

// appendAny appends the fields of obj named in keys (JSON name ▶ OTel
// name under prefix) with the SDK's types: whole numbers as ints, as the
// JS SDK sends them too.
func appendAny(kv []attribute.KeyValue, prefix string, obj map[string]any, keys map[string]string) []attribute.KeyValue {
	for json, otel := range keys {
		v, ok := obj[json]
		if !ok {
			continue
		}
		k := prefix + otel
		switch v := v.(type) {
		case string:
			kv = append(kv, attribute.String(k, v))
		case int:
			kv = append(kv, attribute.Int(k, v))
		case float64:
			if v == float64(int64(v)) {
				kv = append(kv, attribute.Int64(k, int64(v)))
			} else {
				kv = append(kv, attribute.Float64(k, v))
			}
		case []string:
			kv = append(kv, attribute.StringSlice(k, v))
		default:
			panic(fmt.Sprintf("no OTLP mapping for %s of type %T", k, v))
		}
	}
	return kv
}
