// Package hll counts distinct ids (active users) over rolling windows with
// HyperLogLog sketches: hourly, daily, weekly and monthly active users for
// the analytics_metrics connector.
//
// # Use
//
//	r, err := hll.NewRing(hll.DefaultWindows()) // 1h, 1d, 7d, 30d
//	r.Add(userID, eventTime)                     // per event, any goroutine
//	mau, err := r.Estimate("30d", time.Now())    // at flush time
//	state, err := r.MarshalBinary()              // persist; on start:
//	err = r.UnmarshalBinary(state)               // resume where it left off
//
// # Design
//
// A Window is a Length split in buckets of width Bucket. The Ring keeps one
// ring of bucket slots per distinct bucket width, as long as the longest
// window of that width plus one slot for the bucket after the current one
// (events up to one bucket ahead of the clock are kept, and must not evict
// the oldest bucket of a window). Windows of the same width share the
// slots: with DefaultWindows, 1h uses 12+1 five-minute slots, 1d 24+1
// hourly slots, and 7d and 30d share 30+1 daily slots: 69 slots.
//
// Buckets are aligned on the Unix epoch (bucket index = Unix seconds /
// bucket width, so daily buckets are UTC days) and each slot remembers the
// index of the bucket it holds. Nothing rotates on a timer: Add reuses a
// slot when it needs it for a newer bucket, and Estimate and MarshalBinary
// only look at slots whose index is in range. A Ring restored after a
// restart therefore resumes exactly, and buckets that went stale while the
// collector was down are ignored.
//
// Add hashes the id once (xxHash64), then updates one register of one slot
// per width, under one mutex. It reads the clock only when the event is
// ahead of its last reading by more than the smallest bucket (see AddOK),
// because time.Now costs as much as the rest of Add on some virtual
// machines. It does not allocate, except for a slot's registers the first
// time the slot is used. Estimate merges (register-wise max) the slots of
// the window and estimates the union; it allocates one 16 KiB scratch
// array.
//
// # Sketch
//
// Each bucket is a dense HyperLogLog sketch of precision p = 14: 16384
// one-byte registers (16 KiB), register index = low 14 bits of the hash,
// value = 1 + trailing zeros of the other 50 bits (at most 51). The
// standard error is 1.04/sqrt(16384) ≈ 0.81 % at every cardinality, so 2 %
// is about 2.5 standard errors. The estimator is Otmar Ertl's improved raw
// estimator (arXiv:1702.01284, algorithm 6; Redis uses it too): unlike the
// original HyperLogLog with linear counting it needs no switch-over
// threshold, and unlike HyperLogLog++ no empirical bias tables; it is
// nearly unbiased from 0 to billions, and exact in practice for the first
// hundred or so ids.
//
// # Memory
//
// Registers are 16 KiB per slot in use. With DefaultWindows a Ring holds
// about 3 KB when new and at most 69 × 16 KiB = 1,130,496 bytes of
// registers, 1.13 MB in all (MemoryBytes), once every slot has been used:
// after 30 days of traffic, or sooner as events arrive over the windows.
// An encoded Ring (MarshalBinary) stores buckets with few ids sparsely
// (about 2 bytes per non-zero register) and at most 16 KiB each otherwise.
//
// # Persistence
//
// MarshalBinary writes a versioned format (see codec.go): magic "PHLL",
// version, precision, hash function, the window layout, the live buckets,
// and a CRC-32C. UnmarshalBinary accepts only the same version, precision,
// hash and window layout (windows may be listed in another order), checks
// every field, and on error returns an error wrapping ErrCorrupt,
// ErrVersion or ErrLayout that says what is wrong where, leaving the Ring
// unchanged; it never panics (FuzzUnmarshal). A caller that gets ErrLayout
// after changing its windows should start from an empty Ring.
//
// # Why not github.com/axiomhq/hyperloglog
//
// axiomhq/hyperloglog v0.3.0 (maintained, MIT) was considered: it has
// precision 14, Merge, MarshalBinary/UnmarshalBinary with careful
// validation, and InsertHash for a hash computed once. It was not used
// because what it adds over a byte array does not fit this use:
//   - Its memory saver, the sparse representation, allocates on insert
//     (a hash set, then a compressed list); Add must not allocate, which
//     leaves its dense mode, a []uint8 with max, which is all this package
//     needs.
//   - The Ring needs its own format anyway (window layout, bucket indexes,
//     checksum); embedding one library encoding per bucket would tie the
//     persisted state to the library's format versions, and its format pins
//     MetroHash64, while ids are hashed here once with xxHash64 (already a
//     dependency of the collector) and fed through InsertHash.
//   - It would add two modules to the collector (go-metro, intmap).
//
// The sketch itself is about a hundred lines (sketch.go), tested against
// exact counts from 1 to 1,000,000 ids.
package hll
