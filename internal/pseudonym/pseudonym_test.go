package pseudonym

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
)

// RFC 4231 test case 2.
const (
	jefeKey  = "Jefe"
	jefeData = "what do ya want for nothing?"
	jefeMAC  = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
)

func TestRFC4231(t *testing.T) {
	h := New([]byte(jefeKey))
	if s := h.Sum(jefeData); hex.EncodeToString(s[:]) != jefeMAC {
		t.Errorf("Sum = %x, want %s", s, jefeMAC)
	}
	for n := 1; n <= Size; n++ {
		if got := h.Hex(jefeData, n); got != jefeMAC[:2*n] {
			t.Errorf("Hex(%d) = %s, want %s", n, got, jefeMAC[:2*n])
		}
	}
}

func TestMatchesCryptoHMAC(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	h := New(key)
	for _, s := range []string{"", "u-1", "用户-7", strings.Repeat("long-user-id/", 40)} {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(s))
		want := mac.Sum(nil)
		if got := h.Sum(s); !hmac.Equal(got[:], want) {
			t.Errorf("len %d: Sum %x, want %x", len(s), got, want)
		}
		if got := h.Hex(s, 16); got != hex.EncodeToString(want[:16]) {
			t.Errorf("len %d: Hex %s, want %x", len(s), got, want[:16])
		}
	}
}

// The key is copied: changing the caller's slice changes nothing.
func TestKeyCopied(t *testing.T) {
	key := []byte(jefeKey)
	h := New(key)
	key[0] = 'X'
	if got := h.Hex(jefeData, Size); got != jefeMAC {
		t.Errorf("after the key slice changed: %s, want %s", got, jefeMAC)
	}
}

func TestConcurrent(t *testing.T) {
	h := New([]byte(jefeKey))
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if got := h.Hex(jefeData, Size); got != jefeMAC {
					errs <- got
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for got := range errs {
		t.Errorf("concurrent Hex = %s, want %s", got, jefeMAC)
	}
}

func TestSumAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts mean nothing under the race detector")
	}
	h := New([]byte(jefeKey))
	if n := testing.AllocsPerRun(100, func() { _ = h.Sum(jefeData) }); n != 0 {
		t.Errorf("Sum allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = h.Hex(jefeData, 16) }); n > 1 {
		t.Errorf("Hex allocates %v times, want at most the returned string", n)
	}
}

func BenchmarkHex16(b *testing.B) {
	h := New([]byte("0123456789abcdef0123456789abcdef"))
	b.ReportAllocs()
	for b.Loop() {
		_ = h.Hex("user-0123456789", 16)
	}
}
