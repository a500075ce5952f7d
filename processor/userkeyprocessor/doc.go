// Package userkeyprocessor keys the records of a scale-out gateway so that
// every record of one user reaches one Kafka partition, and so one
// aggregator shard.
//
// Pulse's per-user aggregations (HLL uniques, new users, sessions, cohorts,
// the recommendation join) are exact only when one shard sees all of a
// user's records. The contrib kafka exporter can key a Kafka message only
// per request (logs::message_key_from_metadata_key) or by all resource
// attributes, neither of which is "this user". So the processor splits each
// request into one request per key group, g = xxhash64(identity) % keys,
// and passes each on with the group's decimal number in its client
// metadata; the exporter uses it as the record key and its murmur2
// sticky-key partitioner maps the key to a partition.
//
// The identity is, in order: pulse.recommendation.id for recommendations
// and their responses (so a response meets the recommendation it answers),
// else user.id, else device.id, else session.id; records with none go to
// group 0. Values that the privacy processor masked ("[REDACTED…") are not
// identities. The ids are the pseudonyms the privacy processor wrote; they
// are read, never copied: only the group number leaves the processor.
//
// Why a group number and not the id itself as the key: the key is visible
// to everyone who reads the topic, and one Kafka message per user would
// turn a 1,000-record batch into hundreds of tiny messages. A bounded number
// of groups keeps messages large and the key meaningless.
//
// Why XXH64 with a fixed seed ("pulse.uk"): the same id must land in the
// same group in every gateway process and across restarts, so the hash is
// fixed, never random per process as Go's maphash is. It is the published
// XXH64 algorithm, and testdata/xxh64.py is an independent implementation
// that computed the golden groups in the tests. The seed is not 0 because
// the aggregators hash the same ids with unseeded xxhash64: internal/hll
// takes a user's register from its low 14 bits. With seed 0, the users of
// one partition would share the low bits of that hash and fill a fraction
// of the registers. An e2e run counted 12-14 % too few active users that way.
package userkeyprocessor // import "github.com/pulse-otel/pulse/processor/userkeyprocessor"
