package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/mx-exporter/mx_exporter/collector"
	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/mtasts"
	"github.com/mx-exporter/mx_exporter/collector/scheduler"
	"github.com/mx-exporter/mx_exporter/collector/store"
	"github.com/mx-exporter/mx_exporter/collector/web/ondemand"
	"github.com/mx-exporter/mx_exporter/collector/web/status"
	"github.com/mx-exporter/mx_exporter/collector/wiring"
	"github.com/mx-exporter/mx_exporter/config"
)

// defaultListenAddress is mx_exporter's port.
const defaultListenAddress = ":9725"

// serveCommand is the daemon, the default command.
type serveCommand struct {
	cmd           *kingpin.CmdClause
	configFile    *string
	webFlags      *web.FlagConfig
	telemetryPath *string
	maxConcurrent *int
}

func addServeCommand(app *kingpin.Application) *serveCommand {
	c := &serveCommand{}
	c.cmd = app.Command("serve", "Run the exporter: probe every configured target on its interval and serve the results on /metrics (the default command).").Default()
	c.configFile = c.cmd.Flag("config.file", "mx_exporter configuration file.").Default("mx_exporter.yml").String()
	c.telemetryPath = c.cmd.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").String()
	c.maxConcurrent = c.cmd.Flag("probe.max-concurrent", "How many targets may be probed at once.").Default("64").Int()
	c.webFlags = kingpinflag.AddFlags(c.cmd, defaultListenAddress)
	return c
}

// daemon is the running exporter: the current config, the scheduler that
// probes it and the store the HTTP side reads.
type daemon struct {
	logger     *slog.Logger
	configFile string
	store      *store.Store
	sched      *scheduler.Scheduler
	// policies holds the MTA-STS policies for the daemon's whole life,
	// shared by the scheduler's probes and /probe: a policy is fetched
	// once per refresh interval whatever asks for it, and a reload does
	// not fetch every policy again (a changed TXT id still does).
	policies *mtasts.Cache

	reloadMu        sync.Mutex // one reload at a time
	mu              sync.RWMutex
	gen             *ondemand.Generation
	reloadOK        bool
	reloadSuccessAt time.Time
}

func (c *serveCommand) run(ctx context.Context, logger *slog.Logger) int {
	logger.Info("starting mx_exporter", "version", version.Info(), "build_context", version.BuildContext())
	d := &daemon{logger: logger, configFile: *c.configFile, store: store.New(), policies: mtasts.NewCache()}
	d.sched = scheduler.New(&probe.Prober{Logger: logger, Policies: d.policies}, d.store, scheduler.Options{
		MaxConcurrent: *c.maxConcurrent,
		Logger:        logger,
	})
	if err := d.reload(); err != nil {
		logger.Error("cannot load config", "file", d.configFile, "err", err)
		return exitFailure
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { d.sched.Run(ctx) })
	// Registered before anything runs, so that a SIGHUP from now on
	// reloads instead of killing the process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	wg.Go(func() { d.reloadOnSignal(ctx, hup) })

	handler, err := d.handler(*c.telemetryPath)
	if err != nil {
		logger.Error("cannot build HTTP handler", "err", err)
		cancel()
		wg.Wait()
		return exitFailure
	}
	server := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		// net/http's own complaints (a TLS handshake that failed, a
		// client that spoke plain HTTP to the TLS port) go through slog
		// like everything else, not to stderr in another format.
		ErrorLog: slog.NewLogLogger(logger.With("component", "http").Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- web.ListenAndServe(server, c.webFlags, logger) }()

	status := exitOK
	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case err := <-serveErr:
		logger.Error("HTTP server failed", "err", err)
		status = exitFailure
	}
	shutdownCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	if err := server.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Warn("HTTP shutdown", "err", err)
	}
	cancel()
	wg.Wait()
	return status
}

// reload loads the config file and hands its targets to the scheduler. On
// any error the running config stays in force.
func (d *daemon) reload() error {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	err := d.load()
	d.mu.Lock()
	d.reloadOK = err == nil
	if err == nil {
		d.reloadSuccessAt = time.Now()
	}
	d.mu.Unlock()
	if err != nil {
		if d.generation() != nil { // at start there is no running config: the caller says so
			d.logger.Error("config reload failed, keeping the running config", "file", d.configFile, "err", err)
		}
		return err
	}
	return nil
}

func (d *daemon) load() error {
	cfg, err := config.Load(d.configFile)
	if err != nil {
		return err
	}
	// A new resolver per load: dns.trust_ad and the self-check name take
	// effect on reload, with a self-check of their own.
	resolver, err := wiring.Resolver(cfg.DNS)
	if err != nil {
		return fmt.Errorf("%s: dns: %w", d.configFile, err)
	}
	settings, err := wiring.Settings(cfg, resolver)
	if err != nil {
		return fmt.Errorf("%s: %w", d.configFile, err)
	}
	jobs, err := wiring.Jobs(cfg, settings)
	if err != nil {
		return fmt.Errorf("%s: %w", d.configFile, err)
	}
	d.sched.Update(jobs)
	d.mu.Lock()
	d.gen = &ondemand.Generation{Settings: settings, Allow: ondemand.NewAllowlist(cfg)}
	d.mu.Unlock()
	// Without trust_ad every DANE verdict is not_checked: the log says
	// which it is, as nothing else at start does.
	d.logger.Info("config loaded", "file", d.configFile, "targets", len(jobs), "modules", len(cfg.Modules), "dns_trust_ad", cfg.DNS.TrustAD)
	return nil
}

// generation is what /probe works with: the config in force.
func (d *daemon) generation() *ondemand.Generation {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.gen
}

func (d *daemon) reloadOnSignal(ctx context.Context, hup <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			_ = d.reload() // logged by reload
		}
	}
}

// selfStats feeds the exporter's self-monitoring series.
func (d *daemon) selfStats() collector.SelfStats {
	st := d.sched.Stats()
	d.mu.RLock()
	ok, at := d.reloadOK, d.reloadSuccessAt
	d.mu.RUnlock()
	return collector.SelfStats{
		ProbesSucceeded:        st.ProbesSuccess,
		ProbesFailed:           st.ProbesFailure,
		ProbesInFlight:         int(st.InFlight),
		Targets:                st.Jobs,
		SchedulerLag:           st.Lag,
		ConfigReloadSuccessful: ok,
		ConfigReloadSuccess:    at,
	}
}

func (d *daemon) handler(telemetryPath string) (http.Handler, error) {
	self, err := collector.NewSelfRegistry(d.selfStats)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(telemetryPath, collector.NewExporter(d.store).Handler(self, d.logger))
	mux.Handle("/probe", &ondemand.Handler{
		Current: d.generation,
		Prober:  &probe.Prober{Logger: d.logger, Gate: d.sched.Gate(), Policies: d.policies},
		Logger:  d.logger,
	})
	statusPages := status.NewHandler(d.store, status.Options{Logger: d.logger})
	mux.Handle("/status", statusPages)
	mux.Handle("/status/", statusPages) // transcripts and reports
	mux.HandleFunc("/-/reload", d.serveReload)
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "Healthy\n") })
	if telemetryPath != "/" {
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name:        "mx_exporter",
			Description: "Probes mail gateways: MX lookup, SMTP dialogue, STARTTLS, relay check",
			Version:     version.Info(),
			Links: []web.LandingLinks{
				{Address: telemetryPath, Text: "Metrics"},
				{Address: "/probe?target=example.com&module=default&debug=true", Text: "Probe", Description: "probe one target now (configured targets and probe_endpoint.allow only)"},
				{Address: "/status", Text: "Status", Description: "every target's last probe, with transcripts"},
				{Address: "/-/healthy", Text: "Health"},
			},
		})
		if err != nil {
			return nil, err
		}
		mux.Handle("/", landing)
	}
	return mux, nil
}

// serveReload is POST /-/reload: reload the config, answer what happened.
func (d *daemon) serveReload(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "use POST to reload the configuration", http.StatusMethodNotAllowed)
		return
	}
	if err := d.reload(); err != nil {
		http.Error(w, "config reload failed, the running config stays in force:\n"+err.Error(), http.StatusInternalServerError)
		return
	}
	io.WriteString(w, "config reloaded\n")
}
