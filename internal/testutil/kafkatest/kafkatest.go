// Package kafkatest starts a Kafka-protocol broker for tests: franz-go's
// kfake (testbed/kfake), built once per test binary and run as a process
// on a free loopback port, stopped by the PID it was started with when the
// test ends. Production uses Kafka or Redpanda; kfake keeps every record
// in memory and never compacts, so tests keep their volumes small.
package kafkatest // import "github.com/pulse-otel/pulse/internal/testutil/kafkatest"

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	buildBin  string
	buildErr  error
)

// binary builds testbed/kfake (its own module) into a temporary directory
// once per test process.
func binary() (string, error) {
	buildOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		src := filepath.Join(filepath.Dir(file), "..", "..", "..", "testbed", "kfake")
		dir, err := os.MkdirTemp("", "pulse-kfake-")
		if err != nil {
			buildErr = err
			return
		}
		buildBin = filepath.Join(dir, "kfake")
		cmd := exec.Command("go", "build", "-o", buildBin, ".")
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building testbed/kfake: %v\n%s", err, out)
		}
	})
	return buildBin, buildErr
}

// Broker is a running kfake process.
type Broker struct {
	// Addr is host:port of its listener on 127.0.0.1.
	Addr string
	cmd  *exec.Cmd
	done chan struct{}
}

// Start runs a broker whose topics have partitions partitions; topics are
// created at start, others on first use. It is stopped (SIGTERM, then
// SIGKILL after 5 s) when t ends.
func Start(t testing.TB, partitions int, topics ...string) *Broker {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-listen", "127.0.0.1:0", "-partitions", fmt.Sprint(partitions), "-topics", strings.Join(topics, ","))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b := &Broker{cmd: cmd, done: make(chan struct{})}
	t.Cleanup(b.Stop)
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				addr <- a
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(b.done) }()
	select {
	case b.Addr = <-addr:
	case <-b.done:
		t.Fatal("kfake exited before listening")
	case <-time.After(30 * time.Second):
		t.Fatal("kfake did not listen within 30s")
	}
	return b
}

// Stop ends the broker; it is safe to call more than once.
func (b *Broker) Stop() {
	select {
	case <-b.done:
		return
	default:
	}
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.done:
	case <-time.After(5 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.done
	}
}
