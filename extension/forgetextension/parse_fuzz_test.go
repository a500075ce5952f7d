package forgetextension

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzParseForget feeds arbitrary bodies to the forget API's body parser.
// It must never panic; an error is a 400 whose message is short, printable
// and never echoes the body (a user id is personal data); an accepted body
// holds one userId that encoding/json reads the same, and that parses back
// to itself when sent again.
func FuzzParseForget(f *testing.F) {
	for _, s := range []string{
		`{"userId":"u-123"}`, ` {"userId":"user@example.com"} `, `{"userId":"\ud83d\ude00"}`, `{"userId":"caf\u00e9"}`,
		`{"userId":`, `{"userId" "u"}`, `{"userId":42}`, `{"userId":null}`, `{}`, `{"userId":""}`,
		`{"userId":"u","reason":"gdpr"}`, `{"userId":"u"} {}`, `{"userId":"decoy","userId":"u"}`,
		`{"userId":"u","user\u0049d":"decoy"}`, `{"USERID":"u"}`, `{"userId":"\ud800"}`, `[{"userId":"u"}]`,
		`"u"`, "{\"userId\":\"a\xffb\"}", `{"userId":"` + strings.Repeat("x", 1025) + `"}`,
	} {
		f.Add([]byte(s))
	}
	src, err := os.ReadFile("http.go")
	if err != nil {
		f.Fatal(err)
	}
	// Text the messages may hold: what http.go writes, and the JSON kinds
	// encoding/json names.
	vocabulary := string(src) + " number string array object bool null "
	f.Fuzz(func(t *testing.T, body []byte) {
		id, status, msg := parseForget(body)
		if msg != "" || status != 0 {
			if status != http.StatusBadRequest || msg == "" || id != "" {
				t.Fatalf("error answer: status %d, message %q, id %q", status, msg, id)
			}
			if len(msg) > 200 || !utf8.ValidString(msg) || strings.ContainsFunc(msg, func(r rune) bool { return !unicode.IsPrint(r) }) {
				t.Fatalf("message is not short printable text: %q", msg)
			}
			for _, word := range words(body) {
				if !strings.Contains(vocabulary, word) && strings.Contains(msg, word) {
					t.Fatalf("message %q echoes %q of the body", msg, word)
				}
			}
			return
		}
		if id == "" || len(id) > maxUserIDLength || !utf8.ValidString(id) {
			t.Fatalf("accepted id %q (%d bytes)", id, len(id))
		}
		var std struct{ UserID string }
		if err := json.Unmarshal(body, &std); err != nil || std.UserID != id {
			t.Fatalf("accepted %q, encoding/json reads %q (%v)", id, std.UserID, err)
		}
		again, _ := json.Marshal(map[string]string{"userId": id})
		if id2, status, msg := parseForget(again); id2 != id || status != 0 {
			t.Fatalf("accepted %q, re-encoded as %s it parses to %q (status %d, %s)", id, again, id2, status, msg)
		}
	})
}

// words returns the runs of letters and digits in b that are 6 or more
// bytes long and hold a letter: text a message could echo.
func words(b []byte) []string {
	var out []string
	s := string(b)
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if len(w) >= 6 && strings.IndexFunc(w, unicode.IsLetter) >= 0 {
			out = append(out, w)
		}
	}
	return out
}
