package promstoreexporter // import "github.com/pulse-otel/pulse/exporter/promstoreexporter"

import (
	"net/http"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// pooledGzip compresses query API answers with gzip writers taken from a
// pool. Prometheus's API handlers compress too, but with a new writer per
// answer: about half a megabyte of compressor state allocated and cleared
// for every query, which under many small dashboard queries is most of
// what a query allocates. Requests that accept gzip have their
// Accept-Encoding removed before they reach those handlers, so an answer is
// compressed once, here; other requests pass through unchanged.
type pooledGzip struct {
	next http.Handler
	pool sync.Pool
}

func newPooledGzip(next http.Handler) *pooledGzip {
	return &pooledGzip{next: next, pool: sync.Pool{New: func() any { return gzip.NewWriter(nil) }}}
}

func acceptsGzip(r *http.Request) bool {
	for _, enc := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		// "gzip", possibly with a quality; "gzip;q=0" refuses it.
		name, params, _ := strings.Cut(strings.TrimSpace(enc), ";")
		if strings.TrimSpace(name) == "gzip" {
			return strings.ReplaceAll(params, " ", "") != "q=0"
		}
	}
	return false
}

func (h *pooledGzip) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !acceptsGzip(r) {
		h.next.ServeHTTP(w, r)
		return
	}
	r = r.Clone(r.Context())
	r.Header.Del("Accept-Encoding")
	zw := h.pool.Get().(*gzip.Writer)
	zw.Reset(w)
	gw := &gzipResponseWriter{ResponseWriter: w, zw: zw}
	w.Header().Add("Vary", "Accept-Encoding")
	w.Header().Set("Content-Encoding", "gzip")
	h.next.ServeHTTP(gw, r)
	_ = zw.Close()
	zw.Reset(nil) // do not keep the response writer alive in the pool
	h.pool.Put(zw)
}

type gzipResponseWriter struct {
	http.ResponseWriter
	zw *gzip.Writer
}

func (g *gzipResponseWriter) WriteHeader(status int) {
	g.Header().Del("Content-Length") // of the uncompressed body
	g.ResponseWriter.WriteHeader(status)
}

func (g *gzipResponseWriter) Write(p []byte) (int, error) {
	g.Header().Del("Content-Length")
	return g.zw.Write(p)
}
