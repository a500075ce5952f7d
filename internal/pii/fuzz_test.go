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
		// The detectors of issue 13: encoded and full-width values,
		// credentials, key prefixes, phones, separators, devices, versions.
		"?login_hint=jane%40example.com&tel=%2B4915123632299&r=https%253A%252F%252Fa.example.com%252F%253Ftoken%253DLk8Jh3Gf6Ds1Az4X",
		"ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ ４１１１ １１１１ １１１１ １１１１ %2%25%%4 \xef\xbc",
		"Authorization: Basic amFuZTpwYXNz, Token token=\"a7f3e9c1b5d2846f0e1a\", x-api-key: Zk9mQ2pL7xR4tV1s, password: hunter2!",
		"https://ghp_T3stT0kenAbCdEfGhIjKlMnOpQr@github.com/reset/Zx81Qm4LpR7sT2vW9yB3nK6d?sid=8f3kD92LmQx71Zp0;AccountKey=abc==",
		"xapp-1-A0X-1-0a1b2c whsec_MfKQ9r8GKYqrTwjUPD8I GOCSPX-Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss ya29.a0AfB_by hf_AbCd pypi-AgEIcHlwaS5vcmcX bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
		"0049 151 23632299 +44 (0)20 7946 0958 +1 415-555-0139x42 ext. 7",
		"4111.1111.1111.1111 5555\u00a05555\u00a05555\u00a04444 DE89.3704.0044.0532.0130.00 2001:db8::1.",
		"3c:22:fb:1a:9e:07 3C-22-FB-1A-9E-07 001a.2b3c.4d5e 490154203237518 35-209900-176148-1",
		"versionName 5.0.2.1 10.0.0.0/16 2.1.0.3-rc1 git@github.com:o/r.git from 4.1.0.7 to 4.2.0.0",
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
