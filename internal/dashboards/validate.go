package dashboards

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // IANA zones for timezone validation on hosts without tzdata

	"github.com/prometheus/common/model"

	"github.com/pulse-otel/pulse/internal/kpi"
	"github.com/pulse-otel/pulse/internal/seeddef"
)

// uidPattern is what Grafana accepts as a dashboard UID (at most 40
// characters); the dashboardId is the UID, so it is stable across runs.
var uidPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,40}$`)

func (db Dashboard) fail(w *Widget, line int, field, format string, args ...any) error {
	owners := []seeddef.Owner{{Kind: dashboardKind.Name, ID: db.DashboardID}}
	if w != nil {
		owners = append(owners, seeddef.Owner{Kind: widgetOwner, ID: w.ID})
	}
	return &FieldError{File: db.File, Line: line, Owners: owners, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// validate checks what decoding cannot: values, the grid and the queries.
func (db Dashboard) validate() []error {
	var errs []error
	failf := func(field, format string, args ...any) {
		errs = append(errs, db.fail(nil, db.Line, field, format, args...))
	}
	if !uidPattern.MatchString(db.DashboardID) {
		failf("dashboardId", "must be 1 to 40 letters, digits, '-' or '_' (it is the Grafana UID), got %q", db.DashboardID)
	}
	if strings.TrimSpace(db.Name) == "" {
		failf("name", "must not be empty")
	}
	if !slices.Contains(Types, db.Type) {
		failf("type", "must be one of %s, got %q", strings.Join(Types, ", "), db.Type)
	}
	s := db.Settings
	if s.RefreshInterval < MinRefresh {
		failf("settings.refreshInterval", "must be at least %d seconds (Grafana's minimum refresh), got %d", MinRefresh, s.RefreshInterval)
	}
	if s.Theme != "light" && s.Theme != "dark" {
		failf("settings.theme", "must be light or dark, got %q", s.Theme)
	}
	if s.Timezone != "browser" && s.Timezone != "utc" {
		if _, err := time.LoadLocation(s.Timezone); err != nil || s.Timezone == "" || s.Timezone == "Local" {
			failf("settings.timezone", "must be browser, utc or an IANA zone (Europe/Berlin), got %q", s.Timezone)
		}
	}
	if d, err := model.ParseDuration(s.DefaultTimeRange); err != nil || d <= 0 {
		failf("settings.defaultTimeRange", "must be a positive duration (1h, 24h, 7d), got %q", s.DefaultTimeRange)
	}
	for i, t := range db.Tags {
		if strings.TrimSpace(t) == "" {
			failf(fmt.Sprintf("tags[%d]", i), "must not be empty")
		}
	}
	errs = append(errs, db.validateGrid()...)
	for i := range db.Layout.Widgets {
		errs = append(errs, db.validateWidget(i)...)
	}
	return errs
}

func (db Dashboard) validateGrid() []error {
	var errs []error
	g := db.Layout.GridSize
	if g.Columns < 1 || g.Columns > GrafanaColumns || GrafanaColumns%g.Columns != 0 {
		return []error{db.fail(nil, db.Line, "layout.gridSize.columns", "must divide Grafana's %d columns (1, 2, 3, 4, 6, 8, 12 or 24), got %d", GrafanaColumns, g.Columns)}
	}
	if g.Rows < 1 {
		return []error{db.fail(nil, db.Line, "layout.gridSize.rows", "must be at least 1, got %d", g.Rows)}
	}
	ws := db.Layout.Widgets
	seen := map[string]int{}
	for i := range ws {
		w := &ws[i]
		field := fmt.Sprintf("layout.widgets[%d]", i)
		if j, ok := seen[w.ID]; ok {
			errs = append(errs, db.fail(w, w.Line, field+".id", "given twice (also layout.widgets[%d])", j))
		} else {
			seen[w.ID] = i
		}
		p := w.Position
		switch {
		case p.X < 0 || p.Y < 0:
			errs = append(errs, db.fail(w, w.Line, field+".position", "x and y must be at least 0, got x=%d y=%d", p.X, p.Y))
			continue
		case p.Width < 1 || p.Height < 1:
			errs = append(errs, db.fail(w, w.Line, field+".position", "width and height must be at least 1, got width=%d height=%d", p.Width, p.Height))
			continue
		case p.X+p.Width > g.Columns:
			errs = append(errs, db.fail(w, w.Line, field+".position", "x+width=%d is outside the grid's %d columns", p.X+p.Width, g.Columns))
			continue
		case p.Y+p.Height > g.Rows:
			errs = append(errs, db.fail(w, w.Line, field+".position", "y+height=%d is outside the grid's %d rows", p.Y+p.Height, g.Rows))
			continue
		}
		for j := range i {
			if overlaps(ws[j].Position, p) {
				errs = append(errs, db.fail(w, w.Line, field+".position", "overlaps widget %q (layout.widgets[%d])", ws[j].ID, j))
			}
		}
	}
	return errs
}

func overlaps(a, b Position) bool {
	return a.X < b.X+b.Width && b.X < a.X+a.Width && a.Y < b.Y+b.Height && b.Y < a.Y+a.Height
}

func (db Dashboard) validateWidget(i int) []error {
	w := &db.Layout.Widgets[i]
	field := fmt.Sprintf("layout.widgets[%d]", i)
	var errs []error
	failf := func(f, format string, args ...any) {
		errs = append(errs, db.fail(w, w.Line, field+f, format, args...))
	}
	if strings.TrimSpace(w.ID) == "" {
		failf(".id", "must not be empty")
	}
	if !slices.Contains(WidgetTypes, w.Type) {
		failf(".type", "must be one of %s, got %q", strings.Join(WidgetTypes, ", "), w.Type)
	}
	c := w.Config
	switch {
	case c.KPI != "" && c.PromQL != "":
		failf(".config", "kpi and promql are exclusive: give one")
		return errs
	case c.KPI == "" && c.PromQL == "":
		failf(".config", "needs kpi (a KPI of the registry) or promql")
		return errs
	case c.KPI != "":
		if c.Legend != "" {
			failf(".config.legend", "is for promql widgets; a KPI's series are named by its labels")
		}
		if _, err := w.Query(); err != nil {
			f := ".config.window"
			if _, ok := kpi.Lookup(c.KPI); !ok {
				f = ".config.kpi"
			}
			failf(f, "%v", err)
		}
	default:
		if c.Window != "" {
			failf(".config.window", "is for kpi widgets; write the range into the promql")
		}
		if strings.TrimSpace(c.Title) == "" {
			failf(".config.title", "a promql widget needs a title")
		}
		if strings.TrimSpace(c.Description) == "" {
			failf(".config.description", "a promql widget needs a description")
		}
		if c.Unit == "" {
			failf(".config.unit", "a promql widget needs a Grafana unit (percentunit, ms, reqps, short, ...)")
		}
		if err := CheckPromQL(c.PromQL); err != nil {
			failf(".config.promql", "%v", err)
		}
	}
	if c.Unit != "" && !ValidUnit(c.Unit) {
		failf(".config.unit", "%q is not a Grafana unit id (percentunit, percent, ms, s, reqps, short, none, suffix:TEXT, ...)", c.Unit)
	}
	return errs
}
