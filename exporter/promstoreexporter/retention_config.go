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

// validatePolicies checks retention.policies and retention.interval: the
// plan must read, and no active rule may keep anything longer than
// retention.time, which would silently cut it short.
func (r RetentionConfig) validatePolicies() []error {
	if r.Policies == "" {
		return nil
	}
	var errs []error
	if r.Interval < minRetentionInterval {
		errs = append(errs, fmt.Errorf("retention.interval: must be at least %s, got %s", minRetentionInterval, r.Interval))
	}
	plan, err := loadPlan(r.Policies)
	if err != nil {
		return append(errs, fmt.Errorf("retention.policies: %w", err))
	}
	if keep, who := plan.MaxKeep(); keep > r.Time {
		errs = append(errs, fmt.Errorf("retention.policies: %s keeps %d days, longer than retention.time (%s): raise retention.time or shorten the policy",
			who, int(keep.Hours()/24), r.Time))
	}
	return errs
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
