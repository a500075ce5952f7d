package dashboards

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulse-otel/pulse/internal/docstest"
)

func readDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(builtinDir(t), "..", "..", "docs", "dashboards.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The example definition of docs/dashboards.md loads, and the example
// error is what a misspelt KPI in it gives.
func TestDocsExample(t *testing.T) {
	sec := docstest.Section(readDoc(t), "Definition format")
	_, rest, ok := strings.Cut(sec, "```yaml\n")
	example, _, _ := strings.Cut(rest, "```")
	if !ok || example == "" {
		t.Fatal("docs/dashboards.md: no yaml example under Definition format")
	}
	if _, errs := Parse("shop.yaml", []byte(example)); len(errs) > 0 {
		t.Fatalf("the documented example fails: %v", errs)
	}
	bad := strings.Replace(example, "kpi: events_per_second", "kpi: event_per_second", 1)
	_, errs := Parse("config/dashboards/shop.yaml", []byte(bad))
	if len(errs) != 1 || !strings.Contains(sec, errs[0].Error()) {
		t.Errorf("docs/dashboards.md does not show the error the example gives: %v", errs)
	}
}

// The table of built-in dashboards names every file and UID.
func TestDocsListBuiltins(t *testing.T) {
	doc := readDoc(t)
	for _, db := range loadBuiltin(t) {
		for _, s := range []string{docstest.Code(filepath.Base(db.File)), docstest.Code(db.DashboardID)} {
			if !strings.Contains(doc, s) {
				t.Errorf("docs/dashboards.md does not name %s", s)
			}
		}
	}
	for name := range leftOut {
		if !strings.Contains(doc, docstest.Code(name)) {
			t.Errorf("docs/dashboards.md does not say %s is left out", name)
		}
	}
}
