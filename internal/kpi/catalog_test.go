package kpi

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/pulse-otel/pulse/internal/catalog"
	"github.com/pulse-otel/pulse/internal/docstest"
)

// The catalog the KPIs are checked against: every Prometheus series name
// Pulse writes, with the labels it can carry, from internal/catalog (the
// connector's metrics and the analytics receiver's snapshot gauges; the
// catalog's own tests check its names against the exporter's translator
// and docs/metrics.md, the connector and decoder tests that it is what they
// emit).

const docsPath = "../../docs/metrics.md"

// commonLabels can be on any series: job and instance from service.name and
// service.instance.id, otel_scope_name from the scope.
var commonLabels = []string{"job", "instance", "otel_scope_name"}

// optionalEventDimensions are the labels event_dimensions may add to
// pulse.events besides the default ones the catalog lists (the connector's
// config.go).
var optionalEventDimensions = []string{"feature", "page", "consent_level"}

type series struct {
	otelName string
	labels   map[string]bool
}

// promCatalog returns every Prometheus series name with its labels.
func promCatalog(t testing.TB) map[string]*series {
	t.Helper()
	cat := map[string]*series{}
	for _, m := range catalog.All() {
		labels := append(slices.Clone(commonLabels), m.Labels...)
		if m.Name == "pulse.events" {
			labels = append(labels, optionalEventDimensions...)
		}
		for _, n := range m.SeriesNames() {
			if s, dup := cat[n]; dup {
				t.Fatalf("%s and %s both become %s", s.otelName, m.Name, n)
			}
			s := &series{otelName: m.Name, labels: map[string]bool{}}
			for _, l := range labels {
				s.labels[l] = true
			}
			if strings.HasSuffix(n, "_bucket") {
				s.labels["le"] = true
			}
			cat[n] = s
		}
	}
	for n, ls := range StoredTelemetry() {
		s := &series{otelName: n, labels: map[string]bool{}}
		for _, l := range append(slices.Clone(commonLabels), ls...) {
			s.labels[l] = true
		}
		cat[n] = s
	}
	return cat
}

func readDocs(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatalf("read docs: %v", err)
	}
	return string(b)
}

// docSection returns the "## " section whose heading contains title.
func docSection(t testing.TB, doc, title string) string {
	t.Helper()
	sec := docstest.Section(doc, title)
	if sec == "" {
		t.Fatalf("docs/metrics.md has no section %q", "## "+title)
	}
	return sec
}
