package loadgen

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"sync/atomic"
	"time"
)

// Request is one pre-encoded request.
type Request struct {
	Path        string
	ContentType string
	Body        []byte
	// Events is how many events (or recommendations, or snapshots) it carries.
	Events int
	// Kind is "events", "recommendations" or "snapshots".
	Kind string
	// stamps are the offsets of the event timestamps in Body, rewritten to
	// the send time by Stamped: as ASCII epoch milliseconds (JSON) or as
	// little-endian fixed64 nanoseconds (OTLP).
	stamps []int
	// ids are the offsets of idSuffix in Body, replaced at each send by the
	// send's number, so that every send carries new eventIds and
	// recommendationIds (the connector counts a repeated id once).
	ids  []int
	otlp bool
}

// idSuffix ends every eventId and recommendationId loadgen writes; Stamped
// replaces it with the send's number in 16 hex digits (the same width, so
// JSON and protobuf bodies keep their lengths).
const idSuffix = "@@@@@@@@@@@@@@@@"

// sends numbers the bodies Stamped writes.
var sends atomic.Uint64

// Fresh reports whether Stamped must run before the body is sent.
func (r Request) Fresh() bool { return len(r.stamps) > 0 || len(r.ids) > 0 }

// Stamped returns a copy of the body with every event timestamp set to now
// and every id made new (see idSuffix),
// so that pre-encoded requests carry fresh events.
func (r Request) Stamped(now time.Time) []byte { return r.StampedAs(now, sends.Add(1)) }

// StampedAs is Stamped with the ids of send number n.
func (r Request) StampedAs(now time.Time, n uint64) []byte {
	b := bytes.Clone(r.Body)
	if len(r.ids) > 0 {
		var hex [16]byte
		for i := range hex {
			hex[15-i] = "0123456789abcdef"[n>>(4*i)&15]
		}
		for _, off := range r.ids {
			copy(b[off:off+16], hex[:])
		}
	}
	if r.otlp {
		ns := uint64(now.UnixNano())
		for _, off := range r.stamps {
			binary.LittleEndian.PutUint64(b[off:], ns)
		}
		return b
	}
	var ms [13]byte
	strconv.AppendInt(ms[:0], now.UnixMilli(), 10)
	for _, off := range r.stamps {
		copy(b[off:off+13], ms[:])
	}
	return b
}

// stampOffsets finds every occurrence of pattern in body.
func stampOffsets(body, pattern []byte) []int {
	var offs []int
	for i := 0; ; {
		j := bytes.Index(body[i:], pattern)
		if j < 0 {
			return offs
		}
		offs = append(offs, i+j)
		i += j + len(pattern)
	}
}
