package retention

import (
	"slices"
	"strings"

	"github.com/pulse-otel/pulse/internal/catalog"
)

// Data types of the policies' rules.
const (
	Events          = "events"
	Users           = "users"
	Recommendations = "recommendations"
	Model           = "model"
	Business        = "business"
	System          = "system"
	Quality         = "quality"
)

// DataTypes are the data types, in the order docs/retention.md lists them.
var DataTypes = []string{Events, Users, Recommendations, Model, Business, System, Quality}

// storedLabels are on every stored series besides the family's own: the
// resource's service.name and service.instance.id as promstore translates
// them, and the self-scrape's job and instance.
var storedLabels = []string{"job", "instance"}

// Family is one metric family of a data type as stored: its series names
// (one, or the _bucket, _sum and _count of a histogram) and its labels.
type Family struct {
	// Name is the Prometheus family name (pulse_events_total).
	Name string
	// Series are the stored series names.
	Series []string
	// Labels are the labels its series carry, le of histogram buckets
	// left out, job and instance included.
	Labels []string
}

// HasLabel reports whether the family's series carry label l.
func (f Family) HasLabel(l string) bool { return slices.Contains(f.Labels, l) }

// ProcessingCounters are the collector's own counters promstore stores
// (its telemetry option, docs/operations.md), with their labels: what was
// done to the data, kept as long as the data (data type quality).
var ProcessingCounters = []Family{
	{Name: "otelcol_receiver_analytics_rejected_items", Labels: []string{"endpoint", "reason", "field", "platform"}},
	{Name: "otelcol_receiver_analytics_accepted_items", Labels: []string{"endpoint", "platform"}},
	{Name: "otelcol_processor_privacy_records_dropped", Labels: []string{"reason"}},
	{Name: "otelcol_processor_privacy_values_masked", Labels: []string{"pii_type"}},
	{Name: "otelcol_processor_privacy_consent_decisions", Labels: []string{"consent_level", "decision"}},
}

// DataTypeOf returns the data type of a catalog metric (by its OTel name).
func DataTypeOf(m catalog.Metric) string {
	n := m.Name
	switch {
	case strings.HasPrefix(n, "pulse.ai.model."):
		return Model
	case strings.HasPrefix(n, "pulse.business."):
		return Business
	case strings.HasPrefix(n, "pulse.system."):
		return System
	case strings.HasPrefix(n, "pulse.users.") || strings.HasPrefix(n, "pulse.cohort."):
		return Users
	case strings.HasPrefix(n, "pulse.recommendation"):
		return Recommendations
	case strings.HasPrefix(n, "pulse.quality."), n == "pulse.event.timeliness", n == "pulse.event.freshness",
		n == "pulse.connector.overflow", n == "pulse.events.duplicates":
		return Quality
	}
	return Events
}

var families = buildFamilies()

func buildFamilies() map[string][]Family {
	out := map[string][]Family{}
	for _, m := range catalog.All() {
		f := Family{Name: m.PromName(), Series: m.SeriesNames(), Labels: append(slices.Clone(m.Labels), storedLabels...)}
		t := DataTypeOf(m)
		out[t] = append(out[t], f)
	}
	for _, c := range ProcessingCounters {
		c.Series = []string{c.Name}
		c.Labels = append(slices.Clone(c.Labels), storedLabels...)
		out[Quality] = append(out[Quality], c)
	}
	return out
}

// Families returns the families of data type t, nil for an unknown type.
func Families(t string) []Family {
	fs := families[t]
	out := make([]Family, len(fs))
	for i, f := range fs {
		out[i] = Family{Name: f.Name, Series: slices.Clone(f.Series), Labels: slices.Clone(f.Labels)}
	}
	return out
}

// labelsOf returns every label some family of type t carries, sorted.
func labelsOf(t string) []string {
	var out []string
	for _, f := range families[t] {
		for _, l := range f.Labels {
			if !slices.Contains(out, l) {
				out = append(out, l)
			}
		}
	}
	slices.Sort(out)
	return out
}
