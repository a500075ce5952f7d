package alertrules

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decoder decodes one rule field by field, so that every error names its
// field.
type decoder struct {
	file, ruleID string
	errs         []error
	lines        map[string]int // field path: line
}

func (d *decoder) fail(n *yaml.Node, field, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.errs = append(d.errs, &FieldError{File: d.file, Line: line, RuleID: d.ruleID, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// fields decodes the mapping n: known maps each key to its decoder; ignored
// keys are accepted and dropped; required keys must be present.
func (d *decoder) fields(n *yaml.Node, path string, known map[string]func(*yaml.Node, string), ignored, required []string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, strings.TrimSuffix(path, "."), "must be a mapping, got %s", kindName(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		field := path + k.Value
		if seen[k.Value] {
			d.fail(k, field, "given twice")
			continue
		}
		seen[k.Value] = true
		d.lines[field] = k.Line
		if f, ok := known[k.Value]; ok {
			f(v, field)
			continue
		}
		if slices.Contains(ignored, k.Value) {
			continue
		}
		names := make([]string, 0, len(known))
		for name := range known {
			names = append(names, name)
		}
		sort.Strings(names)
		d.fail(k, field, "unknown field; known fields: %s", strings.Join(names, ", "))
	}
	for _, r := range required {
		if !seen[r] {
			d.fail(n, path+r, "missing")
		}
	}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an alias"
}

func (d *decoder) str(dst *string) func(*yaml.Node, string) {
	return func(n *yaml.Node, field string) {
		if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
			d.fail(n, field, "must be a string, got %s", kindName(n))
			return
		}
		*dst = n.Value
	}
}

func (d *decoder) boolean(dst *bool) func(*yaml.Node, string) {
	return func(n *yaml.Node, field string) {
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			d.fail(n, field, "must be true or false, got %s", kindName(n))
			return
		}
		_ = n.Decode(dst)
	}
}

func (d *decoder) number(dst *float64) func(*yaml.Node, string) {
	return func(n *yaml.Node, field string) {
		var f float64
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") || n.Decode(&f) != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.fail(n, field, "must be a number, got %s", kindName(n))
			return
		}
		*dst = f
	}
}

// minutes decodes a positive whole number of minutes.
func (d *decoder) minutes(dst *int) func(*yaml.Node, string) {
	return func(n *yaml.Node, field string) {
		var f float64
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") || n.Decode(&f) != nil {
			d.fail(n, field, "must be a number of minutes, got %s", kindName(n))
			return
		}
		if f < 1 || f != math.Trunc(f) || f > 525600 {
			d.fail(n, field, "must be a whole number of minutes from 1 to 525600 (a year), got %s", n.Value)
			return
		}
		*dst = int(f)
	}
}

func (d *decoder) integer(dst *int64) func(*yaml.Node, string) {
	return func(n *yaml.Node, field string) {
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(dst) != nil {
			d.fail(n, field, "must be a whole number (milliseconds since 1970), got %s", kindName(n))
		}
	}
}

func (d *decoder) strings(dst *[]string) func(*yaml.Node, string) {
	return func(n *yaml.Node, field string) {
		if n.Kind != yaml.SequenceNode {
			d.fail(n, field, "must be a list of strings, got %s", kindName(n))
			return
		}
		out := make([]string, 0, len(n.Content))
		for i, c := range n.Content {
			var s string
			f := fmt.Sprintf("%s[%d]", field, i)
			d.lines[f] = c.Line
			d.str(&s)(c, f)
			out = append(out, s)
		}
		*dst = out
	}
}

func decodeRule(file string, n *yaml.Node) (Rule, []error) {
	r := Rule{File: file, line: n.Line, lines: map[string]int{}}
	d := &decoder{file: file, lines: r.lines}
	if n.Kind == yaml.MappingNode {
		if id := mapValue(n, "ruleId"); id != nil && id.Kind == yaml.ScalarNode {
			d.ruleID = id.Value
		}
	}
	d.fields(n, "", map[string]func(*yaml.Node, string){
		"ruleId":      d.str(&r.RuleID),
		"name":        d.str(&r.Name),
		"description": d.str(&r.Description),
		"condition": func(n *yaml.Node, path string) {
			c := &r.Condition
			d.fields(n, path+".", map[string]func(*yaml.Node, string){
				"metric":              d.str(&c.Metric),
				"operator":            d.str(&c.Operator),
				"threshold":           d.number(&c.Threshold),
				"timeWindow":          d.minutes(&c.TimeWindow),
				"evaluationFrequency": d.minutes(&c.EvaluationFrequency),
			}, nil, []string{"metric", "operator", "threshold", "timeWindow", "evaluationFrequency"})
		},
		"notifications": func(n *yaml.Node, path string) {
			if n.Kind != yaml.SequenceNode {
				d.fail(n, path, "must be a list, got %s", kindName(n))
				return
			}
			r.Notifications = make([]Notification, len(n.Content))
			for i, c := range n.Content {
				nt := &r.Notifications[i]
				d.fields(c, fmt.Sprintf("%s[%d].", path, i), map[string]func(*yaml.Node, string){
					"channel":    d.str(&nt.Channel),
					"recipients": d.strings(&nt.Recipients),
					"severity":   d.str(&nt.Severity),
					"cooldown":   d.minutes(&nt.Cooldown),
				}, nil, []string{"channel", "recipients", "severity", "cooldown"})
			}
		},
		"isActive": d.boolean(&r.IsActive),
		"escalation": func(n *yaml.Node, path string) {
			if n.Tag == "!!null" {
				return
			}
			e := &Escalation{}
			r.Escalation = e
			d.fields(n, path+".", map[string]func(*yaml.Node, string){
				"escalateAfter":        d.minutes(&e.EscalateAfter),
				"escalationRecipients": d.strings(&e.EscalationRecipients),
			}, nil, []string{"escalateAfter", "escalationRecipients"})
		},
		"createdBy": d.str(&r.CreatedBy),
		"createdAt": d.integer(&r.CreatedAt),
		"updatedAt": d.integer(&r.UpdatedAt),
		"promql":    d.str(&r.PromQL),
	}, []string{"lastTriggered", "triggerCount", "_id", "_creationTime"},
		[]string{"ruleId", "name", "description", "condition", "notifications", "isActive"})
	return r, d.errs
}
