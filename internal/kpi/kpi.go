// Package kpi is the KPI registry: named PromQL definitions over the metric
// catalog of docs/metrics.md (the analytics receiver's snapshot metrics and
// the analytics_metrics connector's event metrics, under the Prometheus
// names the prometheus_remote_write exporter writes by default). Alert
// definitions and dashboards refer to a KPI by name; the rule compiler turns
// the name and a window into PromQL with Query.
//
// Windows are trailing: a KPI evaluated at time t with window 1d covers
// (t-1d, t]. For calendar days, evaluate at midnight UTC.
package kpi // import "github.com/pulse-otel/pulse/internal/kpi"

import (
	"fmt"
	"iter"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/pulse-otel/pulse/internal/catalog"
)

// Def is one named KPI: a PromQL definition.
type Def struct {
	// Name is the snake_case name alert definitions and dashboards use.
	Name string
	// Description says what the expression computes, and where it differs
	// from the seed field it covers.
	Description string
	// Unit is the unit of the result, in the catalog's UCUM style ("1" for
	// ratios 0 to 1, "s", "ms", "{user}", ...); empty for pure numbers.
	Unit string
	// Expr is the PromQL expression; $window stands for the window and
	// $window_seconds for its length in seconds.
	Expr string
	// Window is the default window ("5m", "1d"), empty when Expr has no
	// $window.
	Window string
	// Windows, when set, are the only windows Query accepts: the KPI reads
	// pulse_users_active, which exists for the connector's active-user
	// windows only.
	Windows []string
	// Metrics are the Prometheus series names Expr reads, sorted: series
	// of internal/catalog (histograms with their _bucket, _sum or _count
	// suffix), checked at init.
	Metrics []string
	// SeedField is the seed data model field the KPI covers, as
	// table.path (dailyAnalyticsSummary.userMetrics.activeUsers,
	// aiModelMetrics.accuracyScore, ...); empty when it covers none.
	SeedField string
}

const (
	windowVar        = "$window"
	windowSecondsVar = "$window_seconds"
)

// All returns every KPI, sorted by name.
func All() []Def {
	out := make([]Def, len(registry))
	for i, k := range registry {
		out[i] = k.clone()
	}
	return out
}

// Names returns the names of all KPIs, sorted.
func Names() []string {
	out := make([]string, len(registry))
	for i, k := range registry {
		out[i] = k.Name
	}
	return out
}

// Lookup returns the KPI called name.
func Lookup(name string) (Def, bool) {
	i, ok := sort.Find(len(registry), func(i int) int { return strings.Compare(name, registry[i].Name) })
	if !ok {
		return Def{}, false
	}
	return registry[i].clone(), true
}

func (k Def) clone() Def {
	k.Windows = slices.Clone(k.Windows)
	k.Metrics = slices.Clone(k.Metrics)
	return k
}

// Query returns Expr with $window replaced by window, a Prometheus duration
// (5m, 1h, 1d, 7d, 1h30m), and $window_seconds by its length in seconds; an
// empty window selects the default. Windows are
// written in Prometheus' canonical form (24h becomes 1d). It fails for an
// invalid or non-positive duration, for a window a KPI with Windows does not
// have, and for any window on a KPI whose Expr has none.
func (k Def) Query(window string) (string, error) {
	if !strings.Contains(k.Expr, windowVar) {
		if window != "" {
			return "", fmt.Errorf("kpi %s: takes no window, got %q", k.Name, window)
		}
		return k.Expr, nil
	}
	if window == "" {
		window = k.Window
	}
	w, err := k.resolveWindow(window)
	if err != nil {
		return "", err
	}
	d, err := model.ParseDuration(w)
	if err != nil {
		return "", fmt.Errorf("kpi %s: window %q: %w", k.Name, w, err)
	}
	q := strings.ReplaceAll(k.Expr, windowSecondsVar, strconv.FormatFloat(time.Duration(d).Seconds(), 'f', -1, 64))
	return strings.ReplaceAll(q, windowVar, w), nil
}

func (k Def) resolveWindow(window string) (string, error) {
	d, err := model.ParseDuration(window)
	if err != nil {
		return "", fmt.Errorf("kpi %s: window %q: %w", k.Name, window, err)
	}
	if d <= 0 {
		return "", fmt.Errorf("kpi %s: window %q: must be positive", k.Name, window)
	}
	if len(k.Windows) == 0 {
		return d.String(), nil
	}
	for _, w := range k.Windows {
		if wd, err := model.ParseDuration(w); err == nil && wd == d {
			return w, nil
		}
	}
	return "", fmt.Errorf("kpi %s: window %q is not available; one of %s (the connector's active-user windows)", k.Name, window, strings.Join(k.Windows, ", "))
}

// Suggest returns up to three KPI names close to name (by edit distance, or
// containing it), closest first, for "unknown KPI" errors.
func Suggest(name string) []string {
	q := normalize(name)
	if q == "" {
		return nil
	}
	return Closest(q, func(yield func(string) bool) {
		for _, k := range registry {
			if !yield(k.Name) {
				return
			}
		}
	}, max(2, len(q)/3))
}

// SuggestName returns up to three of names close to name, for "unknown
// name" errors elsewhere (the alert compiler's catalog metrics): name is
// normalised as KPI names are, and names shorter than 3 bytes get none.
func SuggestName(name string, names iter.Seq[string]) []string {
	q := normalize(name)
	if len(q) < 3 {
		return nil
	}
	return Closest(q, names, max(2, len(q)/4))
}

// Closest returns up to three of names within limit edits of q, closest
// first, then (for q of 3 bytes or more) names that contain q, shortest
// first; ties by name.
func Closest(q string, names iter.Seq[string], limit int) []string {
	type cand struct {
		name string
		dist int
	}
	var cands []cand
	for n := range names {
		d := EditDistance(q, n)
		switch {
		case d <= limit:
		case len(q) >= 3 && strings.Contains(n, q):
			// A fragment ("acceptance", "p95"): rank after close misspellings.
			d = limit + 1 + len(n) - len(q)
		default:
			continue
		}
		cands = append(cands, cand{n, d})
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].dist != cands[j].dist {
			return cands[i].dist < cands[j].dist
		}
		return cands[i].name < cands[j].name
	})
	var out []string
	for _, c := range cands[:min(3, len(cands))] {
		out = append(out, c.name)
	}
	return out
}

// normalize lower-cases name and maps the separators people use instead of
// "_" (space, "-", ".") to "_".
func normalize(name string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.':
			return '_'
		}
		return r
	}, strings.ToLower(strings.TrimSpace(name)))
}

// EditDistance is the Levenshtein distance between a and b, in bytes (KPI
// and metric names are ASCII). Alert validation uses it to suggest names.
func EditDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// storedTelemetry are the collector's own counters (its :8888 endpoint)
// that promstore's telemetry option stores under these names, with their
// labels (docs/operations.md). KPIs may read them besides internal/catalog,
// which lists what the pipeline emits as data.
var storedTelemetry = map[string][]string{
	"otelcol_receiver_analytics_accepted_items": {"endpoint", "platform"},
	"otelcol_receiver_analytics_rejected_items": {"endpoint", "reason", "field", "platform"},
}

// StoredTelemetry returns the collector telemetry series KPIs may read,
// with their labels.
func StoredTelemetry() map[string][]string {
	out := make(map[string][]string, len(storedTelemetry))
	for n, ls := range storedTelemetry {
		out[n] = slices.Clone(ls)
	}
	return out
}

// ReadsStoredTelemetry reports whether k reads a series of
// StoredTelemetry: it has a value only in a store that keeps the
// collector's telemetry (promstore with its telemetry option).
func (k Def) ReadsStoredTelemetry() bool {
	return slices.ContainsFunc(k.Metrics, func(m string) bool { _, ok := storedTelemetry[m]; return ok })
}

// init holds the registry to internal/catalog: every name in a KPI's
// Metrics is a series Pulse stores (a histogram's _bucket, _sum or _count,
// a sum's _total). TestKPIQueriesParseAndReadOnlyCatalogMetrics checks
// that Metrics is what Expr reads.
func init() {
	for _, k := range registry {
		for _, m := range k.Metrics {
			if _, ok := storedTelemetry[m]; ok {
				continue
			}
			if def, ok := catalog.Lookup(m); !ok || !slices.Contains(def.SeriesNames(), m) {
				panic("kpi " + k.Name + ": " + m + " is not a series of internal/catalog")
			}
		}
	}
}
