package dashboards

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decoder decodes one dashboard field by field, so that every error names
// its field (and its widget).
type decoder struct {
	file, dashboardID, widgetID string
	errs                        []error
}

func (d *decoder) fail(n *yaml.Node, field, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.errs = append(d.errs, &FieldError{File: d.file, Line: line, DashboardID: d.dashboardID, WidgetID: d.widgetID, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// fields decodes the mapping n: known maps each key to its decoder;
// ignored keys are accepted and dropped; required keys must be present.
func (d *decoder) fields(n *yaml.Node, path string, known map[string]func(*yaml.Node, string), ignored, required []string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, strings.TrimSuffix(path, "."), "must be a mapping, got %s", kindName(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		field := path + k.Value
		if seen[k.Value] {
			d.fail(k, field, "given twice")
			continue
		}
		seen[k.Value] = true
		if f, ok := known[k.Value]; ok {
			f(v, field)
			continue
		}
		if slices.Contains(ignored, k.Value) {
			continue
		}
		names := make([]string, 0, len(known))
		for name := range known {
			names = append(names, name)
		}
		sort.Strings(names)
		d.fail(k, field, "unknown field; known fields: %s", strings.Join(names, ", "))
	}
	for _, r := range required {
		if !seen[r] {
			d.fail(n, path+r, "missing")
		}
	}
}

func (d *decoder) str(dst *string) func(*yaml.Node, string) {
	return func(n *yaml.Node, field string) {
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			d.fail(n, field, "must be a string, got %s", kindName(n))
			return
		}
		*dst = n.Value
	}
}

func (d *decoder) integer(dst *int) func(*yaml.Node, string) {
	return func(n *yaml.Node, field string) {
		if n.Kind == yaml.ScalarNode && (n.Tag == "!!int" || n.Tag == "!!float") {
			if f, err := strconv.ParseFloat(n.Value, 64); err == nil && f == float64(int(f)) {
				*dst = int(f)
				return
			}
		}
		d.fail(n, field, "must be a whole number, got %s", kindName(n))
	}
}

func (d *decoder) boolean(dst *bool) func(*yaml.Node, string) {
	return func(n *yaml.Node, field string) {
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			d.fail(n, field, "must be true or false, got %s", kindName(n))
			return
		}
		*dst = n.Value == "true"
	}
}

func (d *decoder) strings(dst *[]string) func(*yaml.Node, string) {
	return func(n *yaml.Node, field string) {
		if n.Kind != yaml.SequenceNode {
			d.fail(n, field, "must be a list of strings, got %s", kindName(n))
			return
		}
		for i, c := range n.Content {
			var s string
			d.str(&s)(c, fmt.Sprintf("%s[%d]", field, i))
			*dst = append(*dst, s)
		}
	}
}

func decodeDashboard(file string, n *yaml.Node) (Dashboard, []error) {
	db := Dashboard{File: file, Line: n.Line, Settings: Settings{
		RefreshInterval: DefaultRefresh, Theme: DefaultTheme, Timezone: DefaultTimezone, DefaultTimeRange: DefaultTimeRange,
	}}
	d := &decoder{file: file}
	if n.Kind == yaml.MappingNode {
		if id := mapValue(n, "dashboardId"); id != nil && id.Kind == yaml.ScalarNode {
			d.dashboardID = id.Value
		}
	}
	d.fields(n, "", map[string]func(*yaml.Node, string){
		"dashboardId": d.str(&db.DashboardID),
		"name":        d.str(&db.Name),
		"type":        d.str(&db.Type),
		"layout":      func(n *yaml.Node, f string) { d.layout(n, f, &db.Layout) },
		"permissions": func(n *yaml.Node, f string) { d.permissions(n, f, &db.Permissions) },
		"settings":    func(n *yaml.Node, f string) { d.settings(n, f, &db.Settings) },
		"tags":        d.strings(&db.Tags),
		"description": d.str(&db.Description),
	}, []string{"createdAt", "updatedAt"}, []string{"dashboardId", "name", "type", "layout"})
	return db, d.errs
}

func (d *decoder) layout(n *yaml.Node, path string, l *Layout) {
	d.fields(n, path+".", map[string]func(*yaml.Node, string){
		"widgets": func(n *yaml.Node, field string) {
			if n.Kind != yaml.SequenceNode {
				d.fail(n, field, "must be a list of widgets, got %s", kindName(n))
				return
			}
			for i, c := range n.Content {
				l.Widgets = append(l.Widgets, d.widget(c, fmt.Sprintf("%s[%d]", field, i)))
			}
		},
		"gridSize": func(n *yaml.Node, field string) {
			d.fields(n, field+".", map[string]func(*yaml.Node, string){
				"columns": d.integer(&l.GridSize.Columns),
				"rows":    d.integer(&l.GridSize.Rows),
			}, nil, []string{"columns", "rows"})
		},
	}, nil, []string{"widgets", "gridSize"})
}

func (d *decoder) widget(n *yaml.Node, path string) Widget {
	w := Widget{Line: n.Line}
	if n.Kind == yaml.MappingNode {
		if id := mapValue(n, "id"); id != nil && id.Kind == yaml.ScalarNode {
			w.ID = id.Value
		}
	}
	prev := d.widgetID
	d.widgetID = w.ID
	defer func() { d.widgetID = prev }()
	c := &w.Config
	d.fields(n, path+".", map[string]func(*yaml.Node, string){
		"id":   d.str(&w.ID),
		"type": d.str(&w.Type),
		"position": func(n *yaml.Node, field string) {
			d.fields(n, field+".", map[string]func(*yaml.Node, string){
				"x":      d.integer(&w.Position.X),
				"y":      d.integer(&w.Position.Y),
				"width":  d.integer(&w.Position.Width),
				"height": d.integer(&w.Position.Height),
			}, nil, []string{"x", "y", "width", "height"})
		},
		"config": func(n *yaml.Node, field string) {
			d.fields(n, field+".", map[string]func(*yaml.Node, string){
				"title":       d.str(&c.Title),
				"description": d.str(&c.Description),
				"kpi":         d.str(&c.KPI),
				"window":      d.str(&c.Window),
				"promql":      d.str(&c.PromQL),
				"legend":      d.str(&c.Legend),
				"unit":        d.str(&c.Unit),
			}, nil, nil)
		},
	}, nil, []string{"id", "type", "position", "config"})
	return w
}

func (d *decoder) permissions(n *yaml.Node, path string, p *Permissions) {
	d.fields(n, path+".", map[string]func(*yaml.Node, string){
		"owner":    d.str(&p.Owner),
		"viewers":  d.strings(&p.Viewers),
		"editors":  d.strings(&p.Editors),
		"isPublic": d.boolean(&p.IsPublic),
	}, nil, nil)
}

func (d *decoder) settings(n *yaml.Node, path string, s *Settings) {
	d.fields(n, path+".", map[string]func(*yaml.Node, string){
		"refreshInterval":  d.integer(&s.RefreshInterval),
		"theme":            d.str(&s.Theme),
		"timezone":         d.str(&s.Timezone),
		"defaultTimeRange": d.str(&s.DefaultTimeRange),
	}, nil, nil)
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an alias"
}
