package dashboards

import (
	"strings"
	"testing"
)

func compiledSmall(t *testing.T) string {
	t.Helper()
	dbs, err := Load("testdata/small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Compile(dbs[0])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Each rule of the linter fails on a dashboard that breaks it.
func TestLintRules(t *testing.T) {
	src := compiledSmall(t)
	if _, err := Lint([]byte(src)); err != nil {
		t.Fatalf("the compiled dashboard fails lint: %v", err)
	}
	for _, tc := range []struct {
		name, old, new, want string
		n                    int // replacements, -1 all
	}{
		{"no datasource variable", `"name": "datasource"`, `"name": "ds"`, `no datasource variable "datasource"`, 1},
		{"panel with a fixed datasource", `"uid": "${datasource}"`, `"uid": "prom-1"`, `datasource must be ${datasource}`, -1},
		{"rate over a fixed range", `[$__rate_interval]))"`, `[5m]))"`, `rate() must read [$__rate_interval]`, 1},
		{"invalid PromQL", `"expr": "sum by (platform)`, `"expr": "sum by (platform) ((`, `invalid PromQL`, 1},
		{"no title", `"title": "Page views by platform"`, `"title": ""`, `no title`, 1},
		{"no description", `"description": "Page views per second, by platform."`, `"description": ""`, `no description`, 1},
		{"bad unit", `"unit": "suffix: views/s"`, `"unit": "parsecs"`, `unit "parsecs" is not a Grafana unit`, 1},
		{"out of the grid", `"w": 16`, `"w": 20`, `outside Grafana's 24 columns`, 1},
		{"overlap", `"x": 8`, `"x": 4`, `overlaps another panel`, 1},
		{"legend hidden", `"showLegend": true`, `"showLegend": false`, `showLegend: false hides which line is which`, 1},
		{"no tooltip mode", `"mode": "multi"`, `"mode": ""`, `options.tooltip.mode "": must be single, multi or none`, 1},
		{"field the strict decoder refuses", `"schemaVersion": 42`, `"schemaVersion": 42, "theme": "dark"`, `strict decode`, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(src, tc.old) {
				t.Fatalf("compiled dashboard has no %s", tc.old)
			}
			_, err := Lint([]byte(strings.Replace(src, tc.old, tc.new, tc.n)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestLintAllUniqueUIDs(t *testing.T) {
	src := []byte(compiledSmall(t))
	err := LintAll(map[string][]byte{"a.json": src, "b.json": src})
	if err == nil || !strings.Contains(err.Error(), `b.json: uid "small" is also the uid of a.json`) {
		t.Errorf("err = %v", err)
	}
}

func TestSubstitute(t *testing.T) {
	got := Substitute(`rate(x[$__rate_interval]) / ($__rate_interval_ms / 1000) + x offset ${__range} + $__interval_ms + $__range_s`, 24*60*60e9, 300e9)
	want := `rate(x[315s]) / (315000 / 1000) + x offset 86400s + 300000 + 86400`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// A KPI widget's lines are named by the labels its aggregation keeps,
// unless the definition gives a legend.
func TestKPILegend(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{`sum by (unit) (last_over_time(x[$__rate_interval]))`, "{{unit}}"},
		{`(sum by (model_id, model_version) (rate(x[5m])))`, "{{model_id}} {{model_version}}"},
		{`sum(x)`, ""},
		{`sum without (job) (x)`, ""},
		{`sum by (a) (x) / sum by (a) (y)`, ""},
		{`sum by (a) (`, ""},
	} {
		if got := groupingLegend(tc.expr); got != tc.want {
			t.Errorf("groupingLegend(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
	w := Widget{Config: WidgetConfig{KPI: "revenue", Window: "1d"}}
	q, err := w.Query()
	if err != nil || q.Legend != "{{unit}}" {
		t.Errorf("revenue: legend %q, err %v; want {{unit}}", q.Legend, err)
	}
	w.Config.Legend = "{{unit}} revenue"
	if q, _ := w.Query(); q.Legend != "{{unit}} revenue" {
		t.Errorf("revenue with a legend: %q", q.Legend)
	}
}
