package testutil

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
)

func TestFreeAddrBelowEphemeralAndDistinct(t *testing.T) {
	lo := ephemeralLow()
	seen := map[string]bool{}
	for range 50 {
		addr := FreeAddr(t)
		if seen[addr] {
			t.Fatalf("%s handed out twice", addr)
		}
		seen[addr] = true
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := strconv.Atoi(port)
		if p < portLow || p >= lo {
			t.Fatalf("port %d outside [%d, %d)", p, portLow, lo)
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("%s is not free: %v", addr, err)
		}
		_ = ln.Close()
	}
}

// TestFreeAddrAcrossProcesses runs this test binary as a second process
// that takes ports, and requires that none of them is one this process
// holds.
func TestFreeAddrAcrossProcesses(t *testing.T) {
	if start := os.Getenv("PULSE_PORTS_CHILD"); start != "" {
		ports.limit = ephemeralLow()
		ports.next, _ = strconv.Atoi(start)
		for range 200 {
			fmt.Println(FreeAddr(t))
		}
		return
	}
	mine := map[string]bool{}
	first := ""
	for range 200 {
		a := FreeAddr(t)
		if first == "" {
			first = a
		}
		mine[a] = true
	}
	_, start, _ := net.SplitHostPort(first)
	// Start the child at one of our ports: it must skip every one we hold.
	cmd := exec.Command(os.Args[0], "-test.run=^TestFreeAddrAcrossProcesses$")
	cmd.Env = append(os.Environ(), "PULSE_PORTS_CHILD="+start)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range splitLines(string(out)) {
		if _, _, err := net.SplitHostPort(line); err != nil {
			continue
		}
		n++
		if mine[line] {
			t.Fatalf("the child process was handed %s, which this process holds", line)
		}
	}
	if n != 200 {
		t.Fatalf("the child printed %d addresses, want 200:\n%s", n, out)
	}
}

func splitLines(s string) []string {
	var lines []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		lines = append(lines, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return lines
}
