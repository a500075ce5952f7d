// Package livepage serves Pulse's built-in live dashboard page: the
// dashboards `pulsectl dashboards compile` writes for Grafana, drawn in the
// browser from assets embedded in the binary, and kept live by a push
// stream (Server-Sent Events) that promstore feeds once per tick.
//
// The server evaluates each panel query of an open dashboard once per tick
// for every distinct time range that is open, and sends the same encoded
// frame to every page that shows it, so the cost grows with the number of
// open dashboards and ranges, not with the number of viewers.
//
// Files: store.go reads the compile's directory (the sidecar and the JSON
// files) and reads it again when it changes; access.go decides who sees
// which dashboard; handler.go routes the page, its assets and its JSON;
// sse.go writes one viewer's stream; stream.go holds the hub (one stream
// per dashboard and range, its evaluation, its viewers); encode.go writes
// the frames; timerange.go parses from/to and picks the step.
//
// Deliberately not here: editing dashboards (the definitions are the
// source, as for Grafana's provisioning), variables other than Grafana's
// built-in interval and range ones (the compiled dashboards use none), and
// WebSockets (the page only listens, and an SSE stream is a plain HTTP
// response that every proxy passes and the auth extensions check as any
// other request). Everything a client can make the
// server hold is bounded: viewers, streams, query slots and time, series
// per target, frames queued per viewer.
package livepage // import "github.com/pulse-otel/pulse/internal/livepage"
