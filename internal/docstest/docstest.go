// Package docstest helps tests keep docs/ true: it finds the sections of a
// Markdown document that the tests compare with what the code does.
package docstest // import "github.com/pulse-otel/pulse/internal/docstest"

import "strings"

// Section returns the text of the "## " section whose heading contains
// title, up to the next "## " heading, or "" when there is none.
func Section(doc, title string) string {
	lines := strings.Split(doc, "\n")
	start := -1
	for i, l := range lines {
		if !strings.HasPrefix(l, "## ") {
			continue
		}
		if start >= 0 {
			return strings.Join(lines[start:i], "\n")
		}
		if strings.Contains(l, title) {
			start = i
		}
	}
	if start < 0 {
		return ""
	}
	return strings.Join(lines[start:], "\n")
}

// Code is how a name appears in the documents: in backticks.
func Code(s string) string { return "`" + s + "`" }
