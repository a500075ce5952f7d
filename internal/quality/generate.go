package quality

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// Period is the (Start, End] a report covers.
type Period struct{ Start, End time.Time }

// Generate reads the counters of the period from q and returns one report
// per data source that had items in it, by endpoint then platform;
// generatedAt is the reports' GeneratedAt. It returns ErrNoData when no
// source had any, and a *StoreError when the store did not answer.
func Generate(ctx context.Context, q Querier, p Period, generatedAt time.Time) ([]Report, error) {
	start, end := p.Start.Truncate(time.Second), p.End.Truncate(time.Second)
	if !end.After(start) {
		return nil, fmt.Errorf("period: end %s is not after start %s", end.Format(time.RFC3339), start.Format(time.RFC3339))
	}
	c, err := gather(ctx, q, start, end)
	if err != nil {
		return nil, err
	}
	var sources []source
	seen := map[source]bool{}
	for s := range c.accepted {
		sources, seen[s] = append(sources, s), true
	}
	for s := range c.rejected {
		if !seen[s] {
			sources = append(sources, s)
		}
	}
	slices.SortFunc(sources, func(a, b source) int {
		return cmp.Or(cmp.Compare(a.endpoint, b.endpoint), cmp.Compare(a.platform, b.platform))
	})
	var out []Report
	for _, s := range sources {
		r := c.report(s)
		if r.RecordsAnalyzed == 0 {
			continue
		}
		r.PeriodStart, r.PeriodEnd, r.GeneratedAt = start.UnixMilli(), end.UnixMilli(), generatedAt.UnixMilli()
		r.ReportID = reportID(r.DataSource, r.PeriodStart, r.PeriodEnd)
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, ErrNoData
	}
	return out, nil
}

// reportID is the same for the same source and period, so a report
// generated twice has one id.
func reportID(src string, start, end int64) string {
	h := sha256.Sum256([]byte(src + "\x00" + strconv.FormatInt(start, 10) + "\x00" + strconv.FormatInt(end, 10)))
	return "dq-" + hex.EncodeToString(h[:8])
}

// report builds the report of one source.
func (c *counts) report(s source) Report {
	r := Report{DataSource: s.String(), Endpoint: s.endpoint, Platform: s.platform, Issues: []Issue{}, Recommendations: []Recommendation{}}
	d := &r.Details
	d.Accepted = c.accepted[s]
	var mismatch int64
	for k, n := range c.rejected[s] {
		d.Rejected += n
		d.Rejects = append(d.Rejects, Reject{Field: k.field, Reason: k.reason, Count: n})
		if k.reason == reasonMismatch {
			mismatch += n
		}
	}
	slices.SortFunc(d.Rejects, func(a, b Reject) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Field, b.Field), cmp.Compare(a.Reason, b.Reason))
	})
	if d.Rejects == nil {
		d.Rejects = []Reject{}
	}
	items := d.Accepted + d.Rejected
	r.RecordsAnalyzed = items
	if items == 0 {
		return r
	}
	r.Accuracy = percent(d.Accepted, items)
	c.rejectIssues(&r, items)

	inconsistent := mismatch
	if s.endpoint == endpointRecommendations {
		d.OrphanResponses, d.Responses = c.unjoined, c.responses
		inconsistent += c.unjoined
		if c.unjoined > 0 {
			r.addIssue(Issue{
				Type: "orphan_responses", Severity: severityOf(c.unjoined, max(c.responses, 1)), Count: c.unjoined,
				Description:    fmt.Sprintf("%d of %d responses named a recommendation the pipeline did not know (unknown or expired id) and carried no model labels", c.unjoined, c.responses),
				AffectedFields: []string{"recommendationId"},
			}, Recommendation{
				Action:         fmt.Sprintf("In the client of /v1/%s (%s): send each recommendation before its responses, or send responses with modelId, modelVersion and recommendationType", s.endpoint, s.platform),
				ExpectedImpact: fmt.Sprintf("consistency of %s +%s points", s, points(c.unjoined, items)),
			})
		}
	}
	r.Consistency = percent(max(items-inconsistent, 0), items)

	if s.endpoint == endpointEvents && d.Accepted > 0 {
		// Field presence and timeliness describe the events that were
		// stored; a source whose every item was rejected (an invalid
		// platform is reported as "unknown") has none.
		c.completeness(&r)
		c.timeliness(&r, s)
	}
	r.QualityScore = score(r.Completeness, r.Accuracy, r.Consistency, r.Timeliness)
	r.sortIssues()
	return r
}

// rejectIssues turns the source's rejects into issues: a mismatch (a
// field that must equal another, such as behaviour details repeating the
// event's ids) is an inconsistency, any other code an invalid value.
func (c *counts) rejectIssues(r *Report, items int64) {
	for _, rej := range r.Details.Rejects {
		typ, what := "invalid_values", "failed validation with "+rej.Reason
		fix := fmt.Sprintf("fix %s before sending (docs/events.md lists its type and range)", rej.Field)
		if rej.Reason == reasonMismatch {
			typ, what = "inconsistent_values", "did not match the event they belong to"
			fix = fmt.Sprintf("make %s equal the event's own value, or leave it out", rej.Field)
		}
		r.addIssue(Issue{
			Type: typ, Severity: severityOf(rej.Count, items), Count: rej.Count,
			Description:    fmt.Sprintf("%d of %d items from %s were rejected: %s %s", rej.Count, items, r.DataSource, rej.Field, what),
			AffectedFields: []string{rej.Field},
		}, Recommendation{
			Action:         fmt.Sprintf("In the %s client of /v1/%s: %s", r.Platform, r.Endpoint, fix),
			ExpectedImpact: fmt.Sprintf("accuracy of %s +%s points (%s kept)", r.DataSource, points(rej.Count, items), plural(rej.Count, "item")),
		})
	}
}

// completeness fills the events' field completeness: present / all over
// the optional fields of the events of every platform.
func (c *counts) completeness(r *Report) {
	var present, all int64
	fields := make([]string, 0, len(c.present)+len(c.absent))
	for f := range c.present {
		fields = append(fields, f)
	}
	for f := range c.absent {
		if _, ok := c.present[f]; !ok {
			fields = append(fields, f)
		}
	}
	slices.Sort(fields)
	for _, f := range fields {
		p, n := c.present[f], c.present[f]+c.absent[f]
		present, all = present+p, all+n
		r.Details.Fields = append(r.Details.Fields, FieldCompleteness{Field: wireField(f), Label: f, Present: p, Total: n, Percent: *percent(p, n)})
	}
	if all == 0 {
		return
	}
	r.Completeness = percent(present, all)
	for _, f := range r.Details.Fields {
		missing := f.Total - f.Present
		if missing == 0 {
			continue
		}
		r.addIssue(Issue{
			Type: "missing_fields", Severity: severityOf(missing, f.Total), Count: missing,
			Description:    fmt.Sprintf("%d of %d events (all platforms) lacked the optional field %s", missing, f.Total, f.Field),
			AffectedFields: []string{f.Field},
		}, Recommendation{
			Action:         fmt.Sprintf("In the clients of /v1/%s (all platforms; the connector does not count field presence by platform): set %s on every event that has it", r.Endpoint, f.Field),
			ExpectedImpact: fmt.Sprintf("completeness of events +%s points", points(missing, all)),
		})
	}
}

// wireFields are the wire paths (docs/events.md) of the field labels of
// pulse_quality_fields_total, so that every affected field of a report is
// a path a client developer can find.
var wireFields = map[string]string{
	"user_id": "userId", "user_agent": "userAgent", "page": "properties.page", "feature": "properties.feature",
	"value": "properties.value", "duration": "properties.duration", "behavior": "behavior",
}

func wireField(label string) string {
	if w, ok := wireFields[label]; ok {
		return w
	}
	return label
}

// timeliness fills the share of the platform's events received within
// the freshness goal.
func (c *counts) timeliness(r *Report, s source) {
	n := c.timed[s.platform]
	if n == 0 {
		return
	}
	timely := min(c.timely[s.platform], n)
	r.Details.Timely, r.Details.TimedEvents = timely, n
	r.Timeliness = percent(timely, n)
	if late := n - timely; late > 0 {
		r.addIssue(Issue{
			Type: "late_events", Severity: severityOf(late, n), Count: late,
			Description:    fmt.Sprintf("%d of %d events from %s arrived more than %s after their timestamp", late, n, s, FreshnessGoal),
			AffectedFields: []string{"timestamp"},
		}, Recommendation{
			Action:         fmt.Sprintf("In the %s client of /v1/%s: send events sooner (smaller batches, flush when the app goes to the background) and check that timestamp is the device's current time", s.platform, s.endpoint),
			ExpectedImpact: fmt.Sprintf("timeliness of %s +%s points", s, points(late, n)),
		})
	}
}

// sortIssues orders the issues by severity, then count, most first; the
// recommendation at each index stays the one of the issue at that index.
func (r *Report) sortIssues() {
	idx := make([]int, len(r.Issues))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		x, y := r.Issues[a], r.Issues[b]
		return cmp.Or(cmp.Compare(rank(y.Severity), rank(x.Severity)), cmp.Compare(y.Count, x.Count))
	})
	issues, recs := make([]Issue, len(idx)), make([]Recommendation, len(idx))
	for i, j := range idx {
		issues[i], recs[i] = r.Issues[j], r.Recommendations[j]
	}
	r.Issues, r.Recommendations = issues, recs
}

func (r *Report) addIssue(i Issue, rec Recommendation) {
	rec.Priority = i.Severity
	r.Issues = append(r.Issues, i)
	r.Recommendations = append(r.Recommendations, rec)
}

// score is the quality score: the mean of the dimensions that apply.
func score(dims ...*float64) float64 {
	var sum float64
	n := 0
	for _, d := range dims {
		if d != nil {
			sum += *d
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return round2(sum / float64(n))
}

func percent(part, whole int64) *float64 {
	if whole <= 0 {
		return nil
	}
	v := round2(100 * float64(part) / float64(whole))
	return &v
}

// points is part/whole as percentage points, two decimals.
func points(part, whole int64) string {
	return strconv.FormatFloat(round2(100*float64(part)/float64(max(whole, 1))), 'f', 2, 64)
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

func rank(s Severity) int {
	switch s {
	case High:
		return 2
	case Medium:
		return 1
	}
	return 0
}

// plural is "1 item", "2 items".
func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.FormatInt(n, 10) + " " + noun + "s"
}
