package forgetextension // import "github.com/pulse-otel/pulse/extension/forgetextension"

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/pulse-otel/pulse/internal/pseudonym"
)

// subject is HMAC-SHA256(key, userId): the only form in which a user is
// known to the extension. It is the full digest, not the privacy
// processor's truncated hex pseudonym (the same HMAC, internal/pseudonym):
// it is stored and compared as a map key, never shown.
type subject [sha256.Size]byte

// prefix is the first 16 hex digits of the subject: what logs and answers
// show, enough to match an audit record with a request, useless to find
// the user without the key.
func (s subject) prefix() string { return hex.EncodeToString(s[:8]) }

// hasher computes subjects without allocating (internal/pseudonym pools
// HMAC states whose padded key states are precomputed).
type hasher struct {
	mac *pseudonym.HMAC
}

func newHasher(key []byte) *hasher { return &hasher{mac: pseudonym.New(key)} }

func (h *hasher) subject(userID string) subject { return h.mac.Sum(userID) }

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
