package promstoreexporter // import "github.com/pulse-otel/pulse/exporter/promstoreexporter"

import (
	"fmt"
	"os"
	"time"

	"github.com/pulse-otel/pulse/internal/retention"
)

const (
	// defaultRetentionInterval is how often the retention policies run:
	// the finest age of a policy is a day, so an hour late is 4 % of it.
	defaultRetentionInterval = time.Hour
	minRetentionInterval     = time.Minute
)

// validatePolicies checks retention.interval. The plan itself is read at
// Start (checkPlan), as Prometheus reads its rule files: it is a file
// `pulsectl retention compile` writes (make run does), not configuration,
// so a configuration is valid before it has been compiled.
func (r RetentionConfig) validatePolicies() []error {
	if r.Policies == "" {
		return nil
	}
	if r.Interval < minRetentionInterval {
		return []error{fmt.Errorf("retention.interval: must be at least %s, got %s", minRetentionInterval, r.Interval)}
	}
	return nil
}

// checkPlan reads retention.policies and refuses a plan with an active
// rule that keeps anything longer than retention.time, which would
// silently cut it short.
func (r RetentionConfig) checkPlan() (retention.Plan, error) {
	plan, err := loadPlan(r.Policies)
	if err != nil {
		return retention.Plan{}, fmt.Errorf("retention.policies: %w", err)
	}
	if keep, who := plan.MaxKeep(); keep > r.Time {
		return retention.Plan{}, fmt.Errorf("retention.policies: %s keeps %d days, longer than retention.time (%s): raise retention.time or shorten the policy",
			who, int(keep.Hours()/24), r.Time)
	}
	return plan, nil
}

// loadPlan reads the plan `pulsectl retention compile` wrote.
func loadPlan(path string) (retention.Plan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return retention.Plan{}, fmt.Errorf("read %q (pulsectl retention compile writes it): %w", path, err)
	}
	plan, err := retention.ParsePlan(b)
	if err != nil {
		return retention.Plan{}, fmt.Errorf("%q: %w", path, err)
	}
	return plan, nil
}
