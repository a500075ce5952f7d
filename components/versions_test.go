package components

import (
	"os"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
)

// TestOneCollectorRelease fails when go.mod pulls a collector module of
// another release than the one Pulse pins: core v0.165.0 with stable
// modules v1.71.0, contrib v0.165.1. A dependency that requires an older
// module (prometheus requires contrib v0.163.0 modules) must be pinned.
func TestOneCollectorRelease(t *testing.T) {
	data, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.ParseLax("go.mod", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	var versions [][2]string // module, version: requirements, exclusions, replacements
	for _, r := range f.Require {
		versions = append(versions, [2]string{r.Mod.Path, r.Mod.Version})
	}
	for _, x := range f.Exclude {
		versions = append(versions, [2]string{x.Mod.Path, x.Mod.Version})
	}
	for _, r := range f.Replace {
		versions = append(versions, [2]string{r.Old.Path, r.Old.Version}, [2]string{r.New.Path, r.New.Version})
	}
	for _, mv := range versions {
		mod, ver := mv[0], mv[1]
		if ver == "" { // a replacement of every version, or by a directory
			continue
		}
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
}
