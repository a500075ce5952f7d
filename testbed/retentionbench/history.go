package retentionbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/pulse-otel/pulse/internal/metricgen"
	"github.com/pulse-otel/pulse/internal/retention"
)

// Tier is one resolution the store keeps: the series name suffix, the
// sample interval and how long samples are kept.
type Tier struct {
	Resolution string // retention.Raw, R5m, R1h
	Step       time.Duration
	Keep       time.Duration
}

// name is the tier's name of raw series name.
func (t Tier) name(raw string) string {
	if t.Resolution == retention.Raw {
		return raw
	}
	return retention.DownsampledName(raw, t.Resolution)
}

const day = 24 * time.Hour

// RawStep is the raw sample interval: the collector's default 15 s.
const RawStep = 15 * time.Second

// DefaultTiers are the default policy's tiers for events, users and
// recommendations (config/retention/default.yaml).
var DefaultTiers = []Tier{
	{retention.Raw, RawStep, 30 * day},
	{retention.R5m, 5 * time.Minute, 180 * day},
	{retention.R1h, time.Hour, 730 * day},
}

// History is the synthetic history to write: metrics, tiers and the end.
type History struct {
	Metrics []metricgen.Metric
	Tiers   []Tier
	// End is the last sample's time; the history starts the longest tier's
	// Keep before it.
	End time.Time
}

// Written is what Write wrote.
type Written struct {
	Series  int            // raw series of the catalog (one per translated Prometheus series)
	Samples map[string]int // per resolution
	Took    time.Duration
}

// Write generates h's history and writes its blocks, every tier, into
// dir. Blocks are cut in windows that nest in the compactor's ranges, so
// that Compact merges them as promstore's compactor would.
func Write(ctx context.Context, h History, dir string) (Written, error) {
	began := time.Now()
	gen := metricgen.New(h.Metrics, h.End.Add(-maxKeep(h.Tiers)-time.Minute))
	series, err := gen.PromSeries()
	if err != nil {
		return Written{}, err
	}
	out := Written{Series: len(series), Samples: map[string]int{}}
	f := &fanout{tiers: h.Tiers, active: make([]bool, len(h.Tiers))}
	f.sinks = []*sink{{dir: dir, tiers: allTiers(len(h.Tiers))}}
	end := h.End.Truncate(RawStep)
	start := end.Add(-maxKeep(h.Tiers)).Add(RawStep)
	const commitEvery = 8
	n := 0
	for ts := start; !ts.After(end); ts = ts.Add(RawStep) {
		due := false
		for i, t := range h.Tiers {
			f.active[i] = ts.After(end.Add(-t.Keep)) && ts.UnixMilli()%t.Step.Milliseconds() == 0
			due = due || f.active[i]
		}
		if !due {
			gen.Step()
			continue
		}
		if err := f.rotate(ctx, ts, h.Tiers, end); err != nil {
			return out, err
		}
		if _, err := gen.AppendStep(f, series, ts.UnixMilli()); err != nil {
			return out, fmt.Errorf("append at %s: %w", ts.UTC().Format(time.RFC3339), err)
		}
		for i, t := range h.Tiers {
			if f.active[i] {
				out.Samples[t.Resolution] += len(series)
			}
		}
		if n++; n%commitEvery == 0 {
			if err := f.Commit(); err != nil {
				return out, err
			}
		}
	}
	for _, s := range f.sinks {
		if err := s.flush(ctx); err != nil {
			return out, err
		}
	}
	out.Took = time.Since(began)
	return out, nil
}

func maxKeep(ts []Tier) time.Duration {
	var d time.Duration
	for _, t := range ts {
		d = max(d, t.Keep)
	}
	return d
}

func allTiers(n int) []bool {
	out := make([]bool, n)
	for i := range out {
		out[i] = true
	}
	return out
}

// Block windows: multiples of the compactor's ranges (2h·3^k: 54 h, 162 h,
// 486 h), so that a block of one window lies inside one window of every
// larger range. The window shrinks as more tiers are written, which bounds
// the samples a block writer's head holds.
func window(ts, end time.Time, tiers []Tier) time.Duration {
	samplesPerWindow := func(w time.Duration) int {
		n := 0
		for _, t := range tiers {
			if ts.After(end.Add(-t.Keep)) {
				n += int(w / t.Step)
			}
		}
		return n
	}
	for _, w := range []time.Duration{486 * time.Hour, 162 * time.Hour} {
		if samplesPerWindow(w) <= 20_000 {
			return w
		}
	}
	return 54 * time.Hour
}

// sink is one output directory and its current block writer.
type sink struct {
	dir   string
	tiers []bool // which tiers it stores
	w     *tsdb.BlockWriter
	app   storage.AppenderV2
	refs  [][]storage.SeriesRef // per tier, per fan-out series id
	win   int64                 // window start (ms) of w
	size  time.Duration
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// open starts a block writer with promstore's head chunk range (2 h).
func (s *sink) open(ctx context.Context, ntiers int) error {
	w, err := tsdb.NewBlockWriter(quiet, s.dir, tsdb.DefaultBlockDuration)
	if err != nil {
		return fmt.Errorf("block writer in %s: %w", s.dir, err)
	}
	s.w, s.app = w, w.AppenderV2(ctx)
	s.refs = make([][]storage.SeriesRef, ntiers)
	return nil
}

// flush writes the current block, if any, and closes its writer.
func (s *sink) flush(ctx context.Context) error {
	if s.w == nil {
		return nil
	}
	if err := s.app.Commit(); err != nil {
		return err
	}
	_, err := s.w.Flush(ctx)
	if errors.Is(err, tsdb.ErrNoSeriesAppended) {
		err = nil
	}
	err = errors.Join(err, s.w.Close())
	s.w, s.app = nil, nil
	if err != nil {
		return fmt.Errorf("flush block in %s: %w", s.dir, err)
	}
	return nil
}

// fanout is the storage.AppenderV2 metricgen appends to: it writes each
// sample to every active tier (renamed x:5m, x:1h) of every sink.
type fanout struct {
	tiers  []Tier
	active []bool
	sinks  []*sink
	names  [][]labels.Labels // per series id, per tier
}

// rotate starts new blocks in every sink whose window ts left.
func (f *fanout) rotate(ctx context.Context, ts time.Time, tiers []Tier, end time.Time) error {
	w := window(ts, end, tiers)
	win := ts.UnixMilli() - ts.UnixMilli()%w.Milliseconds()
	for _, s := range f.sinks {
		if s.w != nil && s.win == win && s.size == w {
			continue
		}
		if err := s.flush(ctx); err != nil {
			return err
		}
		if err := s.open(ctx, len(tiers)); err != nil {
			return err
		}
		s.win, s.size = win, w
	}
	return nil
}

// Append implements storage.AppenderV2; ref is the fan-out's series id.
func (f *fanout) Append(ref storage.SeriesRef, ls labels.Labels, st, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, opts storage.AOptions) (storage.SeriesRef, error) {
	if ref == 0 {
		name := ls.Get(model.MetricNameLabel)
		per := make([]labels.Labels, len(f.tiers))
		for i, tier := range f.tiers {
			per[i] = labels.NewBuilder(ls).Set(model.MetricNameLabel, tier.name(name)).Labels()
		}
		f.names = append(f.names, per)
		ref = storage.SeriesRef(len(f.names))
	}
	id := int(ref) - 1
	for _, s := range f.sinks {
		for i := range f.tiers {
			if !f.active[i] || !s.tiers[i] {
				continue
			}
			refs := s.refs[i]
			for len(refs) <= id {
				refs = append(refs, 0)
			}
			r, err := s.app.Append(refs[id], f.names[id][i], st, t, v, h, fh, opts)
			if err != nil {
				return 0, err
			}
			refs[id] = r
			s.refs[i] = refs
		}
	}
	return ref, nil
}

// Commit commits every sink's samples so far and opens new appenders.
func (f *fanout) Commit() error {
	for _, s := range f.sinks {
		if s.app == nil {
			continue
		}
		if err := s.app.Commit(); err != nil {
			return err
		}
		s.app = s.w.AppenderV2(context.Background())
	}
	return nil
}

// Rollback implements storage.AppenderV2; Write never calls it.
func (f *fanout) Rollback() error { return nil }

// promstoreOptions are the TSDB options promstore opens its directory with
// (exporter/promstoreexporter start) for a retention of keep.
func promstoreOptions(keep time.Duration) *tsdb.Options {
	opts := tsdb.DefaultOptions()
	opts.RetentionDuration = keep.Milliseconds()
	opts.MaxBlockDuration = max(2*time.Hour, min(31*day, keep/10)).Milliseconds()
	opts.OutOfOrderTimeWindow = (7 * day).Milliseconds()
	opts.EnableSTAsZeroSample = true
	return opts
}

// Compact merges dir's blocks as promstore's compactor would and returns
// how many blocks are left.
func Compact(ctx context.Context, dir string, keep time.Duration) (int, error) {
	db, err := tsdb.Open(dir, quiet, nil, promstoreOptions(keep), nil)
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", dir, err)
	}
	err = db.Compact(ctx)
	n := len(db.Blocks())
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return n, err
}
