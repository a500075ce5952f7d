package loadgen

import (
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// Scope is the analytics receiver's instrumentation scope. Pulse ignores
// the scope of OTLP records; loadgen uses this one so that its records are
// identical to the receiver's (docs/events.md, "Sending the same event over
// OTLP").
const Scope = "github.com/pulse-otel/pulse/receiver/analyticsreceiver"

// attrs maps the JSON fields Event generates to their OTel attributes. The
// connector reads ints and doubles alike; the value's type follows the JSON
// type as the receiver's does (a JSON number is a double unless the field
// is an integer field), so that the records are identical to its own.
var (
	topAttrs = []struct{ json, otel string }{
		{"eventId", "pulse.event.id"}, {"sessionId", "session.id"}, {"userId", "user.id"},
		{"deviceId", "device.id"}, {"eventType", "pulse.event.type"}, {"category", "pulse.event.category"},
		{"action", "pulse.event.action"}, {"userAgent", "user_agent.original"}, {"consentLevel", "pulse.consent_level"},
	}
	propAttrs = []struct{ json, otel string }{
		{"page", "pulse.page"}, {"feature", "pulse.feature"}, {"value", "pulse.value"}, {"duration", "pulse.duration"},
	}
	behaviorAttrs = map[string][]struct{ json, otel string }{
		"pageData":        {{"path", "pulse.page.path"}, {"title", "pulse.page.title"}, {"timeOnPage", "pulse.page.time_on_page"}, {"scrollDepth", "pulse.page.scroll_depth"}},
		"interactionData": {{"elementType", "pulse.interaction.element_type"}},
		"engagementData":  {{"contentType", "pulse.engagement.content_type"}, {"engagementDuration", "pulse.engagement.duration"}, {"completionPercentage", "pulse.engagement.completion_percentage"}},
		"conversionData":  {{"goalType", "pulse.conversion.goal_type"}, {"goalValue", "pulse.conversion.goal_value"}, {"funnelStep", "pulse.conversion.funnel_step"}, {"conversionTime", "pulse.conversion.time"}, {"previousSteps", "pulse.conversion.previous_steps"}},
	}
)

// ToLogs builds the OTLP log records the analytics receiver would build
// from evs (events made by Event): one resource per platform and app
// version, the documented attributes and types, and the server-owned
// attributes.
func ToLogs(evs []map[string]any) plog.Logs {
	ld := plog.NewLogs()
	resources := map[[2]string]plog.LogRecordSlice{}
	for _, e := range evs {
		key := [2]string{e["platform"].(string), e["appVersion"].(string)}
		lrs, ok := resources[key]
		if !ok {
			rl := ld.ResourceLogs().AppendEmpty()
			rl.Resource().Attributes().PutStr("pulse.platform", key[0])
			rl.Resource().Attributes().PutStr("pulse.app.version", key[1])
			sl := rl.ScopeLogs().AppendEmpty()
			sl.Scope().SetName(Scope)
			lrs = sl.LogRecords()
			resources[key] = lrs
		}
		lr := lrs.AppendEmpty()
		lr.SetEventName("pulse.event")
		// The observed time is the event time too, as for an SDK emitting it
		// as it happens (and Request.Stamped rewrites both).
		ts := pcommon.NewTimestampFromTime(time.UnixMilli(e["timestamp"].(int64)))
		lr.SetTimestamp(ts)
		lr.SetObservedTimestamp(ts)
		a := lr.Attributes()
		for _, f := range topAttrs {
			if v, ok := e[f.json]; ok {
				put(a, f.otel, v)
			}
		}
		a.PutInt("pulse.data_retention_days", int64(e["dataRetentionDays"].(int)))
		props := e["properties"].(map[string]any)
		// The quality score counts the optional fields present: userId,
		// userAgent, page, feature, value, duration, behavior.
		optional := 0
		if _, ok := e["userId"]; ok {
			optional++
		}
		for _, f := range propAttrs {
			if v, ok := props[f.json]; ok {
				put(a, f.otel, v)
				optional++
			}
		}
		if md, ok := props["metadata"]; ok {
			put(a, "pulse.metadata", md)
		}
		if _, ok := e["userAgent"]; ok {
			optional++
		}
		if b, ok := e["behavior"].(map[string]any); ok {
			optional++
			a.PutStr("pulse.behavior.type", b["behaviorType"].(string))
			for obj, fields := range behaviorAttrs {
				d, ok := b[obj].(map[string]any)
				if !ok {
					continue
				}
				for _, f := range fields {
					if v, ok := d[f.json]; ok {
						put(a, f.otel, v)
					}
				}
				if cp, ok := d["clickPosition"].(map[string]any); ok {
					put(a, "pulse.interaction.click_x", cp["x"])
					put(a, "pulse.interaction.click_y", cp["y"])
				}
			}
		}
		a.PutBool("pulse.is_valid", true)
		a.PutDouble("pulse.quality_score", float64(100*optional)/7)
		a.PutStr("pulse.processing_status", "processed")
		a.PutBool("pulse.is_anonymized", false)
	}
	return ld
}

// put sets k to v with the documented type: numbers are doubles, strings
// strings, string slices slices, objects maps.
func put(a pcommon.Map, k string, v any) {
	switch v := v.(type) {
	case string:
		a.PutStr(k, v)
	case int:
		a.PutDouble(k, float64(v))
	case float64:
		a.PutDouble(k, v)
	case bool:
		a.PutBool(k, v)
	case []string:
		s := a.PutEmptySlice(k)
		for _, x := range v {
			s.AppendEmpty().SetStr(x)
		}
	case map[string]any:
		m := a.PutEmptyMap(k)
		for mk, mv := range v {
			put(m, mk, mv)
		}
	default:
		panic(fmt.Sprintf("loadgen: no OTel mapping for %s of type %T", k, v))
	}
}
