package auditextension // import "github.com/pulse-otel/pulse/extension/auditextension"

import (
	"context"
	"errors"
	"strconv"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
	"go.uber.org/zap"

	"github.com/pulse-otel/pulse/internal/audit"
)

// auditExtension implements audit.Appender and audit.Finder over the log
// it opens at Start.
type auditExtension struct {
	cfg *Config
	set extension.Settings

	mu  sync.RWMutex
	log *audit.Log
}

var (
	_ audit.Appender = (*auditExtension)(nil)
	_ audit.Finder   = (*auditExtension)(nil)
)

// errNotStarted is returned by Append before Start and after Shutdown.
var errNotStarted = errors.New("audit extension: not started")

func newExtension(cfg *Config, set extension.Settings) *auditExtension {
	return &auditExtension{cfg: cfg, set: set}
}

// Start opens the log and records the extension's own config.load, so the
// log shows every collector start.
func (e *auditExtension) Start(ctx context.Context, _ component.Host) error {
	l, err := audit.Open(e.cfg.Directory, audit.Options{MaxFileBytes: e.cfg.MaxFileBytes})
	if err != nil {
		return err
	}
	r, err := l.Append(ctx, audit.Entry{
		Action: audit.ActionConfigLoad,
		Actor:  e.set.ID.String(),
		Source: e.set.ID.String(),
		Object: e.set.ID.String(),
		Details: map[string]string{
			"max_file_bytes":    strconv.FormatInt(e.cfg.MaxFileBytes, 10),
			"collector_version": e.set.BuildInfo.Version,
		},
	})
	if err != nil {
		_ = l.Close()
		return err
	}
	e.mu.Lock()
	e.log = l
	e.mu.Unlock()
	e.set.Logger.Info("Audit log open", zap.String("directory", e.cfg.Directory), zap.Uint64("seq", r.Seq), zap.String("head", r.Hash))
	return nil
}

// Shutdown closes the log; later appends fail.
func (e *auditExtension) Shutdown(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.log == nil {
		return nil
	}
	err := e.log.Close()
	e.log = nil
	return err
}

// Append records an entry; it returns once the record is on disk.
func (e *auditExtension) Append(ctx context.Context, en audit.Entry) (audit.Record, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.log == nil {
		return audit.Record{}, errNotStarted
	}
	return e.log.Append(ctx, en)
}

// Last returns the last record for which match is true.
func (e *auditExtension) Last(match func(audit.Record) bool) (audit.Record, bool, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.log == nil {
		return audit.Record{}, false, errNotStarted
	}
	return e.log.Last(match)
}
