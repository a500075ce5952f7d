package decoder

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestReasonCodes sends one event per kind of mistake and checks that every
// error the decoder raises carries a specific code, never "other".
func TestReasonCodes(t *testing.T) {
	now := time.Now()
	ts := now.Add(-time.Minute).UnixMilli()
	bodies := []string{
		`{"eventId":5}`,
		`{"eventId":"","platform":"tv","timestamp":1700000000,"dataRetentionDays":-1,"bogus":1,"eventId":"x"}`,
		`{"properties":{"metadata":{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":1}}}}}}}}}},"timestamp":` + itoa(int(now.Add(time.Hour).UnixMilli())) + `}`,
		`{"sessionId":"s","behavior":{"behaviorType":"navigation","sessionId":"other"},"timestamp":` + itoa(int(ts)) + `}`,
		`{"properties":{"duration":1.5e999,"value":"x"},"appVersion":"\xff"}`,
	}
	d := New(Options{})
	seen := map[Code]bool{}
	for _, b := range bodies {
		res, err := d.Decode(Events, []byte(b), now)
		if err != nil {
			continue
		}
		for _, r := range res.Rejected {
			if len(r.codes) != len(r.Errors) {
				t.Fatalf("%d codes for %d errors", len(r.codes), len(r.Errors))
			}
			if r.Code() != r.codes[0] {
				t.Errorf("Code() is %v, the first error's code %v", r.Code(), r.codes[0])
			}
			for i, e := range r.Errors {
				code := r.codes[i]
				if code == CodeOther {
					t.Errorf("reason %q of %s has no code", e.Reason, e.Field)
				}
				seen[code] = true
			}
		}
	}
	for _, c := range []Code{CodeMissing, CodeType, CodeRange, CodeEnum, CodeUnknownField, CodeDuplicate, CodeSize, CodeTime, CodeMismatch} {
		if !seen[c] {
			t.Errorf("no test input produced code %q", c)
		}
	}
}

// TestReasonCodesDocumented checks that the codes the decoder can raise
// (every Code value) are the reason values docs/metrics.md and the
// receiver's README list for otelcol_receiver_analytics_rejected_items,
// no more and no fewer.
func TestReasonCodesDocumented(t *testing.T) {
	var codes []string
	for c := range numCodes {
		codes = append(codes, c.String())
	}
	slices.Sort(codes)
	if len(slices.Compact(slices.Clone(codes))) != int(numCodes) {
		t.Fatalf("two codes share a label value: %v", codes)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]string{
		"docs/metrics.md":                      readDoc(t, "metrics.md"),
		"receiver/analyticsreceiver/README.md": string(readme),
	}
	for name, text := range docs {
		got := documentedCodes(t, name, text)
		if !slices.Equal(got, codes) {
			t.Errorf("%s lists reasons %v; the decoder's codes are %v", name, got, codes)
		}
	}
}

// documentedCodes returns, sorted, the backquoted words of the paragraph
// that introduces the rejected-items metric's reason label.
func documentedCodes(t *testing.T, name, text string) []string {
	t.Helper()
	for _, para := range strings.Split(text, "\n\n") {
		para = strings.Join(strings.Fields(para), " ")
		i := strings.Index(para, "rejected_items{endpoint, reason, field, platform}")
		if i < 0 {
			continue
		}
		// The list follows the first mention of the code(s).
		rest := para[i:]
		j := strings.Index(rest, "code of ")
		if j < 0 {
			continue
		}
		rest = rest[j:]
		if k := strings.Index(rest, ")"); k >= 0 {
			rest = rest[:k]
		}
		var out []string
		for _, m := range regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(rest, -1) {
			out = append(out, m[1])
		}
		slices.Sort(out)
		return out
	}
	t.Fatalf("%s: no paragraph lists the reasons of rejected_items{endpoint, reason, field, platform}", name)
	return nil
}
