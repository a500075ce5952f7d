package scalerig

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pulse-otel/pulse/internal/testutil"
)

func TestChildPID(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if got := childPID("sleep"); got != cmd.Process.Pid {
		t.Fatalf("childPID(sleep) = %d, want %d", got, cmd.Process.Pid)
	}
	if got := childPID("no-such-command"); got != 0 {
		t.Fatalf("childPID(no-such-command) = %d, want 0", got)
	}
	if CPU(cmd.Process.Pid) < 0 {
		t.Fatal("negative CPU time")
	}
}

func TestSingleConfig(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "config", "remote-write.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	cfg, addrs, err := singleConfig(string(raw), func() string { n++; return fmt.Sprintf("127.0.0.1:%d", 20000+n) })
	if err != nil {
		t.Fatal(err)
	}
	if len(addrs) != len(singleEndpoints) {
		t.Fatalf("%d addresses, want %d", len(addrs), len(singleEndpoints))
	}
	// The shipped listeners (singleEndpoints) and the debug exporter are
	// gone from the config the rig runs: it binds only the free addresses.
	for _, gone := range append(slices.Clone(singleEndpoints), ", debug]") {
		if strings.Contains(cfg, gone) {
			t.Errorf("config still has %q", gone)
		}
	}
	if !strings.Contains(cfg, "endpoint: "+addrs[0]) || !strings.Contains(cfg, "port: 20006") {
		t.Errorf("the analytics receiver or telemetry port was not moved:\n%s", cfg)
	}
	// A shipped file that lost a listener fails, naming it.
	lost := singleEndpoints[2]
	_, _, err = singleConfig(strings.ReplaceAll(string(raw), lost, "endpoint: 0.0.0.0:1"), func() string { return testutil.FreeAddr(t) })
	if err == nil || !strings.Contains(err.Error(), lost) {
		t.Fatalf("error = %v, want one naming %q", err, lost)
	}
}
