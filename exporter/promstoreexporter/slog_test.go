package promstoreexporter

import (
	"errors"
	"log/slog"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// The TSDB and the PromQL engine log through slog: their levels land on
// the collector's zap levels, in-between levels round down, and attributes
// become zap fields.
func TestSlogLevels(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	l := newSlogLogger(zap.New(core))
	for _, c := range []struct {
		level slog.Level
		want  zapcore.Level
	}{
		{slog.LevelDebug - 4, zapcore.DebugLevel},
		{slog.LevelDebug, zapcore.DebugLevel},
		{slog.LevelInfo, zapcore.InfoLevel},
		{slog.LevelInfo + 2, zapcore.InfoLevel},
		{slog.LevelWarn, zapcore.WarnLevel},
		{slog.LevelWarn + 1, zapcore.WarnLevel},
		{slog.LevelError, zapcore.ErrorLevel},
		{slog.LevelError + 4, zapcore.ErrorLevel},
	} {
		l.Log(t.Context(), c.level, "m")
		all := logs.TakeAll()
		if len(all) != 1 || all[0].Level != c.want {
			t.Fatalf("slog level %v: got %v, want one entry at %v", c.level, all, c.want)
		}
	}

	info, _ := observer.New(zapcore.InfoLevel)
	if newSlogLogger(zap.New(info)).Enabled(t.Context(), slog.LevelDebug) {
		t.Fatal("debug enabled on an info logger")
	}
}

func TestSlogFields(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	l := newSlogLogger(zap.New(core)).With("component", "tsdb")
	l.Warn("compaction failed", "err", errors.New("disk full"), "blocks", 3)
	all := logs.TakeAll()
	if len(all) != 1 {
		t.Fatalf("got %d entries", len(all))
	}
	got := all[0].ContextMap()
	if got["component"] != "tsdb" || got["err"] != "disk full" || got["blocks"] != int64(3) {
		t.Fatalf("fields %v", got)
	}
}
