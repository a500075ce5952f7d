package kpi

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

// The KPI registry table of docs/metrics.md is generated from All().
// Regenerate with: go test ./internal/kpi -run TestDocs -update
var update = flag.Bool("update", false, "rewrite the KPI registry of docs/metrics.md from All()")

const (
	docsBegin = "<!-- BEGIN KPI REGISTRY: generated from internal/kpi by `go test ./internal/kpi -run TestDocs -update`; do not edit -->"
	docsEnd   = "<!-- END KPI REGISTRY -->"
)

// docsTable renders the registry: the table, then each KPI's description.
func docsTable(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("| name | PromQL (default window) | unit | covers seed field |\n")
	b.WriteString("|---|---|---|---|\n")
	for _, k := range All() {
		q, err := k.Query("")
		if err != nil {
			t.Fatalf("%s: %v", k.Name, err)
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s |\n", k.Name, strings.ReplaceAll(q, "|", `\|`), orDash(k.Unit), orDash(k.SeedField))
	}
	b.WriteString("\nWhat each KPI computes, its windows and what it reads:\n\n")
	for _, k := range All() {
		fmt.Fprintf(&b, "- **`%s`**: %s", k.Name, k.Description)
		switch {
		case len(k.Windows) > 0:
			fmt.Fprintf(&b, " Windows: %s (default `%s`).", codeList(k.Windows), k.Window)
		case k.Window != "":
			fmt.Fprintf(&b, " Default window `%s`.", k.Window)
		}
		fmt.Fprintf(&b, " Reads %s.\n", codeList(k.Metrics))
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return "`" + s + "`"
}

func codeList(xs []string) string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = "`" + x + "`"
	}
	return strings.Join(out, ", ")
}

func TestDocsKPIRegistry(t *testing.T) {
	doc := readDocs(t)
	sec := docSection(t, doc, "KPI registry")
	before, rest, ok := strings.Cut(doc, docsBegin+"\n")
	if !ok || !strings.Contains(sec, docsBegin) {
		t.Fatalf("docs/metrics.md: the KPI registry section lacks the line\n%s", docsBegin)
	}
	current, after, ok := strings.Cut(rest, docsEnd)
	if !ok {
		t.Fatalf("docs/metrics.md: no %s after the begin marker", docsEnd)
	}
	want := docsTable(t)
	if current == want {
		return
	}
	if !*update {
		t.Fatalf("docs/metrics.md: the KPI registry differs from internal/kpi; run\n  go test ./internal/kpi -run TestDocs -update")
	}
	if err := os.WriteFile(docsPath, []byte(before+docsBegin+"\n"+want+docsEnd+after), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Log("docs/metrics.md: KPI registry rewritten")
}
