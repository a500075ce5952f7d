// Package metadata contains the build information for the privacy processor,
// in the shape mdatagen generates from metadata.yaml (written by hand: the
// generator is not available to this build).
package metadata // import "github.com/pulse-otel/pulse/processor/privacyprocessor/internal/metadata"

import (
	"go.opentelemetry.io/collector/component"
)

var Type = component.MustNewType("privacy")

const ScopeName = "github.com/pulse-otel/pulse/processor/privacyprocessor"

const (
	LogsStability    = component.StabilityLevelAlpha
	TracesStability  = component.StabilityLevelAlpha
	MetricsStability = component.StabilityLevelAlpha
)
