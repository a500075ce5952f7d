// Package dashboards compiles dashboard definitions in the seed's
// dashboardConfigs shape (YAML or JSON, see docs/dashboards.md) into Grafana
// dashboard JSON, file-provisioning files, a sidecar with the fields
// Grafana has no place for (theme, permissions) and the recording rules
// the panels read (recording.go).
//
// A widget either names a KPI of internal/kpi, which gives the query, the
// unit and the description, or brings its own PromQL, legend and unit. The
// compiler builds every dashboard with the Grafana Foundation SDK, so the
// output has the shape the SDK's strict decoder accepts; Lint then checks
// what Grafana's dashboard-linter checks (it is not installable here), with
// the real PromQL parser.
//
// What it deliberately does not do: draw rows, repeat panels per label
// value or template anything but the datasource. A definition's grid is the
// whole layout, and per-label breakdowns are written as "by (...)" in the
// query, so the queries the linter and the data proofs see are exactly the
// queries Grafana sends.
package dashboards // import "github.com/pulse-otel/pulse/internal/dashboards"
