package livepage

import (
	"errors"
	"net/http"
	"strconv"
	"time"
)

const (
	// pingInterval is how long a stream stays silent before a comment
	// line tells proxies and the page that it is alive.
	pingInterval = 15 * time.Second
	// writeTimeout bounds one write of a frame: a viewer that takes longer
	// is gone or too slow. Each write sets its own deadline, so streams
	// outlive the server's write_timeout.
	writeTimeout = 10 * time.Second
	// maxWidth bounds the width parameter (pixels).
	maxWidth = 100_000
)

// serveLive streams one dashboard's frames as Server-Sent Events until the
// client leaves, the hub drops it, or the server shuts down.
func (h *Handler) serveLive(w http.ResponseWriter, r *http.Request, uid string) {
	d := h.lookup(w, r, uid)
	if d == nil {
		return
	}
	q := r.URL.Query()
	param := func(name, def string) string {
		if v := q.Get(name); v != "" {
			return v
		}
		return def
	}
	from, err := parseTimeSpec(param("from", "now-6h"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "from: "+err.Error())
		return
	}
	to, err := parseTimeSpec(param("to", "now"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "to: "+err.Error())
		return
	}
	if wv := q.Get("width"); wv != "" {
		if n, err := strconv.Atoi(wv); err != nil || n <= 0 || n > maxWidth {
			writeError(w, http.StatusBadRequest, "width: must be a whole number of pixels between 1 and 100000")
			return
		}
	}
	rng, err := newTimeRange(from, to, h.opts.now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	st, sub, err := h.hub.join(streamKey{uid: uid, from: from.String(), to: to.String()}, d, rng, Identity(r.Context()))
	if err != nil {
		w.Header().Set("Retry-After", retryAfter)
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	defer h.hub.leave(st, sub)

	rc := http.NewResponseController(w)
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	write := func(b []byte) bool {
		// A writer that cannot set deadlines (a test recorder) is fine.
		if err := rc.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return false
		}
		if _, err := w.Write(b); err != nil {
			return false
		}
		if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return false
		}
		return true
	}
	if !write([]byte("retry: 1000\n\n")) {
		return
	}
	ping := time.NewTimer(h.opts.ping)
	defer ping.Stop()
	for {
		select {
		case b := <-sub.ch:
			if !write(b) {
				return
			}
			ping.Reset(h.opts.ping)
		case <-ping.C:
			if !write([]byte(": ping\n\n")) {
				return
			}
			ping.Reset(h.opts.ping)
		case <-sub.done:
			// Dropped: too slow (the page reconnects and gets a full
			// frame), the dashboard is gone, or the server shuts down.
			return
		case <-r.Context().Done():
			return
		}
	}
}
