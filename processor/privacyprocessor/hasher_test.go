package privacyprocessor

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// rfc4231Case2 is RFC 4231 test case 2: HMAC-SHA256("Jefe", "what do ya
// want for nothing?"). The forget extension's TestSubjectIsHMACSHA256 checks
// the same vector: the processor's pseudonyms and the extension's subjects
// are one HMAC (internal/pseudonym), the pseudonym a prefix of the subject.
const rfc4231Case2 = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"

func TestHasherIsTruncatedHMACSHA256(t *testing.T) {
	for _, n := range []int{16, 24, 32} {
		if got := newHasher([]byte("Jefe"), n).compute("what do ya want for nothing?"); got != rfc4231Case2[:2*n] {
			t.Errorf("bytes %d: %s, want %s", n, got, rfc4231Case2[:2*n])
		}
	}
	key := []byte("0123456789abcdef0123456789abcdef")
	h := newHasher(key, 16)
	for _, s := range []string{"", "u-1", "用户-7", strings.Repeat("long-user-id/", 40)} {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(s))
		if want := hex.EncodeToString(mac.Sum(nil)[:16]); h.compute(s) != want || h.sum(s) != want {
			t.Errorf("len %d: compute %s, sum %s, want %s", len(s), h.compute(s), h.sum(s), want)
		}
	}
}
