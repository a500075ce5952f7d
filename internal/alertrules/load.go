package alertrules

import (
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/pulse-otel/pulse/internal/seeddef"
)

var ruleLoader = seeddef.Loader[Rule]{
	Kind:   ruleKind,
	Decode: decodeValid,
	Check:  checkUnique,
	ID:     func(r Rule) string { return r.RuleID },
}

// Load reads the rules of the given files and directories (every .yaml,
// .yml and .json file below a directory), validates them and returns them
// sorted by ruleId. The error joins one *FieldError per problem.
func Load(paths ...string) ([]Rule, error) {
	return ruleLoader.Load(paths...)
}

func sortRules(rules []Rule) {
	slices.SortStableFunc(rules, func(a, b Rule) int { return strings.Compare(a.RuleID, b.RuleID) })
}

// parseFile decodes and validates the definitions in b, read from file.
func parseFile(file string, b []byte) ([]Rule, []error) {
	return ruleLoader.Parse(file, b)
}

// decodeValid decodes the rule n and, when that succeeds, validates it.
func decodeValid(file string, n *yaml.Node) (Rule, []error) {
	r, errs := decodeRule(file, n)
	if len(errs) == 0 {
		errs = r.validate()
	}
	return r, errs
}
