package analyticsmetricsconnector

import (
	"github.com/pulse-otel/pulse/internal/docstest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/otlptranslator"
	prw "github.com/prometheus/prometheus/storage/remote/otlptranslator/prometheusremotewrite"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pulse-otel/pulse/connector/analyticsmetricsconnector/internal/metadata"
)

// docs/metrics.md is what dashboards and alert rules are written against.
// These tests fail when Catalog() gains a metric, a label or a unit the
// document does not give, or when the document names a metric the
// connector does not emit or a Prometheus name the exporter would not
// write.

const (
	docsPath     = "../../docs/metrics.md"
	eventSection = "Event metrics (analytics_metrics connector)"
)

func readDocs(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatalf("read docs/metrics.md: %v", err)
	}
	return string(b)
}

// exported returns def as aggregator.export writes it: name, unit and type.
func exported(def MetricDef) pmetric.Metric {
	m := pmetric.NewMetric()
	m.SetName(def.Name)
	m.SetUnit(def.Unit)
	switch def.Kind {
	case Sum:
		s := m.SetEmptySum()
		s.SetIsMonotonic(true)
		s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	case Histogram:
		m.SetEmptyHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	default:
		m.SetEmptyGauge()
	}
	return m
}

// promName is the name the prometheus_remote_write exporter (contrib
// v0.165.1, default settings: suffixes on, no UTF-8, no namespace) gives
// def; for a histogram, the base of its _bucket, _sum and _count series.
func promName(t *testing.T, def MetricDef) string {
	t.Helper()
	namer := otlptranslator.MetricNamer{WithMetricSuffixes: true}
	name, err := namer.Build(prw.TranslatorMetricFromOtelMetric(exported(def)))
	if err != nil {
		t.Fatalf("prometheus name of %s: %v", def.Name, err)
	}
	return name
}

// docType is the type column of def's row.
func docType(def MetricDef) string {
	switch {
	case def.Kind == Histogram:
		return "histogram"
	case def.Int:
		return def.Kind.String() + ", int"
	default:
		return def.Kind.String() + ", double"
	}
}

func TestDocsMetricsListsEveryEventMetric(t *testing.T) {
	sec := docstest.Section(readDocs(t), eventSection)
	if sec == "" {
		t.Fatalf("docs/metrics.md has no section %q", "## "+eventSection)
	}
	// The rows of the catalog table: the one whose header starts with
	// "| OTel name |", up to the first line that is not a table row.
	rows := map[string]string{}
	inTable := false
	for _, l := range strings.Split(sec, "\n") {
		switch {
		case strings.HasPrefix(l, "| OTel name |"):
			inTable = true
		case !strings.HasPrefix(l, "|"):
			inTable = false
		case inTable && strings.HasPrefix(l, "| `"):
			name, _, _ := strings.Cut(strings.TrimPrefix(l, "| `"), "`")
			if _, dup := rows[name]; dup {
				t.Errorf("docs/metrics.md section %q has two rows for %s", eventSection, docstest.Code(name))
			}
			rows[name] = l
		}
	}
	catalog := Catalog()
	inCatalog := map[string]bool{}
	for _, def := range catalog {
		inCatalog[def.Name] = true
		row, ok := rows[def.Name]
		if !ok {
			t.Errorf("docs/metrics.md section %q has no row for %s", eventSection, docstest.Code(def.Name))
			continue
		}
		cells := strings.Split(row, "|")
		if len(cells) != 8 || cells[0] != "" || strings.TrimSpace(cells[7]) != "" {
			t.Errorf("docs/metrics.md row of %s has %d cells, want 6 (OTel name | unit | type | labels | description | Prometheus name)", docstest.Code(def.Name), len(cells)-2)
			continue
		}
		cells = cells[1:7]
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		var missing []string
		if cells[1] != docstest.Code(def.Unit) {
			missing = append(missing, "unit "+docstest.Code(def.Unit)+" (has "+cells[1]+")")
		}
		if typ := docType(def); cells[2] != typ {
			missing = append(missing, "type \""+typ+"\" (has \""+cells[2]+"\")")
		}
		for _, l := range def.Labels {
			if !strings.Contains(cells[3], docstest.Code(l)) {
				missing = append(missing, "label "+docstest.Code(l))
			}
		}
		if len(def.Labels) == 0 && cells[3] != "(none)" {
			missing = append(missing, "labels \"(none)\"")
		}
		if want := docstest.Code(promName(t, def)); cells[5] != want {
			missing = append(missing, "Prometheus name "+want+" (has "+cells[5]+")")
		}
		if len(missing) > 0 {
			t.Errorf("docs/metrics.md row of %s lacks %s", docstest.Code(def.Name), strings.Join(missing, ", "))
		}
	}
	for name := range rows {
		if !inCatalog[name] {
			t.Errorf("docs/metrics.md section %q has a row for %s, which Catalog() does not hold", eventSection, docstest.Code(name))
		}
	}
}

func TestDocsEventSectionStatesScopeAndLimits(t *testing.T) {
	sec := docstest.Section(readDocs(t), eventSection)
	cfg := createDefaultConfig().(*Config)
	var missing []string
	for _, s := range []string{
		docstest.Code(`otel_scope_name="` + metadata.ScopeName + `"`),
		docstest.Code(otherValue),
		docstest.Code("pulse_connector_overflow_total{metric, label}"),
		docstest.Code("max_values_per_label") + " (default " + strconv.Itoa(cfg.MaxValuesPerLabel) + ")",
		docstest.Code("max_series") + " (default " + strconv.Itoa(cfg.MaxSeries) + ")",
		docstest.Code("flush_interval") + " (default " + cfg.FlushInterval.String() + ")",
		docstest.Code("full_export_interval") + " (default " + cfg.FullExportInterval.String() + ")",
		docstest.Code("max_sessions") + " " + strconv.Itoa(cfg.MaxSessions),
	} {
		if !strings.Contains(strings.Join(strings.Fields(sec), " "), s) {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		t.Errorf("docs/metrics.md section %q does not state:\n  %s", eventSection, strings.Join(missing, "\n  "))
	}
}
