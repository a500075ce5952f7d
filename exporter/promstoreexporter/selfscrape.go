package promstoreexporter // import "github.com/pulse-otel/pulse/exporter/promstoreexporter"

// The telemetry option: the collector's own Prometheus telemetry is
// scraped and appended to the TSDB, so the processing counters (rejects,
// consent decisions, masks, drops) are stored next to the data they
// describe and kept as long as it.
//
// It runs Prometheus' own scrape manager (github.com/prometheus/prometheus/scrape)
// on one static target instead of a hand-written parser: the same content
// negotiation, sample limit, timeout, metric relabelling, staleness markers
// and up/scrape_* series as a Prometheus server scraping the collector, and
// it appends through the TSDB's AppenderV2 like the exports do.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	promconfig "github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery/targetgroup"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/scrape"
	"github.com/prometheus/prometheus/storage"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
)

// telemetryJob is the job label of the stored telemetry.
const telemetryJob = "pulse"

// selfScrape scrapes the collector's telemetry into the TSDB.
type selfScrape struct {
	mgr     *scrape.Manager
	targets chan map[string][]*targetgroup.Group
	done    chan struct{}
	health  *scrapeHealth
}

// scrapeHealth follows the up sample of each scrape: failures are counted,
// and logged once when scraping starts failing and once when it recovers.
type scrapeHealth struct {
	endpoint string
	logger   *zap.Logger
	failures metric.Int64Counter
	mgr      func() *scrape.Manager

	mu      sync.Mutex
	failing bool
}

// scrapeConfig is the Prometheus configuration of the scrape: JSON, which
// is YAML, so that promconfig.Load applies Prometheus' defaults and checks.
func scrapeConfig(c *TelemetryConfig) (*promconfig.Config, error) {
	keep := make([]string, len(c.Metrics))
	for i, m := range c.Metrics {
		keep[i] = "(?:" + m + ")"
	}
	job := map[string]any{
		"job_name":        telemetryJob,
		"scrape_interval": model.Duration(c.Interval).String(),
		"scrape_timeout":  model.Duration(c.Timeout).String(),
		"sample_limit":    c.SampleLimit,
		// The text format: the names as :8888/metrics shows them (the
		// OpenMetrics format would add _total to counters).
		"scrape_protocols": []string{string(promconfig.PrometheusText0_0_4)},
		"metric_relabel_configs": []map[string]any{{
			"source_labels": []string{model.MetricNameLabel},
			"regex":         strings.Join(keep, "|"),
			"action":        "keep",
		}},
	}
	b, err := json.Marshal(map[string]any{"scrape_configs": []any{job}})
	if err != nil {
		return nil, err
	}
	return promconfig.Load(string(b), nil)
}

// startSelfScrape starts scraping into db, or returns nil when the option
// is off.
func (p *promstore) startSelfScrape(db storage.AppendableV2) (*selfScrape, error) {
	c := &p.cfg.Telemetry
	if !c.Enabled {
		return nil, nil
	}
	pcfg, err := scrapeConfig(c)
	if err != nil {
		return nil, fmt.Errorf("promstore: telemetry: %w", err)
	}
	failures := p.telemetry.scrapeFailures
	s := &selfScrape{
		targets: make(chan map[string][]*targetgroup.Group, 1),
		done:    make(chan struct{}),
	}
	s.health = &scrapeHealth{endpoint: c.Endpoint, logger: p.set.Logger, failures: failures, mgr: func() *scrape.Manager { return s.mgr }}
	// Its own registry: the scrape manager's metrics are not the store's.
	s.mgr, err = scrape.NewManager(&scrape.Options{
		DiscoveryReloadInterval:  model.Duration(100 * time.Millisecond),
		DiscoveryReloadOnStartup: true,
		// One last scrape at shutdown stores the final counts: exporters
		// shut down before the collector's telemetry does.
		ScrapeOnShutdown: true,
		// The family's type with each sample: counters get a start time.
		AppendMetadata: true,
	}, p.logger, nil, nil, newUpWatcher(db, s.health, time.Now(), func() { p.appends.Add(1) }), prometheus.NewRegistry())
	if err != nil {
		return nil, fmt.Errorf("promstore: telemetry: %w", err)
	}
	if err := s.mgr.ApplyConfig(pcfg); err != nil {
		return nil, fmt.Errorf("promstore: telemetry: %w", err)
	}
	s.targets <- map[string][]*targetgroup.Group{telemetryJob: {{
		Source:  "telemetry",
		Targets: []model.LabelSet{{model.AddressLabel: model.LabelValue(c.Endpoint)}},
	}}}
	go func() {
		defer close(s.done)
		_ = s.mgr.Run(s.targets) // returns nil once stopped
	}()
	p.set.Logger.Info("Storing the collector's telemetry",
		zap.String("endpoint", c.Endpoint), zap.Duration("interval", c.Interval))
	return s, nil
}

// stop ends the scrape after its last one; the TSDB is closed after it.
func (s *selfScrape) stop() {
	if s == nil {
		return
	}
	s.mgr.Stop()
	<-s.done
}

// observe notes the outcome of one scrape.
func (h *scrapeHealth) observe(up bool) {
	if !up {
		h.failures.Add(context.Background(), 1)
	}
	h.mu.Lock()
	changed := h.failing == up
	h.failing = !up
	h.mu.Unlock()
	if !changed {
		return
	}
	if up {
		h.logger.Info("Storing the collector's telemetry again", zap.String("endpoint", h.endpoint))
		return
	}
	h.logger.Warn("Scraping the collector's telemetry failed; the processing counters are not stored until it recovers",
		zap.String("endpoint", h.endpoint), zap.String("error", h.lastError()))
}

// lastError is the scrape target's last error, as Prometheus reports it.
func (h *scrapeHealth) lastError() string {
	m := h.mgr()
	if m == nil {
		return ""
	}
	for _, t := range m.TargetsActive()[telemetryJob] {
		if err := t.LastError(); err != nil {
			return err.Error()
		}
	}
	return ""
}

// upWatcher is the TSDB as the scrape manager appends to it: it watches
// the up sample each scrape reports, and gives counters a start time.
//
// The collector's counters carry no created timestamp, and a series
// appears on :8888 only once it has counted something, so its first
// stored value would be all of it and increase() over the period would
// miss it. Each counter and histogram sample is appended with the start
// time of the last successful scrape (at first the scrape's start): the
// TSDB's zero-at-start-time ingestion (EnableSTAsZeroSample) then puts a
// zero there for a series that did not exist at that scrape, and ignores
// it for a series that did (its last sample is at that time already).
type upWatcher struct {
	db     storage.AppendableV2
	health *scrapeHealth
	last   *atomic.Int64 // ms of the last successful scrape
	// stored is called after each stored scrape: the live page shows it.
	stored func()
}

func newUpWatcher(db storage.AppendableV2, health *scrapeHealth, start time.Time, stored func()) upWatcher {
	u := upWatcher{db: db, health: health, last: new(atomic.Int64), stored: stored}
	u.last.Store(start.UnixMilli())
	return u
}

func (u upWatcher) AppenderV2(ctx context.Context) storage.AppenderV2 {
	return &upAppender{AppenderV2: u.db.AppenderV2(ctx), watcher: u, st: u.last.Load()}
}

type upAppender struct {
	storage.AppenderV2
	watcher upWatcher
	st      int64 // the start time given to this scrape's counters
	t       int64 // this scrape's time
	up      float64
	seen    bool
}

func (a *upAppender) Append(ref storage.SeriesRef, ls labels.Labels, st, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, opts storage.AppendV2Options) (storage.SeriesRef, error) {
	stale := h == nil && fh == nil && value.IsStaleNaN(v)
	switch {
	case stale:
	case h == nil && fh == nil && ls.Get(model.MetricNameLabel) == "up":
		a.up, a.seen, a.t = v, true, t
	case st == 0 && a.st < t && cumulative(opts.Metadata.Type):
		st = a.st
	}
	return a.AppenderV2.Append(ref, ls, st, t, v, h, fh, opts)
}

// cumulative reports whether samples of a family of type typ count from a
// start: counters and histograms.
func cumulative(typ model.MetricType) bool {
	return typ == model.MetricTypeCounter || typ == model.MetricTypeHistogram
}

func (a *upAppender) Commit() error {
	err := a.AppenderV2.Commit()
	if a.seen {
		ok := a.up == 1 && err == nil
		if ok {
			a.watcher.last.Store(a.t)
			a.watcher.stored()
		}
		a.watcher.health.observe(ok)
	}
	return err
}
