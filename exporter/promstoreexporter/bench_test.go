package promstoreexporter

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/translator/prometheusremotewrite"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pulse-otel/pulse/exporter/promstoreexporter/internal/metadata"
	"github.com/pulse-otel/pulse/internal/testutil"
)

// benchDim is one label of a generated metric and how many values it has.
type benchDim struct {
	key string
	n   int
}

// benchMetric is one metric of the generated batches, shaped like a
// catalog metric of the analytics_metrics connector (docs/metrics.md).
type benchMetric struct {
	name, unit string
	kind       int // 0 sum, 1 histogram, 2 gauge
	dims       []benchDim
	bounds     []float64
}

const (
	benchSum = iota
	benchHistogram
	benchGauge
)

var (
	benchBoundsMS      = []float64{10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000}
	benchBoundsSeconds = []float64{1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200}
	benchBoundsLag     = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600}
	benchBoundsRatio   = []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1}
)

// benchCatalog is about 1,930 series once translated (plus target_info):
// pulse_events_total with 5 labels (432 series), pulse.event.duration with
// 13 buckets over 72 label sets (1,152 series) and a few smaller metrics.
var benchCatalog = []benchMetric{
	{name: "pulse.events", unit: "{event}", kind: benchSum, dims: []benchDim{{"event_type", 6}, {"category", 4}, {"action", 3}, {"platform", 3}, {"app_version", 2}}},
	{name: "pulse.event.duration", unit: "ms", kind: benchHistogram, bounds: benchBoundsMS, dims: []benchDim{{"event_type", 6}, {"category", 4}, {"platform", 3}}},
	{name: "pulse.page.views", unit: "{view}", kind: benchSum, dims: []benchDim{{"platform", 3}}},
	{name: "pulse.page.time_on_page", unit: "ms", kind: benchHistogram, bounds: benchBoundsMS, dims: []benchDim{{"platform", 3}}},
	{name: "pulse.interactions", unit: "{interaction}", kind: benchSum, dims: []benchDim{{"element_type", 8}, {"platform", 3}}},
	{name: "pulse.engagements", unit: "{engagement}", kind: benchSum, dims: []benchDim{{"content_type", 5}, {"platform", 3}}},
	{name: "pulse.conversions", unit: "{conversion}", kind: benchSum, dims: []benchDim{{"goal_type", 4}, {"funnel_step", 3}, {"platform", 3}}},
	{name: "pulse.users.active", unit: "{user}", kind: benchGauge, dims: []benchDim{{"window", 4}}},
	{name: "pulse.sessions", unit: "{session}", kind: benchSum, dims: []benchDim{{"platform", 3}}},
	{name: "pulse.session.duration", unit: "s", kind: benchHistogram, bounds: benchBoundsSeconds, dims: []benchDim{{"platform", 3}}},
	{name: "pulse.recommendation.responses", unit: "{response}", kind: benchSum, dims: []benchDim{{"model_id", 2}, {"model_version", 2}, {"recommendation_type", 3}, {"response", 4}}},
	{name: "pulse.recommendation.confidence", unit: "1", kind: benchHistogram, bounds: benchBoundsRatio, dims: []benchDim{{"model_id", 2}, {"recommendation_type", 3}}},
	{name: "pulse.event.timeliness", unit: "s", kind: benchHistogram, bounds: benchBoundsLag, dims: []benchDim{{"platform", 3}}},
}

// benchSeriesState is the cumulative state of one data point stream.
type benchSeriesState struct {
	attrs   [][2]string
	count   uint64
	sum     float64
	buckets []uint64
	weights []float64 // share of observations per bucket
	rate    float64   // mean increment per step
	gauge   int64
}

// benchGen produces, step after step, batches like the connector's: one
// resource, one scope, every metric with all its data points, cumulative
// sums and histograms that grow by a random amount at each step.
type benchGen struct {
	metrics []benchMetric
	series  [][]*benchSeriesState // per metric
	rng     *rand.Rand
	start   pcommon.Timestamp
}

func newBenchGen(metrics []benchMetric, start time.Time) *benchGen {
	g := &benchGen{metrics: metrics, rng: rand.New(rand.NewPCG(1, 2)), start: pcommon.NewTimestampFromTime(start)}
	for _, m := range metrics {
		var states []*benchSeriesState
		var walk func(i int, attrs [][2]string)
		walk = func(i int, attrs [][2]string) {
			if i == len(m.dims) {
				s := &benchSeriesState{attrs: append([][2]string(nil), attrs...), rate: 1 + 50*g.rng.Float64()}
				if m.kind == benchHistogram {
					s.buckets = make([]uint64, len(m.bounds)+1)
					s.weights = make([]float64, len(m.bounds)+1)
					for j := range s.weights {
						s.weights[j] = g.rng.Float64()
					}
				}
				states = append(states, s)
				return
			}
			for v := range m.dims[i].n {
				walk(i+1, append(attrs, [2]string{m.dims[i].key, benchValue(m.dims[i].key, v)}))
			}
		}
		walk(0, nil)
		g.series = append(g.series, states)
	}
	return g
}

// benchValue is the v-th value of label key: the real values for window
// and platform, key_v for the others.
func benchValue(key string, v int) string {
	switch key {
	case "window":
		return []string{"1h", "1d", "7d", "30d"}[v]
	case "platform":
		return []string{"web", "ios", "android"}[v]
	}
	return fmt.Sprintf("%s_%d", key, v)
}

// seriesCount is the number of Prometheus series one batch translates to,
// without target_info.
func (g *benchGen) seriesCount() int {
	n := 0
	for i, m := range g.metrics {
		per := 1
		if m.kind == benchHistogram {
			per = len(m.bounds) + 3 // buckets with +Inf, _sum, _count
		}
		n += per * len(g.series[i])
	}
	return n
}

// step advances every stream by one step.
func (g *benchGen) step() {
	for i, m := range g.metrics {
		for _, s := range g.series[i] {
			switch m.kind {
			case benchSum:
				s.count += uint64(g.rng.Float64() * 2 * s.rate)
			case benchGauge:
				s.gauge = int64(1000*s.rate) + int64(g.rng.IntN(20))
			case benchHistogram:
				n := uint64(g.rng.Float64() * 2 * s.rate)
				for j := range s.buckets {
					k := uint64(float64(n) * s.weights[j] / 2)
					s.buckets[j] += k
					s.count += k
					s.sum += float64(k) * m.bounds[min(j, len(m.bounds)-1)] * 0.7
				}
			}
		}
	}
}

// batch advances every stream by one step and returns the batch at ts.
func (g *benchGen) batch(ts time.Time) pmetric.Metrics {
	g.step()
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "pulse")
	rm.Resource().Attributes().PutStr("service.instance.id", "pulse-0")
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName("github.com/pulse-otel/pulse/connector/analyticsmetricsconnector")
	now := pcommon.NewTimestampFromTime(ts)
	for i, m := range g.metrics {
		out := sm.Metrics().AppendEmpty()
		out.SetName(m.name)
		out.SetUnit(m.unit)
		switch m.kind {
		case benchSum:
			sum := out.SetEmptySum()
			sum.SetIsMonotonic(true)
			sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			for _, s := range g.series[i] {
				dp := sum.DataPoints().AppendEmpty()
				dp.SetStartTimestamp(g.start)
				dp.SetTimestamp(now)
				dp.SetIntValue(int64(s.count))
				putAttrs(dp.Attributes(), s.attrs)
			}
		case benchGauge:
			gauge := out.SetEmptyGauge()
			for _, s := range g.series[i] {
				dp := gauge.DataPoints().AppendEmpty()
				dp.SetTimestamp(now)
				dp.SetIntValue(s.gauge)
				putAttrs(dp.Attributes(), s.attrs)
			}
		case benchHistogram:
			h := out.SetEmptyHistogram()
			h.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			for _, s := range g.series[i] {
				dp := h.DataPoints().AppendEmpty()
				dp.SetStartTimestamp(g.start)
				dp.SetTimestamp(now)
				dp.ExplicitBounds().FromRaw(m.bounds)
				dp.BucketCounts().FromRaw(s.buckets)
				dp.SetCount(s.count)
				dp.SetSum(s.sum)
				putAttrs(dp.Attributes(), s.attrs)
			}
		}
	}
	return md
}

// benchSeries is one Prometheus series of the generated batches, as the
// translator names it, and where its value comes from.
type benchSeries struct {
	lset   labels.Labels
	ref    storage.SeriesRef
	state  *benchSeriesState
	bucket int // >= 0: bucket index; -1: sum value, -2: histogram _sum, -3: _count, -4: gauge
}

// promSeries lists the series the translator makes of g's batches (but
// target_info), with the names it gives each metric.
func (g *benchGen) promSeries(tb testing.TB) []*benchSeries {
	md := g.batch(time.Now())
	metrics := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	settings := prometheusremotewrite.Settings{AddMetricSuffixes: true, DisableTargetInfo: true}
	var out []*benchSeries
	want := map[string]bool{}
	for i, m := range g.metrics {
		one := pmetric.NewMetrics()
		md.ResourceMetrics().At(0).Resource().CopyTo(one.ResourceMetrics().AppendEmpty().Resource())
		metrics.At(i).CopyTo(one.ResourceMetrics().At(0).ScopeMetrics().AppendEmpty().Metrics().AppendEmpty())
		tsMap, err := prometheusremotewrite.FromMetrics(one, settings)
		require.NoError(tb, err)
		var sb labels.ScratchBuilder
		names := map[string]bool{}
		for _, ts := range tsMap {
			ls := ts.ToLabels(&sb, nil)
			want[ls.String()] = true
			names[ls.Get(model.MetricNameLabel)] = true
		}
		base := ""
		for n := range names {
			if m.kind != benchHistogram || strings.HasSuffix(n, "_bucket") {
				base = strings.TrimSuffix(n, "_bucket")
			}
		}
		for _, s := range g.series[i] {
			mk := func(name string, bucket int, extra ...string) {
				b := labels.NewBuilder(labels.FromStrings(model.MetricNameLabel, name, "job", "pulse", "instance", "pulse-0"))
				for _, kv := range s.attrs {
					b.Set(kv[0], kv[1])
				}
				if len(extra) == 2 {
					b.Set(extra[0], extra[1])
				}
				out = append(out, &benchSeries{lset: b.Labels(), state: s, bucket: bucket})
			}
			switch m.kind {
			case benchSum:
				mk(base, -1)
				continue
			case benchGauge:
				mk(base, -4)
				continue
			}
			for j := range s.buckets {
				le := "+Inf"
				if j < len(m.bounds) {
					le = strconv.FormatFloat(m.bounds[j], 'f', -1, 64)
				}
				mk(base+"_bucket", j, "le", le)
			}
			mk(base+"_sum", -2)
			mk(base+"_count", -3)
		}
	}
	got := map[string]bool{}
	for _, s := range out {
		got[s.lset.String()] = true
	}
	require.Equal(tb, want, got, "generated series differ from the translator's")
	return out
}

// appendStep advances every stream by one step and appends its samples at
// ts straight to the TSDB, as the exporter would after translation.
func (g *benchGen) appendStep(app storage.AppenderV2, series []*benchSeries, ts int64) (int, error) {
	g.step()
	for _, s := range series {
		var v float64
		switch s.bucket {
		case -1:
			v = float64(s.state.count)
		case -4:
			v = float64(s.state.gauge)
		case -2:
			v = s.state.sum
		case -3:
			v = float64(s.state.count)
		default:
			// Cumulative: le buckets count every observation at or below.
			var c uint64
			for _, n := range s.state.buckets[:s.bucket+1] {
				c += n
			}
			v = float64(c)
		}
		ref, err := app.Append(s.ref, s.lset, 0, ts, v, nil, nil, storage.AOptions{})
		if err != nil {
			return 0, err
		}
		s.ref = ref
	}
	return len(series), nil
}

func putAttrs(m pcommon.Map, attrs [][2]string) {
	m.EnsureCapacity(len(attrs))
	for _, kv := range attrs {
		m.PutStr(kv[0], kv[1])
	}
}

func benchConfig(tb testing.TB, dir string) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.NetAddr.Endpoint = testutil.FreeAddr(tb)
	cfg.Directory = dir
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	cfg.RetryConfig.Enabled = false
	require.NoError(tb, cfg.Validate())
	return cfg
}

// BenchmarkIngest measures ConsumeMetrics (translation, head append, WAL
// commit) of one connector-shaped batch of about 1,930 series per
// iteration, each batch 15 s after the previous one. The head compacts in
// the background once it spans more than 3 h (about 720 iterations), as it
// would in production.
func BenchmarkIngest(b *testing.B) {
	cfg := benchConfig(b, b.TempDir())
	exp, err := NewFactory().CreateMetrics(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
	require.NoError(b, err)
	require.NoError(b, exp.Start(context.Background(), componenttest.NewNopHost()))
	b.Cleanup(func() { require.NoError(b, exp.Shutdown(context.Background())) })

	ts := time.Now().Truncate(time.Minute)
	gen := newBenchGen(benchCatalog, ts.Add(-time.Hour))
	perBatch := gen.seriesCount() + 1 // target_info
	ctx := context.Background()
	b.ReportAllocs()
	var batches int
	for b.Loop() {
		b.StopTimer()
		md := gen.batch(ts)
		ts = ts.Add(15 * time.Second)
		b.StartTimer()
		if err := exp.ConsumeMetrics(ctx, md); err != nil {
			b.Fatal(err)
		}
		batches++
	}
	b.ReportMetric(float64(perBatch), "series/batch")
	b.ReportMetric(float64(batches*perBatch)/b.Elapsed().Seconds(), "samples/s")
}

// TestDiskPerSample appends about 1,930 series at one sample per 15 s
// over two simulated days, lets the TSDB compact its head into 2 h blocks
// and those into larger ones, and reports the bytes of the blocks per
// sample they hold. The samples are appended straight to the TSDB, one
// commit per 15 s step, with the label sets and values the translator
// would produce (checked against it): going through ConsumeMetrics costs
// about 9 ms a batch (BenchmarkIngest), which would make two days take
// minutes, and does not change what is stored.
func TestDiskPerSample(t *testing.T) {
	if testing.Short() {
		t.Skip("ingests two days of samples; skipped with -short")
	}
	const (
		step = 15 * time.Second
		span = 48 * time.Hour
	)
	dir := t.TempDir()
	cfg := benchConfig(t, dir)
	p := newExporter(cfg, exportertest.NewNopSettings(metadata.Type))
	require.NoError(t, p.start(context.Background(), componenttest.NewNopHost()))

	// In order from two days ago: an empty head accepts any timestamp, and
	// every step is newer than the previous one, so no out-of-order window
	// is needed. The head compacts in the background as it passes 3 h.
	end := time.Now().Truncate(time.Hour)
	first := end.Add(-span)
	gen := newBenchGen(benchCatalog, first.Add(-time.Minute))
	series := gen.promSeries(t)
	ctx := context.Background()
	began := time.Now()
	var total int64
	for ts := first; ts.Before(end); ts = ts.Add(step) {
		app := p.db.AppenderV2(ctx)
		n, err := gen.appendStep(app, series, ts.UnixMilli())
		require.NoError(t, err)
		require.NoError(t, app.Commit())
		total += int64(n)
	}
	ingest := time.Since(began)

	// Persist everything the head can give up (it keeps the last ~1.5 h),
	// then run leveled compaction (2 h -> 6 h -> 18 h blocks).
	began = time.Now()
	require.NoError(t, p.db.Compact(ctx))
	compact := time.Since(began)

	blocks := func(db *tsdb.DB) string {
		var bytes, samples int64
		spans := map[time.Duration]int{}
		for _, blk := range db.Blocks() {
			m := blk.Meta()
			bytes += blk.Size()
			samples += int64(m.Stats.NumSamples)
			spans[time.Duration(m.MaxTime-m.MinTime)*time.Millisecond]++
		}
		require.Positive(t, samples)
		return fmt.Sprintf("blocks=%d (span: count %v) samples in blocks=%d block bytes=%d => %.3f bytes/sample",
			len(db.Blocks()), spans, samples, bytes, float64(bytes)/float64(samples))
	}
	t.Logf("series=%d samples appended=%d in %s (%.0f samples/s incl. generation), final Compact %s",
		len(series), total, ingest.Round(time.Millisecond), float64(total)/ingest.Seconds(), compact.Round(time.Millisecond))
	t.Logf("as configured (tsdb.DefaultOptions, MaxBlockDuration 2h): %s", blocks(p.db))
	t.Logf("not in blocks: head series=%d (last ~1.5 h of samples), wal=%d bytes, chunks_head=%d bytes",
		p.db.Head().NumSeries(), dirSize(t, filepath.Join(dir, "wal")), dirSize(t, filepath.Join(dir, "chunks_head")))
	require.NoError(t, p.shutdown(ctx))

	// What Prometheus itself would do with the same blocks: its server sets
	// MaxBlockDuration to min(31d, retention/10), so 2 h blocks are merged
	// into 6 h, 18 h, 54 h... blocks. tsdb.DefaultOptions (promstore's)
	// keeps 2 h.
	opts := tsdb.DefaultOptions()
	opts.RetentionDuration = cfg.Retention.Time.Milliseconds()
	opts.MaxBlockDuration = min(31*24*time.Hour, cfg.Retention.Time/10).Milliseconds()
	db, err := tsdb.Open(dir, nil, nil, opts, nil)
	require.NoError(t, err)
	defer db.Close()
	began = time.Now()
	require.NoError(t, db.Compact(ctx))
	t.Logf("with Prometheus' MaxBlockDuration (%s), leveled compaction %s: %s",
		time.Duration(opts.MaxBlockDuration)*time.Millisecond, time.Since(began).Round(time.Millisecond), blocks(db))
}

func dirSize(t *testing.T, dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	if os.IsNotExist(err) {
		return 0
	}
	require.NoError(t, err)
	return n
}
