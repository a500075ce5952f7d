package quality

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/prometheus/common/model"

	"github.com/pulse-otel/pulse/internal/kpi"
)

// The series a report reads.
const (
	seriesAccepted  = "otelcol_receiver_analytics_accepted_items"
	seriesRejected  = "otelcol_receiver_analytics_rejected_items"
	seriesFields    = "pulse_quality_fields_total"
	seriesTimelyLE1 = `pulse_event_timeliness_seconds_bucket{le=~"1|1\\.0"}`
	seriesTimed     = "pulse_event_timeliness_seconds_count"
	seriesUnjoined  = "pulse_recommendation_responses_unjoined_total"
	seriesResponses = "pulse_recommendation_responses_total"
)

// Endpoints with a special role in the dimensions.
const (
	endpointEvents          = "events"
	endpointRecommendations = "recommendations"
	reasonMismatch          = "mismatch"
)

// source is a data source: receiver endpoint and platform.
type source struct{ endpoint, platform string }

func (s source) String() string { return s.endpoint + "/" + s.platform }

type rejectKey struct{ field, reason string }

// counts are the period's increases the reports are made of.
type counts struct {
	accepted  map[source]int64
	rejected  map[source]map[rejectKey]int64
	present   map[string]int64 // optional event field -> events with it
	absent    map[string]int64
	timely    map[string]int64 // platform -> events within the goal
	timed     map[string]int64
	unjoined  int64
	responses int64
}

// gather runs the report's queries over (start, end].
func gather(ctx context.Context, q Querier, start, end time.Time) (*counts, error) {
	w := strconv.FormatInt(int64(end.Sub(start)/time.Second), 10) + "s"
	c := &counts{
		accepted: map[source]int64{}, rejected: map[source]map[rejectKey]int64{},
		present: map[string]int64{}, absent: map[string]int64{},
		timely: map[string]int64{}, timed: map[string]int64{},
	}
	run := func(by, sel string, each func(model.Metric, int64)) error {
		vec, err := q.Query(ctx, kpi.ExactIncreaseBy(by, sel, w), end)
		if err != nil {
			return fmt.Errorf("query %s: %w", sel, err)
		}
		for _, s := range vec {
			if v := float64(s.Value); !math.IsNaN(v) && v > 0 {
				each(s.Metric, int64(math.Round(v)))
			}
		}
		return nil
	}
	src := func(m model.Metric) source {
		return source{string(m["endpoint"]), string(m["platform"])}
	}
	steps := []struct {
		by, sel string
		each    func(model.Metric, int64)
	}{
		{"endpoint, platform", seriesAccepted, func(m model.Metric, n int64) { c.accepted[src(m)] += n }},
		{"endpoint, platform, field, reason", seriesRejected, func(m model.Metric, n int64) {
			s := src(m)
			if c.rejected[s] == nil {
				c.rejected[s] = map[rejectKey]int64{}
			}
			c.rejected[s][rejectKey{string(m["field"]), string(m["reason"])}] += n
		}},
		{"field, present", seriesFields, func(m model.Metric, n int64) {
			if m["present"] == "true" {
				c.present[string(m["field"])] += n
			} else {
				c.absent[string(m["field"])] += n
			}
		}},
		{"platform", seriesTimelyLE1, func(m model.Metric, n int64) { c.timely[string(m["platform"])] += n }},
		{"platform", seriesTimed, func(m model.Metric, n int64) { c.timed[string(m["platform"])] += n }},
		{"", seriesUnjoined, func(_ model.Metric, n int64) { c.unjoined += n }},
		{"", seriesResponses, func(_ model.Metric, n int64) { c.responses += n }},
	}
	for _, s := range steps {
		if err := run(s.by, s.sel, s.each); err != nil {
			return nil, err
		}
	}
	return c, nil
}
