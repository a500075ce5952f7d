package audit

import (
	"os"
	"strings"
	"testing"

	"github.com/pulse-otel/pulse/internal/docstest"
)

// TestDocsNameEveryAction: docs/audit.md has a row for each action and
// names each problem Verify reports.
func TestDocsNameEveryAction(t *testing.T) {
	b, err := os.ReadFile("../../docs/audit.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	recorded := docstest.Section(doc, "What is recorded")
	for _, a := range []string{ActionForget, ActionRetention, ActionRulesSync, ActionDashboardsSync, ActionConfigLoad, ActionKeyRotation} {
		if !strings.Contains(recorded, "| "+docstest.Code(a)+" |") {
			t.Errorf("docs/audit.md, What is recorded: no row for %s", a)
		}
	}
	check := docstest.Section(doc, "Checking and reading it")
	for _, p := range []string{ProblemTruncated, ProblemMalformed, ProblemNotCanonical, ProblemBadHash, ProblemBrokenLink, ProblemSeqGap, ProblemMissingFile, ProblemFileName, ProblemEmptyFile} {
		if !strings.Contains(check, docstest.Code(p)) {
			t.Errorf("docs/audit.md, Checking and reading it: problem %q not named", p)
		}
	}
}
