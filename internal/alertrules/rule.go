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

import "github.com/pulse-otel/pulse/internal/seeddef"

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

// FieldError is a problem with one field of one rule: its Owners name the
// rule (when it has a ruleId), its Field the path in the rule
// (condition.metric, notifications[1].channel).
type FieldError = seeddef.FieldError

// ruleKind is how files and errors name rule definitions: rule
// "error-rate-high", a file's "rules" list.
var ruleKind = seeddef.Kind{Name: "rule", Plural: "rules"}
