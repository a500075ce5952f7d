// Package loadgen generates seed-shaped analytics traffic for the testbed:
// a realistic mix of platforms, event types and behaviour details, users
// with sessions, AI recommendations with later responses, model and
// business snapshots, and a configurable share of values that carry PII.
// It sends to the analytics receiver as JSON or to any OTLP/HTTP logs
// endpoint as protobuf, in batches, at a target rate or as fast as the
// collector answers.
//
// Request bodies are generated before the run (Generate) so that the load
// generator spends its CPU on sending, not on encoding: on a shared 2-core
// machine that is CPU the collector under test gets.
package loadgen // import "github.com/pulse-otel/pulse/testbed/loadgen"

import "time"

// Protocol is how events are sent.
type Protocol string

const (
	// JSON posts to the analytics receiver (/v1/events, /v1/recommendations,
	// /v1/model-metrics, /v1/business-metrics).
	JSON Protocol = "json"
	// OTLP posts OTLP/HTTP protobuf log records in Pulse's event shape
	// (docs/events.md, "Sending the same event over OTLP") to /v1/logs.
	OTLP Protocol = "otlp"
)

// Config shapes the traffic.
type Config struct {
	// URL is the receiver's base URL, e.g. http://127.0.0.1:4320 (JSON) or
	// http://127.0.0.1:4318 (OTLP).
	URL string
	// Protocol is JSON (default) or OTLP.
	Protocol Protocol
	// Rate is the target events per second; 0 sends as fast as Workers
	// concurrent requests are answered (closed loop).
	Rate int
	// Batch is the number of events per request.
	Batch int
	// Users and Sessions bound the identifiers used.
	Users, Sessions int
	// PIIShare is the share of events (0 to 1) with PII in free text.
	PIIShare float64
	// RecommendationShare is the share of JSON requests that carry AI
	// recommendations (half of them later responses) instead of events.
	RecommendationShare float64
	// Snapshots sends one model and one business snapshot (JSON) this
	// often; 0 sends none.
	Snapshots time.Duration
	// Workers is the number of concurrent senders.
	Workers int
	// Bodies is how many distinct request bodies are generated and cycled
	// through (default 64).
	Bodies int
	// Retry resends a request answered 429 or 503 after its Retry-After
	// plus up to as much random jitter, up to 20 times, as an SDK would.
	Retry bool
	// Seed makes the traffic reproducible.
	Seed uint64
}
