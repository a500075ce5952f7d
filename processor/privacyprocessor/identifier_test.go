package privacyprocessor

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/pulse-otel/pulse/internal/schema"
	"github.com/pulse-otel/pulse/internal/testutil"
	"github.com/pulse-otel/pulse/processor/privacyprocessor/internal/metadata"
)

const forgottenID = "4242012345"

// newForgetting returns a processor whose forget extension has forgotten
// forgottenID, and the telemetry it records to.
func newForgetting(t *testing.T) (*privacyProcessor, *componenttest.Telemetry) {
	t.Helper()
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	id := component.MustNewID("forget")
	cfg := createDefaultConfig().(*Config)
	cfg.Pseudonymize.Key = testKey
	cfg.Forget = id
	require.NoError(t, cfg.Validate())
	set := processortest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	p, err := newPrivacyProcessor(set, cfg)
	require.NoError(t, err)
	host := testutil.Host(map[component.ID]component.Component{id: fakeForget{ids: map[string]bool{forgottenID: true}}})
	require.NoError(t, p.start(context.Background(), host))
	return p, tel
}

// otlpLogs decodes an OTLP/JSON request holding one analytics record with
// the given attributes (a JSON array of OTLP KeyValues): the only way to
// build a map with a key twice, which OTLP wire data may hold.
func otlpLogs(t *testing.T, attrs string) plog.Logs {
	t.Helper()
	body := `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"eventName":"pulse.event","attributes":[` +
		`{"key":"pulse.event.type","value":{"stringValue":"user_action"}},` +
		`{"key":"pulse.consent_level","value":{"stringValue":"full"}},` + attrs + `]}]}]}]}`
	ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs([]byte(body))
	require.NoError(t, err)
	return ld
}

func TestIdentifierRule(t *testing.T) {
	tests := []struct {
		name   string
		set    func(m pcommon.Map) // on a full-consent analytics event
		attrs  string              // or: OTLP/JSON attributes of a record
		reason string              // "" when kept
		want   string              // the raw id the kept record's user.id is the pseudonym of
	}{
		{name: "forgotten string", set: func(m pcommon.Map) { m.PutStr(schema.AttrUserID, forgottenID) }, reason: "forgotten"},
		{name: "forgotten int", set: func(m pcommon.Map) { m.PutInt(schema.AttrUserID, 4242012345) }, reason: "forgotten"},
		{name: "forgotten double", set: func(m pcommon.Map) { m.PutDouble(schema.AttrUserID, 4242012345.0) }, reason: "forgotten"},
		{name: "forgotten int over OTLP", attrs: `{"key":"user.id","value":{"intValue":"4242012345"}}`, reason: "forgotten"},
		{name: "forgotten double over OTLP", attrs: `{"key":"user.id","value":{"doubleValue":4242012345.0}}`, reason: "forgotten"},
		{name: "decoy first, then the forgotten id", attrs: `{"key":"user.id","value":{"stringValue":"decoy"}},{"key":"user.id","value":{"stringValue":"4242012345"}}`, reason: "forgotten"},
		{name: "decoy first, then the forgotten int", attrs: `{"key":"user.id","value":{"stringValue":"decoy"}},{"key":"user.id","value":{"intValue":"4242012345"}}`, reason: "forgotten"},
		{name: "two ids", attrs: `{"key":"user.id","value":{"stringValue":"a"}},{"key":"user.id","value":{"stringValue":"b"}}`, reason: "duplicate_identifier"},
		{name: "the same id twice", attrs: `{"key":"user.id","value":{"stringValue":"a"}},{"key":"user.id","value":{"stringValue":"a"}}`, reason: "duplicate_identifier"},
		{name: "two device ids", attrs: `{"key":"user.id","value":{"stringValue":"a"}},{"key":"device.id","value":{"stringValue":"d"}},{"key":"device.id","value":{"intValue":"7"}}`, reason: "duplicate_identifier"},
		{name: "int", set: func(m pcommon.Map) { m.PutInt(schema.AttrUserID, 4242012346) }, want: "4242012346"},
		{name: "negative int", set: func(m pcommon.Map) { m.PutInt(schema.AttrUserID, -7) }, want: "-7"},
		{name: "integral double", set: func(m pcommon.Map) { m.PutDouble(schema.AttrUserID, 4242012346) }, want: "4242012346"},
		{name: "double 2^60 is its exact value", set: func(m pcommon.Map) { m.PutDouble(schema.AttrUserID, 1<<60) }, want: "1152921504606846976"},
		{name: "negative zero", set: func(m pcommon.Map) { m.PutDouble(schema.AttrUserID, math.Copysign(0, -1)) }, want: "0"},
		{name: "string", set: func(m pcommon.Map) { m.PutStr(schema.AttrUserID, "4242012345.0") }, want: "4242012345.0"},
		{name: "fraction", set: func(m pcommon.Map) { m.PutDouble(schema.AttrUserID, 4242012345.5) }, reason: "invalid_identifier"},
		{name: "double beyond int64", set: func(m pcommon.Map) { m.PutDouble(schema.AttrUserID, 1<<63) }, reason: "invalid_identifier"},
		{name: "bool", set: func(m pcommon.Map) { m.PutBool(schema.AttrUserID, true) }, reason: "invalid_identifier"},
		{name: "map", set: func(m pcommon.Map) { m.PutEmptyMap(schema.AttrUserID).PutStr("id", forgottenID) }, reason: "invalid_identifier"},
		{name: "slice", set: func(m pcommon.Map) { m.PutEmptySlice(schema.AttrUserID).AppendEmpty().SetStr(forgottenID) }, reason: "invalid_identifier"},
		{name: "bytes", set: func(m pcommon.Map) { m.PutEmptyBytes(schema.AttrUserID).FromRaw([]byte(forgottenID)) }, reason: "invalid_identifier"},
		{name: "empty", set: func(m pcommon.Map) { m.PutEmpty(schema.AttrUserID) }, reason: "invalid_identifier"},
		{name: "bool device id", set: func(m pcommon.Map) { m.PutBool(schema.AttrDeviceID, false) }, reason: "invalid_identifier"},
		{name: "int session id", set: func(m pcommon.Map) { m.PutInt(schema.AttrSessionID, 9) }, want: "user-42"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, tel := newForgetting(t)
			ld := plog.NewLogs()
			if tt.set != nil {
				tt.set(analyticsEvent(ld, "full", nil).Attributes())
			} else {
				ld = otlpLogs(t, tt.attrs)
			}
			out := run(t, p, ld)
			dropped := dropCounts(t, tel)
			if tt.reason != "" {
				assert.Zero(t, out.LogRecordCount(), "the record is dropped")
				assert.Equal(t, map[string]int64{tt.reason: 1}, dropped)
				return
			}
			attrs := only(t, out)
			assert.Empty(t, dropped)
			uid, _ := attrs.Get(schema.AttrUserID)
			require.Equal(t, pcommon.ValueTypeStr, uid.Type())
			assert.Equal(t, p.hasher.compute(tt.want), uid.Str(), "the pseudonym of the id's decimal string")
			for _, k := range []string{schema.AttrDeviceID, schema.AttrSessionID} {
				v, _ := attrs.Get(k)
				assert.Equal(t, pcommon.ValueTypeStr, v.Type(), k)
				assert.Len(t, v.Str(), 32, k)
			}
		})
	}
}

// dropCounts returns otelcol_processor_privacy_records_dropped by reason.
func dropCounts(t *testing.T, tel *componenttest.Telemetry) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	m, err := tel.GetMetric("otelcol_processor_privacy_records_dropped")
	if err != nil {
		return out // nothing dropped yet
	}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		r, _ := dp.Attributes.Value("reason")
		out[r.AsString()] += dp.Value
	}
	return out
}

// A user.id on the resource counts for every record under it.
func TestResourceIdentifiers(t *testing.T) {
	for name, set := range map[string]func(pcommon.Map){
		"forgotten": func(m pcommon.Map) { m.PutInt(schema.AttrUserID, 4242012345) },
		"invalid":   func(m pcommon.Map) { m.PutBool(schema.AttrUserID, true) },
	} {
		t.Run(name, func(t *testing.T) {
			p, _ := newForgetting(t)
			ld := plog.NewLogs()
			analyticsEvent(ld, "full", nil)
			rl := ld.ResourceLogs().At(0)
			set(rl.Resource().Attributes())
			rl.ScopeLogs().At(0).LogRecords().At(0).CopyTo(rl.ScopeLogs().At(0).LogRecords().AppendEmpty())
			kept := analyticsEvent(ld, "full", nil) // another resource
			kept.Attributes().PutStr(schema.AttrUserID, "someone-else")
			assert.Equal(t, 1, run(t, p, ld).LogRecordCount())

			td := ptrace.NewTraces()
			rs := td.ResourceSpans().AppendEmpty()
			set(rs.Resource().Attributes())
			rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty().SetName("checkout")
			td, err := p.processTraces(context.Background(), td)
			require.NoError(t, err)
			assert.Zero(t, td.SpanCount())

			md := pmetric.NewMetrics()
			rm := md.ResourceMetrics().AppendEmpty()
			set(rm.Resource().Attributes())
			rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty().SetEmptyGauge().DataPoints().AppendEmpty().SetIntValue(1)
			md, err = p.processMetrics(context.Background(), md)
			require.NoError(t, err)
			assert.Zero(t, md.DataPointCount())
		})
	}
}

// Spans and data points follow the same identifier rule as log records.
func TestSpanAndPointIdentifiers(t *testing.T) {
	p, _ := newForgetting(t)
	td := ptrace.NewTraces()
	spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	spans.AppendEmpty().Attributes().PutDouble(schema.AttrUserID, 4242012345)
	spans.AppendEmpty().Attributes().PutBool(schema.AttrSessionID, true)
	kept := spans.AppendEmpty()
	kept.Attributes().PutInt(schema.AttrUserID, 7)
	// The same key on the span and on one of its events is no duplicate.
	kept.Events().AppendEmpty().Attributes().PutStr(schema.AttrUserID, "7")
	td, err := p.processTraces(context.Background(), td)
	require.NoError(t, err)
	require.Equal(t, 1, td.SpanCount())
	uid, _ := spans.At(0).Attributes().Get(schema.AttrUserID)
	assert.Equal(t, p.hasher.compute("7"), uid.Str())
	uid, _ = spans.At(0).Events().At(0).Attributes().Get(schema.AttrUserID)
	assert.Equal(t, p.hasher.compute("7"), uid.Str())

	md := pmetric.NewMetrics()
	dps := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty().SetEmptySum().DataPoints()
	dps.AppendEmpty().Attributes().PutInt(schema.AttrUserID, 4242012345)
	dps.AppendEmpty().Attributes().PutInt(schema.AttrUserID, 8)
	md, err = p.processMetrics(context.Background(), md)
	require.NoError(t, err)
	require.Equal(t, 1, md.DataPointCount())
	uid, _ = dps.At(0).Attributes().Get(schema.AttrUserID)
	assert.Equal(t, p.hasher.compute("8"), uid.Str())
}

// With user.id left out of pseudonymisation, the forget check still sees
// every copy and every type of it.
func TestForgetKeyWithoutPseudonym(t *testing.T) {
	id := component.MustNewID("forget")
	p := newTest(t, func(c *Config) {
		c.Forget = id
		c.Pseudonymize.Attributes = []string{schema.AttrDeviceID, schema.AttrSessionID}
		for name, l := range c.Consent.Levels {
			if len(l.Identifiers) > 0 {
				l.Identifiers = c.Pseudonymize.Attributes
				c.Consent.Levels[name] = l
			}
		}
	})
	require.NoError(t, p.start(context.Background(), testutil.Host(map[component.ID]component.Component{id: fakeForget{ids: map[string]bool{forgottenID: true}}})))
	ld := plog.NewLogs()
	analyticsEvent(ld, "full", nil).Attributes().PutInt(schema.AttrUserID, 4242012345)
	assert.Zero(t, run(t, p, ld).LogRecordCount())
	assert.Zero(t, run(t, p, otlpLogs(t, `{"key":"user.id","value":{"stringValue":"x"}},{"key":"user.id","value":{"stringValue":"4242012345"}}`)).LogRecordCount())
	assert.Zero(t, run(t, p, otlpLogs(t, `{"key":"user.id","value":{"stringValue":"x"}},{"key":"user.id","value":{"stringValue":"y"}}`)).LogRecordCount())

	ld = plog.NewLogs()
	analyticsEvent(ld, "full", nil).Attributes().PutInt(schema.AttrUserID, 7)
	uid, _ := only(t, run(t, p, ld)).Get(schema.AttrUserID)
	assert.Equal(t, int64(7), uid.Int(), "not pseudonymised: this config does not ask for it")
}

func TestTooManyIdentifiers(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Pseudonymize.Key = testKey
	cfg.Pseudonymize.Attributes = nil
	for i := range 64 {
		cfg.Pseudonymize.Attributes = append(cfg.Pseudonymize.Attributes, fmt.Sprintf("id.%d", i))
	}
	assert.ErrorContains(t, cfg.Validate(), "pseudonymize.attributes: at most 63 attributes, got 64")
}
