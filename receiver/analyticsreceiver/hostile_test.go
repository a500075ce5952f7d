package analyticsreceiver

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/pulse-otel/pulse/internal/pipelineerr"
	"github.com/pulse-otel/pulse/receiver/analyticsreceiver/internal/metadata"
)

// rawConn opens a connection and sends a request header and the first
// bytes of a body that never completes.
func rawConn(t *testing.T, url, head string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	_, err = io.WriteString(c, head)
	require.NoError(t, err)
	return c
}

func readAnswer(t *testing.T, c net.Conn, within time.Duration) (*http.Response, answer) {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(within)))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err, "no answer within %s", within)
	defer func() { _ = resp.Body.Close() }() // read to the end below; a close error says nothing more
	var a answer
	b, _ := io.ReadAll(resp.Body)
	require.NoError(t, json.Unmarshal(b, &a), string(b))
	return resp, a
}

const slowHead = "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n["

// Issue 12 defect 3: clients that send a header and then trickle the body
// took every max_concurrent_requests slot, and every other request got 429.
// Now a slot is taken after the body arrived, and a body that does not
// arrive within body_read_timeout is answered 408.
func TestSlowBodiesTakeNoSlot(t *testing.T) {
	srv := start(t, setup{cfg: func(c *Config) {
		c.MaxConcurrentRequests = 2
		c.BodyReadTimeout = time.Second
	}})
	var slow []net.Conn
	for range 4 {
		slow = append(slow, rawConn(t, srv.url, slowHead))
	}
	time.Sleep(100 * time.Millisecond) // let the server read their headers
	r := post(t, srv.url+"/v1/events", "application/json", []byte(event("good")))
	assert.Equal(t, http.StatusOK, r.status, r.raw)
	for _, c := range slow {
		resp, a := readAnswer(t, c, 5*time.Second)
		assert.Equal(t, http.StatusRequestTimeout, resp.StatusCode)
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		assert.Equal(t, "the body did not arrive within body_read_timeout (1s)", a.Error)
		assert.True(t, resp.Close, "the connection of a timed-out body is closed")
	}
	assert.Equal(t, 1, srv.logs.LogRecordCount())
}

// Issue 12 defect 7: answers echoed the path and the Content-Encoding
// header; every answer is JSON with a fixed text.
func TestAnswersNeverEcho(t *testing.T) {
	srv := start(t, setup{})
	const secret = "jane.doe@example.com"
	cases := []struct {
		name, head, status, text string
	}{
		{"path", "POST /v1/" + secret + " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", "404 Not Found",
			"unknown path; endpoints are /v1/events, /v1/recommendations, /v1/model-metrics, /v1/business-metrics, /v1/system-metrics"},
		{"method", "JANEDOE /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", "405 Method Not Allowed", "method not allowed; use POST"},
		{"content encoding", "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Encoding: " + secret + "\r\nContent-Length: 2\r\n\r\n[]",
			"415 Unsupported Media Type", "unsupported Content-Encoding; accepted: identity (none), gzip, zstd, zlib, snappy, deflate, lz4, x-snappy-framed"},
		{"not gzip", "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\njane",
			"400 Bad Request", "the body is not valid data of its Content-Encoding"},
	}
	for _, c := range cases {
		conn := rawConn(t, srv.url, c.head)
		resp, a := readAnswer(t, conn, 5*time.Second)
		assert.Equal(t, c.status, resp.Status, c.name)
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"), c.name)
		assert.Equal(t, c.text, a.Error, c.name)
		assert.NotContains(t, a.Error, "jane", c.name)
		assert.NotContains(t, a.Error, "JANE", c.name)
	}
}

// Issue 11 leftover: a permanent error says which stage refused the data
// and why, when that stage marked its text safe for clients.
func TestPermanentErrorNamesStage(t *testing.T) {
	public := consumertest.NewErr(consumererror.NewPermanent(pipelineerr.Public("promstore", errors.New("the TSDB refused 1 of 1 samples: 1 older than the out-of-order window (too_old)"))))
	srv := start(t, setup{logs: public})
	r := post(t, srv.url+"/v1/events", "application/json", []byte(event("e")))
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, "the pipeline refused the data permanently at promstore: the TSDB refused 1 of 1 samples: 1 older than the out-of-order window (too_old)", r.body.Error)

	private := consumertest.NewErr(consumererror.NewPermanent(errors.New("bad value jane.doe@example.com")))
	srv = start(t, setup{logs: private})
	r = post(t, srv.url+"/v1/events", "application/json", []byte(event("e")))
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, "the pipeline refused the data permanently", r.body.Error)
}

// Issue 12 defect 8: the body pool kept buffers of any size.
func TestLargeBodyBufferIsNotPooled(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	r, err := newReceiver(cfg, receivertest.NewNopSettings(metadata.Type), nil)
	require.NoError(t, err)
	r.nextLogs = new(consumertest.LogsSink)
	body := "[" + event("big") + strings.Repeat(" ", 3<<20) + "]"
	req := httptest.NewRequest(http.MethodPost, "/v1/events", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	r.Handler().ServeHTTP(w, req)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	buf := r.bodies.Get().(*bytes.Buffer)
	assert.LessOrEqual(t, buf.Cap(), maxPooledBody, "a 3 MiB buffer went back to the pool")
}

// Issue 12 defect 5: connections are capped (max_connections); past the
// cap a connection waits instead of taking a descriptor.
func TestMaxConnections(t *testing.T) {
	srv := start(t, setup{cfg: func(c *Config) { c.MaxConnections = 2 }})
	for range 2 {
		rawConn(t, srv.url, "") // open, nothing sent
	}
	time.Sleep(100 * time.Millisecond)
	client := &http.Client{Timeout: 500 * time.Millisecond}
	_, err := client.Post(srv.url+"/v1/events", "application/json", strings.NewReader(event("third")))
	require.Error(t, err, "a third connection was served past max_connections 2")
	assert.Zero(t, srv.logs.LogRecordCount())
}

func TestHTTPDefaults(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.Equal(t, 10*time.Second, cfg.ReadHeaderTimeout)
	assert.Equal(t, 10*time.Second, cfg.BodyReadTimeout)
	assert.Zero(t, cfg.MaxConnections, "derived from the open-file limit")
}
