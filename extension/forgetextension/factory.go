// Package forgetextension is the right-to-be-forgotten admin API of Pulse.
// Operators post a user id to it; from that moment the privacy processor,
// which looks the extension up by component ID and asks Forgotten for every
// event, drops that user's events. Users are known only by
// HMAC-SHA256(key, userId): the raw id is never stored, logged or answered.
// With sync.kafka the gateways of a scale-out deployment share the requests
// through a compacted topic (kafka.go), so one accepted by any gateway is
// in force on all of them.
package forgetextension // import "github.com/pulse-otel/pulse/extension/forgetextension"

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/extension"

	"github.com/pulse-otel/pulse/extension/forgetextension/internal/metadata"
)

// Forgetter is implemented by the extension.
type Forgetter interface {
	// Forgotten reports whether a forget request exists for this raw user id.
	// It must not allocate, and must cost ~nothing (an atomic load) while no request exists.
	Forgotten(userID string) bool
}

// NewFactory returns the factory of the forget extension (type "forget").
func NewFactory() extension.Factory {
	return extension.NewFactory(
		metadata.Type,
		createDefaultConfig,
		createExtension,
		metadata.ExtensionStability,
	)
}

func createDefaultConfig() component.Config {
	server := confighttp.NewDefaultServerConfig()
	server.NetAddr.Endpoint = defaultEndpoint
	server.MaxRequestBodySize = defaultMaxRequestBody
	return &Config{ServerConfig: server, Sync: SyncConfig{Kafka: configoptional.Default(defaultKafkaConfig())}}
}

func createExtension(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newExtension(cfg.(*Config), set)
}
