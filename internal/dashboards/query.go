package dashboards

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/pulse-otel/pulse/internal/kpi"
)

// Query is what one panel shows: the PromQL Grafana sends (with Grafana's
// variables in it), the legend, the Grafana unit, the title and the
// description.
type Query struct {
	Expr, Legend, Unit, Title, Description string
}

// Grafana's variables for the rate window.
const (
	RateInterval   = "$__rate_interval"
	RateIntervalMS = "$__rate_interval_ms"
)

// IsRateKPI reports whether k is a per-second rate over its window (its
// Expr divides by $window_seconds). On a dashboard such a KPI is drawn over
// Grafana's $__rate_interval, as a rate() query would be, so the line follows
// the panel's resolution.
func IsRateKPI(k kpi.Def) bool { return strings.Contains(k.Expr, "$window_seconds") }

// Query returns the panel query of w.
func (w Widget) Query() (Query, error) {
	c := w.Config
	if c.KPI == "" {
		return Query{Expr: c.PromQL, Legend: c.Legend, Unit: c.Unit, Title: c.Title, Description: c.Description}, nil
	}
	k, ok := kpi.Lookup(c.KPI)
	if !ok {
		msg := fmt.Sprintf("unknown KPI %q", c.KPI)
		if s := kpi.Suggest(c.KPI); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, ", ") + "?"
		}
		return Query{}, fmt.Errorf("%s (docs/metrics.md lists the KPIs)", msg)
	}
	q := Query{Unit: grafanaUnit(k.Unit), Title: c.Title, Description: k.Description}
	window := c.Window
	if IsRateKPI(k) {
		if window != "" && window != RateInterval {
			return Query{}, fmt.Errorf("kpi %s is a per-second rate: its window is Grafana's %s (leave window out), got %q", k.Name, RateInterval, window)
		}
		window = RateInterval
		q.Expr = strings.ReplaceAll(k.Expr, "$window_seconds", "("+RateIntervalMS+" / 1000)")
		q.Expr = strings.ReplaceAll(q.Expr, "$window", RateInterval)
	} else {
		expr, err := k.Query(window)
		if err != nil {
			return Query{}, err
		}
		q.Expr = expr
		if window == "" {
			window = k.Window
		}
	}
	if q.Title == "" {
		q.Title = title(k.Name, window)
	}
	if c.Description != "" {
		q.Description = c.Description
	}
	if c.Unit != "" {
		q.Unit = c.Unit
	}
	q.Legend = c.Legend
	if q.Legend == "" {
		q.Legend = groupingLegend(q.Expr)
	}
	return q, nil
}

// groupingLegend names a KPI's series by the labels its outermost
// aggregation keeps (`sum by (unit) (...)` gives "{{unit}}"), so a line
// reads "EUR" rather than {unit="EUR"}; "" when it keeps none.
func groupingLegend(expr string) string {
	e, err := promParser.ParseExpr(Substitute(expr, time.Hour, time.Minute))
	if err != nil {
		return ""
	}
	for {
		p, ok := e.(*parser.ParenExpr)
		if !ok {
			break
		}
		e = p.Expr
	}
	agg, ok := e.(*parser.AggregateExpr)
	if !ok || agg.Without || len(agg.Grouping) == 0 {
		return ""
	}
	parts := make([]string, len(agg.Grouping))
	for i, l := range agg.Grouping {
		parts[i] = "{{" + l + "}}"
	}
	return strings.Join(parts, " ")
}

// title makes "Acceptance rate (1d)" of acceptance_rate and 1d.
func title(name, window string) string {
	t := strings.ReplaceAll(name, "_", " ")
	t = strings.ToUpper(t[:1]) + t[1:]
	if window != "" && window != RateInterval {
		t += " (" + window + ")"
	}
	return t
}

// grafanaVar matches Grafana's built-in interval and range variables, in
// $name and ${name} form.
var grafanaVar = regexp.MustCompile(`\$\{?(__rate_interval_ms|__rate_interval|__interval_ms|__interval|__range_ms|__range_s|__range)\}?`)

// Substitute fills in Grafana's built-in variables as Grafana would for a
// query over rng at step (rate interval = max(step + scrape, 4 * scrape),
// with the datasource's 15 s scrape interval).
func Substitute(expr string, rng, step time.Duration) string {
	rate := max(step+ScrapeInterval, 4*ScrapeInterval)
	return grafanaVar.ReplaceAllStringFunc(expr, func(m string) string {
		name := strings.Trim(m, "${}")
		switch name {
		case "__rate_interval":
			return promDuration(rate)
		case "__rate_interval_ms":
			return strconv.FormatInt(rate.Milliseconds(), 10)
		case "__interval":
			return promDuration(step)
		case "__interval_ms":
			return strconv.FormatInt(step.Milliseconds(), 10)
		case "__range":
			return promDuration(rng)
		case "__range_s":
			return strconv.FormatInt(int64(rng.Seconds()), 10)
		default: // __range_ms
			return strconv.FormatInt(rng.Milliseconds(), 10)
		}
	})
}

// ScrapeInterval is the datasource's scrape interval (timeInterval), the
// connector's export interval.
const ScrapeInterval = 15 * time.Second

func promDuration(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) + "s" }

// CheckPromQL parses expr with Grafana's variables filled in.
func CheckPromQL(expr string) error {
	if strings.TrimSpace(expr) == "" {
		return fmt.Errorf("empty query")
	}
	if _, err := promParser.ParseExpr(Substitute(expr, time.Hour, time.Minute)); err != nil {
		return fmt.Errorf("invalid PromQL once Grafana's variables are filled in: %w", err)
	}
	return nil
}

var promParser = parser.NewParser(parser.Options{})
