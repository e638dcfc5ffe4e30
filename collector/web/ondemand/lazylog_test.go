package ondemand

import (
	"bytes"
	"log/slog"
	"testing"
)

// TestLazyAttrsLogsAsWith: a logger with lazy attributes writes what
// Logger.With writes, also after further With and WithGroup calls, and
// asks the handler beneath for attributes only once a record is logged.
func TestLazyAttrsLogsAsWith(t *testing.T) {
	logAll := func(l *slog.Logger) {
		l.Debug("hidden", "k", 1) // below the level: formats nothing
		l.Info("probe finished", "success", true)
		e := l.With("target", "good.test")
		e.Warn("slow step", "step", "rcpt")
		e.WithGroup("tls").Error("handshake", "err", "eof")
		l.Info("again")
	}
	opts := &slog.HandlerOptions{
		Level: slog.LevelInfo,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{}
			}
			return a
		},
	}
	var want, got bytes.Buffer
	logAll(slog.New(slog.NewTextHandler(&want, opts)).With("probe_target", "127.0.1.1:25", "module", "plain"))
	counting := &countingHandler{Handler: slog.NewTextHandler(&got, opts)}
	lazy := withLazyAttrs(slog.New(counting), "probe_target", "127.0.1.1:25", "module", "plain")
	if counting.withAttrs != 0 {
		t.Fatalf("WithAttrs called %d times before anything was logged", counting.withAttrs)
	}
	logAll(lazy)
	if got.String() != want.String() {
		t.Fatalf("lazy attributes logged\n%s\nwant, as Logger.With logs,\n%s", got.String(), want.String())
	}

	counting.withAttrs = 0
	quiet := withLazyAttrs(slog.New(counting), "probe_target", "x")
	quiet.With("target", "y").Debug("hidden")
	if counting.withAttrs != 0 {
		t.Fatalf("WithAttrs called %d times though nothing was logged", counting.withAttrs)
	}
}

type countingHandler struct {
	slog.Handler
	withAttrs int
}

func (h *countingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	h.withAttrs++
	return h.Handler.WithAttrs(attrs)
}
