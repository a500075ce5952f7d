package retentionbench

import (
	"fmt"
	"strings"
	"time"

	"github.com/pulse-otel/pulse/internal/retention"
)

// Panel is one dashboard panel kind: its PromQL with {s} where each series
// name takes the resolution's suffix (empty for raw, :5m, :1h).
type Panel struct {
	Name string
	Expr string
}

// Panels are the panel kinds of a 2-year dashboard: a daily count, a daily
// gauge, a histogram quantile over the buckets and a ratio KPI (the
// registry's acceptance_rate shape; metricgen names label values key_N).
var Panels = []Panel{
	{"events per day", `sum(increase(pulse_events_total{s}[1d]))`},
	{"active users (1d)", `sum(last_over_time(pulse_users_active{s}{window="1d"}[1d]))`},
	{"event duration p95", `histogram_quantile(0.95, sum by (le) (increase(pulse_event_duration_milliseconds_bucket{s}[1d])))`},
	{"acceptance rate", `sum(increase(pulse_recommendation_responses_total{s}{response="response_0"}[1d])) / sum(increase(pulse_recommendations_total{s}[1d]))`},
}

// Query is p's expression over the series of resolution res.
func (p Panel) Query(res string) string {
	suffix := ""
	if res != retention.Raw {
		suffix = retention.DownsampledName("", res)
	}
	return strings.ReplaceAll(p.Expr, "{s}", suffix)
}

// GrafanaStep is the step Grafana sends for a panel of span at 1,000
// points: span/1000 rounded as Grafana's roundInterval does (the part of
// its table from one minute up), at least min.
func GrafanaStep(span, floor time.Duration) time.Duration {
	iv := span / 1000
	table := []struct{ below, step time.Duration }{
		{90 * time.Second, time.Minute},
		{210 * time.Second, 2 * time.Minute},
		{450 * time.Second, 5 * time.Minute},
		{750 * time.Second, 10 * time.Minute},
		{1050 * time.Second, 15 * time.Minute},
		{1500 * time.Second, 20 * time.Minute},
		{45 * time.Minute, 30 * time.Minute},
		{90 * time.Minute, time.Hour},
		{150 * time.Minute, 2 * time.Hour},
		{270 * time.Minute, 3 * time.Hour},
		{9 * time.Hour, 6 * time.Hour},
		{day, 12 * time.Hour},
		{7 * day, day},
		{21 * day, 7 * day},
		{42 * day, 30 * day},
	}
	step := 365 * day
	for _, r := range table {
		if iv < r.below {
			step = r.step
			break
		}
	}
	return max(step, floor)
}

// Variant is one way of answering the panels: a resolution and a span.
type Variant struct {
	Resolution string
	Span       time.Duration
}

func (v Variant) String() string {
	return fmt.Sprintf("%s over %s", resName(v.Resolution), spanName(v.Span))
}

func resName(res string) string {
	if res == retention.Raw {
		return "raw"
	}
	return "x:" + res
}

func spanName(d time.Duration) string {
	switch {
	case d%(365*day) == 0:
		return fmt.Sprintf("%d y", d/(365*day))
	case d%day == 0:
		return fmt.Sprintf("%d d", d/day)
	}
	return fmt.Sprintf("%d h", d/time.Hour)
}
