package alertrules

import (
	"bytes"
	"flag"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pulse-otel/pulse/internal/kpi"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

const defaultsDir = "../../config/alerts"

func loadDefaults(t *testing.T) []Rule {
	t.Helper()
	rules, err := Load(defaultsDir)
	if err != nil {
		t.Fatalf("Load(%s): %v", defaultsDir, err)
	}
	return rules
}

type compiled struct{ rules, am, tests []byte }

func compileAll(t *testing.T, rules []Rule) compiled {
	t.Helper()
	groups, err := CompileRules(rules)
	if err != nil {
		t.Fatalf("CompileRules: %v", err)
	}
	var c compiled
	if c.rules, err = MarshalRules(groups); err != nil {
		t.Fatalf("MarshalRules: %v", err)
	}
	if c.am, err = CompileAlertmanager(rules, AlertmanagerOptions{}); err != nil {
		t.Fatalf("CompileAlertmanager: %v", err)
	}
	if c.tests, err = CompileTests(rules, "rules.yaml"); err != nil {
		t.Fatalf("CompileTests: %v", err)
	}
	return c
}

// The defaults cover the seed's concerns with KPIs of internal/kpi.
func TestDefaultsCoverConcerns(t *testing.T) {
	rules := loadDefaults(t)
	want := map[string]string{
		"error-rate-high":        "error_rate",
		"p95-response-time-high": "p95_response_time",
		"ai-acceptance-drop":     "acceptance_rate",
		"model-drift":            "drift_score",
		"safety-violations":      "safety_violations",
		"data-completeness-low":  "data_completeness",
		"data-accuracy-low":      "data_accuracy",
		"ingestion-stall":        "events_per_second",
	}
	var ids []string
	for _, r := range rules {
		ids = append(ids, r.RuleID)
		if m, ok := want[r.RuleID]; !ok || m != r.Condition.Metric {
			t.Errorf("rule %s: metric %s, want %s", r.RuleID, r.Condition.Metric, m)
		}
		if _, ok := kpi.Lookup(r.Condition.Metric); !ok {
			t.Errorf("rule %s: metric %s is not a KPI", r.RuleID, r.Condition.Metric)
		}
		if !r.IsActive {
			t.Errorf("rule %s is not active", r.RuleID)
		}
	}
	if len(rules) != len(want) {
		t.Errorf("got rules %v, want %d", ids, len(want))
	}
	if !slices.IsSorted(ids) {
		t.Errorf("Load order %v is not sorted by ruleId", ids)
	}
	// Every default rule has promtool tests.
	c := compileAll(t, rules)
	if bytes.Contains(c.tests, []byte("Rules without tests")) {
		t.Errorf("some default rules have no tests:\n%s", c.tests[:bytes.Index(c.tests, []byte("rule_files"))])
	}
}

func TestAlertName(t *testing.T) {
	for in, want := range map[string]string{
		"error-rate-high": "error_rate_high",
		"a.b:c--d":        "a_b_c_d",
		"5xx-rate":        "pulse_5xx_rate",
		"ok_name":         "ok_name",
	} {
		if got := AlertName(in); got != want {
			t.Errorf("AlertName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCompileRuleDetails(t *testing.T) {
	dir := t.TempDir()
	body := validRule + "escalation: {escalateAfter: 20, escalationRecipients: ['#ops', '+15555550123']}\n"
	body = strings.Replace(body, "severity: low, cooldown: 10}", "severity: low, cooldown: 10}\n  - {channel: slack, recipients: ['#ops'], severity: high, cooldown: 5}", 1)
	writeFile(t, dir, "a.yaml", body)
	writeFile(t, dir, "b.yaml", strings.NewReplacer("ruleId: r1", "ruleId: off", "isActive: true", "isActive: false").Replace(validRule))
	writeFile(t, dir, "c.yaml", strings.NewReplacer("ruleId: r1", "ruleId: raw", "metric: error_rate", "metric: pulse_system_cpu_utilization_percent",
		`operator: ">"`, `operator: "="`, "threshold: 0.1", "threshold: 100", "evaluationFrequency: 1", "evaluationFrequency: 60").Replace(validRule))
	rules, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	groups, err := CompileRules(rules)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups.Groups) != 2 || groups.Groups[0].Name != "pulse-every-1m" || groups.Groups[1].Name != "pulse-every-60m" || groups.Groups[1].Interval.String() != "1h" {
		t.Fatalf("groups %+v", groups.Groups)
	}
	g := groups.Groups[0]
	if len(g.Rules) != 2 {
		t.Fatalf("rules %+v (inactive rule left out?)", g.Rules)
	}
	r, e := g.Rules[0], g.Rules[1]
	if r.Alert != "r1" || r.For.String() != "5m" || r.Labels["severity"] != "high" || r.Labels["rule_id"] != "r1" {
		t.Errorf("alert %+v", r)
	}
	if !strings.HasSuffix(r.Expr, ") > 0.1") || !strings.Contains(r.Expr, "[5m]") {
		t.Errorf("expr %s", r.Expr)
	}
	if e.Alert != "r1_escalated" || e.For.String() != "25m" || e.Labels["escalation"] != "true" {
		t.Errorf("escalation alert %+v", e)
	}
	if !strings.Contains(r.Annotations["description"], "{{ $value | humanizePercentage }}") || r.Annotations["summary"] != "Rule one" {
		t.Errorf("annotations %v", r.Annotations)
	}
	raw := groups.Groups[1].Rules[0]
	if raw.Expr != "avg_over_time(pulse_system_cpu_utilization_percent[5m]) == 100" {
		t.Errorf("raw metric expr %s", raw.Expr)
	}
	am, err := CompileAlertmanager(rules, AlertmanagerOptions{SMSWebhookURL: "https://sms.example.com/send?key=k"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"- receiver: escalation:#ops,+15555550123\n          matchers:\n            - escalation=\"true\"\n          repeat_interval: 5m\n",
		"- receiver: email:a@example.com\n          repeat_interval: 10m\n          continue: true\n",
		"- receiver: slack:#ops\n          repeat_interval: 5m\n",
		"url: https://sms.example.com/send?key=k&to=%2B15555550123",
		"- rule_id=\"raw\"",
	} {
		if !strings.Contains(string(am), want) {
			t.Errorf("alertmanager.yml lacks %q:\n%s", want, am)
		}
	}
	if strings.Contains(string(am), `rule_id="off"`) {
		t.Error("inactive rule routed")
	}
	if strings.Contains(string(am), "the SMS webhook URL") {
		t.Error("SMS URL reported as placeholder")
	}
}

func TestTemplateEscaping(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.yaml", strings.Replace(validRule, "Something is off.", "Uses {{ braces }}", 1))
	rules, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := rules[0].expected(kpiShapes["error_rate"], 0.5, false)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := exp.ExpAnnotations["description"], "Uses {{ braces }}. Current value: 50%."; got != want {
		t.Errorf("description %q, want %q", got, want)
	}
}

func TestCheckAlertmanagerRejects(t *testing.T) {
	c := compileAll(t, loadDefaults(t))
	for name, mutate := range map[string]func(string) string{
		"undefined receiver": func(s string) string {
			return strings.Replace(s, "- receiver: slack:#ml-alerts\n", "- receiver: slack:#nope\n", 1)
		},
		"bad matcher":   func(s string) string { return strings.Replace(s, `- rule_id="model-drift"`, `- rule_id=~"(("`, 1) },
		"unknown field": func(s string) string { return strings.Replace(s, "route:\n", "route:\n  group_wait: 1x\n", 1) },
		"bad smarthost": func(s string) string { return strings.Replace(s, "smtp.example.com:587", "smtp.example.com", 1) },
	} {
		if err := CheckAlertmanager([]byte(mutate(string(c.am)))); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// Same definitions, in any order: same bytes.
func TestDeterministic(t *testing.T) {
	rules := loadDefaults(t)
	a := compileAll(t, rules)
	for i := range 5 {
		shuffled := slices.Clone(rules)
		rand.New(rand.NewPCG(uint64(i), 1)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		b := compileAll(t, shuffled)
		if !bytes.Equal(a.rules, b.rules) || !bytes.Equal(a.am, b.am) || !bytes.Equal(a.tests, b.tests) {
			t.Fatalf("compiling shuffled rules (seed %d) gave different bytes", i)
		}
	}
}

func TestGolden(t *testing.T) {
	c := compileAll(t, loadDefaults(t))
	for name, got := range map[string][]byte{
		"rules.yaml.golden":       c.rules,
		"alertmanager.yml.golden": c.am,
		"rules_test.yaml.golden":  c.tests,
	} {
		p := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(p, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%v (run go test ./internal/alertrules -run TestGolden -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the compiled output of config/alerts; run go test ./internal/alertrules -run TestGolden -update and review the diff", p)
		}
	}
}

// promtool check rules, promtool test rules and amtool check-config on the
// compiled defaults. Missing binaries skip the test, except in CI.
func TestPromtoolAndAmtool(t *testing.T) {
	var missing []string
	for _, bin := range []string{"promtool", "amtool"} {
		if _, err := exec.LookPath(bin); err != nil {
			missing = append(missing, bin)
		}
	}
	if len(missing) > 0 {
		msg := strings.Join(missing, " and ") + " not on PATH (Debian packages prometheus and prometheus-alertmanager; .ci/run installs them)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	c := compileAll(t, loadDefaults(t))
	dir := t.TempDir()
	writeFile(t, dir, "rules.yaml", string(c.rules))
	writeFile(t, dir, "alertmanager.yml", string(c.am))
	writeFile(t, dir, "rules_test.yaml", string(c.tests))
	for _, args := range [][]string{
		{"promtool", "check", "rules", "rules.yaml"},
		{"promtool", "test", "rules", "rules_test.yaml"},
		{"amtool", "check-config", "alertmanager.yml"},
	} {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		t.Logf("%s:\n%s", strings.Join(args, " "), out)
		if err != nil {
			t.Errorf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	// The tests check something: a rule that cannot fire fails them.
	broken := regexp.MustCompile(`> 0\.05\n`).ReplaceAll(c.rules, []byte("> 0.99\n"))
	writeFile(t, dir, "rules.yaml", string(broken))
	cmd := exec.Command("promtool", "test", "rules", "rules_test.yaml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("promtool test rules passed with error_rate_high at > 0.99:\n%s", out)
	}
}

// coveredKPIRules are rules over every KPI the tests can synthesise series
// for, with > and < thresholds.
func coveredKPIRules(t *testing.T) []Rule {
	t.Helper()
	var rules []Rule
	for _, name := range CoveredKPIs() {
		for _, op := range []string{">", "<"} {
			thr := 10.0
			if k, _ := kpi.Lookup(name); k.Unit == "1" {
				thr = 0.4
			}
			id := "k-" + name + map[string]string{">": "-above", "<": "-below"}[op]
			w := 5
			if name == "active_users" {
				w = 60
			}
			r := Rule{RuleID: id, Name: name, Description: "d", IsActive: true, File: "x.yaml",
				Condition:     Condition{Metric: name, Operator: op, Threshold: thr, TimeWindow: w, EvaluationFrequency: 1},
				Notifications: []Notification{{Channel: "email", Recipients: []string{"a@example.com"}, Severity: "low", Cooldown: 5}},
				Escalation:    &Escalation{EscalateAfter: 3, EscalationRecipients: []string{"b@example.com"}}}
			if errs := r.validate(); len(errs) > 0 {
				t.Fatalf("%s: %v", id, errs)
			}
			rules = append(rules, r)
		}
	}
	return rules
}

// Every KPI CoveredKPIs names gets tests, and they pass in promtool when it
// is on PATH.
func TestCoveredKPIs(t *testing.T) {
	rules := coveredKPIRules(t)
	c := compileAll(t, rules)
	if bytes.Contains(c.tests, []byte("Rules without tests")) {
		t.Fatalf("covered KPIs without tests:\n%s", c.tests[:bytes.Index(c.tests, []byte("rule_files"))])
	}
	if n := bytes.Count(c.tests, []byte("\n  - name: ")); n != 3*len(rules) {
		t.Errorf("%d test groups, want %d", n, 3*len(rules))
	}
	if _, err := exec.LookPath("promtool"); err != nil {
		t.Skip("promtool not on PATH")
	}
	// One rule file per KPI: promtool evaluates every rule of the file at
	// every step of every test.
	dir := t.TempDir()
	args := []string{"test", "rules"}
	for i := 0; i < len(rules); i += 2 {
		c := compileAll(t, rules[i:i+2])
		name := rules[i].Condition.Metric
		writeFile(t, dir, name+".yaml", string(c.rules))
		tests, err := CompileTests(rules[i:i+2], name+".yaml")
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, dir, name+"_test.yaml", string(tests))
		args = append(args, name+"_test.yaml")
	}
	cmd := exec.Command("promtool", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool test rules: %v\n%s", err, out)
	}
}
