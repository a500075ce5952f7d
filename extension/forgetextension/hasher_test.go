package forgetextension

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// TestSubjectIsHMACSHA256 checks RFC 4231 test case 2, the vector the
// privacy processor's TestHasherIsTruncatedHMACSHA256 checks: a subject is
// the full HMAC-SHA256 of which the processor's pseudonym is a prefix.
func TestSubjectIsHMACSHA256(t *testing.T) {
	const want = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
	s := newHasher([]byte("Jefe")).subject("what do ya want for nothing?")
	if got := hex.EncodeToString(s[:]); got != want {
		t.Errorf("subject %s, want %s", got, want)
	}
	if s.prefix() != want[:16] {
		t.Errorf("prefix %s, want %s", s.prefix(), want[:16])
	}
	key := []byte("test-key-0123456789abcdef0123456789")
	h := newHasher(key)
	for _, id := range []string{"", "u-1", "用户-7", strings.Repeat("long-user-id/", 40)} {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id))
		if got := h.subject(id); !hmac.Equal(got[:], mac.Sum(nil)) {
			t.Errorf("len %d: subject %x, want %x", len(id), got, mac.Sum(nil))
		}
	}
}
