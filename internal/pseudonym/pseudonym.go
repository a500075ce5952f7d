// Package pseudonym computes the keyed HMAC-SHA256 of identifiers, the one
// form in which Pulse knows a user: the privacy processor writes a
// truncated, hex-encoded prefix of it as the pseudonym, and the forget
// extension keeps the full digest as the subject of a forget request, each
// under its own key. One implementation, so that the two cannot drift apart
// in what they hash or how.
//
// It is crypto/hmac and crypto/sha256 with pooled states, so that hashing
// allocates nothing (Sum) or only the returned string (Hex): each pooled
// HMAC has its padded key states precomputed, and a string's bytes are lent
// to Write without a copy.
package pseudonym // import "github.com/pulse-otel/pulse/internal/pseudonym"

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"slices"
	"sync"
	"unsafe"
)

// Size is the length of a digest in bytes.
const Size = sha256.Size

// HMAC computes HMAC-SHA256 under one key; safe for concurrent use.
type HMAC struct {
	pool sync.Pool
}

// state is a keyed HMAC with its output buffer, pooled together.
type state struct {
	mac hash.Hash
	sum [Size]byte
}

// New returns an HMAC keyed with a copy of key.
func New(key []byte) *HMAC {
	k := slices.Clone(key)
	h := &HMAC{}
	h.pool.New = func() any {
		mac := hmac.New(sha256.New, k)
		mac.Reset() // precomputes the padded key states
		return &state{mac: mac}
	}
	return h
}

// Sum returns HMAC-SHA256(key, s).
func (h *HMAC) Sum(s string) [Size]byte {
	st := h.pool.Get().(*state)
	st.mac.Reset()
	// Write does not retain or modify its argument, so the string's bytes
	// are safe to lend without a copy.
	st.mac.Write(unsafe.Slice(unsafe.StringData(s), len(s)))
	st.mac.Sum(st.sum[:0])
	sum := st.sum
	h.pool.Put(st)
	return sum
}

// Hex returns the first n bytes (1 to Size) of Sum(s), hex-encoded: 2n
// lower-case digits.
func (h *HMAC) Hex(s string, n int) string {
	sum := h.Sum(s)
	var out [2 * Size]byte
	hex.Encode(out[:], sum[:n])
	return string(out[:2*n])
}
