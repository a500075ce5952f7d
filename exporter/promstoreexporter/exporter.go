package promstoreexporter // import "github.com/pulse-otel/pulse/exporter/promstoreexporter"

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/translator/prometheusremotewrite"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/labels"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"

	"github.com/pulse-otel/pulse/internal/httpserver"
	"github.com/pulse-otel/pulse/internal/livepage"
	"github.com/pulse-otel/pulse/internal/pipelineerr"
)

// maxExemplars is the size of the TSDB's in-memory exemplar ring.
const maxExemplars = 100_000

// promstore owns the TSDB, the PromQL engine and the HTTP API server.
type promstore struct {
	cfg        *Config
	set        exporter.Settings
	logger     *slog.Logger
	translator prometheusremotewrite.Settings

	// mu guards db against Shutdown while an export is appending.
	mu     sync.RWMutex
	db     *tsdb.DB
	engine *promql.Engine
	// alerting evaluates the rule files and sends alerts.
	alerting *alerting

	server    *httpserver.Server
	serveDone chan struct{}
	// live is the live dashboard page; nil when live.enabled is false.
	live *livepage.Handler
	// appends counts committed appends: the live page evaluates an open
	// dashboard again only when it moved.
	appends atomic.Uint64
	ready   atomic.Bool

	stats     appendStats
	telemetry *telemetry
	// scrape stores the collector's own telemetry (selfscrape.go); nil
	// when the telemetry option is off.
	scrape *selfScrape
	// meta is the type, help and unit of every metric family received,
	// served on /api/v1/metadata.
	meta *familyMetadata

	// retention enforces retention.policies (retention_policies.go); nil
	// without them. retentionNow and retentionAfterRule are its clock and
	// test hook (nil: time.Now, none).
	retention          *enforcer
	retentionNow       func() time.Time
	retentionAfterRule func(policy string, rule int) error
}

// appendStats counts what exports did to the TSDB since start.
type appendStats struct {
	samples    atomic.Int64 // floats and histograms committed
	outOfOrder atomic.Int64 // refused: out of order, out of bounds, too old, duplicate timestamp
	invalid    atomic.Int64 // refused: invalid labels or values
}

func newExporter(cfg *Config, set exporter.Settings) (*promstore, error) {
	tel, err := newTelemetry(set.TelemetrySettings)
	if err != nil {
		return nil, fmt.Errorf("promstore: telemetry: %w", err)
	}
	return &promstore{
		telemetry: tel,
		meta:      newFamilyMetadata(cfg.Translation, cfg.MetadataLimit),
		cfg:       cfg,
		set:       set,
		logger:    newSlogLogger(set.Logger),
		// The prometheusremotewrite exporter's defaults, see its factory.
		translator: prometheusremotewrite.Settings{
			Namespace:         cfg.Translation.Namespace,
			DisableTargetInfo: !cfg.Translation.TargetInfo,
			AddMetricSuffixes: cfg.Translation.AddMetricSuffixes,
		},
	}, nil
}

func (p *promstore) start(ctx context.Context, host component.Host) (err error) {
	dir, err := filepath.Abs(p.cfg.Directory)
	if err != nil {
		return fmt.Errorf("promstore: directory %q: %w", p.cfg.Directory, err)
	}
	if err = os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("promstore: create directory %q: %w", dir, err)
	}
	opts := tsdb.DefaultOptions()
	opts.RetentionDuration = p.cfg.Retention.Time.Milliseconds()
	// Merge the 2-hour head blocks into larger ones as the Prometheus server
	// does (the smaller of 31 days and a tenth of the retention): fewer
	// indexes to search per query and about 5 % less disk per sample.
	opts.MaxBlockDuration = maxBlockDuration(p.cfg.Retention.Time).Milliseconds()
	opts.MaxBytes = p.cfg.Retention.Size
	opts.OutOfOrderTimeWindow = p.cfg.OutOfOrderTimeWindow.Milliseconds()
	// Created-timestamp zero ingestion, as Prometheus does for OTLP: the
	// first sample of a counter gets a zero at its start time, so that
	// increase() counts the events of the first export too.
	opts.EnableSTAsZeroSample = true
	opts.EnableExemplarStorage = true
	opts.MaxExemplars = maxExemplars
	// The head refuses new series past limits.max_series, once the WAL is
	// replayed (a replay never drops what was acknowledged).
	limiter := &seriesLimiter{max: int64(p.cfg.Limits.MaxSeries)}
	opts.SeriesLifecycleCallback = limiter
	// The TSDB, the engine, the rules manager and the notifier register
	// their metrics here; the collector's telemetry reads them.
	reg := prometheus.NewRegistry()
	db, err := tsdb.Open(dir, p.logger, reg, opts, nil)
	if err != nil {
		return fmt.Errorf("promstore: open TSDB in %q: %w", dir, err)
	}
	defer func() {
		if err != nil {
			_ = db.Close()
		}
	}()
	limiter.head.Store(db.Head())

	tracker, err := promql.NewActiveQueryTracker(dir, p.cfg.Query.MaxConcurrency, p.logger)
	if err != nil {
		return fmt.Errorf("promstore: query tracker in %q: %w", dir, err)
	}
	noStepInterval := func(int64) int64 { return time.Minute.Milliseconds() }
	engine := promql.NewEngine(promql.EngineOpts{
		Logger:                   p.logger,
		Reg:                      reg,
		MaxSamples:               p.cfg.Query.maxSamples(),
		Timeout:                  p.cfg.Query.Timeout,
		ActiveQueryTracker:       tracker,
		LookbackDelta:            p.cfg.Query.LookbackDelta,
		NoStepSubqueryIntervalFn: noStepInterval,
		EnableAtModifier:         true,
		EnableNegativeOffset:     true,
	})
	defer func() {
		if err != nil {
			_ = engine.Close()
		}
	}()

	al, err := p.newAlerting(db, engine, reg, externalURL(p.cfg.NetAddr.Endpoint))
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			al.stop()
		}
	}()
	if err = p.telemetry.observe(reg); err != nil {
		return fmt.Errorf("promstore: telemetry: %w", err)
	}
	defer func() {
		if err != nil {
			p.telemetry.stopObserving()
		}
	}()
	scr, err := p.startSelfScrape(db)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			scr.stop()
		}
	}()

	ret, err := p.startRetention(ctx, host, db, dir)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			ret.stop()
		}
	}()

	api := &boundedEngine{
		engine:         engine,
		maxLength:      p.cfg.Query.MaxLength,
		maxDepth:       p.cfg.Query.MaxDepth,
		maxSamples:     p.cfg.Query.maxSamples(),
		noStepInterval: noStepInterval,
	}
	live, err := p.newLive(db, api)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil && live != nil {
			live.Close()
		}
	}()
	var liveHandler http.Handler
	if live != nil {
		liveHandler = live
		if err = p.telemetry.observeLive(live.Stats); err != nil {
			return fmt.Errorf("promstore: telemetry: %w", err)
		}
	}
	handler := p.handler(db, api, dir, al, liveHandler)
	// internal/httpserver: connection cap, JSON error answers, timeouts.
	serverOpts := httpserver.Options{Name: "promstore API", MaxConnections: p.cfg.MaxConnections, WriteError: writeAPIError}
	if live != nil {
		// The page's shell (HTML, scripts) holds no data and is what asks
		// for a token: served without one. Its API and streams are not.
		serverOpts.Public = livepage.IsShell
	}
	server, err := httpserver.New(ctx, &p.cfg.ServerConfig, host, p.set.TelemetrySettings, handler, serverOpts)
	if err != nil {
		return fmt.Errorf("promstore: %w", err)
	}

	if err = p.runAlerting(al); err != nil {
		_ = server.Close()
		return err
	}

	p.mu.Lock()
	p.db, p.engine, p.server, p.alerting, p.live = db, engine, server, al, live
	p.scrape = scr
	p.retention = ret
	p.mu.Unlock()
	p.ready.Store(true)
	p.set.Logger.Info("Prometheus API listening",
		zap.String("endpoint", server.Addr().String()), zap.String("directory", dir))

	p.serveDone = make(chan struct{})
	go func() {
		defer close(p.serveDone)
		if err := server.Serve(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			componentstatus.ReportStatus(host, componentstatus.NewFatalErrorEvent(err))
		}
	}()
	return nil
}

// newLive builds the live dashboard page over db and the API's engine, or
// nil when it is disabled. max_viewers is lowered, with a warning, when
// the listener's connection cap would leave too few connections to API
// queries.
func (p *promstore) newLive(db *tsdb.DB, engine promql.QueryEngine) (*livepage.Handler, error) {
	lc := p.cfg.Live
	if !lc.Enabled {
		return nil, nil
	}
	dir, err := filepath.Abs(lc.Directory)
	if err != nil {
		return nil, fmt.Errorf("promstore: live.directory %q: %w", lc.Directory, err)
	}
	connCap := httpserver.Cap(p.cfg.MaxConnections)
	viewers, lowered := lc.liveMaxViewers(connCap)
	if lowered {
		p.set.Logger.Warn("live.max_viewers leaves too few API connections under max_connections; lowered",
			zap.Int("configured", lc.MaxViewers), zap.Int("max_viewers", viewers), zap.Int("max_connections", connCap))
	}
	h, err := livepage.New(livepage.Options{
		Engine:             engine,
		Queryable:          db,
		Dir:                dir,
		Tick:               lc.Tick,
		Changed:            p.appends.Load,
		MaxViewers:         viewers,
		MaxStreams:         lc.MaxStreams,
		QueryTimeout:       lc.QueryTimeout,
		MaxSeriesPerTarget: lc.MaxSeriesPerTarget,
		// Half the engine's slots at most: API queries keep the others.
		MaxConcurrentQueries: max(1, p.cfg.Query.MaxConcurrency/2),
		AuthEnabled:          p.cfg.ServerConfig.Auth.HasValue(),
		Logger:               p.logger,
	})
	if err != nil {
		return nil, fmt.Errorf("promstore: live page: %w", err)
	}
	return h, nil
}

// shutdown runs after exporterhelper has drained the queue: it stops the
// HTTP API, then rule evaluation and the notifier (after it has sent what
// it queued), then closes the engine and the TSDB.
func (p *promstore) shutdown(ctx context.Context) error {
	p.ready.Store(false)
	var errs []error
	if p.live != nil {
		// Live streams never end on their own: end them first, or the
		// server's Shutdown would wait for them until ctx expires.
		p.live.Close()
		p.live = nil
	}
	if p.server != nil {
		errs = append(errs, p.server.Shutdown(ctx))
		<-p.serveDone
	}
	if p.alerting != nil {
		p.alerting.stop()
		p.alerting = nil
	}
	p.telemetry.stopObserving()
	p.scrape.stop() // before the TSDB closes
	p.retention.stop()
	p.retention = nil
	p.scrape = nil
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.engine != nil {
		errs = append(errs, p.engine.Close())
		p.engine = nil
	}
	if p.db != nil {
		if err := p.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("promstore: close TSDB: %w", err))
		}
		p.db = nil
	}
	return errors.Join(errs...)
}

// pushMetrics translates md as the prometheusremotewrite exporter does and
// appends the result to the TSDB in one transaction. It returns nil only
// after the transaction is committed to the WAL with every sample. Samples
// the TSDB refuses one by one (older than the out-of-order window, out of
// bounds, duplicate, invalid) are counted by reason and reported as a
// permanent error once the rest is committed: retrying would not change
// the answer. A failed commit is returned as a retryable error.
func (p *promstore) pushMetrics(ctx context.Context, md pmetric.Metrics) error {
	p.meta.observe(md)
	tsMap, symbols, err := prometheusremotewrite.FromMetricsV2(md, p.translator)
	if err != nil {
		// Same as the prometheusremotewrite exporter: keep what translated.
		p.set.Logger.Debug("Failed to translate some metrics, storing the rest",
			zap.Error(err), zap.Int("translated", len(tsMap)))
	}
	if len(tsMap) == 0 {
		return nil
	}

	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.db == nil {
		return errors.New("promstore: TSDB is not open")
	}
	app := p.db.AppenderV2(ctx)
	res := p.appendAll(app, tsMap, symbols.Symbols())
	if err := app.Commit(); err != nil {
		return fmt.Errorf("promstore: commit %d samples to the TSDB: %w", res.appended, err)
	}
	if res.appended > 0 {
		p.appends.Add(1)
	}
	p.stats.samples.Add(res.appended)
	p.stats.outOfOrder.Add(res.outOfOrder())
	p.stats.invalid.Add(res.refused[refusedInvalid])
	p.telemetry.recordRefused(ctx, &res)
	if res.total() == 0 {
		return nil
	}
	p.set.Logger.Debug("TSDB refused samples",
		zap.Int64("appended", res.appended),
		zap.Int64("refused", res.total()),
		zap.NamedError("last_error", res.lastErr))
	// The text is counts and fixed phrases only: the receiver may show it.
	return consumererror.NewPermanent(pipelineerr.Public("promstore", res.err(res.appended, p.cfg.OutOfOrderTimeWindow, p.cfg.Limits.MaxSeries)))
}

// refusal is why the TSDB refused a sample; the order is the order of the
// error message and the values of the telemetry's reason attribute.
type refusal int

const (
	refusedTooOld refusal = iota
	refusedOutOfBounds
	refusedOutOfOrder
	refusedDuplicate
	refusedInvalid
	refusedSeriesLimit
	numRefusals
)

// refusalNames are the telemetry's reason values.
var refusalNames = [numRefusals]string{"too_old", "out_of_bounds", "out_of_order", "duplicate", "invalid", "series_limit"}

// refusalText says in the error message why samples were refused.
var refusalText = [numRefusals]string{
	"older than out_of_order_time_window (%s) before the newest sample stored",
	"older than the oldest time the TSDB still accepts",
	"older than the newest sample of their series",
	"a different value at a timestamp already stored",
	"invalid labels or values",
	"new series past limits.max_series (%d)",
}

type appendResult struct {
	appended int64
	refused  [numRefusals]int64
	lastErr  error
}

func (r *appendResult) reject(err error) {
	r.lastErr = err
	r.refused[refusalOf(err)]++
}

func (r *appendResult) total() int64 {
	var n int64
	for _, c := range r.refused {
		n += c
	}
	return n
}

func (r *appendResult) outOfOrder() int64 {
	return r.refused[refusedTooOld] + r.refused[refusedOutOfBounds] + r.refused[refusedOutOfOrder] + r.refused[refusedDuplicate]
}

// err says how many samples were refused and why; it names no label or
// value, which may be chosen by users.
func (r *appendResult) err(appended int64, window time.Duration, maxSeries int) error {
	var b strings.Builder
	fmt.Fprintf(&b, "promstore: the TSDB refused %d of %d samples:", r.total(), r.total()+appended)
	sep := " "
	for why, n := range r.refused {
		if n == 0 {
			continue
		}
		text := refusalText[why]
		switch refusal(why) {
		case refusedTooOld:
			text = fmt.Sprintf(text, window)
		case refusedSeriesLimit:
			text = fmt.Sprintf(text, maxSeries)
		}
		fmt.Fprintf(&b, "%s%d %s (%s)", sep, n, text, refusalNames[why])
		sep = ", "
	}
	return errors.New(b.String())
}

func refusalOf(err error) refusal {
	switch {
	case errors.Is(err, storage.ErrTooOldSample):
		return refusedTooOld
	case errors.Is(err, storage.ErrOutOfBounds):
		return refusedOutOfBounds
	case errors.Is(err, storage.ErrOutOfOrderSample):
		return refusedOutOfOrder
	case errors.Is(err, storage.ErrDuplicateSampleForTimestamp):
		return refusedDuplicate
	case errors.Is(err, errSeriesLimit):
		return refusedSeriesLimit
	}
	return refusedInvalid
}

// hasStart reports whether samples of a series of type t carry a start
// time the TSDB turns into a zero sample (created-timestamp zero
// ingestion): counters and histograms, never gauges or summary quantiles.
func hasStart(t writev2.Metadata_MetricType) bool {
	return t == writev2.Metadata_METRIC_TYPE_COUNTER || t == writev2.Metadata_METRIC_TYPE_HISTOGRAM
}

// appendAll appends every sample, histogram and exemplar of tsMap. Append
// only touches the in-memory head; the WAL is written by Commit. A counter
// or histogram sample passes its start time, so the head first appends a
// zero at the start time when that is newer than the series' last sample
// (a new series or a reset) and silently skips it otherwise.
func (p *promstore) appendAll(app storage.AppenderV2, tsMap map[string]*writev2.TimeSeries, symbols []string) appendResult {
	var (
		res       appendResult
		b         = labels.NewScratchBuilder(0)
		exemplars []exemplar.Exemplar
	)
	exApp, _ := app.(storage.ExemplarAppenderV2)
	for _, ts := range tsMap {
		ls, err := ts.ToLabels(&b, symbols)
		if err != nil {
			res.refused[refusedInvalid] += int64(len(ts.Samples) + len(ts.Histograms))
			res.lastErr = err
			continue
		}
		if !ls.Has(model.MetricNameLabel) || !ls.IsValid(model.UTF8Validation) {
			res.refused[refusedInvalid] += int64(len(ts.Samples) + len(ts.Histograms))
			res.lastErr = fmt.Errorf("invalid labels %s", ls.String())
			continue
		}
		if name, dup := ls.HasDuplicateLabelNames(); dup {
			res.refused[refusedInvalid] += int64(len(ts.Samples) + len(ts.Histograms))
			res.lastErr = fmt.Errorf("duplicate label %q in %s", name, ls.String())
			continue
		}
		withStart := hasStart(ts.Metadata.Type)
		var ref storage.SeriesRef
		for _, s := range ts.Samples {
			var st int64
			if withStart {
				st = s.StartTimestamp
			}
			r, err := app.Append(ref, ls, st, s.Timestamp, s.Value, nil, nil, storage.AOptions{})
			if err != nil && !isPartial(err) {
				res.reject(err)
				continue
			}
			ref = r
			res.appended++
		}
		for _, h := range ts.Histograms {
			var (
				r   storage.SeriesRef
				err error
				st  int64
			)
			if withStart {
				st = h.StartTimestamp
			}
			if h.IsFloatHistogram() {
				r, err = app.Append(ref, ls, st, h.Timestamp, 0, nil, h.ToFloatHistogram(), storage.AOptions{})
			} else {
				r, err = app.Append(ref, ls, st, h.Timestamp, 0, h.ToIntHistogram(), nil, storage.AOptions{})
			}
			if err != nil && !isPartial(err) {
				res.reject(err)
				continue
			}
			ref = r
			res.appended++
		}
		if len(ts.Exemplars) == 0 || ref == 0 || exApp == nil {
			continue
		}
		exemplars = exemplars[:0]
		for _, e := range ts.Exemplars {
			ex, err := e.ToExemplar(&b, symbols)
			if err != nil {
				continue
			}
			exemplars = append(exemplars, ex)
		}
		slices.SortFunc(exemplars, exemplar.Compare)
		// Exemplar storage is best effort, as in Prometheus' remote-write
		// handler: a rejected exemplar never fails the export.
		if _, err := exApp.AppendExemplars(ref, ls, exemplars); err != nil {
			p.set.Logger.Debug("TSDB rejected exemplars", zap.String("series", ls.String()), zap.Error(err))
		}
	}
	return res
}

// isPartial reports an AppendPartialError: the sample was written, some of
// its exemplars were not.
func isPartial(err error) bool {
	var pe *storage.AppendPartialError
	return errors.As(err, &pe)
}

// maxBlockDuration is the Prometheus server's rule for how large compaction
// may make a block: a tenth of the retention, between the 2-hour head block
// and 31 days (31 days when retention is unlimited).
func maxBlockDuration(retention time.Duration) time.Duration {
	if retention <= 0 {
		return 31 * 24 * time.Hour
	}
	return max(2*time.Hour, min(31*24*time.Hour, retention/10))
}
