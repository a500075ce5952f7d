package analyticsreceiver

import (
	"bufio"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// After the 408 of a body that did not arrive in time, the server closes
// the connection itself: net/http reads what is left of a body after the
// handler, and with the read deadline cleared that read waited for the
// slow client forever, holding the connection and the collector's
// shutdown (found by testbed/e2e's slow-body attack, issue 12).
func TestTimedOutBodyClosesTheConnection(t *testing.T) {
	srv := start(t, setup{cfg: func(c *Config) { c.BodyReadTimeout = 200 * time.Millisecond }})
	c := rawConn(t, srv.url, slowHead)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusRequestTimeout, resp.StatusCode)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(2*time.Second)))
	_, err = br.ReadByte()
	assert.ErrorIs(t, err, io.EOF, "the server closes the connection after the 408 (the client never sends the rest)")
}
