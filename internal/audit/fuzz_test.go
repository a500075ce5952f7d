package audit

import (
	"bytes"
	"testing"
	"time"
)

// FuzzDecodeLine: whatever the bytes, decodeLine does not panic, and what it
// accepts is canonical (re-encodes to the same bytes) and self-consistent
// (its hash covers it); a line that decoded with a changed byte fails.
func FuzzDecodeLine(f *testing.F) {
	r := Record{Seq: 7, Time: time.Date(2026, 12, 1, 10, 0, 0, 123000, time.UTC), Entry: Entry{
		Action: ActionForget, Actor: "oidc:9f2c", Source: "client:77aa", Object: "u_1",
		Details: map[string]string{"effective": "2026-12-01T10:00:00Z", "new": "true", "<&>": "\u2028"},
	}, Prev: "00ab"}
	line, err := seal(&r)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(bytes.TrimSuffix(line, []byte{'\n'}))
	f.Add([]byte(`{"seq":1,"time":"2026-12-01T10:00:00Z","action":"a","actor":"b","prev":"","hash":""}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"Seq":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, problem, err := decodeLine(b)
		if err != nil {
			if problem == "" {
				t.Fatalf("error without a problem: %v", err)
			}
			return
		}
		re, err := seal(&r)
		if err != nil {
			t.Fatalf("accepted record does not encode: %v", err)
		}
		if !bytes.Equal(bytes.TrimSuffix(re, []byte{'\n'}), b) {
			t.Fatalf("accepted non-canonical line:\n%s\n%s", b, re)
		}
		for i := range b {
			mod := bytes.Clone(b)
			mod[i] ^= 0x01
			if _, _, err := decodeLine(mod); err == nil {
				t.Fatalf("byte %d changed and the line still decodes: %s", i, mod)
			}
		}
	})
}
