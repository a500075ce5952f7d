package retention

import (
	"go.yaml.in/yaml/v3"

	"github.com/pulse-otel/pulse/internal/seeddef"
)

var policyLoader = seeddef.Loader[Policy]{
	Kind:   policyKind,
	Decode: decodeValid,
	Check:  checkAll,
	ID:     func(p Policy) string { return p.PolicyID },
}

// Load reads the policies of the given files and directories (every .yaml,
// .yml and .json file below a directory), validates them and returns them
// sorted by policyId. The error joins one *seeddef.FieldError per problem,
// each naming the file, line, policy, field (rules[1].retentionDays) and
// value.
func Load(paths ...string) ([]Policy, error) {
	return policyLoader.Load(paths...)
}

// Parse decodes and validates the policies in b, read from file (the
// checks across policies included).
func Parse(file string, b []byte) ([]Policy, []error) {
	ps, errs := policyLoader.Parse(file, b)
	if len(errs) > 0 {
		return nil, errs
	}
	if errs := checkAll(ps); len(errs) > 0 {
		return nil, errs
	}
	return ps, nil
}

// decodeValid decodes the policy n and, when that succeeds, validates it.
func decodeValid(file string, n *yaml.Node) (Policy, []error) {
	p, errs := decodePolicy(file, n)
	if len(errs) == 0 {
		errs = p.validate()
	}
	return p, errs
}
