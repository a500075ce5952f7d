package retentionbench

import (
	"github.com/pulse-otel/pulse/internal/catalog"
	"github.com/pulse-otel/pulse/internal/metricgen"
)

// benchValues are the label values per catalog label of the benchmark's
// history: the whole catalog at a small site's cardinality.
var benchValues = map[string]int{
	"event_type": 4, "category": 3, "action": 2, "platform": 3, "app_version": 2, "window": 4,
	"model_id": 3, "model_version": 2, "recommendation_type": 2, "response": 4, "element_type": 3,
	"content_type": 2, "goal_type": 2, "funnel_step": 3, "environment": 2, "granularity": 2,
	"stat": 2, "error_type": 2, "direction": 2, "metric_name": 3, "field": 4, "present": 2,
	"cohort": 4, "period": 4, "kind": 3, "metric": 2, "label": 2,
}

func allNames() []string {
	var out []string
	for _, m := range catalog.All() {
		out = append(out, m.Name)
	}
	return out
}

var benchCatalog = metricgen.FromCatalog(benchValues, allNames()...)
