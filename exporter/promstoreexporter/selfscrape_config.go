package promstoreexporter // import "github.com/pulse-otel/pulse/exporter/promstoreexporter"

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"time"
)

// The defaults of the telemetry option (selfscrape.go).
const (
	defaultTelemetryEndpoint    = "localhost:8888"
	defaultTelemetryInterval    = 15 * time.Second
	defaultTelemetryTimeout     = 10 * time.Second
	defaultTelemetrySampleLimit = 10_000
)

// defaultTelemetryMetrics are the families stored by default: what the
// pipeline did to the data (receiver, privacy, connector counters), the
// store's own health and the process.
var defaultTelemetryMetrics = []string{
	"otelcol_receiver_.*",
	"otelcol_processor_privacy_.*",
	"otelcol_exporter_promstore_.*",
	"otelcol_connector_.*",
	"otelcol_process_.*",
}

// TelemetryConfig stores the collector's own telemetry in the TSDB: it is
// scraped from the collector's Prometheus endpoint as Prometheus scrapes
// itself, with job="pulse" and instance=<endpoint>, so the processing
// counters (rejects, consent decisions, masks, drops) are kept next to the
// data they describe.
type TelemetryConfig struct {
	// Enabled turns the scrape on. Default false.
	Enabled bool `mapstructure:"enabled"`
	// Endpoint is host:port of the collector's Prometheus telemetry
	// (service.telemetry.metrics.readers' pull exporter), scraped at
	// http://<endpoint>/metrics. Default localhost:8888.
	Endpoint string `mapstructure:"endpoint"`
	// Interval is the time between scrapes. Default 15s.
	Interval time.Duration `mapstructure:"interval"`
	// Timeout bounds one scrape; at most Interval. Default 10s.
	Timeout time.Duration `mapstructure:"timeout"`
	// Metrics are the metric names stored, as regular expressions matched
	// against the whole name; other families are dropped before they are
	// stored. Default: otelcol_receiver_.*, otelcol_processor_privacy_.*,
	// otelcol_exporter_promstore_.*, otelcol_connector_.*, otelcol_process_.*.
	Metrics []string `mapstructure:"metrics"`
	// SampleLimit is the most samples one scrape may store after the
	// name filter; a scrape with more is stored not at all and counted as
	// failed. Default 10000.
	SampleLimit int `mapstructure:"sample_limit"`
}

func defaultTelemetryConfig() TelemetryConfig {
	return TelemetryConfig{
		Endpoint:    defaultTelemetryEndpoint,
		Interval:    defaultTelemetryInterval,
		Timeout:     defaultTelemetryTimeout,
		Metrics:     append([]string(nil), defaultTelemetryMetrics...),
		SampleLimit: defaultTelemetrySampleLimit,
	}
}

// validate checks the option; nothing when it is disabled.
func (c *TelemetryConfig) validate() error {
	if !c.Enabled {
		return nil
	}
	var errs []error
	if host, port, err := net.SplitHostPort(c.Endpoint); err != nil || host == "" || port == "" {
		errs = append(errs, fmt.Errorf("telemetry.endpoint: must be host:port, got %q", c.Endpoint))
	}
	if c.Interval <= 0 {
		errs = append(errs, fmt.Errorf("telemetry.interval: must be positive, got %s", c.Interval))
	}
	if c.Timeout <= 0 || c.Timeout > c.Interval {
		errs = append(errs, fmt.Errorf("telemetry.timeout: must be positive and at most interval (%s), got %s", c.Interval, c.Timeout))
	}
	if len(c.Metrics) == 0 {
		errs = append(errs, errors.New("telemetry.metrics: must name at least one metric (a regular expression)"))
	}
	for i, m := range c.Metrics {
		if _, err := regexp.Compile("^(?:" + m + ")$"); err != nil || m == "" {
			errs = append(errs, fmt.Errorf("telemetry.metrics[%d]: must be a non-empty regular expression, got %q", i, m))
		}
	}
	if c.SampleLimit <= 0 {
		errs = append(errs, fmt.Errorf("telemetry.sample_limit: must be positive, got %d", c.SampleLimit))
	}
	return errors.Join(errs...)
}
