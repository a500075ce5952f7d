// Package retention reads retention policies in the seed's
// dataRetentionPolicies shape (config/retention), validates them and
// compiles them into what the store needs to enforce them:
//
//   - recording rules that downsample every catalog family x of a policy's
//     data types into x:5m and x:1h (last_over_time over the resolution:
//     decimation, so counters and histogram buckets stay counters and
//     increase() over them is exact at the resolution's boundaries), and
//   - an enforcement plan: per rule, the series selectors of the raw, 5m
//     and 1h series and how many days each is kept, with a version (the
//     plan's content hash) that audit records name.
//
// A rule keeps raw samples retentionDays, the 5m series until
// archiveAfterDays (retentionDays when absent) and the 1h series until
// deleteAfterDays; then nothing of the data type is left. promstore
// deletes by the plan's selectors through the TSDB's Delete and
// CleanTombstones on a schedule (exporter/promstoreexporter).
//
// Data types are groups of families of internal/catalog (events, users,
// recommendations, model, business, system) plus quality, which also holds
// the processing counters promstore stores from the collector's own
// telemetry (otelcol_receiver_analytics_*, otelcol_processor_privacy_*).
// Conditions are label matchers on a type's series; a rule with
// conditions applies to the families that carry every condition's label.
package retention // import "github.com/pulse-otel/pulse/internal/retention"
