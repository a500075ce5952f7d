// Package metadata contains the build information for the promstore exporter,
// in the shape mdatagen generates from metadata.yaml (written by hand: the
// generator is not available to this build).
package metadata // import "github.com/pulse-otel/pulse/exporter/promstoreexporter/internal/metadata"

import (
	"go.opentelemetry.io/collector/component"
)

var Type = component.MustNewType("promstore")

const ScopeName = "github.com/pulse-otel/pulse/exporter/promstoreexporter"

const (
	MetricsStability = component.StabilityLevelAlpha
)
