package forgetextension // import "github.com/pulse-otel/pulse/extension/forgetextension"

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// Storage layout. A storage client cannot list its keys, so the set is kept
// in numbered chunks found from one meta key:
//
//	forget.meta           JSON {"format":1,"recordSize":56,"chunks":N,"keyCheck":"<32 hex>"}
//	forget.chunk.000000   records 0..1023, 56 bytes each, in arrival order
//	forget.chunk.000001   records 1024..2047
//	...                   chunk N-1 holds the newest records, 1 to 1024 of them
//
// A record is subject (32 bytes, the full HMAC-SHA256) | requestId (16
// bytes) | receivedAt (8 bytes, big-endian Unix seconds). A new request
// rewrites only the last chunk (at most 56 KiB); when that chunk is full
// it writes a new chunk and then the meta key, all in one Batch (one
// transaction in file_storage; with a store whose Batch is not atomic a
// crash between the two leaves an unreferenced chunk that the next request
// overwrites). Requests read from the sync topic are appended the same
// way, many per Batch. Nothing is acknowledged before its write returns.
//
// keyCheck is HMAC-SHA256(key, keyCheckLabel)[:16]: it tells whether the
// stored subjects were made with the configured key without revealing it.
const (
	metaKey        = "forget.meta"
	chunkKeyFormat = "forget.chunk.%06d"
	storageFormat  = 1
	recordSize     = sha256.Size + requestIDSize + 8
	requestIDSize  = 16
	keyCheckLabel  = "pulse/forgetextension/key-check/v1"
)

// chunkRecords is the number of records per chunk; a variable for tests.
var chunkRecords = 1024

type requestID [requestIDSize]byte

func (id requestID) String() string { return hex.EncodeToString(id[:]) }

func parseRequestID(s string) (requestID, bool) {
	var id requestID
	if len(s) != 2*requestIDSize {
		return id, false
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, false
	}
	return id, true
}

// record is the audit record of one forget request.
type record struct {
	subject    subject
	id         requestID
	receivedAt time.Time // UTC, whole seconds
}

func (r *record) appendBinary(b []byte) []byte {
	b = append(b, r.subject[:]...)
	b = append(b, r.id[:]...)
	return binary.BigEndian.AppendUint64(b, uint64(r.receivedAt.Unix()))
}

func decodeRecord(b []byte) record {
	var r record
	copy(r.subject[:], b[:sha256.Size])
	copy(r.id[:], b[sha256.Size:sha256.Size+requestIDSize])
	r.receivedAt = time.Unix(int64(binary.BigEndian.Uint64(b[sha256.Size+requestIDSize:])), 0).UTC()
	return r
}

type storedMeta struct {
	Format     int    `json:"format"`
	RecordSize int    `json:"recordSize"`
	Chunks     int    `json:"chunks"`
	KeyCheck   string `json:"keyCheck"`
}

func keyCheck(key []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(keyCheckLabel))
	return hex.EncodeToString(mac.Sum(nil)[:16])
}

func chunkKey(i int) string { return fmt.Sprintf(chunkKeyFormat, i) }

// errKeyMismatch is returned by load when the stored requests were made with
// another key.
var errKeyMismatch = errors.New("the stored forget requests were made with a different key (key check mismatch): " +
	"restore the previous key, or move the storage file away to start with an empty set")

// maxChunks bounds what a (possibly corrupt) meta record may ask the loader
// to read: a billion forgotten users.
const maxChunks = 1 << 20

// store persists the records in a storage client. It is used under the
// extension's write lock.
type store struct {
	client storage.Client
	meta   storedMeta
	last   []byte // the encoded last chunk, as stored
}

// load reads every stored record. It fails on any inconsistency rather than
// starting with fewer forgotten users than were acknowledged.
func (s *store) load(ctx context.Context, key []byte) ([]record, error) {
	check := keyCheck(key)
	raw, err := s.client.Get(ctx, metaKey)
	if err != nil {
		return nil, fmt.Errorf("reading %q: %w", metaKey, err)
	}
	if raw == nil {
		s.meta = storedMeta{Format: storageFormat, RecordSize: recordSize, KeyCheck: check}
		return nil, nil
	}
	var meta storedMeta
	if err := json.Unmarshal(raw, &meta); err != nil {
		return nil, fmt.Errorf("%q is not valid JSON: %w", metaKey, err)
	}
	switch {
	case meta.Format != storageFormat:
		return nil, fmt.Errorf("%q: format %d is not supported (this version reads format %d)", metaKey, meta.Format, storageFormat)
	case meta.RecordSize != recordSize:
		return nil, fmt.Errorf("%q: recordSize %d is not supported (expected %d)", metaKey, meta.RecordSize, recordSize)
	case meta.Chunks < 0 || meta.Chunks > maxChunks:
		return nil, fmt.Errorf("%q: chunks must be between 0 and %d, got %d", metaKey, maxChunks, meta.Chunks)
	case !hmac.Equal([]byte(meta.KeyCheck), []byte(check)):
		return nil, errKeyMismatch
	}
	ops := make([]*storage.Operation, meta.Chunks)
	for i := range ops {
		ops[i] = storage.GetOperation(chunkKey(i))
	}
	if len(ops) > 0 {
		if err := s.client.Batch(ctx, ops...); err != nil {
			return nil, fmt.Errorf("reading the chunks: %w", err)
		}
	}
	var recs []record
	for i, op := range ops {
		switch {
		case op.Value == nil:
			return nil, fmt.Errorf("%q is missing (%q says there are %d chunks)", op.Key, metaKey, meta.Chunks)
		case len(op.Value) == 0 || len(op.Value)%recordSize != 0:
			return nil, fmt.Errorf("%q: length %d is not a positive multiple of %d", op.Key, len(op.Value), recordSize)
		}
		for b := op.Value; len(b) > 0; b = b[recordSize:] {
			recs = append(recs, decodeRecord(b[:recordSize]))
		}
		if i == len(ops)-1 {
			s.last = op.Value
		}
	}
	s.meta = meta
	return recs, nil
}

// append persists one record; on error nothing in s changed.
func (s *store) append(ctx context.Context, r *record) error {
	return s.appendAll(ctx, []record{*r})
}

// appendAll persists records in one Batch: the last chunk rewritten once
// with as many as fit, the rest in new chunks, then the meta key when the
// chunk count changed. The records read from the sync topic at start
// arrive by thousands; one write each would rewrite the last chunk as many
// times. On error nothing in s changed.
func (s *store) appendAll(ctx context.Context, recs []record) error {
	if len(recs) == 0 {
		return nil
	}
	meta, last := s.meta, s.last
	var ops []*storage.Operation
	if meta.Chunks > 0 && len(last)/recordSize < chunkRecords {
		last = append(make([]byte, 0, len(last)+min(len(recs), chunkRecords)*recordSize), last...)
		for len(recs) > 0 && len(last)/recordSize < chunkRecords {
			last = recs[0].appendBinary(last)
			recs = recs[1:]
		}
		ops = append(ops, storage.SetOperation(chunkKey(meta.Chunks-1), last))
	}
	for len(recs) > 0 {
		n := min(len(recs), chunkRecords)
		last = make([]byte, 0, n*recordSize)
		for i := range recs[:n] {
			last = recs[i].appendBinary(last)
		}
		recs = recs[n:]
		meta.Chunks++
		ops = append(ops, storage.SetOperation(chunkKey(meta.Chunks-1), last))
	}
	if meta.Chunks != s.meta.Chunks {
		rawMeta, err := json.Marshal(meta)
		if err != nil {
			return err
		}
		ops = append(ops, storage.SetOperation(metaKey, rawMeta))
	}
	if err := s.client.Batch(ctx, ops...); err != nil {
		return err
	}
	s.meta, s.last = meta, last
	return nil
}
