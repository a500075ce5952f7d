package retention

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pulse-otel/pulse/internal/catalog"
	"github.com/pulse-otel/pulse/internal/seeddef"
)

const validPolicy = `
policyId: p1
name: P1
rules:
  - {dataType: events, retentionDays: 30, archiveAfterDays: 180, deleteAfterDays: 730}
complianceReasons: [GDPR]
legalBasis: legitimate interest
isActive: true
`

func TestLoadDefault(t *testing.T) {
	ps, err := Load("../../config/retention")
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].PolicyID != "pulse-default" {
		t.Fatalf("policies: %+v", ps)
	}
	var types []string
	for _, r := range ps[0].Rules {
		types = append(types, r.DataType)
	}
	if !slices.Equal(types, DataTypes) {
		t.Errorf("the default policy covers %v, want every data type %v", types, DataTypes)
	}
}

func TestConfigErrors(t *testing.T) {
	rule := func(r string) string {
		return strings.Replace(validPolicy, "{dataType: events, retentionDays: 30, archiveAfterDays: 180, deleteAfterDays: 730}", r, 1)
	}
	tests := []struct {
		name, src string
		want      []string // in one error, in order
	}{
		{"unknown data type", rule("{dataType: clicks, retentionDays: 30, deleteAfterDays: 730}"),
			[]string{"p.yaml:5", `policy "p1"`, "field rules[0].dataType", `unknown data type "clicks"`}},
		{"archive before retention", rule("{dataType: events, retentionDays: 30, archiveAfterDays: 10, deleteAfterDays: 730}"),
			[]string{`policy "p1"`, "field rules[0].archiveAfterDays", "at least retentionDays (30), got 10"}},
		{"delete before archive", rule("{dataType: events, retentionDays: 30, archiveAfterDays: 180, deleteAfterDays: 90}"),
			[]string{"field rules[0].deleteAfterDays", "at least archiveAfterDays", "(or retentionDays without it, 180), got 90"}},
		{"delete before retention", rule("{dataType: events, retentionDays: 30, deleteAfterDays: 7}"),
			[]string{"field rules[0].deleteAfterDays", "got 7"}},
		{"zero days", rule("{dataType: events, retentionDays: 0, deleteAfterDays: 7}"),
			[]string{"field rules[0].retentionDays", "from 1 to 36500, got 0"}},
		{"fractional days", rule("{dataType: events, retentionDays: 1.5, deleteAfterDays: 7}"),
			[]string{"field rules[0].retentionDays", "got 1.5"}},
		{"days not a number", rule("{dataType: events, retentionDays: thirty, deleteAfterDays: 7}"),
			[]string{"field rules[0].retentionDays", `number of days, got "thirty"`}},
		{"missing deleteAfterDays", rule("{dataType: events, retentionDays: 30}"),
			[]string{"field rules[0].deleteAfterDays", "missing"}},
		{"condition label the families lack", rule(`{dataType: system, retentionDays: 3, deleteAfterDays: 7, conditions: [{field: model_id, operator: equals, value: m1}]}`),
			[]string{"field rules[0].conditions[0].field", `"model_id" is not a label of the system families`, "environment"}},
		{"unknown operator", rule(`{dataType: events, retentionDays: 3, deleteAfterDays: 7, conditions: [{field: platform, operator: gt, value: web}]}`),
			[]string{"field rules[0].conditions[0].operator", `unknown operator "gt"`}},
		{"bad regex", rule(`{dataType: events, retentionDays: 3, deleteAfterDays: 7, conditions: [{field: platform, operator: matches, value: "we(b"}]}`),
			[]string{"field rules[0].conditions[0].value", "not a valid regular expression"}},
		{"no family has both labels", rule(`{dataType: events, retentionDays: 3, deleteAfterDays: 7, conditions: [{field: goal_type, operator: equals, value: a}, {field: element_type, operator: equals, value: b}]}`),
			[]string{"field rules[0].conditions", "no events family carries every label"}},
		{"overlapping rules", rule("{dataType: events, retentionDays: 30, deleteAfterDays: 730}\n  - {dataType: events, retentionDays: 7, deleteAfterDays: 30}"),
			[]string{`policy "p1"`, "field rules[1].dataType", `overlaps active rule 0 of policy "p1"`}},
		{"overlapping: conditions that do not exclude", rule(`{dataType: events, retentionDays: 30, deleteAfterDays: 730, conditions: [{field: platform, operator: equals, value: web}]}
  - {dataType: events, retentionDays: 7, deleteAfterDays: 30, conditions: [{field: platform, operator: matches, value: "w.*"}]}`),
			[]string{"field rules[1].dataType", "overlaps active rule 0"}},
		{"empty legalBasis", strings.Replace(validPolicy, "legitimate interest", `""`, 1),
			[]string{"field legalBasis", "must not be empty"}},
		{"no compliance reasons", strings.Replace(validPolicy, "[GDPR]", "[]", 1),
			[]string{"field complianceReasons", "at least one reason"}},
		{"unknown field", validPolicy + "owner: me\n",
			[]string{"field owner", "unknown field"}},
		{"isActive not a bool", strings.Replace(validPolicy, "isActive: true", "isActive: yes-please", 1),
			[]string{"field isActive", "true or false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := Parse("p.yaml", []byte(tt.src))
			if len(errs) == 0 {
				t.Fatal("no error")
			}
			msg := errors.Join(errs...).Error()
			at := 0
			for _, w := range tt.want {
				i := strings.Index(msg[at:], w)
				if i < 0 {
					t.Fatalf("error %q lacks %q (after offset %d)", msg, w, at)
				}
				at += i + len(w)
			}
			var fe *seeddef.FieldError
			if !errors.As(errs[0], &fe) {
				t.Errorf("error %T is not a *seeddef.FieldError", errs[0])
			}
		})
	}
}

func TestRulesThatDoNotOverlap(t *testing.T) {
	src := strings.Replace(validPolicy, "{dataType: events, retentionDays: 30, archiveAfterDays: 180, deleteAfterDays: 730}",
		`{dataType: events, retentionDays: 30, deleteAfterDays: 730, conditions: [{field: platform, operator: equals, value: web}]}
  - {dataType: events, retentionDays: 7, deleteAfterDays: 30, conditions: [{field: platform, operator: not_equals, value: web}]}
  - {dataType: users, retentionDays: 7, deleteAfterDays: 30}`, 1)
	// An inactive policy does not overlap an active one.
	src += "---\n"
	ps, errs := Parse("p.yaml", []byte(src+strings.Replace(strings.Replace(validPolicy, "p1", "p2", 1), "isActive: true", "isActive: false", 1)))
	if len(errs) > 0 {
		t.Fatal(errors.Join(errs...))
	}
	if len(ps) != 1 {
		// yaml.Unmarshal reads the first document only; the second policy
		// is checked on its own below.
		t.Fatalf("got %d policies", len(ps))
	}
	inactive := ps[0]
	inactive.PolicyID, inactive.IsActive = "p2", false
	if errs := checkAll([]Policy{ps[0], inactive}); len(errs) > 0 {
		t.Errorf("an inactive policy overlaps: %v", errs)
	}
	active := inactive
	active.IsActive = true
	if errs := checkAll([]Policy{ps[0], active}); len(errs) == 0 {
		t.Error("two active policies with the same rules do not overlap")
	}
	dup := ps[0]
	if errs := checkAll([]Policy{ps[0], dup}); len(errs) == 0 || !strings.Contains(errs[0].Error(), "defined twice") {
		t.Errorf("policyId twice: %v", errs)
	}
}

func TestEveryCatalogMetricHasOneDataType(t *testing.T) {
	n := 0
	for _, ty := range DataTypes {
		n += len(families[ty])
		if len(families[ty]) == 0 {
			t.Errorf("data type %s has no family", ty)
		}
	}
	if want := len(catalog.All()) + len(ProcessingCounters); n != want {
		t.Errorf("%d families over the data types, want %d", n, want)
	}
	for _, m := range catalog.All() {
		want := map[string]string{
			"pulse.events": Events, "pulse.sessions": Events, "pulse.users.active": Users,
			"pulse.recommendation.responses": Recommendations, "pulse.ai.model.f1": Model,
			"pulse.business.value": Business, "pulse.system.uptime": System, "pulse.quality.fields": Quality,
		}[m.Name]
		if want != "" && DataTypeOf(m) != want {
			t.Errorf("%s is %s, want %s", m.Name, DataTypeOf(m), want)
		}
	}
}

func TestCompile(t *testing.T) {
	src := strings.Replace(validPolicy, "{dataType: events, retentionDays: 30, archiveAfterDays: 180, deleteAfterDays: 730}",
		`{dataType: recommendations, retentionDays: 30, deleteAfterDays: 730, conditions: [{field: model_id, operator: equals, value: m1}]}`, 1)
	ps, errs := Parse("p.yaml", []byte(src))
	if len(errs) > 0 {
		t.Fatal(errors.Join(errs...))
	}
	plan, err := Compile(ps)
	if err != nil {
		t.Fatal(err)
	}
	r := plan.Policies[0].Rules[0]
	// pulse.recommendation.responses.unjoined has no model_id: left out.
	if slices.Contains(r.Families, "pulse_recommendation_responses_unjoined_total") || !slices.Contains(r.Families, "pulse_recommendation_confidence") {
		t.Errorf("families %v", r.Families)
	}
	if got := []int{r.Tiers[0].KeepDays, r.Tiers[1].KeepDays, r.Tiers[2].KeepDays}; !slices.Equal(got, []int{30, 30, 730}) {
		t.Errorf("keep days %v: without archiveAfterDays the 5m series go with the raw samples", got)
	}
	if !strings.Contains(r.Tiers[1].Selector, `pulse_recommendation_confidence_bucket:5m|`) || !strings.HasSuffix(r.Tiers[1].Selector, `,model_id="m1"}`) {
		t.Errorf("5m selector %s", r.Tiers[1].Selector)
	}
	b, err := MarshalPlan(plan)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParsePlan(b)
	if err != nil || back.Version != plan.Version {
		t.Fatalf("ParsePlan: %v, version %s want %s", err, back.Version, plan.Version)
	}
	edited := strings.Replace(string(b), `"keepDays": 730`, `"keepDays": 7300`, 1)
	if _, err := ParsePlan([]byte(edited)); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("an edited plan is accepted: %v", err)
	}
	// The version changes with the content.
	ps[0].Rules[0].DeleteAfterDays = 731
	other, _ := Compile(ps)
	if other.Version == plan.Version {
		t.Error("the version does not change with the policy")
	}
	if d, who := plan.MaxKeep(); d.Hours() != 730*24 || !strings.Contains(who, `"p1" rule 0`) {
		t.Errorf("MaxKeep %s %s", d, who)
	}
}

func TestRecordingRules(t *testing.T) {
	ps, err := Load("../../config/retention")
	if err != nil {
		t.Fatal(err)
	}
	groups, err := RecordingRules(ps)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups.Groups) != 2*len(DataTypes) {
		t.Fatalf("%d groups", len(groups.Groups))
	}
	n := 0
	for _, g := range groups.Groups {
		n += len(g.Rules)
	}
	// Every stored series name twice (5m, 1h).
	want := 2 * (len(catalog.SeriesNames()) + len(ProcessingCounters))
	if n != want {
		t.Errorf("%d rules, want %d", n, want)
	}
	b, err := MarshalRules(groups)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"name: pulse_retention_events_5m\n    interval: 5m",
		"record: pulse_events_total:1h\n        expr: last_over_time(pulse_events_total[1h])",
		"record: pulse_event_duration_milliseconds_bucket:5m",
		"record: otelcol_receiver_analytics_rejected_items:1h",
	} {
		if !strings.Contains(string(b), w) {
			t.Errorf("rules lack %q", w)
		}
	}
	// promtool, when installed, checks the file as Prometheus loads it.
	if _, err := exec.LookPath("promtool"); err != nil {
		t.Skip("promtool not on PATH")
	}
	f := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("promtool", "check", "rules", f).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "SUCCESS") {
		t.Errorf("promtool: %s", out)
	}
}
