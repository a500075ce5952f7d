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
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/translator/prometheusremotewrite"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"
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

	server    *http.Server
	serveDone chan struct{}
	ready     atomic.Bool

	stats appendStats
}

// appendStats counts what exports did to the TSDB since start.
type appendStats struct {
	samples    atomic.Int64 // floats and histograms committed
	outOfOrder atomic.Int64 // rejected: out of order, out of bounds, too old, duplicate timestamp
	invalid    atomic.Int64 // rejected: invalid labels or values
}

func newExporter(cfg *Config, set exporter.Settings) *promstore {
	return &promstore{
		cfg:    cfg,
		set:    set,
		logger: newSlogLogger(set.Logger),
		// The prometheusremotewrite exporter's defaults, see its factory.
		translator: prometheusremotewrite.Settings{
			Namespace:         cfg.Translation.Namespace,
			DisableTargetInfo: !cfg.Translation.TargetInfo,
			AddMetricSuffixes: cfg.Translation.AddMetricSuffixes,
		},
	}
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
	opts.EnableExemplarStorage = true
	opts.MaxExemplars = maxExemplars
	db, err := tsdb.Open(dir, p.logger, nil, opts, nil)
	if err != nil {
		return fmt.Errorf("promstore: open TSDB in %q: %w", dir, err)
	}
	defer func() {
		if err != nil {
			_ = db.Close()
		}
	}()

	tracker, err := promql.NewActiveQueryTracker(dir, p.cfg.Query.MaxConcurrency, p.logger)
	if err != nil {
		return fmt.Errorf("promstore: query tracker in %q: %w", dir, err)
	}
	engine := promql.NewEngine(promql.EngineOpts{
		Logger:                   p.logger,
		MaxSamples:               p.cfg.Query.MaxSamples,
		Timeout:                  p.cfg.Query.Timeout,
		ActiveQueryTracker:       tracker,
		LookbackDelta:            p.cfg.Query.LookbackDelta,
		NoStepSubqueryIntervalFn: func(int64) int64 { return time.Minute.Milliseconds() },
		EnableAtModifier:         true,
		EnableNegativeOffset:     true,
	})
	defer func() {
		if err != nil {
			_ = engine.Close()
		}
	}()

	al, err := p.newAlerting(db, engine, externalURL(p.cfg.NetAddr.Endpoint))
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			al.stop()
		}
	}()

	handler := p.handler(db, engine, dir, al)
	ln, err := p.cfg.ServerConfig.ToListener(ctx)
	if err != nil {
		return fmt.Errorf("promstore: listen on %q: %w", p.cfg.NetAddr.Endpoint, err)
	}
	server, err := p.cfg.ServerConfig.ToServer(ctx, host.GetExtensions(), p.set.TelemetrySettings, handler,
		confighttp.WithErrorHandler(func(w http.ResponseWriter, _ *http.Request, msg string, status int) {
			writeAPIError(w, status, msg)
		}))
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("promstore: %w", err)
	}

	if err = p.runAlerting(al); err != nil {
		_ = ln.Close()
		return err
	}

	p.mu.Lock()
	p.db, p.engine, p.server, p.alerting = db, engine, server, al
	p.mu.Unlock()
	p.ready.Store(true)
	p.set.Logger.Info("Prometheus API listening",
		zap.String("endpoint", ln.Addr().String()), zap.String("directory", dir))

	p.serveDone = make(chan struct{})
	go func() {
		defer close(p.serveDone)
		if err := server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			componentstatus.ReportStatus(host, componentstatus.NewFatalErrorEvent(err))
		}
	}()
	return nil
}

// shutdown runs after exporterhelper has drained the queue: it stops the
// HTTP API, then rule evaluation and the notifier (after it has sent what
// it queued), then closes the engine and the TSDB.
func (p *promstore) shutdown(ctx context.Context) error {
	p.ready.Store(false)
	var errs []error
	if p.server != nil {
		errs = append(errs, p.server.Shutdown(ctx))
		<-p.serveDone
	}
	if p.alerting != nil {
		p.alerting.stop()
		p.alerting = nil
	}
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
// after the transaction is committed to the WAL. Samples the TSDB rejects
// one by one (out of order, duplicate, invalid) are counted and dropped:
// retrying would not change the answer. A failed commit is returned as a
// retryable error.
func (p *promstore) pushMetrics(ctx context.Context, md pmetric.Metrics) error {
	tsMap, err := prometheusremotewrite.FromMetrics(md, p.translator)
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
	res := p.appendAll(app, tsMap)
	if err := app.Commit(); err != nil {
		return fmt.Errorf("promstore: commit %d samples to the TSDB: %w", res.appended, err)
	}
	p.stats.samples.Add(res.appended)
	p.stats.outOfOrder.Add(res.outOfOrder)
	p.stats.invalid.Add(res.invalid)
	if res.outOfOrder > 0 || res.invalid > 0 {
		p.set.Logger.Debug("TSDB rejected samples",
			zap.Int64("appended", res.appended),
			zap.Int64("out_of_order", res.outOfOrder),
			zap.Int64("invalid", res.invalid),
			zap.NamedError("last_error", res.lastErr))
	}
	return nil
}

type appendResult struct {
	appended, outOfOrder, invalid int64
	lastErr                       error
}

func (r *appendResult) reject(err error) {
	r.lastErr = err
	if isOutOfOrder(err) {
		r.outOfOrder++
	} else {
		r.invalid++
	}
}

func isOutOfOrder(err error) bool {
	return errors.Is(err, storage.ErrOutOfOrderSample) ||
		errors.Is(err, storage.ErrOutOfBounds) ||
		errors.Is(err, storage.ErrTooOldSample) ||
		errors.Is(err, storage.ErrDuplicateSampleForTimestamp)
}

// appendAll appends every sample, histogram and exemplar of tsMap. Append
// only touches the in-memory head; the WAL is written by Commit.
func (p *promstore) appendAll(app storage.AppenderV2, tsMap map[string]*prompb.TimeSeries) appendResult {
	var (
		res       appendResult
		b         = labels.NewScratchBuilder(0)
		exemplars []exemplar.Exemplar
	)
	exApp, _ := app.(storage.ExemplarAppenderV2)
	for _, ts := range tsMap {
		ls := ts.ToLabels(&b, nil)
		if !ls.Has(model.MetricNameLabel) || !ls.IsValid(model.UTF8Validation) {
			res.invalid += int64(len(ts.Samples) + len(ts.Histograms))
			res.lastErr = fmt.Errorf("invalid labels %s", ls.String())
			continue
		}
		if name, dup := ls.HasDuplicateLabelNames(); dup {
			res.invalid += int64(len(ts.Samples) + len(ts.Histograms))
			res.lastErr = fmt.Errorf("duplicate label %q in %s", name, ls.String())
			continue
		}
		var ref storage.SeriesRef
		for _, s := range ts.Samples {
			r, err := app.Append(ref, ls, 0, s.Timestamp, s.Value, nil, nil, storage.AOptions{})
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
			)
			if h.IsFloatHistogram() {
				r, err = app.Append(ref, ls, 0, h.Timestamp, 0, nil, h.ToFloatHistogram(), storage.AOptions{})
			} else {
				r, err = app.Append(ref, ls, 0, h.Timestamp, 0, h.ToIntHistogram(), nil, storage.AOptions{})
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
			exemplars = append(exemplars, e.ToExemplar(&b, nil))
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
