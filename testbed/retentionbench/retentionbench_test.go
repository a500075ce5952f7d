package retentionbench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"

	"github.com/pulse-otel/pulse/exporter/promstoreexporter"
	"github.com/pulse-otel/pulse/internal/metricgen"
	"github.com/pulse-otel/pulse/internal/retention"
	"github.com/pulse-otel/pulse/internal/testutil"
	"github.com/pulse-otel/pulse/testbed/internal/knob"
)

// TestRetentionBench writes two years of catalog-shaped history (about
// 2,400 series) as the default policy keeps it, and 30 days of raw samples
// without it, measures both on disk, then starts promstore over the policy
// store and times the panels' range queries over 2 years of x:1h against
// the same panels over 30 days of raw samples.
//
// Knobs: RETENTIONBENCH_QUERIES (200 per panel and round on x:1h),
// RETENTIONBENCH_RAW_QUERIES (200 per panel and round on raw),
// RETENTIONBENCH_ROUNDS (3), RETENTIONBENCH_RAW_DAYS (30: raw days kept
// by the policy and written without it), RETENTIONBENCH_ROUND_BUDGET (2m: a
// variant's queries in a round stop there, the counts say how far they got), RETENTIONBENCH_DIR (keep
// the stores there instead of a temporary directory).
func TestRetentionBench(t *testing.T) {
	if os.Getenv("RETENTIONBENCH") != "1" {
		t.Skip("manual benchmark; run with RETENTIONBENCH=1")
	}
	dir := knob.String("RETENTIONBENCH_DIR", "")
	if dir == "" {
		dir = t.TempDir()
	}
	tiers := append([]Tier(nil), DefaultTiers...)
	tiers[0].Keep = time.Duration(knob.Int(t, "RETENTIONBENCH_RAW_DAYS", 30)) * day
	rep := run(t, setup{
		metrics: benchCatalog,
		tiers:   tiers,
		dir:     dir,
		variants: []variant{
			{Variant{retention.R1h, 730 * day}, knob.Int(t, "RETENTIONBENCH_QUERIES", 200)},
			{Variant{retention.R5m, 180 * day}, knob.Int(t, "RETENTIONBENCH_QUERIES", 200)},
			{Variant{retention.R1h, tiers[0].Keep}, knob.Int(t, "RETENTIONBENCH_QUERIES", 200)},
			{Variant{retention.Raw, tiers[0].Keep}, knob.Int(t, "RETENTIONBENCH_RAW_QUERIES", 200)},
		},
		rounds: knob.Int(t, "RETENTIONBENCH_ROUNDS", 3),
		budget: knob.Duration(t, "RETENTIONBENCH_ROUND_BUDGET", 2*time.Minute),
	})
	t.Log("\n" + rep.markdown())
}

// TestSmoke runs the benchmark's path on a small catalog and a short
// history (raw 6 hours, x:5m 2 days, x:1h 5 days) and checks what the
// benchmark relies on: x:1h holds the raw value at each hour, the policy
// store is smaller per series-year, and every panel answers.
func TestSmoke(t *testing.T) {
	metrics := metricgen.FromCatalog(map[string]int{"event_type": 2, "platform": 2, "window": 4, "response": 2},
		"pulse.events", "pulse.event.duration", "pulse.users.active", "pulse.recommendations", "pulse.recommendation.responses")
	tiers := []Tier{{retention.Raw, RawStep, 6 * time.Hour}, {retention.R5m, 5 * time.Minute, 2 * day}, {retention.R1h, time.Hour, 5 * day}}
	rep := run(t, setup{
		metrics:  metrics,
		tiers:    tiers,
		dir:      t.TempDir(),
		variants: []variant{{Variant{retention.R1h, 5 * day}, 3}, {Variant{retention.Raw, 6 * time.Hour}, 3}},
		rounds:   1,
		budget:   time.Minute,
		check: func(t *testing.T, q *querier, end time.Time) {
			t.Helper()
			// At an hour inside the raw tier, x:1h is the raw value.
			at := end.Truncate(time.Hour).Add(-3 * time.Hour)
			for _, name := range []string{"pulse_events_total", "pulse_event_duration_milliseconds_bucket", "pulse_users_active"} {
				raw, err := q.instant(fmt.Sprintf("sum(%s)", name), at)
				require.NoError(t, err)
				down, err := q.instant(fmt.Sprintf("sum(%s)", retention.DownsampledName(name, retention.R1h)), at)
				require.NoError(t, err)
				require.NotEmpty(t, raw, name)
				require.Equal(t, raw, down, "%s at %s", name, at)
			}
		},
	})
	t.Log("\n" + rep.markdown())
	require.Less(t, rep.withPolicy.perSeriesYear(), rep.withoutPolicy.perSeriesYear())
	for _, v := range rep.variants {
		for i, p := range rep.panels[v.String()] {
			require.Positive(t, p.median.N, "%s: %s", v, Panels[i].Name)
			require.Positive(t, p.points, "%s: %s answered no points", v, Panels[i].Name)
		}
	}
}

type variant struct {
	Variant
	queries int
}

type setup struct {
	metrics  []metricgen.Metric
	tiers    []Tier
	dir      string
	variants []variant
	rounds   int
	budget   time.Duration
	check    func(t *testing.T, q *querier, end time.Time)
}

// store is one directory as measured.
type store struct {
	bytes  int64
	blocks int
	series int
	// years of history per series the store holds.
	years float64
}

func (s store) perSeriesYear() float64 { return float64(s.bytes) / float64(s.series) / s.years }

type panelResult struct {
	rounds []Percentiles
	median Percentiles
	points int
}

type report struct {
	series        int
	written       Written
	tiers         []Tier
	withoutPolicy store
	withPolicy    store
	chunks        map[string]Chunks
	variants      []Variant
	steps         map[string]time.Duration
	panels        map[string][]panelResult
	load          []string
	compactTook   time.Duration
	queryTook     time.Duration
}

func run(t *testing.T, s setup) *report {
	t.Helper()
	ctx := context.Background()
	rep := &report{tiers: s.tiers, steps: map[string]time.Duration{}, panels: map[string][]panelResult{}}
	rep.load = append(rep.load, "before writing: "+loadavg())
	policyDir, rawDir := filepath.Join(s.dir, "policy"), filepath.Join(s.dir, "raw")
	for _, d := range []string{policyDir, rawDir} {
		require.NoError(t, os.MkdirAll(d, 0o750))
	}
	end := time.Now().Truncate(time.Hour)
	keep := maxKeep(s.tiers)
	w, err := Write(ctx, History{Metrics: s.metrics, Tiers: s.tiers, End: end}, policyDir)
	require.NoError(t, err)
	rep.written, rep.series = w, w.Series
	t.Logf("wrote %d series in %s: %v samples", w.Series, w.Took.Round(time.Millisecond), w.Samples)

	began := time.Now()
	var rawKeep time.Duration
	for _, tier := range s.tiers {
		if tier.Resolution == retention.Raw {
			rawKeep = tier.Keep
		}
	}
	_, err = Compact(ctx, policyDir, keep)
	require.NoError(t, err)
	require.NoError(t, RawOnly(ctx, policyDir, rawDir, end.Add(-rawKeep), keep))
	for _, d := range []struct {
		dir   string
		out   *store
		years float64
	}{
		{rawDir, &rep.withoutPolicy, rawKeep.Hours() / 24 / 365},
		{policyDir, &rep.withPolicy, keep.Hours() / 24 / 365},
	} {
		n, err := Compact(ctx, d.dir, keep)
		require.NoError(t, err)
		b, err := BlockBytes(d.dir)
		require.NoError(t, err)
		*d.out = store{bytes: b, blocks: n, series: w.Series, years: d.years}
	}
	rep.compactTook = time.Since(began)
	rep.chunks, err = TierChunks(ctx, policyDir, s.tiers)
	require.NoError(t, err)

	q := startPromstore(t, policyDir, keep)
	if s.check != nil {
		s.check(t, q, end)
	}
	rep.load = append(rep.load, "before queries: "+loadavg())
	began = time.Now()
	rep.measure(t, q, s, time.Now())
	rep.queryTook = time.Since(began)
	rep.load = append(rep.load, "after queries: "+loadavg())
	return rep
}

// measure runs s.rounds rounds; in each, every variant's panels in turn,
// one query at a time (each computed: the range cache is off), until the
// variant has its count or the round's budget for it is spent.
func (rep *report) measure(t *testing.T, q *querier, s setup, now time.Time) {
	t.Helper()
	type target struct {
		v     variant
		panel int
		url   string
	}
	var targets []target
	for _, v := range s.variants {
		rep.variants = append(rep.variants, v.Variant)
		step := GrafanaStep(v.Span, time.Minute)
		if v.Resolution != retention.Raw {
			step = GrafanaStep(v.Span, time.Hour)
		}
		rep.steps[v.String()] = step
		// Grafana aligns the range to the step.
		end := now.Truncate(step)
		start := end.Add(-v.Span).Truncate(step)
		for i, p := range Panels {
			targets = append(targets, target{v, i, q.rangeURL(p.Query(v.Resolution), start, end, step)})
		}
		rep.panels[v.String()] = make([]panelResult, len(Panels))
	}
	for _, tg := range targets { // warm-up: the blocks' index and chunks paged in
		points, err := q.get(tg.url)
		require.NoError(t, err, "%s: %s", tg.v, Panels[tg.panel].Name)
		rep.panels[tg.v.String()][tg.panel].points = points
	}
	for range s.rounds {
		lat := make([][]time.Duration, len(targets))
		for _, v := range s.variants {
			deadline := time.Now().Add(s.budget)
			for i := 0; i < v.queries && time.Now().Before(deadline); i++ {
				for j, tg := range targets {
					if tg.v != v {
						continue
					}
					began := time.Now()
					_, err := q.get(tg.url)
					require.NoError(t, err, "%s: %s", tg.v, Panels[tg.panel].Name)
					lat[j] = append(lat[j], time.Since(began))
				}
			}
		}
		for j, tg := range targets {
			r := &rep.panels[tg.v.String()][tg.panel]
			r.rounds = append(r.rounds, percentiles(lat[j]))
		}
	}
	for _, rs := range rep.panels {
		for i := range rs {
			rs[i].median = median(rs[i].rounds)
		}
	}
}

// querier speaks promstore's query API.
type querier struct {
	base string
	http *http.Client
}

func startPromstore(t *testing.T, dir string, keep time.Duration) *querier {
	t.Helper()
	f := promstoreexporter.NewFactory()
	cfg := f.CreateDefaultConfig().(*promstoreexporter.Config)
	cfg.NetAddr.Endpoint = testutil.FreeAddr(t)
	cfg.Directory = dir
	cfg.Retention.Time = keep
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	cfg.RetryConfig.Enabled = false
	cfg.Query.RangeCacheTTL = 0 // every query computed
	cfg.Live.Enabled = false
	require.NoError(t, cfg.Validate())
	ctx := context.Background()
	exp, err := f.CreateMetrics(ctx, exportertest.NewNopSettings(f.Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(ctx, componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
	return &querier{base: "http://" + cfg.NetAddr.Endpoint, http: &http.Client{Timeout: time.Minute}}
}

func (q *querier) rangeURL(expr string, start, end time.Time, step time.Duration) string {
	v := url.Values{}
	v.Set("query", expr)
	v.Set("start", strconv.FormatInt(start.Unix(), 10))
	v.Set("end", strconv.FormatInt(end.Unix(), 10))
	v.Set("step", strconv.FormatFloat(step.Seconds(), 'f', -1, 64))
	return q.base + "/api/v1/query_range?" + v.Encode()
}

type apiResult struct {
	Status string `json:"status"`
	Error  string `json:"error"`
	Data   struct {
		Result []struct {
			Value  [2]any   `json:"value"`
			Values [][2]any `json:"values"`
		} `json:"result"`
	} `json:"data"`
}

func (q *querier) fetch(u string) (apiResult, error) {
	var r apiResult
	resp, err := q.http.Get(u)
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
	if resp.StatusCode != http.StatusOK || r.Status != "success" {
		return r, fmt.Errorf("HTTP %d: %s", resp.StatusCode, r.Error)
	}
	return r, nil
}

// get runs a range query and returns how many points it answered.
func (q *querier) get(u string) (int, error) {
	r, err := q.fetch(u)
	points := 0
	for _, s := range r.Data.Result {
		points += len(s.Values)
	}
	return points, err
}

// instant returns the values of an instant query at ts, as the API
// formats them.
func (q *querier) instant(expr string, ts time.Time) ([]string, error) {
	v := url.Values{}
	v.Set("query", expr)
	v.Set("time", strconv.FormatInt(ts.Unix(), 10))
	r, err := q.fetch(q.base + "/api/v1/query?" + v.Encode())
	var out []string
	for _, s := range r.Data.Result {
		out = append(out, fmt.Sprint(s.Value[1]))
	}
	return out, err
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64)
}

func mib(b float64) string { return strconv.FormatFloat(b/(1<<20), 'f', 2, 64) }

// markdown is the report as docs/benchmarks.md shows it.
func (rep *report) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Machine: %d × %s, %s, %s. Load average (1, 5, 15 min): %s.\n\n",
		runtime.NumCPU(), cpuModel(), runtime.Version(), time.Now().UTC().Format("2006-01-02"), strings.Join(rep.load, "; "))
	fmt.Fprintf(&b, "History: %d series, written in %s (samples: %v); compaction %s; queries %s.\n\n",
		rep.series, rep.written.Took.Round(time.Second), rep.written.Samples, rep.compactTook.Round(time.Second), rep.queryTook.Round(time.Second))
	wo, wi := rep.withoutPolicy, rep.withPolicy
	b.WriteString("| store | blocks | bytes on disk | history per series | bytes per series-year |\n|---|---|---|---|---|\n")
	fmt.Fprintf(&b, "| without the policy: raw 15 s samples (%.4g days written, extrapolated linearly) | %d | %s MiB | %.2f y | %.0f |\n",
		wo.years*365, wo.blocks, mib(float64(wo.bytes)), wo.years, wo.perSeriesYear())
	fmt.Fprintf(&b, "| with the policy: %s | %d | %s MiB | %.2f y | %.0f |\n\n",
		rep.tierText(), wi.blocks, mib(float64(wi.bytes)), wi.years, wi.perSeriesYear())
	fmt.Fprintf(&b, "Ratio without / with the policy: %.1f×.\n\n", wo.perSeriesYear()/wi.perSeriesYear())
	b.WriteString("| resolution (policy store) | series | chunks | samples per chunk | chunk bytes per sample |\n|---|---|---|---|---|\n")
	for _, t := range rep.tiers {
		c := rep.chunks[t.Resolution]
		if c.Chunks == 0 {
			continue
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %.1f | %.2f |\n", resName(t.Resolution), c.Series, c.Chunks,
			float64(c.Samples)/float64(c.Chunks), float64(c.Bytes)/float64(c.Samples))
	}
	b.WriteString("\n| panel | data | step | points | queries | p50 ms | p95 ms | p99 ms | p95 per round ms |\n|---|---|---|---|---|---|---|---|---|\n")
	for i, p := range Panels {
		for _, v := range rep.variants {
			r := rep.panels[v.String()][i]
			var per []string
			for _, rr := range r.rounds {
				per = append(per, ms(rr.P95))
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %d | %d | %s | %s | %s | %s |\n", p.Name, v, stepName(rep.steps[v.String()]), r.points,
				r.median.N, ms(r.median.P50), ms(r.median.P95), ms(r.median.P99), strings.Join(per, ", "))
		}
	}
	// p95 of each variant against the raw one, panel by panel.
	raw := -1
	for i, v := range rep.variants {
		if v.Resolution == retention.Raw {
			raw = i
		}
	}
	for i, v := range rep.variants {
		if raw < 0 || i == raw {
			continue
		}
		var parts []string
		for k, p := range Panels {
			a, c := rep.panels[v.String()][k].median.P95, rep.panels[rep.variants[raw].String()][k].median.P95
			if c > 0 {
				parts = append(parts, fmt.Sprintf("%s %.3f", p.Name, float64(a)/float64(c)))
			}
		}
		fmt.Fprintf(&b, "\np95 of %s / p95 of %s: %s.\n", v, rep.variants[raw], strings.Join(parts, ", "))
	}
	return b.String()
}

func (rep *report) tierText() string {
	var parts []string
	for _, t := range rep.tiers {
		parts = append(parts, fmt.Sprintf("%s %s", resName(t.Resolution), spanName(t.Keep)))
	}
	return strings.Join(parts, ", ")
}

func stepName(d time.Duration) string {
	if d >= time.Hour {
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dm", int(d.Minutes()))
}
