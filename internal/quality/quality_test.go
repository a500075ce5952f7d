package quality

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/storage"

	"github.com/pulse-otel/pulse/internal/testutil"
)

// engine is a Querier over Prometheus' engine and an in-memory TSDB: what
// promstore runs.
type engine struct {
	t   *testing.T
	eng *promql.Engine
	st  storage.Queryable
}

func newEngine(t *testing.T, load string) *engine {
	t.Helper()
	return &engine{t: t, st: promqltest.LoadedStorage(t, load),
		eng: promqltest.NewTestEngineWithOpts(t, promql.EngineOpts{MaxSamples: 1e6, Timeout: 10 * time.Second, LookbackDelta: 5 * time.Minute})}
}

func (e *engine) Query(ctx context.Context, q string, at time.Time) (model.Vector, error) {
	qry, err := e.eng.NewInstantQuery(ctx, e.st, nil, q, at)
	if err != nil {
		return nil, err
	}
	res := qry.Exec(ctx)
	if res.Err != nil {
		return nil, res.Err
	}
	vec, err := res.Vector()
	if err != nil {
		return nil, err
	}
	out := make(model.Vector, len(vec))
	for i, s := range vec {
		m := model.Metric{}
		s.Metric.Range(func(l labels.Label) { m[model.LabelName(l.Name)] = model.LabelValue(l.Value) })
		out[i] = &model.Sample{Metric: m, Value: model.SampleValue(s.F), Timestamp: model.Time(s.T)}
	}
	return out, nil
}

// The seeded defects, in 10-minute steps from 0 to 30m; the report covers
// (0, 30m], so a series' value at 0 is what came before the period and a
// series that starts later ("_") counts from 0.
const load = `
load 10m
  otelcol_receiver_analytics_accepted_items{job="pulse",endpoint="events",platform="web"} 100 400 700 1000
  otelcol_receiver_analytics_accepted_items{job="pulse",endpoint="events",platform="ios"} _ 20 40 90
  otelcol_receiver_analytics_accepted_items{job="pulse",endpoint="recommendations",platform="unknown"} _ 30 47 47
  otelcol_receiver_analytics_accepted_items{job="pulse",endpoint="model-metrics",platform="unknown"} 0 5 10 20
  otelcol_receiver_analytics_rejected_items{job="pulse",endpoint="events",platform="ios",field="behavior.sessionId",reason="mismatch"} _ 5 10 10
  otelcol_receiver_analytics_rejected_items{job="pulse",endpoint="events",platform="ios",field="properties.duration",reason="range"} 0 0 0 2
  otelcol_receiver_analytics_rejected_items{job="pulse",endpoint="events",platform="web",field="_other",reason="unknown_field"} 0 0 1 1
  otelcol_receiver_analytics_rejected_items{job="pulse",endpoint="recommendations",platform="unknown",field="confidence",reason="range"} _ _ 3 3
  pulse_quality_fields_total{field="user_id",present="true"} 0 300 600 950
  pulse_quality_fields_total{field="user_id",present="false"} 0 10 30 40
  pulse_quality_fields_total{field="value",present="true"} 0 100 200 300
  pulse_quality_fields_total{field="value",present="false"} 0 200 400 690
  pulse_event_timeliness_seconds_bucket{platform="web",le="0.5"} 0 100 200 300
  pulse_event_timeliness_seconds_bucket{platform="web",le="1"} 0 300 600 880
  pulse_event_timeliness_seconds_count{platform="web"} 0 300 600 900
  pulse_event_timeliness_seconds_bucket{platform="ios",le="1"} _ 10 20 60
  pulse_event_timeliness_seconds_count{platform="ios"} _ 20 40 90
  pulse_recommendation_responses_unjoined_total{response="accepted"} _ _ 4 4
  pulse_recommendation_responses_total{response="accepted",model_id="m",model_version="1",recommendation_type="content"} _ 10 20 40
`

var period = Period{Start: time.Unix(0, 0), End: time.Unix(0, 0).Add(30 * time.Minute)}

func generate(t *testing.T) map[string]Report {
	t.Helper()
	reports, err := Generate(context.Background(), newEngine(t, load), period, time.UnixMilli(1767225600000))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Report{}
	var order []string
	for _, r := range reports {
		out[r.DataSource] = r
		order = append(order, r.DataSource)
	}
	if got, want := strings.Join(order, " "), "events/ios events/web model-metrics/unknown recommendations/unknown"; got != want {
		t.Fatalf("sources %q, want %q", got, want)
	}
	return out
}

func val(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestDimensionsAndScore(t *testing.T) {
	rs := generate(t)
	for _, c := range []struct {
		src                                   string
		score                                 float64
		completeness, accuracy, consist, time any
		records                               int64
	}{
		// 102 items: 90 accepted, 10 mismatch, 2 range; fields 1250/1980; 60 of 90 within 1 s.
		{"events/ios", 77.06, 63.13, 88.24, 90.2, 66.67, 102},
		{"events/web", 90.2, 63.13, 99.89, 100.0, 97.78, 901},
		// 50 items (3 rejected), 4 orphan responses.
		{"recommendations/unknown", 93, nil, 94.0, 92.0, nil, 50},
		{"model-metrics/unknown", 100, nil, 100.0, 100.0, nil, 20},
	} {
		r := rs[c.src]
		got := []any{r.QualityScore, val(r.Completeness), val(r.Accuracy), val(r.Consistency), val(r.Timeliness), r.RecordsAnalyzed}
		want := []any{c.score, c.completeness, c.accuracy, c.consist, c.time, c.records}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: score, completeness, accuracy, consistency, timeliness, records = %v, want %v", c.src, got, want)
				break
			}
		}
		if r.PeriodStart != 0 || r.PeriodEnd != 1800_000 || r.GeneratedAt != 1767225600000 || !strings.HasPrefix(r.ReportID, "dq-") {
			t.Errorf("%s: period %d-%d, generated %d, id %q", c.src, r.PeriodStart, r.PeriodEnd, r.GeneratedAt, r.ReportID)
		}
	}
}

type issueKey struct {
	typ   string
	sev   Severity
	count int64
	field string
}

func issues(r Report) []issueKey {
	var out []issueKey
	for _, i := range r.Issues {
		out = append(out, issueKey{i.Type, i.Severity, i.Count, strings.Join(i.AffectedFields, ",")})
	}
	return out
}

func TestIssuesNameEachDefect(t *testing.T) {
	rs := generate(t)
	for src, want := range map[string][]issueKey{
		"events/ios": {
			{"missing_fields", High, 690, "properties.value"},       // 69.7 % of events
			{"late_events", High, 30, "timestamp"},                  // 33 %
			{"inconsistent_values", High, 10, "behavior.sessionId"}, // 9.8 %
			{"missing_fields", Medium, 40, "userId"},                // 4.04 %
			{"invalid_values", Medium, 2, "properties.duration"},    // 1.96 %
		},
		"events/web": {
			{"missing_fields", High, 690, "properties.value"},
			{"missing_fields", Medium, 40, "userId"},
			{"late_events", Medium, 20, "timestamp"}, // 2.2 %
			{"invalid_values", Low, 1, "_other"},     // 0.11 %
		},
		"recommendations/unknown": {
			{"orphan_responses", High, 4, "recommendationId"}, // 4 of 40 responses
			{"invalid_values", High, 3, "confidence"},         // 6 %
		},
		"model-metrics/unknown": nil,
	} {
		got := issues(rs[src])
		if len(got) != len(want) {
			t.Errorf("%s: issues %v, want %v", src, got, want)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: issues %v, want %v", src, got, want)
				break
			}
		}
		if len(rs[src].Recommendations) != len(want) {
			t.Errorf("%s: %d recommendations, want one per issue (%d)", src, len(rs[src].Recommendations), len(want))
		}
	}
	rec := rs["events/ios"].Recommendations
	if a := rec[2].Action; !strings.Contains(a, "ios client of /v1/events") || !strings.Contains(a, "behavior.sessionId") {
		t.Errorf("recommendation for the mismatch %q names no client and field", a)
	}
	if e := rec[2].ExpectedImpact; e != "accuracy of events/ios +9.80 points (10 items kept)" {
		t.Errorf("expected impact %q", e)
	}
}

func TestNoData(t *testing.T) {
	_, err := Generate(context.Background(), newEngine(t, "load 1m\n  up 1 1\n"), period, time.Now())
	if !errors.Is(err, ErrNoData) {
		t.Fatalf("err %v, want ErrNoData", err)
	}
	// A period before the data holds nothing either.
	early := Period{Start: time.Unix(0, 0).Add(-time.Hour), End: time.Unix(0, 0).Add(-time.Minute)}
	if _, err := Generate(context.Background(), newEngine(t, load), early, time.Now()); !errors.Is(err, ErrNoData) {
		t.Fatalf("err %v, want ErrNoData", err)
	}
	if _, err := Generate(context.Background(), newEngine(t, load), Period{Start: period.End, End: period.Start}, time.Now()); err == nil || !strings.Contains(err.Error(), "not after") {
		t.Fatalf("reversed period: err %v", err)
	}
}

func TestStoreUnreachable(t *testing.T) {
	url := "http://" + testutil.FreeAddr(t)
	c, err := NewClient(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Generate(context.Background(), c, period, time.Now())
	var se *StoreError
	if !errors.As(err, &se) || se.URL != url || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("err %v, want a StoreError naming %s", err, url)
	}
}

func TestJSONAndMarkdown(t *testing.T) {
	rs := generate(t)
	b, err := json.Marshal(rs["recommendations/unknown"])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"completeness":null`, `"accuracy":94`, `"qualityScore":93`, `"recordsAnalyzed":50`, `"severity":"high"`, `"affectedFields":["recommendationId"]`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("JSON lacks %s:\n%s", want, b)
		}
	}
	var md bytes.Buffer
	if err := WriteMarkdown(&md, []Report{rs["events/ios"], rs["model-metrics/unknown"]}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| events/ios | 77.06 | 63.13 | 88.24 | 90.20 | 66.67 | 102 | 5 |",
		"| model-metrics/unknown | 100.00 | — | 100.00 | 100.00 | — | 20 | 0 |",
		"| high | inconsistent_values | 10 | `behavior.sessionId` |",
		"Period 1970-01-01T00:00:00Z to 1970-01-01T00:30:00Z",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
}

// A source whose every item was rejected (platform "unknown": the
// platform itself was invalid) stored no event, so the events' field
// presence and timeliness say nothing about it: its report has accuracy
// only, and no missing-field issue.
func TestRejectedOnlySourceHasNoCompleteness(t *testing.T) {
	const load = `
load 10m
  otelcol_receiver_analytics_accepted_items{job="pulse",endpoint="events",platform="web"} 0 10 20 30
  otelcol_receiver_analytics_rejected_items{job="pulse",endpoint="events",platform="unknown",field="platform",reason="enum"} _ 1 1 1
  pulse_quality_fields_total{field="user_id",present="true"} 0 5 10 15
  pulse_quality_fields_total{field="user_id",present="false"} 0 5 10 15
  pulse_event_timeliness_seconds_bucket{platform="web",le="1"} 0 10 20 30
  pulse_event_timeliness_seconds_count{platform="web"} 0 10 20 30
`
	reports, err := Generate(context.Background(), newEngine(t, load), period, time.UnixMilli(1767225600000))
	if err != nil {
		t.Fatal(err)
	}
	var unknown, web *Report
	for i := range reports {
		switch reports[i].DataSource {
		case "events/unknown":
			unknown = &reports[i]
		case "events/web":
			web = &reports[i]
		}
	}
	if unknown == nil || web == nil {
		t.Fatalf("reports %+v, want events/unknown and events/web", reports)
	}
	if unknown.Completeness != nil || unknown.Timeliness != nil || val(unknown.Accuracy) != 0.0 {
		t.Errorf("events/unknown: completeness %v, timeliness %v, accuracy %v; want none, none, 0", val(unknown.Completeness), val(unknown.Timeliness), val(unknown.Accuracy))
	}
	if len(unknown.Issues) != 1 || unknown.Issues[0].Type != "invalid_values" {
		t.Errorf("events/unknown issues %+v, want the one invalid platform", unknown.Issues)
	}
	if !strings.Contains(unknown.Recommendations[0].ExpectedImpact, "(1 item kept)") {
		t.Errorf("expected impact %q, want it to say 1 item", unknown.Recommendations[0].ExpectedImpact)
	}
	if val(web.Completeness) != 50.0 {
		t.Errorf("events/web completeness %v, want 50", val(web.Completeness))
	}
}
