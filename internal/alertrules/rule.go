// Package alertrules loads alert definitions in the seed's alertRules shape
// and compiles them into what the Prometheus ecosystem runs: Prometheus rule
// groups (rulefmt), an Alertmanager configuration and promtool unit tests.
//
// A definition file is YAML or JSON (.yaml, .yml, .json) and holds one rule,
// a list of rules, or a mapping with a "rules" list. Field names are the
// seed's (camelCase):
//
//	ruleId: error-rate-high
//	name: High error rate
//	description: More than 5 % of analytics events are errors.
//	condition: {metric: error_rate, operator: ">", threshold: 0.05, timeWindow: 5, evaluationFrequency: 1}
//	notifications:
//	  - {channel: slack, recipients: ["#pulse-alerts"], severity: high, cooldown: 30}
//	isActive: true
//	escalation: {escalateAfter: 30, escalationRecipients: ["oncall@example.com"]}
//	createdBy: platform-team
//	createdAt: 1767225600000
//	updatedAt: 1767225600000
//
// condition.metric is a KPI of internal/kpi or a Prometheus name of the
// metric catalog (docs/metrics.md). The optional expert field promql
// replaces the expression the metric would give; the metric still names
// what it measures, and the generated unit tests feed it the metric's
// series. The seed's runtime fields (lastTriggered, triggerCount) and the
// store's system fields (_id, _creationTime) are accepted and ignored.
package alertrules // import "github.com/pulse-otel/pulse/internal/alertrules"

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/pulse-otel/pulse/internal/kpi"
)

// Rule is one alert definition in the seed's alertRules shape.
type Rule struct {
	RuleID        string         `json:"ruleId" yaml:"ruleId"`
	Name          string         `json:"name" yaml:"name"`
	Description   string         `json:"description" yaml:"description"`
	Condition     Condition      `json:"condition" yaml:"condition"`
	Notifications []Notification `json:"notifications" yaml:"notifications"`
	IsActive      bool           `json:"isActive" yaml:"isActive"`
	Escalation    *Escalation    `json:"escalation,omitempty" yaml:"escalation,omitempty"`
	CreatedBy     string         `json:"createdBy,omitempty" yaml:"createdBy,omitempty"`
	CreatedAt     int64          `json:"createdAt,omitempty" yaml:"createdAt,omitempty"`
	UpdatedAt     int64          `json:"updatedAt,omitempty" yaml:"updatedAt,omitempty"`
	// PromQL, when set, replaces the expression condition.metric gives
	// (the left-hand side of the comparison with the threshold).
	PromQL string `json:"promql,omitempty" yaml:"promql,omitempty"`

	// File is the file the rule was loaded from.
	File string `json:"-" yaml:"-"`
	// line is the line of the rule in File, lines those of its fields.
	line  int
	lines map[string]int
}

// Condition is when the alert fires.
type Condition struct {
	Metric    string  `json:"metric" yaml:"metric"`
	Operator  string  `json:"operator" yaml:"operator"`
	Threshold float64 `json:"threshold" yaml:"threshold"`
	// TimeWindow, in minutes, is the KPI window and the alert's `for`.
	TimeWindow int `json:"timeWindow" yaml:"timeWindow"`
	// EvaluationFrequency, in minutes, is the rule group's interval.
	EvaluationFrequency int `json:"evaluationFrequency" yaml:"evaluationFrequency"`
}

// Notification is one channel the alert goes to.
type Notification struct {
	Channel    string   `json:"channel" yaml:"channel"`
	Recipients []string `json:"recipients" yaml:"recipients"`
	Severity   string   `json:"severity" yaml:"severity"`
	// Cooldown, in minutes, is the Alertmanager repeat_interval.
	Cooldown int `json:"cooldown" yaml:"cooldown"`
}

// Escalation sends a second alert to more recipients when the first has
// fired for EscalateAfter minutes.
type Escalation struct {
	EscalateAfter int `json:"escalateAfter" yaml:"escalateAfter"`
	// EscalationRecipients are email addresses, Slack channels (#name or
	// @user) or phone numbers (+ and digits, sent by SMS).
	EscalationRecipients []string `json:"escalationRecipients" yaml:"escalationRecipients"`
}

// Channels and severities of the seed.
const (
	ChannelEmail = "email"
	ChannelSlack = "slack"
	ChannelSMS   = "sms"
)

var (
	channels   = []string{ChannelEmail, ChannelSlack, ChannelSMS}
	operators  = []string{">", "<", "="}
	severities = []string{"low", "medium", "high"}
)

type metricKind int

const (
	kindGauge metricKind = iota + 1
	kindCounter
)

// FieldError is a validation error of one field of one rule.
type FieldError struct {
	File   string
	Line   int
	RuleID string // empty when the rule has none (yet)
	Field  string // path in the rule: condition.metric, notifications[1].channel
	Msg    string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.RuleID != "" {
		fmt.Fprintf(&b, ": rule %q", e.RuleID)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": field %s", e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Load reads the rules of the given files and directories (every .yaml,
// .yml and .json file below a directory), validates them and returns them
// sorted by ruleId. The error joins one *FieldError per problem.
func Load(paths ...string) ([]Rule, error) {
	files, err := expand(paths)
	if err != nil {
		return nil, err
	}
	var rules []Rule
	var errs []error
	for _, f := range files {
		rs, ferrs := loadFile(f)
		rules = append(rules, rs...)
		errs = append(errs, ferrs...)
	}
	errs = append(errs, checkUnique(rules)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sortRules(rules)
	return rules, nil
}

func sortRules(rules []Rule) {
	slices.SortStableFunc(rules, func(a, b Rule) int { return strings.Compare(a.RuleID, b.RuleID) })
}

func expand(paths []string) ([]string, error) {
	if len(paths) == 0 {
		return nil, errors.New("no rule files given")
	}
	seen := map[string]bool{}
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			if !seen[p] {
				seen[p] = true
				files = append(files, p)
			}
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !isRuleFile(path) || seen[path] {
				return nil
			}
			seen[path] = true
			files = append(files, path)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(files)
	return files, nil
}

func isRuleFile(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

func loadFile(file string) ([]Rule, []error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, []error{err}
	}
	return parseFile(file, b)
}

// parseFile decodes and validates the definitions in b, read from file.
func parseFile(file string, b []byte) ([]Rule, []error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, []error{&FieldError{File: file, Msg: err.Error()}}
	}
	if len(doc.Content) == 0 {
		return nil, []error{&FieldError{File: file, Msg: "no rules"}}
	}
	root := doc.Content[0]
	var items []*yaml.Node
	switch {
	case root.Kind == yaml.SequenceNode:
		items = root.Content
	case root.Kind == yaml.MappingNode && mapValue(root, "rules") != nil:
		if len(root.Content) != 2 {
			return nil, []error{&FieldError{File: file, Line: root.Line, Msg: `a file with a "rules" list holds nothing else`}}
		}
		rs := mapValue(root, "rules")
		if rs.Kind != yaml.SequenceNode {
			return nil, []error{&FieldError{File: file, Line: rs.Line, Field: "rules", Msg: "must be a list of rules"}}
		}
		items = rs.Content
	case root.Kind == yaml.MappingNode:
		items = []*yaml.Node{root}
	default:
		return nil, []error{&FieldError{File: file, Line: root.Line, Msg: "must hold a rule, a list of rules or a mapping with a rules list"}}
	}
	var rules []Rule
	var errs []error
	for _, n := range items {
		r, rerrs := decodeRule(file, n)
		if len(rerrs) > 0 {
			errs = append(errs, rerrs...)
			continue
		}
		if verrs := r.validate(); len(verrs) > 0 {
			errs = append(errs, verrs...)
			continue
		}
		rules = append(rules, r)
	}
	return rules, errs
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

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

var (
	ruleIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]*$`)
	slackRe  = regexp.MustCompile(`^[#@][^\s#@]+$`)
	phoneRe  = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
)

func (r *Rule) fieldErr(field, format string, args ...any) error {
	line := r.line
	if l, ok := r.lines[field]; ok {
		line = l
	}
	return &FieldError{File: r.File, Line: line, RuleID: r.RuleID, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// validate checks the values of a decoded rule.
func (r *Rule) validate() []error {
	var errs []error
	add := func(field, format string, args ...any) { errs = append(errs, r.fieldErr(field, format, args...)) }
	if !ruleIDRe.MatchString(r.RuleID) {
		add("ruleId", "%q: must start with a letter or digit and hold only letters, digits, _ . : and -", r.RuleID)
	}
	if strings.TrimSpace(r.Name) == "" {
		add("name", "must not be empty")
	}
	if strings.TrimSpace(r.Description) == "" {
		add("description", "must not be empty")
	}
	c := r.Condition
	if !slices.Contains(operators, c.Operator) {
		add("condition.operator", "%q: must be one of %s", c.Operator, strings.Join(operators, " "))
	}
	if _, err := r.metricExpr(); err != nil {
		errs = append(errs, err)
	}
	if len(r.Notifications) == 0 {
		add("notifications", "must hold at least one notification")
	}
	for i, n := range r.Notifications {
		f := fmt.Sprintf("notifications[%d]", i)
		if !slices.Contains(channels, n.Channel) {
			add(f+".channel", "%q: must be one of %s", n.Channel, strings.Join(channels, ", "))
		}
		if !slices.Contains(severities, n.Severity) {
			add(f+".severity", "%q: must be one of %s", n.Severity, strings.Join(severities, ", "))
		}
		if len(n.Recipients) == 0 {
			add(f+".recipients", "must hold at least one recipient")
		}
		for j, rc := range n.Recipients {
			if ch := recipientChannel(rc); ch != n.Channel && slices.Contains(channels, n.Channel) {
				add(fmt.Sprintf("%s.recipients[%d]", f, j), "%q is not a%s %s recipient (%s)", rc, article(n.Channel), n.Channel, recipientHint(n.Channel))
			}
		}
	}
	if e := r.Escalation; e != nil {
		if len(e.EscalationRecipients) == 0 {
			add("escalation.escalationRecipients", "must hold at least one recipient")
		}
		for j, rc := range e.EscalationRecipients {
			if recipientChannel(rc) == "" {
				add(fmt.Sprintf("escalation.escalationRecipients[%d]", j), "%q: must be an email address, a Slack channel (#name or @user) or a phone number (+ and 7 to 15 digits, sent by SMS)", rc)
			}
		}
	}
	return errs
}

func article(ch string) string {
	if ch == ChannelEmail || ch == ChannelSMS {
		return "n"
	}
	return ""
}

func recipientHint(ch string) string {
	switch ch {
	case ChannelEmail:
		return "an email address"
	case ChannelSlack:
		return "#channel or @user"
	}
	return "+ and 7 to 15 digits"
}

// recipientChannel is the channel a recipient address belongs to, from its
// form; empty when it has none.
func recipientChannel(rc string) string {
	switch {
	case slackRe.MatchString(rc):
		return ChannelSlack
	case phoneRe.MatchString(rc):
		return ChannelSMS
	}
	if a, err := mail.ParseAddress(rc); err == nil && a.Address == rc {
		return ChannelEmail
	}
	return ""
}

func checkUnique(rules []Rule) []error {
	var errs []error
	ids := map[string]Rule{}
	alerts := map[string]Rule{}
	for _, r := range rules {
		if o, ok := ids[r.RuleID]; ok {
			errs = append(errs, r.fieldErr("ruleId", "duplicate: also defined in %s:%d", o.File, o.line))
			continue
		}
		ids[r.RuleID] = r
		names := []string{AlertName(r.RuleID)}
		if r.Escalation != nil {
			names = append(names, AlertName(r.RuleID)+escalatedSuffix)
		}
		for _, n := range names {
			if o, ok := alerts[n]; ok {
				errs = append(errs, r.fieldErr("ruleId", "alert name %s is also the alert name of rule %q (%s:%d)", n, o.RuleID, o.File, o.line))
				continue
			}
			alerts[n] = r
		}
	}
	return errs
}

// unknownMetric is the error for a metric that is neither a KPI nor in
// the catalog, with the close matches of both.
func (r *Rule) unknownMetric() error {
	m := r.Condition.Metric
	sugg := kpi.Suggest(m)
	sugg = append(sugg, suggestCatalog(m)...)
	msg := fmt.Sprintf("unknown metric %q: not a KPI of internal/kpi nor a metric of docs/metrics.md", m)
	if len(sugg) > 0 {
		msg += "; did you mean " + strings.Join(sugg, ", ") + "?"
	}
	return r.fieldErr("condition.metric", "%s", msg)
}

// suggestCatalog returns up to three catalog metrics that contain name or
// are within a few edits of it.
func suggestCatalog(name string) []string {
	return kpi.SuggestName(name, maps.Keys(catalog))
}
