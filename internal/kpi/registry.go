package kpi

import (
	"slices"
	"strings"
)

// activeUserWindows are the windows of pulse_users_active (the connector's
// hll.DefaultWindows).
var activeUserWindows = []string{"1h", "1d", "7d", "30d"}

// Seed fields of dailyAnalyticsSummary.
const (
	daily = DailySummaryTable

	seedTotalUsers          = daily + "userMetrics.totalUsers"
	seedActiveUsers         = daily + "userMetrics.activeUsers"
	seedNewUsers            = daily + "userMetrics.newUsers"
	seedReturningUsers      = daily + "userMetrics.returningUsers"
	seedAvgSessionDuration  = daily + "userMetrics.avgSessionDuration"
	seedAvgSessionsPerUser  = daily + "userMetrics.avgSessionsPerUser"
	seedPageViews           = daily + "engagementMetrics.pageViews"
	seedUniquePageViews     = daily + "engagementMetrics.uniquePageViews"
	seedBounceRate          = daily + "engagementMetrics.bounceRate"
	seedAvgTimeOnSite       = daily + "engagementMetrics.avgTimeOnSite"
	seedConversionRate      = daily + "engagementMetrics.conversionRate"
	seedRevenue             = daily + "businessMetrics.revenue"
	seedTransactions        = daily + "businessMetrics.transactions"
	seedAvgOrderValue       = daily + "businessMetrics.avgOrderValue"
	seedSubscriptionChanges = daily + "businessMetrics.subscriptionChanges"
	seedAvgResponseTime     = daily + "systemMetrics.avgResponseTime"
	seedErrorRate           = daily + "systemMetrics.errorRate"
	seedUptime              = daily + "systemMetrics.uptime"
	seedThroughput          = daily + "systemMetrics.throughput"
	seedRecommendationCount = daily + "aiMetrics.recommendationCount"
	seedAcceptanceRate      = daily + "aiMetrics.acceptanceRate"
	seedAvgConfidence       = daily + "aiMetrics.avgConfidence"
	seedSafetyViolations    = daily + "aiMetrics.safetyViolations"
)

// registry holds the KPIs sorted by name.
var registry = sortedByName([]Def{
	// Users (analytics_metrics connector).
	{
		Name:        "active_users",
		Description: "Distinct users (user.id) with an event time in the rolling window: the connector's HyperLogLog estimate, standard error about 0.8 %. Only the connector's windows exist (24h is read as 1d, 168h as 7d, 720h as 30d; other windows are an error). The windows advance in buckets: 1h in 5-minute, 1d in hourly, 7d and 30d in daily (UTC) buckets. The sum over several connectors counts a user once per connector that saw them.",
		Unit:        "{user}",
		Expr:        `sum(pulse_users_active{window="$window"})`,
		Window:      "1d",
		Windows:     activeUserWindows,
		Metrics:     []string{"pulse_users_active"},
		SeedField:   seedActiveUsers,
	},
	{
		Name:        "cohort_retention",
		Description: "Share of each weekly cohort (users first seen in a week) active in each later week, by cohort and period: the seed's userCohorts retentionRate. One series per cohort and period, for the last 12 cohorts.",
		Unit:        "1",
		Expr:        `sum by (cohort, period) (pulse_cohort_active_users) / on (cohort) group_left sum by (cohort) (pulse_cohort_size)`,
		Metrics:     []string{"pulse_cohort_active_users", "pulse_cohort_size"},
		SeedField:   "userCohorts.retentionData.retentionRate",
	},
	{
		Name:        "total_users",
		Description: "Users ever seen: the connector's new-user filter's count (pulse_users_seen), the seed's all-time totalUsers. It is kept across restarts with connector storage (estimated from the saved filter at start, within about 1 %); without storage it counts from the last start. The filter takes about 0.1 % of new users for returning ones, so it undercounts slightly.",
		Unit:        "{user}",
		Expr:        `sum(pulse_users_seen)`,
		Metrics:     []string{"pulse_users_seen"},
		SeedField:   seedTotalUsers,
	},
	{
		Name:        "new_users",
		Description: "Users seen for the first time in the window. The new-user filter takes about 0.1 % of new users for returning ones (false positives at expected_users), so this undercounts slightly; without connector storage every user is new again after a restart.",
		Unit:        "{user}",
		Expr:        exactIncrease(`pulse_users_new_total`),
		Window:      "1d",
		Metrics:     []string{"pulse_users_new_total"},
		SeedField:   seedNewUsers,
	},
	{
		Name:        "returning_users",
		Description: "Active users in the window minus users first seen in it, at least 0. Both terms are estimates (HyperLogLog; 0.1 % of new users taken for returning), and the active-user window advances in buckets while increase() covers exactly the window.",
		Unit:        "{user}",
		Expr:        `clamp_min(sum(pulse_users_active{window="$window"}) - (` + exactIncrease(`pulse_users_new_total`) + ` or vector(0)), 0)`,
		Window:      "1d",
		Windows:     activeUserWindows,
		Metrics:     []string{"pulse_users_active", "pulse_users_new_total"},
		SeedField:   seedReturningUsers,
	},

	// Sessions and engagement (analytics_metrics connector).
	{
		Name:        "avg_session_duration",
		Description: "Mean duration of the sessions that ended in the window and of the sessions still open, first to last event (the time on the last page is not part of it). A session ends after session_timeout (30m) without events, or when the session table is full; an open session counts with its duration so far, so a session open at the window's start counts whole.",
		Unit:        "s",
		Expr:        `((` + exactIncrease(`pulse_session_duration_seconds_sum`) + ` or vector(0)) + (sum(pulse_sessions_open_duration_seconds) or vector(0))) / ((` + exactIncrease(`pulse_session_duration_seconds_count`) + ` or vector(0)) + (sum(pulse_sessions_open) or vector(0)))`,
		Window:      "1d",
		Metrics:     []string{"pulse_session_duration_seconds_count", "pulse_session_duration_seconds_sum", "pulse_sessions_open", "pulse_sessions_open_duration_seconds"},
		SeedField:   seedAvgSessionDuration,
	},
	{
		Name:        "avg_sessions_per_user",
		Description: "Sessions started in the window per distinct user active in it. Sessions are counted by session.id and users by user.id, so anonymous sessions (no user.id) raise the ratio; while the window has sessions but no identified user yet, there is no value (not +Inf).",
		Unit:        "{session}/{user}",
		Expr:        exactIncrease(`pulse_sessions_total`) + ` / (sum(pulse_users_active{window="$window"}) > 0)`,
		Window:      "1d",
		Windows:     activeUserWindows,
		Metrics:     []string{"pulse_sessions_total", "pulse_users_active"},
		SeedField:   seedAvgSessionsPerUser,
	},
	{
		Name:        "avg_time_on_site",
		Description: "Time on site per visit, as the seed means it: the total duration of the sessions that ended in the window and of those still open, divided by their number; so it equals avg_session_duration. Session time runs from the first to the last event, so the time on each session's last page is missing.",
		Unit:        "s",
		Expr:        `((` + exactIncrease(`pulse_session_duration_seconds_sum`) + ` or vector(0)) + (sum(pulse_sessions_open_duration_seconds) or vector(0))) / ((` + exactIncrease(`pulse_session_duration_seconds_count`) + ` or vector(0)) + (sum(pulse_sessions_open) or vector(0)))`,
		Window:      "1d",
		Metrics:     []string{"pulse_session_duration_seconds_count", "pulse_session_duration_seconds_sum", "pulse_sessions_open", "pulse_sessions_open_duration_seconds"},
		SeedField:   seedAvgTimeOnSite,
	},
	{
		Name:        "bounce_rate",
		Description: "Share of the sessions that ended in the window, and of those still open, that had a single event.",
		Unit:        "1",
		Expr:        `((` + exactIncrease(`pulse_sessions_bounced_total`) + ` or vector(0)) + (sum(pulse_sessions_open_bounced) or vector(0))) / ((` + exactIncrease(`pulse_session_duration_seconds_count`) + ` or vector(0)) + (sum(pulse_sessions_open) or vector(0)))`,
		Window:      "1d",
		Metrics:     []string{"pulse_session_duration_seconds_count", "pulse_sessions_bounced_total", "pulse_sessions_open", "pulse_sessions_open_bounced"},
		SeedField:   seedBounceRate,
	},
	{
		Name:        "page_views",
		Description: "Navigation events (behavior type navigation: page or screen views).",
		Unit:        "{view}",
		Expr:        exactIncrease(`pulse_page_views_total`),
		Window:      "1d",
		Metrics:     []string{"pulse_page_views_total"},
		SeedField:   seedPageViews,
	},
	{
		Name:        "unique_page_views",
		Description: "Page views of a path not yet viewed in the same session. Needs session.id and pageData.path; the connector remembers the first 8 distinct paths of a session, so in longer sessions repeated views of further paths count again.",
		Unit:        "{view}",
		Expr:        exactIncrease(`pulse_page_unique_views_total`),
		Window:      "1d",
		Metrics:     []string{"pulse_page_unique_views_total"},
		SeedField:   seedUniquePageViews,
	},
	{
		Name:        "conversion_rate",
		Description: "Share of the sessions started in the window that converted: sessions with at least one conversion event (any goal type, counted once at the session's first conversion) over sessions started. Conversions without session.id count in neither.",
		Unit:        "1",
		Expr:        `(` + exactIncrease(`pulse_sessions_converted_total`) + ` or vector(0)) / ` + exactIncrease(`pulse_sessions_total`),
		Window:      "1d",
		Metrics:     []string{"pulse_sessions_converted_total", "pulse_sessions_total"},
		SeedField:   seedConversionRate,
	},

	// Business.
	{
		Name:        "revenue",
		Description: "Revenue reported by business snapshots: the latest value in the window of metric_name=\"revenue\" with granularity daily and no segment, channel, geography or platform breakdown, per currency (the unit label). metric_name, not category=\"revenue\": that category also holds metrics that cannot be added (ARPU, MRR, refunds), and breakdowns would count the total twice. Send total revenue as metricName \"revenue\"; purchase_revenue is the event-based figure.",
		Unit:        "{currency}",
		Expr:        `sum by (unit) (last_over_time(pulse_business_value{metric_name="revenue",granularity="daily",segment="",channel="",geography="",platform=""}[$window]))`,
		Window:      "1d",
		Metrics:     []string{"pulse_business_value"},
		SeedField:   seedRevenue,
	},
	{
		Name:        "purchase_revenue",
		Description: "Sum of the goal values of purchase conversions (goal_type purchase) in the window, in the currency the apps send goalValue in; conversions without goalValue add nothing.",
		Unit:        "{currency}",
		Expr:        exactIncrease(`pulse_conversion_value_total{goal_type="purchase"}`),
		Window:      "1d",
		Metrics:     []string{"pulse_conversion_value_total"},
		SeedField:   seedRevenue,
	},
	{
		Name:        "transactions",
		Description: "Completed purchases in the window: purchase conversions (goal_type purchase) that carry a goalValue above 0. Funnel steps before the purchase (cart, checkout started) are sent without goalValue and are not transactions; send goalValue on the completing step only.",
		Unit:        "{conversion}",
		Expr:        exactIncrease(`pulse_conversions_valued_total{goal_type="purchase"}`),
		Window:      "1d",
		Metrics:     []string{"pulse_conversions_valued_total"},
		SeedField:   seedTransactions,
	},
	{
		Name:        "avg_order_value",
		Description: "purchase_revenue / transactions: mean goal value of completed purchases (purchase conversions with a goalValue above 0).",
		Unit:        "{currency}",
		Expr:        exactIncrease(`pulse_conversion_value_total{goal_type="purchase"}`) + ` / ` + exactIncrease(`pulse_conversions_valued_total{goal_type="purchase"}`),
		Window:      "1d",
		Metrics:     []string{"pulse_conversion_value_total", "pulse_conversions_valued_total"},
		SeedField:   seedAvgOrderValue,
	},
	{
		Name:        "subscription_changes",
		Description: "Subscription conversions (goal_type subscription) in the window: new subscriptions, and upgrades or renewals when apps send them as such conversions. Cancellations are not conversions and are not counted; the catalog has no subscription-change metric (a business snapshot with its own metric_name is the place for net changes).",
		Unit:        "{conversion}",
		Expr:        exactIncrease(`pulse_conversions_total{goal_type="subscription"}`),
		Window:      "1d",
		Metrics:     []string{"pulse_conversions_total"},
		SeedField:   seedSubscriptionChanges,
	},

	// System performance (system snapshots, analytics receiver).
	{
		Name:        "avg_response_time",
		Description: "Mean response time over the services' snapshots in the window (stat average), weighted by each service's request rate. Snapshots of several granularities of one service weigh it several times.",
		Unit:        "ms",
		Expr:        `sum(avg_over_time(pulse_system_response_time_milliseconds{stat="average"}[$window]) * ignoring (stat) avg_over_time(pulse_system_requests_rate_per_second[$window])) / sum(avg_over_time(pulse_system_requests_rate_per_second[$window]))`,
		Window:      "1d",
		Metrics:     []string{"pulse_system_requests_rate_per_second", "pulse_system_response_time_milliseconds"},
		SeedField:   seedAvgResponseTime,
	},
	{
		Name:        "p95_response_time",
		Description: "Highest p95 response time any service reported in the window (stat p95 of the system snapshots). The snapshots' p95 cannot be combined into a p95 of all requests; group by job for one value per service. event_duration_p95 is the event-based counterpart.",
		Unit:        "ms",
		Expr:        `max(max_over_time(pulse_system_response_time_milliseconds{stat="p95"}[$window]))`,
		Window:      "1h",
		Metrics:     []string{"pulse_system_response_time_milliseconds"},
		SeedField:   "systemPerformanceMetrics.responseTime.p95",
	},
	{
		Name:        "system_error_rate",
		Description: "Share of requests that failed, from the system snapshots in the window, weighted by each service's request rate.",
		Unit:        "1",
		Expr:        `sum(avg_over_time(pulse_system_error_rate_ratio[$window]) * avg_over_time(pulse_system_requests_rate_per_second[$window])) / sum(avg_over_time(pulse_system_requests_rate_per_second[$window]))`,
		Window:      "1d",
		Metrics:     []string{"pulse_system_error_rate_ratio", "pulse_system_requests_rate_per_second"},
		SeedField:   seedErrorRate,
	},
	{
		Name:        "uptime",
		Description: "Mean uptime reported by the system snapshots in the window, averaged over services and environments (select environment=\"production\" in the PromQL to leave staging out).",
		Unit:        "%",
		Expr:        `avg(avg_over_time(pulse_system_uptime_percent[$window]))`,
		Window:      "1d",
		Metrics:     []string{"pulse_system_uptime_percent"},
		SeedField:   seedUptime,
	},
	{
		Name:        "throughput",
		Description: "Requests per second of all services: each service's mean request rate over its snapshots in the window (the highest of its granularities), summed.",
		Unit:        "{request}/s",
		Expr:        `sum(max without (granularity) (avg_over_time(pulse_system_requests_rate_per_second[$window])))`,
		Window:      "1d",
		Metrics:     []string{"pulse_system_requests_rate_per_second"},
		SeedField:   seedThroughput,
	},

	// Events, pipeline health and data quality (analytics_metrics connector).
	{
		Name:        "error_rate",
		Description: "Share of analytics events that are error_tracking events (event_type label; needs event_type in the connector's event_dimensions, which the default has). system_error_rate is the request error rate of the system snapshots.",
		Unit:        "1",
		Expr:        `(` + exactIncrease(`pulse_events_total{event_type="error_tracking"}`) + ` or vector(0)) / ` + exactIncrease(`pulse_events_total`),
		Window:      "5m",
		Metrics:     []string{"pulse_events_total"},
		SeedField:   "analyticsEvents.eventType",
	},
	{
		Name:        "events_per_second",
		Description: "Analytics events per second over the window (pulse.event records; recommendations are not events): the exact count in the window divided by its length in seconds. Not rate(), which extrapolates to the window's edges and reads high when a series starts in the window or was last written some seconds ago (a quiet series is written every 15 s).",
		Unit:        "{event}/s",
		Expr:        exactIncrease(`pulse_events_total`) + ` / $window_seconds`,
		Window:      "5m",
		Metrics:     []string{"pulse_events_total"},
	},
	{
		Name:        "event_duration_p95",
		Description: "95th percentile of the events' properties.duration, interpolated in the histogram buckets (10 ms to 300 s).",
		Unit:        "ms",
		Expr:        `histogram_quantile(0.95, ` + exactIncreaseBy("le", `pulse_event_duration_milliseconds_bucket`) + `)`,
		Window:      "5m",
		Metrics:     []string{"pulse_event_duration_milliseconds_bucket"},
		SeedField:   "analyticsEvents.properties.duration",
	},
	{
		Name:        "data_completeness",
		Description: "Share of the optional event fields (user_id, user_agent, page, feature, value, duration, behavior) that analytics events carried; group by field for each field's completeness.",
		Unit:        "1",
		Expr:        exactIncrease(`pulse_quality_fields_total{present="true"}`) + ` / ` + exactIncrease(`pulse_quality_fields_total`),
		Window:      "1h",
		Metrics:     []string{"pulse_quality_fields_total"},
		SeedField:   "dataQualityReports.completeness",
	},
	{
		Name:        "data_accuracy",
		Description: "Share of the items (events, recommendations and responses, snapshots) the analytics receiver found valid in the window: accepted / (accepted + rejected), from its own counters, which promstore stores with its telemetry option (docs/operations.md; a store without them has no value). Group by endpoint and platform for each data source's accuracy, by field and reason on the rejects for what failed. OTLP log records are not counted.",
		Unit:        "1",
		Expr:        `(` + exactIncrease(`otelcol_receiver_analytics_accepted_items`) + ` or vector(0)) / (((` + exactIncrease(`otelcol_receiver_analytics_accepted_items`) + ` or vector(0)) + (` + exactIncrease(`otelcol_receiver_analytics_rejected_items`) + ` or vector(0))) > 0)`,
		Window:      "1h",
		Metrics:     []string{"otelcol_receiver_analytics_accepted_items", "otelcol_receiver_analytics_rejected_items"},
		SeedField:   "dataQualityReports.accuracy",
	},
	{
		Name:        "response_consistency",
		Description: "Share of the later responses received in the window that matched a known recommendation: 1 - unjoined / responses, where unjoined are responses without model labels whose recommendation the connector did not know (unknown id, or older than its join window). Part of the quality report's consistency.",
		Unit:        "1",
		Expr:        `1 - ((` + exactIncrease(`pulse_recommendation_responses_unjoined_total`) + ` or vector(0)) / ` + exactIncrease(`pulse_recommendation_responses_total`) + `)`,
		Window:      "1h",
		Metrics:     []string{"pulse_recommendation_responses_total", "pulse_recommendation_responses_unjoined_total"},
		SeedField:   "dataQualityReports.consistency",
	},
	{
		Name:        "timeliness_share",
		Description: "Share of the analytics events received within the seed's freshness goal of 1 second of their timestamp (serverTimestamp - timestamp <= 1 s: the le=\"1\" bucket of pulse_event_timeliness_seconds) in the window. Group by platform for each client's.",
		Unit:        "1",
		Expr:        exactIncrease(`pulse_event_timeliness_seconds_bucket{le="1"}`) + ` / ` + exactIncrease(`pulse_event_timeliness_seconds_count`),
		Window:      "1h",
		Metrics:     []string{"pulse_event_timeliness_seconds_bucket", "pulse_event_timeliness_seconds_count"},
		SeedField:   "dataQualityReports.timeliness",
	},
	{
		Name:        "avg_quality_score",
		Description: "Mean quality score (0 to 100) of the analytics events that carry one.",
		Unit:        "",
		Expr:        exactIncrease(`pulse_quality_score_sum`) + ` / ` + exactIncrease(`pulse_quality_score_count`),
		Window:      "1h",
		Metrics:     []string{"pulse_quality_score_count", "pulse_quality_score_sum"},
		SeedField:   "analyticsEvents.qualityScore",
	},
	{
		Name:        "freshness_p95",
		Description: "95th percentile of event time to export (the connector flush that first includes the event) for events and recommendations. Buckets end at 3600 s: older events read as 3600.",
		Unit:        "s",
		Expr:        `histogram_quantile(0.95, ` + exactIncreaseBy("le", `pulse_event_freshness_seconds_bucket`) + `)`,
		Window:      "5m",
		Metrics:     []string{"pulse_event_freshness_seconds_bucket"},
	},
	{
		Name:        "timeliness_p95",
		Description: "95th percentile of receive time minus event time (serverTimestamp - timestamp) of analytics events. Buckets end at 3600 s: later events read as 3600.",
		Unit:        "s",
		Expr:        `histogram_quantile(0.95, ` + exactIncreaseBy("le", `pulse_event_timeliness_seconds_bucket`) + `)`,
		Window:      "5m",
		Metrics:     []string{"pulse_event_timeliness_seconds_bucket"},
		SeedField:   "analyticsEvents.serverTimestamp",
	},
	{
		Name:        "overflow_rate",
		Description: "Updates the connector folded into _other series in the window (a label over max_values_per_label, or all series over max_series); 0 when nothing overflowed. Above 0 means some label values are no longer told apart.",
		Unit:        "{data_point}",
		Expr:        exactIncrease(`pulse_connector_overflow_total`) + ` or vector(0)`,
		Window:      "5m",
		Metrics:     []string{"pulse_connector_overflow_total"},
	},

	// AI recommendations (analytics_metrics connector).
	{
		Name:        "recommendation_count",
		Description: "Recommendations shown (full pulse.recommendation records).",
		Unit:        "{recommendation}",
		Expr:        exactIncrease(`pulse_recommendations_total`),
		Window:      "1d",
		Metrics:     []string{"pulse_recommendations_total"},
		SeedField:   seedRecommendationCount,
	},
	{
		Name:        "acceptance_rate",
		Description: "Accepted responses per recommendation shown in the window, as the seed means it (accepted / recommendations shown; a recommendation without a response counts as not accepted). Responses count when they arrive, so near the window's start they may answer recommendations shown before it. The model snapshots' own figure is pulse_ai_model_acceptance_rate_ratio.",
		Unit:        "1",
		Expr:        `(` + exactIncrease(`pulse_recommendation_responses_total{response="accepted"}`) + ` or vector(0)) / ` + exactIncrease(`pulse_recommendations_total`),
		Window:      "1d",
		Metrics:     []string{"pulse_recommendation_responses_total", "pulse_recommendations_total"},
		SeedField:   seedAcceptanceRate,
	},
	{
		Name:        "modification_rate",
		Description: "Modified responses per recommendation shown in the window (modified / recommendations shown).",
		Unit:        "1",
		Expr:        `(` + exactIncrease(`pulse_recommendation_responses_total{response="modified"}`) + ` or vector(0)) / ` + exactIncrease(`pulse_recommendations_total`),
		Window:      "1d",
		Metrics:     []string{"pulse_recommendation_responses_total", "pulse_recommendations_total"},
		SeedField:   "aiModelMetrics.modificationRate",
	},
	{
		Name:        "avg_confidence",
		Description: "Mean model confidence of the recommendations shown in the window.",
		Unit:        "1",
		Expr:        exactIncrease(`pulse_recommendation_confidence_sum`) + ` / ` + exactIncrease(`pulse_recommendation_confidence_count`),
		Window:      "1d",
		Metrics:     []string{"pulse_recommendation_confidence_count", "pulse_recommendation_confidence_sum"},
		SeedField:   seedAvgConfidence,
	},
	{
		Name:        "avg_recommendation_rating",
		Description: "Mean feedback rating (1 to 5) of the responses received in the window: the event-based counterpart of the model snapshots' satisfaction.",
		Unit:        "{rating}",
		Expr:        exactIncrease(`pulse_recommendation_rating_sum`) + ` / ` + exactIncrease(`pulse_recommendation_rating_count`),
		Window:      "1d",
		Metrics:     []string{"pulse_recommendation_rating_count", "pulse_recommendation_rating_sum"},
		SeedField:   "aiModelMetrics.satisfactionScore",
	},

	// AI models (model snapshots, analytics receiver). One series per model
	// (model_id, model_version, model_type): figures of different models are
	// not added.
	{
		Name:        "safety_violations",
		Description: "Safety violations of all models: the sum of the violation counts of the model snapshots in the window. Assumes each snapshot counts its own evaluation period and the periods do not overlap.",
		Unit:        "{violation}",
		Expr:        `sum(sum_over_time(pulse_ai_model_safety_violations[$window]))`,
		Window:      "1d",
		Metrics:     []string{"pulse_ai_model_safety_violations"},
		SeedField:   seedSafetyViolations,
	},
	{
		Name:        "model_accuracy",
		Description: "Latest accuracy of each model in the window.",
		Unit:        "1",
		Expr:        `last_over_time(pulse_ai_model_accuracy_ratio[$window])`,
		Window:      "1d",
		Metrics:     []string{"pulse_ai_model_accuracy_ratio"},
		SeedField:   "aiModelMetrics.accuracyScore",
	},
	{
		Name:        "model_precision",
		Description: "Latest precision of each model in the window.",
		Unit:        "1",
		Expr:        `last_over_time(pulse_ai_model_precision_ratio[$window])`,
		Window:      "1d",
		Metrics:     []string{"pulse_ai_model_precision_ratio"},
		SeedField:   "aiModelMetrics.precisionScore",
	},
	{
		Name:        "model_recall",
		Description: "Latest recall of each model in the window.",
		Unit:        "1",
		Expr:        `last_over_time(pulse_ai_model_recall_ratio[$window])`,
		Window:      "1d",
		Metrics:     []string{"pulse_ai_model_recall_ratio"},
		SeedField:   "aiModelMetrics.recallScore",
	},
	{
		Name:        "model_f1",
		Description: "Latest F1 score of each model in the window.",
		Unit:        "1",
		Expr:        `last_over_time(pulse_ai_model_f1_ratio[$window])`,
		Window:      "1d",
		Metrics:     []string{"pulse_ai_model_f1_ratio"},
		SeedField:   "aiModelMetrics.f1Score",
	},
	{
		Name:        "drift_score",
		Description: "Latest data drift score of each model in the window.",
		Unit:        "",
		Expr:        `last_over_time(pulse_ai_model_drift_score[$window])`,
		Window:      "1d",
		Metrics:     []string{"pulse_ai_model_drift_score"},
		SeedField:   "aiModelMetrics.dataDrift.driftScore",
	},
	{
		Name:        "model_error_rate",
		Description: "Latest prediction error rate of each model in the window.",
		Unit:        "1",
		Expr:        `last_over_time(pulse_ai_model_error_rate_ratio[$window])`,
		Window:      "1d",
		Metrics:     []string{"pulse_ai_model_error_rate_ratio"},
		SeedField:   "aiModelMetrics.errorRate",
	},
	{
		Name:        "model_throughput",
		Description: "Latest predictions per second of each model in the window.",
		Unit:        "{prediction}/s",
		Expr:        `last_over_time(pulse_ai_model_throughput_per_second[$window])`,
		Window:      "1d",
		Metrics:     []string{"pulse_ai_model_throughput_per_second"},
		SeedField:   "aiModelMetrics.throughput",
	},
	{
		Name:        "model_latency",
		Description: "Latest average prediction latency of each model in the window.",
		Unit:        "ms",
		Expr:        `last_over_time(pulse_ai_model_prediction_latency_milliseconds[$window])`,
		Window:      "1d",
		Metrics:     []string{"pulse_ai_model_prediction_latency_milliseconds"},
		SeedField:   "aiModelMetrics.predictionLatency",
	},
	{
		Name:        "model_latency_p95",
		Description: "95th percentile, per model, of the average prediction latencies its snapshots reported in the window. Not the p95 of single predictions: model snapshots report only the average, and no metric records prediction latencies one by one.",
		Unit:        "ms",
		Expr:        `quantile_over_time(0.95, pulse_ai_model_prediction_latency_milliseconds[$window])`,
		Window:      "1d",
		Metrics:     []string{"pulse_ai_model_prediction_latency_milliseconds"},
		SeedField:   "aiModelMetrics.predictionLatency",
	},
})

func sortedByName(ks []Def) []Def {
	slices.SortFunc(ks, func(a, b Def) int { return strings.Compare(a.Name, b.Name) })
	return ks
}

// exactIncrease is the increase of the counter sel over the window, summed, exactly:
// per series, the last sample in the window minus the last one before it
// (a series that started in the window counts from 0, a reset from 0
// again), without the extrapolation of increase() and rate(), which
// inflates a series that starts in the window and loses what a sparse
// series gained before its first sample in it. This is what the anchored
// range selectors of recent Prometheus releases compute, written in PromQL
// every Prometheus-compatible store understands (Prometheus 2.x,
// VictoriaMetrics, Mimir, Thanos).
func exactIncrease(sel string) string { return "sum(" + exactIncreaseSeries(sel) + ")" }

// exactIncreaseBy is exactIncrease summed by the labels by (comma-separated).
func exactIncreaseBy(by, sel string) string {
	return "sum by (" + by + ") (" + exactIncreaseSeries(sel) + ")"
}

// ExactIncreaseBy is exactIncrease of sel over window (a Prometheus
// duration), summed by the labels by (comma-separated; empty: one sum), for
// readers outside the registry such as internal/quality's reports.
func ExactIncreaseBy(by, sel, window string) string {
	q := exactIncrease(sel)
	if by != "" {
		q = exactIncreaseBy(by, sel)
	}
	return strings.ReplaceAll(q, windowVar, window)
}

// exactIncreaseSeries is the per-series exact increase of sel over the window. The
// "* 1" drops the metric name from the fallback, as the subtraction does
// from the difference, so "or" never keeps both.
func exactIncreaseSeries(sel string) string {
	last := "last_over_time(" + sel + "[$window])"
	return "((" + last + " - " + sel + " offset $window) >= 0 or " + last + " * 1)"
}
