// Package metadata contains the build information for the forget extension,
// in the shape mdatagen generates from metadata.yaml (written by hand: the
// generator is not available to this build).
package metadata // import "github.com/pulse-otel/pulse/extension/forgetextension/internal/metadata"

import (
	"go.opentelemetry.io/collector/component"
)

var Type = component.MustNewType("forget")

const ScopeName = "github.com/pulse-otel/pulse/extension/forgetextension"

const (
	ExtensionStability = component.StabilityLevelAlpha
)
