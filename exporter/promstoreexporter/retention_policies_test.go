package promstoreexporter

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"go.uber.org/zap"

	"github.com/pulse-otel/pulse/internal/audit"
	"github.com/pulse-otel/pulse/internal/metricgen"
	"github.com/pulse-otel/pulse/internal/retention"
)

// The proof's synthetic history: 40 days of raw samples every minute for
// the series of a few catalog families of two data types (events and
// system), and the 5m and 1h series as the compiled rules record them.
const (
	proofDays    = 40
	proofRawStep = time.Minute
)

var proofEnd = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// proofPolicy keeps events raw 7 days, 5m 21 days, 1h 35 days; system raw
// 3 days, 5m 10 days, 1h 20 days.
const proofPolicy = `
policyId: proof
name: Proof
rules:
  - {dataType: events, retentionDays: 7, archiveAfterDays: 21, deleteAfterDays: 35}
  - {dataType: system, retentionDays: 3, archiveAfterDays: 10, deleteAfterDays: 20}
complianceReasons: [GDPR]
legalBasis: test
isActive: true
`

func proofPlan(t testing.TB) (retention.Plan, []retention.Policy) {
	t.Helper()
	ps, errs := retention.Parse("proof.yaml", []byte(proofPolicy))
	if len(errs) > 0 {
		t.Fatal(errors.Join(errs...))
	}
	plan, err := retention.Compile(ps)
	if err != nil {
		t.Fatal(err)
	}
	return plan, ps
}

func openProofDB(t testing.TB, dir string) *tsdb.DB {
	t.Helper()
	opts := tsdb.DefaultOptions()
	opts.RetentionDuration = (400 * 24 * time.Hour).Milliseconds()
	// Day blocks, compacted up to 10 days: 40 head compactions instead
	// of 480 for the history.
	opts.MinBlockDuration = (24 * time.Hour).Milliseconds()
	opts.MaxBlockDuration = (10 * 24 * time.Hour).Milliseconds()
	// The downsampled series are appended after the raw history, as
	// out-of-order samples.
	opts.OutOfOrderTimeWindow = ((proofDays + 1) * 24 * time.Hour).Milliseconds()
	db, err := tsdb.Open(dir, nil, nil, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// buildHistory writes the proof's history into a TSDB in dir, compacted
// into blocks, and closes it. The 5m and 1h series are appended with the
// raw samples, in order, with the values the compiled rules record:
// last_over_time(x[5m]) at a 5-minute boundary is the raw sample there
// (raw samples fall on every minute). TestRetentionRulesRecordTheHistory
// checks that against the rules evaluated by the PromQL engine.
func buildHistory(t testing.TB, dir string) {
	t.Helper()
	ctx := context.Background()
	db := openProofDB(t, dir)
	defer db.Close()
	start := proofEnd.Add(-proofDays * 24 * time.Hour)
	metrics := metricgen.FromCatalog(map[string]int{"event_type": 4, "category": 2, "platform": 3, "environment": 3},
		"pulse.events", "pulse.system.cpu.utilization")
	metrics = append(metrics, metricgen.FromCatalog(map[string]int{"platform": 1}, "pulse.event.duration")...)
	gen := metricgen.New(metrics, start)
	series, err := gen.PromSeries()
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	down := &downsampler{refs: map[string]storage.SeriesRef{}}
	// One transaction per hour of history.
	for ts := start; !ts.After(proofEnd); ts = ts.Add(proofRawStep) {
		if down.AppenderV2 == nil {
			down.AppenderV2 = db.AppenderV2(ctx)
		}
		down.res = down.res[:0]
		for _, r := range []struct {
			name string
			d    time.Duration
		}{{retention.R5m, 5 * time.Minute}, {retention.R1h, time.Hour}} {
			if ts.Sub(start)%r.d == 0 {
				down.res = append(down.res, r.name)
			}
		}
		if _, err := gen.AppendStep(down, series, ts.UnixMilli()); err != nil {
			t.Fatal(err)
		}
		if ts.Sub(start)%time.Hour == 0 || ts.Equal(proofEnd) {
			if err := down.Commit(); err != nil {
				t.Fatal(err)
			}
			down.AppenderV2 = nil
		}
	}
	t.Logf("history: %d raw series over %d days, %s", len(series), proofDays, time.Since(t0))
	t0 = time.Now()
	if err := db.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("compacted: %s", time.Since(t0))
}

// downsampler appends each raw sample, and at the resolutions res also as
// the series x:res with the same labels.
type downsampler struct {
	storage.AppenderV2
	res  []string
	refs map[string]storage.SeriesRef
}

func (d *downsampler) Append(ref storage.SeriesRef, ls labels.Labels, st, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, opts storage.AOptions) (storage.SeriesRef, error) {
	ref, err := d.AppenderV2.Append(ref, ls, st, t, v, h, fh, opts)
	if err != nil {
		return ref, err
	}
	for _, r := range d.res {
		name := retention.DownsampledName(ls.Get(model.MetricNameLabel), r)
		b := labels.NewBuilder(ls).Set(model.MetricNameLabel, name).Labels()
		key := b.String()
		got, err := d.AppenderV2.Append(d.refs[key], b, 0, t, v, nil, nil, opts)
		if err != nil {
			return ref, err
		}
		d.refs[key] = got
	}
	return ref, nil
}

// samples counts the samples of selector sel in [mint, maxt].
func samples(t testing.TB, db *tsdb.DB, sel string, mint, maxt int64) int {
	t.Helper()
	ms, err := promParserForTest().ParseMetricSelector(sel)
	if err != nil {
		t.Fatal(err)
	}
	q, err := db.Querier(mint, maxt)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	n := 0
	set := q.Select(context.Background(), false, nil, ms...)
	for set.Next() {
		it := set.At().Iterator(nil)
		for it.Next() != 0 {
			n++
		}
	}
	if set.Err() != nil {
		t.Fatal(set.Err())
	}
	return n
}

func instant(t testing.TB, db *tsdb.DB, expr string, at time.Time) float64 {
	t.Helper()
	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 50_000_000, Timeout: time.Minute})
	q, err := engine.NewInstantQuery(context.Background(), db, nil, expr, at)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	res := q.Exec(context.Background())
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	v, err := res.Vector()
	if err != nil || len(v) != 1 {
		t.Fatalf("%s: %v, %d results", expr, err, len(v))
	}
	return v[0].F
}

type crash struct{}

func (crash) Error() string { return "crash after the first rule" }

// TestRetentionProof: an execution on 40 days of history deletes the raw,
// 5m and 1h samples past each rule's ages and nothing else; the 1h series
// still answer the 30-day sums the raw samples gave; every rule executed
// is an audit record; a crash after the first rule leaves a store the next
// start finishes into the same state as an uninterrupted execution.
func TestRetentionProof(t *testing.T) {
	plan, ps := proofPlan(t)
	base := t.TempDir()
	history := filepath.Join(base, "history")
	buildHistory(t, history)
	rulesRecordTheHistory(t, history, ps)

	// Truth from the raw samples, before anything is deleted.
	db := openProofDB(t, history)
	const sum30d = `sum(pulse_events_total) - sum(pulse_events_total offset 30d)`
	truth := instant(t, db, sum30d, proofEnd)
	firstHour := instant(t, db, `sum(pulse_events_total offset 30d) - sum(pulse_events_total offset 721h)`, proofEnd)
	tiers := plan.Policies[0].Rules
	type count struct{ before, after int }
	before := map[string]count{}
	for _, r := range tiers {
		for _, tr := range r.Tiers {
			cut := proofEnd.Add(-tr.Keep()).UnixMilli()
			before[r.DataType+"/"+tr.Resolution] = count{samples(t, db, tr.Selector, math.MinInt64, cut-1), samples(t, db, tr.Selector, cut, math.MaxInt64)}
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for k, c := range before {
		if c.before == 0 || c.after == 0 {
			t.Fatalf("%s: the history has %d samples before the cutoff and %d after: nothing to prove", k, c.before, c.after)
		}
	}
	t.Logf("30-day sum from raw: %.0f; samples per tier before/after cutoff: %v", truth, before)

	run := func(t *testing.T, name string, hook func(string, int) error) (string, *tsdb.DB, *enforcer, error) {
		t.Helper()
		dir := filepath.Join(base, name)
		if err := os.CopyFS(dir, os.DirFS(history)); err != nil {
			t.Fatal(err)
		}
		db := openProofDB(t, dir)
		log, err := audit.Open(filepath.Join(dir, "audit"), audit.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = log.Close() })
		e := &enforcer{db: db, plan: plan, dir: dir, interval: time.Hour, now: func() time.Time { return proofEnd },
			audit: log, actor: "promstore", logger: zap.NewNop(), afterRule: hook}
		return dir, db, e, e.execute(context.Background())
	}
	check := func(t *testing.T, db *tsdb.DB) {
		t.Helper()
		for _, r := range tiers {
			for _, tr := range r.Tiers {
				cut := proofEnd.Add(-tr.Keep()).UnixMilli()
				k := r.DataType + "/" + tr.Resolution
				if n := samples(t, db, tr.Selector, math.MinInt64, cut-1); n != 0 {
					t.Errorf("%s: %d samples older than %d days left", k, n, tr.KeepDays)
				}
				if n := samples(t, db, tr.Selector, cut, math.MaxInt64); n != before[k].after {
					t.Errorf("%s: %d samples within %d days, want %d (all of them)", k, n, tr.KeepDays, before[k].after)
				}
			}
		}
		// 30 days back is past the raw and 5m events series: only x:1h holds it.
		if n := samples(t, db, `{__name__="pulse_events_total"}`, math.MinInt64, proofEnd.Add(-8*24*time.Hour).UnixMilli()); n != 0 {
			t.Fatalf("raw events 8 days old still stored: %d", n)
		}
		exact := instant(t, db, `sum(pulse_events_total:1h) - sum(pulse_events_total:1h offset 30d)`, proofEnd)
		if exact != truth {
			t.Errorf("x:1h difference over 30 days %.0f, raw %.0f: counters at hour boundaries are exact", exact, truth)
		}
		inc := instant(t, db, `sum(increase(pulse_events_total:1h[30d]))`, proofEnd)
		if math.Abs(inc-truth) > firstHour {
			t.Errorf("sum(increase(x:1h[30d])) %.0f differs from the raw sum %.0f by more than one hour's increase (%.0f)", inc, truth, firstHour)
		}
		t.Logf("30-day sum: raw %.0f, x:1h exact %.0f, increase(x:1h[30d]) %.0f (bound ±%.0f)", truth, exact, inc, firstHour)
	}
	records := func(t *testing.T, dir string) []audit.Record {
		t.Helper()
		if _, err := audit.Verify(filepath.Join(dir, "audit")); err != nil {
			t.Fatal(err)
		}
		var out []audit.Record
		if err := audit.Read(filepath.Join(dir, "audit"), time.Time{}, func(r audit.Record) error {
			out = append(out, r)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}

	var whole []audit.Record
	t.Run("execution", func(t *testing.T) {
		dir, db, e, err := run(t, "whole", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		check(t, db)
		whole = records(t, dir)
		if len(whole) != 2 {
			t.Fatalf("%d audit records, want one per rule (2)", len(whole))
		}
		for i, r := range whole {
			d := r.Details
			if r.Action != audit.ActionRetention || r.Object != "proof" || d["version"] != plan.Version || d["rule"] != strconv.Itoa(i) || d["resumed"] != "false" {
				t.Errorf("record %d: %+v", i, r)
			}
			for _, tr := range tiers[i].Tiers {
				if want := strconv.Itoa(before[tiers[i].DataType+"/"+tr.Resolution].before); d["samples_"+tr.Resolution] != want {
					t.Errorf("record %d: samples_%s %s, want %s", i, tr.Resolution, d["samples_"+tr.Resolution], want)
				}
				if d["cutoff_"+tr.Resolution] != proofEnd.Add(-tr.Keep()).Format(time.RFC3339) {
					t.Errorf("record %d: cutoff_%s %s", i, tr.Resolution, d["cutoff_"+tr.Resolution])
				}
			}
		}
		if last, next := e.times(); !last.Equal(proofEnd) || !next.Equal(proofEnd.Add(time.Hour)) {
			t.Errorf("last %s next %s", last, next)
		}
		// A second execution at the same time deletes nothing more.
		if err := e.execute(context.Background()); err != nil {
			t.Fatal(err)
		}
		again := records(t, dir)
		if len(again) != 4 || again[2].Details["samples_raw"] != "0" || again[3].Details["series_1h"] != "0" {
			t.Errorf("second execution: %d records, %+v", len(again), again[len(again)-1].Details)
		}
	})

	t.Run("restart after the first rule", func(t *testing.T) {
		dir, db, _, err := run(t, "crash", func(string, int) error { return crash{} })
		if !errors.As(err, new(crash)) {
			t.Fatalf("execution: %v, want the crash", err)
		}
		j, err := readJournal(dir)
		if err != nil || j.finished() || len(j.Done) != 1 || j.Done[0] != "proof/0" {
			t.Fatalf("journal after the crash: %+v, %v", j, err)
		}
		// The first rule is done in full, the second not begun.
		sys := tiers[1].Tiers[0]
		if n := samples(t, db, sys.Selector, math.MinInt64, proofEnd.Add(-sys.Keep()).UnixMilli()-1); n != before["system/raw"].before {
			t.Errorf("system raw before the restart: %d samples past the cutoff, want all %d", n, before["system/raw"].before)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}

		// The restart: the store reopened, a new enforcer started. It finds
		// the execution unfinished and runs it at once, from rule 1, with
		// the crashed execution's cutoffs though its clock moved on.
		db = openProofDB(t, dir)
		defer db.Close()
		log, err := audit.Open(filepath.Join(dir, "audit"), audit.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer log.Close()
		e := &enforcer{db: db, plan: plan, dir: dir, interval: time.Hour, now: func() time.Time { return proofEnd.Add(10 * time.Minute) },
			audit: log, actor: "promstore", logger: zap.NewNop()}
		if err := e.start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(2 * time.Minute)
		for {
			j, err = readJournal(dir)
			if err != nil {
				t.Fatal(err)
			}
			if j.finished() || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		e.stop()
		if !j.finished() || j.Resumed != 1 || j.Now != proofEnd.UnixMilli() {
			t.Fatalf("journal after the restart: %+v", j)
		}
		check(t, db)
		recs := records(t, dir)
		if len(recs) != 2 || recs[0].Details["rule"] != "0" || recs[1].Details["rule"] != "1" || recs[1].Details["resumed"] != "true" {
			t.Fatalf("audit records %+v", recs)
		}
		// What each rule deleted is what the uninterrupted execution deleted.
		for i := range recs {
			for _, k := range []string{"samples_raw", "samples_5m", "samples_1h", "series_raw", "cutoff_raw"} {
				if recs[i].Details[k] != whole[i].Details[k] {
					t.Errorf("rule %d %s: %s after the restart, %s uninterrupted", i, k, recs[i].Details[k], whole[i].Details[k])
				}
			}
		}
	})
}

func promParserForTest() parser.Parser { return parser.NewParser(parser.Options{}) }

// rulesRecordTheHistory evaluates every compiled downsampling rule with
// the PromQL engine at its group's evaluations of the last day of the
// history and checks that the stored x:5m and x:1h hold exactly that.
func rulesRecordTheHistory(t *testing.T, dir string, ps []retention.Policy) {
	t.Helper()
	ctx := context.Background()
	db := openProofDB(t, dir)
	defer db.Close()
	groups, err := retention.RecordingRules(ps)
	if err != nil {
		t.Fatal(err)
	}
	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 50_000_000, Timeout: time.Minute})
	compared := 0
	for _, g := range groups.Groups {
		step := time.Duration(g.Interval)
		for _, r := range g.Rules {
			eval := func(expr string) map[string][]promql.FPoint {
				q, err := engine.NewRangeQuery(ctx, db, nil, expr, proofEnd.Add(-24*time.Hour), proofEnd, step)
				if err != nil {
					t.Fatal(err)
				}
				defer q.Close()
				res := q.Exec(ctx)
				m, err := res.Matrix()
				if res.Err != nil || err != nil {
					t.Fatalf("%s: %v %v", expr, res.Err, err)
				}
				out := map[string][]promql.FPoint{}
				for _, s := range m {
					// Copied: the engine reuses the points once the query is closed.
					out[labels.NewBuilder(s.Metric).Del(model.MetricNameLabel).Labels().String()] = slices.Clone(s.Floats)
				}
				return out
			}
			want, got := eval(r.Expr), eval(r.Record)
			if len(got) != len(want) {
				t.Fatalf("%s: %d series stored, the rule records %d", r.Record, len(got), len(want))
			}
			for k, w := range want {
				if !slices.Equal(got[k], w) {
					t.Fatalf("%s%s: stored values differ from the rule's: %d vs %d points, first %v / %v, last %v / %v", r.Record, k, len(got[k]), len(w), got[k][0], w[0], got[k][len(got[k])-1], w[len(w)-1])
				}
				compared += len(w)
			}
		}
	}
	if compared == 0 {
		t.Fatal("no downsampled sample compared")
	}
	t.Logf("the compiled rules record the stored 5m and 1h series: %d samples of the last day compared", compared)
}

// TestRetentionOutOfOrderStaysDeleted: samples still in the out-of-order
// head when an execution deletes them stay deleted after that head is
// compacted (the TSDB compacts it without its tombstones).
func TestRetentionOutOfOrderStaysDeleted(t *testing.T) {
	ctx := context.Background()
	plan, _ := proofPlan(t)
	dir := t.TempDir()
	opts := tsdb.DefaultOptions()
	opts.RetentionDuration = (400 * 24 * time.Hour).Milliseconds()
	opts.OutOfOrderTimeWindow = (30 * 24 * time.Hour).Milliseconds()
	db, err := tsdb.Open(dir, nil, nil, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.DisableCompactions() // no compaction but the ones the test makes
	now := proofEnd
	ls := labels.FromStrings(model.MetricNameLabel, "pulse_events_total", "job", "pulse", "platform", "web")
	app := db.AppenderV2(ctx)
	if _, err := app.Append(0, labels.FromStrings(model.MetricNameLabel, "pulse_events_total", "job", "pulse", "platform", "ios"), 0, now.UnixMilli(), 1, nil, nil, storage.AOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	// Ten days of hourly samples, older than the head: out of order.
	app = db.AppenderV2(ctx)
	for h := 240; h >= 1; h-- {
		if _, err := app.Append(0, ls, 0, now.Add(-time.Duration(h)*time.Hour).UnixMilli(), float64(240-h), nil, nil, storage.AOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	sel := `{__name__="pulse_events_total",platform="web"}`
	cut := now.Add(-7 * 24 * time.Hour).UnixMilli()
	if n := samples(t, db, sel, math.MinInt64, cut-1); n != 72 {
		t.Fatalf("%d samples older than 7 days before the execution, want 72", n)
	}
	e := &enforcer{db: db, plan: plan, dir: dir, interval: time.Hour, now: func() time.Time { return now }, actor: "promstore", logger: zap.NewNop()}
	if err := e.execute(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.CompactOOOHead(ctx); err != nil {
		t.Fatal(err)
	}
	if n := samples(t, db, sel, math.MinInt64, cut-1); n != 0 {
		t.Errorf("%d samples older than 7 days are back after the out-of-order head was compacted", n)
	}
	if n := samples(t, db, sel, cut, math.MaxInt64); n != 168 {
		t.Errorf("%d samples within 7 days, want 168", n)
	}
}
