package decoder

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pulse-otel/pulse/internal/schema"
)

// The seed corpora live in testdata/fuzz/<FuzzName>/ and run with every
// `go test`. Run one target with, for example:
//
//	go test -run XXX -fuzz FuzzDecodeEvents -fuzztime 60s ./receiver/analyticsreceiver/internal/decoder/
//
// A crasher lands in testdata/fuzz/<FuzzName>/ and stays there as a
// regression seed. Regenerate the hand-made seeds with -write-fuzz-seeds.
var writeFuzzSeeds = flag.Bool("write-fuzz-seeds", false, "rewrite the seed corpora under testdata/fuzz")

func FuzzDecodeEvents(f *testing.F)          { fuzzDecode(f, Events) }
func FuzzDecodeRecommendations(f *testing.F) { fuzzDecode(f, Recommendations) }
func FuzzDecodeModelMetrics(f *testing.F)    { fuzzDecode(f, ModelMetrics) }
func FuzzDecodeBusinessMetrics(f *testing.F) { fuzzDecode(f, BusinessMetrics) }
func FuzzDecodeSystemMetrics(f *testing.F)   { fuzzDecode(f, SystemMetrics) }

func fuzzDecode(f *testing.F, k Kind) {
	f.Helper()
	decoders := []*Decoder{
		New(Options{}),
		// Tight limits reach every limit check with small inputs.
		New(Options{MaxEvents: 4, MaxDepth: 2, MaxStringLength: 24, MaxArrayLength: 3, MaxFutureSkew: time.Millisecond, DefaultRetention: time.Hour}),
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, d := range decoders {
			checkDecode(t, d, k, body)
		}
	})
}

var requestErrors = []error{ErrMalformed, ErrShape, ErrEmpty, ErrTooManyEvents}

// checkDecode asserts the properties every input must keep.
func checkDecode(t *testing.T, d *Decoder, k Kind, body []byte) {
	t.Helper()
	res, err := d.Decode(k, body, testNow)
	if err != nil {
		if res != nil {
			t.Fatalf("a result with error %v", err)
		}
		known := false
		for _, e := range requestErrors {
			known = known || errors.Is(err, e)
		}
		if !known {
			t.Fatalf("error %v wraps none of the request errors", err)
		}
		if !utf8.ValidString(err.Error()) {
			t.Fatalf("error message is not valid UTF-8: %q", err.Error())
		}
		return
	}
	n := countItems(k, body)
	if res.Accepted+len(res.Rejected) != n {
		t.Fatalf("Accepted %d + Rejected %d != %d items", res.Accepted, len(res.Rejected), n)
	}
	last := -1
	for _, r := range res.Rejected {
		if r.Index <= last || r.Index >= n {
			t.Fatalf("rejection index %d after %d, %d items", r.Index, last, n)
		}
		last = r.Index
		if len(r.Errors) == 0 || len(r.Errors) > maxErrorsPerEvent+1 {
			t.Fatalf("rejection %d has %d errors", r.Index, len(r.Errors))
		}
		// Every error is raised with its code; only the "N more errors"
		// marker, never first, has none.
		if len(r.codes) != len(r.Errors) || r.Code() == CodeOther {
			t.Fatalf("rejection %d: codes %v for errors %+v", r.Index, r.codes, r.Errors)
		}
		for _, e := range r.Errors {
			if e.Reason == "" {
				t.Fatalf("error without a reason: %+v", e)
			}
			if !utf8.ValidString(e.Field) || !utf8.ValidString(e.Value) || !utf8.ValidString(e.Reason) {
				t.Fatalf("error is not valid UTF-8: %+v", e)
			}
		}
	}
	if k.IsLogs() {
		checkLogs(t, d, res)
	} else {
		checkMetrics(t, d, res)
	}
}

// countItems counts the events of a request the way the wire contract
// describes its three forms.
func countItems(k Kind, body []byte) int {
	var p fastjson.Parser
	v, err := p.ParseBytes(body)
	if err != nil {
		return -1
	}
	switch v.Type() {
	case fastjson.TypeArray:
		return len(v.GetArray())
	case fastjson.TypeObject:
		if w := v.Get(k.Wrapper()); w != nil {
			return len(w.GetArray())
		}
		return 1
	}
	return -1
}

// A timestamp the decoder accepted lies between 1973 and 2262.
func sane(ts pcommon.Timestamp) bool {
	return ts >= pcommon.Timestamp(1e11*1e6) && ts <= pcommon.Timestamp(math.MaxInt64)
}

func checkLogs(t *testing.T, d *Decoder, res *Result) {
	t.Helper()
	if res.Metrics != (pmetric.Metrics{}) {
		t.Fatal("a log endpoint returned metrics")
	}
	if got := res.Logs.LogRecordCount(); got != res.Accepted || res.Items != res.Accepted {
		t.Fatalf("%d log records, Items %d, Accepted %d", got, res.Items, res.Accepted)
	}
	b, err := (&plog.ProtoMarshaler{}).MarshalLogs(res.Logs)
	if err != nil {
		t.Fatalf("MarshalLogs: %v", err)
	}
	back, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(b)
	if err != nil || back.LogRecordCount() != res.Accepted {
		t.Fatalf("proto round trip: %v", err)
	}
	now := pcommon.NewTimestampFromTime(testNow)
	for i := 0; i < res.Logs.ResourceLogs().Len(); i++ {
		rl := res.Logs.ResourceLogs().At(i)
		checkMapUTF8(t, "resource", rl.Resource().Attributes())
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			lrs := rl.ScopeLogs().At(j).LogRecords()
			for l := 0; l < lrs.Len(); l++ {
				lr := lrs.At(l)
				checkMapUTF8(t, lr.EventName(), lr.Attributes())
				if lr.ObservedTimestamp() != now {
					t.Fatalf("ObservedTimestamp %v", lr.ObservedTimestamp())
				}
				if lr.Timestamp() > now+pcommon.Timestamp(d.opts.MaxFutureSkew) || !sane(lr.Timestamp()) {
					t.Fatalf("accepted a record with Timestamp %v", lr.Timestamp().AsTime())
				}
				if v, ok := lr.Attributes().Get(schema.AttrIsValid); !ok || !v.Bool() {
					t.Fatalf("%s missing or false", schema.AttrIsValid)
				}
			}
		}
	}
}

func checkMetrics(t *testing.T, d *Decoder, res *Result) {
	t.Helper()
	if res.Logs != (plog.Logs{}) {
		t.Fatal("a metrics endpoint returned logs")
	}
	if got := res.Metrics.DataPointCount(); got != res.Items {
		t.Fatalf("%d points, Items %d", got, res.Items)
	}
	if res.Accepted == 0 && res.Items != 0 {
		t.Fatalf("%d points from no snapshot", res.Items)
	}
	b, err := (&pmetric.ProtoMarshaler{}).MarshalMetrics(res.Metrics)
	if err != nil {
		t.Fatalf("MarshalMetrics: %v", err)
	}
	back, err := (&pmetric.ProtoUnmarshaler{}).UnmarshalMetrics(b)
	if err != nil || back.DataPointCount() != res.Items {
		t.Fatalf("proto round trip: %v", err)
	}
	now := pcommon.NewTimestampFromTime(testNow)
	rms := res.Metrics.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		checkMapUTF8(t, "resource", rms.At(i).Resource().Attributes())
		sms := rms.At(i).ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			for m := 0; m < ms.Len(); m++ {
				dps := ms.At(m).Gauge().DataPoints()
				if dps.Len() == 0 {
					t.Fatalf("metric %s without points", ms.At(m).Name())
				}
				for p := 0; p < dps.Len(); p++ {
					dp := dps.At(p)
					checkMapUTF8(t, ms.At(m).Name(), dp.Attributes())
					if dp.Timestamp() > now+pcommon.Timestamp(d.opts.MaxFutureSkew) || !sane(dp.Timestamp()) || !sane(dp.StartTimestamp()) {
						t.Fatalf("%s: accepted a point at %v starting %v", ms.At(m).Name(), dp.Timestamp(), dp.StartTimestamp())
					}
				}
			}
		}
	}
}

func checkMapUTF8(t *testing.T, where string, m pcommon.Map) {
	t.Helper()
	for k, v := range m.All() {
		if !utf8.ValidString(k) {
			t.Fatalf("%s: attribute key %q is not valid UTF-8", where, k)
		}
		checkValueUTF8(t, where+"."+k, v)
	}
}

func checkValueUTF8(t *testing.T, where string, v pcommon.Value) {
	t.Helper()
	switch v.Type() {
	case pcommon.ValueTypeStr:
		if !utf8.ValidString(v.Str()) {
			t.Fatalf("%s: %q is not valid UTF-8", where, v.Str())
		}
	case pcommon.ValueTypeMap:
		checkMapUTF8(t, where, v.Map())
	case pcommon.ValueTypeSlice:
		for i := 0; i < v.Slice().Len(); i++ {
			checkValueUTF8(t, where, v.Slice().At(i))
		}
	}
}

// fuzzSeeds returns the hand-made seeds of one endpoint: valid requests in
// each form and their tricky variants.
func fuzzSeeds(k Kind) map[string][]byte {
	valid := mustJSON(validFor(k))
	golden, err := os.ReadFile(filepath.Join("testdata", k.String(), "input.json"))
	if err != nil {
		panic(err)
	}
	deep := func(opening, closing string, n int) string {
		return strings.Repeat(opening, n) + "1" + strings.Repeat(closing, n)
	}
	replaceFirst := func(b []byte, old, repl string) []byte {
		return bytes.Replace(b, []byte(old), []byte(repl), 1)
	}
	scalars := regexp.MustCompile(`:("[^"]*"|-?[0-9][0-9.eE+-]*|true|false)`)
	timestamp := regexp.MustCompile(`"timestamp":[0-9]+`)

	seeds := map[string][]byte{
		"valid_object":    valid,
		"valid_golden":    golden,
		"valid_array":     []byte("[" + string(valid) + "," + string(valid) + "]"),
		"valid_wrapper":   []byte(`{"` + k.Wrapper() + `":[` + string(valid) + `]}`),
		"bom":             append([]byte("\xef\xbb\xbf"), valid...),
		"whitespace":      []byte(" \t\r\n[ " + string(valid) + " ]\n"),
		"truncated":       valid[:len(valid)/2],
		"all_null":        scalars.ReplaceAll(valid, []byte(":null")),
		"empty_strings":   scalars.ReplaceAll(valid, []byte(`:""`)),
		"all_zero":        scalars.ReplaceAll(valid, []byte(`:0`)),
		"duplicate_root":  insertAfter("{", string(valid[1:bytes.IndexByte(valid, ',')+1]))(valid),
		"duplicate_esc":   insertAfter("{", `"timest\u0061mp":1,`)(valid),
		"invalid_utf8":    insertAfter("{", "\"k\xff\":\"v\xfe\",")(replaceFirst(valid, `":"`, "\":\"\xc3\x28")),
		"escapes":         replaceFirst(valid, `":"`, `":"\u00e9\ud83d\ude00\ud800\"\\\/\n\u0000`),
		"bad_escape":      replaceFirst(valid, `":"`, `":"\x\u12`),
		"nan":             timestamp.ReplaceAll(valid, []byte(`"timestamp":NaN`)),
		"inf":             scalars.ReplaceAll(valid, []byte(`:-Inf`)),
		"huge_numbers":    timestamp.ReplaceAll(valid, []byte(`"timestamp":1e400`)),
		"long_digits":     scalars.ReplaceAll(valid, []byte(`:123456789012345678901234567890`)),
		"lenient_numbers": scalars.ReplaceAll(valid, []byte(`:+01.`)),
		"tiny_numbers":    scalars.ReplaceAll(valid, []byte(`:-4.9e-324`)),
		"max_safe_time":   timestamp.ReplaceAll(valid, []byte(`"timestamp":9007199254740993`)),
		"fraction_time":   timestamp.ReplaceAll(valid, []byte(`"timestamp":1760011140000.000001`)),
		"deep_unknown":    insertAfter("{", `"x":`+deep("[", "]", 60)+",")(valid),
		"deep_root":       []byte(deep(`{"a":`, "}", 400)),
		"many_items":      []byte("[" + strings.Repeat("{},", 9) + "{}]"),
		"mixed_items":     []byte(`[1,"s",null,true,[],{}]`),
		"wrapper_scalar":  []byte(`{"` + k.Wrapper() + `":5}`),
		"wrapper_empty":   []byte(`{"` + k.Wrapper() + `":[]}`),
		"wrapper_dup":     []byte(`{"` + k.Wrapper() + `":[],"` + k.Wrapper() + `":[` + string(valid) + `]}`),
		"empty":           {},
		"scalar":          []byte(`"x"`),
	}
	if !k.IsLogs() {
		seeds["nan_start"] = regexp.MustCompile(`"(periodStart|startTime|start)":[0-9]+`).ReplaceAll(valid, []byte(`"$1":NaN`))
	}
	switch k {
	case Events:
		seeds["deep_metadata"] = mustJSON(set(validEvent(), "properties.metadata", map[string]any{"a": []any{map[string]any{"b": []any{[]any{[]any{[]any{[]any{[]any{1}}}}}}}}}))
		seeds["metadata_null_nan"] = replaceFirst(valid, `"cohort":3`, `"cohort":null,"n":NaN,"big":18446744073709551616,"neg":-9223372036854775809`)
		seeds["mismatched_behavior"] = mustJSON(set(validEvent(), "behavior.sessionId", "other"))
	case Recommendations:
		seeds["later_response"] = mustJSON(validResponse())
		seeds["null_timestamp"] = mustJSON([]any{validRecommendation(), set(validRecommendation(), "timestamp", nil)})
		seeds["null_timestamp_single"] = mustJSON(set(validRecommendation(), "timestamp", nil))
		seeds["deep_items"] = mustJSON(set(validRecommendation(), "recommendationData.items", []any{map[string]any{"a": map[string]any{"b": map[string]any{"c": []any{1}}}}}))
	case ModelMetrics:
		seeds["end_before_start"] = mustJSON(set(validModel(), "evaluationPeriod.endTime", tSnap-2*hour))
	case SystemMetrics:
		seeds["error_types_mixed"] = mustJSON(set(validSystem(), "errorMetrics.errorTypes", []any{map[string]any{"type": "a", "count": 1}, 5, map[string]any{"type": "a", "count": 1, "type2": 1}, nil}))
		seeds["error_types_dup"] = insertAfter(`"errorTypes":[{`, `"type":"x",`)(valid)
	}
	return seeds
}

var fuzzNames = map[Kind]string{
	Events:          "FuzzDecodeEvents",
	Recommendations: "FuzzDecodeRecommendations",
	ModelMetrics:    "FuzzDecodeModelMetrics",
	BusinessMetrics: "FuzzDecodeBusinessMetrics",
	SystemMetrics:   "FuzzDecodeSystemMetrics",
}

// TestWriteFuzzSeeds rewrites testdata/fuzz/<FuzzName>/seed_* when run with
// -write-fuzz-seeds; without it, it checks that every seed file is there.
func TestWriteFuzzSeeds(t *testing.T) {
	for _, k := range kinds() {
		dir := filepath.Join("testdata", "fuzz", fuzzNames[k])
		for name, body := range fuzzSeeds(k) {
			path := filepath.Join(dir, "seed_"+name)
			data := fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", body)
			if *writeFuzzSeeds {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, data, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if old, err := os.ReadFile(path); err != nil || !bytes.Equal(old, data) {
				t.Errorf("%s is missing or stale; run with -write-fuzz-seeds (%v)", path, err)
			}
		}
	}
}
