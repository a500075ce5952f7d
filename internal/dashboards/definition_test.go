package dashboards

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func TestGoldenSmallDashboard(t *testing.T) {
	dbs, err := Load("testdata/small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Compile(dbs[0])
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "small.json.golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("compiled testdata/small.yaml differs from %s (go test -run Golden -update to accept):\n%s", golden, got)
	}
	d, err := Lint(got)
	if err != nil {
		t.Fatal(err)
	}
	// The seed grid of 12 columns is doubled onto Grafana's 24.
	if g := d.Panels[1].Panel.GridPos; g.X != 8 || g.W != 16 || g.H != 8 {
		t.Errorf("second panel gridPos = %+v, want x=8 w=16 h=8", *g)
	}
	if *d.Refresh != "10s" || d.Time.From != "now-1h" || *d.Timezone != "Europe/Berlin" {
		t.Errorf("refresh %q, time from %q, timezone %q", *d.Refresh, d.Time.From, *d.Timezone)
	}
}

// A JSON definition loads like the YAML one (JSON is YAML), with lines.
func TestJSONDefinition(t *testing.T) {
	const def = `{
  "dashboardId": "j", "name": "J", "type": "custom",
  "layout": {"gridSize": {"columns": 24, "rows": 4}, "widgets": [
    {"id": "w", "type": "gauge", "position": {"x": 0, "y": 0, "width": 6, "height": 4},
     "config": {"kpi": "acceptance_rate", "window": "7d"}}]},
  "createdAt": 1700000000000, "updatedAt": 1700000000000
}`
	dbs, errs := Parse("j.json", []byte(def))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	q, err := dbs[0].Layout.Widgets[0].Query()
	if err != nil || !strings.Contains(q.Expr, "[1w]") || q.Unit != "percentunit" || q.Title != "Acceptance rate (7d)" {
		t.Errorf("query %+v, %v", q, err)
	}
}

const base = `dashboardId: d1
name: D
type: custom
settings: {refreshInterval: 30}
layout:
  gridSize: {columns: 12, rows: 8}
  widgets:
    - id: a
      type: stat
      position: {x: 0, y: 0, width: 4, height: 4}
      config: {kpi: active_users}
`

func TestDefinitionErrors(t *testing.T) {
	for _, tc := range []struct {
		name, def string
		want      string // substring of the error, with file and line
	}{
		{"unknown KPI with suggestion", strings.Replace(base, "kpi: active_users", "kpi: acceptance", 1),
			`x.yaml:8: dashboard "d1": widget "a": field layout.widgets[0].config.kpi: unknown KPI "acceptance"; did you mean acceptance_rate`},
		{"window the KPI lacks", strings.Replace(base, "kpi: active_users", "kpi: active_users, window: 2h", 1),
			`x.yaml:8: dashboard "d1": widget "a": field layout.widgets[0].config.window: kpi active_users: window "2h" is not available`},
		{"rate KPI with a window", strings.Replace(base, "kpi: active_users", "kpi: events_per_second, window: 5m", 1),
			`field layout.widgets[0].config.window: kpi events_per_second is a per-second rate`},
		{"refresh under Grafana's minimum", strings.Replace(base, "refreshInterval: 30", "refreshInterval: 2", 1),
			`x.yaml:1: dashboard "d1": field settings.refreshInterval: must be at least 5 seconds`},
		{"out of the grid", strings.Replace(base, "x: 0, y: 0, width: 4", "x: 10, y: 0, width: 4", 1),
			`field layout.widgets[0].position: x+width=14 is outside the grid's 12 columns`},
		{"below the grid", strings.Replace(base, "y: 0, width: 4, height: 4", "y: 6, width: 4, height: 4", 1),
			`field layout.widgets[0].position: y+height=10 is outside the grid's 8 rows`},
		{"overlap", base + `    - id: b
      type: stat
      position: {x: 2, y: 2, width: 4, height: 4}
      config: {kpi: total_users}
`, `x.yaml:12: dashboard "d1": widget "b": field layout.widgets[1].position: overlaps widget "a" (layout.widgets[0])`},
		{"columns that do not divide 24", strings.Replace(base, "columns: 12", "columns: 10", 1),
			`field layout.gridSize.columns: must divide Grafana's 24 columns`},
		{"unknown field", strings.Replace(base, "name: D", "name: D\ncolour: red", 1),
			`x.yaml:3: dashboard "d1": field colour: unknown field`},
		{"bad type", strings.Replace(base, "type: custom", "type: sales", 1),
			`field type: must be one of executive, user_analytics`},
		{"bad widget type", strings.Replace(base, "type: stat", "type: pie", 1),
			`widget "a": field layout.widgets[0].type: must be one of stat, timeseries`},
		{"invalid PromQL", strings.Replace(base, "config: {kpi: active_users}", "config: {promql: 'sum(', title: T, description: D, unit: short}", 1),
			`field layout.widgets[0].config.promql: invalid PromQL`},
		{"PromQL without unit", strings.Replace(base, "config: {kpi: active_users}", "config: {promql: 'sum(up)', title: T, description: D}", 1),
			`field layout.widgets[0].config.unit: a promql widget needs a Grafana unit`},
		{"unit Grafana lacks", strings.Replace(base, "config: {kpi: active_users}", "config: {promql: 'sum(up)', title: T, description: D, unit: parsecs}", 1),
			`field layout.widgets[0].config.unit: "parsecs" is not a Grafana unit id`},
		{"kpi and promql", strings.Replace(base, "config: {kpi: active_users}", "config: {kpi: active_users, promql: 'up'}", 1),
			`field layout.widgets[0].config: kpi and promql are exclusive`},
		{"bad timezone", strings.Replace(base, "refreshInterval: 30", "refreshInterval: 30, timezone: Mars/Olympus", 1),
			`field settings.timezone: must be browser, utc or an IANA zone`},
		{"bad time range", strings.Replace(base, "refreshInterval: 30", "refreshInterval: 30, defaultTimeRange: yesterday", 1),
			`field settings.defaultTimeRange: must be a positive duration`},
		{"bad theme", strings.Replace(base, "refreshInterval: 30", "refreshInterval: 30, theme: pink", 1),
			`field settings.theme: must be light or dark`},
		{"uid Grafana refuses", strings.Replace(base, "dashboardId: d1", "dashboardId: has space", 1),
			`field dashboardId: must be 1 to 40 letters`},
		{"missing layout", "dashboardId: d1\nname: D\ntype: custom\n", `x.yaml:1: dashboard "d1": field layout: missing`},
		{"wrong type of value", strings.Replace(base, "height: 4}", "height: tall}", 1),
			`field layout.widgets[0].position.height: must be a whole number, got "tall"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := Parse("x.yaml", []byte(tc.def))
			var all []string
			for _, e := range errs {
				all = append(all, e.Error())
			}
			got := strings.Join(all, "\n")
			if !strings.Contains(got, tc.want) {
				t.Errorf("errors:\n%s\nwant one containing:\n%s", got, tc.want)
			}
		})
	}
}

func TestDuplicateDashboardIDs(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a.yaml", "b.yml"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(base), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), `b.yml:1: dashboard "d1": field dashboardId: defined twice (first at `) {
		t.Errorf("err = %v", err)
	}
}

// A bargauge widget is a bar per series of its last value, sent as a range
// query like stat and gauge panels; a KPI bargauge reads its recorded
// series.
func TestBargaugeWidget(t *testing.T) {
	def := strings.Replace(base, "type: stat", "type: bargauge", 1)
	def = strings.Replace(def, "config: {kpi: active_users}", "config: {kpi: model_accuracy, window: 1d}", 1)
	dbs, errs := Parse("x.yaml", []byte(def))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	b, err := Compile(dbs[0])
	if err != nil {
		t.Fatal(err)
	}
	d, err := Lint(b)
	if err != nil {
		t.Fatal(err)
	}
	p := d.Panels[0].Panel
	if p.Type != "bargauge" {
		t.Fatalf("panel type %q, want bargauge", p.Type)
	}
	opts, ok := p.Options.(*bargauge.Options)
	if !ok {
		t.Fatalf("options %T, want *bargauge.Options", p.Options)
	}
	if opts.Orientation != common.VizOrientationHorizontal || !slices.Equal(opts.ReduceOptions.Calcs, []string{"lastNotNull"}) {
		t.Errorf("orientation %q, calcs %v: want horizontal bars of the last value", opts.Orientation, opts.ReduceOptions.Calcs)
	}
	if u := deref(p.FieldConfig.Defaults.Unit); u != "percentunit" || deref(p.FieldConfig.Defaults.Max) != 1 {
		t.Errorf("unit %q max %v, want percentunit up to 1", u, deref(p.FieldConfig.Defaults.Max))
	}
	for _, tg := range p.Targets {
		q := tg.(*prometheus.Dataquery)
		if !deref(q.Range) || deref(q.Instant) {
			t.Errorf("target %s: range %v instant %v, want a range query", deref(q.RefId), deref(q.Range), deref(q.Instant))
		}
	}
	if q := p.Targets[0].(*prometheus.Dataquery); q.Expr != "pulse:kpi_model_accuracy:1d" {
		t.Errorf("target A reads %q, want the recorded series", q.Expr)
	}
}
