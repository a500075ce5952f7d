package components

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// TestOneCollectorRelease fails when go.mod pulls a collector module of
// another release than the one Pulse pins: core v0.165.0 with stable
// modules v1.71.0, contrib v0.165.1. A dependency that requires an older
// module (prometheus requires contrib v0.163.0 modules) must be pinned.
func TestOneCollectorRelease(t *testing.T) {
	f, err := os.Open("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(strings.TrimSpace(sc.Text()))
		if len(fields) < 2 {
			continue
		}
		mod, ver := fields[0], fields[1]
		switch {
		case strings.HasPrefix(mod, "go.opentelemetry.io/collector/") || mod == "go.opentelemetry.io/collector":
			if ver != "v0.165.0" && ver != "v1.71.0" {
				t.Errorf("%s %s: collector core modules must be v0.165.0 or v1.71.0", mod, ver)
			}
		case strings.HasPrefix(mod, "github.com/open-telemetry/opentelemetry-collector-contrib/"):
			if ver != "v0.165.1" {
				t.Errorf("%s %s: contrib modules must be v0.165.1", mod, ver)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}
