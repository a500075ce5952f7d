package dashboards

import (
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/pulse-otel/pulse/internal/kpi"
)

// builtinDir is config/dashboards of the repository.
func builtinDir(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "config", "dashboards")
}

func loadBuiltin(t testing.TB) []Dashboard {
	t.Helper()
	dbs, err := Load(builtinDir(t))
	if err != nil {
		t.Fatal(err)
	}
	return dbs
}

// leftOut are the KPIs no built-in dashboard shows, and why.
var leftOut = map[string]string{
	"avg_time_on_site": "equals avg_session_duration by definition (the seed's time on site per visit); the user analytics dashboard shows that one",
}

func TestBuiltinDashboardsCompileAndLint(t *testing.T) {
	dbs := loadBuiltin(t)
	var types []string
	for _, db := range dbs {
		types = append(types, db.Type)
	}
	for _, want := range []string{"executive", "user_analytics", "system_performance", "ai_monitoring"} {
		if !slices.Contains(types, want) {
			t.Errorf("no built-in dashboard of type %s", want)
		}
	}
	files, err := CompileAll(dbs, ProvisioningOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range files {
		if filepath.Ext(name) != ".json" {
			continue
		}
		if _, err := Lint(b); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Every KPI of the registry is on a built-in dashboard or listed in
// leftOut with a reason.
func TestEveryKPIIsShown(t *testing.T) {
	shown := map[string]bool{}
	for _, db := range loadBuiltin(t) {
		for _, w := range db.Layout.Widgets {
			if w.Config.KPI != "" {
				shown[w.Config.KPI] = true
			}
		}
	}
	for _, name := range kpi.Names() {
		_, skipped := leftOut[name]
		switch {
		case shown[name] && skipped:
			t.Errorf("KPI %s is shown but listed as left out (%s)", name, leftOut[name])
		case !shown[name] && !skipped:
			t.Errorf("KPI %s is on no built-in dashboard: add a widget or list it in leftOut with the reason", name)
		}
	}
	for name := range leftOut {
		if _, ok := kpi.Lookup(name); !ok {
			t.Errorf("leftOut names %s, which is not a KPI", name)
		}
	}
}
