package auditextension // import "github.com/pulse-otel/pulse/extension/auditextension"

import (
	"errors"
	"fmt"
)

// Config is the audit extension's configuration.
type Config struct {
	// Directory holds the log files (audit-<firstseq>.jsonl) and the lock
	// file; created at Start when missing. pulsectl's --audit-dir must name
	// the same directory.
	Directory string `mapstructure:"directory"`
	// MaxFileBytes rotates to a new file when the next record would make
	// the current one larger.
	MaxFileBytes int64 `mapstructure:"max_file_bytes"`

	// prevent unkeyed literal initialization
	_ struct{}
}

const (
	defaultDirectory = "./data/audit"
	// minMaxFileBytes keeps a file able to hold the largest record.
	minMaxFileBytes = 64 << 10
)

// Validate checks the configuration; errors name the field and the value.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.Directory == "" {
		errs = append(errs, errors.New("directory: must not be empty"))
	}
	if cfg.MaxFileBytes < minMaxFileBytes {
		errs = append(errs, fmt.Errorf("max_file_bytes: must be at least %d (one record's limit), got %d", minMaxFileBytes, cfg.MaxFileBytes))
	}
	return errors.Join(errs...)
}
