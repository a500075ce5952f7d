package alertrules

import (
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/pulse-otel/pulse/internal/seeddef"
)

// decoder decodes one rule field by field, so that every error names its
// field.
type decoder struct{ *seeddef.Decoder }

func decodeRule(file string, n *yaml.Node) (Rule, []error) {
	r := Rule{File: file, line: n.Line, lines: map[string]int{}}
	d := decoder{&seeddef.Decoder{File: file, Lines: r.lines}}
	d.In(ruleKind.Name, seeddef.ID(n, "ruleId"), func() { d.rule(n, &r) })
	return r, d.Errs()
}

func (d decoder) rule(n *yaml.Node, r *Rule) {
	d.Fields(n, "", map[string]seeddef.Field{
		"ruleId":      d.String(&r.RuleID),
		"name":        d.String(&r.Name),
		"description": d.String(&r.Description),
		"condition": func(n *yaml.Node, path string) {
			c := &r.Condition
			d.Fields(n, path+".", map[string]seeddef.Field{
				"metric":              d.String(&c.Metric),
				"operator":            d.String(&c.Operator),
				"threshold":           d.Number(&c.Threshold),
				"timeWindow":          d.Count(&c.TimeWindow, "minutes", 525600, " (a year)"),
				"evaluationFrequency": d.Count(&c.EvaluationFrequency, "minutes", 525600, " (a year)"),
			}, nil, []string{"metric", "operator", "threshold", "timeWindow", "evaluationFrequency"})
		},
		"notifications": func(n *yaml.Node, path string) {
			if n.Kind != yaml.SequenceNode {
				d.Fail(n, path, "must be a list, got %s", seeddef.KindName(n))
				return
			}
			r.Notifications = make([]Notification, len(n.Content))
			for i, c := range n.Content {
				nt := &r.Notifications[i]
				d.Fields(c, fmt.Sprintf("%s[%d].", path, i), map[string]seeddef.Field{
					"channel":    d.String(&nt.Channel),
					"recipients": d.Strings(&nt.Recipients, d.String),
					"severity":   d.String(&nt.Severity),
					"cooldown":   d.Count(&nt.Cooldown, "minutes", 525600, " (a year)"),
				}, nil, []string{"channel", "recipients", "severity", "cooldown"})
			}
		},
		"isActive": d.Bool(&r.IsActive),
		"escalation": func(n *yaml.Node, path string) {
			if n.Tag == "!!null" {
				return
			}
			e := &Escalation{}
			r.Escalation = e
			d.Fields(n, path+".", map[string]seeddef.Field{
				"escalateAfter":        d.Count(&e.EscalateAfter, "minutes", 525600, " (a year)"),
				"escalationRecipients": d.Strings(&e.EscalationRecipients, d.String),
			}, nil, []string{"escalateAfter", "escalationRecipients"})
		},
		"createdBy": d.String(&r.CreatedBy),
		"createdAt": d.Millis(&r.CreatedAt),
		"updatedAt": d.Millis(&r.UpdatedAt),
		"promql":    d.String(&r.PromQL),
	}, []string{"lastTriggered", "triggerCount", "_id", "_creationTime"},
		[]string{"ruleId", "name", "description", "condition", "notifications", "isActive"})
}
