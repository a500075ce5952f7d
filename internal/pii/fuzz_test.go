package pii

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// mask replaces a match with as many '*' as it has bytes.
func mask(_ Match, v string) string { return strings.Repeat("*", len(v)) }

// checkMatches verifies Scan's contract for ms found in s.
func checkMatches(t *testing.T, s string, ms []Match) {
	t.Helper()
	boundary := make(map[int]bool, len(s)+1)
	for i := range s {
		boundary[i] = true
	}
	boundary[len(s)] = true
	last := 0
	for k, m := range ms {
		if m.Start < last || m.Start >= m.End || m.End > len(s) {
			t.Fatalf("match %d %+v: out of order, empty, overlapping or out of bounds (previous end %d, len %d)", k, m, last, len(s))
		}
		if !boundary[m.Start] || !boundary[m.End] {
			t.Fatalf("match %d %+v splits a rune in %q", k, m, s)
		}
		if m.Type < Email || m.Type > Custom {
			t.Fatalf("match %d has invalid type %d", k, m.Type)
		}
		if (m.Type == Custom) != (m.Pattern >= 0) {
			t.Fatalf("match %d %+v: Pattern must be >= 0 exactly for Custom", k, m)
		}
		last = m.End
	}
}

func FuzzScan(f *testing.F) {
	for _, s := range []string{
		"",
		"mail jane.doe@example.com or call +44 20 7946 0958",
		"card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, ssn 123-45-6789",
		"from 192.168.1.1 and [2001:db8::1]:443, v1.2.3.4",
		"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlX2hlcmU",
		"https://u:p@h.example.com/x?token=abc123&key=AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
		"\xff\xfe@\xc3example.com 日本語 +81 3-1234-5678 \xe2\x82",
	} {
		f.Add(s)
	}
	// Custom patterns are word-bounded, as sensible ones are: one that cuts
	// a word in two changes what the rest of the word looks like once
	// redacted.
	sc, err := New(Options{Custom: []Pattern{{Name: "employee", Regex: `\bEMP-[0-9]{4,8}\b`}, {Name: "word", Regex: `(?i)\bs[eé]cret\w*`}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms := sc.Scan(nil, s)
		checkMatches(t, s, ms)

		// Scan appends: a prefix in dst is kept as it was.
		pre := []Match{{Type: Email, Start: -7, End: -3, Pattern: -1}}
		ms2 := sc.Scan(pre, s)
		if len(ms2) != len(ms)+1 || ms2[0] != pre[0] {
			t.Fatalf("Scan with a dst prefix: got %d matches, want %d after the prefix", len(ms2)-1, len(ms))
		}
		for k := range ms {
			if ms2[k+1] != ms[k] {
				t.Fatalf("Scan with a dst prefix: match %d differs: %+v vs %+v", k, ms2[k+1], ms[k])
			}
		}

		if len(ms) == 0 {
			if r := Redact(s, ms, mask); r != s {
				t.Fatalf("Redact without matches changed the string")
			}
			return
		}
		// No PII survives a mask: rescanning the redacted string finds none
		// of the values found before.
		values := make(map[string]bool, len(ms))
		for _, m := range ms {
			values[s[m.Start:m.End]] = true
		}
		r := Redact(s, ms, mask)
		if len(r) != len(s) {
			t.Fatalf("mask changed the length: %d -> %d", len(s), len(r))
		}
		if utf8.ValidString(s) && !utf8.ValidString(r) {
			t.Fatalf("Redact broke valid UTF-8: %q -> %q", s, r)
		}
		for _, m := range sc.Scan(nil, r) {
			if v := r[m.Start:m.End]; values[v] {
				t.Fatalf("value %q (%s) found again after redaction\noriginal: %q\nredacted: %q", v, m.Type, s, r)
			}
		}
	})
}
