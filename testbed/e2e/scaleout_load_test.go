package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pulse-otel/pulse/testbed/loadgen"
)

// The scale-out test's load: loadgen's seed-shaped events and
// recommendations, each batch sent to one gateway (alternately) and, once
// a gateway acknowledged it, the same bytes to the reference. A gateway
// that fails a batch (restarting, or Kafka refusing) gets it again, then
// the other one, as a client SDK would retry: the event and recommendation
// ids are the same, so the aggregators count what reached Kafka once.

// soBatch is one request body, sent as is to a gateway and the reference.
type soBatch struct {
	path   string
	body   []byte
	events int // analytics events (path /v1/events), else 0
	items  int // recommendations and later responses (path /v1/recommendations)
}

// soLoad generates and sends batches and counts what was acknowledged.
type soLoad struct {
	rig *scaleOutRig
	cfg loadgen.Config

	genMu sync.Mutex
	rnd   *rand.Rand
	seq   int64
	n     uint64 // batches generated, the id suffix of the next

	client *http.Client
	next   atomic.Uint64 // round-robin over the gateways

	mu        sync.Mutex
	acked     int64 // events the gateways answered 200 for (accepted)
	ackedRecs int64 // recommendation items accepted
	requests  int64 // batches sent (each acknowledged once)
	retries   int64 // resends after a gateway failed a batch
	status    map[string]int64
	errs      []string
}

// soEventsPerBatch and soRecsPerBatch size the batches; one in
// soRecEvery batches carries recommendations.
const (
	soEventsPerBatch = 50
	soRecsPerBatch   = 20
	soRecEvery       = 8
	soUsers          = 6000
	soMaxAttempts    = 60
)

func newSOLoad(r *scaleOutRig) *soLoad {
	return &soLoad{
		rig: r,
		cfg: loadgen.Config{Users: soUsers, Sessions: 1, Batch: soEventsPerBatch},
		rnd: rand.New(rand.NewPCG(17, 2026)),
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			MaxIdleConnsPerHost: 16, IdleConnTimeout: 5 * time.Second,
		}},
		status: map[string]int64{},
	}
}

// batch generates the next request at ts: loadgen's events with sessions
// of their own user (loadgen draws sessions apart from users; a session
// shared by users would be one session to one Pulse and one per user to
// shards keyed by user), or loadgen's recommendations and responses.
func (l *soLoad) batch(ts time.Time) soBatch {
	l.genMu.Lock()
	defer l.genMu.Unlock()
	l.n++
	suffix := fmt.Sprintf("%016x", l.n)
	if l.n%soRecEvery == 0 {
		recs := loadgen.Recommendations(l.rnd, l.cfg, l.seq, soRecsPerBatch, ts)
		l.seq += int64(len(recs))
		return soBatch{path: "/v1/recommendations", body: withSuffix(mustMarshal(recs), suffix), items: len(recs)}
	}
	evs := make([]map[string]any, soEventsPerBatch)
	for i := range evs {
		ev := loadgen.Event(l.rnd, l.cfg, l.seq, ts)
		ev["eventId"] = fmt.Sprintf("so-%d-%s", l.seq, suffix)
		ev["sessionId"] = fmt.Sprintf("s-%s-%d", ev["userId"], l.rnd.IntN(2))
		evs[i] = ev
		l.seq++
	}
	return soBatch{path: "/v1/events", body: mustMarshal(evs), events: len(evs)}
}

// withSuffix makes loadgen's ids (which end in a placeholder it replaces
// at each send) unique to this batch.
func withSuffix(body []byte, suffix string) []byte {
	return bytes.ReplaceAll(body, []byte("@@@@@@@@@@@@@@@@"), []byte(suffix))
}

// userBatch is a batch of events in which the events at the indexes of
// mine belong to user.
func (l *soLoad) userBatch(ts time.Time, user string, mine func(i int) bool) (soBatch, int) {
	b := l.batch(ts)
	for b.events == 0 {
		b = l.batch(ts)
	}
	var evs []map[string]any
	if err := json.Unmarshal(b.body, &evs); err != nil {
		panic(err)
	}
	n := 0
	for i, ev := range evs {
		if mine(i) {
			ev["userId"], ev["deviceId"], ev["sessionId"] = user, "d-"+user, "s-"+user
			n++
		}
	}
	b.body = mustMarshal(evs)
	return b, n
}

// send delivers b: to gateway gw until one gateway answered 200, then to
// the reference, whose answer must be the same. It returns the gateway's
// answer; failures are recorded, not fatal (it runs on load goroutines).
func (l *soLoad) send(ctx context.Context, gw int, b soBatch) (truthAnswer, bool) {
	gws := l.rig.gateways
	var a truthAnswer
	ok := false
	for attempt := 0; attempt < soMaxAttempts && ctx.Err() == nil; attempt++ {
		// Two tries on the chosen gateway, then the other, and so on.
		target := gws[(gw+attempt/2)%len(gws)]
		status, ans, err := l.post(target.Events, b)
		l.count(string(target.Role), status, err)
		if err == nil && status == http.StatusOK {
			a, ok = ans, true
			break
		}
		l.mu.Lock()
		l.retries++
		l.mu.Unlock()
		time.Sleep(200 * time.Millisecond)
	}
	if !ok {
		l.fail("batch %s not acknowledged by any gateway after %d attempts", b.path, soMaxAttempts)
		return a, false
	}
	status, ref, err := l.post(l.rig.ref.Events, b)
	l.count("reference", status, err)
	if err != nil || status != http.StatusOK || ref.Accepted != a.Accepted || fmt.Sprint(ref.droppedIndexes()) != fmt.Sprint(a.droppedIndexes()) || len(ref.Rejected)+len(a.Rejected) > 0 {
		l.fail("%s: gateway accepted %d dropped %v rejected %d; reference status %d (%v) accepted %d dropped %v rejected %d",
			b.path, a.Accepted, a.droppedIndexes(), len(a.Rejected), status, err, ref.Accepted, ref.droppedIndexes(), len(ref.Rejected))
		return a, false
	}
	l.mu.Lock()
	l.requests++
	l.acked += int64(min(b.events, a.Accepted))
	l.ackedRecs += int64(min(b.items, a.Accepted))
	l.mu.Unlock()
	return a, true
}

func (l *soLoad) post(addr string, b soBatch) (int, truthAnswer, error) {
	var a truthAnswer
	resp, err := l.client.Post("http://"+addr+b.path, "application/json", bytes.NewReader(b.body))
	if err != nil {
		return 0, a, err
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, a, err
	}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, &a); err != nil {
			return resp.StatusCode, a, fmt.Errorf("answer is not JSON: %w", err)
		}
	}
	return resp.StatusCode, a, nil
}

func (l *soLoad) count(who string, status int, err error) {
	k := fmt.Sprintf("%s %d", who, status)
	if err != nil {
		k = who + " error"
		if s := err.Error(); strings.Contains(s, "connection refused") {
			k = who + " connection refused"
		}
	}
	l.mu.Lock()
	l.status[k]++
	l.mu.Unlock()
}

func (l *soLoad) fail(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errs) < 20 {
		l.errs = append(l.errs, fmt.Sprintf(format, args...))
	}
}

// soRun is a load running in the background.
type soRun struct {
	sent   atomic.Int64 // events handed to send
	cancel context.CancelFunc
	done   chan struct{}
}

// run sends batches of about rate events per second from workers
// goroutines until events events have been sent or ctx ends.
func (l *soLoad) run(ctx context.Context, events int64, rate, workers int) *soRun {
	ctx, cancel := context.WithCancel(ctx)
	r := &soRun{cancel: cancel, done: make(chan struct{})}
	interval := time.Duration(float64(time.Second) * soEventsPerBatch / float64(rate))
	tick := time.NewTicker(interval)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				if r.sent.Load() >= events {
					return
				}
				b := l.batch(time.Now())
				r.sent.Add(int64(b.events))
				l.send(ctx, int(l.next.Add(1)%uint64(len(l.rig.gateways))), b)
			}
		}()
	}
	go func() { wg.Wait(); tick.Stop(); cancel(); close(r.done) }()
	return r
}

// wait blocks until the run has sent everything (or limit passed, which
// stops it) and returns whether it finished by itself.
func (r *soRun) wait(limit time.Duration) bool {
	select {
	case <-r.done:
		return true
	case <-time.After(limit):
		r.cancel()
		<-r.done
		return false
	}
}

// untilSent waits until the run has sent at least n events (or ended).
func (r *soRun) untilSent(n int64, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for r.sent.Load() < n && time.Now().Before(deadline) {
		select {
		case <-r.done:
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// totals returns what was acknowledged so far.
func (l *soLoad) totals() (events, recs, requests, retries int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.acked, l.ackedRecs, l.requests, l.retries
}

// problems returns the failures recorded so far.
func (l *soLoad) problems() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.errs...)
}

func (l *soLoad) statuses() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var keys []string
	for k := range l.status {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %d; ", k, l.status[k])
	}
	return b.String()
}
