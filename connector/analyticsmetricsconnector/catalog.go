package analyticsmetricsconnector // import "github.com/pulse-otel/pulse/connector/analyticsmetricsconnector"

import "github.com/pulse-otel/pulse/internal/catalog"

// The connector's metrics are defined in internal/catalog; these are the
// short names this package indexes them and their labels by.

// Metric IDs: indexes into catalog.ConnectorMetrics().
const (
	mEvents               = catalog.Events
	mEventDuration        = catalog.EventDuration
	mEventValue           = catalog.EventValue
	mPageViews            = catalog.PageViews
	mUniquePageViews      = catalog.UniquePageViews
	mTimeOnPage           = catalog.TimeOnPage
	mScrollDepth          = catalog.ScrollDepth
	mInteractions         = catalog.Interactions
	mEngagements          = catalog.Engagements
	mEngagementDuration   = catalog.EngagementDuration
	mEngagementCompletion = catalog.EngagementCompletion
	mConversions          = catalog.Conversions
	mConversionTime       = catalog.ConversionTime
	mConversionValue      = catalog.ConversionValue
	mAbandonments         = catalog.Abandonments
	mActiveUsers          = catalog.ActiveUsers
	mNewUsers             = catalog.NewUsers
	mSessions             = catalog.Sessions
	mSessionDuration      = catalog.SessionDuration
	mSessionEvents        = catalog.SessionEvents
	mBounces              = catalog.Bounces
	mRecommendations      = catalog.Recommendations
	mResponses            = catalog.Responses
	mConfidence           = catalog.Confidence
	mResponseTime         = catalog.ResponseTime
	mRating               = catalog.Rating
	mViewDuration         = catalog.ViewDuration
	mClickThrough         = catalog.ClickThrough
	mCompletion           = catalog.Completion
	mFields               = catalog.Fields
	mQualityScore         = catalog.QualityScore
	mTimeliness           = catalog.Timeliness
	mFreshness            = catalog.Freshness
	mOverflow             = catalog.Overflow
	mCohortSize           = catalog.CohortSize
	mCohortActive         = catalog.CohortActive
	mSessionsConverted    = catalog.SessionsConverted
	mSessionsOpen         = catalog.SessionsOpen
	mSessionsOpenDuration = catalog.SessionsOpenDuration
	mSessionsOpenBounced  = catalog.SessionsOpenBounced
	mUsersSeen            = catalog.UsersSeen
	mConversionsValued    = catalog.ConversionsValued
	mDuplicates           = catalog.Duplicates
	mUnjoined             = catalog.Unjoined
	numMetrics            = catalog.NumConnector
)

// Label keys.
const (
	lEventType   = catalog.LabelEventType
	lCategory    = catalog.LabelCategory
	lAction      = catalog.LabelAction
	lPlatform    = catalog.LabelPlatform
	lAppVersion  = catalog.LabelAppVersion
	lElementType = catalog.LabelElementType
	lContentType = catalog.LabelContentType
	lGoalType    = catalog.LabelGoalType
	lFunnelStep  = catalog.LabelFunnelStep
	lWindow      = catalog.LabelWindow
	lModelID     = catalog.LabelModelID
	lModelVer    = catalog.LabelModelVer
	lRecType     = catalog.LabelRecType
	lResponse    = catalog.LabelResponse
	lField       = catalog.LabelField
	lPresent     = catalog.LabelPresent
	lMetric      = catalog.LabelMetric
	lLabel       = catalog.LabelLabel
	lCohort      = catalog.LabelCohort
	lPeriod      = catalog.LabelPeriod
	lKind        = catalog.LabelKind
)

// boundsSeconds are the buckets of durations in seconds.
var boundsSeconds = catalog.BoundsSeconds

// Catalog returns the metrics the connector emits, indexed by metric ID.
func Catalog() []catalog.Metric { return catalog.ConnectorMetrics() }
