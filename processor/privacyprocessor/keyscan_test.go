package privacyprocessor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pulse-otel/pulse/internal/plantedpii"
	"github.com/pulse-otel/pulse/internal/schema"
)

// dump returns ld as OTLP JSON, keys and values.
func dump(t *testing.T, ld plog.Logs) string {
	t.Helper()
	b, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
	require.NoError(t, err)
	return string(b)
}

func TestKeysMasked(t *testing.T) {
	p := newTest(t, nil)
	ld := plog.NewLogs()
	email := plantedpii.Values["email"]
	analyticsEvent(ld, "full", map[string]any{
		email: "top-level key",
		schema.AttrMetadata: map[string]any{
			email:                 1,
			"[REDACTED:email]":    2, // the marker is taken: the masked key gets a suffix
			"call +4915123632299": []any{map[string]any{"jane%40example.com": "x"}},
			"plain":               "kept",
		},
	})
	out := run(t, p, ld)
	m := only(t, out)
	_, ok := m.Get(email)
	assert.False(t, ok, "a top-level key holding an e-mail address is kept")
	v, ok := m.Get("[REDACTED:email]")
	require.True(t, ok)
	assert.Equal(t, "top-level key", v.Str())

	md, ok := m.Get(schema.AttrMetadata)
	require.True(t, ok)
	got := md.Map().AsRaw()
	assert.Equal(t, map[string]any{
		"[REDACTED:email]":      int64(2),
		"[REDACTED:email]#2":    int64(1),
		"call [REDACTED:phone]": []any{map[string]any{"[REDACTED:email]": "x"}},
		"plain":                 "kept",
	}, got)
	j := dump(t, out)
	assert.Empty(t, plantedpii.Leaks(j), "PII in keys survived: %s", j)
	assert.NotContains(t, j, "4915123632299")
	assert.NotContains(t, j, "jane%40example.com")
}

func TestKeysActions(t *testing.T) {
	email := plantedpii.Values["email"]
	p := newTest(t, func(c *Config) { c.PII.Actions = map[string]string{"email": "drop_attribute", "phone": "drop_event"} })

	ld := plog.NewLogs()
	analyticsEvent(ld, "full", map[string]any{schema.AttrMetadata: map[string]any{email: 1, "a": "b"}})
	m := only(t, run(t, p, ld))
	md, _ := m.Get(schema.AttrMetadata)
	assert.Equal(t, map[string]any{"a": "b"}, md.Map().AsRaw())

	ld = plog.NewLogs()
	analyticsEvent(ld, "full", map[string]any{"+4915123632299": 1})
	assert.Equal(t, 0, run(t, p, ld).LogRecordCount(), "a key with a drop_event type must drop the record")
}

// An OTLP metric attribute key becomes a label name downstream: it is
// masked on data points too.
func TestKeysMetricAttributes(t *testing.T) {
	p := newTest(t, nil)
	md := pmetric.NewMetrics()
	dp := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty().SetEmptyGauge().DataPoints().AppendEmpty()
	dp.Attributes().PutStr(plantedpii.Values["email"], "1")
	dp.Attributes().PutStr("route", "/home")
	out, err := p.processMetrics(context.Background(), md)
	require.NoError(t, err)
	attrs := out.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Gauge().DataPoints().At(0).Attributes()
	assert.Equal(t, map[string]any{"[REDACTED:email]": "1", "route": "/home"}, attrs.AsRaw())
}

func TestSecretParams(t *testing.T) {
	p := newTest(t, func(c *Config) { c.PII.SecretParams = []string{"magic_code"} })
	ld := plog.NewLogs()
	analyticsEvent(ld, "full", map[string]any{"url.full": "https://example.com/in?magic_code=7Gh2kL9m&x=1"})
	v := str(only(t, run(t, p, ld)), "url.full")
	assert.Equal(t, "https://example.com/in?magic_code=[REDACTED:url_secret]&x=1", v)

	cfg := createDefaultConfig().(*Config)
	cfg.Pseudonymize.Key = testKey
	cfg.PII.SecretParams = []string{"two words"}
	assert.ErrorContains(t, cfg.Validate(), "pii.secret_params")
}
