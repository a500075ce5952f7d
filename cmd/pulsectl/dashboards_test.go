package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulse-otel/pulse/internal/dashboards"
)

const builtinDashboards = "../../config/dashboards"

func TestDashboardsCompileWritesGrafanaFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	if err := os.MkdirAll(filepath.Join(dir, dashboards.DashboardsDir), 0o755); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, dashboards.DashboardsDir, "gone.json")
	if err := os.WriteFile(stale, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd("dashboards", "compile", "--out", dir, "--datasource-url", "http://pulse.example:9090", builtinDashboards)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, id := range []string{"pulse-executive", "pulse-user-analytics", "pulse-system-performance", "pulse-ai-monitoring"} {
		p := filepath.Join(dir, dashboards.DashboardsDir, id+".json")
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		d, err := dashboards.Lint(b)
		if err != nil {
			t.Errorf("%s: %v", p, err)
		}
		if d.Uid == nil || *d.Uid != id || d.SchemaVersion != 42 {
			t.Errorf("%s: uid %v schemaVersion %d, want %s and 42", p, d.Uid, d.SchemaVersion, id)
		}
		if !strings.Contains(out, p) {
			t.Errorf("stdout does not name %s", p)
		}
	}
	ds, _ := os.ReadFile(filepath.Join(dir, dashboards.DatasourceFile))
	if !strings.Contains(string(ds), "url: http://pulse.example:9090") {
		t.Errorf("datasource file does not point at --datasource-url:\n%s", ds)
	}
	prov, _ := os.ReadFile(filepath.Join(dir, dashboards.ProviderFile))
	if !strings.Contains(string(prov), "path: "+dashboards.DefaultGrafanaPath) {
		t.Errorf("provider file lacks the dashboards path:\n%s", prov)
	}
	meta, _ := os.ReadFile(filepath.Join(dir, dashboards.MetaFile))
	if !strings.Contains(string(meta), "theme: light") {
		t.Errorf("sidecar lacks the executive dashboard's light theme:\n%s", meta)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) || !strings.Contains(out, "removed "+stale) {
		t.Errorf("stale dashboard file not removed (stat: %v)", err)
	}
}

func TestDashboardsValidate(t *testing.T) {
	code, out, errs := runCmd("dashboards", "validate", builtinDashboards)
	if code != 0 || !strings.Contains(out, "5 dashboards valid") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

func TestDashboardsErrorsNameFileLineAndField(t *testing.T) {
	f := filepath.Join(t.TempDir(), "bad.yaml")
	def := `dashboardId: bad
name: Bad
type: custom
layout:
  gridSize: {columns: 12, rows: 8}
  widgets:
    - id: users
      type: stat
      position: {x: 0, y: 0, width: 2, height: 4}
      config: {kpi: activ_users}
`
	if err := os.WriteFile(f, []byte(def), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCmd("dashboards", "validate", f)
	want := f + `:7: dashboard "bad": widget "users": field layout.widgets[0].config.kpi: unknown KPI "activ_users"; did you mean active_users`
	if code != 1 || !strings.Contains(errs, want) {
		t.Errorf("exit %d, stderr %q; want exit 1 and %q", code, errs, want)
	}
}

func TestDashboardsUsage(t *testing.T) {
	for _, args := range [][]string{{"dashboards"}, {"dashboards", "compile", builtinDashboards}, {"dashboards", "frobnicate"}} {
		if code, _, errs := runCmd(args...); code != 2 || !strings.Contains(errs, "pulsectl dashboards help") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and a pointer to the help", args, code, errs)
		}
	}
	if code, out, _ := runCmd("dashboards", "help"); code != 0 || !strings.Contains(out, "-datasource-url") {
		t.Errorf("help: exit %d, stdout %q", code, out)
	}
}
