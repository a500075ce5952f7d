package retention

import (
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/pulse-otel/pulse/internal/seeddef"
)

var policyKind = seeddef.Kind{Name: "policy", Plural: "policies"}

// decoder decodes one policy field by field, so that every error names its
// field.
type decoder struct{ *seeddef.Decoder }

func decodePolicy(file string, n *yaml.Node) (Policy, []error) {
	p := Policy{File: file, lines: map[string]int{}}
	d := decoder{&seeddef.Decoder{File: file, Lines: p.lines}}
	d.In(policyKind.Name, seeddef.ID(n, "policyId"), func() { d.policy(n, &p) })
	return p, d.Errs()
}

func (d decoder) policy(n *yaml.Node, p *Policy) {
	d.Fields(n, "", map[string]seeddef.Field{
		"policyId": d.String(&p.PolicyID),
		"name":     d.String(&p.Name),
		"rules": func(n *yaml.Node, path string) {
			if n.Kind != yaml.SequenceNode {
				d.Fail(n, path, "must be a list, got %s", seeddef.KindName(n))
				return
			}
			p.Rules = make([]Rule, len(n.Content))
			for i, c := range n.Content {
				d.rule(c, fmt.Sprintf("%s[%d].", path, i), &p.Rules[i])
			}
		},
		"complianceReasons": d.Strings(&p.ComplianceReasons, d.String),
		"legalBasis":        d.String(&p.LegalBasis),
		"isActive":          d.Bool(&p.IsActive),
		"createdAt":         d.Millis(&p.CreatedAt),
		"updatedAt":         d.Millis(&p.UpdatedAt),
	}, []string{"lastExecuted", "nextExecution", "_id", "_creationTime"},
		[]string{"policyId", "name", "rules", "complianceReasons", "legalBasis", "isActive"})
}

func (d decoder) rule(n *yaml.Node, path string, r *Rule) {
	d.Fields(n, path, map[string]seeddef.Field{
		"dataType":         d.String(&r.DataType),
		"retentionDays":    d.Count(&r.RetentionDays, "days", maxDays, ""),
		"archiveAfterDays": d.Count(&r.ArchiveAfterDays, "days", maxDays, ""),
		"deleteAfterDays":  d.Count(&r.DeleteAfterDays, "days", maxDays, ""),
		"conditions": func(n *yaml.Node, path string) {
			if n.Kind != yaml.SequenceNode {
				d.Fail(n, path, "must be a list, got %s", seeddef.KindName(n))
				return
			}
			r.Conditions = make([]Condition, len(n.Content))
			for i, c := range n.Content {
				cd := &r.Conditions[i]
				d.Fields(c, fmt.Sprintf("%s[%d].", path, i), map[string]seeddef.Field{
					"field":    d.String(&cd.Field),
					"operator": d.String(&cd.Operator),
					// value is v.any() in the seed: any scalar, as written.
					"value": d.Text(&cd.Value),
				}, nil, []string{"field", "operator", "value"})
			}
		},
	}, nil, []string{"dataType", "retentionDays", "deleteAfterDays"})
}
