package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulse-otel/pulse/internal/quality"
	"github.com/pulse-otel/pulse/testbed/internal/poll"
)

// qualityMix is a batch of events, recommendations and responses with
// known defects.
type qualityMix struct{ events, recs string }

// newQualityMix seeds, with now as the clients' clock:
//   - web: 20 valid, timely events;
//   - ios: 10 valid events, 4 of them sent 5 s late and 3 without userId;
//     3 invalid (properties.duration -5: range);
//   - android: 10 valid events; 2 with behaviorType "hover" (enum) and 1
//     whose behavior.sessionId is not the event's (mismatch);
//   - one recommendation with its response and 2 orphan responses (to
//     recommendations the pipeline never saw).
func newQualityMix(now time.Time) qualityMix {
	n := 0
	ev := func(platform string, ts time.Time, edit ...string) string {
		n++
		return editedEvent(fmt.Sprintf("dq-%d", n), ts.UnixMilli(), append([]string{`"platform":"android"`, `"platform":"` + platform + `"`}, edit...)...)
	}
	var items []string
	add := func(k int, e func() string) {
		for range k {
			items = append(items, e())
		}
	}
	add(20, func() string { return ev("web", now) })
	add(3, func() string { return ev("ios", now) })
	add(4, func() string { return ev("ios", now.Add(-5*time.Second)) })
	add(3, func() string { return ev("ios", now, `"userId":"u1",`, ``) })
	add(3, func() string {
		return ev("ios", now, `"properties":{"page":"/p"}`, `"properties":{"page":"/p","duration":-5}`)
	})
	add(10, func() string { return ev("android", now) })
	add(2, func() string { return ev("android", now, `"behaviorType":"interaction"`, `"behaviorType":"hover"`) })
	add(1, func() string {
		return ev("android", now, `"behavior":{"behaviorType":"interaction"`, `"behavior":{"behaviorType":"interaction","sessionId":"s2"`)
	})
	ms := now.UnixMilli()
	rec := fmt.Sprintf(`{"recommendationId":"dq-rec-1","userId":"u1","consentLevel":"analytics","modelId":"m","modelVersion":"1","recommendationType":"workout",
"recommendationData":{"items":["w-1"],"confidence":0.8,"personalizedFactors":[]},
"context":{"timeOfDay":"morning","dayOfWeek":"monday","userGoals":[],"recentActivity":[],"deviceType":"mobile"},"timestamp":%d}`, ms)
	resp := func(id string) string {
		return fmt.Sprintf(`{"recommendationId":%q,"userId":"u1","consentLevel":"analytics","userResponse":{"action":"accepted","responseTime":2.5},"responseTimestamp":%d}`, id, ms)
	}
	return qualityMix{
		events: "[" + strings.Join(items, ",") + "]",
		recs:   "[" + strings.Join([]string{rec, resp("dq-rec-1"), resp("dq-orphan-1"), resp("dq-orphan-2")}, ",") + "]",
	}
}

// TestQualityReportNamesTheDefects sends the mix through the built binary
// with the shipped config/pulse.yaml (promstore, its telemetry scrape on)
// and requires bin/pulsectl quality report to name each defect with its
// count, per data source, in JSON, and the Markdown form to render.
func TestQualityReportNamesTheDefects(t *testing.T) {
	bin := binary(t)
	ctl := filepath.Join(filepath.Dir(bin), "pulsectl")
	if _, err := os.Stat(ctl); err != nil {
		t.Fatalf("bin/pulsectl next to PULSE_BIN: %v (make build builds both)", err)
	}
	api := freePort(t)
	c := startCollectorWith(t, &sink{}, func(c *collector, _ string) string { return shippedPromstoreConfig(t, c, api) })
	m := newQualityMix(time.Now())
	if status, a := post(t, "http://"+c.events+"/v1/events", m.events); status != http.StatusOK || a.Accepted != 40 || len(a.Rejected) != 6 {
		t.Fatalf("events: status %d, accepted %d, rejected %d", status, a.Accepted, len(a.Rejected))
	}
	if status, a := post(t, "http://"+c.events+"/v1/recommendations", m.recs); status != http.StatusOK || a.Accepted != 4 {
		t.Fatalf("recommendations: status %d, answer %+v", status, a)
	}

	report := func(format string) ([]byte, error) {
		cmd := exec.Command(ctl, "quality", "report", "--url", "http://"+api, "--since", "10m", "--format", format)
		cmd.Stderr = &strings.Builder{}
		out, err := cmd.Output()
		if err != nil {
			return out, fmt.Errorf("%w: %s", err, cmd.Stderr)
		}
		return out, nil
	}
	// Ready when every source's items and the connector's counts are
	// stored: a few 15 s telemetry scrapes and connector flushes.
	var reports map[string]quality.Report
	var lastErr error
	ready := poll.Wait(90*time.Second, time.Second, func() bool {
		out, err := report("json")
		if lastErr = err; err != nil {
			return false
		}
		var rs []quality.Report
		if lastErr = json.Unmarshal(out, &rs); lastErr != nil {
			return false
		}
		reports = map[string]quality.Report{}
		for _, r := range rs {
			reports[r.DataSource] = r
		}
		ios, rec := reports["events/ios"], reports["recommendations/unknown"]
		return reports["events/web"].RecordsAnalyzed == 20 && ios.RecordsAnalyzed == 13 && reports["events/android"].RecordsAnalyzed == 13 &&
			rec.RecordsAnalyzed == 4 && rec.Details.Responses == 3 && ios.Details.TimedEvents == 10 && reports["events/android"].Details.TimedEvents == 10 &&
			fieldTotal(ios, "userId") == 40
	})
	if !ready {
		t.Fatalf("no complete report in 90 s (last error %v): %+v\ncollector output:\n%s", lastErr, reports, c.out.String())
	}

	type want struct {
		accuracy, consistency, timeliness any
		issues                            map[string]int64 // type/field -> count
	}
	for src, w := range map[string]want{
		// Field completeness is over the events of all platforms: the 3
		// events without userId show in every events report.
		"events/web":              {100.0, 100.0, 100.0, map[string]int64{"missing_fields/userId": 3}},
		"events/ios":              {76.92, 100.0, 60.0, map[string]int64{"invalid_values/properties.duration": 3, "late_events/timestamp": 4, "missing_fields/userId": 3}},
		"events/android":          {76.92, 92.31, 100.0, map[string]int64{"invalid_values/behavior.behaviorType": 2, "inconsistent_values/behavior.sessionId": 1, "missing_fields/userId": 3}},
		"recommendations/unknown": {100.0, 50.0, nil, map[string]int64{"orphan_responses/recommendationId": 2}},
	} {
		r, ok := reports[src]
		if !ok {
			t.Errorf("no report for %s", src)
			continue
		}
		if got := []any{ptr(r.Accuracy), ptr(r.Consistency), ptr(r.Timeliness)}; got[0] != w.accuracy || got[1] != w.consistency || got[2] != w.timeliness {
			t.Errorf("%s: accuracy, consistency, timeliness = %v, want %v", src, got, []any{w.accuracy, w.consistency, w.timeliness})
		}
		got := map[string]int64{}
		for _, i := range r.Issues {
			if i.Type == "missing_fields" && i.AffectedFields[0] != "userId" {
				continue // the mix's events lack userAgent and properties feature, value and duration throughout
			}
			got[i.Type+"/"+strings.Join(i.AffectedFields, ",")] = i.Count
		}
		for k, n := range w.issues {
			if got[k] != n {
				t.Errorf("%s: issue %s count %d, want %d (issues %v)", src, k, got[k], n, got)
			}
		}
		for k := range got {
			if _, ok := w.issues[k]; !ok {
				t.Errorf("%s: unexpected issue %s (%d)", src, k, got[k])
			}
		}
		if len(r.Recommendations) != len(r.Issues) {
			t.Errorf("%s: %d recommendations for %d issues", src, len(r.Recommendations), len(r.Issues))
		}
	}
	for _, rec := range reports["events/android"].Recommendations {
		if strings.Contains(rec.Action, "behavior.behaviorType") && !strings.Contains(rec.Action, "android client of /v1/events") {
			t.Errorf("recommendation %q does not name the android client", rec.Action)
		}
	}

	md, err := report("markdown")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"# Data-quality report", "| events/ios |", "## events/android", "| high | inconsistent_values | 1 | `behavior.sessionId` |"} {
		if !strings.Contains(string(md), line) {
			t.Errorf("markdown lacks %q:\n%s", line, md)
		}
	}
	if dir := os.Getenv("QUALITY_REPORT_OUT"); dir != "" {
		js, _ := report("json")
		_ = os.WriteFile(filepath.Join(dir, "report.json"), js, 0o644)
		_ = os.WriteFile(filepath.Join(dir, "report.md"), md, 0o644)
	}
}

func ptr(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// fieldTotal is the number of events the report's field completeness
// counted for field.
func fieldTotal(r quality.Report, field string) int64 {
	for _, f := range r.Details.Fields {
		if f.Field == field {
			return f.Total
		}
	}
	return 0
}
