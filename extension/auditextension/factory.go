// Package auditextension runs Pulse's audit trail (internal/audit) inside
// the collector: it opens the log directory at Start and closes it at
// Shutdown, and the components that change or remove data or policy (the
// forget extension, the privacy processor) find it by component ID and
// append their records to it. pulsectl appends to the same directory; the
// log's flock keeps one chain.
package auditextension // import "github.com/pulse-otel/pulse/extension/auditextension"

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"

	"github.com/pulse-otel/pulse/extension/auditextension/internal/metadata"
	"github.com/pulse-otel/pulse/internal/audit"
)

// NewFactory returns the factory of the audit extension (type "audit").
func NewFactory() extension.Factory {
	return extension.NewFactory(
		metadata.Type,
		createDefaultConfig,
		createExtension,
		metadata.ExtensionStability,
	)
}

func createDefaultConfig() component.Config {
	return &Config{Directory: defaultDirectory, MaxFileBytes: audit.DefaultMaxFileBytes}
}

func createExtension(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newExtension(cfg.(*Config), set), nil
}
