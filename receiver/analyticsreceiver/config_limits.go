package analyticsreceiver

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/component"

	"github.com/pulse-otel/pulse/receiver/analyticsreceiver/internal/decoder"
)

// SnapshotLabelsConfig bounds the label values clients put on the snapshot
// metrics (model-metrics, business-metrics, system-metrics): metricName,
// modelId, serviceName, dimensions and the other strings that become
// labels. Past a limit a value becomes "_other", as in the
// analytics_metrics connector.
type SnapshotLabelsConfig struct {
	// MaxValuesPerLabel is the most distinct values one label of one
	// endpoint keeps (the first ones seen); later new values become
	// "_other".
	MaxValuesPerLabel int `mapstructure:"max_values_per_label"`
	// MaxLabelSets is the most distinct combinations of label values one
	// endpoint keeps; a later new combination has every label "_other".
	// Each combination is one series per metric of the endpoint.
	MaxLabelSets int `mapstructure:"max_label_sets"`
	// MaxValueLength is the longest label value kept, in bytes; a longer
	// one becomes "_other".
	MaxValueLength int `mapstructure:"max_value_length"`
	// Storage is a storage extension (file_storage) that keeps the
	// admitted values across restarts, so that a restart does not make
	// room for new ones. Without it every start admits afresh.
	Storage *component.ID `mapstructure:"storage"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// Upper bounds of the settings: past them the limits no longer bound
// memory in any useful sense.
const (
	maxMaxValuesPerLabel = 1_000_000
	maxMaxLabelSets      = 1_000_000
	maxMaxValueLength    = 1 << 16
)

func defaultSnapshotLabels() SnapshotLabelsConfig {
	return SnapshotLabelsConfig{
		MaxValuesPerLabel: decoder.DefaultMaxValuesPerLabel,
		MaxLabelSets:      decoder.DefaultMaxLabelSets,
		MaxValueLength:    decoder.DefaultMaxValueLength,
	}
}

// Validate checks the limits. There is no "no limit" value: an unbounded
// label is what the limits are for.
func (c *SnapshotLabelsConfig) Validate() error {
	var errs []error
	if c.MaxValuesPerLabel < 1 || c.MaxValuesPerLabel > maxMaxValuesPerLabel {
		errs = append(errs, fmt.Errorf("max_values_per_label: must be between 1 and %d, got %d", maxMaxValuesPerLabel, c.MaxValuesPerLabel))
	}
	if c.MaxLabelSets < 1 || c.MaxLabelSets > maxMaxLabelSets {
		errs = append(errs, fmt.Errorf("max_label_sets: must be between 1 and %d, got %d", maxMaxLabelSets, c.MaxLabelSets))
	}
	if c.MaxValueLength < 1 || c.MaxValueLength > maxMaxValueLength {
		errs = append(errs, fmt.Errorf("max_value_length: must be between 1 and %d, got %d", maxMaxValueLength, c.MaxValueLength))
	}
	return errors.Join(errs...)
}

func (c *SnapshotLabelsConfig) decoderLimits() decoder.LabelLimits {
	return decoder.LabelLimits{
		MaxValuesPerLabel: c.MaxValuesPerLabel,
		MaxLabelSets:      c.MaxLabelSets,
		MaxValueLength:    c.MaxValueLength,
	}
}
