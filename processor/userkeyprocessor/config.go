package userkeyprocessor // import "github.com/pulse-otel/pulse/processor/userkeyprocessor"

import (
	"errors"
	"fmt"
)

// MaxKeys bounds keys: groups are carried as uint16 and the per-request
// scratch is indexed by group, and 4096 is far more partitions than a
// Pulse aggregator tier uses.
const MaxKeys = 4096

// Config is the userkey processor's configuration.
type Config struct {
	// Keys is the number of key groups, 1 to 4096. A record's group is
	// xxhash64(identity) % Keys; the group's decimal number is the Kafka
	// record key. Keep it well above the topic's partition count (64 for up
	// to 16 partitions) so groups spread evenly over partitions. Changing it
	// re-homes most users: do it only with the aggregators drained.
	Keys int `mapstructure:"keys"`
	// MetadataKey is the client metadata key the group number is written
	// to; the kafka exporter's logs::message_key_from_metadata_key must name
	// the same key.
	MetadataKey string `mapstructure:"metadata_key"`
	// Partitions, when set, is the events topic's partition count: each
	// group's metadata value is then chosen so that Kafka's murmur2
	// partitioner spreads the groups exactly evenly (keys / partitions
	// each), instead of as unevenly as murmur2 of "0".."keys-1" happens
	// to. keys must then be a multiple of partitions. Set it again when
	// the topic's partitions change: users then move, as they would anyway.
	Partitions int `mapstructure:"partitions"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// Validate checks the configuration; the collector calls it on load.
func (c *Config) Validate() error {
	var errs []error
	if c.Keys < 1 || c.Keys > MaxKeys {
		errs = append(errs, fmt.Errorf("keys: must be between 1 and %d, got %d", MaxKeys, c.Keys))
	}
	switch {
	case c.Partitions < 0:
		errs = append(errs, fmt.Errorf("partitions: must not be negative (0: not set), got %d", c.Partitions))
	case c.Partitions > 0 && (c.Keys < c.Partitions || c.Keys%c.Partitions != 0):
		errs = append(errs, fmt.Errorf("keys: must be a multiple of partitions (%d), got %d", c.Partitions, c.Keys))
	}
	if c.MetadataKey == "" {
		errs = append(errs, errors.New(`metadata_key: must not be empty (default "pulse.user_key")`))
	}
	return errors.Join(errs...)
}
