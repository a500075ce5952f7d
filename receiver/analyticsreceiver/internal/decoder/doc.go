// Package decoder validates the analytics receiver's JSON bodies and converts
// them to pdata: log records for events and recommendations, metric points
// for model, business and system snapshots.
//
// # How a request is decoded
//
//  1. The pre-scan (scan.go, scan_token.go, scan_limit.go) reads the whole
//     body once, strictly, without allocating: syntax, the body's shape,
//     the byte range of each item, and the size limits (values per request,
//     string length, array length, nesting). An item over a limit is
//     rejected here and never parsed; a request over max_values is refused
//     whole.
//  2. Each remaining item is parsed on its own by fastjson, so the parser
//     holds one item at a time.
//  3. The walker (walk.go, hooks.go) checks every field against the
//     endpoint's schema table (spec.go) and the rules that span fields.
//  4. The emitter (emit.go) turns a valid item into pdata. Strings are
//     copied once into a per-request arena (util.go) that pdata values
//     share.
//
// Every error is raised with its Code (codes.go), the reason label the
// receiver counts rejected items by, and a FieldError whose Value and Reason
// never quote text the client sent (strings are described by their
// length). Rewording a reason does not change its code.
//
// # Why fastjson and a hand-written pre-scan
//
// Measured in docs/benchmarks.md ("Analytics receiver: decode + validate +
// convert"; BenchmarkDecodeEvents against BenchmarkPlainJSONEvents, which
// decodes the same 100 events with encoding/json into structs mirroring the
// seed and builds the same records, TestPlainPathMatchesDecoder): 7,070
// against 17,562 ns, 46.3 against 110.2 allocations and 3,375 against 6,206
// bytes per event, 2.5 times faster. encoding/json allocates per field and
// per string; github.com/valyala/fastjson (no dependencies) parses into a
// reusable arena that a pool of parsers keeps warm, so parsing allocates
// nothing after warm-up, and the decoder's own share is about 0.3
// allocations per event. The rest is pdata's: one boxed value per
// attribute.
//
// fastjson is lenient (it takes NaN, leading zeros, unknown escapes and raw
// control characters) and builds the whole document before any limit
// could apply (about 100 bytes per value: a 5 MiB body of small numbers is
// hundreds of MB). No library both validates strictly and bounds memory
// while it reads, so the pre-scan does; its verdict on syntax is
// encoding/json.Valid's on every input (FuzzScanValid). fastjson's own
// error messages quote the input and are never returned.
package decoder // import "github.com/pulse-otel/pulse/receiver/analyticsreceiver/internal/decoder"
