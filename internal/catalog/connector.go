package catalog

// Bucket boundaries of the connector's histograms, by what they measure.
var (
	BoundsMS      = []float64{10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000}
	BoundsSeconds = []float64{1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200}
	BoundsLag     = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600}
	BoundsPercent = []float64{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}
	BoundsRatio   = []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1}
	BoundsRating  = []float64{1, 2, 3, 4, 5}
	BoundsValue   = []float64{1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000}
	BoundsCount   = []float64{1, 2, 3, 5, 10, 20, 50, 100}
)

// IDs of the connector's metrics: indexes into ConnectorMetrics().
const (
	// Events is pulse.events; the others follow in this order.
	Events = iota
	EventDuration
	EventValue
	PageViews
	UniquePageViews
	TimeOnPage
	ScrollDepth
	Interactions
	Engagements
	EngagementDuration
	EngagementCompletion
	Conversions
	ConversionTime
	ConversionValue
	Abandonments
	ActiveUsers
	NewUsers
	Sessions
	SessionDuration
	SessionEvents
	Bounces
	Recommendations
	Responses
	Confidence
	ResponseTime
	Rating
	ViewDuration
	ClickThrough
	Completion
	Fields
	QualityScore
	Timeliness
	Freshness
	Overflow
	CohortSize
	CohortActive
	SessionsConverted
	SessionsOpen
	SessionsOpenDuration
	SessionsOpenBounced
	UsersSeen
	ConversionsValued
	Duplicates
	Unjoined
	// NumConnector is how many metrics the connector emits.
	NumConnector
)

// Label keys of the connector's metrics.
const (
	LabelEventType   = "event_type"
	LabelCategory    = "category"
	LabelAction      = "action"
	LabelPlatform    = "platform"
	LabelAppVersion  = "app_version"
	LabelElementType = "element_type"
	LabelContentType = "content_type"
	LabelGoalType    = "goal_type"
	LabelFunnelStep  = "funnel_step"
	LabelWindow      = "window"
	LabelModelID     = "model_id"
	LabelModelVer    = "model_version"
	LabelRecType     = "recommendation_type"
	LabelResponse    = "response"
	LabelField       = "field"
	LabelPresent     = "present"
	LabelMetric      = "metric"
	LabelLabel       = "label"
	LabelCohort      = "cohort"
	LabelPeriod      = "period"
	LabelKind        = "kind"
)

var connectorMetrics = [NumConnector]Metric{
	Events:               {Name: "pulse.events", Unit: "{event}", Kind: Sum, Int: true, Labels: []string{LabelEventType, LabelCategory, LabelAction, LabelPlatform, LabelAppVersion}, Help: "Analytics events, by the configured dimensions.", Source: Connector},
	EventDuration:        {Name: "pulse.event.duration", Unit: "ms", Kind: Histogram, Bounds: BoundsMS, Labels: []string{LabelEventType, LabelCategory, LabelPlatform}, Help: "properties.duration of events.", Source: Connector},
	EventValue:           {Name: "pulse.event.value", Unit: "", Kind: Histogram, Bounds: BoundsValue, Labels: []string{LabelEventType, LabelCategory}, Help: "properties.value of events.", Source: Connector},
	PageViews:            {Name: "pulse.page.views", Unit: "{view}", Kind: Sum, Int: true, Labels: []string{LabelPlatform}, Help: "Navigation events (page or screen views).", Source: Connector},
	UniquePageViews:      {Name: "pulse.page.unique_views", Unit: "{view}", Kind: Sum, Int: true, Labels: []string{LabelPlatform}, Help: "Page views of a path not yet viewed in the same session.", Source: Connector},
	TimeOnPage:           {Name: "pulse.page.time_on_page", Unit: "ms", Kind: Histogram, Bounds: BoundsMS, Labels: []string{LabelPlatform}, Help: "Time on page of navigation events.", Source: Connector},
	ScrollDepth:          {Name: "pulse.page.scroll_depth", Unit: "%", Kind: Histogram, Bounds: BoundsPercent, Labels: []string{LabelPlatform}, Help: "Scroll depth of navigation events.", Source: Connector},
	Interactions:         {Name: "pulse.interactions", Unit: "{interaction}", Kind: Sum, Int: true, Labels: []string{LabelElementType, LabelPlatform}, Help: "Interactions, counting interactionCount (1 when absent).", Source: Connector},
	Engagements:          {Name: "pulse.engagements", Unit: "{engagement}", Kind: Sum, Int: true, Labels: []string{LabelContentType, LabelPlatform}, Help: "Content engagement events.", Source: Connector},
	EngagementDuration:   {Name: "pulse.engagement.duration", Unit: "ms", Kind: Histogram, Bounds: BoundsMS, Labels: []string{LabelContentType}, Help: "Engagement duration.", Source: Connector},
	EngagementCompletion: {Name: "pulse.engagement.completion", Unit: "%", Kind: Histogram, Bounds: BoundsPercent, Labels: []string{LabelContentType}, Help: "Completion percentage of engagements.", Source: Connector},
	Conversions:          {Name: "pulse.conversions", Unit: "{conversion}", Kind: Sum, Int: true, Labels: []string{LabelGoalType, LabelFunnelStep, LabelPlatform}, Help: "Conversions, by goal and funnel step.", Source: Connector},
	ConversionTime:       {Name: "pulse.conversion.time", Unit: "ms", Kind: Histogram, Bounds: BoundsMS, Labels: []string{LabelGoalType}, Help: "Time to convert.", Source: Connector},
	ConversionValue:      {Name: "pulse.conversion.value", Unit: "", Kind: Sum, Labels: []string{LabelGoalType}, Help: "Sum of goal values of conversions (revenue for purchases).", Source: Connector},
	ConversionsValued:    {Name: "pulse.conversions.valued", Unit: "{conversion}", Kind: Sum, Int: true, Labels: []string{LabelGoalType}, Help: "Conversions with a goal value above 0 (completed transactions, for purchases).", Source: Connector},
	Abandonments:         {Name: "pulse.abandonments", Unit: "{event}", Kind: Sum, Int: true, Labels: []string{LabelCategory, LabelPlatform}, Help: "Abandonment events, by category.", Source: Connector},
	ActiveUsers:          {Name: "pulse.users.active", Unit: "{user}", Kind: Gauge, Int: true, Labels: []string{LabelWindow}, Help: "Distinct users in the rolling window (HyperLogLog estimate).", Source: Connector},
	NewUsers:             {Name: "pulse.users.new", Unit: "{user}", Kind: Sum, Int: true, Labels: []string{LabelPlatform}, Help: "Users seen for the first time.", Source: Connector},
	UsersSeen:            {Name: "pulse.users.seen", Unit: "{user}", Kind: Gauge, Int: true, Labels: nil, Help: "Users ever seen by the new-user filter (its estimate after a restart with storage, plus the new users since).", Source: Connector},
	Sessions:             {Name: "pulse.sessions", Unit: "{session}", Kind: Sum, Int: true, Labels: []string{LabelPlatform}, Help: "Sessions started.", Source: Connector},
	SessionDuration:      {Name: "pulse.session.duration", Unit: "s", Kind: Histogram, Bounds: BoundsSeconds, Labels: []string{LabelPlatform}, Help: "Duration of ended sessions (first to last event).", Source: Connector},
	SessionEvents:        {Name: "pulse.session.events", Unit: "{event}", Kind: Histogram, Bounds: BoundsCount, Labels: []string{LabelPlatform}, Help: "Events per ended session.", Source: Connector},
	Bounces:              {Name: "pulse.sessions.bounced", Unit: "{session}", Kind: Sum, Int: true, Labels: []string{LabelPlatform}, Help: "Ended sessions of a single event.", Source: Connector},
	SessionsConverted:    {Name: "pulse.sessions.converted", Unit: "{session}", Kind: Sum, Int: true, Labels: []string{LabelPlatform}, Help: "Sessions with a conversion event, counted once, at their first conversion.", Source: Connector},
	SessionsOpen:         {Name: "pulse.sessions.open", Unit: "{session}", Kind: Gauge, Int: true, Labels: []string{LabelPlatform}, Help: "Sessions open (not yet ended) at the flush.", Source: Connector},
	SessionsOpenDuration: {Name: "pulse.sessions.open.duration", Unit: "s", Kind: Gauge, Labels: []string{LabelPlatform}, Help: "Sum over open sessions of first to last event time so far.", Source: Connector},
	SessionsOpenBounced:  {Name: "pulse.sessions.open.bounced", Unit: "{session}", Kind: Gauge, Int: true, Labels: []string{LabelPlatform}, Help: "Open sessions that have had a single event so far.", Source: Connector},
	Recommendations:      {Name: "pulse.recommendations", Unit: "{recommendation}", Kind: Sum, Int: true, Labels: []string{LabelModelID, LabelModelVer, LabelRecType}, Help: "AI recommendations shown.", Source: Connector},
	Responses:            {Name: "pulse.recommendation.responses", Unit: "{response}", Kind: Sum, Int: true, Labels: []string{LabelModelID, LabelModelVer, LabelRecType, LabelResponse}, Help: "User responses to recommendations: accepted, modified, rejected, ignored.", Source: Connector},
	Confidence:           {Name: "pulse.recommendation.confidence", Unit: "1", Kind: Histogram, Bounds: BoundsRatio, Labels: []string{LabelModelID, LabelRecType}, Help: "Model confidence of recommendations.", Source: Connector},
	ResponseTime:         {Name: "pulse.recommendation.response_time", Unit: "s", Kind: Histogram, Bounds: BoundsSeconds, Labels: []string{LabelModelID, LabelRecType}, Help: "Time users took to respond.", Source: Connector},
	Rating:               {Name: "pulse.recommendation.rating", Unit: "{rating}", Kind: Histogram, Bounds: BoundsRating, Labels: []string{LabelModelID, LabelRecType}, Help: "Feedback ratings, 1 to 5.", Source: Connector},
	ViewDuration:         {Name: "pulse.recommendation.view_duration", Unit: "ms", Kind: Histogram, Bounds: BoundsMS, Labels: []string{LabelModelID, LabelRecType}, Help: "How long recommendations were viewed.", Source: Connector},
	ClickThrough:         {Name: "pulse.recommendation.click_through", Unit: "1", Kind: Histogram, Bounds: BoundsRatio, Labels: []string{LabelModelID, LabelRecType}, Help: "Click-through rate reported with recommendations.", Source: Connector},
	Completion:           {Name: "pulse.recommendation.completion", Unit: "1", Kind: Histogram, Bounds: BoundsRatio, Labels: []string{LabelModelID, LabelRecType}, Help: "Completion rate reported with recommendations.", Source: Connector},
	Fields:               {Name: "pulse.quality.fields", Unit: "{field}", Kind: Sum, Int: true, Labels: []string{LabelField, LabelPresent}, Help: "Optional fields of events, present or not: completeness is present / all.", Source: Connector},
	QualityScore:         {Name: "pulse.quality.score", Unit: "", Kind: Histogram, Bounds: BoundsPercent, Labels: []string{LabelEventType}, Help: "Quality score (0-100) of records.", Source: Connector},
	Timeliness:           {Name: "pulse.event.timeliness", Unit: "s", Kind: Histogram, Bounds: BoundsLag, Labels: []string{LabelPlatform}, Help: "Server receive time minus event time.", Source: Connector},
	Freshness:            {Name: "pulse.event.freshness", Unit: "s", Kind: Histogram, Bounds: BoundsLag, Labels: nil, Help: "Event time to export (the flush that first includes the event).", Source: Connector},
	CohortSize:           {Name: "pulse.cohort.size", Unit: "{user}", Kind: Gauge, Int: true, Labels: []string{LabelCohort}, Help: "Users first seen in the cohort's week (cohort: the week's Monday, UTC); the last 12 cohorts.", Source: Connector},
	CohortActive:         {Name: "pulse.cohort.active_users", Unit: "{user}", Kind: Gauge, Int: true, Labels: []string{LabelCohort, LabelPeriod}, Help: "Users of the cohort active in week `period` after it (0 is the cohort's own week): retention is this over pulse.cohort.size.", Source: Connector},
	Overflow:             {Name: "pulse.connector.overflow", Unit: "{data_point}", Kind: Sum, Int: true, Labels: []string{LabelMetric, LabelLabel}, Help: "Updates folded into the overflow series, by metric and label.", Source: Connector},
	Duplicates:           {Name: "pulse.events.duplicates", Unit: "{record}", Kind: Sum, Int: true, Labels: []string{LabelKind}, Help: "Records not counted because their id was already counted (client retries), by kind: event, recommendation, response.", Source: Connector},
	Unjoined:             {Name: "pulse.recommendation.responses.unjoined", Unit: "{response}", Kind: Sum, Int: true, Labels: []string{LabelResponse}, Help: "Later responses lacking model labels whose recommendation is unknown or expired: counted with empty labels.", Source: Connector},
}

// ConnectorMetrics returns the metrics the analytics_metrics connector
// emits, indexed by ID.
func ConnectorMetrics() []Metric {
	out := make([]Metric, NumConnector)
	for i, m := range connectorMetrics {
		out[i] = m.clone()
	}
	return out
}
