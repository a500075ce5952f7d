package catalog

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/pulse-otel/pulse/internal/docstest"
)

// docs/metrics.md is what dashboards and alert rules are written against.
// TestDocsMatchCatalog is its one check: every metric of All() has a row
// in its section's tables with the catalog's unit, type, labels and
// Prometheus name (and help, for snapshot gauges), and every row is a catalog metric.

const docsPath = "../../docs/metrics.md"

// docSections are the sections of docs/metrics.md that hold each source's
// tables.
var docSections = map[Source]string{
	Snapshot:  "Snapshot metrics (analytics receiver)",
	Connector: "Event metrics (analytics_metrics connector)",
}

// docRow is one row of a catalog table: OTel name | unit | type | labels |
// description | Prometheus name.
type docRow struct {
	cells  []string
	source Source
}

// docRows returns the rows of the tables whose header starts with
// "| OTel name |" in the sections of docSections, by OTel name.
func docRows(t *testing.T) map[string]docRow {
	t.Helper()
	b, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatalf("read docs/metrics.md: %v", err)
	}
	rows := map[string]docRow{}
	for src, title := range docSections {
		sec := docstest.Section(string(b), title)
		if sec == "" {
			t.Fatalf("docs/metrics.md has no section %q", "## "+title)
		}
		inTable := false
		for _, l := range strings.Split(sec, "\n") {
			switch {
			case strings.HasPrefix(l, "| OTel name |"):
				inTable = true
			case !strings.HasPrefix(l, "|"):
				inTable = false
			case inTable && strings.HasPrefix(l, "| `"):
				cells := strings.Split(l, "|")
				if len(cells) != 8 || cells[0] != "" || strings.TrimSpace(cells[7]) != "" {
					t.Errorf("docs/metrics.md row %q has %d cells, want 6 (OTel name | unit | type | labels | description | Prometheus name)", l, len(cells)-2)
					continue
				}
				cells = cells[1:7]
				for i := range cells {
					cells[i] = strings.TrimSpace(cells[i])
				}
				name := strings.Trim(cells[0], "`")
				if _, dup := rows[name]; dup {
					t.Errorf("docs/metrics.md has two rows for %s", docstest.Code(name))
				}
				rows[name] = docRow{cells: cells, source: src}
			}
		}
	}
	return rows
}

// docType is the type column of m's row.
func docType(m Metric) string {
	switch {
	case m.Kind == Histogram:
		return "histogram"
	case m.Int:
		return m.Kind.String() + ", int"
	default:
		return m.Kind.String() + ", double"
	}
}

func TestDocsMatchCatalog(t *testing.T) {
	rows := docRows(t)
	var diff []string
	seen := map[string]bool{}
	for _, m := range All() {
		seen[m.Name] = true
		r, ok := rows[m.Name]
		if !ok {
			diff = append(diff, fmt.Sprintf("+ %s: no row in section %q", m.Name, docSections[m.Source]))
			continue
		}
		if r.source != m.Source {
			diff = append(diff, fmt.Sprintf("~ %s: row in section %q, want %q", m.Name, docSections[r.source], docSections[m.Source]))
		}
		c := r.cells
		if want := docstest.Code(m.Unit); c[1] != want {
			diff = append(diff, fmt.Sprintf("~ %s unit: doc %s, catalog %s", m.Name, c[1], want))
		}
		if want := docType(m); c[2] != want {
			diff = append(diff, fmt.Sprintf("~ %s type: doc %q, catalog %q", m.Name, c[2], want))
		}
		for _, l := range m.Labels {
			if !strings.Contains(c[3], docstest.Code(l)) {
				diff = append(diff, fmt.Sprintf("~ %s labels: doc %q lacks %s", m.Name, c[3], docstest.Code(l)))
			}
		}
		if len(m.Labels) == 0 && c[3] != "(none)" {
			diff = append(diff, fmt.Sprintf("~ %s labels: doc %q, catalog (none)", m.Name, c[3]))
		}
		// Event metric rows explain more than Help (the field each reads,
		// the limits that apply); snapshot rows repeat it.
		if m.Source == Snapshot && c[4] != m.Help {
			diff = append(diff, fmt.Sprintf("~ %s description: doc %q, catalog %q", m.Name, c[4], m.Help))
		}
		if want := docstest.Code(m.PromName()); c[5] != want {
			diff = append(diff, fmt.Sprintf("~ %s Prometheus name: doc %s, catalog %s", m.Name, c[5], want))
		}
	}
	for name := range rows {
		if !seen[name] {
			diff = append(diff, fmt.Sprintf("- %s: row in docs/metrics.md, not in the catalog", name))
		}
	}
	if len(diff) > 0 {
		t.Errorf("docs/metrics.md differs from internal/catalog (+ missing row, - extra row, ~ cell):\n%s", strings.Join(diff, "\n"))
	}
}
