package privacyprocessor

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.uber.org/zap"

	"github.com/pulse-otel/pulse/receiver/analyticsreceiver"
)

// A 200 means stored: events that the consent policy drops after the
// receiver validated them are named in the answer's "dropped" list and not
// counted in "accepted". The request mixes platforms so that the records
// reach the processor in another order than the request's (grouped by
// resource), which the answer must undo.
func TestAnswerNamesWhatConsentDropped(t *testing.T) {
	sink := new(consumertest.LogsSink)
	endpoint := startBehindReceiver(t, zap.NewNop(), sink)

	ts := time.Now().Add(-time.Minute).UnixMilli()
	event := func(i int, platform, eventType, consent string) string {
		return fmt.Sprintf(`{"eventId":"evt-%d","sessionId":"sess-%d","deviceId":"dev-%d","userId":"user-%d",`+
			`"eventType":%q,"category":"workout","action":"view","properties":{},"platform":%q,"appVersion":"2.4.1",`+
			`"consentLevel":%q,"dataRetentionDays":30,"timestamp":%d}`, i, i, i, i, eventType, platform, consent, ts)
	}
	items := []string{
		event(0, "web", "user_action", "analytics"),
		event(1, "ios", "user_action", "necessary"), // dropped: necessary allows no user_action
		event(2, "web", "user_action", "necessary"), // dropped
		event(3, "ios", "error_tracking", "necessary"),
		event(4, "android", "user_action", "marketing"),
		`{"eventId":"evt-5"}`,                           // rejected by the receiver
		event(6, "android", "user_action", "necessary"), // dropped
	}
	resp, err := http.Post("http://"+endpoint+"/v1/events", "application/json", strings.NewReader("["+strings.Join(items, ",")+"]"))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var got struct {
		Accepted int `json:"accepted"`
		Rejected []struct {
			Index int `json:"index"`
		} `json:"rejected"`
		Dropped []analyticsreceiver.Dropped `json:"dropped"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))

	require.Equal(t, 3, got.Accepted, "accepted counts what was stored")
	require.Equal(t, 3, sink.LogRecordCount())
	require.Len(t, got.Rejected, 1)
	require.Equal(t, 5, got.Rejected[0].Index)
	require.Equal(t, []analyticsreceiver.Dropped{
		{Index: 1, Reason: "consent_event_type"},
		{Index: 2, Reason: "consent_event_type"},
		{Index: 6, Reason: "consent_event_type"},
	}, got.Dropped)
}

// Drops for a forgotten user are not reported: that would tell any holder
// of an ingest key which users asked to be forgotten.
func TestForgottenIsNotReported(t *testing.T) {
	require.False(t, dropForgotten.reported())
	require.False(t, keep.reported())
	for r := dropConsentEventType; r < numDropReasons; r++ {
		if r != dropForgotten {
			require.True(t, r.reported(), dropReasonNames[r])
		}
	}
}
