package dashboards

import "github.com/pulse-otel/pulse/internal/seeddef"

// Dashboard is one definition, in the seed's dashboardConfigs shape
// (createdAt and updatedAt are accepted and dropped).
type Dashboard struct {
	// File and Line say where the definition starts, for errors.
	File string
	Line int

	DashboardID string
	Name        string
	Type        string
	Layout      Layout
	Permissions Permissions
	Settings    Settings
	Tags        []string
	Description string
}

// Types are the seed's dashboard types.
var Types = []string{"executive", "user_analytics", "system_performance", "ai_monitoring", "custom"}

// Layout is the widget grid.
type Layout struct {
	Widgets  []Widget
	GridSize GridSize
}

// GridSize is the seed grid: Columns must divide Grafana's 24 columns
// (1, 2, 3, 4, 6, 8, 12 or 24); Rows bounds the widgets' y + height. One
// seed row is one Grafana grid row (30 px).
type GridSize struct {
	Columns int
	Rows    int
}

// Widget is one panel.
type Widget struct {
	Line     int
	ID       string
	Type     string // one of WidgetTypes
	Position Position
	Config   WidgetConfig
}

// WidgetTypes are the Grafana panel types a widget may be. A bargauge is
// one horizontal bar per series (per platform, per model): a breakdown read
// at a glance, where a timeseries would draw crossing lines.
var WidgetTypes = []string{"stat", "timeseries", "gauge", "bargauge", "table"}

// Position is a widget's place on the seed grid.
type Position struct {
	X, Y, Width, Height int
}

// WidgetConfig is what the seed leaves open ("config: any"): either KPI
// (with an optional Window) or PromQL (with Legend and Unit).
type WidgetConfig struct {
	Title       string
	Description string
	KPI         string
	Window      string // a Prometheus duration; empty: the KPI's default (rate KPIs: $__rate_interval)
	PromQL      string
	Legend      string
	Unit        string // a Grafana unit id; for KPIs, overrides the registry's unit
}

// Permissions are the seed's access control, written to the sidecar file
// for sync (Grafana's file provisioning has no permissions).
type Permissions struct {
	Owner    string
	Viewers  []string
	Editors  []string
	IsPublic bool
}

// Settings are the seed's dashboard settings.
type Settings struct {
	RefreshInterval  int    // seconds, at least MinRefresh
	Theme            string // light or dark; Grafana dashboards have none, see Meta
	Timezone         string // browser, utc or an IANA zone
	DefaultTimeRange string // a Prometheus duration: the dashboard shows now-range to now
}

// Defaults for settings a definition leaves out.
const (
	DefaultRefresh   = 30
	DefaultTheme     = "dark"
	DefaultTimezone  = "browser"
	DefaultTimeRange = "24h"
	// MinRefresh is Grafana's minimum refresh interval (min_refresh_interval), in seconds.
	MinRefresh = 5
	// GrafanaColumns is the width of Grafana's grid.
	GrafanaColumns = 24
)

// FieldError is one problem with a definition: where it is and what is
// wrong. Its Owners name the dashboard and, for a widget's fields, the
// widget; its Field is the path in the dashboard
// (layout.widgets[2].config.kpi).
type FieldError = seeddef.FieldError

// dashboardKind is how files and errors name dashboard definitions:
// dashboard "shop", a file's "dashboards" list; widgetOwner names a widget
// after its dashboard.
var dashboardKind = seeddef.Kind{Name: "dashboard", Plural: "dashboards"}

const widgetOwner = "widget"
