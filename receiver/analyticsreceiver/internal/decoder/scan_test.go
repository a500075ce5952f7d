package decoder

import (
	"bytes"
	"encoding/json"
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/pulse-otel/pulse/internal/schema"
)

// replaceValue swaps the first occurrence of old in a marshalled body for
// raw JSON text (which may be invalid on purpose).
func replaceValue(body []byte, old, raw string) []byte {
	if !bytes.Contains(body, []byte(old)) {
		panic("not found: " + old)
	}
	return bytes.Replace(body, []byte(old), []byte(raw), 1)
}

// fastjson accepted all of these with a 200; none is JSON.
func TestStrictJSON(t *testing.T) {
	body := mustJSON(validEvent())
	cases := map[string][]byte{
		"NaN":                replaceValue(body, `"value":12.5`, `"value":NaN`),
		"-inf":               replaceValue(body, `"value":12.5`, `"value":-inf`),
		"Infinity":           replaceValue(body, `"value":12.5`, `"value":Infinity`),
		"leading zero":       replaceValue(body, `"duration":3400`, `"duration":030`),
		"bare fraction":      replaceValue(body, `"value":12.5`, `"value":.5`),
		"trailing point":     replaceValue(body, `"value":12.5`, `"value":1.`),
		"plus sign":          replaceValue(body, `"value":12.5`, `"value":+1`),
		"hex":                replaceValue(body, `"value":12.5`, `"value":0x10`),
		"empty exponent":     replaceValue(body, `"value":12.5`, `"value":1e`),
		"unknown escape":     replaceValue(body, `"workout"`, `"work\qout"`),
		"raw NUL":            replaceValue(body, `"workout"`, "\"work\x00out\""),
		"raw control":        replaceValue(body, `"workout"`, "\"work\x01out\""),
		"raw tab":            replaceValue(body, `"workout"`, "\"work\tout\""),
		"raw newline":        replaceValue(body, `"workout"`, "\"work\nout\""),
		"short \\u":          replaceValue(body, `"workout"`, `"work\u12out"`),
		"single quotes":      replaceValue(body, `"workout"`, `'workout'`),
		"trailing comma":     replaceValue(body, `"value":12.5`, `"value":12.5,`),
		"bare word":          replaceValue(body, `"workout"`, `workout`),
		"True":               replaceValue(body, `"value":12.5`, `"value":True`),
		"unclosed":           body[:len(body)-1],
		"comment":            append(append([]byte(nil), body...), "//"...),
		"vertical tab space": append([]byte("\v"), body...),
	}
	d := New(Options{})
	for name, b := range cases {
		if json.Valid(b) {
			t.Fatalf("%s: the test body is valid JSON", name)
		}
		res, err := d.Decode(Events, b, testNow)
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, res = %+v; want ErrMalformed", name, err, res)
			continue
		}
		if strings.Contains(err.Error(), "work") {
			t.Errorf("%s: the error echoes the body: %v", name, err)
		}
	}
	// Escaped control characters are fine.
	res := decode(t, Options{}, Events, replaceValue(body, `"workout"`, `"work\u0000\t\n\"out"`))
	if res.Accepted != 1 {
		t.Errorf("escaped controls: %+v", res.Rejected)
	}
}

// A lone surrogate escape is rejected as the forget API rejects it, naming
// the field; a pair is accepted.
func TestLoneSurrogate(t *testing.T) {
	body := mustJSON(validEvent())
	free := "holds a string with " + strings.TrimPrefix(schema.ReasonLoneSurrogate, "holds ")
	cases := []struct {
		name string
		body []byte
		want []FieldError
	}{
		{"high alone", replaceValue(body, `"workout"`, `"\ud800"`), fe("category", "", schema.ReasonLoneSurrogate)},
		{"low alone", replaceValue(body, `"dev-abc"`, `"u\udc00"`), fe("deviceId", "", schema.ReasonLoneSurrogate)},
		{"high then letter", replaceValue(body, `"dev-abc"`, `"\ud800\u0041"`), fe("deviceId", "", schema.ReasonLoneSurrogate)},
		{"in metadata", replaceValue(body, `"experiment":"b"`, `"experiment":"\udbff"`), fe("properties.metadata", "", free)},
		{"in a key", replaceValue(body, `"experiment":"b"`, `"\ud800":"b"`),
			fe("properties.metadata", "", "holds a field name with "+strings.TrimPrefix(schema.ReasonLoneSurrogate, "holds "))},
	}
	for _, c := range cases {
		res := decode(t, Options{}, Events, c.body)
		if res.Accepted != 0 || len(res.Rejected) != 1 {
			t.Errorf("%s: accepted %d, rejected %+v", c.name, res.Accepted, res.Rejected)
			continue
		}
		if got := res.Rejected[0].Errors; len(got) != 1 || got[0] != c.want[0] {
			t.Errorf("%s: errors %+v, want %+v", c.name, got, c.want)
		}
		if code := res.Rejected[0].Code(); code != CodeEncoding {
			t.Errorf("%s: code %q", c.name, code)
		}
	}
	if res := decode(t, Options{}, Events, replaceValue(body, `"workout"`, `"\ud83d\ude00"`)); res.Accepted != 1 {
		t.Errorf("a surrogate pair: %+v", res.Rejected)
	}
}

// Counts beyond 2^53-1 were silently rounded; now they are an error.
func TestInexactIntegers(t *testing.T) {
	body := mustJSON(validEvent())
	for _, n := range []string{"9007199254740992", "9007199254740993", "1e300"} {
		res := decode(t, Options{}, Events, replaceValue(body, `"interactionCount":2`, `"interactionCount":`+n))
		want := FieldError{Field: "behavior.interactionData.interactionCount", Value: "<number of 16 characters>", Reason: reasonInexact}
		if n == "1e300" {
			want.Value = n
		}
		if res.Accepted != 0 || res.Rejected[0].Errors[0] != want {
			t.Errorf("%s: %+v, want %+v", n, res.Rejected, want)
		}
	}
	res := decode(t, Options{}, Events, replaceValue(body, `"interactionCount":2`, `"interactionCount":9007199254740991`))
	if res.Accepted != 1 {
		t.Errorf("2^53-1: %+v", res.Rejected)
	}
}

// bigArrayEvent is an event whose properties.metadata is an array of n
// small numbers: a few KB gzipped.
func bigArrayEvent(n int) []byte {
	body := mustJSON(validEvent())
	var b strings.Builder
	b.WriteString(`"metadata":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('1')
	}
	b.WriteString(`]`)
	return replaceValue(body, `"metadata":{"cohort":3,"experiment":"b"}`, b.String())
}

// Issue 12 defect 2: an array over max_array_length was parsed whole
// (about 100 bytes per element) before the limit applied. Now the scan
// rejects it without parsing: the decode allocates a small fraction of the
// body.
func TestOversizedArrayIsNotParsed(t *testing.T) {
	body := bigArrayEvent(500_000) // 1 MB
	d := New(Options{})
	if _, err := d.Decode(Events, mustJSON(validEvent()), testNow); err != nil { // warm the pools
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res, err := d.Decode(Events, body, testNow)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	want := FieldError{Field: "properties.metadata", Reason: "holds an array of more than 1000 elements"}
	if res.Accepted != 0 || len(res.Rejected) != 1 || res.Rejected[0].Errors[0] != want {
		t.Fatalf("rejected %+v, want %+v", res.Rejected, want)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(len(body))/4 {
		t.Errorf("decoding a %d-byte body allocated %d bytes; the array must not be parsed", len(body), alloc)
	}
}

// Values past max_values_per_request refuse the request before any parse.
func TestTooManyValues(t *testing.T) {
	ev := validEvent()
	items := make([]any, 1000)
	for i := range items {
		items[i] = []any{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	}
	ev = set(ev, "properties.metadata", rec{"a": items})
	_, err := New(Options{MaxValues: 5000}).Decode(Events, mustJSON(ev), testNow)
	if !errors.Is(err, ErrTooManyValues) || !strings.Contains(err.Error(), "more than 5000 values") {
		t.Fatalf("err = %v", err)
	}
	if res := decode(t, Options{MaxValues: 20000}, Events, mustJSON(ev)); res.Accepted != 1 {
		t.Errorf("under the budget: %+v", res.Rejected)
	}
	// Rejected items do not count: they are not parsed.
	many := []any{}
	for range 10 {
		many = append(many, ev)
	}
	many = append(many, validEvent())
	res := decode(t, Options{MaxValues: 20000, MaxArrayLength: 100}, Events, mustJSON(many))
	if res.Accepted != 1 || len(res.Rejected) != 10 {
		t.Errorf("accepted %d, rejected %d", res.Accepted, len(res.Rejected))
	}
}

// The scan applies the limits per item: one bad item does not fail its
// neighbours, and errors name the field as the walker does.
func TestScanLimitsPerItem(t *testing.T) {
	long := strings.Repeat("x", 9000)
	evs := []any{
		validEvent(),
		set(validEvent(), "category", long),
		set(validEvent(), "behavior.conversionData.previousSteps", make([]string, 1001)),
		set(validEvent(), "properties.metadata", rec{"k": long}),
		validEvent(),
	}
	res := decode(t, Options{}, Events, mustJSON(evs))
	want := map[int]FieldError{
		1: {Field: "category", Value: "<string of 9000 bytes>", Reason: "longer than 8192 bytes"},
		2: {Field: "behavior.conversionData.previousSteps", Value: "<array>", Reason: "more than 1000 elements"},
		3: {Field: "properties.metadata", Reason: "holds a string longer than 8192 bytes"},
	}
	if res.Accepted != 2 || len(res.Rejected) != 3 {
		t.Fatalf("accepted %d, rejected %+v", res.Accepted, res.Rejected)
	}
	for _, r := range res.Rejected {
		if r.Errors[0] != want[r.Index] {
			t.Errorf("item %d: %+v, want %+v", r.Index, r.Errors[0], want[r.Index])
		}
	}
	// The wrapper form numbers items the same way.
	wrapped := append(append([]byte(`{"events":`), mustJSON(evs)...), '}')
	if res := decode(t, Options{}, Events, wrapped); res.Accepted != 2 || len(res.Rejected) != 3 || res.Rejected[2].Index != 3 {
		t.Errorf("wrapper: accepted %d, rejected %+v", res.Accepted, res.Rejected)
	}
}

// scanValid is the scan's verdict on syntax alone.
func scanValid(b []byte) (valid, deep bool) {
	lim := scanLimits{maxItems: 1 << 30, maxArray: 1 << 30, maxString: 1 << 30, maxDepth: 1 << 20, maxValues: 1 << 30, wrapper: "events"}
	var s scanner
	s.reset(b, &lim)
	err := s.scan()
	return !errors.Is(err, ErrMalformed), err != nil && strings.Contains(err.Error(), "nested deeper")
}

// FuzzScanValid: the scan's syntax verdict is encoding/json.Valid's on every
// input (bodies nested past 300 levels excepted: the scan refuses them).
func FuzzScanValid(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `[1,-0,0.5e+3,1E-2]`, `"\ud800"`, `{"a":[true,false,null]}`, ` 1 `, `01`, `1.`, `.5`, `-`, `"\q"`, "\"\x00\"", `{"a":1,}`, `[1 2]`, `{"a" 1}`, `"\u00"`, "\"\xff\"", `nul`, `{"events":5,"x":[}`} {
		f.Add([]byte(s))
	}
	f.Add(mustJSON(validEvent()))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, deep := scanValid(b)
		if deep {
			return
		}
		if want := json.Valid(b); got != want {
			t.Fatalf("scan says valid=%v, encoding/json says %v for %q", got, want, b)
		}
	})
}

// BenchmarkScan measures the pre-scan alone on the benchmark body; compare
// with BenchmarkFastjsonParse (the parse it guards) and BenchmarkDecodeEvents.
func BenchmarkScan(b *testing.B) {
	body := benchBody()
	lim := New(Options{}).limits[Events]
	s := new(scanner)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		s.reset(body, &lim)
		if err := s.scan(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFastjsonParse is the parse of the same body, whole.
func BenchmarkFastjsonParse(b *testing.B) {
	body := benchBody()
	var p fastjson.Parser
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.ParseBytes(body); err != nil {
			b.Fatal(err)
		}
	}
}

// Issue 11 defect 8: the receiver took user ids of up to 8192 bytes, the
// forget API 1024; one rule now (schema.MaxUserIDLength).
func TestUserIDLength(t *testing.T) {
	long := strings.Repeat("u", schema.MaxUserIDLength+1)
	for _, c := range []struct {
		kind Kind
		body []byte
		path string
	}{
		{Events, mustJSON(set(validEvent(), "userId", long)), "userId"},
		{Events, mustJSON(set(set(validEvent(), "userId", long), "behavior.userId", long)), "userId"},
		{Recommendations, mustJSON(set(validRecommendation(), "userId", long)), "userId"},
	} {
		res := decode(t, Options{}, c.kind, c.body)
		want := FieldError{Field: c.path, Value: "<string of 1025 bytes>", Reason: "longer than 1024 bytes (the longest user id Pulse accepts)"}
		if res.Accepted != 0 || !slices.Contains(res.Rejected[0].Errors, want) {
			t.Errorf("%s: %+v", c.kind, res.Rejected)
		}
	}
	at := strings.Repeat("u", schema.MaxUserIDLength)
	if res := decode(t, Options{}, Events, mustJSON(set(set(validEvent(), "userId", at), "behavior.userId", at))); res.Accepted != 1 {
		t.Errorf("at the limit: %+v", res.Rejected)
	}
}

// BenchmarkDecodeOversizedArray is issue 12's attack: one event whose
// metadata is an array of 2.4 M numbers (4.8 MiB). B/op is what one such
// request costs the decoder.
func BenchmarkDecodeOversizedArray(b *testing.B) {
	body := bigArrayEvent(2_400_000)
	d := New(Options{MaxValues: 1 << 30})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := d.Decode(Events, body, testNow)
		if err != nil || res.Accepted != 0 {
			b.Fatal(err)
		}
	}
}
