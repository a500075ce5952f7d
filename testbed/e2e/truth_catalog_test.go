package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// familyCheck is a catalog family whose value the mix knows: query's
// result, by the label by ("" for one unlabelled value), must equal want.
type familyCheck struct {
	query string
	by    string
	want  map[string]float64
}

// catalogFamily is one row of a docs/metrics.md catalog table.
type catalogFamily struct {
	otel, prom string
	histogram  bool
}

// catalogFamilies reads every family docs/metrics.md lists.
func catalogFamilies(t *testing.T) []catalogFamily {
	t.Helper()
	raw, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []catalogFamily
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, "| `pulse.") {
			continue
		}
		cells := strings.Split(line, " | ")
		prom := strings.Trim(strings.TrimSuffix(cells[len(cells)-1], " |"), "`")
		if !strings.HasPrefix(prom, "pulse_") || len(cells) < 6 {
			continue // another table (histogram buckets)
		}
		out = append(out, catalogFamily{otel: strings.Trim(strings.TrimPrefix(cells[0], "| "), "`"), prom: prom, histogram: strings.Contains(cells[2], "histogram")})
	}
	if len(out) < 80 {
		t.Fatalf("docs/metrics.md lists %d families; the parser missed some", len(out))
	}
	return out
}

// checkCatalog checks that every family of docs/metrics.md has series in
// the store behind api after the mix, and that the families the mix knows
// the value of have it. It returns the problems found.
func checkCatalog(t *testing.T, api string, families []catalogFamily, checks []familyCheck) []string {
	t.Helper()
	var problems []string
	for _, f := range families {
		name := f.prom
		if f.histogram {
			name += "_count"
		}
		// Snapshots sit at their own timestamps, up to 45 minutes back.
		if v, ok := instant(t, api, "count(last_over_time("+name+"[1h]))"); !ok || v == 0 {
			problems = append(problems, fmt.Sprintf("family %s (%s): no series", f.prom, f.otel))
		}
	}
	for _, c := range checks {
		got := vectorBy(t, api, c.query, c.by)
		for k, want := range c.want {
			if want == 0 {
				if _, ok := got[k]; !ok {
					continue // a zero count may have no series
				}
			}
			if g, ok := got[k]; !ok || math.Abs(g-want) > 1e-6*math.Max(1, math.Abs(want)) {
				problems = append(problems, fmt.Sprintf("%s {%s=%q} = %v (found %v), truth %v", c.query, c.by, k, g, ok, want))
			}
		}
		for k, g := range got {
			if _, ok := c.want[k]; !ok && g != 0 {
				problems = append(problems, fmt.Sprintf("%s {%s=%q} = %v, truth: no such series", c.query, c.by, k, g))
			}
		}
	}
	return problems
}

// vectorBy runs an instant query and returns its samples by the value of
// the label by ("" when by is empty).
func vectorBy(t *testing.T, api, query, by string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, s := range samples(t, api, query) {
		out[s.metric[by]] = s.value
	}
	return out
}

type sample struct {
	metric map[string]string
	value  float64
}

// samples runs an instant query and returns every sample.
func samples(t *testing.T, api, query string) []sample {
	t.Helper()
	resp, err := http.Get(api + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	if r.Status != "success" {
		t.Fatalf("query %s: %s", query, r.Error)
	}
	var out []sample
	for _, s := range r.Data.Result {
		str, _ := s.Value[1].(string)
		v, _ := strconv.ParseFloat(str, 64)
		out = append(out, sample{metric: s.Metric, value: v})
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i].metric) < fmt.Sprint(out[j].metric) })
	return out
}
