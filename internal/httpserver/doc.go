// Package httpserver builds the HTTP servers of Pulse's listeners (the
// analytics receiver, the forget API and the promstore API) from their
// confighttp.ServerConfig, and adds what confighttp leaves to each
// component:
//
//   - A cap on open connections per listener (max_connections), by
//     default derived from the process's RLIMIT_NOFILE so that the three
//     listeners together never take the descriptors the TSDB needs for its
//     blocks, WAL segments and chunks: each gets a quarter of the soft
//     limit less a reserve of 512. Past the cap a new connection waits in
//     the kernel's accept backlog, and the longest idle keep-alive
//     connection is closed to make room, so idle clients cannot lock busy
//     ones out.
//   - JSON answers with fixed texts for the errors confighttp writes
//     itself (unsupported Content-Encoding, a body that does not
//     decompress, failed authentication): they never echo a header or any
//     other client input.
//   - Defaults for what net/http leaves unbounded: header size
//     (MaxHeaderBytes 64 KiB), header read time and idle keep-alive time.
//
// It uses a small semaphore listener of its own rather than
// golang.org/x/net/netutil.LimitListener because the cap must also see the
// connections' HTTP state (idle or active) to reclaim idle ones.
package httpserver // import "github.com/pulse-otel/pulse/internal/httpserver"
