package promstoreexporter

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/prometheus/tsdb"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"

	"github.com/pulse-otel/pulse/exporter/promstoreexporter/internal/metadata"
	"github.com/pulse-otel/pulse/internal/metricgen"
	"github.com/pulse-otel/pulse/internal/testutil"
)

// benchCatalog is about 1,930 series once translated (plus target_info):
// pulse_events_total with 5 labels (432 series), pulse.event.duration with
// 13 buckets over 72 label sets (1,152 series) and a few smaller metrics.
var benchCatalog = metricgen.FromCatalog(
	map[string]int{"event_type": 6, "category": 4, "action": 3, "platform": 3, "app_version": 2, "element_type": 8, "content_type": 5, "goal_type": 4, "funnel_step": 3, "window": 4, "model_id": 2, "model_version": 2, "recommendation_type": 3, "response": 4},
	"pulse.events",
	"pulse.event.duration",
	"pulse.page.views",
	"pulse.page.time_on_page",
	"pulse.interactions",
	"pulse.engagements",
	"pulse.conversions",
	"pulse.users.active",
	"pulse.sessions",
	"pulse.session.duration",
	"pulse.recommendation.responses",
	"pulse.recommendation.confidence",
	"pulse.event.timeliness",
)

func benchConfig(tb testing.TB, dir string) *Config {
	tb.Helper()
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
	gen := metricgen.New(benchCatalog, ts.Add(-time.Hour))
	perBatch := gen.SeriesCount() + 1 // target_info
	ctx := context.Background()
	b.ReportAllocs()
	var batches int
	for b.Loop() {
		b.StopTimer()
		md := gen.Batch(ts)
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
	p, err := newExporter(cfg, exportertest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	require.NoError(t, p.start(context.Background(), componenttest.NewNopHost()))

	// In order from two days ago: an empty head accepts any timestamp, and
	// every step is newer than the previous one, so no out-of-order window
	// is needed. The head compacts in the background as it passes 3 h.
	end := time.Now().Truncate(time.Hour)
	first := end.Add(-span)
	gen := metricgen.New(benchCatalog, first.Add(-time.Minute))
	series, err := gen.PromSeries()
	require.NoError(t, err)
	ctx := context.Background()
	began := time.Now()
	var total int64
	for ts := first; ts.Before(end); ts = ts.Add(step) {
		app := p.db.AppenderV2(ctx)
		n, err := gen.AppendStep(app, series, ts.UnixMilli())
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
	t.Helper()
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
