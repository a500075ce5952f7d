package analyticsmetricsconnector

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/pulse-otel/pulse/connector/analyticsmetricsconnector/internal/metadata"
	"github.com/pulse-otel/pulse/internal/docstest"
)

// docs/metrics.md is what dashboards and alert rules are written against.
// Its metric tables are checked against internal/catalog, which the
// connector exports from, by catalog.TestDocsMatchCatalog; this file checks
// what the event section says about the connector's scope and limits.

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
