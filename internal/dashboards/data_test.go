package dashboards_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"

	"github.com/pulse-otel/pulse/exporter/promstoreexporter"
	"github.com/pulse-otel/pulse/internal/catalog"
	"github.com/pulse-otel/pulse/internal/dashboards"
	"github.com/pulse-otel/pulse/internal/metricgen"
	"github.com/pulse-otel/pulse/internal/testutil"
)

type genSeries struct {
	lset   labels.Labels
	ref    storage.SeriesRef
	kind   catalog.Kind
	unit   string
	base   float64
	bounds []float64
	bucket int // for _bucket series: index of le; -1 _sum, -2 _count, -3 the sum or gauge
	value  float64
}

// catalogSeries lists every series of the catalog (plus the receiver's
// rejected-items counter of the collector's own telemetry, which a panel
// reads), with label values from metricgen.LabelValues.
func catalogSeries() []*genSeries {
	var out []*genSeries
	for _, m := range catalog.All() {
		base := 1.0
		if metricgen.RatioWholes[m.Name] {
			base = 100
		}
		var combos [][]labels.Label
		combos = append(combos, nil)
		for _, key := range m.Labels {
			vals := metricgen.LabelValues[key]
			if key == "platform" && strings.HasPrefix(m.Name, "pulse.business.") {
				vals = []string{""}
			}
			if len(vals) == 0 {
				vals = []string{key + "_0"}
			}
			var next [][]labels.Label
			for _, c := range combos {
				for _, v := range vals {
					next = append(next, append(append([]labels.Label(nil), c...), labels.Label{Name: key, Value: v}))
				}
			}
			combos = next
		}
		for _, c := range combos {
			mk := func(name string, bucket int, extra ...labels.Label) {
				b := labels.NewBuilder(labels.FromStrings("__name__", name, "job", "shop", "instance", "pulse-0"))
				for _, l := range append(c, extra...) {
					b.Set(l.Name, l.Value)
				}
				out = append(out, &genSeries{lset: b.Labels(), kind: m.Kind, unit: m.Unit, base: base, bounds: m.Bounds, bucket: bucket})
			}
			if m.Kind != catalog.Histogram {
				mk(m.PromName(), -3)
				continue
			}
			for j := range len(m.Bounds) + 1 {
				le := "+Inf"
				if j < len(m.Bounds) {
					le = strconv.FormatFloat(m.Bounds[j], 'f', -1, 64)
				}
				mk(m.PromName()+"_bucket", j, labels.Label{Name: "le", Value: le})
			}
			mk(m.PromName()+"_sum", -1)
			mk(m.PromName()+"_count", -2)
		}
	}
	for _, reason := range []string{"missing", "type"} {
		out = append(out, &genSeries{lset: labels.FromStrings("__name__", "otelcol_receiver_analytics_rejected_items", "job", "pulse", "endpoint", "events", "reason", reason, "field", "action", "platform", "web"), kind: catalog.Sum, base: 1, bucket: -3})
	}
	for _, platform := range []string{"web", "ios"} {
		out = append(out, &genSeries{lset: labels.FromStrings("__name__", "otelcol_receiver_analytics_accepted_items", "job", "pulse", "endpoint", "events", "platform", platform), kind: catalog.Sum, base: 1, bucket: -3})
	}
	return out
}

// step advances every series: counters and histograms grow, gauges take a
// value within their unit's range.
func step(series []*genSeries, rng *rand.Rand) {
	var n float64 // observations of the current histogram series
	for _, s := range series {
		switch {
		case s.kind == catalog.Sum:
			s.value += math.Round(s.base * 10 * (0.5 + rng.Float64()))
		case s.kind == catalog.Gauge:
			switch s.unit {
			case "1":
				s.value = 0.5 + 0.4*rng.Float64()
			case "%":
				s.value = 95 + 5*rng.Float64()
			default:
				s.value = math.Round(s.base * (10 + 90*rng.Float64()))
			}
		case s.bucket == 0:
			n = math.Round(s.base * 10 * (0.5 + rng.Float64()))
			s.value += n / 2 // half the observations in the first bucket
		case s.bucket > 0: // the other half spread evenly; le buckets are cumulative, +Inf holds all
			s.value += n/2 + n/2*float64(s.bucket)/float64(len(s.bounds))
		case s.bucket == -1:
			s.value += n * s.bounds[0] * 0.7
		case s.bucket == -2:
			s.value += n
		}
	}
}

// resolution is a stretch of generated data: a sample of every series
// every every, up to and including until.
type resolution struct {
	until time.Time
	every time.Duration
}

// dataSpan is how far back the generated data reaches: 30 days, the
// longest window of a KPI (active users over 30d) and the seed's monthly
// view.
const dataSpan = 30 * 24 * time.Hour

// dataResolutions are the stretches the 30 days are written in, for end:
// a sample every 3 hours up to 8 days back (reached by no panel's range
// and window, only by the store's span), every 10 minutes up to 2 hours back
// (the 7d range and its 1d windows), then every 15 s (the connector's
// export interval: the 5m and 1h ranges and the rules' windows see what
// the connector writes). Dense throughout, the 30 days would take minutes
// to write under -race.
func dataResolutions(end time.Time) []resolution {
	return []resolution{
		{until: end.Add(-8 * 24 * time.Hour), every: 3 * time.Hour},
		{until: end.Add(-2 * time.Hour), every: 10 * time.Minute},
		{until: end, every: dashboards.ScrapeInterval},
	}
}

// fill writes samples of every catalog series from start through the
// stretches res, and returns how many timestamps it wrote.
func fill(t *testing.T, dir string, start time.Time, res []resolution) int {
	t.Helper()
	db, err := tsdb.Open(dir, nil, nil, tsdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	series := catalogSeries()
	rng := rand.New(rand.NewPCG(1, 2))
	ctx := context.Background()
	n := 0
	ts := start
	for _, r := range res {
		for ; !ts.After(r.until); ts = ts.Add(r.every) {
			step(series, rng)
			app := db.AppenderV2(ctx)
			for _, s := range series {
				ref, err := app.Append(s.ref, s.lset, 0, ts.UnixMilli(), s.value, nil, nil, storage.AOptions{})
				if err != nil {
					t.Fatal(err)
				}
				s.ref = ref
			}
			if err := app.Commit(); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return n
}

type promResult struct {
	Status string `json:"status"`
	Error  string `json:"error"`
	Data   struct {
		Result []struct {
			Values [][2]any `json:"values"`
			Value  [2]any   `json:"value"`
		} `json:"result"`
	} `json:"data"`
}

// panelQuery is one query a compiled panel sends, with a recorded series
// replaced by the expression its rule records.
type panelQuery struct {
	name, expr, unit string
	instant          bool
}

// builtinPanelQueries are the queries the compiled built-in dashboards
// send (their visible targets). A panel that reads a recorded series is
// checked through the rule's expression: the recorded value at each
// evaluation is that expression's value then, and a range query over it
// proves what the panel draws once the rules have run as long as the range.
func builtinPanelQueries(t *testing.T) ([]panelQuery, *dashboards.Recording) {
	t.Helper()
	dbs := dashboards.LoadBuiltin(t)
	rec, err := dashboards.RecordingRules(dbs)
	if err != nil {
		t.Fatal(err)
	}
	files, err := dashboards.CompileAll(dbs, dashboards.ProvisioningOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []panelQuery
	recorded := 0
	for _, db := range dbs {
		d, err := dashboards.Decode(files[dashboards.DashboardsDir+"/"+db.DashboardID+".json"])
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range d.Panels {
			unit := dashboards.Deref(p.Panel.FieldConfig.Defaults.Unit)
			for _, tg := range p.Panel.Targets {
				q := tg.(*prometheus.Dataquery)
				if dashboards.Deref(q.Hide) {
					continue
				}
				expr := q.Expr
				if e, ok := rec.Expr(expr); ok {
					expr = e
					recorded++
				}
				out = append(out, panelQuery{name: db.DashboardID + "/" + dashboards.Deref(p.Panel.Title), expr: expr, unit: unit, instant: dashboards.Deref(q.Instant)})
			}
		}
	}
	if recorded == 0 {
		t.Fatal("no panel reads a recorded series")
	}
	return out, rec
}

// promstoreClient queries a promstore's HTTP API.
type promstoreClient struct {
	addr   string
	client *http.Client
}

func (c promstoreClient) get(path string, v url.Values) (promResult, error) {
	var r promResult
	resp, err := c.client.Get("http://" + c.addr + path + "?" + v.Encode())
	if err != nil {
		return r, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return r, fmt.Errorf("HTTP %d: %w", resp.StatusCode, err)
	}
	if r.Status != "success" {
		return r, fmt.Errorf("HTTP %d: %s", resp.StatusCode, r.Error)
	}
	return r, nil
}

// instant is the values of an instant query at ts.
func (c promstoreClient) instant(expr string, ts float64) ([]float64, error) {
	r, err := c.get("/api/v1/query", url.Values{"query": {expr}, "time": {strconv.FormatFloat(ts, 'f', -1, 64)}})
	if err != nil {
		return nil, err
	}
	var out []float64
	for _, s := range r.Data.Result {
		f, err := strconv.ParseFloat(fmt.Sprint(s.Value[1]), 64)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	slices.Sort(out)
	return out, nil
}

// Every query of the built-in dashboards runs against promstore holding
// catalog-shaped data, at the 5m, 1h, 24h and 7d ranges Grafana asks for
// (step = range / 1000 points, at least the 15 s scrape interval; Grafana's
// variables filled in as Grafana fills them): no error, data present, and
// the values of ratio and percent panels within [0, 1] and [0, 100].
// Before that, promstore evaluates the compiled recording rules (every 15 s
// here instead of every minute and day) and every recorded series holds
// what its expression gives at the evaluation's time.
func TestBuiltinQueriesOnPromstore(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a TSDB with 30 days of data")
	}
	dir := t.TempDir()
	end := time.Now().Truncate(time.Minute)
	start := end.Add(-dataSpan)
	written := time.Now()
	points := fill(t, dir, start, dataResolutions(end))
	t.Logf("30 days of catalog-shaped data: %d series at %d timestamps, written in %s", len(catalogSeries()), points, time.Since(written).Round(time.Millisecond))
	queries, rec := builtinPanelQueries(t)

	fast := *rec
	fast.Groups.Groups = slices.Clone(rec.Groups.Groups)
	for i := range fast.Groups.Groups {
		fast.Groups.Groups[i].Interval = model.Duration(15 * time.Second)
	}
	rules, err := fast.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	rulesFile := filepath.Join(t.TempDir(), "recording.yaml")
	if err := os.WriteFile(rulesFile, rules, 0o644); err != nil {
		t.Fatal(err)
	}

	cfg := promstoreexporter.NewFactory().CreateDefaultConfig().(*promstoreexporter.Config)
	cfg.NetAddr.Endpoint = testutil.FreeAddr(t)
	cfg.Directory = dir
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	cfg.RetryConfig.Enabled = false
	cfg.Rules.Files = []string{rulesFile}
	cfg.Rules.EvaluationInterval = 15 * time.Second
	ctx := context.Background()
	exp, err := promstoreexporter.NewFactory().CreateMetrics(ctx, exportertest.NewNopSettings(promstoreexporter.NewFactory().Type()), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := exp.Start(ctx, componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := exp.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	c := promstoreClient{addr: cfg.NetAddr.Endpoint, client: &http.Client{Timeout: 30 * time.Second}}

	// The store holds the 30 days: the first day's samples answer.
	if got, err := c.instant("count(count_over_time(pulse_users_seen[1h]))", float64(start.Add(30*time.Minute).Unix())); err != nil || len(got) == 0 {
		t.Errorf("no data 30 days back (%v): the store does not hold the span", err)
	}

	rulesStart := time.Now()
	checkRecorded(t, c, fast)
	t.Logf("recording rules checked in %s", time.Since(rulesStart).Round(time.Millisecond))
	queriesStart := time.Now()

	for _, q := range queries {
		hi, bounded := dashboards.UnitMax(q.unit)
		for _, rng := range []time.Duration{5 * time.Minute, time.Hour, 24 * time.Hour, 7 * 24 * time.Hour} {
			stepDur := max(rng/1000, dashboards.ScrapeInterval).Truncate(time.Second)
			expr := dashboards.Substitute(q.expr, rng, stepDur)
			name := fmt.Sprintf("%s over %s", q.name, rng)
			v := url.Values{"query": {expr}}
			var values []string
			if q.instant {
				v.Set("time", strconv.FormatInt(end.Unix(), 10))
				r, err := c.get("/api/v1/query", v)
				if err != nil {
					t.Errorf("%s: %v\n%s", name, err, expr)
					continue
				}
				for _, s := range r.Data.Result {
					values = append(values, fmt.Sprint(s.Value[1]))
				}
			} else {
				v.Set("start", strconv.FormatInt(end.Add(-rng).Unix(), 10))
				v.Set("end", strconv.FormatInt(end.Unix(), 10))
				v.Set("step", strconv.FormatInt(int64(stepDur.Seconds()), 10))
				r, err := c.get("/api/v1/query_range", v)
				if err != nil {
					t.Errorf("%s: %v\n%s", name, err, expr)
					continue
				}
				for _, s := range r.Data.Result {
					for _, p := range s.Values {
						values = append(values, fmt.Sprint(p[1]))
					}
				}
			}
			if len(values) == 0 {
				t.Errorf("%s: no data\n%s", name, expr)
				continue
			}
			for _, s := range values {
				f, err := strconv.ParseFloat(s, 64)
				if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || (bounded && (f < -1e-9 || f > hi+1e-9)) {
					t.Errorf("%s: value %s outside the %s range\n%s", name, s, q.unit, expr)
					break
				}
			}
		}
	}
	t.Logf("%d panel queries at 4 ranges each, in %s", len(queries), time.Since(queriesStart).Round(time.Millisecond))
}

// checkRecorded waits (at most a minute) until every rule of rec has
// recorded a series, then compares each with its expression at the time
// of the recorded sample.
func checkRecorded(t *testing.T, c promstoreClient, rec dashboards.Recording) {
	t.Helper()
	var rules []rulefmt.Rule
	for _, g := range rec.Groups.Groups {
		rules = append(rules, g.Rules...)
	}
	deadline := time.Now().Add(time.Minute)
	pending := rules
	for len(pending) > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Second)
		var still []rulefmt.Rule
		for _, r := range pending {
			ts, err := c.instant("timestamp("+r.Record+")", float64(time.Now().Unix()))
			if err != nil {
				t.Fatalf("%s: %v", r.Record, err)
			}
			if len(ts) == 0 {
				still = append(still, r)
				continue
			}
			got, err := c.instant(r.Record, ts[0])
			if err != nil {
				t.Fatalf("%s: %v", r.Record, err)
			}
			want, err := c.instant(r.Expr, ts[0])
			if err != nil {
				t.Fatalf("%s: %v", r.Expr, err)
			}
			if len(got) != len(want) {
				t.Errorf("%s: %d series at %v, its expression gives %d", r.Record, len(got), ts[0], len(want))
				continue
			}
			for i := range got {
				if math.Abs(got[i]-want[i]) > 1e-9*math.Max(1, math.Abs(want[i])) {
					t.Errorf("%s = %v at %v, its expression gives %v", r.Record, got[i], ts[0], want[i])
				}
			}
		}
		pending = still
	}
	for _, r := range pending {
		t.Errorf("%s: promstore recorded nothing within a minute\n%s", r.Record, r.Expr)
	}
}
