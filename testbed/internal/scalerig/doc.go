// Package scalerig runs the scale-out tiers of config/scale-out as shipped,
// for the tests and benchmarks that need real processes: a Kafka-protocol
// broker (kfake, internal/testutil/kafkatest), Debian's victoria-metrics
// as the store (internal/testutil/vmtest), gateways and aggregator shards
// of bin/otelcol-pulse with every endpoint on a free loopback port, and a
// single Pulse with config/remote-write.yaml into the same store, the
// setup the tiers replace.
//
// The shipped configs read their endpoints from the environment, so a
// process here is the shipped file plus environment variables (the
// broker, the store, the listeners, the secrets, userkey's keys and
// partitions set to the topic's partition count, and the Kafka protocol
// pinned to 2.3.0, which kfake answers); anything else a run needs goes as
// the collector's own --set flags, never as a copy of the file, so a run
// always tests what users deploy. Only config/remote-write.yaml, which
// has fixed listeners, is rewritten: each replaced text must be present,
// or the run fails naming it.
//
// Every process is stopped by the PID it was started with when the test
// ends (SIGTERM, then SIGKILL); CPU returns each process's user+system
// time from /proc so that benchmarks can say which tier used the cores.
//
// It was written from testbed/e2e's scale-out rig (scaleout_rig_test.go),
// so that the end-to-end test and testbed/scalebench share one owner of
// "start a gateway, a shard".
package scalerig // import "github.com/pulse-otel/pulse/testbed/internal/scalerig"
