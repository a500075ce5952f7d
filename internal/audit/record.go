package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Actions: the activities recorded.
const (
	ActionForget         = "forget.request"    // a forget request accepted
	ActionRetention      = "retention.execute" // one retention execution (what it deleted)
	ActionRulesSync      = "rules.sync"        // pulsectl rules sync
	ActionDashboardsSync = "dashboards.sync"   // pulsectl dashboards sync
	ActionConfigLoad     = "config.load"       // a component started with a config / policy version
	ActionKeyRotation    = "key.rotate"        // a pseudonymisation key id changed
)

// MaxRecordBytes bounds one encoded record: an audit entry names things, it
// does not carry payloads.
const MaxRecordBytes = 64 << 10

// Entry is what a caller records. No raw PII in any field: pseudonyms,
// roles, component ids, hashes only.
type Entry struct {
	Action  string            `json:"action"`
	Actor   string            `json:"actor"`            // who: "admin-token", "oidc:<hmac of subject>", "pulsectl", a component id
	Source  string            `json:"source,omitempty"` // from where: a component id, "pulsectl", "client:<hmac of address>"
	Object  string            `json:"object,omitempty"` // what: a user pseudonym, a policy id, a rules target
	Details map[string]string `json:"details,omitempty"`
}

// Record is an Entry as stored: sequence number, time, and the chain.
type Record struct {
	Seq  uint64    `json:"seq"`
	Time time.Time `json:"time"`
	Entry
	Prev string `json:"prev"` // hash of the previous record (hex sha256), "" for the first
	Hash string `json:"hash"`
}

// unsigned is a Record without its hash: the bytes the hash covers.
type unsigned struct {
	Seq  uint64    `json:"seq"`
	Time time.Time `json:"time"`
	Entry
	Prev string `json:"prev"`
}

// validate checks what Append requires of an entry.
func (e Entry) validate() error {
	if e.Action == "" {
		return errors.New("audit: entry field action is empty")
	}
	if e.Actor == "" {
		return errors.New("audit: entry field actor is empty")
	}
	for k := range e.Details {
		if k == "" {
			return errors.New("audit: entry field details has an empty key")
		}
	}
	return nil
}

// hashOf returns the hex sha256 of r's canonical encoding without Hash.
func hashOf(r Record) (string, error) {
	b, err := marshal(unsigned{Seq: r.Seq, Time: r.Time, Entry: r.Entry, Prev: r.Prev})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// seal sets r.Hash and returns the line to store (with its newline).
func seal(r *Record) ([]byte, error) {
	if len(r.Details) == 0 {
		r.Details = nil
	}
	r.Time = r.Time.UTC()
	h, err := hashOf(*r)
	if err != nil {
		return nil, err
	}
	r.Hash = h
	b, err := marshal(*r)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// marshal is json.Marshal without the trailing newline an Encoder adds and
// with HTML escaping left on (the same bytes on every run).
func marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("audit: encode record: %w", err)
	}
	return b, nil
}

// Problems a decoded line can have (VerifyError.Problem).
const (
	ProblemTruncated    = "truncated line"
	ProblemMalformed    = "malformed record"
	ProblemNotCanonical = "not in canonical form"
	ProblemBadHash      = "bad hash"
	ProblemBrokenLink   = "broken link"
	ProblemSeqGap       = "seq gap"
	ProblemMissingFile  = "missing file"
	ProblemFileName     = "file name does not match its first seq"
	ProblemEmptyFile    = "empty file"
)

// decodeLine parses one line (without its newline) and checks that it is in
// canonical form and that its hash matches its content. The problem is one
// of the Problem constants.
func decodeLine(line []byte) (Record, string, error) {
	var r Record
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Record{}, ProblemMalformed, fmt.Errorf("decode: %w", err)
	}
	if dec.More() {
		return Record{}, ProblemMalformed, errors.New("decode: data after the record")
	}
	re, err := marshal(r)
	if err != nil {
		return Record{}, ProblemMalformed, err
	}
	if !bytes.Equal(re, line) {
		return Record{}, ProblemNotCanonical, errors.New("the line is not the canonical encoding of its record")
	}
	h, err := hashOf(r)
	if err != nil {
		return Record{}, ProblemMalformed, err
	}
	if h != r.Hash {
		return Record{}, ProblemBadHash, errors.New("the hash does not match the record")
	}
	return r, "", nil
}
