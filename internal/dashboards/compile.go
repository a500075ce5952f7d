package dashboards

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/gauge"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// DatasourceVar is the name of every dashboard's Prometheus datasource
// variable; panels and queries refer to it as ${datasource}.
const DatasourceVar = "datasource"

// PulseTag is added to every dashboard's tags.
const PulseTag = "pulse"

var datasourceRef = common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${" + DatasourceVar + "}")}

// GrafanaDashboard is the Grafana dashboard JSON model of schemaVersion 42, which
// file provisioning and the dashboard HTTP API take. The SDK marks it
// deprecated in favour of dashboardv2, the Kubernetes-style resource of
// Grafana 12's new API, which file provisioning does not read.
type GrafanaDashboard = dashboard.Dashboard //nolint:staticcheck // see above

var newDashboardBuilder = dashboard.NewDashboardBuilder //nolint:staticcheck // builds a GrafanaDashboard

// Build turns a validated definition into a Grafana dashboard
// (schemaVersion 42) whose panels read the recording rules of db alone
// (RecordingRules of db); CompileAll builds with the rules of all
// dashboards.
func Build(db Dashboard) (GrafanaDashboard, error) {
	rec, err := RecordingRules([]Dashboard{db})
	if err != nil {
		return GrafanaDashboard{}, err
	}
	return build(db, rec)
}

// build is Build with the recording rules rec: a panel whose KPI rec
// records reads the recorded series.
func build(db Dashboard, rec *Recording) (GrafanaDashboard, error) {
	s := db.Settings
	tags := slices.Clone(db.Tags)
	if !slices.Contains(tags, PulseTag) {
		tags = append(tags, PulseTag)
	}
	b := newDashboardBuilder(db.Name).
		Uid(db.DashboardID).
		Tags(tags).
		Timezone(s.Timezone).
		Refresh(fmt.Sprintf("%ds", s.RefreshInterval)).
		Time("now-"+s.DefaultTimeRange, "now").
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Readonly().
		WithVariable(dashboard.NewDatasourceVariableBuilder(DatasourceVar).
			Label("Data source").
			Type("prometheus").
			Description("The Prometheus-compatible store holding Pulse's metrics (promstore's query API by default)."))
	if db.Description != "" {
		b.Description(db.Description)
	}
	// Sorted by position, so the SDK's automatic placement (for a panel at
	// 0,0) never moves a panel.
	ws := slices.Clone(db.Layout.Widgets)
	slices.SortStableFunc(ws, func(a, b Widget) int {
		if a.Position.Y != b.Position.Y {
			return a.Position.Y - b.Position.Y
		}
		return a.Position.X - b.Position.X
	})
	scale := GrafanaColumns / db.Layout.GridSize.Columns
	for i, w := range ws {
		p, err := panel(w, uint32(i+1), scale, rec)
		if err != nil {
			return GrafanaDashboard{}, fmt.Errorf("dashboard %q: widget %q: %w", db.DashboardID, w.ID, err)
		}
		b.WithPanel(p)
	}
	d, err := b.Build()
	if err := buildErr(err); err != nil {
		return GrafanaDashboard{}, fmt.Errorf("dashboard %q: %w", db.DashboardID, err)
	}
	return d, nil
}

// buildErr drops the SDK's known quirk: Build returns an empty, non-nil
// cog.BuildErrors on success.
func buildErr(err error) error {
	var be cog.BuildErrors
	if errors.As(err, &be) && len(be) == 0 {
		return nil
	}
	return err
}

// Compile returns the Grafana dashboard JSON of db, indented, built as
// Build builds it.
func Compile(db Dashboard) ([]byte, error) {
	d, err := Build(db)
	if err != nil {
		return nil, err
	}
	return marshalDashboard(d)
}

func marshalDashboard(d GrafanaDashboard) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	// The SDK's own marshalers escape HTML anyway: undo it (the JSON is
	// the same, and PromQL's >= stays readable).
	out := buf.Bytes()
	for esc, c := range map[string]string{`\u003e`: ">", `\u003c`: "<", `\u0026`: "&"} {
		out = bytes.ReplaceAll(out, []byte(esc), []byte(c))
	}
	return out, nil
}

// panelBuilder is what the SDK's stat, timeseries, gauge, bargauge and
// table panel builders have in common.
type panelBuilder[B any] interface {
	cog.Builder[dashboard.Panel]
	Id(uint32) B
	Title(string) B
	Description(string) B
	Datasource(common.DataSourceRef) B
	GridPos(dashboard.GridPos) B
	Unit(string) B
	Min(float64) B
	Max(float64) B
	WithTarget(cog.Builder[variants.Dataquery]) B
}

func configure[B panelBuilder[B]](b B, id uint32, q Query, pos dashboard.GridPos, targets []*prometheus.DataqueryBuilder) B {
	b.Id(id).Title(q.Title).Description(q.Description).Datasource(datasourceRef).GridPos(pos).Unit(q.Unit)
	for _, t := range targets {
		b.WithTarget(t)
	}
	if hi, ok := unitMax(q.Unit); ok {
		b.Min(0).Max(hi)
	}
	return b
}

// RawRefID is the refId of the hidden query a panel that reads a recorded
// series keeps the KPI's own expression in: unhide it (and hide A) to draw
// the panel from a store without the recording rules.
const RawRefID = "raw"

func panel(w Widget, id uint32, scale int, rec *Recording) (cog.Builder[dashboard.Panel], error) {
	q, err := w.Query()
	if err != nil {
		return nil, err
	}
	pos := dashboard.GridPos{
		X: uint32(w.Position.X * scale), Y: uint32(w.Position.Y),
		W: uint32(w.Position.Width * scale), H: uint32(w.Position.Height),
	}
	newTarget := func(refID, expr string) *prometheus.DataqueryBuilder {
		t := prometheus.NewDataqueryBuilder().
			RefId(refID).
			Datasource(datasourceRef).
			Expr(expr).
			EditorMode(prometheus.QueryEditorModeCode)
		if q.Legend != "" {
			t.LegendFormat(q.Legend)
		}
		return t
	}
	var raw *prometheus.DataqueryBuilder
	target := newTarget("A", q.Expr)
	if name, ok := rec.Name(q.Expr); ok && w.Config.KPI != "" {
		target = newTarget("A", name)
		raw = newTarget(RawRefID, q.Expr).Hide(true)
	}
	return typedPanel(w.Type, id, q, pos, target, raw), nil
}

// typedPanel builds the panel of a widget type around its query target
// (and the hidden raw one, if any).
func typedPanel(typ string, id uint32, q Query, pos dashboard.GridPos, target, raw *prometheus.DataqueryBuilder) cog.Builder[dashboard.Panel] {
	targets := []*prometheus.DataqueryBuilder{target}
	if raw != nil {
		targets = append(targets, raw)
	}
	each := func(f func(*prometheus.DataqueryBuilder)) {
		for _, t := range targets {
			f(t)
		}
	}
	// Stat and gauge panels reduce a range query to its last value rather
	// than send an instant query: range queries over an aligned step hit
	// the store's range cache, and the sparkline comes for free.
	last := common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})
	switch typ {
	case "stat":
		each(func(t *prometheus.DataqueryBuilder) { t.Range() })
		return configure(stat.NewPanelBuilder(), id, q, pos, targets).ReduceOptions(last)
	case "gauge":
		each(func(t *prometheus.DataqueryBuilder) { t.Range() })
		return configure(gauge.NewPanelBuilder(), id, q, pos, targets).ReduceOptions(last)
	case "bargauge":
		// One horizontal bar per series, its last value, named by the
		// legend: a breakdown (per platform, per model) read at a glance.
		each(func(t *prometheus.DataqueryBuilder) { t.Range() })
		return configure(bargauge.NewPanelBuilder(), id, q, pos, targets).
			ReduceOptions(last).
			Orientation(common.VizOrientationHorizontal).
			DisplayMode(common.BarGaugeDisplayModeGradient).
			NamePlacement(common.BarGaugeNamePlacementLeft)
	case "table":
		each(func(t *prometheus.DataqueryBuilder) { t.Instant().Format(prometheus.PromQueryFormatTable) })
		// The footer's reducer is a required field the builder leaves null.
		footer := common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"lastNotNull"})
		b := configure(table.NewPanelBuilder(), id, q, pos, targets).Footer(footer)
		if raw != nil {
			// A recorded series has a name, which the table would show as
			// a __name__ column; the KPI's own result has none.
			b.WithTransformation(dashboard.DataTransformerConfig{
				Id: "organize", Options: map[string]any{"excludeByName": map[string]bool{"__name__": true}},
			})
		}
		return b
	default:
		each(func(t *prometheus.DataqueryBuilder) { t.Range() })
		// The SDK's defaults are showLegend false and an empty tooltip
		// mode, which would hide the legend in Grafana: the legend names
		// each line, and the tooltip lists every series at the cursor.
		return configure(timeseries.NewPanelBuilder(), id, q, pos, targets).
			Legend(common.NewVizLegendOptionsBuilder().ShowLegend(true).
				DisplayMode(common.LegendDisplayModeList).Placement(common.LegendPlacementBottom)).
			Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending))
	}
}

// CompileAll compiles dbs into the files of an output directory, by path
// relative to it: DashboardsDir/<dashboardId>.json, RecordingFile (the
// recording rules the panels read), ProviderFile, DatasourceFile and
// MetaFile. Every dashboard file passes Lint.
func CompileAll(dbs []Dashboard, o ProvisioningOptions) (map[string][]byte, error) {
	out := map[string][]byte{}
	rec, err := RecordingRules(dbs)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, db := range dbs {
		d, err := build(db, rec)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		b, err := marshalDashboard(d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		name := DashboardsDir + "/" + db.DashboardID + ".json"
		out[name] = b
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := LintAll(out); err != nil {
		return nil, err
	}
	if out[RecordingFile], err = rec.Marshal(); err != nil {
		return nil, err
	}
	if out[ProviderFile], err = Provider(o); err != nil {
		return nil, err
	}
	if out[DatasourceFile], err = Datasource(o); err != nil {
		return nil, err
	}
	if out[MetaFile], err = Meta(dbs); err != nil {
		return nil, err
	}
	return out, nil
}
