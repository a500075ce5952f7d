package promstoreexporter // import "github.com/pulse-otel/pulse/exporter/promstoreexporter"

import (
	"log/slog"

	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"
)

// newSlogLogger gives the TSDB and the PromQL engine, which log through
// log/slog, the collector's zap logger: its core (level, fields, sinks)
// and its name, with the caller of the slog call.
func newSlogLogger(l *zap.Logger) *slog.Logger {
	return slog.New(zapslog.NewHandler(l.Core(), zapslog.WithName(l.Name()), zapslog.WithCaller(true)))
}
