package promstoreexporter

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/prometheus/util/httputil"
)

// upstream is Prometheus's own compressing handler around a fixed answer,
// as the query API is.
func upstream(body string) http.Handler {
	return httputil.CompressionHandler{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "999")
		_, _ = io.WriteString(w, body)
	})}
}

func TestPooledGzip(t *testing.T) {
	body := `{"status":"success","data":{"resultType":"vector","result":[` + strings.Repeat(`{"metric":{},"value":[1,"2"]},`, 200) + `{}]}}`
	h := newPooledGzip(upstream(body))
	for _, c := range []struct {
		accept string
		gzip   bool
	}{
		{"gzip", true},
		{"deflate, gzip;q=0.8", true},
		{"gzip;q=0", false},
		{"", false},
		{"identity", false},
		{"GZIP", true},
		{"deflate, GZip;Q=0.5", true},
		{"gzip;q=0.0", false},
		{"gzip; q=0", false},
		{"*", false},
		{"*;q=0", false},
	} {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/query?query=up", nil)
		if c.accept != "" {
			req.Header.Set("Accept-Encoding", c.accept)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		got := rec.Body.Bytes()
		if c.gzip {
			if rec.Header().Get("Content-Encoding") != "gzip" || rec.Header().Get("Content-Length") != "" {
				t.Fatalf("Accept-Encoding %q: headers %v", c.accept, rec.Header())
			}
			zr, err := gzip.NewReader(bytes.NewReader(got))
			if err != nil {
				t.Fatalf("Accept-Encoding %q: %v", c.accept, err)
			}
			if got, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		} else if enc := rec.Header().Get("Content-Encoding"); enc == "gzip" {
			t.Fatalf("Accept-Encoding %q: answered gzip", c.accept)
		}
		if strings.HasPrefix(c.accept, "deflate") || !c.gzip && c.accept != "" && c.accept != "identity" && c.accept[0] != '*' {
			// Prometheus may still compress with deflate what we pass on.
			continue
		}
		if string(got) != body {
			t.Fatalf("Accept-Encoding %q: body %.80q..., want the handler's", c.accept, got)
		}
	}
}

// Writers come back to the pool and are reused concurrently without
// mixing answers.
func TestPooledGzipConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := strings.Repeat(string(rune('a'+i)), 10_000+i)
			h := newPooledGzip(upstream(body))
			for range 20 {
				req := httptest.NewRequest(http.MethodGet, "/api/v1/query", nil)
				req.Header.Set("Accept-Encoding", "gzip")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				zr, err := gzip.NewReader(rec.Body)
				if err != nil {
					t.Error(err)
					return
				}
				got, _ := io.ReadAll(zr)
				if string(got) != body {
					t.Errorf("answer %d mixed up", i)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkQueryAnswerGzip(b *testing.B) {
	body := `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"42"]}]}}`
	for _, c := range []struct {
		name string
		h    http.Handler
	}{{"prometheus", upstream(body)}, {"pooled", newPooledGzip(upstream(body))}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, "/api/v1/query", nil)
				req.Header.Set("Accept-Encoding", "gzip")
				c.h.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}

// A handler that flushes (a streamed answer) gets its compressed bytes to
// the client before it returns.
func TestPooledGzipFlush(t *testing.T) {
	rec := httptest.NewRecorder()
	var flushErr error
	var sent int
	h := newPooledGzip(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, strings.Repeat(`{"a":1},`, 10))
		flushErr = http.NewResponseController(w).Flush()
		sent = rec.Body.Len()
		_, _ = io.WriteString(w, `{}`)
	}))
	req := httptest.NewRequest(http.MethodGet, "/api/v1/query", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	h.ServeHTTP(rec, req)
	if flushErr != nil || sent == 0 || !rec.Flushed {
		t.Fatalf("flush: err %v, %d bytes sent before the handler returned", flushErr, sent)
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(zr)
	if want := strings.Repeat(`{"a":1},`, 10) + `{}`; string(got) != want {
		t.Fatalf("body %q, want %q", got, want)
	}
}
