// Package livepage serves Pulse's built-in live dashboard page: the
// dashboards `pulsectl dashboards compile` writes for Grafana, drawn in the
// browser from assets embedded in the binary, and kept live by a push
// stream (Server-Sent Events) that promstore feeds once per tick.
//
// The server evaluates each panel query of an open dashboard once per tick
// for every distinct time range that is open, and sends the same encoded
// frame to every page that shows it, so the cost grows with the number of
// open dashboards and ranges, not with the number of viewers.
package livepage // import "github.com/pulse-otel/pulse/internal/livepage"
