package alertrules

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const validRule = `ruleId: r1
name: Rule one
description: Something is off.
condition: {metric: error_rate, operator: ">", threshold: 0.1, timeWindow: 5, evaluationFrequency: 1}
notifications:
  - {channel: email, recipients: [a@example.com], severity: low, cooldown: 10}
isActive: true
`

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadValidationErrors(t *testing.T) {
	tests := []struct {
		name, body string
		// field is the field every error must name; want are substrings of
		// the error.
		field string
		want  []string
	}{
		{"unknown metric", strings.Replace(validRule, "error_rate", "erorr_rate", 1), "condition.metric",
			[]string{`unknown metric "erorr_rate"`, "did you mean error_rate"}},
		{"unknown metric fragment", strings.Replace(validRule, "error_rate", "acceptance", 1), "condition.metric",
			[]string{"acceptance_rate", "pulse_ai_model_acceptance_rate_ratio"}},
		{"catalog misspelling", strings.Replace(validRule, "error_rate", "pulse_event_total", 1), "condition.metric",
			[]string{"pulse_events_total"}},
		{"operator", strings.Replace(validRule, `">"`, `">="`, 1), "condition.operator", []string{`">=": must be one of > < =`}},
		{"missing threshold", strings.Replace(validRule, "threshold: 0.1, ", "", 1), "condition.threshold", []string{"missing"}},
		{"threshold type", strings.Replace(validRule, "threshold: 0.1", "threshold: high", 1), "condition.threshold", []string{"must be a number"}},
		{"fractional window", strings.Replace(validRule, "timeWindow: 5", "timeWindow: 2.5", 1), "condition.timeWindow", []string{"whole number of minutes"}},
		{"zero frequency", strings.Replace(validRule, "evaluationFrequency: 1", "evaluationFrequency: 0", 1), "condition.evaluationFrequency", []string{"from 1"}},
		{"kpi window", strings.Replace(validRule, "metric: error_rate", "metric: active_users", 1), "condition.timeWindow", []string{"not available", "1h, 1d, 7d, 30d"}},
		{"unknown field", validRule + "owner: me\n", "owner", []string{"unknown field"}},
		{"unknown nested field", strings.Replace(validRule, "cooldown: 10", "cooldown: 10, snooze: 5", 1), "notifications[0].snooze", []string{"unknown field"}},
		{"channel", strings.Replace(validRule, "channel: email", "channel: pager", 1), "notifications[0].channel", []string{`"pager": must be one of email, slack, sms`}},
		{"severity", strings.Replace(validRule, "severity: low", "severity: critical", 1), "notifications[0].severity", []string{"low, medium, high"}},
		{"recipient", strings.Replace(validRule, "a@example.com", "'#ops'", 1), "notifications[0].recipients[0]", []string{"not an email recipient"}},
		{"cooldown", strings.Replace(validRule, "cooldown: 10", "cooldown: -1", 1), "notifications[0].cooldown", []string{"whole number of minutes"}},
		{"no notifications", strings.Replace(validRule, "  - {channel: email, recipients: [a@example.com], severity: low, cooldown: 10}\n", "", 1) + "", "notifications", []string{"must be a list"}},
		{"isActive type", strings.Replace(validRule, "isActive: true", "isActive: yes please", 1), "isActive", []string{"true or false"}},
		{"escalation recipient", validRule + "escalation: {escalateAfter: 5, escalationRecipients: [pager-42]}\n", "escalation.escalationRecipients[0]", []string{"email address, a Slack channel"}},
		{"escalation missing", validRule + "escalation: {escalationRecipients: [a@example.com]}\n", "escalation.escalateAfter", []string{"missing"}},
		{"promql", validRule + "promql: sum(rate(x[5m])\n", "promql", []string{"unclosed"}},
		{"createdAt", validRule + "createdAt: yesterday\n", "createdAt", []string{"whole number"}},
		{"bad ruleId", strings.Replace(validRule, "ruleId: r1", "ruleId: \"-r1\"", 1), "ruleId", []string{"must start with a letter or digit"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := writeFile(t, dir, "rules.yaml", tc.body)
			_, err := Load(dir)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			msg := err.Error()
			for _, line := range strings.Split(msg, "\n") {
				if !strings.HasPrefix(line, file+":") || !strings.Contains(line, "field "+tc.field) {
					t.Errorf("error line does not name file %s and field %s: %s", file, tc.field, line)
				}
				if tc.name != "bad ruleId" && !strings.Contains(line, `rule "r1"`) {
					t.Errorf("error line does not name rule r1: %s", line)
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
}

func TestLoadErrorNamesLine(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "a.yaml", "rules:\n  - "+strings.ReplaceAll(strings.Replace(validRule, "error_rate", "nope", 1), "\n", "\n    "))
	_, err := Load(file)
	if err == nil || !strings.HasPrefix(err.Error(), file+":5: rule \"r1\": field condition.metric") {
		t.Fatalf("error %v does not start with %s:5: rule \"r1\": field condition.metric", err, file)
	}
}

func TestLoadDuplicateRuleID(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a.yaml", validRule)
	b := writeFile(t, dir, "b.json", `{"rules": [`+yamlToJSONish(t)+`]}`)
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), b+":1: rule \"r1\": field ruleId: duplicate: also defined in "+a) {
		t.Fatalf("got %v", err)
	}
}

func yamlToJSONish(t *testing.T) string {
	t.Helper()
	return `{"ruleId": "r1", "name": "n", "description": "d", "isActive": false,
	"condition": {"metric": "error_rate", "operator": "<", "threshold": 1, "timeWindow": 5, "evaluationFrequency": 1},
	"notifications": [{"channel": "slack", "recipients": ["#x"], "severity": "high", "cooldown": 5}]}`
}

func TestLoadShapesAndOrder(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "b.yaml", strings.Replace(validRule, "r1", "a-rule", 1))
	writeFile(t, dir, "a.yaml", "- "+strings.ReplaceAll(strings.Replace(validRule, "r1", "c-rule", 1), "\n", "\n  "))
	writeFile(t, dir, "c.json", `{"rules": []}`)
	writeFile(t, dir, "ignored.txt", "not a rule")
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, sub, "d.yml", strings.Replace(validRule, "r1", "b-rule", 1)+"lastTriggered: 1\ntriggerCount: 3\n_id: x\n")
	rules, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range rules {
		ids = append(ids, r.RuleID)
	}
	if want := []string{"a-rule", "b-rule", "c-rule"}; !slices.Equal(ids, want) {
		t.Errorf("ids %v, want %v", ids, want)
	}
}

func TestAlertNameCollision(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.yaml", validRule)
	writeFile(t, dir, "b.yaml", strings.Replace(validRule, "ruleId: r1", "ruleId: r1.x", 1))
	writeFile(t, dir, "c.yaml", strings.Replace(validRule, "ruleId: r1", "ruleId: r1-x", 1))
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), "alert name r1_x is also the alert name of rule \"r1.x\"") {
		t.Fatalf("got %v", err)
	}
}
