package ondemand

import (
	"context"
	"log/slog"
	"slices"
	"sync"
)

// lazyAttrs is a slog.Handler that hands its attributes to the handler
// beneath only when a record is logged. Handlers such as the daemon's
// format attributes in WithAttrs, which Logger.With calls at once: for the
// two With calls of every /probe (target and module here, the target again
// in the engine) that was 7 % of a plain /probe's CPU
// (BenchmarkVersusBlackbox's profile), though at the default level a
// successful probe logs nothing. What is logged is the same.
type lazyAttrs struct {
	base  slog.Handler
	attrs []slog.Attr

	once sync.Once
	with slog.Handler // base.WithAttrs(attrs), made at the first record
}

func withLazyAttrs(l *slog.Logger, args ...any) *slog.Logger {
	r := slog.Record{}
	r.Add(args...)
	attrs := make([]slog.Attr, 0, r.NumAttrs())
	r.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, a)
		return true
	})
	return slog.New(&lazyAttrs{base: l.Handler(), attrs: attrs})
}

func (h *lazyAttrs) handler() slog.Handler {
	h.once.Do(func() { h.with = h.base.WithAttrs(h.attrs) })
	return h.with
}

func (h *lazyAttrs) Enabled(ctx context.Context, level slog.Level) bool {
	return h.base.Enabled(ctx, level)
}

func (h *lazyAttrs) Handle(ctx context.Context, r slog.Record) error {
	return h.handler().Handle(ctx, r)
}

// WithAttrs stays lazy: the engine adds attributes of its own.
func (h *lazyAttrs) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return &lazyAttrs{base: h.base, attrs: append(slices.Clip(h.attrs), attrs...)}
}

func (h *lazyAttrs) WithGroup(name string) slog.Handler {
	return h.handler().WithGroup(name)
}
