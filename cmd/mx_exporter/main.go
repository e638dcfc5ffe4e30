// Command mx_exporter probes mail gateways the way a mail admin does by hand
// and exports what it finds to Prometheus. This package only wires things
// together: flags, logging, signals and the HTTP server.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/version"
)

// Exit statuses of the probe command; the daemon uses 0 and 1.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run parses args and runs the chosen command. It returns the exit status
// instead of exiting, so tests can call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := kingpin.New("mx_exporter", "Probes mail gateways (MX lookup, SMTP dialogue, STARTTLS) and exports the results to Prometheus.")
	app.Writer(stdout)
	app.ErrorWriter(stderr)
	app.UsageWriter(stdout)
	app.HelpFlag.Short('h')
	status := -1
	app.Terminate(func(code int) { status = code }) // --help and --version end here
	fillVersion()
	app.Version(version.Print("mx_exporter"))

	logFlags := addLogFlags(app)
	serve := addServeCommand(app)
	probe := addProbeCommand(app)

	command, err := app.Parse(args)
	if status >= 0 {
		return status
	}
	if err != nil {
		fmt.Fprintf(stderr, "mx_exporter: %v (try --help)\n", err)
		return exitUsage
	}
	logger, err := logFlags.logger(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "mx_exporter: %v\n", err)
		return exitUsage
	}
	switch command {
	case serve.cmd.FullCommand():
		return serve.run(ctx, logger)
	case probe.cmd.FullCommand():
		return probe.run(ctx, logger, stdout, stderr)
	}
	fmt.Fprintf(stderr, "mx_exporter: unknown command %q\n", command)
	return exitUsage
}
