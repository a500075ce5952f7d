// Package audit is Pulse's audit trail: an append-only, tamper-evident log of
// every processing activity that changes or removes data or policy (forget
// requests, retention executions, rule and dashboard syncs, configuration
// loads, key rotations).
//
// # Format
//
// A log is a directory of JSON-lines files, audit-<firstseq>.jsonl, one
// [Record] per line. Each record carries a sequence number (1, 2, 3, ...
// without gaps), its time, the caller's [Entry], the hash of the previous
// record (Prev, "" for the first) and its own Hash: the hex sha256 of the
// record's canonical encoding without the hash field. The canonical encoding
// is the line itself: compact JSON with the fields in the order of [Record],
// times in RFC 3339 UTC, map keys sorted, empty fields omitted. A line that
// does not re-encode to exactly its own bytes is rejected, so no byte of a
// line can change without [Verify] noticing (JSON keys are case-insensitive
// in Go, and "Seq" for "seq" would otherwise pass).
//
// A file is rotated when the next line would make it larger than
// [Options].MaxFileBytes (16 MiB by default); the chain continues across
// files, and a file's name states the seq of its first record, so a missing
// file is a seq gap that Verify names.
//
// # Guarantees
//
//   - Durable: [Log.Append] returns only after the line is written with one
//     write call and fsynced (and the directory after a new file).
//   - Several processes may append to one directory (the collector's
//     extension and pulsectl): appends hold an exclusive flock on
//     <dir>/audit.lock and re-read the tail when another process appended,
//     so all of them extend one chain. Readers take a shared lock.
//   - Tamper-evident, not tamper-proof: anyone who can write the files can
//     change them. Changing, inserting or deleting a record in the middle
//     breaks the chain and Verify names the first bad record (file, line,
//     seq and what: bad hash, broken link, seq gap, truncated line, missing
//     file). Rewriting or cutting the whole tail from some record on yields
//     a valid shorter or different chain; that is detected only against a
//     head hash kept elsewhere. An operator anchors it by copying the head
//     that `pulsectl audit show` and `pulsectl audit verify` print (seq and
//     hash of the last record) to a place the collector's host cannot write
//     (a ticket, a WORM bucket, a signed mail); later, the record with that
//     seq must still have that hash.
//   - An unterminated last line (a crash in the middle of a write; it was
//     never acknowledged, since Append returns after the newline is synced)
//     is reported by Verify as a truncated line and cut off by the next
//     Append, which continues the chain from the last complete record.
//   - No PII by contract: callers put pseudonyms, roles, component ids and
//     hashes in an Entry, never raw user ids, addresses, tokens or keys. The
//     package cannot check that; the callers' tests do (planted PII).
//
// # Why hand-written
//
// The collector has no audit log, and the candidates (a database, a
// Merkle-tree transparency log, journald) bring a server, a dependency or a
// format operators cannot read with cat and jq. The job is small: a hash
// chain over JSON lines, flock and fsync, about as much code as the wiring
// a library would need, and the canonical-encoding rule above is easier to
// hold in one file than to confirm in someone else's.
package audit
