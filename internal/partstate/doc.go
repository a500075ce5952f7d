// Package partstate keeps per-Kafka-partition state where any aggregator
// shard can take it over: when a partition of the events topic moves to
// another shard (scale up or down, crash, rebalance), the new owner claims
// it, gets the latest state saved for it, and the old owner learns it has
// lost it and must stop using and exporting that state. This is Kafka
// Streams' model (state per input partition, restored from a changelog
// topic on rebalance) cut down to what the analytics_metrics connector
// needs: whole-state snapshots, not a key-value changelog, because the
// connector's state (HLL sketches, sessions, cohorts) is small per
// partition and is saved as one blob.
//
// Store is the interface; NewMemory is an in-process implementation for
// unit tests, NewKafka the real one. Both pass one conformance test.
//
// # Ownership: claims and epochs
//
// Claim(p) takes a new epoch for p, one above the highest this process has
// seen. Every claim is a record in the control topic; the first claim of an
// epoch in log order wins it, and a higher epoch supersedes every lower
// one. A process owns p at epoch e while no claim with a higher epoch, and
// no earlier claim of e by another owner, precedes its own in the log.
// Lost(p, e) answers that from memory. Claim retries with a higher epoch
// (a bounded number of times) only when another owner's claim came before
// its own; a claim that won and was superseded right after returns its
// epoch, and Lost tells the caller, so two claimants never outbid each
// other in a loop.
//
// # Snapshots: chunks and pointers
//
// Save cuts the state into chunks of at most ChunkBytes (Kafka's default
// max.message.bytes is 1 MiB), writes them to the chunk topic, and, once
// all are acknowledged, a pointer to the control topic: epoch, owner,
// sequence number, chunk topic partition, first and last chunk offset,
// chunk count, total size and CRC-32C. A snapshot exists only once its
// pointer does, and counts only if it is valid: written under the highest
// claim before it in log order, by the owner that won that epoch. Save
// then waits until this process has read the control partition up to its
// own pointer and reports ErrLost if a newer claim came first, so a nil
// error means the snapshot is valid for every reader, not merely written.
//
// Claims and pointers of input partition p go to control partition
// p % n, so their relative order, which decides validity, is one
// partition's log order. Never change the control topic's partition count:
// p would move to another partition and earlier records would stop being
// ordered against new ones; the store logs an error when it reads a record
// off its p % n partition. (The chunk topic may grow: pointers name the
// chunks' partition.)
//
// Chunks live in their own topic so that the control topic stays tiny:
// every process tails the whole control topic from the start (a consumer
// without a group, fetch wait 50 ms) and keeps only, per input partition,
// the winning claim and the last three valid pointers. Only a claiming
// process reads chunks, with a consumer started at the pointer's first
// offset and stopped at its last; it checks each chunk's identity (p,
// epoch, owner, seq, index), the count, the size and the CRC before it
// returns the bytes. When the newest snapshot cannot be read (chunks gone
// or corrupt) Claim logs why, naming topic, partition, epoch, sequence and
// offsets, and falls back to the previous valid one; when none can be
// read it returns the won epoch with an error wrapping ErrUnreadable, and
// the caller decides whether to start empty. No state bytes are logged.
//
// NewKafka creates the topics (cleanup.policy=compact) when they are
// missing, and reads the control topic to the end offsets it had at start
// before returning, so that a Claim right after start sees every earlier
// claim and pointer.
//
// # Compaction and retention
//
// Kafka should compact both topics (and must never delete from them by
// time: the latest snapshot of an idle partition may be old). Record keys
// are chosen so that compaction, which keeps the latest record per key,
// keeps what readers need:
//
//	p/<p>/claim/<owner>     each owner's latest claim
//	p/<p>/s<slot>/ptr       the latest pointer of each of two slots
//	p/<p>/s<slot>/chunk/<i> the latest chunk i of each slot
//
// A save writes the slot the newest valid snapshot is not in, so the
// newest snapshot's chunks survive compaction whatever happens to the save
// in progress (a crash between chunks and pointer overwrites only the
// older slot). A snapshot with fewer chunks leaves higher-index chunks of
// an older one behind; pointers name exact offsets and chunks carry their
// epoch and sequence, so those are never read. After a Save whose outcome
// is unknown (an error after the pointer may have been written), the next
// Save first reads the control partition to its end before picking a slot.
// Because compaction may remove the claim a pointer was written under, a
// pointer whose epoch is above every claim seen is also accepted, as long
// as pointer epochs never go backwards; on an uncompacted log (kfake
// never compacts) that is the same rule.
//
// Topic settings for production (Kafka or Redpanda):
//
//	cleanup.policy=compact           both topics (NewKafka sets it on create)
//	replication.factor=3, min.insync.replicas=2   saves use acks=all
//	max.message.bytes >= ChunkBytes + 1 KiB       chunk topic (default is enough for 512 KiB)
//	segment.ms=3600000               roll segments so old snapshots get compacted
//	min.cleanable.dirty.ratio=0.5    default; lower trades broker I/O for disk
//
// # Sizing
//
// A Save of S bytes writes S plus about 100 bytes per chunk to the chunk
// topic and one 110-byte pointer to the control topic (times the
// replication factor on the brokers). A compacted chunk topic holds about
// two snapshots per input partition (2 x total state), plus what has not
// been compacted yet: a shard saving its state every T seconds adds
// S/T bytes/s until the cleaner catches up. The control topic grows by
// about 120 bytes per save and per claim and is what every process reads
// at start and follows afterwards. On loopback kfake (BenchmarkKafkaSave1MiB
// and BenchmarkKafkaClaim1MiB) a 1 MiB save takes about 2.3 ms and a claim
// that restores 1 MiB about 8 ms.
//
// # What it does not do
//
// Lost is only as fresh as this process's reading of the control topic
// (tens of milliseconds behind the broker). An owner that checks Lost,
// then exports, can still export once after a new claim it has not read
// yet; the caller narrows that window by exporting only what a successful
// Save at its epoch covered. Fencing writes to other systems (Kafka
// transactions' zombie fencing) is out of scope.
package partstate // import "github.com/pulse-otel/pulse/internal/partstate"
