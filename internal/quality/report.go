package quality

// Report is one data source's report, in the seed's dataQualityReports
// shape. Percentages are 0 to 100; times are Unix milliseconds. A
// dimension that does not apply to the source (completeness and
// timeliness of snapshots, say) is null and left out of QualityScore.
type Report struct {
	ReportID   string `json:"reportId"`
	DataSource string `json:"dataSource"`
	// Endpoint and Platform are DataSource's parts: the receiver path
	// segment (events, recommendations, ...) and web, ios, android or
	// unknown.
	Endpoint string `json:"endpoint"`
	Platform string `json:"platform"`

	QualityScore float64  `json:"qualityScore"`
	Completeness *float64 `json:"completeness"`
	Accuracy     *float64 `json:"accuracy"`
	Consistency  *float64 `json:"consistency"`
	Timeliness   *float64 `json:"timeliness"`

	Issues          []Issue          `json:"issues"`
	Recommendations []Recommendation `json:"recommendations"`

	PeriodStart     int64 `json:"periodStart"`
	PeriodEnd       int64 `json:"periodEnd"`
	RecordsAnalyzed int64 `json:"recordsAnalyzed"`
	GeneratedAt     int64 `json:"generatedAt"`

	// Details holds the counts the dimensions are made of.
	Details Details `json:"details"`
}

// Details are the counts behind a report's dimensions.
type Details struct {
	Accepted int64 `json:"accepted"`
	Rejected int64 `json:"rejected"`
	// Rejects are the rejected items by the field and code of their first
	// error, most first.
	Rejects []Reject `json:"rejects"`
	// Fields is the completeness of each optional event field (over the
	// events of all platforms).
	Fields []FieldCompleteness `json:"fields,omitempty"`
	// Timely and TimedEvents: events received within the freshness goal
	// of the source's platform, and all of them.
	Timely      int64 `json:"timely,omitempty"`
	TimedEvents int64 `json:"timedEvents,omitempty"`
	// OrphanResponses and Responses: later responses whose recommendation
	// was unknown, and all responses.
	OrphanResponses int64 `json:"orphanResponses,omitempty"`
	Responses       int64 `json:"responses,omitempty"`
}

// Reject is a count of rejected items by first error.
type Reject struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
	Count  int64  `json:"count"`
}

// FieldCompleteness is how often one optional event field was present.
type FieldCompleteness struct {
	// Field is the field's path on the wire (docs/events.md), Label the
	// field label of pulse_quality_fields_total.
	Field   string  `json:"field"`
	Label   string  `json:"label"`
	Present int64   `json:"present"`
	Total   int64   `json:"total"`
	Percent float64 `json:"percent"`
}

// Issue is one defect found, in the seed's shape.
type Issue struct {
	Type           string   `json:"type"`
	Severity       Severity `json:"severity"`
	Count          int64    `json:"count"`
	Description    string   `json:"description"`
	AffectedFields []string `json:"affectedFields"`
}

// Recommendation is what to fix, in the seed's shape: Action names the
// client (endpoint and platform) and the field.
type Recommendation struct {
	Priority       Severity `json:"priority"`
	Action         string   `json:"action"`
	ExpectedImpact string   `json:"expectedImpact"`
}

// Severity is low, medium or high.
type Severity string

// Severities, by the share of the source's items an issue affects.
const (
	Low    Severity = "low"
	Medium Severity = "medium"
	High   Severity = "high"
)

// Severity thresholds: an issue affecting at least HighShare of its
// source's items alone breaks the seed's 95 % target; at least MediumShare
// uses a fifth of its margin.
const (
	HighShare   = 0.05
	MediumShare = 0.01
)

// severityOf returns the severity of count defects among total items.
func severityOf(count, total int64) Severity {
	if total <= 0 {
		return Low
	}
	switch r := float64(count) / float64(total); {
	case r >= HighShare:
		return High
	case r >= MediumShare:
		return Medium
	}
	return Low
}

// FreshnessGoal is the seed's "real-time events processed within 1
// second": an event is timely when it was received at most this long
// after its timestamp (the bucket le="1" of pulse_event_timeliness_seconds).
const FreshnessGoal = "1s"
