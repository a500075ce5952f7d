package analyticsmetricsconnector

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/pulse-otel/pulse/internal/schema"
	"github.com/pulse-otel/pulse/processor/privacyprocessor"
)

// The connector sees ids as the privacy processor (default configuration)
// leaves them: a UUID passes unchanged, so its retry is a duplicate; ids
// that look like card numbers are masked to the same text, and must not be
// taken for one record.
func TestDedupAfterPrivacyProcessor(t *testing.T) {
	f := privacyprocessor.NewFactory()
	cfg := f.CreateDefaultConfig().(*privacyprocessor.Config)
	cfg.Pseudonymize.Key = "0123456789abcdef0123456789abcdef"
	privacy := new(consumertest.LogsSink)
	p, err := f.CreateLogs(context.Background(), processortest.NewNopSettings(f.Type()), cfg, privacy)
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, p.Shutdown(context.Background())) }()

	batch := func() plog.Logs {
		ld := plog.NewLogs()
		lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
		for _, id := range []string{"9b2f4c1e-3a5d-4e7f-8a9b-0c1d2e3f4a5b", "4111111111111111", "5555555555554444"} {
			lr := lrs.AppendEmpty()
			lr.SetEventName(schema.EventAnalytics)
			lr.Attributes().PutStr(schema.AttrEventID, id)
			lr.Attributes().PutStr(schema.AttrEventType, "user_action")
			lr.Attributes().PutStr(schema.AttrConsentLevel, "analytics")
		}
		return ld
	}
	require.NoError(t, p.ConsumeLogs(context.Background(), batch()))
	require.NoError(t, p.ConsumeLogs(context.Background(), batch())) // the retry
	first := privacy.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	a, _ := first.At(1).Attributes().Get(schema.AttrEventID)
	b, _ := first.At(2).Attributes().Get(schema.AttrEventID)
	require.Equal(t, a.Str(), b.Str(), "the privacy processor masks both card-like ids alike")

	c, sink := newTestConnector(t, nil)
	for _, ld := range privacy.AllLogs() {
		require.NoError(t, c.ConsumeLogs(context.Background(), ld))
	}
	c.flush(context.Background(), time.Now(), true)
	events, _ := sumPoints(t, sink, "pulse.events")
	assert.Equal(t, int64(5), events, "the UUID once, the masked ids every time")
	dups, _ := sumPoints(t, sink, "pulse.events.duplicates")
	assert.Equal(t, int64(1), dups)
}
