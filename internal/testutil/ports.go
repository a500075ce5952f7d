package testutil // import "github.com/pulse-otel/pulse/internal/testutil"

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Ports handed to tests come from below the kernel's ephemeral range, so
// no outgoing connection and no listener on port 0 can take one between
// the moment a test picks it and the moment its process binds it (the
// race that made "bind: address already in use" appear in CI). Test
// binaries running at the same time (go test runs packages in parallel)
// keep out of each other's way with a lock file per port, held by the
// process until it exits; the kernel drops the lock of a killed process.
const (
	portLow   = 20000 // first port handed out
	portsLock = "pulse-test-ports"
)

var ports struct {
	sync.Mutex
	next  int
	held  []*os.File // the lock files of the ports handed out, kept open
	limit int        // the first port of the ephemeral range
}

// FreeAddr returns a loopback address with a port that is free, below the
// ephemeral range, and handed to no other test of any package running on
// this machine.
func FreeAddr(t testing.TB) string {
	t.Helper()
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// PickAddr is FreeAddr for code that has no testing.TB (benchmark rigs).
func PickAddr() (string, error) { return freeAddr() }

func freeAddr() (string, error) {
	ports.Lock()
	defer ports.Unlock()
	if ports.limit == 0 {
		ports.limit = ephemeralLow()
		// Spread the processes' starting points, so that they rarely
		// contend for the same lock files.
		ports.next = portLow + (os.Getpid()*97)%(ports.limit-portLow)
	}
	dir := filepath.Join(os.TempDir(), portsLock)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	for range ports.limit - portLow {
		p := ports.next
		ports.next++
		if ports.next >= ports.limit {
			ports.next = portLow
		}
		f, ok := lockPort(filepath.Join(dir, strconv.Itoa(p)))
		if !ok {
			continue // another test process holds it
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			_ = f.Close() // in use by something that is not a test
			continue
		}
		_ = ln.Close()
		ports.held = append(ports.held, f)
		return addr, nil
	}
	return "", fmt.Errorf("free port: none left in [%d, %d)", portLow, ports.limit)
}

// ephemeralLow is the first port of the kernel's ephemeral range
// (32768 on Linux by default; 49152 elsewhere).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if lo, err := strconv.Atoi(f[0]); err == nil && lo > portLow+1000 {
				return lo
			}
		}
	}
	return 32768
}
