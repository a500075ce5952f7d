package livepage

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/pulse-otel/pulse/internal/dashboards"
)

const (
	// maxQuiet is the longest a stream goes without evaluating, even when
	// the store reports no change: recorded series, rules and the moving
	// window change what the queries return without an append.
	maxQuiet = 30 * time.Second
	// rangeRefresh is how often a range query is evaluated again within
	// one step when the store changed: its aligned points end at the last
	// step boundary, so only late samples change them.
	rangeRefresh = 5 * time.Second
	// subscriberBuffer is how many frames a viewer may be behind before it
	// is disconnected (its page reconnects and gets a full frame).
	subscriberBuffer = 16
)

var (
	errTooManyViewers = errors.New("too many live viewers")
	errTooManyStreams = errors.New("too many live dashboards and ranges open")
	errClosed         = errors.New("live page is shutting down")
)

// streamKey is one dashboard over one range; the step follows from it.
type streamKey struct {
	uid, from, to string
}

// subscriber is one open page: frames arrive on ch; done is closed when
// the hub drops it (buffer full, dashboard gone, shutdown).
type subscriber struct {
	ch   chan []byte
	done chan struct{}
	once sync.Once
	// who is the viewer's identity, checked again when the dashboard's
	// sidecar entry changes.
	who string
}

func newSubscriber(who string) *subscriber {
	return &subscriber{ch: make(chan []byte, subscriberBuffer), done: make(chan struct{}), who: who}
}

func (s *subscriber) drop() { s.once.Do(func() { close(s.done) }) }

// send queues b without blocking; false: the subscriber is too slow.
func (s *subscriber) send(b []byte) bool {
	select {
	case s.ch <- b:
		return true
	default:
		return false
	}
}

// hub owns the streams: one per (dashboard, range) with viewers.
type hub struct {
	opts  *Options
	store *store
	now   func() time.Time

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	streams map[streamKey]*stream
	closed  bool
	viewers atomic.Int64

	// evaluations counts stream evaluations, dropped the viewers
	// disconnected for being too slow, for tests and telemetry.
	evaluations, dropped atomic.Int64
	// slots bounds the panel queries evaluated at once.
	slots chan struct{}
}

func newHub(opts *Options, st *store, now func() time.Time) *hub {
	ctx, cancel := context.WithCancel(context.Background())
	return &hub{
		opts: opts, store: st, now: now, ctx: ctx, cancel: cancel, streams: map[streamKey]*stream{},
		slots: make(chan struct{}, max(1, opts.MaxConcurrentQueries)),
	}
}

// join adds a viewer of d over rng, starting the stream when it is the
// first; the stream sends it a full frame first.
func (h *hub) join(key streamKey, d *Dashboard, rng timeRange, who string) (*stream, *subscriber, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, nil, errClosed
	}
	if h.viewers.Load() >= int64(h.opts.MaxViewers) {
		return nil, nil, errTooManyViewers
	}
	st := h.streams[key]
	if st == nil {
		if len(h.streams) >= h.opts.MaxStreams {
			return nil, nil, errTooManyStreams
		}
		st = &stream{hub: h, key: key, rng: rng, dash: d, subs: map[*subscriber]bool{}, stop: make(chan struct{})}
		h.streams[key] = st
		h.wg.Add(1)
		go st.run()
	}
	sub := newSubscriber(who)
	h.viewers.Add(1)
	st.add(sub)
	return st, sub, nil
}

// leave removes sub; the stream stops with its last viewer.
func (h *hub) leave(st *stream, sub *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.subs[sub]; ok {
		delete(st.subs, sub)
		h.viewers.Add(-1)
	}
	if len(st.subs) == 0 {
		h.remove(st)
	}
}

// remove forgets st and tells its goroutine to stop; h.mu held.
func (h *hub) remove(st *stream) {
	if h.streams[st.key] == st {
		delete(h.streams, st.key)
	}
	st.stopOnce.Do(func() { close(st.stop) })
}

// close stops every stream and drops every viewer, and returns once the
// streams' goroutines ended.
func (h *hub) close() {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.cancel()
	h.wg.Wait()
}

// stream evaluates one dashboard over one range while it has viewers.
type stream struct {
	hub  *hub
	key  streamKey
	rng  timeRange
	stop chan struct{}
	// stopOnce closes stop: the last viewer leaving or the stream ending.
	stopOnce sync.Once

	// Owned by run.
	lastChange uint64
	lastEval   time.Time
	lastRange  time.Time
	lastStep   int64

	mu   sync.Mutex
	dash *Dashboard
	// subs maps each viewer to whether it still needs its first (full) frame.
	subs  map[*subscriber]bool
	seq   uint64
	win   window
	evAt  int64
	state map[string]map[string]*targetState
	// full caches the full frame of seq for viewers who join.
	full    []byte
	fullSeq uint64
}

// add registers sub and sends it the current state, if there is one yet.
func (s *stream) add(sub *subscriber) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seq == 0 {
		s.subs[sub] = true
		return
	}
	s.subs[sub] = false
	sub.send(s.fullFrame())
}

// fullFrame returns the full frame of the current seq; s.mu held.
func (s *stream) fullFrame() []byte {
	if s.full == nil || s.fullSeq != s.seq {
		s.full = encodeFrame(frameHeader{seq: s.seq, now: s.evAt, win: s.win, full: true}, s.dash.Panels, s.state, nil)
		s.fullSeq = s.seq
	}
	return s.full
}

func (s *stream) run() {
	defer s.hub.wg.Done()
	defer s.end()
	t := time.NewTicker(s.hub.opts.Tick)
	defer t.Stop()
	for {
		if !s.tick() {
			return
		}
		select {
		case <-s.stop:
			return
		case <-s.hub.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// end removes the stream from the hub, so that no viewer joins it any
// more, and disconnects the remaining viewers.
func (s *stream) end() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	s.hub.remove(s)
	s.mu.Lock()
	defer s.mu.Unlock()
	for sub := range s.subs {
		sub.drop()
	}
}

// tick evaluates when something may have changed: the store (the append
// counter moved), a step boundary, the dashboard file, or maxQuiet.
// It returns false when the dashboard is gone.
func (s *stream) tick() bool {
	now := s.hub.now()
	d := s.hub.store.get().byUID[s.key.uid]
	if d == nil {
		return false
	}
	var change uint64
	changed := true
	if s.hub.opts.Changed != nil {
		change = s.hub.opts.Changed()
		changed = change != s.lastChange
	}
	win := s.rng.at(now)
	stepIdx := win.end / win.step.Milliseconds()
	s.mu.Lock()
	redraw := d != s.dash || s.seq == 0
	s.mu.Unlock()
	if !redraw && !changed && stepIdx == s.lastStep && now.Sub(s.lastEval) < maxQuiet {
		return true
	}
	doRange := redraw || stepIdx != s.lastStep || now.Sub(s.lastRange) >= maxQuiet ||
		(changed && now.Sub(s.lastRange) >= rangeRefresh)
	s.lastChange, s.lastEval, s.lastStep = change, now, stepIdx
	if doRange {
		s.lastRange = now
	}
	if redraw {
		s.evaluate(d, now, win, phaseAll, true)
		return true
	}
	// The instant queries first, published at once: a range query over
	// days can take longer than they all do, and the live values must not
	// wait for it.
	s.evaluate(d, now, win, phaseInstant, false)
	if doRange && hasRange(d) {
		s.evaluate(d, now, win, phaseRange, false)
	}
	return true
}

// phase is which queries an evaluation runs; the others' results are kept.
type phase int

const (
	phaseAll     phase = iota
	phaseInstant       // instant panels and the edges of range panels
	phaseRange         // the range queries of range panels
)

func hasRange(d *Dashboard) bool {
	for _, p := range d.Panels {
		if !p.Instant {
			return true
		}
	}
	return false
}

// evaluate runs every target's queries, then publishes a frame: a full
// one to every viewer when the dashboard is new or changed, else a delta
// of what changed (nothing when nothing did) and a full one to viewers
// still waiting for their first.
func (s *stream) evaluate(d *Dashboard, now time.Time, win window, ph phase, redraw bool) {
	s.hub.evaluations.Add(1)
	evalAt := min(now.UnixMilli(), win.to)
	s.mu.Lock()
	old := s.state
	if redraw {
		old = nil
	}
	s.mu.Unlock()

	state := make(map[string]map[string]*targetState, len(d.Panels))
	changed := map[string]map[string]changes{}
	span := time.Duration(win.to-win.from) * time.Millisecond
	for _, p := range d.Panels {
		ps := make(map[string]*targetState, len(p.Targets))
		for _, t := range p.Targets {
			prev := old[p.ID][t.RefID]
			expr := dashboards.Substitute(t.Expr, span, win.step)
			cur := s.evalTarget(p.Instant, expr, evalAt, win, ph, prev)
			ps[t.RefID] = cur
			if c := diff(prev, cur); c.any() {
				if changed[p.ID] == nil {
					changed[p.ID] = map[string]changes{}
				}
				changed[p.ID][t.RefID] = c
			}
		}
		state[p.ID] = ps
	}

	if s.hub.ctx.Err() != nil {
		return // shutting down: the queries were cancelled, their errors are no news
	}
	s.publish(d, state, changed, win, evalAt, redraw)
}

// publish installs the new state and sends its frame: encoded once, the
// same bytes queued to every viewer.
func (s *stream) publish(d *Dashboard, state map[string]map[string]*targetState, changed map[string]map[string]changes, win window, evalAt int64, redraw bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dash, s.state, s.win, s.evAt = d, state, win, evalAt
	if len(changed) == 0 && !redraw && s.seq > 0 {
		s.sendWaiting()
		return
	}
	s.seq++
	var delta []byte
	if !redraw {
		delta = encodeFrame(frameHeader{seq: s.seq, now: evalAt, win: win}, d.Panels, state, changed)
	}
	for sub, waiting := range s.subs {
		if redraw && !visible(d, s.hub.opts.AuthEnabled, sub.who) {
			// A new compile no longer shares the dashboard with them.
			s.remove(sub)
			continue
		}
		b := delta
		if waiting || redraw {
			b = s.fullFrame()
			s.subs[sub] = false
		}
		if !sub.send(b) {
			s.slow(sub)
		}
	}
}

// sendWaiting sends the full frame to viewers that joined before the
// first evaluation; s.mu held.
func (s *stream) sendWaiting() {
	for sub, waiting := range s.subs {
		if !waiting {
			continue
		}
		s.subs[sub] = false
		if !sub.send(s.fullFrame()) {
			s.slow(sub)
		}
	}
}

// slow disconnects a viewer whose buffer is full; s.mu held.
func (s *stream) slow(sub *subscriber) {
	s.remove(sub)
	s.hub.dropped.Add(1)
	s.hub.opts.Logger.Debug("live viewer too slow, disconnected", slog.String("dashboard", s.key.uid))
}

// remove disconnects a viewer; s.mu held. The stream keeps running until
// its goroutine sees no viewer is left (the viewer's handler leaves).
func (s *stream) remove(sub *subscriber) {
	delete(s.subs, sub)
	s.hub.viewers.Add(-1)
	sub.drop()
}

// evalTarget evaluates one target in phase ph, starting from prev: an
// instant panel's query at evalAt; a range panel's range query over the
// aligned window and its instant query at evalAt (edge).
func (s *stream) evalTarget(instant bool, expr string, evalAt int64, win window, ph phase, prev *targetState) *targetState {
	limit := s.hub.opts.MaxSeriesPerTarget
	cur := &targetState{instant: instant}
	if prev != nil {
		*cur = *prev
	}
	if instant {
		if ph == phaseRange && prev != nil {
			return cur
		}
		v, err := s.instant(expr, evalAt)
		if err != nil {
			cur.series, cur.err, cur.truncated = []byte("[]"), err.Error(), false
			return cur
		}
		cur.series, cur.truncated = encodeVector(v, limit, true)
		cur.err = ""
		return cur
	}
	if ph != phaseInstant || prev == nil {
		m, err := s.rangeQuery(expr, win)
		if err != nil {
			cur.series, cur.rangeErr, cur.seriesCut = []byte("[]"), err.Error(), false
		} else {
			cur.series, cur.seriesCut = encodeMatrix(m, limit)
			cur.rangeErr = ""
		}
	}
	// The edge is evaluated with the instant queries, and again when the
	// range query recovered from an error (which left the edge empty).
	if ph != phaseRange || prev == nil || prev.rangeErr != "" {
		cur.edge, cur.edgeErr, cur.edgeCut = []byte("[]"), "", false
		if cur.rangeErr == "" {
			if v, err := s.instant(expr, evalAt); err != nil {
				cur.edgeErr = err.Error()
			} else {
				cur.edge, cur.edgeCut = encodeVector(v, limit, false)
			}
		}
	}
	cur.err = cur.rangeErr
	if cur.err == "" {
		cur.err = cur.edgeErr
	}
	cur.truncated = cur.seriesCut || cur.edgeCut
	return cur
}

// slot waits for one of the hub's query slots; release it when done.
func (h *hub) slot(ctx context.Context) (release func(), err error) {
	select {
	case h.slots <- struct{}{}:
		return func() { <-h.slots }, nil
	case <-ctx.Done():
		return nil, queryError(ctx.Err())
	}
}

func (s *stream) instant(expr string, at int64) (promql.Vector, error) {
	ctx, cancel := context.WithTimeout(s.hub.ctx, s.hub.opts.QueryTimeout)
	defer cancel()
	release, err := s.hub.slot(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	q, err := s.hub.opts.Engine.NewInstantQuery(ctx, s.hub.opts.Queryable, nil, expr, time.UnixMilli(at))
	if err != nil {
		return nil, queryError(err)
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		return nil, queryError(res.Err)
	}
	switch v := res.Value.(type) {
	case promql.Vector:
		return v, nil
	case promql.Scalar:
		return promql.Vector{{T: v.T, F: v.V}}, nil
	}
	return nil, errors.New("the query does not return numbers")
}

func (s *stream) rangeQuery(expr string, win window) (promql.Matrix, error) {
	ctx, cancel := context.WithTimeout(s.hub.ctx, s.hub.opts.QueryTimeout)
	defer cancel()
	release, err := s.hub.slot(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	q, err := s.hub.opts.Engine.NewRangeQuery(ctx, s.hub.opts.Queryable, nil, expr,
		time.UnixMilli(win.start), time.UnixMilli(win.end), win.step)
	if err != nil {
		return nil, queryError(err)
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		return nil, queryError(res.Err)
	}
	m, ok := res.Value.(promql.Matrix)
	if !ok {
		return nil, errors.New("the query does not return series")
	}
	return m, nil
}

// queryError is the text a panel shows. The expressions are the
// operator's compiled dashboards, not a client's, and the labels they
// read are privacy-safe, so the engine's messages are shown; timeouts
// and cancellations get a fixed text.
func queryError(err error) error {
	var perr parser.ParseErrors
	switch {
	case errors.As(err, &perr):
		return errors.New("invalid query: " + perr.Error())
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, new(promql.ErrQueryTimeout)):
		return errors.New("query timed out")
	case errors.Is(err, context.Canceled), errors.As(err, new(promql.ErrQueryCanceled)):
		return errors.New("query canceled")
	}
	return err
}
