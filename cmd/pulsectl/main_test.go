package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const defaults = "../../config/alerts"

func runCmd(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCompileWritesOutputs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	code, out, errs := runCmd("rules", "compile", "--out", dir, "--alertmanager-sms-url", "https://sms.example.com/send", defaults)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, f := range []string{RulesFile, AlertmanagerFile, TestsFile} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %v", f, err)
		}
		if !strings.Contains(out, filepath.Join(dir, f)) {
			t.Errorf("stdout %q does not name %s", out, f)
		}
	}
	am, _ := os.ReadFile(filepath.Join(dir, AlertmanagerFile))
	if !strings.Contains(string(am), "https://sms.example.com/send?to=%2B15555550100") {
		t.Errorf("sms url not used:\n%s", am)
	}
	golden, err := os.ReadFile("../../internal/alertrules/testdata/rules.yaml.golden")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, RulesFile)); !bytes.Equal(got, golden) {
		t.Error("rules.yaml differs from internal/alertrules/testdata/rules.yaml.golden")
	}
}

func TestValidate(t *testing.T) {
	code, out, errs := runCmd("rules", "validate", defaults)
	if code != 0 || !strings.Contains(out, "8 rules valid (8 active)") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("ruleId: x\nname: n\ndescription: d\nisActive: true\n"+
		"condition: {metric: p95_respons_time, operator: \">\", threshold: 1, timeWindow: 5, evaluationFrequency: 1}\n"+
		"notifications: [{channel: email, recipients: [a@example.com], severity: low, cooldown: 5}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs = runCmd("rules", "validate", bad)
	if code != 1 || !strings.Contains(errs, bad+`:5: rule "x": field condition.metric: unknown metric "p95_respons_time"`) || !strings.Contains(errs, "did you mean p95_response_time") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"nope"},
		{"rules"},
		{"rules", "frobnicate"},
		{"rules", "validate"},
		{"rules", "compile", defaults},
		{"rules", "compile", "--out", t.TempDir()},
		{"rules", "compile", "--bogus", "--out", t.TempDir(), defaults},
	} {
		code, _, errs := runCmd(args...)
		if code != 2 || !strings.Contains(errs, "usage:") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs)
		}
	}
	if code, out, _ := runCmd("--help"); code != 0 || !strings.Contains(out, "rules compile --out DIR") {
		t.Errorf("--help: exit %d, %q", code, out)
	}
	for _, args := range [][]string{
		{"rules", "sync", defaults},
		{"rules", "sync", "--ruler-url", "http://x"},
		{"rules", "sync", "--prometheus-rules-dir", t.TempDir(), defaults},
		{"rules", "sync", "--prometheus-url", "http://x", "--ruler-url", "http://y", defaults},
		{"rules", "sync", "--prometheus-rules-dir", t.TempDir(), "--prometheus-url", "http://x", "--tenant", "t", defaults},
		{"rules", "sync", "--ruler-url", "http://x", "--namespace", "", defaults},
	} {
		if code, _, errs := runCmd(args...); code != 2 || !strings.Contains(errs, "usage:") || !strings.Contains(errs, "rules sync") {
			t.Errorf("%v: exit %d, %q", args, code, errs)
		}
	}
	if code, _, errs := runCmd("rules", "validate", "/does/not/exist"); code != 1 || !strings.Contains(errs, "no such file") {
		t.Errorf("missing file: exit %d, %q", code, errs)
	}
}
