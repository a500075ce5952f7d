package e2e

import (
	"maps"
	"os"
	"regexp"
	"slices"
	"testing"
)

// TestScaleOutDocNamesEveryVariable keeps docs/scale-out.md's table of
// environment variables and config/scale-out's files in step: every
// ${env:PULSE_...} the shipped configs read is documented, and the
// document names no variable they do not read.
func TestScaleOutDocNamesEveryVariable(t *testing.T) {
	used := map[string]bool{}
	for _, f := range []string{"../../config/scale-out/gateway.yaml", "../../config/scale-out/aggregator.yaml"} {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`\$\{env:(PULSE_[A-Z0-9_]+)`).FindAllStringSubmatch(string(raw), -1) {
			used[m[1]] = true
		}
	}
	raw, err := os.ReadFile("../../docs/scale-out.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\| (.*?) \| (gateway|aggregator|both) \|`).FindAllStringSubmatch(string(raw), -1) {
		for _, v := range regexp.MustCompile("`(PULSE_[A-Z0-9_]+)`").FindAllStringSubmatch(m[1], -1) {
			documented[v[1]] = true
		}
	}
	if len(used) == 0 || len(documented) == 0 {
		t.Fatalf("found %d variables in the configs and %d in the document: the patterns are wrong", len(used), len(documented))
	}
	for _, v := range slices.Sorted(maps.Keys(used)) {
		if !documented[v] {
			t.Errorf("config/scale-out reads %s, which docs/scale-out.md's table does not list", v)
		}
	}
	for _, v := range slices.Sorted(maps.Keys(documented)) {
		if !used[v] {
			t.Errorf("docs/scale-out.md lists %s, which config/scale-out does not read", v)
		}
	}
}
