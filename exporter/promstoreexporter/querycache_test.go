package promstoreexporter

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingAPI answers with the query and a call number, slowly.
type countingAPI struct {
	calls atomic.Int64
	delay time.Duration
}

func (a *countingAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := a.calls.Add(1)
	time.Sleep(a.delay)
	if r.FormValue("query") == "bad" {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"status":"error"}`)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"query":%q,"call":%d}`, r.FormValue("query"), n)
}

func get(h http.Handler, query string) (int, string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/query_range?"+url.Values{"query": {query}, "start": {"0"}, "end": {"3600"}, "step": {"60"}}.Encode(), nil))
	return rec.Code, rec.Body.String()
}

func TestRangeCacheReusesAnswersForTTL(t *testing.T) {
	api := &countingAPI{}
	c := newRangeCache(api, 10*time.Second, time.Minute, 1<<20)
	now := time.Unix(1000, 0)
	c.now = func() time.Time { return now }

	_, first := get(c, "up")
	_, again := get(c, "up")
	if first != again || api.calls.Load() != 1 {
		t.Fatalf("the same query within the TTL was evaluated %d times: %s then %s", api.calls.Load(), first, again)
	}
	if _, other := get(c, "down"); !strings.Contains(other, `"down"`) || api.calls.Load() != 2 {
		t.Fatalf("another query got %s after %d evaluations", other, api.calls.Load())
	}
	now = now.Add(10 * time.Second)
	if _, later := get(c, "up"); later == first || api.calls.Load() != 3 {
		t.Fatalf("an expired answer was reused: %s", later)
	}
	// Errors are not kept.
	for range 2 {
		if code, _ := get(c, "bad"); code != http.StatusBadRequest {
			t.Fatalf("status %d", code)
		}
	}
	if api.calls.Load() != 5 {
		t.Fatalf("an error answer was cached: %d evaluations", api.calls.Load())
	}
}

func TestRangeCacheEvaluatesConcurrentIdenticalQueriesOnce(t *testing.T) {
	api := &countingAPI{delay: 100 * time.Millisecond}
	c := newRangeCache(api, time.Nanosecond, time.Minute, 1<<20) // answers expire at once: only coalescing helps
	var wg sync.WaitGroup
	bodies := make([]string, 20)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, bodies[i] = get(c, "up")
		}()
	}
	wg.Wait()
	if n := api.calls.Load(); n > 2 {
		t.Fatalf("20 concurrent identical queries were evaluated %d times", n)
	}
	for _, b := range bodies {
		if !strings.Contains(b, `"query":"up"`) {
			t.Fatalf("answer %q", b)
		}
	}
}

func TestRangeCachePOSTAndEviction(t *testing.T) {
	api := &countingAPI{}
	c := newRangeCache(api, time.Hour, time.Minute, 4096)
	post := func(q string) string {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/api/v1/query_range", strings.NewReader(url.Values{"query": {q}, "step": {"60"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		c.ServeHTTP(rec, req)
		return rec.Body.String()
	}
	if b := post("up"); !strings.Contains(b, `"query":"up"`) {
		t.Fatalf("the handler behind did not see the POSTed form: %s", b)
	}
	post("up")
	if api.calls.Load() != 1 {
		t.Fatalf("a POSTed query was not reused: %d evaluations", api.calls.Load())
	}
	// 4 KiB hold a few dozen answers: the oldest go first.
	for i := range 100 {
		post(fmt.Sprintf("q%03d", i))
	}
	if c.bytes > 4096 || len(c.byKey) != c.lru.Len() {
		t.Fatalf("cache holds %d bytes in %d entries (%d in the list)", c.bytes, len(c.byKey), c.lru.Len())
	}
	before := api.calls.Load()
	post("up")
	if api.calls.Load() != before+1 {
		t.Fatal("the oldest answer survived eviction")
	}
}

// blockingAPI answers once release is closed, or 499 when its request's
// context ends first; it reports each evaluation's context.
type blockingAPI struct {
	release chan struct{}
	started chan context.Context
}

func (a *blockingAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.started <- r.Context()
	select {
	case <-a.release:
		_, _ = io.WriteString(w, `{"status":"success"}`)
	case <-r.Context().Done():
		w.WriteHeader(499)
	}
}

// rangeRequest is an identical range query whose client can go away.
func rangeRequest(ctx context.Context) *http.Request {
	return httptest.NewRequestWithContext(ctx, http.MethodGet, "/api/v1/query_range?"+url.Values{"query": {"up"}, "start": {"0"}, "end": {"3600"}, "step": {"60"}}.Encode(), nil)
}

// TestRangeCacheFirstClientLeavingKeepsOthersAnswer: the shared evaluation
// is not the first caller's: when that client disconnects, the others
// still get the answer.
func TestRangeCacheFirstClientLeavingKeepsOthersAnswer(t *testing.T) {
	api := &blockingAPI{release: make(chan struct{}), started: make(chan context.Context, 4)}
	c := newRangeCache(api, time.Minute, time.Minute, 1<<20)

	firstCtx, leave := context.WithCancel(context.Background())
	firstDone := make(chan struct{})
	go func() {
		defer close(firstDone)
		c.ServeHTTP(httptest.NewRecorder(), rangeRequest(firstCtx))
	}()
	evalCtx := <-api.started

	second := httptest.NewRecorder()
	secondDone := make(chan struct{})
	go func() {
		defer close(secondDone)
		c.ServeHTTP(second, rangeRequest(context.Background()))
	}()
	waiters := func(n int) func() bool {
		return func() bool {
			c.mu.Lock()
			defer c.mu.Unlock()
			for _, f := range c.flights {
				return f.waiters == n
			}
			return false
		}
	}
	require.Eventually(t, waiters(2), 5*time.Second, time.Millisecond, "the second request joins the flight")
	leave()
	require.Eventually(t, waiters(1), 5*time.Second, time.Millisecond, "the first client's leaving is seen")
	require.NoError(t, evalCtx.Err(), "the evaluation was cancelled with the first client")
	close(api.release)
	<-secondDone
	<-firstDone
	assert.Equal(t, http.StatusOK, second.Code)
	assert.JSONEq(t, `{"status":"success"}`, second.Body.String())
	assert.Empty(t, api.started, "evaluated once")
}

// TestRangeCacheAllClientsLeavingCancelsTheEvaluation: nobody waits, so the
// evaluation stops, and the next identical request starts a new one.
func TestRangeCacheAllClientsLeavingCancelsTheEvaluation(t *testing.T) {
	api := &blockingAPI{release: make(chan struct{}), started: make(chan context.Context, 4)}
	c := newRangeCache(api, time.Minute, time.Minute, 1<<20)

	ctx, leave := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.ServeHTTP(httptest.NewRecorder(), rangeRequest(ctx))
	}()
	evalCtx := <-api.started
	leave()
	select {
	case <-evalCtx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the evaluation went on with no client waiting")
	}
	<-done

	close(api.release)
	rec := httptest.NewRecorder()
	c.ServeHTTP(rec, rangeRequest(context.Background()))
	<-api.started
	assert.Equal(t, http.StatusOK, rec.Code, "a cancelled evaluation is neither cached nor joined")
}

// TestRangeCacheCompressesOnce: behind newPooledGzip, an answer is
// compressed once for every gzip-accepting client that gets it (the hits
// are not compressed again), they all decode to the evaluated answer, and
// a client that does not accept gzip gets the plain bytes.
func TestRangeCacheCompressesOnce(t *testing.T) {
	api := &countingAPI{}
	c := newRangeCache(api, time.Minute, time.Minute, 1<<20)
	var compressions atomic.Int64
	c.compress = func(b []byte) []byte { compressions.Add(1); return gzipBody(b) }
	h := newPooledGzip(c)
	query := url.Values{"query": {"sum(rate(x[1m]))"}, "start": {"0"}, "end": {"3600"}, "step": {"60"}}.Encode()
	want := `{"query":"sum(rate(x[1m]))","call":1}`
	for i := range 5 {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/query_range?"+query, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, "gzip", rec.Header().Get("Content-Encoding"), "request %d", i)
		require.Equal(t, strconv.Itoa(rec.Body.Len()), rec.Header().Get("Content-Length"))
		zr, err := gzip.NewReader(rec.Body)
		require.NoError(t, err)
		got, err := io.ReadAll(zr)
		require.NoError(t, err)
		assert.Equal(t, want, string(got), "request %d", i)
	}
	code, plain := get(h, "sum(rate(x[1m]))")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, want, plain, "a client without gzip gets the plain answer")
	assert.EqualValues(t, 1, api.calls.Load(), "evaluations")
	assert.EqualValues(t, 1, compressions.Load(), "compressions")
}
