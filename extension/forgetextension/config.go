package forgetextension // import "github.com/pulse-otel/pulse/extension/forgetextension"

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
)

// Config is the forget extension's configuration.
type Config struct {
	// ServerConfig is the admin HTTP server: endpoint (default
	// localhost:4321), TLS, auth (any collector auth extension), CORS,
	// response headers and max_request_body_size (default 16 KiB).
	confighttp.ServerConfig `mapstructure:",squash"`

	// Key is the HMAC-SHA256 key users are identified by, at least 32
	// bytes; usually ${env:PULSE_FORGET_KEY}. Exactly one of Key and KeyFile
	// is set. Changing it makes every stored request useless, so the
	// extension refuses to start with a key other than the one its stored
	// requests were made with.
	Key configopaque.String `mapstructure:"key"`
	// KeyFile is a file holding the key; trailing line breaks are ignored.
	KeyFile string `mapstructure:"key_file"`

	// Storage is the ID of a storage extension (e.g. file_storage) that
	// keeps the requests across restarts. Without it they live in memory
	// only, and the extension warns about that at Start.
	Storage *component.ID `mapstructure:"storage"`

	// MaxConnections caps the admin API's open connections; more wait in
	// the accept backlog. 0: a quarter of the open-file limit less 512, at
	// most 4096 (internal/httpserver); a larger value is lowered to that.
	MaxConnections int `mapstructure:"max_connections"`

	// prevent unkeyed literal initialization
	_ struct{}
}

const (
	defaultEndpoint       = "localhost:4321"
	defaultMaxRequestBody = 16 << 10
	// minMaxRequestBody fits the longest userId with some JSON around it.
	minMaxRequestBody = 2 << 10
	minKeyLength      = 32
)

// Validate checks the configuration; errors name the field and the value,
// except the key, of which they give only the length.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.NetAddr.Endpoint == "" {
		errs = append(errs, errors.New("endpoint: must not be empty"))
	}
	if cfg.MaxConnections < 0 {
		errs = append(errs, fmt.Errorf("max_connections: must not be negative (0: derived from the open-file limit), got %d", cfg.MaxConnections))
	}
	if cfg.MaxRequestBodySize < minMaxRequestBody {
		errs = append(errs, fmt.Errorf("max_request_body_size: must be at least %d, got %d", minMaxRequestBody, cfg.MaxRequestBodySize))
	}
	switch {
	case cfg.Key != "" && cfg.KeyFile != "":
		errs = append(errs, fmt.Errorf("key, key_file: set only one of them, got both (key_file %q)", cfg.KeyFile))
	case cfg.Key == "" && cfg.KeyFile == "":
		errs = append(errs, errors.New("key: must be set, usually to ${env:PULSE_FORGET_KEY}, unless key_file is set; got neither (is the environment variable empty?)"))
	case cfg.Key != "" && len(cfg.Key) < minKeyLength:
		errs = append(errs, fmt.Errorf("key: must be at least %d bytes, got %d bytes", minKeyLength, len(cfg.Key)))
	}
	if cfg.Storage != nil && cfg.Storage.Type().String() == "" {
		errs = append(errs, errors.New("storage: must be the ID of a storage extension, got an empty ID"))
	}
	return errors.Join(errs...)
}

// loadKey returns the HMAC key from key or key_file. Errors never contain
// the key.
func (cfg *Config) loadKey() ([]byte, error) {
	if cfg.KeyFile == "" {
		return []byte(cfg.Key), nil
	}
	raw, err := os.ReadFile(cfg.KeyFile)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is named below once
		}
		return nil, fmt.Errorf("key_file: reading %q: %w", cfg.KeyFile, err)
	}
	key := strings.TrimRight(string(raw), "\r\n")
	if len(key) < minKeyLength {
		return nil, fmt.Errorf("key_file: the key in %q must be at least %d bytes, got %d bytes", cfg.KeyFile, minKeyLength, len(key))
	}
	return []byte(key), nil
}
