package dashboards

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
	"github.com/prometheus/prometheus/promql/parser"
)

var registerPlugins = sync.OnceFunc(plugins.RegisterDefaultPlugins)

// Decode reads a compiled dashboard with the SDK's strict decoder (unknown
// fields, wrong types and missing required fields fail) and its Validate.
//
// Two quirks of the SDK (v0.0.22): on success the strict decoder and
// Validate return an empty, non-nil cog.BuildErrors, and the strict decoder
// leaves every panel nil (the panel's own empty BuildErrors counts as a
// failure one level up, which then adds no error). So the strict pass only
// checks, and the dashboard returned comes from the ordinary decoder.
func Decode(b []byte) (GrafanaDashboard, error) {
	registerPlugins()
	var strict GrafanaDashboard
	if err := buildErr(strict.UnmarshalJSONStrict(b)); err != nil {
		return strict, fmt.Errorf("strict decode: %w", err)
	}
	var d GrafanaDashboard
	if err := json.Unmarshal(b, &d); err != nil {
		return d, fmt.Errorf("decode: %w", err)
	}
	if err := buildErr(d.Validate()); err != nil {
		return d, fmt.Errorf("validate: %w", err)
	}
	return d, nil
}

// LintAll runs Lint on every compiled dashboard (by file name) and checks
// that their UIDs are unique.
func LintAll(files map[string][]byte) error {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	uids := map[string]string{}
	var errs []error
	for _, n := range names {
		d, err := Lint(files[n])
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", n, err))
			continue
		}
		uid := deref(d.Uid)
		if prev, ok := uids[uid]; ok {
			errs = append(errs, fmt.Errorf("%s: uid %q is also the uid of %s", n, uid, prev))
		}
		uids[uid] = n
	}
	return errors.Join(errs...)
}

// rateFuncs are the functions whose range should be $__rate_interval.
var rateFuncs = map[string]bool{"rate": true, "irate": true, "increase": true, "delta": true, "idelta": true}

// Lint checks one compiled dashboard the way Grafana's dashboard-linter
// does (it is not installable here), and returns it decoded:
//   - the SDK's strict decoding and Validate pass;
//   - a UID of 1 to 40 characters;
//   - a Prometheus datasource variable named datasource, and every panel
//     and every query uses it (${datasource});
//   - every panel has a title, a description and a valid Grafana unit;
//   - every query is valid PromQL once Grafana's variables are filled in,
//     and every rate(), irate(), increase(), delta() and idelta() reads
//     $__rate_interval;
//   - time series panels show their legend and have a tooltip mode (the
//     SDK's zero values hide the legend);
//   - panels lie within the 24 columns and do not overlap.
func Lint(b []byte) (GrafanaDashboard, error) {
	d, err := Decode(b)
	if err != nil {
		return d, err
	}
	var errs []error
	failf := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !uidPattern.MatchString(deref(d.Uid)) {
		failf("uid %q: must be 1 to 40 letters, digits, '-' or '_'", deref(d.Uid))
	}
	hasVar := false
	for _, v := range d.Templating.List {
		if v.Name == DatasourceVar {
			if v.Type != "datasource" || v.Query == nil || deref(v.Query.String) != "prometheus" {
				failf("templating: variable %s must be a Prometheus datasource variable", DatasourceVar)
			}
			hasVar = true
		}
	}
	if !hasVar {
		failf("templating: no datasource variable %q", DatasourceVar)
	}
	var placed []dashboard.GridPos
	for i, pr := range d.Panels {
		p := pr.Panel
		if p == nil {
			failf("panels[%d]: a row; Pulse dashboards have none", i)
			continue
		}
		name := fmt.Sprintf("panel %q", deref(p.Title))
		if strings.TrimSpace(deref(p.Title)) == "" {
			name = fmt.Sprintf("panels[%d]", i)
			failf("%s: no title", name)
		}
		if strings.TrimSpace(deref(p.Description)) == "" {
			failf("%s: no description", name)
		}
		if !usesVar(p.Datasource) {
			failf("%s: datasource must be ${%s}", name, DatasourceVar)
		}
		unit := ""
		if p.FieldConfig != nil {
			unit = deref(p.FieldConfig.Defaults.Unit)
		}
		if !ValidUnit(unit) {
			failf("%s: unit %q is not a Grafana unit", name, unit)
		}
		if len(p.Targets) == 0 {
			failf("%s: no queries", name)
		}
		for j, t := range p.Targets {
			q, ok := t.(*prometheus.Dataquery)
			if !ok {
				failf("%s: targets[%d]: not a Prometheus query", name, j)
				continue
			}
			if !usesVar(q.Datasource) {
				failf("%s: targets[%d]: datasource must be ${%s}", name, j, DatasourceVar)
			}
			if err := lintExpr(q.Expr); err != nil {
				failf("%s: targets[%d]: %v", name, j, err)
			}
		}
		if p.Type == "timeseries" {
			if err := lintTimeseries(p.Options); err != nil {
				failf("%s: %v", name, err)
			}
		}
		g := p.GridPos
		if g == nil {
			failf("%s: no gridPos", name)
			continue
		}
		if g.W < 1 || g.H < 1 || g.X+g.W > GrafanaColumns {
			failf("%s: gridPos x=%d w=%d h=%d is outside Grafana's %d columns", name, g.X, g.W, g.H, GrafanaColumns)
		}
		for _, o := range placed {
			if overlaps(pos(o), pos(*g)) {
				failf("%s: gridPos overlaps another panel", name)
			}
		}
		placed = append(placed, *g)
	}
	return d, errors.Join(errs...)
}

// lintTimeseries checks a time series panel's legend and tooltip options.
func lintTimeseries(options any) error {
	o, ok := options.(*timeseries.Options)
	if !ok {
		return fmt.Errorf("options: not time series options (%T)", options)
	}
	if !o.Legend.ShowLegend {
		return errors.New("options.legend.showLegend: false hides which line is which")
	}
	switch o.Tooltip.Mode {
	case common.TooltipDisplayModeSingle, common.TooltipDisplayModeMulti, common.TooltipDisplayModeNone:
	default:
		return fmt.Errorf("options.tooltip.mode %q: must be single, multi or none", o.Tooltip.Mode)
	}
	return nil
}

func pos(g dashboard.GridPos) Position {
	return Position{X: int(g.X), Y: int(g.Y), Width: int(g.W), Height: int(g.H)}
}

// usesVar reports whether ref is the datasource variable.
func usesVar(ref *common.DataSourceRef) bool {
	if ref == nil {
		return false
	}
	uid := deref(ref.Uid)
	return uid == "${"+DatasourceVar+"}" || uid == "$"+DatasourceVar
}

func lintExpr(expr string) error {
	if err := CheckPromQL(expr); err != nil {
		return err
	}
	// Mark $__rate_interval with a range no other variable fills in, then
	// look at every rate-like call's range.
	const marker = 7777 * time.Second
	marked := strings.ReplaceAll(expr, RateIntervalMS, "0")
	marked = strings.ReplaceAll(marked, RateInterval, promDuration(marker))
	e, err := promParser.ParseExpr(Substitute(marked, time.Hour, time.Minute))
	if err != nil {
		return err
	}
	var bad []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		call, ok := n.(*parser.Call)
		if !ok || !rateFuncs[call.Func.Name] {
			return nil
		}
		for _, a := range call.Args {
			if ms, ok := a.(*parser.MatrixSelector); ok && ms.Range != marker {
				bad = append(bad, call.Func.Name)
			}
		}
		return nil
	})
	if len(bad) > 0 {
		return fmt.Errorf("%s() must read [%s], so the window follows the panel's resolution", strings.Join(bad, "(), "), RateInterval)
	}
	return nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
