// Package scalebench measures the scale-out tiers' throughput on this
// machine (issue 17, "Throughput"): events/s and events/s per core of one
// gateway, Kafka (kfake) and 1, 2, 3 aggregator shards of config/scale-out
// against one Pulse with config/remote-write.yaml, all writing to the same
// kind of store (Debian's victoria-metrics), in the same run.
//
// It is a test gated by SCALEBENCH=1 rather than a testbed program like
// testbed/bench because its processes (broker, store, collectors) are the
// ones testbed/internal/scalerig starts for tests, stopped by PID when each
// setup's subtest ends. `make test` skips it: it takes minutes and the
// whole machine.
//
// What "the highest rate the setup sustains" means differs between the two
// setups, which is why a two-tier setup may be measured twice. The single
// Pulse answers a request only once its events are exported
// (wait_for_export), so a closed loop of requests settles at its maximum
// by itself. A gateway answers once Kafka has the events; the shards count
// them later, and nothing slows the gateway down when they fall behind: a
// closed loop then measures how fast the gateway takes events while the
// consumer lag grows. So each two-tier setup first runs the closed loop;
// when the store has not counted every acknowledged event within
// SCALEBENCH_KEEPUP (5 s) after the load stopped, it runs again paced at
// the rate the store counted during the first window (the shards' rate
// while the gateway took its CPU) and reports that run, with the closed
// loop's figures beside it.
package scalebench
