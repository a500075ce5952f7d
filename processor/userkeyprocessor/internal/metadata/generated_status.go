// Package metadata contains the build information for the userkey processor,
// in the shape mdatagen generates from metadata.yaml (written by hand: the
// generator is not available to this build).
package metadata // import "github.com/pulse-otel/pulse/processor/userkeyprocessor/internal/metadata"

import (
	"go.opentelemetry.io/collector/component"
)

// Type is the component type users write in collector configuration.
var Type = component.MustNewType("userkey")

// ScopeName is the instrumentation scope of the component's own telemetry.
const ScopeName = "github.com/pulse-otel/pulse/processor/userkeyprocessor"

// Stability of each signal the component supports.
const (
	LogsStability = component.StabilityLevelAlpha
)
