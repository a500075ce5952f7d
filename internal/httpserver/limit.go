package httpserver

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// limitListener accepts at most max connections at once. Past the cap,
// Accept closes the longest idle keep-alive connection, if any, and waits
// for a connection to end; meanwhile new connections wait in the kernel's
// backlog and take no descriptor of this process.
type limitListener struct {
	net.Listener
	max int
	// writeError renders net/http's own error answers as the listener's
	// JSON (rawerror.go); nil: leave them as they are.
	writeError func(w http.ResponseWriter, status int, msg string)

	mu     sync.Mutex
	open   int                    // slots taken: connections, and the Accept under way
	live   int                    // connections open
	idle   map[net.Conn]time.Time // keep-alive connections between requests
	freed  chan struct{}          // one token per closed connection, non-blocking
	done   chan struct{}
	closed bool
}

func newLimitListener(l net.Listener, n int) *limitListener {
	return &limitListener{
		Listener: l,
		max:      n,
		idle:     map[net.Conn]time.Time{},
		freed:    make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			return nil, net.ErrClosed
		}
		if l.open < l.max {
			l.open++
			l.mu.Unlock()
			break
		}
		victim := l.oldestIdle()
		l.mu.Unlock()
		if victim != nil {
			// net/http sees the read fail and ends the connection; its
			// Close frees the slot.
			_ = victim.Close()
		}
		select {
		case <-l.freed:
		case <-l.done:
			return nil, net.ErrClosed
		case <-time.After(time.Second):
			// A connection may have turned idle since: look again.
		}
	}
	c, err := l.Listener.Accept()
	if err != nil {
		l.release(false)
		return nil, err
	}
	l.mu.Lock()
	l.live++
	l.mu.Unlock()
	return &limitConn{Conn: c, l: l}, nil
}

// oldestIdle returns the longest idle connection and forgets it; l.mu held.
func (l *limitListener) oldestIdle() net.Conn {
	var victim net.Conn
	var since time.Time
	for c, t := range l.idle {
		if victim == nil || t.Before(since) {
			victim, since = c, t
		}
	}
	delete(l.idle, victim)
	return victim
}

func (l *limitListener) release(conn bool) {
	l.mu.Lock()
	l.open--
	if conn {
		l.live--
	}
	l.mu.Unlock()
	select {
	case l.freed <- struct{}{}:
	default:
	}
}

// track is the server's ConnState hook: it keeps the set of idle
// connections, which are the ones Accept may close when at the cap.
func (l *limitListener) track(c net.Conn, st http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if st == http.StateIdle {
		l.idle[c] = time.Now()
		return
	}
	delete(l.idle, c)
}

// Open returns the number of connections open now.
func (l *limitListener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.live
}

func (l *limitListener) Close() error {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		close(l.done)
	}
	l.mu.Unlock()
	return l.Listener.Close()
}

type limitConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

// Write replaces net/http's plain-text error answers (rawerror.go).
func (c *limitConn) Write(b []byte) (int, error) {
	if len(b) > 0 && b[0] == 'H' {
		if repl := rawError(b, c.l.writeError); repl != nil {
			if _, err := c.Conn.Write(repl); err != nil {
				return 0, err
			}
			return len(b), nil
		}
	}
	return c.Conn.Write(b)
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(true) })
	return err
}
