package forgetextension // import "github.com/pulse-otel/pulse/extension/forgetextension"

import (
	"crypto/hmac"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The sync topic's records. One record per forget request:
//
//	key    the subject, 64 lowercase hex digits: compaction keeps one
//	       record per user, and no record holds the raw id
//	value  {"format":1,"keyCheck":"<32 hex>","requestId":"<32 hex>","receivedAt":"2025-05-01T12:00:00Z"}
//
// keyCheck is the storage's key check (store.go): a gateway configured
// with another key computes other subjects, so it refuses the record
// rather than store a subject it can never match. requestId and
// receivedAt are the ones the accepting gateway answered, so the audit
// record reads the same on every gateway. JSON rather than the storage's
// fixed 56 bytes: operators read the topic with kcat, and a later format
// can add fields.
const topicFormat = 1

type topicValue struct {
	Format     int    `json:"format"`
	KeyCheck   string `json:"keyCheck"`
	RequestID  string `json:"requestId"`
	ReceivedAt string `json:"receivedAt"`
}

// encodeTopicRecord returns the key and value of r's record.
func encodeTopicRecord(r *record, check string) (key, value []byte) {
	key = hex.AppendEncode(nil, r.subject[:])
	value, _ = json.Marshal(topicValue{ // only strings and an int: cannot fail
		Format:     topicFormat,
		KeyCheck:   check,
		RequestID:  r.id.String(),
		ReceivedAt: r.receivedAt.Format(time.RFC3339),
	})
	return key, value
}

// errTombstone is the reason a record without a value is ignored: a forget
// request cannot be undone, neither by the API nor through the topic.
var errTombstone = errors.New("a tombstone (a record without a value): forget requests cannot be undone, the record is ignored")

// errForeignKey is the reason a record made with another key is refused.
var errForeignKey = errors.New("made with a different forget key (keyCheck mismatch): " +
	"every gateway sharing the topic must be configured with the same key")

// decodeTopicRecord reads one record of the topic. Errors describe what is
// wrong by lengths and field names only: a record this extension did not
// write could hold anything, raw ids included.
func decodeTopicRecord(key, value []byte, check string) (record, error) {
	var r record
	if value == nil {
		return r, errTombstone
	}
	if len(key) != 2*len(r.subject) {
		return r, fmt.Errorf("key: must be %d hex digits, got %d bytes", 2*len(r.subject), len(key))
	}
	if _, err := hex.Decode(r.subject[:], key); err != nil {
		return r, fmt.Errorf("key: must be %d hex digits, got other bytes", 2*len(r.subject))
	}
	var v topicValue
	if err := json.Unmarshal(value, &v); err != nil {
		return r, fmt.Errorf("value: not the JSON object of format %d (%d bytes)", topicFormat, len(value))
	}
	if v.Format != topicFormat {
		return r, fmt.Errorf("value: format %d is not supported (this version reads format %d)", v.Format, topicFormat)
	}
	if !hmac.Equal([]byte(v.KeyCheck), []byte(check)) {
		return r, errForeignKey
	}
	id, ok := parseRequestID(v.RequestID)
	if !ok {
		return r, fmt.Errorf("value: requestId must be %d hex digits", 2*requestIDSize)
	}
	at, err := time.Parse(time.RFC3339, v.ReceivedAt)
	if err != nil {
		return r, errors.New("value: receivedAt must be an RFC 3339 time")
	}
	r.id, r.receivedAt = id, at.UTC().Truncate(time.Second)
	return r, nil
}
