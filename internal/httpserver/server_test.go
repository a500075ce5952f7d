package httpserver

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestDeriveMax(t *testing.T) {
	for soft, want := range map[uint64]int{
		2048:    384, // issue 12: 2,050 connections exhausted this limit
		1024:    128,
		520:     minConnections,
		0:       MaxDefaultConnections, // unknown
		1 << 20: MaxDefaultConnections,
		1 << 40: MaxDefaultConnections,
	} {
		if got := deriveMax(soft); got != want {
			t.Errorf("deriveMax(%d) = %d, want %d", soft, got, want)
		}
	}
	d := DefaultMaxConnections()
	if Cap(0) != d || Cap(d+1) != d || Cap(3) != 3 {
		t.Errorf("Cap: %d %d %d (default %d)", Cap(0), Cap(d+1), Cap(3), d)
	}
}

func writeJSON(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// start serves an echo-the-body handler with the given cap.
func start(t *testing.T, maxConns int) (*Server, string) {
	t.Helper()
	cfg := confighttp.NewDefaultServerConfig()
	cfg.NetAddr.Endpoint = "127.0.0.1:0"
	cfg.MaxRequestBodySize = 1 << 20
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, "read")
			return
		}
		_, _ = w.Write(b)
	})
	s, err := New(context.Background(), &cfg, componenttest.NewNopHost(), componenttest.NewNopTelemetrySettings(), h,
		Options{Name: "test", MaxConnections: maxConns, WriteError: writeJSON})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.Serve(); !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		<-done
	})
	return s, s.Addr().String()
}

// rawRequest sends a request on a new connection and returns the status
// line, the headers and the body.
func rawRequest(t *testing.T, addr, req string) (status string, header http.Header, body string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.Status, resp.Header, string(b)
}

// Issue 12 defect 7: confighttp's own errors were plain text and quoted
// the Content-Encoding header.
func TestConfighttpErrorsAreJSON(t *testing.T) {
	_, addr := start(t, 0)
	const secret = "jane.doe@example.com"
	cases := []struct {
		name, req, status, text string
	}{
		{"unknown encoding", "POST / HTTP/1.1\r\nHost: x\r\nContent-Encoding: " + secret + "\r\nContent-Length: 2\r\n\r\n{}",
			"415 Unsupported Media Type", "unsupported Content-Encoding; accepted: identity (none), gzip, zstd, zlib, snappy, deflate, lz4, x-snappy-framed"},
		{"not gzip", "POST / HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\n" + "abcd",
			"400 Bad Request", "the body is not valid data of its Content-Encoding"},
	}
	for _, c := range cases {
		status, h, body := rawRequest(t, addr, c.req)
		var a struct{ Error string }
		if status != c.status || h.Get("Content-Type") != "application/json" || json.Unmarshal([]byte(body), &a) != nil || a.Error != c.text {
			t.Errorf("%s: %s %q %q", c.name, status, h.Get("Content-Type"), body)
		}
		if strings.Contains(body, secret) {
			t.Errorf("%s: the answer echoes the header", c.name)
		}
	}
}

// Headers are bounded at MaxHeaderBytes (net/http's default is 1 MiB).
// net/http answers malformed requests itself, before any handler, in plain
// text; those answers are rewritten as the listener's JSON.
func TestNetHTTPErrorsAreJSON(t *testing.T) {
	_, addr := start(t, 0)
	cases := []struct{ name, req, status, text string }{
		{"headers too large", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 2*MaxHeaderBytes) + "\r\n\r\n",
			"431 Request Header Fields Too Large", "request headers larger than 64 KiB"},
		{"transfer encoding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: jane.doe\r\n\r\n",
			"501 Not Implemented", "unsupported Transfer-Encoding (only chunked)"},
		{"request line", "jane doe\r\n\r\n", "400 Bad Request", "malformed HTTP request"},
		{"no host", "GET / HTTP/1.1\r\n\r\n", "400 Bad Request", "malformed HTTP request: missing required Host header"},
		{"version", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", "505 HTTP Version Not Supported", "unsupported HTTP version"},
	}
	for _, c := range cases {
		status, h, body := rawRequest(t, addr, c.req)
		var a struct{ Error string }
		if status != c.status || h.Get("Content-Type") != "application/json" || json.Unmarshal([]byte(body), &a) != nil || a.Error != c.text {
			t.Errorf("%s: %s %q %q", c.name, status, h.Get("Content-Type"), body)
		}
		if strings.Contains(body, "jane") {
			t.Errorf("%s: the answer echoes the request", c.name)
		}
	}
}

// get sends one request on a keep-alive connection.
func get(t *testing.T, c net.Conn, r *bufio.Reader) {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

// Issue 12 defect 5: connections are capped per listener. Past the cap a
// connection waits; idle keep-alive connections are closed to make room
// for it, so they cannot lock out new clients.
func TestConnectionCap(t *testing.T) {
	s, addr := start(t, 3)
	if s.MaxConnections() != 3 {
		t.Fatalf("cap %d", s.MaxConnections())
	}
	// Three connections that send nothing (not idle: no request yet).
	var held []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	waitOpen(t, s, 3)
	// A fourth is not served while they are open.
	c4, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c4.Close()
	if _, err := io.WriteString(c4, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok"); err != nil {
		t.Fatal(err)
	}
	_ = c4.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	r4 := bufio.NewReader(c4)
	if _, err := r4.Peek(1); err == nil {
		t.Fatal("a fourth connection was served past the cap of 3")
	}
	if n := s.limit.Open(); n != 3 {
		t.Errorf("%d connections open, cap 3", n)
	}
	held[0].Close()
	_ = c4.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(r4, nil)
	if err != nil {
		t.Fatalf("after one closed, the waiting connection: %v", err)
	}
	resp.Body.Close()
	for _, c := range held[1:] {
		c.Close()
	}
	c4.Close()
	waitOpen(t, s, 0)

	// Three idle keep-alive connections do not lock a fourth client out.
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		get(t, c, bufio.NewReader(c))
	}
	c5, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c5.Close()
	get(t, c5, bufio.NewReader(c5))
	if n := s.limit.Open(); n > 3 {
		t.Errorf("%d connections open, cap 3", n)
	}
}

func waitOpen(t *testing.T, s *Server, n int) {
	t.Helper()
	for range 500 {
		if s.limit.Open() == n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("open connections %d, want %d", s.limit.Open(), n)
}

func ExampleDefaultMaxConnections() {
	fmt.Println(deriveMax(2048))
	// Output: 384
}
