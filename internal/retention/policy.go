package retention

// Policy is one retention policy in the seed's dataRetentionPolicies
// shape. lastExecuted and nextExecution are accepted and ignored: promstore
// reports them (its telemetry and the audit log).
type Policy struct {
	PolicyID          string   `json:"policyId"`
	Name              string   `json:"name"`
	Rules             []Rule   `json:"rules"`
	ComplianceReasons []string `json:"complianceReasons"`
	LegalBasis        string   `json:"legalBasis"`
	IsActive          bool     `json:"isActive"`
	CreatedAt         int64    `json:"createdAt,omitempty"`
	UpdatedAt         int64    `json:"updatedAt,omitempty"`

	// File is where the policy was read from, for errors.
	File  string         `json:"-"`
	lines map[string]int // line of each field, by path
}

// Rule is how long one data type is kept: raw samples RetentionDays, the 5m
// series until ArchiveAfterDays, the 1h series until DeleteAfterDays.
type Rule struct {
	DataType      string `json:"dataType"`
	RetentionDays int    `json:"retentionDays"`
	// ArchiveAfterDays is 0 when the definition leaves it out: the 5m
	// series then go with the raw samples (see Archive).
	ArchiveAfterDays int         `json:"archiveAfterDays,omitempty"`
	DeleteAfterDays  int         `json:"deleteAfterDays"`
	Conditions       []Condition `json:"conditions,omitempty"`
}

// Archive is how many days the 5m series are kept.
func (r Rule) Archive() int {
	if r.ArchiveAfterDays == 0 {
		return r.RetentionDays
	}
	return r.ArchiveAfterDays
}

// Condition is a label matcher on the data type's series.
type Condition struct {
	// Field is a label of the data type's families (platform, model_id).
	Field string `json:"field"`
	// Operator is one of Operators.
	Operator string `json:"operator"`
	// Value is the label value, or an RE2 regular expression anchored at
	// both ends for matches and not_matches.
	Value string `json:"value"`
}

// Operators maps a condition's operator to its PromQL matcher operator.
var Operators = map[string]string{
	"equals":      "=",
	"not_equals":  "!=",
	"matches":     "=~",
	"not_matches": "!~",
}

// maxDays bounds every age: 100 years.
const maxDays = 36500
