package promstoreexporter // import "github.com/pulse-otel/pulse/exporter/promstoreexporter"

import (
	"bytes"
	"container/list"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// rangeCache answers identical range queries from one evaluation: requests
// with the same parameters that arrive while it runs wait for it
// (singleflight), and its successful answer is reused for ttl. Dashboards
// send exactly such requests: Grafana aligns a panel's start and end to its
// step, so everyone looking at the same dashboard asks the same question
// until the next step. The price is that an answer can be up to ttl old;
// instant queries, rules and alerts are never cached.
type rangeCache struct {
	next     http.Handler
	ttl      time.Duration
	maxBytes int
	now      func() time.Time

	flight singleflight.Group
	mu     sync.Mutex
	byKey  map[string]*list.Element
	lru    list.List // of *cachedAnswer, most recent first
	bytes  int
}

type cachedAnswer struct {
	key     string
	status  int
	header  http.Header
	body    []byte
	expires time.Time
}

const (
	defaultRangeCacheTTL  = 10 * time.Second
	defaultRangeCacheSize = 64 << 20
)

func newRangeCache(next http.Handler, ttl time.Duration, maxBytes int) *rangeCache {
	return &rangeCache{next: next, ttl: ttl, maxBytes: maxBytes, now: time.Now, byKey: map[string]*list.Element{}}
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
	v, _, _ := c.flight.Do(key, func() (any, error) {
		rec := &recorder{header: http.Header{}, status: http.StatusOK}
		c.next.ServeHTTP(rec, r)
		a := &cachedAnswer{key: key, status: rec.status, header: rec.header, body: rec.body.Bytes(), expires: c.now().Add(c.ttl)}
		if a.status == http.StatusOK {
			c.put(a)
		}
		return a, nil
	})
	v.(*cachedAnswer).write(w)
}

func (a *cachedAnswer) write(w http.ResponseWriter) {
	for k, vs := range a.header {
		w.Header()[k] = append([]string(nil), vs...)
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
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
	size := len(a.key) + len(a.body)
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
	c.bytes -= len(a.key) + len(a.body)
}

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
