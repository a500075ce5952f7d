// Package schema is Pulse's shared vocabulary: the OTel event names and
// attribute keys that docs/events.md defines, used by the analytics
// receiver, the privacy processor and the connector alike. A log record sent
// over OTLP with these names is indistinguishable from one the analytics
// receiver built from JSON.
package schema // import "github.com/pulse-otel/pulse/internal/schema"

// Event names (LogRecord.EventName).
const (
	// EventAnalytics is an analytics event (seed analyticsEvents, with
	// userBehaviorEvents details when the behavior object is present).
	EventAnalytics = "pulse.event"
	// EventRecommendation is an AI recommendation as it was shown, with the
	// user's response when it was already known.
	EventRecommendation = "pulse.recommendation"
	// EventRecommendationResponse is a user's response sent later for an
	// earlier recommendation.id.
	EventRecommendationResponse = "pulse.recommendation.response"
	// RedactedMarker begins every value the privacy processor writes in
	// place of PII ("[REDACTED]", "[REDACTED:email]"): readers such as the
	// connector's de-duplication recognise a masked id by it.
	RedactedMarker = "[REDACTED"
)

// Resource attributes of analytics events.
const (
	ResourcePlatform   = "pulse.platform"
	ResourceAppVersion = "pulse.app.version"
)

// Identifiers. These follow OTel semantic conventions where one exists; the
// privacy processor pseudonymises them.
const (
	AttrEventID   = "pulse.event.id"
	AttrSessionID = "session.id"
	AttrUserID    = "user.id"
	AttrDeviceID  = "device.id"
	AttrUserAgent = "user_agent.original"
)

// Analytics event attributes.
const (
	AttrEventType         = "pulse.event.type"
	AttrCategory          = "pulse.event.category"
	AttrAction            = "pulse.event.action"
	AttrPage              = "pulse.page"
	AttrFeature           = "pulse.feature"
	AttrValue             = "pulse.value"
	AttrDuration          = "pulse.duration"
	AttrMetadata          = "pulse.metadata"
	AttrConsentLevel      = "pulse.consent_level"
	AttrDataRetentionDays = "pulse.data_retention_days"
)

// Server-owned attributes: set by Pulse, never taken from a client.
const (
	AttrIsValid          = "pulse.is_valid"
	AttrQualityScore     = "pulse.quality_score"
	AttrProcessingStatus = "pulse.processing_status"
	AttrIsAnonymized     = "pulse.is_anonymized"
)

// Behaviour details (seed userBehaviorEvents), carried on the analytics event.
const (
	AttrBehaviorType = "pulse.behavior.type"

	AttrPagePath       = "pulse.page.path"
	AttrPageTitle      = "pulse.page.title"
	AttrPageReferrer   = "pulse.page.referrer"
	AttrPageTimeOnPage = "pulse.page.time_on_page"
	AttrPageScrollDep  = "pulse.page.scroll_depth"
	AttrPageExit       = "pulse.page.exit"

	AttrInteractionElementType = "pulse.interaction.element_type"
	AttrInteractionElementID   = "pulse.interaction.element_id"
	AttrInteractionElementText = "pulse.interaction.element_text"
	AttrInteractionClickX      = "pulse.interaction.click_x"
	AttrInteractionClickY      = "pulse.interaction.click_y"
	AttrInteractionCount       = "pulse.interaction.count"

	AttrEngagementContentType = "pulse.engagement.content_type"
	AttrEngagementContentID   = "pulse.engagement.content_id"
	AttrEngagementDuration    = "pulse.engagement.duration"
	AttrEngagementCompletion  = "pulse.engagement.completion_percentage"
	AttrEngagementRating      = "pulse.engagement.rating"
	AttrEngagementShared      = "pulse.engagement.shared"

	AttrConversionGoalType      = "pulse.conversion.goal_type"
	AttrConversionGoalValue     = "pulse.conversion.goal_value"
	AttrConversionFunnelStep    = "pulse.conversion.funnel_step"
	AttrConversionTime          = "pulse.conversion.time"
	AttrConversionPreviousSteps = "pulse.conversion.previous_steps"
)

// AI recommendation attributes (seed aiRecommendationAnalytics).
const (
	AttrRecommendationID      = "pulse.recommendation.id"
	AttrModelID               = "pulse.model.id"
	AttrModelVersion          = "pulse.model.version"
	AttrRecommendationType    = "pulse.recommendation.type"
	AttrRecommendationItems   = "pulse.recommendation.items"
	AttrConfidence            = "pulse.recommendation.confidence"
	AttrReasoning             = "pulse.recommendation.reasoning"
	AttrPersonalizedFactors   = "pulse.recommendation.personalized_factors"
	AttrResponseAction        = "pulse.response.action"
	AttrResponseTime          = "pulse.response.time"
	AttrResponseModifications = "pulse.response.modifications"
	AttrResponseRating        = "pulse.response.rating"
	AttrResponseComment       = "pulse.response.comment"
	AttrResponseTimestamp     = "pulse.response.timestamp"
	AttrContextTimeOfDay      = "pulse.context.time_of_day"
	AttrContextDayOfWeek      = "pulse.context.day_of_week"
	AttrContextUserGoals      = "pulse.context.user_goals"
	AttrContextRecentActivity = "pulse.context.recent_activity"
	AttrContextDeviceType     = "pulse.context.device_type"
	AttrViewDuration          = "pulse.recommendation.view_duration"
	AttrClickThroughRate      = "pulse.recommendation.click_through_rate"
	AttrCompletionRate        = "pulse.recommendation.completion_rate"
)

// Enumerations from the seed, in the order the seed lists them.
var (
	EventTypes          = []string{"user_action", "system_performance", "ai_recommendation", "business_metric", "error_tracking"}
	Platforms           = []string{"web", "ios", "android"}
	ConsentLevels       = []string{"necessary", "analytics", "marketing", "full"}
	ProcessingStatuses  = []string{"pending", "processed", "failed", "rejected"}
	BehaviorTypes       = []string{"navigation", "interaction", "engagement", "conversion", "abandonment"}
	RecommendationTypes = []string{"workout", "nutrition", "recovery", "goal_adjustment", "program_suggestion"}
	ResponseActions     = []string{"accepted", "modified", "rejected", "ignored"}
	ModelTypes          = []string{"recommendation", "nutrition_ai", "form_analysis", "personalization", "risk_assessment"}
	Levels              = []string{"low", "medium", "high"}
	BusinessCategories  = []string{"revenue", "growth", "retention", "acquisition", "engagement", "conversion"}
	Trends              = []string{"up", "down", "stable"}
	TimeGranularities   = []string{"hourly", "daily", "weekly", "monthly"}
	Environments        = []string{"production", "staging", "development"}
)

// ProcessingStatusProcessed is what the analytics receiver sets on every
// record it forwards: it passed validation and was converted.
const ProcessingStatusProcessed = "processed"
