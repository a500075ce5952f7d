package promstoreexporter // import "github.com/pulse-otel/pulse/exporter/promstoreexporter"

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/pulse-otel/pulse/exporter/promstoreexporter/internal/metadata"
	"github.com/pulse-otel/pulse/internal/livepage"
)

// telemetry is the exporter's own metrics on the collector's telemetry.
type telemetry struct {
	meter       metric.Meter
	refused     metric.Int64Counter
	reasonAttrs [numRefusals]metric.AddOption

	// storeMetrics reads the TSDB's, the engine's, the rules manager's and
	// the notifier's Prometheus metrics; nil when not started.
	storeMetrics metric.Registration
	// The live page's instruments, created with the exporter so that they
	// are known before it starts; liveMetrics reads the page's counts into
	// them, nil without the page.
	liveViewers, liveStreams, liveEvaluations, liveDropped metric.Int64Observable
	liveMetrics                                            metric.Registration

	// The telemetry option's failed scrapes and retention.policies'
	// executions, created with the exporter like the live page's.
	scrapeFailures metric.Int64Counter
	retention      *retentionTelemetry
}

func newTelemetry(set component.TelemetrySettings) (*telemetry, error) {
	meter := set.MeterProvider.Meter(metadata.ScopeName)
	t := &telemetry{meter: meter}
	var err error
	if t.refused, err = meter.Int64Counter("otelcol_exporter_promstore_samples_refused",
		metric.WithDescription("Samples the TSDB refused, by reason (too_old, out_of_bounds, out_of_order, duplicate, invalid, series_limit); the export fails with a permanent error."),
		metric.WithUnit("{sample}")); err != nil {
		return nil, err
	}
	for r := range numRefusals {
		t.reasonAttrs[r] = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", refusalNames[r])))
	}
	if t.liveViewers, err = meter.Int64ObservableGauge("otelcol_exporter_promstore_live_viewers",
		metric.WithDescription("Live dashboard pages open (live.max_viewers)."), metric.WithUnit("{viewer}")); err != nil {
		return nil, err
	}
	if t.liveStreams, err = meter.Int64ObservableGauge("otelcol_exporter_promstore_live_streams",
		metric.WithDescription("Distinct (dashboard, time range) streams evaluated (live.max_streams)."), metric.WithUnit("{stream}")); err != nil {
		return nil, err
	}
	if t.liveEvaluations, err = meter.Int64ObservableCounter("otelcol_exporter_promstore_live_evaluations",
		metric.WithDescription("Evaluations of an open dashboard's queries, each sent to all its viewers."), metric.WithUnit("{evaluation}")); err != nil {
		return nil, err
	}
	if t.liveDropped, err = meter.Int64ObservableCounter("otelcol_exporter_promstore_live_viewers_dropped",
		metric.WithDescription("Live viewers disconnected because they read their frames too slowly (their page reconnects)."), metric.WithUnit("{viewer}")); err != nil {
		return nil, err
	}
	if t.scrapeFailures, err = meter.Int64Counter("otelcol_exporter_promstore_telemetry_scrape_failures",
		metric.WithDescription("Scrapes of the collector's own telemetry (the telemetry option) that stored nothing: endpoint down, timeout, or over sample_limit."),
		metric.WithUnit("{scrape}")); err != nil {
		return nil, err
	}
	if t.retention, err = newRetentionTelemetry(meter); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *telemetry) recordRefused(ctx context.Context, res *appendResult) {
	for r, n := range res.refused {
		if n > 0 {
			t.refused.Add(ctx, n, t.reasonAttrs[r])
		}
	}
}

// storeMetric is a Prometheus metric of the store put on the collector's
// telemetry under its Prometheus name, so that Prometheus' own alerts
// (PrometheusTSDBCompactionsFailing, PrometheusRuleFailures...) apply.
type storeMetric struct {
	name    string
	counter bool
	help    string
}

// storeMetrics are the health signals of the store: what fails silently
// otherwise (WAL corruption, compaction, rule evaluation, notification) and
// what it holds (series, blocks, queries).
var storeMetrics = []storeMetric{
	{"prometheus_tsdb_head_series", false, "Series in the TSDB head."},
	{"prometheus_tsdb_head_samples_appended_total", true, "Samples appended to the TSDB head, by type."},
	{"prometheus_tsdb_out_of_order_samples_total", true, "Samples refused as out of order, by type."},
	{"prometheus_tsdb_out_of_bound_samples_total", true, "Samples refused as out of bounds, by type."},
	{"prometheus_tsdb_too_old_samples_total", true, "Samples refused as older than the out-of-order window, by type."},
	{"prometheus_tsdb_wal_corruptions_total", true, "WAL corruptions found."},
	{"prometheus_tsdb_wal_writes_failed_total", true, "WAL writes that failed."},
	{"prometheus_tsdb_wal_truncations_failed_total", true, "WAL truncations that failed."},
	{"prometheus_tsdb_checkpoint_creations_failed_total", true, "WAL checkpoints that failed."},
	{"prometheus_tsdb_compactions_failed_total", true, "Compactions that failed."},
	{"prometheus_tsdb_head_truncations_failed_total", true, "Head truncations that failed."},
	{"prometheus_tsdb_reloads_failures_total", true, "Block reloads that failed."},
	{"prometheus_tsdb_storage_blocks_bytes", false, "Bytes of persisted blocks."},
	{"prometheus_tsdb_blocks_loaded", false, "Persisted blocks loaded."},
	{"prometheus_engine_queries", false, "Queries being evaluated or waiting."},
	{"prometheus_engine_queries_concurrent_max", false, "query.max_concurrency."},
	{"prometheus_rule_evaluation_failures_total", true, "Rule evaluations that failed, by rule group."},
	{"prometheus_rule_group_iterations_missed_total", true, "Rule group evaluations missed because the previous one was slow, by rule group."},
	{"prometheus_notifications_dropped_total", true, "Alerts dropped: sending failed or the queue was full."},
	{"prometheus_notifications_errors_total", true, "Alert sends that failed, by Alertmanager."},
	{"prometheus_notifications_queue_length", false, "Alerts waiting to be sent."},
	{"prometheus_notifications_queue_capacity", false, "Alerts the queue holds."},
}

// observe puts storeMetrics, read from g at every collection, on the
// collector's telemetry. The collector's MeterProvider is built before any
// component, so a Prometheus bridge cannot be added to its reader; one
// callback reads g instead.
func (t *telemetry) observe(g prometheus.Gatherer) error {
	instruments := make(map[string]metric.Float64Observable, len(storeMetrics))
	list := make([]metric.Observable, 0, len(storeMetrics))
	for _, m := range storeMetrics {
		var (
			inst metric.Float64Observable
			err  error
		)
		if m.counter {
			inst, err = t.meter.Float64ObservableCounter(m.name, metric.WithDescription(m.help))
		} else {
			inst, err = t.meter.Float64ObservableGauge(m.name, metric.WithDescription(m.help))
		}
		if err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		instruments[m.name] = inst
		list = append(list, inst)
	}
	reg, err := t.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		families, err := g.Gather()
		for _, f := range families {
			inst, ok := instruments[f.GetName()]
			if !ok {
				continue
			}
			for _, m := range f.GetMetric() {
				o.ObserveFloat64(inst, metricValue(f.GetType(), m), metric.WithAttributeSet(labelSet(m.GetLabel())))
			}
		}
		return err
	}, list...)
	if err != nil {
		return err
	}
	t.storeMetrics = reg
	return nil
}

// observeLive puts the live page's counts on the collector's telemetry.
func (t *telemetry) observeLive(stats func() livepage.Stats) error {
	reg, err := t.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := stats()
		o.ObserveInt64(t.liveViewers, s.Viewers)
		o.ObserveInt64(t.liveStreams, s.Streams)
		o.ObserveInt64(t.liveEvaluations, s.Evaluations)
		o.ObserveInt64(t.liveDropped, s.Dropped)
		return nil
	}, t.liveViewers, t.liveStreams, t.liveEvaluations, t.liveDropped)
	if err != nil {
		return err
	}
	t.liveMetrics = reg
	return nil
}

// stopObserving stops reading the store's metrics, before the store closes.
func (t *telemetry) stopObserving() {
	if t.liveMetrics != nil {
		_ = t.liveMetrics.Unregister()
		t.liveMetrics = nil
	}
	if t.storeMetrics == nil {
		return
	}
	_ = t.storeMetrics.Unregister()
	t.storeMetrics = nil
}

func metricValue(typ dto.MetricType, m *dto.Metric) float64 {
	switch typ {
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue()
	case dto.MetricType_GAUGE:
		return m.GetGauge().GetValue()
	default:
		return m.GetUntyped().GetValue()
	}
}

func labelSet(pairs []*dto.LabelPair) attribute.Set {
	if len(pairs) == 0 {
		return *attribute.EmptySet()
	}
	kvs := make([]attribute.KeyValue, len(pairs))
	for i, lp := range pairs {
		kvs[i] = attribute.String(lp.GetName(), lp.GetValue())
	}
	return attribute.NewSet(kvs...)
}
