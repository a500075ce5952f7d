package kpi

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/pulse-otel/pulse/internal/hll"
)

var promqlParser = parser.NewParser(parser.Options{})

// selector is one vector selector of a parsed expression.
type selector struct {
	name     string
	matchers []*labels.Matcher // without __name__
}

// selectors parses q and returns its vector selectors.
func selectors(t *testing.T, name, q string) []selector {
	t.Helper()
	expr, err := promqlParser.ParseExpr(q)
	if err != nil {
		t.Errorf("%s: %q does not parse: %v", name, q, err)
		return nil
	}
	var out []selector
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		s := selector{name: vs.Name}
		for _, m := range vs.LabelMatchers {
			if m.Name != model.MetricNameLabel {
				s.matchers = append(s.matchers, m)
				continue
			}
			if m.Type != labels.MatchEqual {
				t.Errorf("%s: selector %s matches the metric name with %s; KPIs name their metrics", name, vs, m.Type)
			}
			s.name = m.Value
		}
		out = append(out, s)
		return nil
	})
	return out
}

// testWindows are the windows each KPI's query is checked with.
func testWindows(k Def) []string {
	if len(k.Windows) > 0 {
		return append([]string{""}, k.Windows...)
	}
	if k.Window == "" {
		return []string{""}
	}
	return []string{"", "5m", "1h", "1d", "7d", "90m"}
}

func TestKPIQueriesParseAndReadOnlyCatalogMetrics(t *testing.T) {
	cat := promCatalog(t)
	windows := map[string]bool{}
	for _, w := range hll.DefaultWindows() {
		windows[w.Name] = true
	}
	for _, k := range All() {
		read := map[string]bool{}
		reported := map[string]bool{} // one report per problem, not per window
		errorf := func(format string, args ...any) {
			if msg := fmt.Sprintf(format, args...); !reported[msg] {
				reported[msg] = true
				t.Error(msg)
			}
		}
		for _, w := range testWindows(k) {
			q, err := k.Query(w)
			if err != nil {
				errorf("%s: Query(%q): %v", k.Name, w, err)
				continue
			}
			if strings.Contains(q, "$") {
				errorf("%s: Query(%q) = %q still holds a variable", k.Name, w, q)
			}
			for _, s := range selectors(t, k.Name, q) {
				read[s.name] = true
				ser, ok := cat[s.name]
				if !ok {
					errorf("%s: reads %s, which is not in the catalog", k.Name, s.name)
					continue
				}
				for _, m := range s.matchers {
					if !ser.labels[m.Name] {
						errorf("%s: matches label %s of %s (OTel %s), which has no such label", k.Name, m.Name, s.name, ser.otelName)
					}
					if m.Name == "window" && ser.otelName == "pulse.users.active" && !windows[m.Value] {
						errorf("%s: Query(%q) selects window %q; the connector's windows are %v", k.Name, w, m.Value, hll.DefaultWindows())
					}
				}
			}
		}
		got := make([]string, 0, len(read))
		for n := range read {
			got = append(got, n)
		}
		sort.Strings(got)
		if !slices.Equal(got, k.Metrics) {
			t.Errorf("%s: Metrics = %v, the expression reads %v", k.Name, k.Metrics, got)
		}
	}
}

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

func TestKPIDefinitions(t *testing.T) {
	all := All()
	if len(all) == 0 {
		t.Fatal("no KPIs")
	}
	names := Names()
	if !sort.StringsAreSorted(names) {
		t.Errorf("Names() not sorted: %v", names)
	}
	seen := map[string]bool{}
	for i, k := range all {
		if k.Name != names[i] {
			t.Errorf("All()[%d] is %s, Names()[%d] is %s", i, k.Name, i, names[i])
		}
		if seen[k.Name] {
			t.Errorf("%s defined twice", k.Name)
		}
		seen[k.Name] = true
		if !snakeCase.MatchString(k.Name) {
			t.Errorf("%s: name is not snake_case", k.Name)
		}
		if k.Description == "" || !strings.HasSuffix(k.Description, ".") {
			t.Errorf("%s: description must be a sentence", k.Name)
		}
		if strings.ContainsAny(k.Expr, "`\n") {
			t.Errorf("%s: Expr has a backtick or newline, which the docs table cannot hold", k.Name)
		}
		hasVar := strings.Contains(k.Expr, windowVar)
		if hasVar != (k.Window != "") {
			t.Errorf("%s: Window %q, but Expr %s $window", k.Name, k.Window, map[bool]string{true: "has", false: "has no"}[hasVar])
		}
		if len(k.Windows) > 0 && !slices.Contains(k.Windows, k.Window) {
			t.Errorf("%s: default window %q is not one of %v", k.Name, k.Window, k.Windows)
		}
		if strings.HasSuffix(k.Name, "_rate") && !strings.Contains(k.Name, "overflow") && k.Unit != "1" {
			t.Errorf("%s: a rate KPI is a ratio, unit %q, want \"1\"", k.Name, k.Unit)
		}
		got, ok := Lookup(k.Name)
		if !ok || got.Expr != k.Expr {
			t.Errorf("Lookup(%q) = %v, %v", k.Name, got.Name, ok)
		}
	}
	if _, ok := Lookup("no_such_kpi"); ok {
		t.Error("Lookup(no_such_kpi) found something")
	}
}

func TestKPIRegistryIsNotAliased(t *testing.T) {
	k, _ := Lookup("active_users")
	k.Metrics[0] = "changed"
	k.Windows[0] = "changed"
	all := All()
	all[0].Metrics[0] = "changed"
	again, _ := Lookup("active_users")
	if again.Metrics[0] == "changed" || again.Windows[0] == "changed" || All()[0].Metrics[0] == "changed" {
		t.Error("callers can change the registry through returned slices")
	}
}

// seedTables are the seed tables a SeedField may name.
var seedTables = []string{"dailyAnalyticsSummary", "aiModelMetrics", "aiRecommendationAnalytics", "analyticsEvents", "businessMetrics", "systemPerformanceMetrics", "userCohorts", "dataQualityReports"}

func TestKPIsCoverTheDailySummary(t *testing.T) {
	covered := map[string][]string{}
	for _, k := range All() {
		if k.SeedField == "" {
			continue
		}
		table, _, _ := strings.Cut(k.SeedField, ".")
		if !slices.Contains(seedTables, table) {
			t.Errorf("%s: SeedField %q: table %q is not one of %v", k.Name, k.SeedField, table, seedTables)
		}
		covered[k.SeedField] = append(covered[k.SeedField], k.Name)
	}
	for _, f := range DailySummaryFields {
		if len(covered["dailyAnalyticsSummary."+f]) == 0 {
			t.Errorf("no KPI covers dailyAnalyticsSummary.%s", f)
		}
	}
}

// TestDailySummaryFieldsMatchSeed checks DailySummaryFields against the seed
// data model when the shared folder is next to the repository.
func TestDailySummaryFieldsMatchSeed(t *testing.T) {
	b, err := os.ReadFile("../../../shared/seed/data-model.md")
	if err != nil {
		t.Skipf("seed data model not available: %v", err)
	}
	_, block, ok := strings.Cut(string(b), "export const dailyAnalyticsSummary = defineTable({")
	if !ok {
		t.Fatal("seed data model has no dailyAnalyticsSummary table")
	}
	block, _, _ = strings.Cut(block, "\n})")
	var fields []string
	group := ""
	for _, l := range strings.Split(block, "\n") {
		l = strings.TrimSpace(l)
		if g, ok := strings.CutSuffix(l, ": v.object({"); ok {
			group = g
			continue
		}
		if strings.HasPrefix(l, "})") {
			group = ""
			continue
		}
		if name, _, ok := strings.Cut(l, ": v.number()"); ok && group != "" {
			fields = append(fields, group+"."+name)
		}
	}
	if !slices.Equal(fields, DailySummaryFields) {
		t.Errorf("seed dailyAnalyticsSummary fields are\n  %v\nthe test lists\n  %v", fields, DailySummaryFields)
	}
	for _, k := range All() {
		if _, path, ok := strings.Cut(k.SeedField, "."); ok {
			leaf := path[strings.LastIndex(path, ".")+1:]
			if !strings.Contains(string(b), leaf+":") {
				t.Errorf("%s: SeedField %q: the seed has no field %q", k.Name, k.SeedField, leaf)
			}
		}
	}
}

func TestKPIQueryWindows(t *testing.T) {
	k, ok := Lookup("error_rate")
	if !ok {
		t.Fatal("no error_rate")
	}
	for _, tc := range []struct {
		window, want, err string
	}{
		{"", "[5m]", ""},
		{"1h", "[1h]", ""},
		{"24h", "[1d]", ""},
		{"90m", "[1h30m]", ""},
		{"1w", "[1w]", ""},
		{"0s", "", "must be positive"},
		{"5x", "", `window "5x"`},
		{"-5m", "", `window "-5m"`},
		{"5m]) or vector(1", "", `window "5m]) or vector(1"`},
	} {
		q, err := k.Query(tc.window)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "error_rate") {
				t.Errorf("Query(%q) = %q, %v; want an error naming the KPI with %q", tc.window, q, err, tc.err)
			}
		case err != nil:
			t.Errorf("Query(%q): %v", tc.window, err)
		case !strings.Contains(q, tc.want) || strings.Count(q, "[") != strings.Count(q, tc.want):
			t.Errorf("Query(%q) = %q, want every range %s", tc.window, q, tc.want)
		}
	}

	au, _ := Lookup("active_users")
	for w, want := range map[string]string{"": `window="1d"`, "1h": `window="1h"`, "24h": `window="1d"`, "168h": `window="7d"`, "30d": `window="30d"`} {
		q, err := au.Query(w)
		if err != nil || !strings.Contains(q, want) {
			t.Errorf("active_users Query(%q) = %q, %v; want %s", w, q, err, want)
		}
	}
	for _, w := range []string{"5m", "2d", "1y"} {
		if q, err := au.Query(w); err == nil || !strings.Contains(err.Error(), "1h, 1d, 7d, 30d") {
			t.Errorf("active_users Query(%q) = %q, %v; want an error listing the windows", w, q, err)
		}
	}

	fixed := Def{Name: "fixed", Expr: "vector(1)"}
	if q, err := fixed.Query(""); err != nil || q != "vector(1)" {
		t.Errorf("Query on a KPI without window = %q, %v", q, err)
	}
	if _, err := fixed.Query("5m"); err == nil {
		t.Error("Query(5m) on a KPI without window: no error")
	}
}

func TestSuggest(t *testing.T) {
	for _, tc := range []struct {
		name  string
		first string
	}{
		{"eror_rate", "error_rate"},
		{"error-rate", "error_rate"},
		{"Active Users", "active_users"},
		{"active_user", "active_users"},
		{"acceptance", "acceptance_rate"},
		{"bounce", "bounce_rate"},
		{"freshnes_p95", "freshness_p95"},
		{"model_acuracy", "model_accuracy"},
	} {
		got := Suggest(tc.name)
		if len(got) == 0 || got[0] != tc.first || len(got) > 3 {
			t.Errorf("Suggest(%q) = %v, want %s first, at most 3", tc.name, got, tc.first)
		}
		for _, n := range got {
			if _, ok := Lookup(n); !ok {
				t.Errorf("Suggest(%q) returns unknown %q", tc.name, n)
			}
		}
	}
	for _, name := range []string{"", "zzzzzzzz", "cpu"} {
		if got := Suggest(name); len(got) != 0 {
			t.Errorf("Suggest(%q) = %v, want nothing", name, got)
		}
	}
}

// SuggestName is what the alert compiler offers for a catalog metric it
// does not know: close misspellings first, then names holding the query,
// shortest first, at most three; nothing for queries under 3 bytes.
func TestSuggestName(t *testing.T) {
	names := slices.Values([]string{"pulse_events_total", "pulse_errors_total", "pulse_sessions_total", "pulse_sessions_open", "pulse_sessions_converted_total"})
	for _, tc := range []struct {
		name string
		want []string
	}{
		{"pulse_event_total", []string{"pulse_events_total"}},
		// Normalised, then 4 edits (len/4) away still counts.
		{"Pulse.Events.Total", []string{"pulse_events_total", "pulse_errors_total"}},
		{"sessions", []string{"pulse_sessions_open", "pulse_sessions_total", "pulse_sessions_converted_total"}},
		{"ab", nil},
		{"zzzzzzzz", nil},
	} {
		if got := SuggestName(tc.name, names); !slices.Equal(got, tc.want) {
			t.Errorf("SuggestName(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}
