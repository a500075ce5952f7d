package catalog

// Labels of the snapshot gauges: the dims every point of an endpoint
// carries (the decoder's spec says which fields they come from).
const (
	LabelEnvironment = "environment"
	LabelGranularity = "granularity"
)

var (
	modelLabels    = []string{"model_id", "model_version", "model_type"}
	businessLabels = []string{"metric_name", "category", "unit", "granularity", "segment", "channel", "geography", "platform"}
	systemLabels   = []string{LabelEnvironment, LabelGranularity}
)

// snapshotMetrics are the gauges of the analytics receiver's snapshot
// endpoints, in the order of their spec: /v1/model-metrics,
// /v1/business-metrics, /v1/system-metrics. A metric split by a fixed
// attribute (stat, direction) or by element (error_type) is one entry.
var snapshotMetrics = []Metric{
	{Name: "pulse.ai.model.accuracy", Unit: "1", Kind: Gauge, Labels: modelLabels, Help: "Model accuracy over the evaluation period.", Source: Snapshot},
	{Name: "pulse.ai.model.precision", Unit: "1", Kind: Gauge, Labels: modelLabels, Help: "Model precision over the evaluation period.", Source: Snapshot},
	{Name: "pulse.ai.model.recall", Unit: "1", Kind: Gauge, Labels: modelLabels, Help: "Model recall over the evaluation period.", Source: Snapshot},
	{Name: "pulse.ai.model.f1", Unit: "1", Kind: Gauge, Labels: modelLabels, Help: "Model F1 score over the evaluation period.", Source: Snapshot},
	{Name: "pulse.ai.model.prediction.latency", Unit: "ms", Kind: Gauge, Labels: modelLabels, Help: "Average prediction time.", Source: Snapshot},
	{Name: "pulse.ai.model.throughput", Unit: "{prediction}/s", Kind: Gauge, Labels: modelLabels, Help: "Predictions per second.", Source: Snapshot},
	{Name: "pulse.ai.model.error_rate", Unit: "1", Kind: Gauge, Labels: modelLabels, Help: "Share of predictions that failed.", Source: Snapshot},
	{Name: "pulse.ai.model.acceptance_rate", Unit: "1", Kind: Gauge, Labels: modelLabels, Help: "Share of recommendations users accepted.", Source: Snapshot},
	{Name: "pulse.ai.model.modification_rate", Unit: "1", Kind: Gauge, Labels: modelLabels, Help: "Share of recommendations users modified.", Source: Snapshot},
	{Name: "pulse.ai.model.satisfaction", Unit: "{rating}", Kind: Gauge, Labels: modelLabels, Help: "User satisfaction, 1 to 5.", Source: Snapshot},
	{Name: "pulse.ai.model.drift.detected", Unit: "", Kind: Gauge, Int: true, Labels: modelLabels, Help: "1 when data drift was detected, else 0.", Source: Snapshot},
	{Name: "pulse.ai.model.drift.severity", Unit: "", Kind: Gauge, Labels: modelLabels, Help: "Drift severity: 1 low, 2 medium, 3 high.", Source: Snapshot},
	{Name: "pulse.ai.model.drift.affected_features", Unit: "{feature}", Kind: Gauge, Int: true, Labels: modelLabels, Help: "Number of features affected by drift.", Source: Snapshot},
	{Name: "pulse.ai.model.drift.score", Unit: "", Kind: Gauge, Labels: modelLabels, Help: "Drift score.", Source: Snapshot},
	{Name: "pulse.ai.model.safety.violations", Unit: "{violation}", Kind: Gauge, Int: true, Labels: modelLabels, Help: "Safety violations in the evaluation period.", Source: Snapshot},
	{Name: "pulse.ai.model.safety.score", Unit: "", Kind: Gauge, Labels: modelLabels, Help: "Safety rating, 0 to 100.", Source: Snapshot},
	{Name: "pulse.ai.model.safety.risk_level", Unit: "", Kind: Gauge, Labels: modelLabels, Help: "Risk level: 1 low, 2 medium, 3 high.", Source: Snapshot},
	{Name: "pulse.ai.model.cpu.utilization", Unit: "%", Kind: Gauge, Labels: modelLabels, Help: "CPU utilisation of the model service.", Source: Snapshot},
	{Name: "pulse.ai.model.memory.usage", Unit: "By", Kind: Gauge, Labels: modelLabels, Help: "Memory used by the model service.", Source: Snapshot},
	{Name: "pulse.ai.model.gpu.utilization", Unit: "%", Kind: Gauge, Labels: modelLabels, Help: "GPU utilisation of the model service.", Source: Snapshot},
	{Name: "pulse.ai.model.cost_per_prediction", Unit: "{currency}", Kind: Gauge, Labels: modelLabels, Help: "Cost of one prediction.", Source: Snapshot},
	{Name: "pulse.ai.model.evaluation.sample_size", Unit: "{sample}", Kind: Gauge, Int: true, Labels: modelLabels, Help: "Samples in the evaluation period.", Source: Snapshot},
	{Name: "pulse.business.value", Unit: "", Kind: Gauge, Labels: businessLabels, Help: "Value of a business metric, in the unit its unit label names.", Source: Snapshot},
	{Name: "pulse.business.previous_value", Unit: "", Kind: Gauge, Labels: businessLabels, Help: "Value of the metric in the previous period.", Source: Snapshot},
	{Name: "pulse.business.percent_change", Unit: "%", Kind: Gauge, Labels: businessLabels, Help: "Change against the previous period.", Source: Snapshot},
	{Name: "pulse.business.trend", Unit: "", Kind: Gauge, Labels: businessLabels, Help: "Trend: 1 up, -1 down, 0 stable.", Source: Snapshot},
	{Name: "pulse.business.confidence", Unit: "1", Kind: Gauge, Labels: businessLabels, Help: "Confidence in the value, 0 to 1.", Source: Snapshot},
	{Name: "pulse.business.sample_size", Unit: "{sample}", Kind: Gauge, Int: true, Labels: businessLabels, Help: "Sample behind the value.", Source: Snapshot},
	{Name: "pulse.system.response_time", Unit: "ms", Kind: Gauge, Labels: []string{LabelEnvironment, LabelGranularity, "stat"}, Help: "Response time by statistic.", Source: Snapshot},
	{Name: "pulse.system.requests.rate", Unit: "{request}/s", Kind: Gauge, Labels: systemLabels, Help: "Requests per second.", Source: Snapshot},
	{Name: "pulse.system.transactions.rate", Unit: "{transaction}/s", Kind: Gauge, Labels: systemLabels, Help: "Transactions per second.", Source: Snapshot},
	{Name: "pulse.system.error_rate", Unit: "1", Kind: Gauge, Labels: systemLabels, Help: "Share of requests that failed.", Source: Snapshot},
	{Name: "pulse.system.errors", Unit: "{error}", Kind: Gauge, Int: true, Labels: systemLabels, Help: "Errors in the time window.", Source: Snapshot},
	{Name: "pulse.system.errors_by_type", Unit: "{error}", Kind: Gauge, Int: true, Labels: []string{LabelEnvironment, LabelGranularity, "error_type"}, Help: "Errors in the time window by type.", Source: Snapshot},
	{Name: "pulse.system.cpu.utilization", Unit: "%", Kind: Gauge, Labels: systemLabels, Help: "CPU utilisation.", Source: Snapshot},
	{Name: "pulse.system.memory.utilization", Unit: "%", Kind: Gauge, Labels: systemLabels, Help: "Memory utilisation.", Source: Snapshot},
	{Name: "pulse.system.disk.utilization", Unit: "%", Kind: Gauge, Labels: systemLabels, Help: "Disk utilisation.", Source: Snapshot},
	{Name: "pulse.system.network.io", Unit: "By", Kind: Gauge, Labels: []string{LabelEnvironment, LabelGranularity, "direction"}, Help: "Network bytes by direction.", Source: Snapshot},
	{Name: "pulse.system.db.query_time", Unit: "ms", Kind: Gauge, Labels: systemLabels, Help: "Average database query time.", Source: Snapshot},
	{Name: "pulse.system.db.slow_queries", Unit: "{query}", Kind: Gauge, Int: true, Labels: systemLabels, Help: "Slow database queries in the time window.", Source: Snapshot},
	{Name: "pulse.system.db.connections.active", Unit: "{connection}", Kind: Gauge, Int: true, Labels: systemLabels, Help: "Active database connections.", Source: Snapshot},
	{Name: "pulse.system.db.pool.utilization", Unit: "1", Kind: Gauge, Labels: systemLabels, Help: "Share of the connection pool in use.", Source: Snapshot},
	{Name: "pulse.system.uptime", Unit: "%", Kind: Gauge, Labels: systemLabels, Help: "Uptime in the time window.", Source: Snapshot},
	{Name: "pulse.system.downtime", Unit: "min", Kind: Gauge, Labels: systemLabels, Help: "Downtime in the time window.", Source: Snapshot},
	{Name: "pulse.system.incidents", Unit: "{incident}", Kind: Gauge, Int: true, Labels: systemLabels, Help: "Incidents in the time window.", Source: Snapshot},
}

// SnapshotMetrics returns the analytics receiver's snapshot gauges.
func SnapshotMetrics() []Metric {
	out := make([]Metric, len(snapshotMetrics))
	for i, m := range snapshotMetrics {
		out[i] = m.clone()
	}
	return out
}
