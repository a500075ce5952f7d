package analyticsmetricsconnector

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	"github.com/bits-and-blooms/bloom/v3"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"

	"github.com/pulse-otel/pulse/connector/analyticsmetricsconnector/internal/metadata"
	"github.com/pulse-otel/pulse/internal/catalog"
	"github.com/pulse-otel/pulse/internal/hll"
	"github.com/pulse-otel/pulse/internal/schema"
)

type analyticsConnector struct {
	cfg  *Config
	set  connector.Settings
	next consumer.Metrics

	mu       sync.Mutex
	agg      *aggregator
	users    *hll.Ring
	seen     *bloom.BloomFilter
	cohorts  *cohorts
	recent   []recentUser // direct-mapped cache of users seen this week
	sessions map[string]*session
	open     map[string]*openSessions // by platform
	// usersSeen is the new-user filter's user count: its estimate at
	// start, plus the new users since.
	usersSeen      uint64
	usersSeenDirty bool
	pending        []int64 // event times (ns) since the last flush, for freshness
	// fields counts optional fields absent [0] and present [1]; kept as
	// plain counters (not series lookups) because every event touches all.
	fields      [numOptionalFields][2]uint64
	fieldsDirty bool
	eventDim    [maxLabels]string
	dedup       *dedup     // ids already counted
	join        *joinTable // recommendation id → model labels

	seed       maphash.Seed
	client     storage.Client
	stop       chan struct{}
	done       chan struct{}
	cancelLoop context.CancelFunc // ends the loop's export in progress
	lastSave   time.Time
	shutOnce   sync.Once
	windowList []hll.Window

	// Export acknowledgement (wait_for_export), guarded by mu: epoch counts
	// flush snapshots; committed is the latest epoch whose export the
	// metrics pipeline accepted (cumulative values, so it covers every
	// earlier epoch); flushed is closed and replaced whenever committed
	// moves or the loop stops.
	epoch, committed uint64
	flushed          chan struct{}
	closed           bool
	// exportFailed makes the next flush export every series: the failed
	// one had marked its series as exported.
	exportFailed bool
	// exportErr is the last flush's export error, nil once one succeeds.
	// While it is set, wait_for_export refuses new requests instead of
	// holding them.
	exportErr error
}

func newConnector(set connector.Settings, cfg *Config, next consumer.Metrics) (*analyticsConnector, error) {
	windows := hll.DefaultWindows()
	users, err := hll.NewRing(windows)
	if err != nil {
		return nil, err
	}
	c := &analyticsConnector{
		cfg:        cfg,
		set:        set,
		next:       next,
		agg:        newAggregator(cfg.EventDimensions, cfg.MaxValuesPerLabel, cfg.MaxSeries),
		users:      users,
		seen:       bloom.NewWithEstimates(cfg.ExpectedUsers, 0.001),
		cohorts:    newCohorts(cfg.ExpectedUsers),
		recent:     make([]recentUser, recentUsers),
		sessions:   map[string]*session{},
		open:       map[string]*openSessions{},
		seed:       maphash.MakeSeed(),
		windowList: windows,
		flushed:    make(chan struct{}),
		dedup:      newDedup(cfg.Dedup.Window, cfg.Dedup.MaxIDs),
		join:       newJoinTable(cfg.RecommendationJoin.MaxEntries, uint32(cfg.RecommendationJoin.MaxAge/time.Second)),
	}
	for i, d := range cfg.EventDimensions {
		c.eventDim[i] = eventDimensions[d]
	}
	return c, nil
}

func (c *analyticsConnector) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

// Start loads saved state and starts the flush loop.
func (c *analyticsConnector) Start(ctx context.Context, host component.Host) error {
	if c.cfg.Storage != nil {
		ext, ok := host.GetExtensions()[*c.cfg.Storage]
		if !ok {
			return fmt.Errorf("storage: extension %q is not configured in service.extensions", c.cfg.Storage)
		}
		se, ok := ext.(storage.Extension)
		if !ok {
			return fmt.Errorf("storage: extension %q is not a storage extension", c.cfg.Storage)
		}
		client, err := se.GetClient(ctx, component.KindConnector, c.set.ID, "")
		if err != nil {
			return fmt.Errorf("storage: %w", err)
		}
		c.client = client
		if err := c.load(ctx); err != nil {
			return err
		}
	}
	c.mu.Lock()
	c.usersSeen, c.usersSeenDirty = uint64(c.seen.ApproximatedSize()), true
	c.mu.Unlock()
	c.stop, c.done = make(chan struct{}), make(chan struct{})
	c.lastSave = time.Now()
	var loopCtx context.Context
	loopCtx, c.cancelLoop = context.WithCancel(context.Background())
	go c.loop(loopCtx)
	return nil
}

// shutdownFlushTimeout bounds Shutdown's final export when the Shutdown
// context has no earlier deadline: the next consumer (promstore, remote
// write) may retry for minutes against a store that is down.
var shutdownFlushTimeout = 10 * time.Second

// Shutdown stops the flush loop, saves state, exports what is pending and
// stops. Waiting for the loop's export in progress and the final export
// together take at most until ctx ends or shutdownFlushTimeout, whichever
// is first: a next consumer retrying against a store that is down cannot
// hold the collector's shutdown. The state is saved before the final
// export, so a final export cut short loses only the counts since the last
// accepted export (logged), never the users seen or ids counted.
func (c *analyticsConnector) Shutdown(ctx context.Context) error {
	var err error
	c.shutOnce.Do(func() {
		if c.stop == nil {
			return
		}
		fctx, cancel := stopFlushLoop(ctx, c.stop, c.done, c.cancelLoop)
		defer cancel()
		if c.client != nil {
			// Local storage, not the store behind the next consumer:
			// saved even when ctx has ended.
			err = c.save(context.WithoutCancel(ctx))
		}
		c.flush(fctx, time.Now(), true)
		c.mu.Lock()
		failed, exportErr, series := c.exportFailed, c.exportErr, c.agg.total
		c.closed = true
		close(c.flushed)
		c.mu.Unlock()
		if failed {
			c.set.Logger.Error("Final export at shutdown failed: the counts since the last accepted export were not exported (counters start again from 0 in the next process)",
				zap.Int("series", series), zap.Duration("limit", shutdownFlushTimeout), zap.Error(exportErr))
		}
		if c.client != nil {
			err = errors.Join(err, c.client.Close(context.WithoutCancel(ctx)))
		}
	})
	return err
}

// loop flushes and saves until Shutdown; ctx ends when Shutdown's bound is
// reached, which cuts an export in progress short.
func (c *analyticsConnector) loop(ctx context.Context) {
	defer close(c.done)
	flushLoop(c.cfg, c.stop, func(now time.Time, full bool) {
		c.flush(ctx, now, full)
		if c.client != nil && now.Sub(c.lastSave) >= c.cfg.SaveInterval {
			c.lastSave = now
			if err := c.save(context.WithoutCancel(ctx)); err != nil {
				c.set.Logger.Warn("Saving connector state failed; new-user and active-user state since the last save would be lost on restart", zap.Error(err))
			}
		}
	})
}

// stopFlushLoop ends a flush loop for Shutdown: it closes stop and waits
// for done, cancelling the loop's export in progress once ctx ends or
// shutdownFlushTimeout passes. The returned context has the same bound,
// for the final export; cancel releases it.
func stopFlushLoop(ctx context.Context, stop chan struct{}, done <-chan struct{}, cancelLoop context.CancelFunc) (context.Context, context.CancelFunc) {
	fctx, cancel := context.WithTimeout(ctx, shutdownFlushTimeout)
	stopLoop := context.AfterFunc(fctx, cancelLoop)
	close(stop)
	<-done
	stopLoop()
	cancelLoop()
	return fctx, cancel
}

// flushLoop calls flush every flush_interval until stop is closed; full
// is set once every full_export_interval.
func flushLoop(cfg *Config, stop <-chan struct{}, flush func(now time.Time, full bool)) {
	t := time.NewTicker(cfg.FlushInterval)
	defer t.Stop()
	lastFull := time.Now()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			full := now.Sub(lastFull) >= cfg.FullExportInterval
			if full {
				lastFull = now
			}
			flush(now, full)
		}
	}
}

// collect ends idle sessions, computes the gauges and appends the series
// to export (all of them when full) to md; it returns how many. c.mu is
// held.
func (c *analyticsConnector) collect(md pmetric.Metrics, now time.Time, full bool) int {
	ts := pcommon.NewTimestampFromTime(now)
	// What the flush itself counts (ended sessions, freshness) happened
	// since the previous export: a series it creates was 0 then.
	c.agg.now = min(c.agg.exportedAt, ts)
	c.endSessions(now.UnixNano()-int64(c.cfg.SessionTimeout), false)
	for platform, o := range c.open {
		if o.dirty {
			ls := labelSet{platform}
			c.agg.set(catalog.SessionsOpen, ls, float64(o.sessions))
			c.agg.set(catalog.SessionsOpenDuration, ls, float64(o.span)/1e9)
			c.agg.set(catalog.SessionsOpenBounced, ls, float64(o.single))
			o.dirty = false
		}
	}
	if c.usersSeenDirty {
		c.agg.set(catalog.UsersSeen, labelSet{}, float64(c.usersSeen))
		c.usersSeenDirty = false
	}
	for _, w := range c.windowList {
		if n, err := c.users.Estimate(w.Name, now); err == nil {
			c.agg.set(catalog.ActiveUsers, labelSet{w.Name}, float64(n))
		}
	}
	c.cohorts.export(c.agg, now)
	if c.fieldsDirty {
		for i, f := range optionalFields {
			c.agg.set(catalog.Fields, labelSet{f.name, "false"}, float64(c.fields[i][0]))
			c.agg.set(catalog.Fields, labelSet{f.name, "true"}, float64(c.fields[i][1]))
		}
		c.fieldsDirty = false
	}
	for _, t := range c.pending {
		c.agg.observe(catalog.Freshness, labelSet{}, float64(now.UnixNano()-t)/1e9)
	}
	c.pending = c.pending[:0]
	rm := md.ResourceMetrics().AppendEmpty()
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(metadata.ScopeName)
	full = full || c.exportFailed
	c.exportFailed = false
	n := c.agg.export(sm, ts, full)
	return n
}

// flush ends idle sessions, computes the gauges and exports.
func (c *analyticsConnector) flush(ctx context.Context, now time.Time, full bool) {
	md := pmetric.NewMetrics()
	c.mu.Lock()
	n := c.collect(md, now, full)
	c.epoch++
	epoch := c.epoch
	c.mu.Unlock()
	if n > 0 {
		if err := c.next.ConsumeMetrics(ctx, md); err != nil {
			// Cumulative state is kept, so the next (full) export carries
			// the counts.
			c.set.Logger.Warn("Exporting analytics metrics failed; the next flush exports every series again", zap.Error(err))
			c.exportFailedWith(err)
			return
		}
	}
	c.committedUpTo(epoch)
}

// exportFailedWith records that the export of the latest flush failed:
// the next one exports every series, and wait_for_export refuses requests
// until one succeeds.
func (c *analyticsConnector) exportFailedWith(err error) {
	c.mu.Lock()
	c.exportFailed, c.exportErr = true, err
	c.mu.Unlock()
}

// committedUpTo records that the flush of epoch was accepted by the
// metrics pipeline, which releases the requests waiting for it.
func (c *analyticsConnector) committedUpTo(epoch uint64) {
	c.mu.Lock()
	c.exportErr = nil
	if epoch > c.committed && !c.closed {
		c.committed = epoch
		close(c.flushed)
		c.flushed = make(chan struct{})
	}
	c.mu.Unlock()
}

// waitForExport blocks until a flush that started after the caller's
// events were aggregated has been exported (epoch is c.epoch then), the
// connector shut down, or ctx ended.
func (c *analyticsConnector) waitForExport(ctx context.Context, epoch uint64) error {
	for {
		c.mu.Lock()
		done, closed, ch := c.committed > epoch, c.closed, c.flushed
		c.mu.Unlock()
		switch {
		case done:
			return nil
		case closed:
			return errors.New("analytics_metrics: shut down before the events were exported")
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("analytics_metrics: events aggregated but not yet exported: %w", context.Cause(ctx))
		}
	}
}

// ConsumeLogs aggregates the analytics records of ld. Other records are
// ignored.
func (c *analyticsConnector) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	c.mu.Lock()
	if c.cfg.WaitForExport && c.exportErr != nil {
		// Holding the request would not make the export succeed sooner:
		// refuse it (retryable) before counting anything, so the client's
		// retry cannot count it twice.
		err := c.exportErr
		c.mu.Unlock()
		return fmt.Errorf("analytics_metrics: the metrics pipeline is refusing exports, nothing of this request was counted: %w", err)
	}
	n := c.consume(ld)
	epoch, wait := c.epoch, n > 0 && c.cfg.WaitForExport && c.stop != nil && !c.closed
	c.mu.Unlock()
	if !wait {
		return nil
	}
	return c.waitForExport(ctx, epoch)
}

// consume aggregates ld and returns how many records it used; c.mu is held.
func (c *analyticsConnector) consume(ld plog.Logs) int {
	n := 0
	now := time.Now()
	c.agg.now = pcommon.NewTimestampFromTime(now)
	nowNS := now.UnixNano()
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		var res resourceFields
		rl.Resource().Attributes().Range(res.visit)
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				switch lr.EventName() {
				case schema.EventAnalytics:
					// The id as the privacy processor left it: a retry
					// carries the same one, unless it was masked as PII.
					if id, ok := lr.Attributes().Get(schema.AttrEventID); ok && id.Type() == pcommon.ValueTypeStr && usableID(id.Str()) &&
						c.dedup.seen(kindEvent, id.Str(), nowNS) {
						c.agg.add(catalog.Duplicates, labelSet{dedupKindNames[kindEvent]}, 1)
					} else {
						c.event(lr, &res)
					}
					n++
				case schema.EventRecommendation, schema.EventRecommendationResponse:
					c.recommendation(lr, now)
					n++
				}
			}
		}
	}
	return n
}
