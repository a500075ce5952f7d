package analyticsreceiver

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/pulse-otel/pulse/internal/testutil"
	"github.com/pulse-otel/pulse/receiver/analyticsreceiver/internal/metadata"
)

// startCounted runs the receiver with telemetry the test reads.
func startCounted(t *testing.T) (string, *componenttest.Telemetry) {
	t.Helper()
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	cfg := createDefaultConfig().(*Config)
	cfg.NetAddr.Endpoint = testutil.FreeAddr(t)
	set := receivertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	rcv, err := NewFactory().CreateLogs(context.Background(), set, cfg, new(consumertest.LogsSink))
	require.NoError(t, err)
	require.NoError(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, rcv.Shutdown(context.Background())) })
	return "http://" + cfg.NetAddr.Endpoint, tel
}

// counts returns a counter's points as "k=v,k=v" (attributes sorted) to value.
func counts(t *testing.T, tel *componenttest.Telemetry, name string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	m, err := tel.GetMetric(name)
	if err != nil {
		return out
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, "%s is %T", name, m.Data)
	for _, dp := range sum.DataPoints {
		var parts []string
		for _, kv := range dp.Attributes.ToSlice() {
			parts = append(parts, string(kv.Key)+"="+kv.Value.AsString())
		}
		out[strings.Join(parts, ",")] += dp.Value
	}
	return out
}

// withField replaces the first occurrence of old in an event by repl.
func withField(id, old, repl string) string {
	e := event(id)
	if !strings.Contains(e, old) {
		panic("no " + old + " in the test event")
	}
	return strings.Replace(e, old, repl, 1)
}

func TestRejectsCountedByFieldAndPlatform(t *testing.T) {
	url, tel := startCounted(t)
	batch := []string{
		event("ok-ios-1"),
		event("ok-ios-2"),
		withField("ok-web", `"platform":"ios"`, `"platform":"web"`),
		// enum error in a nested field, platform valid: android
		strings.Replace(withField("bad-1", `"behaviorType":"navigation"`, `"behaviorType":"nope"`), `"platform":"ios"`, `"platform":"android"`, 1),
		// a missing required field, platform ios
		withField("bad-2", `"action":"view",`, ``),
		// the platform itself is invalid: unknown
		withField("bad-3", `"platform":"ios"`, `"platform":"blackberry"`),
		// an unknown field: _other
		withField("bad-4", `"action":"view",`, `"action":"view","secretKey":1,`),
	}
	r := post(t, url+"/v1/events", "application/json", []byte("["+strings.Join(batch, ",")+"]"))
	require.Equal(t, http.StatusOK, r.status, r.raw)

	assert.Equal(t, map[string]int64{
		"endpoint=events,platform=ios": 2,
		"endpoint=events,platform=web": 1,
	}, counts(t, tel, "otelcol_receiver_analytics_accepted_items"))
	assert.Equal(t, map[string]int64{
		"endpoint=events,field=behavior.behaviorType,platform=android,reason=enum": 1,
		"endpoint=events,field=action,platform=ios,reason=missing":                 1,
		"endpoint=events,field=platform,platform=unknown,reason=enum":              1,
		"endpoint=events,field=_other,platform=ios,reason=unknown_field":           1,
	}, counts(t, tel, "otelcol_receiver_analytics_rejected_items"))
}

// A hostile client sends thousands of items, each with a new bogus field
// name and a new platform, with PII in keys and values: the counters gain
// only the bounded labels, and no label holds client text.
func TestRejectLabelsAreBounded(t *testing.T) {
	url, tel := startCounted(t)
	const requests, perRequest = 5, 800
	for q := range requests {
		items := make([]string, perRequest)
		for i := range items {
			n := q*perRequest + i
			e := withField(fmt.Sprint("h-", n), `"platform":"ios"`, fmt.Sprintf(`"platform":"os-%d-jane.doe%d@example.com"`, n, n))
			switch n % 3 {
			case 0: // a new unknown key, named after an email address
				e = strings.Replace(e, `"action":"view",`, fmt.Sprintf(`"action":"view","user%d@example.com":"+1 555 0100 %d",`, n, n), 1)
			case 1: // a new unknown key inside a known object
				e = strings.Replace(e, `"page":"/plan",`, fmt.Sprintf(`"page":"/plan","f%d":1,`, n), 1)
			}
			items[i] = e
		}
		r := post(t, url+"/v1/events", "application/json", []byte("["+strings.Join(items, ",")+"]"))
		require.Equal(t, http.StatusBadRequest, r.status, r.raw)
	}
	got := counts(t, tel, "otelcol_receiver_analytics_rejected_items")
	var total int64
	for k, v := range got {
		total += v
		assert.NotContains(t, k, "@", "a label holds client text")
		assert.NotContains(t, k, "555", "a label holds client text")
		assert.NotContains(t, k, "os-", "a label holds client text")
	}
	assert.Equal(t, int64(requests*perRequest), total, "every item counted")
	// The first error of each is the unknown key (_other) or the platform
	// itself; the platform is never valid.
	assert.LessOrEqual(t, len(got), 3, "series: %v", got)
	for k := range got {
		assert.Contains(t, k, "platform=unknown")
	}
}
