package main

import (
	"context"
	"fmt"

	"github.com/mx-exporter/mx_exporter/config"
)

// loadConfig loads the config file, giving up with ctx's error as soon as
// ctx ends. config.LoadContext stops decoding when ctx ends, but the YAML
// parse before it cannot be interrupted: the load runs in a goroutine of
// its own, so that SIGTERM during a slow load ends the process at once
// instead of after the load. An abandoned load finishes in the background
// and its result is dropped.
func loadConfig(ctx context.Context, file string) (*config.Config, error) {
	type loaded struct {
		cfg *config.Config
		err error
	}
	done := make(chan loaded, 1)
	go func() {
		cfg, err := config.LoadContext(ctx, file)
		done <- loaded{cfg, err}
	}()
	select {
	case l := <-done:
		return l.cfg, l.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// checkNotEmptying refuses a reload that would remove every running
// target when the file does not say so with "targets: []": an empty or
// truncated file, caught in the middle of being saved, must not stop every
// probe and alert.
func checkNotEmptying(file string, runningTargets int, cfg *config.Config) error {
	if runningTargets == 0 || len(cfg.Targets) > 0 || cfg.TargetsListed {
		return nil
	}
	return fmt.Errorf("%s: the file lists no targets and would remove all %d running ones; "+
		"an empty or truncated file is refused (write \"targets: []\" to remove every target)", file, runningTargets)
}
