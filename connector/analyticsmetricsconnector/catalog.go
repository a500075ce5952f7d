package analyticsmetricsconnector // import "github.com/pulse-otel/pulse/connector/analyticsmetricsconnector"

import "github.com/pulse-otel/pulse/internal/catalog"

// Catalog returns the metrics the connector emits, indexed by metric ID
// (catalog.Events ... catalog.NumConnector). They are defined, with their
// labels and buckets, in internal/catalog.
func Catalog() []catalog.Metric { return catalog.ConnectorMetrics() }
