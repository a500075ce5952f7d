package forgetextension // import "github.com/pulse-otel/pulse/extension/forgetextension"

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
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

	// Audit is the ID of an audit extension (auditextension) that records
	// every accepted forget request: who asked, from where, for which
	// subject, effective when. When set, a request that cannot be recorded
	// fails with 503 and is not applied.
	Audit *component.ID `mapstructure:"audit"`

	// MaxConnections caps the admin API's open connections; more wait in
	// the accept backlog. 0: a quarter of the open-file limit less 512, at
	// most 4096 (internal/httpserver); a larger value is lowered to that.
	MaxConnections int `mapstructure:"max_connections"`

	// Sync shares the requests between gateways (kafka.go).
	Sync SyncConfig `mapstructure:"sync"`

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
	if cfg.Audit != nil && cfg.Audit.Type().String() == "" {
		errs = append(errs, errors.New("audit: must be the ID of an audit extension, got an empty ID"))
	}
	if k := cfg.Sync.Kafka.Get(); k != nil {
		errs = append(errs, k.validate()...)
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

// SyncConfig shares forget requests between the gateways of a scale-out
// deployment. Without it each collector knows only the requests it was
// sent.
type SyncConfig struct {
	// Kafka makes a compacted Kafka topic the record every gateway writes
	// its requests to and reads everyone's from.
	Kafka configoptional.Optional[KafkaConfig] `mapstructure:"kafka"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// KafkaConfig is the topic the gateways share (README, Sync).
type KafkaConfig struct {
	// Brokers are the bootstrap brokers, host:port.
	Brokers []string `mapstructure:"brokers"`
	// Topic holds one record per forgotten user, keyed by the subject;
	// created compacted with one partition when missing (default
	// pulse-forget).
	Topic string `mapstructure:"topic"`
	// ClientID is advertised to the brokers (ACLs, quotas); empty: franz-go's
	// default.
	ClientID string `mapstructure:"client_id"`
	// TLS for the broker connections; without it they are plaintext.
	TLS *configtls.ClientConfig `mapstructure:"tls"`
	// StartTimeout bounds how long Start waits to have read the topic up to
	// the end offsets it had at start (default 30s): the collector does not
	// start before it knows every user forgotten so far.
	StartTimeout time.Duration `mapstructure:"start_timeout"`
	// PublishTimeout bounds how long a POST waits for Kafka to acknowledge
	// its record before answering 503 (default 5s).
	PublishTimeout time.Duration `mapstructure:"publish_timeout"`

	// prevent unkeyed literal initialization
	_ struct{}
}

const (
	defaultTopic          = "pulse-forget"
	defaultStartTimeout   = 30 * time.Second
	defaultPublishTimeout = 5 * time.Second
	// maxTopicLength is Kafka's limit on topic names.
	maxTopicLength = 249
)

func defaultKafkaConfig() KafkaConfig {
	return KafkaConfig{Topic: defaultTopic, StartTimeout: defaultStartTimeout, PublishTimeout: defaultPublishTimeout}
}

// validate returns one error per bad field, named by its full path.
func (k *KafkaConfig) validate() []error {
	const p = "sync.kafka."
	var errs []error
	if len(k.Brokers) == 0 {
		errs = append(errs, errors.New(p+"brokers: must list at least one host:port"))
	}
	for i, b := range k.Brokers {
		host, port, err := net.SplitHostPort(b)
		if err != nil || host == "" {
			errs = append(errs, fmt.Errorf(p+"brokers[%d]: must be host:port, got %q", i, b))
			continue
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			errs = append(errs, fmt.Errorf(p+"brokers[%d]: the port must be a number from 1 to 65535, got %q", i, b))
		}
	}
	if msg := checkTopic(k.Topic); msg != "" {
		errs = append(errs, fmt.Errorf(p+"topic: %s, got %q", msg, k.Topic))
	}
	if k.StartTimeout <= 0 {
		errs = append(errs, fmt.Errorf(p+"start_timeout: must be positive, got %s", k.StartTimeout))
	}
	if k.PublishTimeout <= 0 {
		errs = append(errs, fmt.Errorf(p+"publish_timeout: must be positive, got %s", k.PublishTimeout))
	}
	return errs
}

// checkTopic applies Kafka's rules for topic names; it returns what is
// wrong, or "".
func checkTopic(topic string) string {
	switch {
	case topic == "":
		return "must not be empty"
	case topic == "." || topic == "..":
		return `must not be "." or ".."`
	case len(topic) > maxTopicLength:
		return fmt.Sprintf("must be at most %d characters", maxTopicLength)
	}
	for _, c := range topic {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return "may hold only ASCII letters, digits, '.', '_' and '-'"
		}
	}
	return ""
}
