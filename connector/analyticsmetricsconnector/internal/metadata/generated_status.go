// Package metadata contains the build information for the analytics_metrics
// connector, in the shape mdatagen generates from metadata.yaml (written by
// hand: the generator is not available to this build).
package metadata // import "github.com/pulse-otel/pulse/connector/analyticsmetricsconnector/internal/metadata"

import (
	"go.opentelemetry.io/collector/component"
)

// Type is the component type in the collector configuration.
var Type = component.MustNewType("analytics_metrics")

// ScopeName is the instrumentation scope of the connector's own telemetry.
const ScopeName = "github.com/pulse-otel/pulse/connector/analyticsmetricsconnector"

// LogsToMetricsStability is the stability of the logs to metrics pipeline.
const (
	LogsToMetricsStability = component.StabilityLevelAlpha
)
