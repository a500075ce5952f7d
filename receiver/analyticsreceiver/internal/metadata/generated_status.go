// Package metadata contains the build information for the analytics receiver,
// in the shape mdatagen generates from metadata.yaml (written by hand: the
// generator is not available to this build).
package metadata // import "github.com/pulse-otel/pulse/receiver/analyticsreceiver/internal/metadata"

import (
	"go.opentelemetry.io/collector/component"
)

var Type = component.MustNewType("analytics")

const ScopeName = "github.com/pulse-otel/pulse/receiver/analyticsreceiver"

const (
	LogsStability    = component.StabilityLevelAlpha
	MetricsStability = component.StabilityLevelAlpha
)
