package privacyprocessor

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/pulse-otel/pulse/internal/schema"
	"github.com/pulse-otel/pulse/internal/testutil"
	"github.com/pulse-otel/pulse/processor/privacyprocessor/internal/metadata"
)

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }

func newTest(t testing.TB, mutate func(*Config)) *privacyProcessor {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.Pseudonymize.Key = testKey
	if mutate != nil {
		mutate(cfg)
	}
	require.NoError(t, cfg.Validate())
	p, err := newPrivacyProcessor(processortest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	return p
}

// analyticsEvent returns a log record shaped like the analytics receiver's.
func analyticsEvent(ld plog.Logs, consent string, attrs map[string]any) plog.LogRecord {
	lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetEventName(schema.EventAnalytics)
	m := lr.Attributes()
	m.PutStr(schema.AttrEventID, "evt-1")
	m.PutStr(schema.AttrEventType, "user_action")
	m.PutStr(schema.AttrCategory, "workout")
	m.PutStr(schema.AttrAction, "view")
	m.PutStr(schema.AttrUserID, "user-42")
	m.PutStr(schema.AttrDeviceID, "device-7")
	m.PutStr(schema.AttrSessionID, "session-9")
	if consent != "" {
		m.PutStr(schema.AttrConsentLevel, consent)
	}
	require := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	for k, v := range attrs {
		require(m.PutEmpty(k).FromRaw(v))
	}
	return lr
}

func run(t *testing.T, p *privacyProcessor, ld plog.Logs) plog.Logs {
	t.Helper()
	out, err := p.processLogs(context.Background(), ld)
	require.NoError(t, err)
	return out
}

func only(t *testing.T, ld plog.Logs) pcommon.Map {
	t.Helper()
	require.Equal(t, 1, ld.LogRecordCount())
	return ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes()
}

// str is the attribute k as a string, "" when it is missing.
func str(m pcommon.Map, k string) string {
	v, ok := m.Get(k)
	if !ok {
		return ""
	}
	return v.AsString()
}

func TestConsentLevels(t *testing.T) {
	p := newTest(t, nil)
	extra := map[string]any{
		schema.AttrPagePath:     "/plan",
		schema.AttrPageReferrer: "https://news.example.com/",
		schema.AttrUserAgent:    "Mozilla/5.0",
		schema.AttrMetadata:     map[string]any{"utm_source": "newsletter", "plan": "pro", "country": "DE"},
	}
	tests := []struct {
		consent      string
		kept, gone   []string
		level        string
		keptMetadata []string
		goneMetadata []string
	}{
		{
			consent: "analytics", level: "analytics",
			kept:         []string{schema.AttrUserID, schema.AttrDeviceID, schema.AttrSessionID, schema.AttrPagePath, schema.AttrUserAgent, schema.AttrMetadata},
			gone:         []string{schema.AttrPageReferrer},
			keptMetadata: []string{"plan"},
			goneMetadata: []string{"utm_source", "country"},
		},
		{
			consent: "marketing", level: "marketing",
			kept:         []string{schema.AttrUserID, schema.AttrPagePath, schema.AttrPageReferrer, schema.AttrMetadata},
			keptMetadata: []string{"plan", "utm_source", "country"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.consent, func(t *testing.T) {
			ld := plog.NewLogs()
			analyticsEvent(ld, tt.consent, extra)
			attrs := only(t, run(t, p, ld))
			for _, k := range tt.kept {
				_, ok := attrs.Get(k)
				assert.True(t, ok, "%s should be kept", k)
			}
			for _, k := range tt.gone {
				_, ok := attrs.Get(k)
				assert.False(t, ok, "%s should be removed", k)
			}
			md, _ := attrs.Get(schema.AttrMetadata)
			for _, k := range tt.keptMetadata {
				_, ok := md.Map().Get(k)
				assert.True(t, ok, "metadata.%s should be kept", k)
			}
			for _, k := range tt.goneMetadata {
				_, ok := md.Map().Get(k)
				assert.False(t, ok, "metadata.%s should be removed", k)
			}
			lvl := str(attrs, schema.AttrConsentLevel)
			assert.Equal(t, tt.level, lvl)
			anon, _ := attrs.Get(schema.AttrIsAnonymized)
			assert.True(t, anon.Bool())
		})
	}
}

func TestConsentFailsClosed(t *testing.T) {
	p := newTest(t, nil)
	for _, consent := range []string{"", "bogus", "Full"} {
		ld := plog.NewLogs()
		analyticsEvent(ld, consent, nil)
		out := run(t, p, ld)
		assert.Zero(t, out.LogRecordCount(), "consent %q must be treated as necessary, which does not allow user_action", consent)
	}

	// An error event at a missing consent level survives, without identifiers,
	// and its consent attribute says what was applied.
	ld := plog.NewLogs()
	lr := analyticsEvent(ld, "bogus@example.com", map[string]any{schema.AttrDuration: 12.5})
	lr.Attributes().PutStr(schema.AttrEventType, "error_tracking")
	attrs := only(t, run(t, p, ld))
	for _, id := range []string{schema.AttrUserID, schema.AttrDeviceID, schema.AttrSessionID} {
		_, ok := attrs.Get(id)
		assert.False(t, ok, "%s must be removed at necessary", id)
	}
	lvl := str(attrs, schema.AttrConsentLevel)
	assert.Equal(t, "necessary", lvl)
	d := str(attrs, AttrDecision)
	assert.Equal(t, "reduced", d)
}

func TestConsentDropMode(t *testing.T) {
	p := newTest(t, func(c *Config) { c.Consent.OnViolation = "drop" })
	ld := plog.NewLogs()
	analyticsEvent(ld, "analytics", map[string]any{schema.AttrPageReferrer: "https://x.example/"})
	analyticsEvent(ld, "analytics", map[string]any{schema.AttrPagePath: "/ok"})
	out := run(t, p, ld)
	assert.Equal(t, 1, out.LogRecordCount(), "the event carrying marketing data at analytics consent is dropped")
}

func TestPseudonymisation(t *testing.T) {
	p := newTest(t, nil)
	ld := plog.NewLogs()
	analyticsEvent(ld, "full", nil)
	analyticsEvent(ld, "full", nil)
	out := run(t, p, ld)
	a := out.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes()
	b := out.ResourceLogs().At(1).ScopeLogs().At(0).LogRecords().At(0).Attributes()
	ua := str(a, schema.AttrUserID)
	ub := str(b, schema.AttrUserID)
	assert.Len(t, ua, 32, "128 bits, hex")
	assert.Equal(t, ua, ub, "same id, same key: same pseudonym (joins work)")
	assert.NotContains(t, ua, "user-42")
	da := str(a, schema.AttrDeviceID)
	assert.NotEqual(t, ua, da)
	kid := str(a, AttrKeyID)
	assert.Equal(t, "k1", kid)

	// Another key gives other pseudonyms: a rotation breaks joins across it.
	p2 := newTest(t, func(c *Config) { c.Pseudonymize.Key = testKey + "-rotated"; c.Pseudonymize.KeyID = "k2" })
	ld = plog.NewLogs()
	analyticsEvent(ld, "full", nil)
	u2 := str(only(t, run(t, p2, ld)), schema.AttrUserID)
	assert.NotEqual(t, ua, u2)
}

func TestIPAddresses(t *testing.T) {
	p := newTest(t, nil)
	ld := plog.NewLogs()
	analyticsEvent(ld, "full", map[string]any{
		"client.address":       "203.0.113.77",
		"network.peer.address": "2001:db8:abcd:12:1:2:3:4",
		"source.address":       "203.0.113.9:5050",
		"http.client_ip":       "not-an-ip bob@example.com",
		schema.AttrMetadata:    map[string]any{"ip": "198.51.100.23"},
	})
	attrs := only(t, run(t, p, ld))
	v := str(attrs, "client.address")
	assert.Equal(t, "203.0.113.0", v)
	v = str(attrs, "network.peer.address")
	assert.Equal(t, "2001:db8:abcd::", v)
	v = str(attrs, "source.address")
	assert.Equal(t, "203.0.113.0", v)
	_, ok := attrs.Get("http.client_ip")
	assert.False(t, ok, "a value that is not an address is removed")
	md, _ := attrs.Get(schema.AttrMetadata)
	v = str(md.Map(), "ip")
	assert.Equal(t, "198.51.100.0", v)

	p = newTest(t, func(c *Config) { c.IP.Action = "drop" })
	ld = plog.NewLogs()
	analyticsEvent(ld, "full", map[string]any{"client.address": "203.0.113.77"})
	_, ok = only(t, run(t, p, ld)).Get("client.address")
	assert.False(t, ok)
}

func TestPIIMasking(t *testing.T) {
	p := newTest(t, nil)
	ld := plog.NewLogs()
	lr := analyticsEvent(ld, "full", map[string]any{
		schema.AttrPageTitle: "Contact bob@example.com or +44 20 7946 0958",
		schema.AttrMetadata: map[string]any{
			"note":  "card 4111 1111 1111 1111",
			"items": []any{"iban DE89 3704 0044 0532 0130 00", "fine"},
			"email": "not-an-email-but-sensitive-key",
			"deep":  map[string]any{"token": "Bearer abcdefghijklmnopqrstuvwxyz123456"},
		},
	})
	lr.Body().SetStr("user 123-45-6789 logged in from 10.1.2.3")
	out := run(t, p, ld)
	attrs := only(t, out)
	title := str(attrs, schema.AttrPageTitle)
	assert.Equal(t, "Contact [REDACTED:email] or [REDACTED:phone]", title)
	md, _ := attrs.Get(schema.AttrMetadata)
	dump := md.AsString() + out.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().AsString()
	for _, planted := range []string{"bob@example.com", "7946", "4111", "DE89", "123-45-6789", "10.1.2.3", "not-an-email-but-sensitive-key", "abcdefghijklmnopqrstuvwxyz123456"} {
		assert.NotContains(t, dump+title, planted)
	}
	assert.Contains(t, dump, "fine")
	masked, _ := attrs.Get(AttrMasked)
	assert.GreaterOrEqual(t, masked.Int(), int64(7))
}

func TestPIIActions(t *testing.T) {
	p := newTest(t, func(c *Config) {
		c.PII.Actions = map[string]string{"email": "hash", "phone": "drop_attribute", "credit_card": "drop_event"}
		c.PII.Custom = []CustomPattern{{Name: "member_id", Regex: `MBR-[0-9]{8}`, Action: "mask"}}
	})
	ld := plog.NewLogs()
	analyticsEvent(ld, "full", map[string]any{
		schema.AttrPageTitle: "mail bob@example.com member MBR-12345678",
		schema.AttrFeature:   "call +1 415 555 0100",
	})
	analyticsEvent(ld, "full", map[string]any{schema.AttrPageTitle: "card 4111111111111111"})
	out := run(t, p, ld)
	attrs := only(t, out)
	title := str(attrs, schema.AttrPageTitle)
	assert.Regexp(t, `^mail \[email:[0-9a-f]{32}\] member \[REDACTED:member_id\]$`, title)
	_, ok := attrs.Get(schema.AttrFeature)
	assert.False(t, ok, "drop_attribute removes the attribute")
}

func TestSensitiveKeys(t *testing.T) {
	p := newTest(t, nil)
	ld := plog.NewLogs()
	lr := analyticsEvent(ld, "full", map[string]any{
		"user.email":    "x",
		"customer.name": "Ada Lovelace",
		"service.name":  "checkout",
		"host.name":     "web-1",
	})
	lr.Attributes().PutEmptyMap(schema.AttrMetadata).PutStr("First-Name", "Ada")
	attrs := only(t, run(t, p, ld))
	for k, want := range map[string]string{"user.email": "[REDACTED]", "customer.name": "[REDACTED]", "service.name": "checkout", "host.name": "web-1"} {
		v := str(attrs, k)
		assert.Equal(t, want, v, k)
	}
	md, _ := attrs.Get(schema.AttrMetadata)
	v := str(md.Map(), "First-Name")
	assert.Equal(t, "[REDACTED]", v)
}

type fakeForget struct{ ids map[string]bool }

func (f fakeForget) Forgotten(id string) bool { return f.ids[id] }
func (f fakeForget) Start(context.Context, component.Host) error {
	return nil
}
func (f fakeForget) Shutdown(context.Context) error { return nil }

func TestForgottenUsersAreDropped(t *testing.T) {
	id := component.MustNewID("forget")
	p := newTest(t, func(c *Config) { c.Forget = id })
	require.ErrorContains(t, p.start(context.Background(), componenttest.NewNopHost()), `extension "forget" is not configured`)
	require.NoError(t, p.start(context.Background(), testutil.Host(map[component.ID]component.Component{id: fakeForget{ids: map[string]bool{"user-42": true}}})))

	ld := plog.NewLogs()
	analyticsEvent(ld, "full", nil)
	other := analyticsEvent(ld, "full", nil)
	other.Attributes().PutStr(schema.AttrUserID, "user-43")
	out := run(t, p, ld)
	assert.Equal(t, 1, out.LogRecordCount())
}

func TestTelemetry(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	cfg := createDefaultConfig().(*Config)
	cfg.Pseudonymize.Key = testKey
	set := processortest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	p, err := newPrivacyProcessor(set, cfg)
	require.NoError(t, err)

	ld := plog.NewLogs()
	analyticsEvent(ld, "", nil) // dropped: necessary forbids user_action
	analyticsEvent(ld, "analytics", map[string]any{schema.AttrPageTitle: "bob@example.com"})
	_, err = p.processLogs(context.Background(), ld)
	require.NoError(t, err)

	for name, want := range map[string][]string{
		"otelcol_processor_privacy_records_dropped":   {"consent_event_type"},
		"otelcol_processor_privacy_values_masked":     {"email"},
		"otelcol_processor_privacy_consent_decisions": {"unknown", "dropped", "analytics", "kept"},
	} {
		m, err := tel.GetMetric(name)
		require.NoError(t, err, name)
		s := strings.ToLower(strings.ReplaceAll(fmtAny(m.Data), " ", ""))
		for _, w := range want {
			assert.Contains(t, s, w, name)
		}
	}
}

func TestTracesAndMetrics(t *testing.T) {
	p := newTest(t, nil)
	td := ptrace.NewTraces()
	span := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	span.Attributes().PutStr("url.full", "https://api.example.com/v1?token=abcd1234secretvalue")
	span.Attributes().PutStr(schema.AttrUserID, "user-42")
	span.Events().AppendEmpty().Attributes().PutStr("message", "sent to bob@example.com")
	_, err := p.processTraces(context.Background(), td)
	require.NoError(t, err)
	u := str(span.Attributes(), "url.full")
	assert.NotContains(t, u, "abcd1234secretvalue")
	uid := str(span.Attributes(), schema.AttrUserID)
	assert.Len(t, uid, 32)
	msg := str(span.Events().At(0).Attributes(), "message")
	assert.NotContains(t, msg, "bob@example.com")

	md := pmetric.NewMetrics()
	m := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	dp := m.SetEmptySum().DataPoints().AppendEmpty()
	dp.Attributes().PutStr("customer", "bob@example.com")
	_, err = p.processMetrics(context.Background(), md)
	require.NoError(t, err)
	c := str(dp.Attributes(), "customer")
	assert.Equal(t, "[REDACTED:email]", c)
}

func fmtAny(v any) string { return strings.TrimSpace(sprint(v)) }

// The hasher's cache of recent pseudonyms returns exactly what the HMAC
// computes, for repeated values and for values that share a slot.
func TestHasherCacheIsExact(t *testing.T) {
	h := newHasher([]byte("0123456789abcdef0123456789abcdef"), 16)
	buf := []byte("user-00000")
	for i := range 3 * recentPseudonyms {
		copy(buf[5:], fmt.Sprintf("%05d", i%(2*recentPseudonyms/3)))
		// A string that aliases a buffer the caller reuses, as the
		// decoder's strings may.
		s := unsafe.String(&buf[0], len(buf))
		want := h.compute(s)
		if got := h.sum(s); got != want {
			t.Fatalf("sum(%q) = %s, want %s", s, got, want)
		}
	}
	copy(buf[5:], "00001")
	if got, want := h.sum("user-00001"), h.compute("user-00001"); got != want {
		t.Fatalf("after the buffer changed: %s, want %s", got, want)
	}
}
