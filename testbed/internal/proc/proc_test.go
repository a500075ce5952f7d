package proc

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStopSleep(t *testing.T) {
	p, err := Start(Spec{Name: "sleep", Path: "sleep", Args: []string{"30"}})
	require.NoError(t, err)
	exited, _ := p.Exited()
	assert.False(t, exited)
	start := time.Now()
	err = p.Stop(10 * time.Second)
	// sleep dies of SIGTERM: an exit error, not a kill after the grace.
	require.Error(t, err)
	assert.Contains(t, err.Error(), "signal: terminated")
	assert.Less(t, time.Since(start), 5*time.Second)
	exited, _ = p.Exited()
	assert.True(t, exited)
	// A second stop reports the same exit and does not block.
	assert.Equal(t, err.Error(), p.Stop(time.Second).Error())
}

func TestStopCleanExit(t *testing.T) {
	p, err := Start(Spec{Path: "sh", Args: []string{"-c", `trap 'exit 0' TERM; echo up; while :; do sleep 0.05; done`}})
	require.NoError(t, err)
	require.NoError(t, p.WaitReady(5*time.Second, func() bool { return strings.Contains(p.Output(), "up") }))
	assert.NoError(t, p.Stop(10*time.Second))
}

func TestStopKillsWhatIgnoresSIGTERM(t *testing.T) {
	p, err := Start(Spec{Name: "stubborn", Path: "sh", Args: []string{"-c", `trap '' TERM; echo up; while :; do sleep 0.05; done`}})
	require.NoError(t, err)
	require.NoError(t, p.WaitReady(5*time.Second, func() bool { return strings.Contains(p.Output(), "up") }))
	start := time.Now()
	err = p.Stop(300 * time.Millisecond)
	require.Error(t, err)
	require.ErrorIs(t, err, ErrKilled)
	assert.Contains(t, err.Error(), "stubborn still running 300ms after SIGTERM: killed")
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond)
	exited, werr := p.Exited()
	assert.True(t, exited)
	assert.ErrorContains(t, werr, "signal: killed")
}

func TestWaitReadyTimeout(t *testing.T) {
	p := StartTest(t, Spec{Name: "idle", Path: "sleep", Args: []string{"30"}})
	start := time.Now()
	asked := 0
	err := p.WaitReady(300*time.Millisecond, func() bool { asked++; return false })
	require.EqualError(t, err, "idle not ready after 300ms")
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond)
	assert.GreaterOrEqual(t, asked, 2)
}

func TestWaitReadyExit(t *testing.T) {
	p := StartTest(t, Spec{Name: "quitter", Path: "sh", Args: []string{"-c", "echo bye; exit 3"}})
	err := p.WaitReady(30*time.Second, func() bool { return false })
	require.EqualError(t, err, "quitter exited before it was ready: exit status 3")
	assert.Equal(t, "bye\n", p.Output())
}

func TestWaitReadyAsksOnce(t *testing.T) {
	p := StartTest(t, Spec{Path: "sleep", Args: []string{"30"}})
	assert.NoError(t, p.WaitReady(0, func() bool { return true }))
}

func TestHTTPAndPortReady(t *testing.T) {
	status := http.StatusServiceUnavailable
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(status) }))
	defer srv.Close()
	assert.False(t, HTTPReady(srv.URL)())
	status = http.StatusOK
	assert.True(t, HTTPReady(srv.URL)())
	assert.True(t, PortReady(srv.Listener.Addr().String())())

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	assert.False(t, PortReady(addr)())
	assert.False(t, HTTPReady("http://"+addr+"/")())
}

func TestLogFileAndEnv(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "p.log")
	p, err := Start(Spec{Path: "sh", Args: []string{"-c", `pwd; echo "$PROC_TEST"; echo err >&2`}, Dir: dir, Env: []string{"PROC_TEST=v1"}, LogFile: log})
	require.NoError(t, err)
	<-p.Done()
	require.NoError(t, p.Stop(time.Second))
	raw, err := os.ReadFile(log)
	require.NoError(t, err)
	resolved, err := filepath.EvalSymlinks(dir)
	require.NoError(t, err)
	assert.Equal(t, resolved+"\nv1\nerr\n", string(raw))
	assert.Equal(t, string(raw), p.Output())
}

func TestSharedBuffer(t *testing.T) {
	out := new(Buffer)
	for _, w := range []string{"one", "two"} {
		p, err := Start(Spec{Path: "echo", Args: []string{w}, Output: out})
		require.NoError(t, err)
		<-p.Done()
	}
	assert.Equal(t, "one\ntwo\n", out.String())
}

func TestStartError(t *testing.T) {
	_, err := Start(Spec{Name: "missing", Path: filepath.Join(t.TempDir(), "no-such-binary")})
	assert.ErrorContains(t, err, "starting missing:")
}

func TestTail(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"a\nb\nc\n", 2, "b\nc"},
		{"a\nb\nc", 2, "b\nc"},
		{"a\nb\nc\n", 5, "a\nb\nc"},
		{"", 3, ""},
		{"a\nb", 0, ""},
	} {
		assert.Equal(t, c.want, tail(c.in, c.n), "tail(%q, %d)", c.in, c.n)
	}
}

func TestSharedBufferLoggedOnce(t *testing.T) {
	out := new(Buffer)
	assert.True(t, out.show())
	assert.False(t, out.show())
}
