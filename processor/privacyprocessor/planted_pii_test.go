package privacyprocessor

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/pulse-otel/pulse/internal/plantedpii"
)

func TestPlantedPIINeverLeaves(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	logger := zap.New(core)

	sink := new(consumertest.LogsSink)
	endpoint := startBehindReceiver(t, logger, sink)

	ts := time.Now().Add(-time.Minute).UnixMilli()
	var answers strings.Builder
	for _, body := range []string{
		"[" + plantedpii.Event("evt", ts, true) + "," + plantedpii.Event("evt", ts, false) + "]",
		`[{"eventId":` + fmt.Sprintf("%q", plantedpii.Values["email"]), // malformed
		`{"` + plantedpii.Values["email"] + `":1}`,
	} {
		resp, err := http.Post("http://"+endpoint+"/v1/events", "application/json", strings.NewReader(body))
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
	assert.Empty(t, plantedpii.Leaks(out.String()), "exported data")
	assert.Empty(t, plantedpii.Leaks(logText.String()), "collector logs")
	assert.Empty(t, plantedpii.Leaks(answers.String()), "HTTP answers")
	// The record says what was done.
	assert.Contains(t, out.String(), `"pulse.is_anonymized","value":{"boolValue":true}`)
	assert.Contains(t, out.String(), "[REDACTED:email]")
}
