package promstoreexporter // import "github.com/pulse-otel/pulse/exporter/promstoreexporter"

import (
	"bytes"
	"container/list"
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/klauspost/compress/gzhttp"
	"github.com/klauspost/compress/gzip"
)

// rangeCache answers identical range queries from one evaluation: requests
// with the same parameters that arrive while it runs wait for it, and its
// successful answer is reused for ttl. Dashboards send exactly such
// requests: Grafana aligns a panel's start and end to its step, so everyone
// looking at the same dashboard asks the same question until the next
// step. The price is that an answer can be up to ttl old; instant queries,
// rules and alerts are never cached.
//
// The shared evaluation belongs to no one caller: it runs with a context
// detached from the first request's (bounded by the query timeout) and is
// cancelled only when every request waiting for it has gone, so one client
// disconnecting does not cancel the others' answer.
//
// An answer is gzip-compressed once, when it is evaluated, and the
// compressed bytes are what every gzip-accepting client gets: behind
// newPooledGzip, compressing each hit again cost a third of the
// collector's CPU under 1,000 dashboard viewers.
type rangeCache struct {
	next     http.Handler
	ttl      time.Duration
	timeout  time.Duration
	maxBytes int
	now      func() time.Time
	compress func([]byte) []byte

	mu      sync.Mutex
	flights map[string]*flight
	byKey   map[string]*list.Element
	lru     list.List // of *cachedAnswer, most recent first
	bytes   int
}

// flight is one evaluation in progress and the requests waiting for it.
type flight struct {
	done    chan struct{} // closed once answer is set
	answer  *cachedAnswer
	waiters int // guarded by rangeCache.mu
	cancel  context.CancelFunc
}

type cachedAnswer struct {
	key     string
	status  int
	header  http.Header
	body    []byte
	gz      []byte // body gzip-compressed; nil when empty
	expires time.Time
}

const (
	defaultRangeCacheTTL  = 10 * time.Second
	defaultRangeCacheSize = 64 << 20
)

// newRangeCache caches next's answers; timeout bounds one shared
// evaluation (query.timeout).
func newRangeCache(next http.Handler, ttl, timeout time.Duration, maxBytes int) *rangeCache {
	return &rangeCache{
		next: next, ttl: ttl, timeout: timeout, maxBytes: maxBytes, now: time.Now, compress: gzipBody,
		flights: map[string]*flight{}, byKey: map[string]*list.Element{},
	}
}

func (c *rangeCache) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		c.next.ServeHTTP(w, r)
		return
	}
	// ParseForm reads a POST body; the handler behind parses the same form
	// again from r.Form.
	if err := r.ParseForm(); err != nil {
		c.next.ServeHTTP(w, r)
		return
	}
	key := r.Form.Encode() // sorted by parameter name
	if a := c.get(key); a != nil {
		a.write(w)
		return
	}

	c.mu.Lock()
	f, running := c.flights[key]
	var ctx context.Context
	if !running {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(r.Context()), c.timeout)
		f = &flight{done: make(chan struct{}), cancel: cancel}
		c.flights[key] = f
	}
	f.waiters++
	c.mu.Unlock()
	stop := context.AfterFunc(r.Context(), func() { c.leave(key, f) })
	defer stop()

	if running {
		select {
		case <-f.done:
			f.answer.write(w)
		case <-r.Context().Done():
			// The client has gone; leave has run or is running.
		}
		return
	}
	c.evaluate(key, f, r.WithContext(ctx))
	f.answer.write(w)
}

// evaluate runs r, whose context is f's, for every waiter of f.
func (c *rangeCache) evaluate(key string, f *flight, r *http.Request) {
	defer f.cancel()
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	finished := false
	defer func() {
		if !finished { // next panicked: answer the waiters, cache nothing
			rec = &recorder{header: http.Header{}, status: http.StatusInternalServerError}
			writeAPIError(rec, http.StatusInternalServerError, "query evaluation failed")
		}
		f.answer = &cachedAnswer{key: key, status: rec.status, header: rec.header, body: rec.body.Bytes(), expires: c.now().Add(c.ttl)}
		if len(f.answer.body) > 0 && rec.header.Get("Content-Encoding") == "" {
			f.answer.gz = c.compress(f.answer.body)
		}
		c.mu.Lock()
		if c.flights[key] == f {
			delete(c.flights, key)
		}
		c.mu.Unlock()
		close(f.done)
		if f.answer.status == http.StatusOK {
			c.put(f.answer)
		}
	}()
	c.next.ServeHTTP(rec, r)
	finished = true
}

// leave is called when a waiter's client goes away: the last one to leave
// cancels the evaluation, and later identical requests start a new one.
func (c *rangeCache) leave(key string, f *flight) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f.waiters--
	if f.waiters > 0 {
		return
	}
	f.cancel()
	if c.flights[key] == f {
		delete(c.flights, key)
	}
}

// write answers with the compressed body when w is newPooledGzip's
// compressing writer (the client accepts gzip): the Content-Encoding set
// here makes gzhttp pass the bytes through as they are.
func (a *cachedAnswer) write(w http.ResponseWriter) {
	for k, vs := range a.header {
		w.Header()[k] = append([]string(nil), vs...)
	}
	body := a.body
	if a.gz != nil && compressing(w) {
		body = a.gz
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(body)
}

// compressing reports whether w is gzhttp's compressing writer.
func compressing(w http.ResponseWriter) bool {
	switch w.(type) {
	case *gzhttp.GzipResponseWriter, gzhttp.GzipResponseWriterWithCloseNotify:
		return true
	}
	return false
}

// gzipWriters are reused: a writer holds about half a megabyte of state.
var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

// gzipBody compresses b at gzip's default level, as gzhttp does.
func gzipBody(b []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(b) / 4)
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(&out)
	_, _ = zw.Write(b) // writes to a bytes.Buffer do not fail
	_ = zw.Close()
	gzipWriters.Put(zw)
	return out.Bytes()
}

func (c *rangeCache) get(key string) *cachedAnswer {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[key]
	if !ok {
		return nil
	}
	a := e.Value.(*cachedAnswer)
	if !c.now().Before(a.expires) {
		c.remove(e)
		return nil
	}
	c.lru.MoveToFront(e)
	return a
}

func (c *rangeCache) put(a *cachedAnswer) {
	size := a.size()
	if size > c.maxBytes/4 {
		return // one answer may not take a large share of the cache
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[a.key]; ok {
		c.remove(e)
	}
	c.byKey[a.key] = c.lru.PushFront(a)
	c.bytes += size
	for c.bytes > c.maxBytes {
		c.remove(c.lru.Back())
	}
}

func (c *rangeCache) remove(e *list.Element) {
	a := c.lru.Remove(e).(*cachedAnswer)
	delete(c.byKey, a.key)
	c.bytes -= a.size()
}

func (a *cachedAnswer) size() int { return len(a.key) + len(a.body) + len(a.gz) }

// recorder keeps an answer in memory.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.wrote = true
	return r.body.Write(p)
}
