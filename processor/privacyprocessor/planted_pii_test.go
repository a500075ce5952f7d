package privacyprocessor

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/pulse-otel/pulse/receiver/analyticsreceiver"
)

// planted is personal data hidden in every kind of field. A person's name
// is only recognisable by its key (full_name): free-text names are not a
// detectable pattern, so the test does not plant one in free text. None of it may
// leave the privacy processor, reach a log line or an HTTP answer.
var planted = map[string]string{
	"email": "ada.lovelace@example.com",
	"phone": "+44 20 7946 0958",
	"card":  "4111 1111 1111 1111",
	"iban":  "GB82 WEST 1234 5698 7654 32",
	"ssn":   "123-45-6789",
	"ip":    "203.0.113.77",
	"jwt":   "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJlc2lnbmF0dXJl",
	"key":   "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
	"name":  "Augusta Byron",
}

// fragments are what must not survive: the values, and the distinctive
// parts of the ones that are masked in pieces.
var fragments = []string{"ada.lovelace", "7946 0958", "4111 1111", "WEST 1234", "123-45-6789", "203.0.113.77", "eyJhbGciOiJIUzI1NiJ9", "sk_live_4eC39", "Augusta", "Byron"}

func plantedEvent(ts int64, good bool) string {
	e := fmt.Sprintf(`{"eventId":"evt %[1]s","sessionId":%[2]q,"userId":%[1]q,"deviceId":%[6]q,
"eventType":"user_action","category":"call %[2]s","action":"card %[3]s",
"properties":{"page":"/u/%[1]s","feature":"iban %[4]s","value":1,"duration":5,
  "metadata":{"note":"ssn %[5]s","full_name":%[9]q,"list":["from %[6]s",{"deep":"token %[7]s"}],"apiKey":"x %[8]s","ip":%[6]q}},
"userAgent":"Mozilla/5.0 %[1]s","platform":"web","appVersion":"1.0.0","consentLevel":"full","dataRetentionDays":30,"timestamp":%[10]d,
"behavior":{"behaviorType":"conversion","conversionData":{"goalType":"signup %[1]s","funnelStep":"step %[2]s","conversionTime":10,"previousSteps":["a %[3]s","b"]}}}`,
		planted["email"], planted["phone"], planted["card"], planted["iban"], planted["ssn"], planted["ip"], planted["jwt"], planted["key"], planted["name"], ts)
	if !good {
		// Invalid on purpose: PII in the wrong places must not echo in errors.
		e = strings.Replace(e, `"platform":"web"`, fmt.Sprintf(`"platform":%q,%q:1`, planted["email"], planted["phone"]), 1)
	}
	return e
}

func TestPlantedPIINeverLeaves(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	logger := zap.New(core)

	sink := new(consumertest.LogsSink)
	pset := processortest.NewNopSettings(NewFactory().Type())
	pset.Logger = logger
	pcfg := createDefaultConfig().(*Config)
	pcfg.Pseudonymize.Key = testKey
	proc, err := NewFactory().CreateLogs(context.Background(), pset, pcfg, sink)
	require.NoError(t, err)
	require.NoError(t, proc.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, proc.Shutdown(context.Background())) })

	rf := analyticsreceiver.NewFactory()
	rcfg := rf.CreateDefaultConfig().(*analyticsreceiver.Config)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	rcfg.NetAddr.Endpoint = ln.Addr().String()
	require.NoError(t, ln.Close())
	rset := receivertest.NewNopSettings(rf.Type())
	rset.Logger = logger
	rcv, err := rf.CreateLogs(context.Background(), rset, rcfg, proc)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, rcv.Shutdown(context.Background())) })

	ts := time.Now().Add(-time.Minute).UnixMilli()
	var answers strings.Builder
	for _, body := range []string{
		"[" + plantedEvent(ts, true) + "," + plantedEvent(ts, false) + "]",
		`[{"eventId":` + fmt.Sprintf("%q", planted["email"]), // malformed
		`{"` + planted["email"] + `":1}`,
	} {
		resp, err := http.Post("http://"+rcfg.NetAddr.Endpoint+"/v1/events", "application/json", strings.NewReader(body))
		require.NoError(t, err)
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answers.Write(raw)
	}
	require.Equal(t, 1, sink.LogRecordCount(), "the valid planted event goes through: %s", answers.String())

	var out strings.Builder
	for _, ld := range sink.AllLogs() {
		b, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
		require.NoError(t, err)
		out.Write(b)
	}
	var logText strings.Builder
	for _, e := range logs.All() {
		logText.WriteString(e.Message)
		for k, v := range e.ContextMap() {
			fmt.Fprintf(&logText, " %s=%v", k, v)
		}
	}
	for _, frag := range fragments {
		assert.NotContains(t, out.String(), frag, "exported data")
		assert.NotContains(t, logText.String(), frag, "collector logs")
		assert.NotContains(t, answers.String(), frag, "HTTP answers")
	}
	// The record says what was done.
	assert.Contains(t, out.String(), `"pulse.is_anonymized","value":{"boolValue":true}`)
	assert.Contains(t, out.String(), "[REDACTED:email]")
}
