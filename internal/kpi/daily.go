package kpi

// DailySummaryTable prefixes the seed fields of dailyAnalyticsSummary.
const DailySummaryTable = "dailyAnalyticsSummary."

// DailySummaryFields are the numeric fields of the seed's
// dailyAnalyticsSummary row, as section.field. Its date is the day the
// sample's trailing 24 hours end in, and computedAt the sample's timestamp:
// neither is a series.
var DailySummaryFields = []string{
	"userMetrics.totalUsers", "userMetrics.activeUsers", "userMetrics.newUsers",
	"userMetrics.returningUsers", "userMetrics.avgSessionDuration", "userMetrics.avgSessionsPerUser",
	"engagementMetrics.pageViews", "engagementMetrics.uniquePageViews", "engagementMetrics.bounceRate",
	"engagementMetrics.avgTimeOnSite", "engagementMetrics.conversionRate",
	"businessMetrics.revenue", "businessMetrics.transactions", "businessMetrics.avgOrderValue",
	"businessMetrics.subscriptionChanges",
	"systemMetrics.avgResponseTime", "systemMetrics.errorRate", "systemMetrics.uptime", "systemMetrics.throughput",
	"aiMetrics.recommendationCount", "aiMetrics.acceptanceRate", "aiMetrics.avgConfidence", "aiMetrics.safetyViolations",
}
