package promstoreexporter // import "github.com/pulse-otel/pulse/exporter/promstoreexporter"

import (
	"net/http"

	"github.com/klauspost/compress/gzhttp"
)

// gzipWrapper compresses query API answers with gzhttp, which keeps its
// gzip writers in pools and reads Accept-Encoding by the RFC (q-values,
// any case). Prometheus's API handlers compress too, but with a new writer
// per answer: about half a megabyte of compressor state allocated and
// cleared for every query, which under many small dashboard queries is most
// of what a query allocates. Every answer is compressed whatever its size
// or type, and only with gzip, as before gzhttp did the job.
var gzipWrapper = func() func(http.Handler) http.HandlerFunc {
	w, err := gzhttp.NewWrapper(
		gzhttp.MinSize(0),
		gzhttp.EnableZstd(false),
		gzhttp.ContentTypeFilter(gzhttp.CompressAllContentTypeFilter),
	)
	if err != nil { // constant options: a programming error, caught by any test
		panic(err)
	}
	return w
}()

// newPooledGzip compresses next's answers for clients that accept gzip.
// Requests it compresses for have their Accept-Encoding removed before they
// reach next, so an answer is compressed once, here; other requests pass
// through unchanged.
func newPooledGzip(next http.Handler) http.Handler {
	return gzipWrapper(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if compressing(w) {
			r = r.Clone(r.Context())
			r.Header.Del("Accept-Encoding")
		}
		next.ServeHTTP(w, r)
	}))
}
