// Package metadata contains the build information for the audit extension,
// in the shape mdatagen generates from metadata.yaml (written by hand: the
// generator is not available to this build).
package metadata // import "github.com/pulse-otel/pulse/extension/auditextension/internal/metadata"

import (
	"go.opentelemetry.io/collector/component"
)

// Type is the extension's type name in collector configuration.
var Type = component.MustNewType("audit")

// ScopeName is the instrumentation scope of the extension's telemetry.
const ScopeName = "github.com/pulse-otel/pulse/extension/auditextension"

// ExtensionStability is the extension's stability level.
const (
	ExtensionStability = component.StabilityLevelAlpha
)
