package alertrules

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/template"

	"github.com/pulse-otel/pulse/internal/kpi"
)

// The promtool unit tests (CompileTests) feed every rule synthetic series
// of its metric that put the metric at a chosen value, and check that the
// alert fires after `for` when the value crosses the threshold, stays silent
// when it does not, and that the escalation alert fires after escalateAfter
// more minutes.
//
// Input series have a sample every 15 s (the connector's full export
// interval) and the rules are evaluated every 10 s. Values and annotations
// are checked at times that are multiples of 10 s but not of 15 s, so that
// no sample lies on the edge of a range: Prometheus 2 (closed ranges, as in
// Debian's promtool) and 3 (left-open ranges) then see the same samples.

const (
	sampleStep = 15 // seconds between input samples
	evalStep   = 10 // seconds between rule evaluations
)

// shape synthesises the series of a metric at value v for a window of w
// minutes, n+1 samples long.
type shape struct {
	series func(v float64, w, n int) []inputSeries
	// labels are the labels of the metric's result series (besides the
	// rule's own).
	labels map[string]string
	// bounded metrics are ratios from 0 to 1.
	bounded bool
	// warm is true when the value reaches v only once a whole window of
	// samples is in range (sums and rates of a counter, sum_over_time);
	// false when it has it from the first one or two samples (gauges and
	// ratios of two counters).
	warm bool
	// lag is when, in seconds, the value is there at the latest when warm
	// is false: 0 for gauges, 20 for counters (rate needs two samples).
	lag int
}

type inputSeries struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

func selector(metric string, labels map[string]string) string {
	if len(labels) == 0 {
		return metric
	}
	keys := slices.Sorted(maps.Keys(labels))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, labels[k])
	}
	return metric + "{" + strings.Join(parts, ",") + "}"
}

// num formats f with 12 significant digits at most, so that float noise
// (0.7500000000000007) does not reach the files.
func num(f float64) string {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 12, 64), 64)
	return strconv.FormatFloat(r, 'g', -1, 64)
}

// counter is a counter from 0 growing by perSecond.
func counter(metric string, labels map[string]string, perSecond float64, n int) inputSeries {
	return inputSeries{selector(metric, labels), fmt.Sprintf("0+%sx%d", num(perSecond*sampleStep), n)}
}

func gauge(metric string, labels map[string]string, v float64, n int) inputSeries {
	return inputSeries{selector(metric, labels), fmt.Sprintf("%s+0x%d", num(v), n)}
}

var (
	modelLabels   = map[string]string{"model_id": "recommender", "model_version": "1.0.0", "model_type": "classifier"}
	serviceLabels = map[string]string{"job": "checkout", "environment": "production", "granularity": "hourly"}
)

func with(base map[string]string, kv ...string) map[string]string {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]string{}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// ratioShape: the share of the counter with numLabels in the sum of it and
// the counter with restLabels.
func ratioShape(metric string, numLabels, restLabels map[string]string) shape {
	return shape{bounded: true, lag: 20, series: func(v float64, _, n int) []inputSeries {
		return []inputSeries{counter(metric, numLabels, v, n), counter(metric, restLabels, 1-v, n)}
	}}
}

// shareShape: the share of counter num in the sum of it and counter rest
// (accepted over accepted + rejected).
func shareShape(num string, numLabels map[string]string, rest string, restLabels map[string]string) shape {
	return shape{bounded: true, lag: 20, series: func(v float64, _, n int) []inputSeries {
		return []inputSeries{counter(num, numLabels, v, n), counter(rest, restLabels, 1-v, n)}
	}}
}

// quotientShape: counter num over counter den (a mean from _sum and
// _count, or a rate of two different counters).
func quotientShape(num string, numLabels map[string]string, den string, denLabels map[string]string, bounded bool) shape {
	return shape{bounded: bounded, lag: 20, series: func(v float64, _, n int) []inputSeries {
		return []inputSeries{counter(num, numLabels, v, n), counter(den, denLabels, 1, n)}
	}}
}

// rateShape: sum(rate(metric[w])).
func rateShape(metric string, labels map[string]string) shape {
	return shape{warm: true, series: func(v float64, _, n int) []inputSeries {
		return []inputSeries{counter(metric, labels, v, n)}
	}}
}

// increaseShape: sum(increase(metric[w])).
func increaseShape(metric string, labels map[string]string) shape {
	return shape{warm: true, series: func(v float64, w, n int) []inputSeries {
		return []inputSeries{counter(metric, labels, v/float64(w*60), n)}
	}}
}

// gaugeShape: an aggregation or *_over_time of a constant gauge; out are
// the labels of the result.
func gaugeShape(metric string, labels, out map[string]string, bounded bool) shape {
	return shape{bounded: bounded, labels: out, series: func(v float64, _, n int) []inputSeries {
		return []inputSeries{gauge(metric, labels, v, n)}
	}}
}

// sumOverTimeShape: sum(sum_over_time(metric[w])).
func sumOverTimeShape(metric string, labels map[string]string) shape {
	return shape{warm: true, series: func(v float64, w, n int) []inputSeries {
		return []inputSeries{gauge(metric, labels, v/float64(w*60/sampleStep), n)}
	}}
}

// weightedShape: the mean of gauge value weighted by gauge weight.
func weightedShape(value string, valueLabels map[string]string, weight string, weightLabels map[string]string, bounded bool) shape {
	return shape{bounded: bounded, series: func(v float64, _, n int) []inputSeries {
		return []inputSeries{gauge(value, valueLabels, v, n), gauge(weight, weightLabels, 10, n)}
	}}
}

// kpiShapes are the KPIs the tests can synthesise series for. The others
// (histogram quantiles: event_duration_p95, freshness_p95, timeliness_p95;
// cohort_retention; returning_users, avg_sessions_per_user,
// avg_time_on_site, which mix the active-user gauge with counters; revenue)
// get no tests.
var kpiShapes = map[string]shape{
	"error_rate": ratioShape("pulse_events_total",
		map[string]string{"event_type": "error_tracking"}, map[string]string{"event_type": "page_view"}),
	"acceptance_rate": quotientShape("pulse_recommendation_responses_total", with(modelLabels, "response", "accepted"),
		"pulse_recommendations_total", modelLabels, true),
	"modification_rate": quotientShape("pulse_recommendation_responses_total", with(modelLabels, "response", "modified"),
		"pulse_recommendations_total", modelLabels, true),
	"data_completeness": ratioShape("pulse_quality_fields_total",
		map[string]string{"field": "user_id", "present": "true"}, map[string]string{"field": "user_id", "present": "false"}),
	"data_accuracy": shareShape("otelcol_receiver_analytics_accepted_items", map[string]string{"endpoint": "events", "platform": "web"},
		"otelcol_receiver_analytics_rejected_items", map[string]string{"endpoint": "events", "platform": "web", "field": "action", "reason": "missing"}),
	"timeliness_share": quotientShape("pulse_event_timeliness_seconds_bucket", map[string]string{"platform": "web", "le": "1"},
		"pulse_event_timeliness_seconds_count", map[string]string{"platform": "web"}, true),
	"bounce_rate": quotientShape("pulse_sessions_bounced_total", nil, "pulse_session_duration_seconds_count", nil, true),
	"conversion_rate": quotientShape("pulse_sessions_converted_total", map[string]string{"platform": "web"},
		"pulse_sessions_total", map[string]string{"platform": "web"}, true),
	"avg_session_duration":      quotientShape("pulse_session_duration_seconds_sum", nil, "pulse_session_duration_seconds_count", nil, false),
	"avg_confidence":            quotientShape("pulse_recommendation_confidence_sum", nil, "pulse_recommendation_confidence_count", nil, true),
	"avg_quality_score":         quotientShape("pulse_quality_score_sum", nil, "pulse_quality_score_count", nil, false),
	"avg_recommendation_rating": quotientShape("pulse_recommendation_rating_sum", nil, "pulse_recommendation_rating_count", nil, false),
	"avg_order_value": quotientShape("pulse_conversion_value_total", map[string]string{"goal_type": "purchase"},
		"pulse_conversions_valued_total", map[string]string{"goal_type": "purchase"}, false),
	"events_per_second":    rateShape("pulse_events_total", map[string]string{"event_type": "page_view"}),
	"overflow_rate":        increaseShape("pulse_connector_overflow_total", map[string]string{"metric": "pulse.events", "label": "page"}),
	"page_views":           increaseShape("pulse_page_views_total", map[string]string{"platform": "web"}),
	"unique_page_views":    increaseShape("pulse_page_unique_views_total", map[string]string{"platform": "web"}),
	"new_users":            increaseShape("pulse_users_new_total", map[string]string{"platform": "web"}),
	"total_users":          gaugeShape("pulse_users_seen", nil, nil, false),
	"recommendation_count": increaseShape("pulse_recommendations_total", modelLabels),
	"transactions":         increaseShape("pulse_conversions_valued_total", map[string]string{"goal_type": "purchase"}),
	"subscription_changes": increaseShape("pulse_conversions_total", map[string]string{"goal_type": "subscription"}),
	"purchase_revenue":     increaseShape("pulse_conversion_value_total", map[string]string{"goal_type": "purchase"}),
	"p95_response_time": gaugeShape("pulse_system_response_time_milliseconds",
		with(serviceLabels, "stat", "p95"), nil, false),
	"uptime":     gaugeShape("pulse_system_uptime_percent", serviceLabels, nil, false),
	"throughput": gaugeShape("pulse_system_requests_rate_per_second", serviceLabels, nil, false),
	"system_error_rate": weightedShape("pulse_system_error_rate_ratio", serviceLabels,
		"pulse_system_requests_rate_per_second", serviceLabels, true),
	"avg_response_time": weightedShape("pulse_system_response_time_milliseconds", with(serviceLabels, "stat", "average"),
		"pulse_system_requests_rate_per_second", serviceLabels, false),
	"safety_violations": sumOverTimeShape("pulse_ai_model_safety_violations", modelLabels),
	"drift_score":       gaugeShape("pulse_ai_model_drift_score", modelLabels, modelLabels, false),
	"model_accuracy":    gaugeShape("pulse_ai_model_accuracy_ratio", modelLabels, modelLabels, true),
	"model_precision":   gaugeShape("pulse_ai_model_precision_ratio", modelLabels, modelLabels, true),
	"model_recall":      gaugeShape("pulse_ai_model_recall_ratio", modelLabels, modelLabels, true),
	"model_f1":          gaugeShape("pulse_ai_model_f1_ratio", modelLabels, modelLabels, true),
	"model_error_rate":  gaugeShape("pulse_ai_model_error_rate_ratio", modelLabels, modelLabels, true),
	"model_throughput":  gaugeShape("pulse_ai_model_throughput_per_second", modelLabels, modelLabels, false),
	"model_latency":     gaugeShape("pulse_ai_model_prediction_latency_milliseconds", modelLabels, modelLabels, false),
	"model_latency_p95": gaugeShape("pulse_ai_model_prediction_latency_milliseconds", modelLabels, modelLabels, false),
}

// CoveredKPIs returns the KPIs CompileTests can write tests for, sorted.
func CoveredKPIs() []string {
	out := slices.Sorted(maps.Keys(kpiShapes))
	return append(out, "active_users")
}

// shapeOf is the shape of the rule's metric, or why there is none.
func (r *Rule) shapeOf() (shape, string) {
	m := r.Condition.Metric
	var s shape
	if _, ok := kpi.Lookup(m); ok {
		var found bool
		s, found = kpiShapes[m]
		if m == "active_users" {
			s, found = gaugeShape("pulse_users_active", map[string]string{"window": window(r.Condition.TimeWindow)}, nil, false), true
		}
		if !found {
			return shape{}, fmt.Sprintf("no input series synthesiser for KPI %s", m)
		}
	} else {
		switch catalog[m] {
		case kindGauge:
			s = gaugeShape(m, nil, nil, strings.HasSuffix(m, "_ratio"))
		case kindCounter:
			s = rateShape(m, nil)
		default:
			return shape{}, fmt.Sprintf("unknown metric %s", m)
		}
	}
	if r.PromQL != "" {
		// The expert expression may need whole windows: be conservative.
		s.warm = true
	}
	return s, ""
}

// caseValues picks the values of the metric in the firing and the silent
// test cases.
func caseValues(op string, t float64, bounded bool) (fire, silent float64, why string) {
	switch op {
	case ">":
		switch {
		case t < 0:
			return 0, 0, "the metric is never below a negative threshold"
		case bounded && t >= 1:
			return 0, 0, "a ratio is never above 1"
		case bounded:
			return (t + 1) / 2, t / 2, ""
		case t == 0:
			return 1, 0, ""
		}
		return 2 * t, t / 2, ""
	case "<":
		switch {
		case t <= 0:
			return 0, 0, "the metric is never below 0"
		case bounded && t > 1:
			return 0, 0, "a ratio is always below a threshold above 1"
		case bounded:
			return t / 2, (t + 1) / 2, ""
		}
		return t / 2, 2 * t, ""
	default: // "="
		switch {
		case t < 0:
			return 0, 0, "the metric is never negative"
		case bounded && t > 1:
			return 0, 0, "a ratio is never above 1"
		case t == 0 && bounded:
			return 0, 0.5, ""
		case t == 0:
			return 0, 1, ""
		}
		return t, t / 2, ""
	}
}

type unitTestFile struct {
	RuleFiles          []string    `yaml:"rule_files"`
	EvaluationInterval string      `yaml:"evaluation_interval"`
	Tests              []testGroup `yaml:"tests"`
}

type testGroup struct {
	Name          string        `yaml:"name"`
	Interval      string        `yaml:"interval"`
	InputSeries   []inputSeries `yaml:"input_series"`
	AlertRuleTest []alertTest   `yaml:"alert_rule_test"`
}

type alertTest struct {
	EvalTime  string     `yaml:"eval_time"`
	Alertname string     `yaml:"alertname"`
	ExpAlerts []expAlert `yaml:"exp_alerts"`
}

type expAlert struct {
	ExpLabels      map[string]string `yaml:"exp_labels"`
	ExpAnnotations map[string]string `yaml:"exp_annotations"`
}

func checkTime(sec int) bool { return sec%evalStep == 0 && sec%sampleStep != 0 }

// nextCheck is the first check time at or after sec.
func nextCheck(sec int) int {
	sec = max(sec, 0)
	for !checkTime(sec) {
		sec++
	}
	return sec
}

// prevCheck is the last check time at or before sec, or -1.
func prevCheck(sec int) int {
	for sec > 0 && !checkTime(sec) {
		sec--
	}
	if sec <= 0 {
		return -1
	}
	return sec
}

func dur(sec int) string { return model.Duration(time.Duration(sec) * time.Second).String() }

// expected is the alert the rule's alert (escalated or not) fires at value v.
func (r *Rule) expected(s shape, v float64, escalated bool) (expAlert, error) {
	lbls := with(s.labels, LabelSeverity, r.Severity(), LabelRuleID, r.RuleID)
	if escalated {
		lbls[LabelEscalation] = "true"
	}
	ann := map[string]string{}
	for k, text := range r.annotations() {
		out, err := expandTemplate(text, s.labels, v)
		if err != nil {
			return expAlert{}, r.fieldErr("", "annotation %s: %v", k, err)
		}
		ann[k] = out
	}
	return expAlert{ExpLabels: lbls, ExpAnnotations: ann}, nil
}

// expandTemplate expands an annotation as the Prometheus rules manager does.
func expandTemplate(text string, labels map[string]string, v float64) (string, error) {
	defs := "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"
	data := template.AlertTemplateData(labels, nil, "", promql.Sample{F: v})
	e := template.NewTemplateExpander(context.Background(), defs+text, "__alert_test", data, 0, nil, nil, nil)
	return e.Expand()
}

// ruleTests are the test groups of one rule, or why it has none.
func (r *Rule) ruleTests() ([]testGroup, string, error) {
	s, why := r.shapeOf()
	if why != "" {
		return nil, why, nil
	}
	c := r.Condition
	fire, silent, why := caseValues(c.Operator, c.Threshold, s.bounded)
	if why != "" {
		return nil, fmt.Sprintf("no firing case for %s %s: %s", c.Operator, formatFloat(c.Threshold), why), nil
	}
	w := c.TimeWindow * 60
	tMin, tMax := 0, s.lag // when the expression is true at the earliest and latest
	if s.warm {
		tMax = w + 20
	}
	esc := 0
	if r.Escalation != nil {
		esc = r.Escalation.EscalateAfter * 60
	}
	t1 := nextCheck(tMax + w + evalStep)
	last := t1
	var t2 int
	if r.Escalation != nil {
		t2 = nextCheck(tMax + w + esc + evalStep)
		last = t2
	}
	n := (last + 120) / sampleStep
	name := AlertName(r.RuleID)
	escName := name + escalatedSuffix
	firing, err := r.expected(s, fire, false)
	if err != nil {
		return nil, "", err
	}
	op := c.Operator
	desc := func(v float64) string { return fmt.Sprintf("%s %s %s", num(v), op, formatFloat(c.Threshold)) }

	fireCase := testGroup{
		Name:        fmt.Sprintf("%s: %s %s, fires after %s", r.RuleID, c.Metric, desc(fire), window(c.TimeWindow)),
		Interval:    dur(sampleStep),
		InputSeries: s.series(fire, c.TimeWindow, n),
	}
	if t0 := prevCheck(tMin + w - 1); t0 > 0 {
		fireCase.AlertRuleTest = append(fireCase.AlertRuleTest, alertTest{EvalTime: dur(t0), Alertname: name})
	}
	fireCase.AlertRuleTest = append(fireCase.AlertRuleTest, alertTest{EvalTime: dur(t1), Alertname: name, ExpAlerts: []expAlert{firing}})
	if r.Escalation != nil && t1 < tMin+w+esc {
		fireCase.AlertRuleTest = append(fireCase.AlertRuleTest, alertTest{EvalTime: dur(t1), Alertname: escName})
	}

	silentName := "stays silent"
	if op == "=" {
		silentName = "not equal, stays silent"
	}
	silentCase := testGroup{
		Name:        fmt.Sprintf("%s: %s %s, %s", r.RuleID, c.Metric, num(silent), silentName),
		Interval:    dur(sampleStep),
		InputSeries: s.series(silent, c.TimeWindow, n),
		AlertRuleTest: []alertTest{
			{EvalTime: dur(t1), Alertname: name},
		},
	}
	out := []testGroup{fireCase, silentCase}
	if r.Escalation != nil {
		silentCase.AlertRuleTest = append(silentCase.AlertRuleTest,
			alertTest{EvalTime: dur(t2), Alertname: name},
			alertTest{EvalTime: dur(t2), Alertname: escName})
		out[1] = silentCase
		escalated, err := r.expected(s, fire, true)
		if err != nil {
			return nil, "", err
		}
		escCase := testGroup{
			Name:        fmt.Sprintf("%s: %s %s, escalates after %s more", r.RuleID, c.Metric, desc(fire), window(r.Escalation.EscalateAfter)),
			Interval:    dur(sampleStep),
			InputSeries: s.series(fire, c.TimeWindow, n),
		}
		if tp := prevCheck(tMin + w + esc - 1); tp > 0 {
			escCase.AlertRuleTest = append(escCase.AlertRuleTest, alertTest{EvalTime: dur(tp), Alertname: escName})
		}
		escCase.AlertRuleTest = append(escCase.AlertRuleTest,
			alertTest{EvalTime: dur(t2), Alertname: name, ExpAlerts: []expAlert{firing}},
			alertTest{EvalTime: dur(t2), Alertname: escName, ExpAlerts: []expAlert{escalated}})
		out = append(out, escCase)
	}
	return out, "", nil
}

// CompileTests writes a promtool unit-test file for the compiled rules of
// the active rules, to sit next to the rule file rulesFile (rule_files is
// relative to the test file). Rules whose metric the tests cannot
// synthesise series for, or whose threshold no value crosses, are listed
// in a comment at the top.
func CompileTests(rules []Rule, rulesFile string) ([]byte, error) {
	act, err := active(rules)
	if err != nil {
		return nil, err
	}
	f := unitTestFile{RuleFiles: []string{rulesFile}, EvaluationInterval: dur(evalStep), Tests: []testGroup{}}
	var skipped []string
	for _, r := range act {
		tg, why, err := r.ruleTests()
		if err != nil {
			return nil, err
		}
		if why != "" {
			skipped = append(skipped, fmt.Sprintf("#   %s: %s\n", r.RuleID, why))
			continue
		}
		f.Tests = append(f.Tests, tg...)
	}
	body, err := marshalYAML(f)
	if err != nil {
		return nil, err
	}
	head := Header + "# Run with: promtool test rules " + "<this file>\n"
	if len(skipped) > 0 {
		head += "# Rules without tests:\n" + strings.Join(skipped, "")
	}
	return append([]byte(head), body...), nil
}
