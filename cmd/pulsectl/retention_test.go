package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulse-otel/pulse/internal/retention"
)

func TestRetentionCompile(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"retention", "compile", "--out", out, "../../config/retention"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	b, err := os.ReadFile(filepath.Join(out, RetentionPlanFile))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := retention.ParsePlan(b)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), plan.Version) {
		t.Errorf("stdout %q does not name version %s", stdout.String(), plan.Version)
	}
	rules, err := os.ReadFile(filepath.Join(out, RetentionRulesFile))
	if err != nil || !strings.Contains(string(rules), "record: pulse_events_total:5m") {
		t.Errorf("rules.yaml: %v", err)
	}
	stdout.Reset()
	if code := run([]string{"retention", "validate", "../../config/retention"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "1 policies valid (14 rule groups") {
		t.Errorf("validate: exit %d, %q", code, stdout.String())
	}
}

func TestRetentionErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("policyId: p\nname: n\nrules: [{dataType: clicks, retentionDays: 1, deleteAfterDays: 2}]\ncomplianceReasons: [GDPR]\nlegalBasis: x\nisActive: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"retention"}, 2, "missing retention subcommand"},
		{[]string{"retention", "compile", bad}, 2, "--out DIR is required"},
		{[]string{"retention", "validate", bad}, 1, `bad.yaml:3: policy "p": field rules[0].dataType: unknown data type "clicks"`},
		{[]string{"retention", "compile", "--out", t.TempDir(), bad}, 1, "unknown data type"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tt.args, &stdout, &stderr); code != tt.code || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("%v: exit %d (want %d), stderr %q lacks %q", tt.args, code, tt.code, stderr.String(), tt.want)
		}
	}
}
