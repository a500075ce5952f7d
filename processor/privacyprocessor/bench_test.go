package privacyprocessor

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/redactionprocessor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/pulse-otel/pulse/internal/schema"
	"github.com/pulse-otel/pulse/processor/privacyprocessor/internal/metadata"
)

// The privacy processor against the stock alternative, the contrib
// redaction processor, on the same batches in the same run:
//
//	go test -run '^$' -bench 'Privacy|Redaction' -benchmem -count 6 ./processor/privacyprocessor/
//
// Both see a batch of benchBatchSize analytics events of about 1 KB each,
// shaped like the analytics receiver emits them, either without PII (the
// common case) or with five PII values per event.

const benchBatchSize = 100

// redactionBlockedValues are the redaction processor's blocked_values: one
// RE2 expression per PII type the privacy processor detects, as a careful
// user would write them. Regexes cannot check a Luhn digit, an IBAN's mod-97
// or an SSN's area/group/serial fully, and cannot look around a match, so
// they are looser than the pii scanner by nature. The redaction processor
// applies them in order, each to the output of the one before.
var redactionBlockedValues = []string{
	// url_secret: URL userinfo (user:password@) and the value of a
	// secret-like query or fragment parameter.
	`\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#@:]+:[^\s/?#@]+@`,
	// The parameter names are the pii scanner's (secretParam), '-' or '_'.
	`(?i)[?&#;](?:token|access[-_]token|api[-_]key|apikey|key|password|passwd|pwd|secret|auth|signature|sig|session|sessionid|code|refresh[-_]token|id[-_]token|auth[-_]token|client[-_]secret|session[-_]id|jsessionid|phpsessid|private[-_]token|x[-_]amz[-_]signature|x[-_]amz[-_]security[-_]token|x[-_]goog[-_]signature|access[-_]key|secret[-_]key)=[^&#\s"']+`,
	// jwt: three base64url segments, the header starting with eyJ.
	`\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`,
	// bearer_token.
	`(?i)\bbearer\s+[A-Za-z0-9\-._~+/]{16,}=*`,
	// api_key: well-known vendor prefixes.
	`\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,}`,
	`\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}`,
	`\bgh[pousr]_[A-Za-z0-9]{30,}`,
	`\bgithub_pat_[A-Za-z0-9_]{22,}`,
	`\bglpat-[A-Za-z0-9_-]{20,}`,
	`\b(?:AKIA|ASIA)[A-Z0-9]{16}\b`,
	`\bxox[abpr]-[A-Za-z0-9-]{10,}`,
	`\bAIza[A-Za-z0-9_-]{35}`,
	`\bnpm_[A-Za-z0-9]{36}\b`,
	`\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}`,
	// email.
	`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`,
	// iban: country, check digits, 11-30 alphanumerics, optionally in
	// groups of four.
	`\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b`,
	// credit_card: 13-19 digits with optional space or dash separators (no
	// Luhn check is possible).
	`\b(?:\d[ -]?){12,18}\d\b`,
	// ssn: AAA-GG-SSSS with a valid area (not 000, 666, 9xx), group and serial.
	`\b(?:00[1-9]|0[1-9]\d|[1-578]\d\d|6[0-57-9]\d|66[0-57-9])[- ](?:0[1-9]|[1-9]\d)[- ](?:000[1-9]|00[1-9]\d|0[1-9]\d\d|[1-9]\d{3})\b`,
	// phone: international (+CC ...), NANP, and national numbers with a
	// trunk 0 and separators.
	`\+[1-9]\d{0,2}(?:[ .-]?\(0?\d{1,4}\))?(?:[ .-]?\d{1,5}){1,5}\b`,
	`(?:\(\d{3}\) ?|\b(?:1[ .-])?\d{3}[ .-])\d{3}[ .-]\d{4}\b`,
	`\b0\d{1,4}[ /-]\d{2,8}(?:[ -]\d{2,4}){0,3}\b`,
	// ipv4: every octet 0-255.
	`\b(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\b`,
	// ipv6: eight groups, or fewer with "::", with an optional zone or
	// embedded IPv4 tail.
	`(?i)(?:\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b|\b(?:[0-9a-f]{1,4}:){1,6}(?::[0-9a-f]{1,4}){1,6}\b|\b(?:[0-9a-f]{1,4}:){1,7}:|::(?:[0-9a-f]{1,4}:){0,5}[0-9a-f]{1,4}\b)(?:%[0-9a-z]+)?`,
	`(?i)(?:\b(?:[0-9a-f]{1,4}:){6}|\b(?:[0-9a-f]{1,4}:){1,5}:|::(?:ffff(?::0{1,4})?:)?)(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b`,
}

// newRedactionConfig is the redaction processor configured as the peer:
// every key allowed, blocked_values masked, no summary attributes.
func newRedactionConfig() *redactionprocessor.Config {
	cfg := redactionprocessor.NewFactory().CreateDefaultConfig().(*redactionprocessor.Config)
	cfg.AllowAllKeys = true
	cfg.BlockedValues = redactionBlockedValues
	cfg.Summary = "silent"
	return cfg
}

// logsFunc processes a batch in place.
type logsFunc func(context.Context, plog.Logs) error

// newPrivacyFunc is the privacy processor with its default config, called
// directly (processLogs), as newTest builds it.
func newPrivacyFunc(tb testing.TB) logsFunc {
	tb.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.Pseudonymize.Key = testKey
	require.NoError(tb, cfg.Validate())
	p, err := newPrivacyProcessor(processortest.NewNopSettings(metadata.Type), cfg)
	require.NoError(tb, err)
	return func(ctx context.Context, ld plog.Logs) error {
		_, err := p.processLogs(ctx, ld)
		return err
	}
}

// newFactoryFunc is a processor built by its factory, feeding a nop
// consumer: ConsumeLogs is processorhelper plus the processor's own
// function. The redaction processor's function is unexported, so this is
// the only way to run it.
func newFactoryFunc(tb testing.TB, redaction bool) logsFunc {
	tb.Helper()
	ctx := context.Background()
	var (
		proc processor.Logs
		err  error
	)
	if redaction {
		f := redactionprocessor.NewFactory()
		cfg := newRedactionConfig()
		require.NoError(tb, cfg.Validate())
		proc, err = f.CreateLogs(ctx, processortest.NewNopSettings(f.Type()), cfg, consumertest.NewNop())
	} else {
		f := NewFactory()
		cfg := createDefaultConfig().(*Config)
		cfg.Pseudonymize.Key = testKey
		require.NoError(tb, cfg.Validate())
		proc, err = f.CreateLogs(ctx, processortest.NewNopSettings(f.Type()), cfg, consumertest.NewNop())
	}
	require.NoError(tb, err)
	require.NoError(tb, proc.Start(ctx, componenttest.NewNopHost()))
	tb.Cleanup(func() { require.NoError(tb, proc.Shutdown(ctx)) })
	return proc.ConsumeLogs
}

const safariUA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"

// benchPII are the five values planted in each PII-laden event: three in
// top-level free text, two in pulse.metadata.
var benchPII = map[string]string{
	"email":       "jane.doe@example.com",
	"phone":       "+49 30 12345678",
	"ipv4":        "203.0.113.42",
	"credit_card": "4111 1111 1111 1111",
	"iban":        "DE89 3704 0044 0532 0130 00",
}

// putBenchEvent fills lr with analytics event i as the analytics receiver
// emits it for an iOS app at consent level analytics, with a behaviour
// (interaction) object. The attributes are those the analytics consent
// level keeps, so both processors scan the same strings.
func putBenchEvent(lr plog.LogRecord, i int, withPII bool) {
	ts := time.Date(2024, 11, 25, 10, 20, 30, 0, time.UTC).Add(time.Duration(i) * time.Second)
	lr.SetEventName(schema.EventAnalytics)
	lr.SetTimestamp(pcommon.NewTimestampFromTime(ts))
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(ts.Add(850 * time.Millisecond)))

	elementText := "Tapped the 'Start workout' button on the summary card after finishing the warm-up routine."
	coachNote := "Completed 3 sets of 12 reps at 42.5 kg; rest 90 s between sets. Next: bench press, 4x8."
	program := "Strength Foundations - Week 3, day 2 (upper body)"
	if withPII {
		elementText = fmt.Sprintf("Tapped 'Contact coach' and typed: reach me at %s or %s, I'm on the gym wifi (%s).",
			benchPII["email"], benchPII["phone"], benchPII["ipv4"])
		coachNote = fmt.Sprintf("Paid the upgrade with %s; rest 90 s between sets. Next: bench press, 4x8.", benchPII["credit_card"])
		program = fmt.Sprintf("Refund the old plan to %s please", benchPII["iban"])
	}

	m := lr.Attributes()
	m.EnsureCapacity(40)
	m.PutStr(schema.AttrEventID, fmt.Sprintf("c8a1f7e2-3b4d-4e5f-9a6b-%012x", 0x7c8d9e0f0000+i))
	m.PutStr(schema.AttrSessionID, "5f2b8c1e-9d47-4a3b-b6e0-7c1d2e3f4a5b")
	m.PutStr(schema.AttrUserID, fmt.Sprintf("usr_8f14e45fceea167a5a36dedd4bea%04d", i%50))
	m.PutStr(schema.AttrDeviceID, "ios-6F9619FF-8B86-D011-B42D-00C04FC964FF")
	m.PutStr(schema.AttrEventType, "user_action")
	m.PutStr(schema.AttrCategory, "workout")
	m.PutStr(schema.AttrAction, "start_workout")
	m.PutStr(schema.AttrPage, "/workouts/strength/upper-body/session-summary")
	m.PutStr(schema.AttrFeature, "workout_tracker")
	m.PutDouble(schema.AttrValue, 42.5)
	m.PutDouble(schema.AttrDuration, 1834)
	md := m.PutEmptyMap(schema.AttrMetadata)
	md.PutStr("workout_id", "wk_2024_upper_body_03")
	md.PutStr("program", program)
	md.PutStr("coach_note", coachNote)
	md.PutStr("experiment", "onboarding_flow_v3 (variant B)")
	md.PutStr("theme", "dark_mode=true; font_scale=1.15")
	md.PutInt("sets", 3)
	md.PutDouble("heart_rate_avg", 128.4)
	m.PutStr(schema.AttrUserAgent, safariUA)
	m.PutStr(schema.AttrConsentLevel, "analytics")
	m.PutInt(schema.AttrDataRetentionDays, 365)
	m.PutStr(schema.AttrBehaviorType, "interaction")
	m.PutStr(schema.AttrPagePath, "/workouts/strength/upper-body/session-summary")
	m.PutStr(schema.AttrPageTitle, "Upper body strength - Session summary | FitTrack")
	m.PutDouble(schema.AttrPageTimeOnPage, 48210)
	m.PutDouble(schema.AttrPageScrollDep, 75)
	m.PutBool(schema.AttrPageExit, false)
	m.PutStr(schema.AttrInteractionElementType, "button")
	m.PutStr(schema.AttrInteractionElementID, "start-workout-btn")
	m.PutStr(schema.AttrInteractionElementText, elementText)
	m.PutDouble(schema.AttrInteractionClickX, 187.5)
	m.PutDouble(schema.AttrInteractionClickY, 642)
	m.PutInt(schema.AttrInteractionCount, 1)
	m.PutBool(schema.AttrIsValid, true)
	m.PutDouble(schema.AttrQualityScore, 0.93)
	m.PutStr(schema.AttrProcessingStatus, schema.ProcessingStatusProcessed)
	m.PutBool(schema.AttrIsAnonymized, false)
}

// benchBatch returns a batch as the analytics receiver emits one request:
// one resource (platform, app version), one scope, n events.
func benchBatch(n int, withPII bool) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr(schema.ResourcePlatform, "ios")
	rl.Resource().Attributes().PutStr(schema.ResourceAppVersion, "4.12.0")
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("github.com/pulse-otel/pulse/receiver/analyticsreceiver")
	lrs := sl.LogRecords()
	lrs.EnsureCapacity(n)
	for i := range n {
		putBenchEvent(lrs.AppendEmpty(), i, withPII)
	}
	return ld
}

// benchChunk is how many fresh batch copies are made per pause of the timer.
const benchChunk = 16

// benchProcess measures fn on copies of a pristine batch.
//
// Both processors mutate the batch in place, so every iteration needs a
// fresh copy, and the copy (a deep copy of 100 records, about half the
// privacy processor's own cost) must not be timed. Pre-building b.N copies
// would hold hundreds of megabytes for the privacy processor's b.N, and
// b.StopTimer/StartTimer around each single copy, while correct, pays two
// runtime.ReadMemStats (stop-the-world) per iteration. So copies are made
// benchChunk at a time with the timer stopped, into reused batches (CopyTo
// overwrites the destination completely: TestBenchEvents checks it), and
// the chunk is then processed with the timer running. Neither the time nor
// the allocations of the copies are counted: the testing package, and the
// per-event metrics below, count only while the timer runs. The garbage
// the copies leave can make the collector run during a timed chunk; that
// costs both processors alike.
func benchProcess(b *testing.B, fn logsFunc, withPII bool) {
	benchProcessBatch(b, fn, benchBatch(benchBatchSize, withPII))
}

// distinctBatch is benchBatch with every string value made unique per
// event, as in a batch that mixes many clients: nothing repeats between
// records, so no per-batch memo applies.
func distinctBatch(n int, withPII bool) plog.Logs {
	ld := benchBatch(n, withPII)
	rls := ld.ResourceLogs()
	i := 0
	for r := 0; r < rls.Len(); r++ {
		sls := rls.At(r).ScopeLogs()
		for s := 0; s < sls.Len(); s++ {
			lrs := sls.At(s).LogRecords()
			for l := 0; l < lrs.Len(); l++ {
				suffix := fmt.Sprintf(" v%d", i)
				i++
				lrs.At(l).Attributes().Range(func(k string, v pcommon.Value) bool {
					if v.Type() == pcommon.ValueTypeStr && k != schema.AttrConsentLevel && k != schema.AttrEventType {
						v.SetStr(v.Str() + suffix)
					}
					return true
				})
			}
		}
	}
	return ld
}

func benchProcessBatch(b *testing.B, fn logsFunc, pristine plog.Logs) {
	ctx := context.Background()
	work := make([]plog.Logs, benchChunk)
	for i := range work {
		work[i] = plog.NewLogs()
	}
	// Warm up: key caches, pools, lazily built state.
	pristine.CopyTo(work[0])
	require.NoError(b, fn(ctx, work[0]))

	var ms runtime.MemStats
	var mallocs, bytes uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.StopTimer()
	for done, n := 0, 0; done < b.N; done += n {
		n = min(benchChunk, b.N-done)
		for _, ld := range work[:n] {
			pristine.CopyTo(ld)
		}
		runtime.ReadMemStats(&ms)
		m0, b0 := ms.Mallocs, ms.TotalAlloc
		b.StartTimer()
		for _, ld := range work[:n] {
			if err := fn(ctx, ld); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		runtime.ReadMemStats(&ms)
		mallocs += ms.Mallocs - m0
		bytes += ms.TotalAlloc - b0
	}
	events := float64(b.N) * benchBatchSize
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/events, "ns/event")
	b.ReportMetric(float64(mallocs)/events, "allocs/event")
	b.ReportMetric(float64(bytes)/events, "B/event")
}

func BenchmarkPrivacyClean(b *testing.B) { benchProcess(b, newPrivacyFunc(b), false) }

// BenchmarkPrivacyCleanDistinct is the clean benchmark with no string
// repeated between events: the worst case for the per-batch memos.
func BenchmarkPrivacyCleanDistinct(b *testing.B) {
	benchProcessBatch(b, newPrivacyFunc(b), distinctBatch(benchBatchSize, false))
}

func BenchmarkRedactionClean(b *testing.B) { benchProcess(b, newFactoryFunc(b, true), false) }

func BenchmarkPrivacyPII(b *testing.B) { benchProcess(b, newPrivacyFunc(b), true) }

func BenchmarkRedactionPII(b *testing.B) { benchProcess(b, newFactoryFunc(b, true), true) }

// BenchmarkPrivacyCleanConsume is BenchmarkPrivacyClean through the
// factory's ConsumeLogs, the path the redaction processor is measured on:
// the difference is processorhelper's cost.
func BenchmarkPrivacyCleanConsume(b *testing.B) { benchProcess(b, newFactoryFunc(b, false), false) }

// TestBenchEvents checks that the benchmark events are what the benchmarks
// claim: about 1 KB, no finding in the clean event for either processor,
// and all five values masked by the privacy processor in the PII event.
func TestBenchEvents(t *testing.T) {
	ctx := context.Background()
	// About 1 KB: the JSON the app sends is about 1.3 KB, of which some
	// 830 bytes are string values; in OTLP, with the long attribute keys,
	// the record is about 1.9 KB.
	ld := benchBatch(1, false)
	strBytes := 0
	var count func(m pcommon.Map)
	count = func(m pcommon.Map) {
		for _, v := range m.All() {
			switch v.Type() {
			case pcommon.ValueTypeStr:
				strBytes += len(v.Str())
			case pcommon.ValueTypeMap:
				count(v.Map())
			}
		}
	}
	count(ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes())
	t.Logf("event: %d bytes of string values, %d bytes of OTLP protobuf", strBytes, (&plog.ProtoMarshaler{}).LogsSize(ld))
	assert.InDelta(t, 850, strBytes, 250, "events should be about 1 KB")

	text := func(ld plog.Logs) string {
		raw, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
		require.NoError(t, err)
		return string(raw)
	}
	for _, tc := range []struct {
		name string
		fn   logsFunc
	}{
		{"privacy", newPrivacyFunc(t)},
		{"redaction", newFactoryFunc(t, true)},
	} {
		clean := benchBatch(2, false)
		require.NoError(t, tc.fn(ctx, clean))
		out := text(clean)
		assert.NotContains(t, out, "REDACTED", "%s: clean event", tc.name)
		assert.NotContains(t, out, "****", "%s: clean event", tc.name)

		pii := benchBatch(2, true)
		require.NoError(t, tc.fn(ctx, pii))
		out = text(pii)
		var leaked []string
		for _, typ := range sortedKeys(benchPII) {
			if strings.Contains(out, benchPII[typ]) {
				leaked = append(leaked, typ)
			}
		}
		t.Logf("%s: PII event leaks %v", tc.name, leaked)
		// benchProcess reuses processed batches: CopyTo must restore them.
		fresh := benchBatch(2, true)
		fresh.CopyTo(pii)
		assert.Equal(t, text(fresh), text(pii), "%s: CopyTo over a processed batch", tc.name)
		if tc.name == "privacy" {
			assert.Empty(t, leaked)
			assert.Contains(t, out, `"pulse.privacy.masked","value":{"intValue":"5"}`)
		} else {
			// The top-level values are caught; the redaction processor
			// reads a map attribute's Str(), which is empty, so it never
			// looks inside pulse.metadata.
			assert.ElementsMatch(t, []string{"credit_card", "iban"}, leaked)
		}
	}
}
