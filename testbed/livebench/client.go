// Package livebench measures the live dashboard page (internal/livepage)
// under viewers: 1,000 simulated subscribers of one dashboard's push
// stream, each a real HTTP client that reads and decodes every
// Server-Sent Events frame, plus a few real Chromium pages, against the
// built otelcol-pulse with the shipped config while testbed/loadgen posts
// 10,000 events/s. It is a manual benchmark: TestLiveViewers runs only with
// LIVEBENCH=1 (see livebench_test.go for what it measures).
//
// The subscriber client lives outside the test file so that its frame
// parser (the contract's `event: full|delta` frames, deltas merged into the
// state) is tested in make test on its own, against fixed frames.
package livebench // import "github.com/pulse-otel/pulse/testbed/livebench"

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Change is a moment the watched stat's value changed in the frames: the
// time the frame that carried it was read, and the value (NaN when the
// target had no series).
type Change struct {
	At    time.Time
	Value float64
	Seq   uint64
}

// Subscriber is one simulated viewer of a live stream. It reads the stream
// until its context ends, decoding every frame and keeping the value of one
// stat (Panel, RefID: an instant target) as deltas change it.
type Subscriber struct {
	// URL is the stream (http://host/dashboards/api/live/uid?from=...).
	URL string
	// Panel and RefID name the watched stat's target.
	Panel, RefID string
	// KeepHeaders keeps every frame's header (seq, now, range, step), for
	// a test that compares what a page shows with the query API at the
	// frame's evaluation time (Header).
	KeepHeaders bool

	// Frames and Fulls count the frames read, Bytes the stream's bytes
	// (pings and the retry line included); SeqGaps counts deltas
	// whose seq was not the last one plus one.
	Frames, Fulls, Bytes, SeqGaps atomic.Int64
	// Connects counts the streams opened (a reconnect after a drop adds
	// one); Drops the streams that ended while the context was alive.
	Connects, Drops atomic.Int64

	live chan struct{} // closed at the first full frame
	once sync.Once

	mu      sync.Mutex
	changes []Change
	value   float64
	seq     uint64
	err     error
	headers map[uint64]Header
}

// Header is a frame's header: its seq, evaluation time (unix ms), range
// (unix ms) and step (seconds).
type Header struct {
	Seq                 uint64
	Now, From, To, Step int64
}

// NewSubscriber returns a subscriber of url watching panel's refID (none
// when panel is empty).
func NewSubscriber(url, panel, refID string) *Subscriber {
	return &Subscriber{URL: url, Panel: panel, RefID: refID, live: make(chan struct{}), value: math.NaN()}
}

// Live is closed once the first full frame was read.
func (s *Subscriber) Live() <-chan struct{} { return s.live }

// Changes returns the watched value's changes so far, oldest first.
func (s *Subscriber) Changes() []Change {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Change(nil), s.changes...)
}

// Value is the watched stat's current value (NaN before any).
func (s *Subscriber) Value() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.value
}

// Header returns the header of the frame seq (KeepHeaders), and whether
// one was read.
func (s *Subscriber) Header(seq uint64) (Header, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.headers[seq]
	return h, ok
}

// Err is the last error that ended a stream (nil when none did).
func (s *Subscriber) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Run reads the stream until ctx ends, reconnecting after the server's
// retry delay (1 s) when a stream ends or fails, as the page does.
func (s *Subscriber) Run(ctx context.Context, c *http.Client) {
	for ctx.Err() == nil {
		err := s.stream(ctx, c)
		if ctx.Err() != nil {
			return
		}
		s.Drops.Add(1)
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// stream reads one connection.
func (s *Subscriber) stream(ctx context.Context, c *http.Client) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("live stream answered HTTP %d", resp.StatusCode)
	}
	s.Connects.Add(1)
	return ReadEvents(countingReader{resp.Body, &s.Bytes}, func(ev Event) error {
		if ev.Name != "full" && ev.Name != "delta" {
			return nil
		}
		return s.apply(ev)
	})
}

// apply decodes one frame and updates the watched value.
func (s *Subscriber) apply(ev Event) error {
	f, err := DecodeFrame(ev.Data)
	if err != nil {
		return err
	}
	s.Frames.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	full := ev.Name == "full"
	if full {
		s.Fulls.Add(1)
	} else if f.Seq != s.seq+1 {
		s.SeqGaps.Add(1)
	}
	s.seq = f.Seq
	if s.KeepHeaders {
		if s.headers == nil {
			s.headers = map[uint64]Header{}
		}
		s.headers[f.Seq] = Header{Seq: f.Seq, Now: f.Now, From: f.From, To: f.To, Step: f.Step}
	}
	if s.Panel == "" {
		return nil
	}
	v, carried, err := f.Instant(s.Panel, s.RefID)
	if err != nil {
		return err
	}
	switch {
	case carried:
	case full:
		v = math.NaN() // a full frame without the target: it has no value
	default:
		v = s.value // a delta that leaves it alone
	}
	if full || !sameValue(v, s.value) {
		s.changes = append(s.changes, Change{At: ev.At, Value: v, Seq: f.Seq})
		s.value = v
	}
	if full {
		s.once.Do(func() { close(s.live) })
	}
	return nil
}

// countingReader adds what it reads to n.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func sameValue(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

// Event is one Server-Sent Event: its name ("message" when it has none),
// its data lines joined, the retry field, when its last line was read and
// how many bytes its lines took since the last blank line. Data is
// valid only during the callback.
type Event struct {
	Name  string
	Data  []byte
	Retry int
	At    time.Time
	Size  int
}

// maxLine bounds one line of the stream (a full frame is one data line).
const maxLine = 64 << 20

// ReadEvents parses a text/event-stream body (WHATWG rules: lines ending in
// \n, \r\n or \r; "field: value"; a blank line ends an event; lines that
// start with ":" are comments) and calls fn per event that has data or a
// retry field. It returns fn's first error, or the body's (nil at EOF).
// A lone \r ends a line only once a \n follows somewhere (the server ends
// lines with \n; a reader that waits for \n keeps one read per line).
func ReadEvents(body io.Reader, fn func(Event) error) error {
	r := bufio.NewReaderSize(body, 64<<10)
	p := &eventParser{fn: fn, ev: Event{Name: "message"}}
	var long []byte // a line longer than the reader's buffer
	for {
		chunk, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(long)+len(chunk) > maxLine {
				return errors.New("live stream: line over 64 MiB")
			}
			long = append(long, chunk...)
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				if len(long)+len(chunk) > 0 {
					return io.ErrUnexpectedEOF // a torn last line is no event
				}
				return nil
			}
			return err
		}
		line := chunk
		if len(long) > 0 {
			line = append(long, chunk...)
			long = long[:0]
		}
		p.size += len(line)
		line = line[:len(line)-1]
		// \r\n and lone \r: every \r ends a line too.
		for {
			i := bytes.IndexByte(line, '\r')
			if i < 0 {
				break
			}
			if err := p.line(line[:i]); err != nil {
				return err
			}
			line = line[i+1:]
			if len(line) == 0 {
				break // \r\n: the \n ends no second line
			}
		}
		if len(line) > 0 || !bytes.HasSuffix(chunk, []byte("\r\n")) {
			if err := p.line(line); err != nil {
				return err
			}
		}
	}
}

// eventParser assembles events from lines.
type eventParser struct {
	fn      func(Event) error
	ev      Event
	data    bytes.Buffer
	hasData bool
	size    int
}

func (p *eventParser) line(line []byte) error {
	if len(line) == 0 {
		if p.hasData || p.ev.Retry > 0 {
			p.ev.Data = bytes.TrimSuffix(p.data.Bytes(), []byte("\n"))
			p.ev.At, p.ev.Size = time.Now(), p.size
			if err := p.fn(p.ev); err != nil {
				return err
			}
		}
		p.ev, p.hasData, p.size = Event{Name: "message"}, false, 0
		p.data.Reset()
		return nil
	}
	if line[0] == ':' {
		return nil
	}
	field, val, found := bytes.Cut(line, []byte(":"))
	if found && len(val) > 0 && val[0] == ' ' {
		val = val[1:]
	}
	switch string(field) {
	case "event":
		p.ev.Name = string(val)
	case "data":
		p.data.Write(val)
		p.data.WriteByte('\n')
		p.hasData = true
	case "retry":
		if n, err := strconv.Atoi(string(val)); err == nil && n >= 0 {
			p.ev.Retry = n
		}
	}
	return nil
}

// Frame is a decoded full or delta frame (the contract's shape); targets
// are kept raw until asked for.
type Frame struct {
	Seq    uint64                `json:"seq"`
	Now    int64                 `json:"now"`
	From   int64                 `json:"from"`
	To     int64                 `json:"to"`
	Step   int64                 `json:"step"`
	Panels map[string]FramePanel `json:"panels"`
}

// FramePanel is one panel of a frame.
type FramePanel struct {
	Targets map[string]json.RawMessage `json:"targets"`
}

// Target is one target of a frame. Pointer fields are nil when a delta
// leaves them out (unchanged).
type Target struct {
	Type   string    `json:"type"`
	Series *[]Series `json:"series"`
	Edge   *[]Point  `json:"edge"`
	Error  *string   `json:"error"`
}

// Series is one series of a target.
type Series struct {
	Metric map[string]string `json:"metric"`
	Values [][2]any          `json:"values"`
}

// Point is an edge value: the instant value of a range target's series.
type Point struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// DecodeFrame decodes a frame's data.
func DecodeFrame(data []byte) (*Frame, error) {
	f := new(Frame)
	if err := json.Unmarshal(data, f); err != nil {
		return nil, fmt.Errorf("live frame: %w", err)
	}
	if f.Seq == 0 {
		return nil, errors.New("live frame: seq missing or 0")
	}
	return f, nil
}

// Target decodes panel's refID; nil when the frame does not carry it.
func (f *Frame) Target(panel, refID string) (*Target, error) {
	raw, ok := f.Panels[panel].Targets[refID]
	if !ok {
		return nil, nil
	}
	t := new(Target)
	if err := json.Unmarshal(raw, t); err != nil {
		return nil, fmt.Errorf("live frame: panel %s target %s: %w", panel, refID, err)
	}
	return t, nil
}

// Instant returns the value of an instant target's first series (NaN when
// it has none), and whether the frame carried the target's series at all.
func (f *Frame) Instant(panel, refID string) (v float64, carried bool, err error) {
	t, err := f.Target(panel, refID)
	if err != nil || t == nil || t.Series == nil {
		return math.NaN(), false, err
	}
	if len(*t.Series) == 0 || len((*t.Series)[0].Values) == 0 {
		return math.NaN(), true, nil
	}
	s, ok := (*t.Series)[0].Values[0][1].(string)
	if !ok {
		return math.NaN(), true, fmt.Errorf("live frame: panel %s target %s: value is not a string", panel, refID)
	}
	v, err = strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN(), true, fmt.Errorf("live frame: panel %s target %s: value is not a number", panel, refID)
	}
	return v, true, nil
}
