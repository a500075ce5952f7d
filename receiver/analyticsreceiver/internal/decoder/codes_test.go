package decoder

import (
	"testing"
	"time"
)

// TestReasonCodes sends one event per kind of mistake and checks that every
// reason the decoder writes maps to a specific code, never "other".
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
	seen := map[string]bool{}
	for _, b := range bodies {
		res, err := d.Decode(Events, []byte(b), now)
		if err != nil {
			continue
		}
		for _, r := range res.Rejected {
			for _, e := range r.Errors {
				code := ReasonCode(e.Reason)
				if code == CodeOther {
					t.Errorf("reason %q of %s has no code", e.Reason, e.Field)
				}
				seen[code] = true
			}
		}
	}
	for _, c := range []string{CodeMissing, CodeType, CodeRange, CodeEnum, CodeUnknownField, CodeDuplicate, CodeSize, CodeTime, CodeMismatch} {
		if !seen[c] {
			t.Errorf("no test input produced code %q", c)
		}
	}
}
