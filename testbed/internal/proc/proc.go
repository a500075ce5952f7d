// Package proc starts, polls and stops the processes the testbed runs (the
// collector under test, Prometheus, Alertmanager, the baseline collector):
// one owner for exec.Command with the output captured, wait-until-ready
// polling, and a stop that signals only the PID it started (SIGTERM, then
// SIGKILL after a bound) and always reaps it.
package proc // import "github.com/pulse-otel/pulse/testbed/internal/proc"

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrKilled is what Stop wraps when the process outlived its grace period
// and was killed.
var ErrKilled = errors.New("killed")

// pollInterval is how often WaitReady asks the readiness check.
const pollInterval = 100 * time.Millisecond

// Spec says what to run and where its output goes.
type Spec struct {
	// Name names the process in errors ("prometheus", "otelcol-pulse").
	Name string
	// Path and Args are the command line.
	Path string
	Args []string
	// Dir is the working directory; empty for the caller's.
	Dir string
	// Env is appended to the caller's environment.
	Env []string
	// SysProcAttr, when set, is passed on (e.g. to run as another user).
	SysProcAttr *syscall.SysProcAttr
	// LogFile, when set, receives stdout and stderr; it is created (or
	// truncated) and closed once the process has exited.
	LogFile string
	// Output receives stdout and stderr when LogFile is empty; nil means
	// a new Buffer. Pass the same Buffer to several starts to keep one log
	// across restarts.
	Output io.Writer
}

// Process is a started process. Its exit is reaped by one goroutine; Done
// is closed once it has been.
type Process struct {
	name    string
	cmd     *exec.Cmd
	logFile string
	out     io.Writer
	done    chan struct{}
	err     error // Wait's result, set before done is closed
}

// Start runs spec's command.
func Start(spec Spec) (*Process, error) {
	p := &Process{name: spec.Name, logFile: spec.LogFile, out: spec.Output, done: make(chan struct{})}
	if p.name == "" {
		p.name = spec.Path
	}
	var file *os.File
	if spec.LogFile != "" {
		f, err := os.Create(spec.LogFile)
		if err != nil {
			return nil, fmt.Errorf("%s: log file: %w", p.name, err)
		}
		file, p.out = f, f
	} else if p.out == nil {
		p.out = new(Buffer)
	}
	cmd := exec.Command(spec.Path, spec.Args...)
	cmd.Dir = spec.Dir
	if len(spec.Env) > 0 {
		cmd.Env = append(os.Environ(), spec.Env...)
	}
	cmd.SysProcAttr = spec.SysProcAttr
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		if file != nil {
			_ = file.Close()
		}
		return nil, fmt.Errorf("starting %s: %w", p.name, err)
	}
	p.cmd = cmd
	go func() {
		p.err = cmd.Wait()
		if file != nil {
			_ = file.Close()
		}
		close(p.done)
	}()
	return p, nil
}

// Pid is the process id of the process started.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed once the process has exited and been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports, without blocking, whether the process has exited and
// with what (Wait's error: nil for status 0).
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Stop sends SIGTERM and waits up to grace for the exit, then sends SIGKILL
// and waits for that. It returns nil on a clean exit, the exit error
// otherwise, and an error wrapping ErrKilled when grace ran out. On a
// process that has already exited it returns how it exited.
func (p *Process) Stop(grace time.Duration) error {
	if exited, err := p.Exited(); exited {
		return p.exitErr(err)
	}
	// A signal error means it has exited meanwhile: done tells.
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
		return p.exitErr(p.err)
	case <-t.C:
	}
	_ = p.cmd.Process.Kill() // as above
	<-p.done
	return fmt.Errorf("%s still running %s after SIGTERM: %w", p.name, grace, ErrKilled)
}

// Kill sends SIGKILL (unless the process has exited) and waits until it is
// reaped.
func (p *Process) Kill() {
	if exited, _ := p.Exited(); !exited {
		_ = p.cmd.Process.Kill() // an error means it has exited meanwhile
	}
	<-p.done
}

func (p *Process) exitErr(err error) error {
	if err != nil {
		return fmt.Errorf("%s exited with %w", p.name, err)
	}
	return nil
}

// WaitReady asks ready every 100 ms until it answers true, the process
// exits, or timeout passes; ready is asked at least once.
func (p *Process) WaitReady(timeout time.Duration, ready func() bool) error {
	deadline := time.Now().Add(timeout)
	for {
		if ready() {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it was ready: %v", p.name, p.err)
		case <-time.After(pollInterval):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s", p.name, timeout)
		}
	}
}

// Output returns what the process wrote so far: the log file's content, or
// the Output writer's when it is a Buffer ("" for other writers).
func (p *Process) Output() string {
	if p.logFile != "" {
		b, err := os.ReadFile(p.logFile)
		if err != nil {
			return fmt.Sprintf("(reading %s: %v)", p.logFile, err)
		}
		return string(b)
	}
	if b, ok := p.out.(*Buffer); ok {
		return b.String()
	}
	return ""
}

// Tail returns the last n lines of Output.
func (p *Process) Tail(n int) string { return tail(p.Output(), n) }

func tail(s string, n int) string {
	if n <= 0 {
		return ""
	}
	s = strings.TrimRight(s, "\n")
	i := len(s)
	for range n {
		j := strings.LastIndexByte(s[:i], '\n')
		if j < 0 {
			return s
		}
		i = j
	}
	return s[i+1:]
}

// HTTPReady is a readiness check: a GET of url answers 200 within 2 s.
func HTTPReady(url string) func() bool {
	client := &http.Client{Timeout: 2 * time.Second}
	return func() bool {
		resp, err := client.Get(url)
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
}

// PortReady is a readiness check: addr accepts a TCP connection within 2 s.
func PortReady(addr string) func() bool {
	return func() bool {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			return false
		}
		_ = c.Close()
		return true
	}
}

// Buffer is a bytes.Buffer safe for a process's writers and its reader.
type Buffer struct {
	mu    sync.Mutex
	b     bytes.Buffer
	shown bool // a failed test's cleanup has logged it
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// show reports whether b is still to be logged, and marks it logged: the
// cleanups of several starts sharing one Buffer log it once.
func (b *Buffer) show() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	first := !b.shown
	b.shown = true
	return first
}
