package alertrules

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseDefinitions feeds arbitrary bytes to the definition decoder:
// it must never panic, and whatever it accepts must compile to rule groups
// (or fail with an error, never a panic).
func FuzzParseDefinitions(f *testing.F) {
	addDefinitionSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		rules, _ := parseFile("fuzz.yaml", b)
		if len(rules) == 0 {
			return
		}
		_, _ = CompileRules(rules)
		_, _ = CompileTests(rules, "rules.yaml")
	})
}

// addDefinitionSeeds seeds f with the default definitions
// (config/alerts) and two broken ones.
func addDefinitionSeeds(f *testing.F) {
	f.Helper()
	files, _ := filepath.Glob("../../config/alerts/*")
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"rules": [{"ruleId": "x"}]}`))
	f.Add([]byte("- ruleId: a\n  condition: {metric: error_rate, operator: '>', threshold: .Inf}\n"))
}
