// Package metadata contains the build information for the analytics_metrics
// connector, in the shape mdatagen generates from metadata.yaml (written by
// hand: the generator is not available to this build).
package metadata // import "github.com/pulse-otel/pulse/connector/analyticsmetricsconnector/internal/metadata"

import (
	"go.opentelemetry.io/collector/component"
)

var Type = component.MustNewType("analytics_metrics")

const ScopeName = "github.com/pulse-otel/pulse/connector/analyticsmetricsconnector"

const (
	LogsToMetricsStability = component.StabilityLevelAlpha
)
