package analyticsmetricsconnector // import "github.com/pulse-otel/pulse/connector/analyticsmetricsconnector"

// MetricKind is how a catalog metric is exported.
type MetricKind uint8

const (
	// Sum is a monotonic cumulative sum.
	Sum MetricKind = iota + 1
	// Histogram is a cumulative explicit-bucket histogram.
	Histogram
	// Gauge is a gauge recomputed at every flush.
	Gauge
)

func (k MetricKind) String() string {
	switch k {
	case Sum:
		return "sum"
	case Histogram:
		return "histogram"
	default:
		return "gauge"
	}
}

// MetricDef is one metric of the catalog (docs/metrics.md).
type MetricDef struct {
	Name        string
	Unit        string
	Description string
	Kind        MetricKind
	// Labels are the data point attribute keys, in order.
	Labels []string
	// Bounds are the explicit bucket boundaries of a histogram.
	Bounds []float64
	// Int is true for integer sums and gauges.
	Int bool
}

var (
	boundsMS      = []float64{10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000}
	boundsSeconds = []float64{1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200}
	boundsLag     = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600}
	boundsPercent = []float64{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}
	boundsRatio   = []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1}
	boundsRating  = []float64{1, 2, 3, 4, 5}
	boundsValue   = []float64{1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000}
	boundsCount   = []float64{1, 2, 3, 5, 10, 20, 50, 100}
)

// Metric indexes into catalog.
const (
	mEvents = iota
	mEventDuration
	mEventValue
	mPageViews
	mUniquePageViews
	mTimeOnPage
	mScrollDepth
	mInteractions
	mEngagements
	mEngagementDuration
	mEngagementCompletion
	mConversions
	mConversionTime
	mConversionValue
	mAbandonments
	mActiveUsers
	mNewUsers
	mSessions
	mSessionDuration
	mSessionEvents
	mBounces
	mRecommendations
	mResponses
	mConfidence
	mResponseTime
	mRating
	mViewDuration
	mClickThrough
	mCompletion
	mFields
	mQualityScore
	mTimeliness
	mFreshness
	mOverflow
	mCohortSize
	mCohortActive
	mSessionsConverted
	mSessionsOpen
	mSessionsOpenDuration
	mSessionsOpenBounced
	mUsersSeen
	mConversionsValued
	mDuplicates
	mUnjoined
	numMetrics
)

// Label keys.
const (
	lEventType   = "event_type"
	lCategory    = "category"
	lAction      = "action"
	lPlatform    = "platform"
	lAppVersion  = "app_version"
	lElementType = "element_type"
	lContentType = "content_type"
	lGoalType    = "goal_type"
	lFunnelStep  = "funnel_step"
	lWindow      = "window"
	lModelID     = "model_id"
	lModelVer    = "model_version"
	lRecType     = "recommendation_type"
	lResponse    = "response"
	lField       = "field"
	lPresent     = "present"
	lMetric      = "metric"
	lLabel       = "label"
	lCohort      = "cohort"
	lPeriod      = "period"
	lKind        = "kind"
)

var catalog = [numMetrics]MetricDef{
	mEvents:               {Name: "pulse.events", Unit: "{event}", Kind: Sum, Int: true, Labels: []string{lEventType, lCategory, lAction, lPlatform, lAppVersion}, Description: "Analytics events, by the configured dimensions."},
	mEventDuration:        {Name: "pulse.event.duration", Unit: "ms", Kind: Histogram, Bounds: boundsMS, Labels: []string{lEventType, lCategory, lPlatform}, Description: "properties.duration of events."},
	mEventValue:           {Name: "pulse.event.value", Unit: "", Kind: Histogram, Bounds: boundsValue, Labels: []string{lEventType, lCategory}, Description: "properties.value of events."},
	mPageViews:            {Name: "pulse.page.views", Unit: "{view}", Kind: Sum, Int: true, Labels: []string{lPlatform}, Description: "Navigation events (page or screen views)."},
	mUniquePageViews:      {Name: "pulse.page.unique_views", Unit: "{view}", Kind: Sum, Int: true, Labels: []string{lPlatform}, Description: "Page views of a path not yet viewed in the same session."},
	mTimeOnPage:           {Name: "pulse.page.time_on_page", Unit: "ms", Kind: Histogram, Bounds: boundsMS, Labels: []string{lPlatform}, Description: "Time on page of navigation events."},
	mScrollDepth:          {Name: "pulse.page.scroll_depth", Unit: "%", Kind: Histogram, Bounds: boundsPercent, Labels: []string{lPlatform}, Description: "Scroll depth of navigation events."},
	mInteractions:         {Name: "pulse.interactions", Unit: "{interaction}", Kind: Sum, Int: true, Labels: []string{lElementType, lPlatform}, Description: "Interactions, counting interactionCount (1 when absent)."},
	mEngagements:          {Name: "pulse.engagements", Unit: "{engagement}", Kind: Sum, Int: true, Labels: []string{lContentType, lPlatform}, Description: "Content engagement events."},
	mEngagementDuration:   {Name: "pulse.engagement.duration", Unit: "ms", Kind: Histogram, Bounds: boundsMS, Labels: []string{lContentType}, Description: "Engagement duration."},
	mEngagementCompletion: {Name: "pulse.engagement.completion", Unit: "%", Kind: Histogram, Bounds: boundsPercent, Labels: []string{lContentType}, Description: "Completion percentage of engagements."},
	mConversions:          {Name: "pulse.conversions", Unit: "{conversion}", Kind: Sum, Int: true, Labels: []string{lGoalType, lFunnelStep, lPlatform}, Description: "Conversions, by goal and funnel step."},
	mConversionTime:       {Name: "pulse.conversion.time", Unit: "ms", Kind: Histogram, Bounds: boundsMS, Labels: []string{lGoalType}, Description: "Time to convert."},
	mConversionValue:      {Name: "pulse.conversion.value", Unit: "", Kind: Sum, Labels: []string{lGoalType}, Description: "Sum of goal values of conversions (revenue for purchases)."},
	mConversionsValued:    {Name: "pulse.conversions.valued", Unit: "{conversion}", Kind: Sum, Int: true, Labels: []string{lGoalType}, Description: "Conversions with a goal value above 0 (completed transactions, for purchases)."},
	mAbandonments:         {Name: "pulse.abandonments", Unit: "{event}", Kind: Sum, Int: true, Labels: []string{lCategory, lPlatform}, Description: "Abandonment events, by category."},
	mActiveUsers:          {Name: "pulse.users.active", Unit: "{user}", Kind: Gauge, Int: true, Labels: []string{lWindow}, Description: "Distinct users in the rolling window (HyperLogLog estimate)."},
	mNewUsers:             {Name: "pulse.users.new", Unit: "{user}", Kind: Sum, Int: true, Labels: []string{lPlatform}, Description: "Users seen for the first time."},
	mUsersSeen:            {Name: "pulse.users.seen", Unit: "{user}", Kind: Gauge, Int: true, Labels: nil, Description: "Users ever seen by the new-user filter (its estimate after a restart with storage, plus the new users since)."},
	mSessions:             {Name: "pulse.sessions", Unit: "{session}", Kind: Sum, Int: true, Labels: []string{lPlatform}, Description: "Sessions started."},
	mSessionDuration:      {Name: "pulse.session.duration", Unit: "s", Kind: Histogram, Bounds: boundsSeconds, Labels: []string{lPlatform}, Description: "Duration of ended sessions (first to last event)."},
	mSessionEvents:        {Name: "pulse.session.events", Unit: "{event}", Kind: Histogram, Bounds: boundsCount, Labels: []string{lPlatform}, Description: "Events per ended session."},
	mBounces:              {Name: "pulse.sessions.bounced", Unit: "{session}", Kind: Sum, Int: true, Labels: []string{lPlatform}, Description: "Ended sessions of a single event."},
	mSessionsConverted:    {Name: "pulse.sessions.converted", Unit: "{session}", Kind: Sum, Int: true, Labels: []string{lPlatform}, Description: "Sessions with a conversion event, counted once, at their first conversion."},
	mSessionsOpen:         {Name: "pulse.sessions.open", Unit: "{session}", Kind: Gauge, Int: true, Labels: []string{lPlatform}, Description: "Sessions open (not yet ended) at the flush."},
	mSessionsOpenDuration: {Name: "pulse.sessions.open.duration", Unit: "s", Kind: Gauge, Labels: []string{lPlatform}, Description: "Sum over open sessions of first to last event time so far."},
	mSessionsOpenBounced:  {Name: "pulse.sessions.open.bounced", Unit: "{session}", Kind: Gauge, Int: true, Labels: []string{lPlatform}, Description: "Open sessions that have had a single event so far."},
	mRecommendations:      {Name: "pulse.recommendations", Unit: "{recommendation}", Kind: Sum, Int: true, Labels: []string{lModelID, lModelVer, lRecType}, Description: "AI recommendations shown."},
	mResponses:            {Name: "pulse.recommendation.responses", Unit: "{response}", Kind: Sum, Int: true, Labels: []string{lModelID, lModelVer, lRecType, lResponse}, Description: "User responses to recommendations: accepted, modified, rejected, ignored."},
	mConfidence:           {Name: "pulse.recommendation.confidence", Unit: "1", Kind: Histogram, Bounds: boundsRatio, Labels: []string{lModelID, lRecType}, Description: "Model confidence of recommendations."},
	mResponseTime:         {Name: "pulse.recommendation.response_time", Unit: "s", Kind: Histogram, Bounds: boundsSeconds, Labels: []string{lModelID, lRecType}, Description: "Time users took to respond."},
	mRating:               {Name: "pulse.recommendation.rating", Unit: "{rating}", Kind: Histogram, Bounds: boundsRating, Labels: []string{lModelID, lRecType}, Description: "Feedback ratings, 1 to 5."},
	mViewDuration:         {Name: "pulse.recommendation.view_duration", Unit: "ms", Kind: Histogram, Bounds: boundsMS, Labels: []string{lModelID, lRecType}, Description: "How long recommendations were viewed."},
	mClickThrough:         {Name: "pulse.recommendation.click_through", Unit: "1", Kind: Histogram, Bounds: boundsRatio, Labels: []string{lModelID, lRecType}, Description: "Click-through rate reported with recommendations."},
	mCompletion:           {Name: "pulse.recommendation.completion", Unit: "1", Kind: Histogram, Bounds: boundsRatio, Labels: []string{lModelID, lRecType}, Description: "Completion rate reported with recommendations."},
	mFields:               {Name: "pulse.quality.fields", Unit: "{field}", Kind: Sum, Int: true, Labels: []string{lField, lPresent}, Description: "Optional fields of events, present or not: completeness is present / all."},
	mQualityScore:         {Name: "pulse.quality.score", Unit: "", Kind: Histogram, Bounds: boundsPercent, Labels: []string{lEventType}, Description: "Quality score (0-100) of records."},
	mTimeliness:           {Name: "pulse.event.timeliness", Unit: "s", Kind: Histogram, Bounds: boundsLag, Labels: []string{lPlatform}, Description: "Server receive time minus event time."},
	mFreshness:            {Name: "pulse.event.freshness", Unit: "s", Kind: Histogram, Bounds: boundsLag, Labels: nil, Description: "Event time to export (the flush that first includes the event)."},
	mCohortSize:           {Name: "pulse.cohort.size", Unit: "{user}", Kind: Gauge, Int: true, Labels: []string{lCohort}, Description: "Users first seen in the cohort's week (cohort: the week's Monday, UTC); the last 12 cohorts."},
	mCohortActive:         {Name: "pulse.cohort.active_users", Unit: "{user}", Kind: Gauge, Int: true, Labels: []string{lCohort, lPeriod}, Description: "Users of the cohort active in week `period` after it (0 is the cohort's own week): retention is this over pulse.cohort.size."},
	mOverflow:             {Name: "pulse.connector.overflow", Unit: "{data_point}", Kind: Sum, Int: true, Labels: []string{lMetric, lLabel}, Description: "Updates folded into the overflow series, by metric and label."},
	mDuplicates:           {Name: "pulse.events.duplicates", Unit: "{record}", Kind: Sum, Int: true, Labels: []string{lKind}, Description: "Records not counted because their id was already counted (client retries), by kind: event, recommendation, response."},
	mUnjoined:             {Name: "pulse.recommendation.responses.unjoined", Unit: "{response}", Kind: Sum, Int: true, Labels: []string{lResponse}, Description: "Later responses lacking model labels whose recommendation is unknown or expired: counted with empty labels."},
}

// Catalog returns the metrics the connector emits, for docs and tests.
func Catalog() []MetricDef { return append([]MetricDef(nil), catalog[:]...) }
