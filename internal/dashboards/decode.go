package dashboards

import (
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/pulse-otel/pulse/internal/seeddef"
)

// decoder decodes one dashboard field by field, so that every error names
// its field (and its widget).
type decoder struct{ *seeddef.Decoder }

func decodeDashboard(file string, n *yaml.Node) (Dashboard, []error) {
	db := Dashboard{File: file, Line: n.Line, Settings: Settings{
		RefreshInterval: DefaultRefresh, Theme: DefaultTheme, Timezone: DefaultTimezone, DefaultTimeRange: DefaultTimeRange,
	}}
	d := decoder{&seeddef.Decoder{File: file}}
	d.In(dashboardKind.Name, seeddef.ID(n, "dashboardId"), func() { d.dashboard(n, &db) })
	return db, d.Errs()
}

func (d decoder) dashboard(n *yaml.Node, db *Dashboard) {
	d.Fields(n, "", map[string]seeddef.Field{
		"dashboardId": d.Text(&db.DashboardID),
		"name":        d.Text(&db.Name),
		"type":        d.Text(&db.Type),
		"layout":      func(n *yaml.Node, f string) { d.layout(n, f, &db.Layout) },
		"permissions": func(n *yaml.Node, f string) { d.permissions(n, f, &db.Permissions) },
		"settings":    func(n *yaml.Node, f string) { d.settings(n, f, &db.Settings) },
		"tags":        d.Strings(&db.Tags, d.Text),
		"description": d.Text(&db.Description),
	}, []string{"createdAt", "updatedAt"}, []string{"dashboardId", "name", "type", "layout"})
}

func (d decoder) layout(n *yaml.Node, path string, l *Layout) {
	d.Fields(n, path+".", map[string]seeddef.Field{
		"widgets": func(n *yaml.Node, field string) {
			if n.Kind != yaml.SequenceNode {
				d.Fail(n, field, "must be a list of widgets, got %s", seeddef.KindName(n))
				return
			}
			for i, c := range n.Content {
				l.Widgets = append(l.Widgets, d.widget(c, fmt.Sprintf("%s[%d]", field, i)))
			}
		},
		"gridSize": func(n *yaml.Node, field string) {
			d.Fields(n, field+".", map[string]seeddef.Field{
				"columns": d.Int(&l.GridSize.Columns),
				"rows":    d.Int(&l.GridSize.Rows),
			}, nil, []string{"columns", "rows"})
		},
	}, nil, []string{"widgets", "gridSize"})
}

func (d decoder) widget(n *yaml.Node, path string) Widget {
	w := Widget{Line: n.Line, ID: seeddef.ID(n, "id")}
	d.In(widgetOwner, w.ID, func() { d.widgetFields(n, path, &w) })
	return w
}

func (d decoder) widgetFields(n *yaml.Node, path string, w *Widget) {
	c := &w.Config
	d.Fields(n, path+".", map[string]seeddef.Field{
		"id":   d.Text(&w.ID),
		"type": d.Text(&w.Type),
		"position": func(n *yaml.Node, field string) {
			d.Fields(n, field+".", map[string]seeddef.Field{
				"x":      d.Int(&w.Position.X),
				"y":      d.Int(&w.Position.Y),
				"width":  d.Int(&w.Position.Width),
				"height": d.Int(&w.Position.Height),
			}, nil, []string{"x", "y", "width", "height"})
		},
		"config": func(n *yaml.Node, field string) {
			d.Fields(n, field+".", map[string]seeddef.Field{
				"title":       d.Text(&c.Title),
				"description": d.Text(&c.Description),
				"kpi":         d.Text(&c.KPI),
				"window":      d.Text(&c.Window),
				"promql":      d.Text(&c.PromQL),
				"legend":      d.Text(&c.Legend),
				"unit":        d.Text(&c.Unit),
			}, nil, nil)
		},
	}, nil, []string{"id", "type", "position", "config"})
}

func (d decoder) permissions(n *yaml.Node, path string, p *Permissions) {
	d.Fields(n, path+".", map[string]seeddef.Field{
		"owner":    d.Text(&p.Owner),
		"viewers":  d.Strings(&p.Viewers, d.Text),
		"editors":  d.Strings(&p.Editors, d.Text),
		"isPublic": d.Bool(&p.IsPublic),
	}, nil, nil)
}

func (d decoder) settings(n *yaml.Node, path string, s *Settings) {
	d.Fields(n, path+".", map[string]seeddef.Field{
		"refreshInterval":  d.Int(&s.RefreshInterval),
		"theme":            d.Text(&s.Theme),
		"timezone":         d.Text(&s.Timezone),
		"defaultTimeRange": d.Text(&s.DefaultTimeRange),
	}, nil, nil)
}
