package forgetextension // import "github.com/pulse-otel/pulse/extension/forgetextension"

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"sync"
)

// subject is HMAC-SHA256(key, userId): the only form in which a user is
// known to the extension.
type subject [sha256.Size]byte

// prefix is the first 16 hex digits of the subject: what logs and answers
// show, enough to match an audit record with a request, useless to find
// the user without the key.
func (s subject) prefix() string { return hex.EncodeToString(s[:8]) }

// hasher computes subjects without allocating: each pooled state holds an
// HMAC whose inner and outer SHA-256 states were precomputed from the key
// (crypto/hmac saves them at the first Reset), and a buffer the raw id is
// copied through, so no string is converted to a []byte.
type hasher struct {
	pool sync.Pool
}

type hashState struct {
	mac hash.Hash
	buf [256]byte
	sum [sha256.Size]byte
}

func newHasher(key []byte) *hasher {
	key = append([]byte(nil), key...)
	h := &hasher{}
	h.pool.New = func() any {
		mac := hmac.New(sha256.New, key)
		mac.Reset() // precomputes the padded key states
		return &hashState{mac: mac}
	}
	return h
}

func (h *hasher) subject(userID string) subject {
	st := h.pool.Get().(*hashState)
	st.mac.Reset()
	for len(userID) > 0 {
		n := copy(st.buf[:], userID)
		st.mac.Write(st.buf[:n])
		userID = userID[n:]
	}
	st.mac.Sum(st.sum[:0])
	s := subject(st.sum)
	h.pool.Put(st)
	return s
}

// forgottenSet is an immutable snapshot of the forgotten subjects. The
// extension swaps a new one in atomically for every new request, so
// Forgotten reads it without a lock.
type forgottenSet struct {
	m map[subject]struct{}
}

// Forgotten reports whether a forget request exists for this raw user id.
// While none exists it is one atomic load; otherwise one HMAC and one map
// lookup, without allocating.
func (e *forgetExtension) Forgotten(userID string) bool {
	set := e.forgotten.Load()
	if set == nil {
		return false
	}
	_, ok := set.m[e.hasher.subject(userID)]
	return ok
}
