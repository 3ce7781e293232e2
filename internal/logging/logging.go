// Package logging holds what Purser's packages share about logs: River's
// own messages kept out of a server's info log.
package logging

import (
	"context"
	"log/slog"
)

// River returns l for River's clients and migrator: their warnings and
// errors pass, their info messages (client started, producers,
// leadership, maintenance, "no migrations to apply") are dropped, so that a server logging at info shows
// Purser's own lines. A level below info (debug) keeps them all.
func River(l *slog.Logger) *slog.Logger {
	return slog.New(floorHandler{h: l.Handler(), min: slog.LevelWarn})
}

// floorHandler drops records below min unless the handler it wraps is
// enabled below info (the operator asked for debug).
type floorHandler struct {
	h   slog.Handler
	min slog.Level
}

func (f floorHandler) Enabled(ctx context.Context, level slog.Level) bool {
	if !f.h.Enabled(ctx, level) {
		return false
	}
	return level >= f.min || f.h.Enabled(ctx, slog.LevelDebug)
}

func (f floorHandler) Handle(ctx context.Context, r slog.Record) error { return f.h.Handle(ctx, r) }

func (f floorHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return floorHandler{h: f.h.WithAttrs(as), min: f.min}
}

func (f floorHandler) WithGroup(name string) slog.Handler {
	return floorHandler{h: f.h.WithGroup(name), min: f.min}
}
