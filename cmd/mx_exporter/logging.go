package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/lmittmann/tint"
)

type logFlags struct {
	level  *string
	format *string
}

func addLogFlags(app *kingpin.Application) *logFlags {
	return &logFlags{
		level: app.Flag("log.level", "Only log messages with the given severity or above. One of: [debug, info, warn, error]").
			Default("info").Enum("debug", "info", "warn", "error"),
		format: app.Flag("log.format", "Output format of log messages. One of: [text, json]. Text is coloured when the output is a terminal.").
			Default("text").Enum("text", "json"),
	}
}

// logger builds the one logger the program passes down; nothing logs through
// a global.
func (f *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(*f.level)); err != nil {
		return nil, fmt.Errorf("--log.level: %w", err)
	}
	if *f.format == "json" {
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})), nil
	}
	return slog.New(tint.NewTextHandler(w, &tint.Options{
		Level:      level,
		TimeFormat: time.RFC3339,
		NoColor:    !isTerminal(w),
	})), nil
}

// isTerminal reports whether w is a character device, without a dependency:
// good enough to decide on colour, and NO_COLOR (no-color.org) wins.
func isTerminal(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
