package e2e

import (
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulse-otel/pulse/internal/plantedpii"
	"github.com/pulse-otel/pulse/testbed/internal/poll"
)

// countersMix is a batch of events with known defects and the processing
// counters it must leave in promstore, by their labels.
type countersMix struct {
	body     string
	accepted int
	want     map[string]map[string]float64 // query ▶ "label=value,..." ▶ count
}

// counterQueries are the stored processing counters summed by their labels.
var counterQueries = map[string][]string{
	"otelcol_receiver_analytics_rejected_items":   {"endpoint", "reason", "field", "platform"},
	"otelcol_receiver_analytics_accepted_items":   {"endpoint", "platform"},
	"otelcol_processor_privacy_consent_decisions": {"consent_level", "decision"},
	"otelcol_processor_privacy_values_masked":     {"pii_type"},
	"otelcol_processor_privacy_records_dropped":   {"reason"},
}

func newCountersMix(now time.Time) countersMix {
	ms := now.Add(-time.Minute).UnixMilli()
	n := 0
	ev := func(platform, consent string, edit ...string) string {
		n++
		return editedEvent(fmt.Sprintf("pc-%d", n), ms, append([]string{
			`"platform":"android"`, `"platform":"` + platform + `"`,
			`"consentLevel":"analytics"`, `"consentLevel":"` + consent + `"`,
		}, edit...)...)
	}
	var items []string
	add := func(k int, e func() string) {
		for range k {
			items = append(items, e())
		}
	}
	email, phone := plantedpii.Values["email"], plantedpii.Values["phone"]
	// Valid: every consent level; necessary forbids user_action (dropped).
	add(3, func() string { return ev("android", "analytics") })
	add(2, func() string { return ev("ios", "marketing") })
	add(1, func() string { return ev("web", "full") })
	add(2, func() string { return ev("web", "necessary") })
	// Valid, with planted PII in a free-text field: masked.
	add(1, func() string {
		return ev("android", "analytics", `"page":"/p"`, `"page":"/p","feature":"mail `+email+`"`)
	})
	add(1, func() string { return ev("ios", "analytics", `"page":"/p"`, `"page":"/p","feature":"call `+phone+`"`) })
	// Invalid, of known fields and platforms.
	add(3, func() string { return ev("ios", "analytics", `"action":"view",`, ``) })
	add(2, func() string {
		return ev("android", "analytics", `"behaviorType":"interaction"`, `"behaviorType":"hover"`)
	})
	add(1, func() string { return ev("blackberry", "analytics") })
	// Invalid, with PII in the rejected value, in an unknown key and in
	// the platform: none of it may reach a label.
	add(1, func() string { return ev("web", "analytics", `"eventType":"user_action"`, `"eventType":"`+email+`"`) })
	add(1, func() string {
		return ev("web", "analytics", `"action":"view",`, `"action":"view","`+email+`":"`+phone+`",`)
	})
	add(1, func() string { return ev(email, "analytics") })
	return countersMix{
		body: "[" + strings.Join(items, ",") + "]",
		// The answer's count: 10 valid, less the 2 that consent drops
		// (accepted_items counts the 10 valid ones).
		accepted: 8,
		want: map[string]map[string]float64{
			"otelcol_receiver_analytics_rejected_items": {
				"endpoint=events,reason=missing,field=action,platform=ios":                 1 * 3,
				"endpoint=events,reason=enum,field=behavior.behaviorType,platform=android": 2,
				"endpoint=events,reason=enum,field=platform,platform=unknown":              1 + 1,
				"endpoint=events,reason=enum,field=eventType,platform=web":                 1,
				"endpoint=events,reason=unknown_field,field=_other,platform=web":           1,
			},
			"otelcol_receiver_analytics_accepted_items": {
				"endpoint=events,platform=android": 3 + 1,
				"endpoint=events,platform=ios":     2 + 1,
				"endpoint=events,platform=web":     1 + 2,
			},
			"otelcol_processor_privacy_consent_decisions": {
				"consent_level=analytics,decision=kept":    3 + 2,
				"consent_level=marketing,decision=kept":    2,
				"consent_level=full,decision=kept":         1,
				"consent_level=necessary,decision=dropped": 2,
			},
			"otelcol_processor_privacy_values_masked":   {"pii_type=email": 1, "pii_type=phone": 1},
			"otelcol_processor_privacy_records_dropped": {"reason=consent_event_type": 2},
		},
	}
}

// storedCounters reads each counter of counterQueries from promstore
// (job="pulse"), summed by its labels.
func storedCounters(t *testing.T, api string) map[string]map[string]float64 {
	t.Helper()
	got := map[string]map[string]float64{}
	for name, by := range counterQueries {
		got[name] = map[string]float64{}
		q := fmt.Sprintf(`sum by (%s) (%s{job="pulse"})`, strings.Join(by, ","), name)
		for _, s := range samples(t, api, q) {
			parts := make([]string, len(by))
			for i, l := range by {
				parts[i] = l + "=" + s.metric[l]
			}
			got[name][strings.Join(parts, ",")] = s.value
		}
	}
	return got
}

// TestProcessingCountersStored sends a mix with known defects through the
// built binary with the shipped config/pulse.yaml and requires promstore's
// query API to answer the processing counters (rejects by endpoint, reason,
// field and platform; accepted by endpoint and platform; consent decisions;
// masks by type; drops by reason) equal to what was sent, scraped from the
// collector's own telemetry with job="pulse". PII planted in rejected
// values, keys and platforms reaches no stored label.
func TestProcessingCountersStored(t *testing.T) {
	binary(t)
	api := freePort(t)
	ports := map[string]string{"otlp-grpc": freePort(t), "otlp-http": freePort(t), "forget": freePort(t), "telemetry": freePort(t)}
	c := startCollectorWith(t, &sink{}, func(c *collector, _ string) string { return shippedPromstoreConfigPorts(t, c, api, ports) })
	base := "http://" + api

	m := newCountersMix(time.Now())
	status, a := post(t, "http://"+c.events+"/v1/events", m.body)
	if status != http.StatusOK || a.Accepted != m.accepted {
		t.Fatalf("mix: status %d, accepted %d, want %d: %+v", status, a.Accepted, m.accepted, a)
	}

	// The shipped scrape interval is 15 s: a few scrapes at most.
	var got map[string]map[string]float64
	if !poll.Wait(90*time.Second, 500*time.Millisecond, func() bool {
		got = storedCounters(t, base)
		for name, want := range m.want {
			if !maps.Equal(got[name], want) {
				return false
			}
		}
		return true
	}) {
		for _, name := range slices.Sorted(maps.Keys(m.want)) {
			if !maps.Equal(got[name], m.want[name]) {
				t.Errorf("%s: stored %v, want %v", name, got[name], m.want[name])
			}
		}
		t.Fatalf("collector output:\n%s", c.out.String())
	}

	// docs/operations.md's accuracy per data source.
	accuracy := vectorBy(t, base, `sum by (endpoint, platform) (increase(otelcol_receiver_analytics_accepted_items[1d]))
  / sum by (endpoint, platform) (increase({__name__=~"otelcol_receiver_analytics_(accepted|rejected)_items"}[1d]))`, "platform")
	for platform, want := range map[string]float64{"android": 4.0 / 6, "ios": 3.0 / 6, "web": 3.0 / 5} {
		if math.Abs(accuracy[platform]-want) > 1e-9 {
			t.Errorf("accuracy of events from %s: %v, want %v (all: %v)", platform, accuracy[platform], want, accuracy)
		}
	}

	// The stored series carry the scrape's target labels.
	for _, s := range samples(t, base, `otelcol_receiver_analytics_rejected_items`) {
		if s.metric["job"] != "pulse" || s.metric["instance"] != ports["telemetry"] {
			t.Errorf("stored rejects %v: want job=pulse, instance=%s", s.metric, ports["telemetry"])
		}
	}
	if v, ok := instant(t, base, `up{job="pulse"}`); !ok || v != 1 {
		t.Errorf(`up{job="pulse"} = %v (found %v), want 1`, v, ok)
	}

	if n, ok := instant(t, base, `count({job="pulse"})`); ok {
		t.Logf("the collector's telemetry adds %v series to promstore", n)
	}

	// No planted PII in any stored label name or value.
	for _, path := range []string{"/api/v1/labels", "/api/v1/series?" + url.Values{"match[]": {`{job="pulse"}`}}.Encode()} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if leaks := plantedpii.Leaks(string(raw)); len(leaks) > 0 {
			t.Errorf("%s holds planted PII %v", path, leaks)
		}
		for _, l := range []string{"blackberry", "example.com"} {
			if strings.Contains(string(raw), l) {
				t.Errorf("%s holds client text %q", path, l)
			}
		}
	}
}

// postRejects posts n invalid events (each without its action; all
// rejected, answered 400), so that the rejects panel has data.
func postRejects(t *testing.T, events string, n int) {
	t.Helper()
	items := make([]string, n)
	for i := range items {
		items[i] = strings.Replace(event(fmt.Sprintf("reject-%d", i), time.Now().UnixMilli()), `"action":"view",`, ``, 1)
	}
	if status, a := post(t, "http://"+events+"/v1/events", "["+strings.Join(items, ",")+"]"); status != http.StatusBadRequest || len(a.Rejected) != n {
		t.Fatalf("rejects: status %d, answer %+v", status, a)
	}
}

// waitRejectsStored waits, at most 90 s (a few of the shipped 15 s
// scrapes), until promstore (api: http://host:port) holds two scrapes of
// the rejects: enough for rate() over them.
func waitRejectsStored(t *testing.T, api string) {
	t.Helper()
	poll.Until(t, 90*time.Second, 500*time.Millisecond, func() bool {
		v, ok := instant(t, api, `max(count_over_time(otelcol_receiver_analytics_rejected_items{job="pulse"}[5m]))`)
		return ok && v >= 2
	}, "two scrapes of the rejected items in promstore")
}
