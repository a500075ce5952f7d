// Package metadata contains the build information for the analytics receiver,
// in the shape mdatagen generates from metadata.yaml (written by hand: the
// generator is not available to this build).
package metadata // import "github.com/pulse-otel/pulse/receiver/analyticsreceiver/internal/metadata"

import (
	"go.opentelemetry.io/collector/component"
)

// Type is the receiver's type name in collector configuration.
var Type = component.MustNewType("analytics")

// ScopeName is the instrumentation scope of the receiver's telemetry.
const ScopeName = "github.com/pulse-otel/pulse/receiver/analyticsreceiver"

// The receiver's stability level per signal.
const (
	LogsStability    = component.StabilityLevelAlpha
	MetricsStability = component.StabilityLevelAlpha
)
