package retention

import (
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/pulse-otel/pulse/internal/seeddef"
)

// fail is a problem with field path of p.
func (p *Policy) fail(path, format string, args ...any) error {
	return &seeddef.FieldError{
		File: p.File, Line: p.lines[path],
		Owners: []seeddef.Owner{{Kind: policyKind.Name, ID: p.PolicyID}},
		Field:  path, Msg: fmt.Sprintf(format, args...),
	}
}

// validate checks what decoding cannot: known data types, the order of
// the ages, conditions on labels the type's families carry.
func (p *Policy) validate() []error {
	var errs []error
	for _, f := range []struct{ path, v string }{{"policyId", p.PolicyID}, {"name", p.Name}, {"legalBasis", p.LegalBasis}} {
		if strings.TrimSpace(f.v) == "" {
			errs = append(errs, p.fail(f.path, "must not be empty"))
		}
	}
	if len(p.ComplianceReasons) == 0 {
		errs = append(errs, p.fail("complianceReasons", "must name at least one reason (GDPR, CCPA...)"))
	}
	if len(p.Rules) == 0 {
		errs = append(errs, p.fail("rules", "must hold at least one rule"))
	}
	for i, r := range p.Rules {
		errs = append(errs, p.validateRule(fmt.Sprintf("rules[%d].", i), r)...)
	}
	return errs
}

func (p *Policy) validateRule(path string, r Rule) []error {
	var errs []error
	if !slices.Contains(DataTypes, r.DataType) {
		return []error{p.fail(path+"dataType", "unknown data type %q; known: %s", r.DataType, strings.Join(DataTypes, ", "))}
	}
	if r.ArchiveAfterDays != 0 && r.ArchiveAfterDays < r.RetentionDays {
		errs = append(errs, p.fail(path+"archiveAfterDays", "must be at least retentionDays (%d), got %d", r.RetentionDays, r.ArchiveAfterDays))
	}
	if r.DeleteAfterDays < r.Archive() {
		errs = append(errs, p.fail(path+"deleteAfterDays", "must be at least archiveAfterDays (or retentionDays without it, %d), got %d", r.Archive(), r.DeleteAfterDays))
	}
	known := labelsOf(r.DataType)
	for i, c := range r.Conditions {
		cp := fmt.Sprintf("%sconditions[%d].", path, i)
		if !slices.Contains(known, c.Field) {
			errs = append(errs, p.fail(cp+"field", "%q is not a label of the %s families; their labels: %s", c.Field, r.DataType, strings.Join(known, ", ")))
		}
		op, ok := Operators[c.Operator]
		if !ok {
			errs = append(errs, p.fail(cp+"operator", "unknown operator %q; known: equals, not_equals, matches, not_matches", c.Operator))
			continue
		}
		if _, err := matcher(op, c.Field, c.Value); err != nil {
			errs = append(errs, p.fail(cp+"value", "not a valid regular expression (RE2): %v", err))
		}
	}
	if len(errs) == 0 && len(ruleFamilies(r)) == 0 {
		errs = append(errs, p.fail(path+"conditions", "no %s family carries every label the conditions name", r.DataType))
	}
	return errs
}

func matcher(op, name, value string) (*labels.Matcher, error) {
	t := map[string]labels.MatchType{"=": labels.MatchEqual, "!=": labels.MatchNotEqual, "=~": labels.MatchRegexp, "!~": labels.MatchNotRegexp}[op]
	return labels.NewMatcher(t, name, value)
}

// checkAll checks the policies together: each policyId once, and no two
// active rules of one data type that may select the same series (which
// one's ages would win is not defined).
func checkAll(ps []Policy) []error {
	var errs []error
	seen := map[string]string{}
	type ref struct {
		p *Policy
		i int
	}
	byType := map[string][]ref{}
	for pi := range ps {
		p := &ps[pi]
		if f, dup := seen[p.PolicyID]; dup {
			errs = append(errs, p.fail("policyId", "defined twice (also in %s)", f))
			continue
		}
		seen[p.PolicyID] = p.File
		if !p.IsActive {
			continue
		}
		for i, r := range p.Rules {
			for _, o := range byType[r.DataType] {
				if overlap(o.p.Rules[o.i], r) {
					errs = append(errs, p.fail(fmt.Sprintf("rules[%d].dataType", i),
						"%s: overlaps active rule %d of policy %q (%s): give them conditions that exclude each other (equals and not_equals one value)",
						r.DataType, o.i, o.p.PolicyID, o.p.File))
				}
			}
			byType[r.DataType] = append(byType[r.DataType], ref{p, i})
		}
	}
	return errs
}

// overlap reports whether two rules of one data type may select a common
// series: they share a family, and no label's conditions exclude each
// other (one value equal in one and different or not equal in the other,
// or equal to a value the other's regular expression refuses).
func overlap(a, b Rule) bool {
	fa, fb := ruleFamilies(a), ruleFamilies(b)
	shared := false
	for _, f := range fa {
		if slices.ContainsFunc(fb, func(g Family) bool { return g.Name == f.Name }) {
			shared = true
			break
		}
	}
	if !shared {
		return false
	}
	for _, x := range a.Conditions {
		for _, y := range b.Conditions {
			if x.Field == y.Field && (excludes(x, y) || excludes(y, x)) {
				return false
			}
		}
	}
	return true
}

// excludes reports whether no value satisfies both x (an equals) and y.
func excludes(x, y Condition) bool {
	if x.Operator != "equals" {
		return false
	}
	m, err := matcher(Operators[y.Operator], y.Field, y.Value)
	if err != nil {
		return false
	}
	return !m.Matches(x.Value)
}

// ruleFamilies are the families of r's data type that carry every label
// r's conditions name.
func ruleFamilies(r Rule) []Family {
	var out []Family
	for _, f := range families[r.DataType] {
		if !slices.ContainsFunc(r.Conditions, func(c Condition) bool { return !f.HasLabel(c.Field) }) {
			out = append(out, f)
		}
	}
	return out
}
