package retention

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/pulse-otel/pulse/internal/docstest"
)

// TestDocsMatch keeps docs/retention.md true: its definition example is a
// valid policy, its PromQL parses, its shipped-policy table is the
// default policy and it names every processing counter.
func TestDocsMatch(t *testing.T) {
	b, err := os.ReadFile("../../docs/retention.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	block := func(section, lang string) string {
		s := docstest.Section(doc, section)
		_, rest, ok := strings.Cut(s, "```"+lang+"\n")
		if !ok {
			t.Fatalf("section %q has no %s block", section, lang)
		}
		code, _, _ := strings.Cut(rest, "```")
		return code
	}
	if _, errs := Parse("docs/retention.md", []byte(block("The definitions", "yaml"))); len(errs) > 0 {
		t.Errorf("the definition example: %v", errors.Join(errs...))
	}
	for _, l := range strings.Split(block("Querying long ranges", "promql"), "\n") {
		expr, _, _ := strings.Cut(l, "#")
		if expr = strings.TrimSpace(expr); expr == "" {
			continue
		}
		if _, err := promParser.ParseExpr(expr); err != nil {
			t.Errorf("%s: %v", expr, err)
		}
	}
	ps, err := Load("../../config/retention")
	if err != nil {
		t.Fatal(err)
	}
	shipped := docstest.Section(doc, "The shipped policy")
	for _, r := range ps[0].Rules {
		row := fmt.Sprintf("| %d d | %d d | %d d |", r.RetentionDays, r.Archive(), r.DeleteAfterDays)
		found := false
		for _, l := range strings.Split(shipped, "\n") {
			if strings.Contains(l, r.DataType) && strings.Contains(l, row) {
				found = true
			}
		}
		if !found {
			t.Errorf("the shipped-policy table has no row for %s with %s", r.DataType, row)
		}
	}
	for _, c := range ProcessingCounters {
		if !strings.Contains(docstest.Section(doc, "Data types"), docstest.Code(c.Name)) {
			t.Errorf("Data types does not name %s", c.Name)
		}
	}
}
