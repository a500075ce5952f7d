package alertrules

import (
	"fmt"
	"maps"
	"net/mail"
	"regexp"
	"slices"
	"strings"

	"github.com/pulse-otel/pulse/internal/kpi"
	"github.com/pulse-otel/pulse/internal/seeddef"
)

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
	owners := []seeddef.Owner{{Kind: ruleKind.Name, ID: r.RuleID}}
	return &FieldError{File: r.File, Line: line, Owners: owners, Field: field, Msg: fmt.Sprintf(format, args...)}
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
