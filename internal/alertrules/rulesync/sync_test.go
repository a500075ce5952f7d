package rulesync

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/rulefmt"
	"go.yaml.in/yaml/v3"

	"github.com/pulse-otel/pulse/internal/alertrules"
)

func defaults(t *testing.T) rulefmt.RuleGroups {
	t.Helper()
	rules, err := alertrules.Load("../../../config/alerts")
	if err != nil {
		t.Fatal(err)
	}
	g, err := alertrules.CompileRules(rules)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestDiffIgnoresFormatting(t *testing.T) {
	want := defaults(t).Groups
	// What a ruler might send back: other indentation, extra fields,
	// empty maps.
	var b strings.Builder
	b.WriteString("pulse:\n")
	for _, g := range want {
		y, err := yaml.Marshal(g)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("- source_tenants: []\n  labels: {}\n")
		for _, line := range strings.Split(strings.TrimRight(string(y), "\n"), "\n") {
			b.WriteString("  " + line + "\n")
		}
	}
	b.WriteString("- name: stale\n  rules:\n  - alert: X\n    expr: vector(1)\n")
	var cur map[string][]rulefmt.RuleGroup
	if err := yaml.Unmarshal([]byte(b.String()), &cur); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	c, err := diff(cur["pulse"], want)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.String(); got != "deleted group stale; 2 unchanged" {
		t.Errorf("diff: %q", got)
	}
	want[0].Rules[0].Expr += " > 0"
	if c, _ = diff(cur["pulse"], want[:1]); c.String() != "updated group pulse-every-1m; deleted group pulse-every-5m; deleted group stale" {
		t.Errorf("diff after change: %q", c)
	}
	if s := (Changes{}).String(); s != "no change (0 groups)" {
		t.Errorf("empty: %q", s)
	}
}

func TestPrometheusWritesOnlyOnChange(t *testing.T) {
	reloads := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/-/reload" {
			http.Error(w, "unexpected", http.StatusNotFound)
			return
		}
		reloads++
	}))
	defer srv.Close()
	dir := filepath.Join(t.TempDir(), "rules")
	o := PrometheusOptions{RulesDir: dir, URL: srv.URL + "/"}
	g := defaults(t)
	res, err := Prometheus(context.Background(), o, g)
	if err != nil || !res.Written || !res.Reloaded || reloads != 1 || len(res.Changes.Created) != 2 {
		t.Fatalf("first: %+v, %v, %d reloads", res, err, reloads)
	}
	golden, _ := os.ReadFile("../testdata/rules.yaml.golden")
	if b, _ := os.ReadFile(res.Path); string(b) != string(golden) {
		t.Error("written file differs from the golden rules.yaml")
	}
	res, err = Prometheus(context.Background(), o, g)
	if err != nil || res.Written || res.Reloaded || reloads != 1 || res.Changes.Changed() {
		t.Fatalf("second: %+v, %v, %d reloads", res, err, reloads)
	}
	// A hand-edited file with the same groups is rewritten and reloaded.
	b, _ := os.ReadFile(res.Path)
	if err := os.WriteFile(res.Path, append([]byte("# edited\n"), b...), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err = Prometheus(context.Background(), o, g)
	if err != nil || !res.Written || reloads != 2 || len(res.Changes.Updated) != 2 {
		t.Fatalf("after edit: %+v, %v, %d reloads", res, err, reloads)
	}
}

func TestErrorsNameURLStatusBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, strings.Repeat("x", 1000), http.StatusInternalServerError)
	}))
	defer srv.Close()
	_, err := Ruler(context.Background(), RulerOptions{URL: srv.URL, Namespace: "a/b"}, defaults(t))
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if !strings.Contains(msg, "GET "+srv.URL+"/prometheus/config/v1/rules/a%2Fb: 500 Internal Server Error: \"xxx") || !strings.Contains(msg, "…") || len(msg) > 500 {
		t.Errorf("error: %s", msg)
	}
}
