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
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/mx-exporter/mx_exporter/collector"
	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsbl"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
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
	maxOnDemand   *int
	writeTimeout  *time.Duration
	idleTimeout   *time.Duration
}

func addServeCommand(app *kingpin.Application) *serveCommand {
	c := &serveCommand{}
	c.cmd = app.Command("serve", "Run the exporter: probe every configured target on its interval and serve the results on /metrics (the default command).").Default()
	c.configFile = c.cmd.Flag("config.file", "mx_exporter configuration file.").Default("mx_exporter.yml").String()
	c.telemetryPath = c.cmd.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").String()
	c.maxConcurrent = c.cmd.Flag("probe.max-concurrent", "How many targets may be probed at once.").Default("64").Int()
	c.maxOnDemand = c.cmd.Flag("probe.max-concurrent-ondemand", "How many /probe requests may probe at once, apart from the configured targets; beyond it /probe answers 503 at once.").Default(fmt.Sprint(ondemand.DefaultMaxConcurrent)).Int()
	c.writeTimeout = c.cmd.Flag("web.write-timeout", "How long an HTTP answer may take once its request is read; /probe answers get their module's timeout on top.").Default("30s").Duration()
	c.idleTimeout = c.cmd.Flag("web.idle-timeout", "How long an HTTP keep-alive connection may wait for its next request before it is closed.").Default("60s").Duration()
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
	// blocklists caches blocklist answers and keeps each zone's health
	// for the daemon's whole life, shared by the scheduler's probes and
	// /probe like policies: an address shared by many targets is asked
	// once per zone and cache_ttl, and a reload asks no list again. A
	// reload that changes cache_ttl or health_interval hands them to it
	// (SetIntervals) rather than replacing it, so nothing cached is lost.
	blocklists *dnsbl.Checker
	// zonesLoaded asks checkZones for a health check now: a config was
	// loaded, with zones or a resolver that may be new.
	zonesLoaded chan struct{}
	// stopping ends when the daemon shuts down: a reload asked for over
	// HTTP gives up then, as one asked for by SIGHUP does.
	stopping context.Context
	// maxOnDemand bounds the /probe requests that probe at once.
	maxOnDemand int

	reloadMu        sync.Mutex // one reload at a time
	mu              sync.RWMutex
	gen             *ondemand.Generation
	reloadOK        bool
	reloadSuccessAt time.Time
	// The blocklist zones of the config in force and the resolver they
	// are asked through, for checkZones and the self metrics.
	zones    []dnsbl.Zone
	resolver *dnsmx.Resolver
}

func (c *serveCommand) run(ctx context.Context, logger *slog.Logger) int {
	logger.Info("starting mx_exporter", "version", version.Info(), "build_context", version.BuildContext())
	d := &daemon{
		logger:      logger,
		configFile:  *c.configFile,
		store:       store.New(),
		policies:    mtasts.NewCache(),
		zonesLoaded: make(chan struct{}, 1),
		maxOnDemand: *c.maxOnDemand,
	}
	// The first config is read before the scheduler exists: its dnsbl
	// section says how long the blocklist checker the probers share
	// keeps answers.
	cfg, err := loadConfig(ctx, d.configFile)
	if ctx.Err() != nil {
		logger.Info("shutting down before the config was loaded")
		return exitOK
	}
	if err == nil {
		d.blocklists = dnsbl.NewChecker(cfg.DNSBL.CacheTTL, cfg.DNSBL.HealthInterval)
		d.sched = scheduler.New(&probe.Prober{Logger: logger, Policies: d.policies, Blocklists: d.blocklists}, d.store, scheduler.Options{
			MaxConcurrent: *c.maxConcurrent,
			Logger:        logger,
		})
		d.reloadMu.Lock()
		err = d.apply(cfg, nil)
		d.reloadMu.Unlock()
	}
	if err != nil {
		logger.Error("cannot load config", "file", d.configFile, "err", err)
		return exitFailure
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d.stopping = ctx
	var wg sync.WaitGroup
	wg.Go(func() { d.sched.Run(ctx) })
	wg.Go(func() { d.checkZones(ctx, d.blocklists.HealthInterval) })
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
	server, err := newHTTPServer(handler, httpLimits{writeTimeout: *c.writeTimeout, idleTimeout: *c.idleTimeout}, d.longestProbe, logger)
	if err != nil {
		logger.Error("cannot build HTTP server", "err", err)
		cancel()
		wg.Wait()
		return exitFailure
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
// any error the running config stays in force, and so it does when the
// file would remove every target without saying so (checkNotEmptying).
// When ctx ends first, reload returns its error at once, and nothing is
// applied or recorded: the daemon is shutting down.
func (d *daemon) reload(ctx context.Context) error {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	cfg, err := loadConfig(ctx, d.configFile)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err == nil {
		err = checkNotEmptying(d.configFile, d.sched.Stats().Jobs, cfg)
	}
	return d.apply(cfg, err)
}

// apply puts cfg in force, or keeps the running config when loadErr (the
// error of reading cfg) or building it fails, and records which. The
// caller holds reloadMu.
func (d *daemon) apply(cfg *config.Config, loadErr error) error {
	err := loadErr
	if err == nil {
		err = d.load(cfg)
	}
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

func (d *daemon) load(cfg *config.Config) error {
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
	d.zones, d.resolver = wiring.DNSBLZones(cfg.DNSBL), resolver
	d.mu.Unlock()
	d.blocklists.SetIntervals(cfg.DNSBL.CacheTTL, cfg.DNSBL.HealthInterval)
	// The zones' health is checked at once: new zones, or a resolver a
	// list may refuse, show in mx_dnsbl_zone_healthy before the first
	// probe has to trust their answers.
	select {
	case d.zonesLoaded <- struct{}{}:
	default: // a check is asked for already
	}
	// Without trust_ad every DANE verdict is not_checked: the log says
	// which it is, as nothing else at start does.
	d.logger.Info("config loaded", "file", d.configFile, "targets", len(jobs), "modules", len(cfg.Modules), "dns_trust_ad", cfg.DNS.TrustAD,
		"dnsbl_zones", len(cfg.DNSBL.Zones), "dnsbl_domain_zones", len(cfg.DNSBL.DomainZones),
		"dnsbl_cache_ttl", cfg.DNSBL.CacheTTL, "dnsbl_health_interval", cfg.DNSBL.HealthInterval)
	return nil
}

// checkZones checks the health of the blocklist zones of the config in
// force (RFC 5782 section 5) whenever a config is loaded and every
// interval (the checker's health_interval) after the last check, until ctx
// ends. The checker would check a zone on first use anyway; doing it
// here keeps mx_dnsbl_zone_healthy current when no probe asks, and spares
// the first probes the wait.
func (d *daemon) checkZones(ctx context.Context, interval func() time.Duration) {
	timer := time.NewTimer(interval())
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.zonesLoaded:
		case <-timer.C:
		}
		d.mu.RLock()
		zones, resolver := d.zones, d.resolver
		d.mu.RUnlock()
		if len(zones) > 0 {
			d.blocklists.CheckZones(ctx, resolver, zones)
		}
		timer.Reset(interval())
	}
}

// longestProbe is the longest a /probe may take with the config in force:
// its module's timeout, or less when the scrape's is shorter.
func (d *daemon) longestProbe() time.Duration {
	var longest time.Duration
	for _, s := range d.generation().Settings {
		longest = max(longest, s.Timeout)
	}
	return longest
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
			_ = d.reload(ctx) // logged by reload
		}
	}
}

// selfStats feeds the exporter's self-monitoring series.
func (d *daemon) selfStats() collector.SelfStats {
	st := d.sched.Stats()
	d.mu.RLock()
	ok, at, zones := d.reloadOK, d.reloadSuccessAt, d.zones
	d.mu.RUnlock()
	// The checker remembers every zone it ever checked; the series are
	// those of the config in force, each of the kind it names now.
	var health []dnsbl.Health
	for _, h := range d.blocklists.Zones() {
		if slices.Contains(zones, h.Zone) {
			health = append(health, h)
		}
	}
	return collector.SelfStats{
		ProbesSucceeded:        st.ProbesSuccess,
		ProbesFailed:           st.ProbesFailure,
		ProbesInFlight:         int(st.InFlight),
		Targets:                st.Jobs,
		SchedulerLag:           st.Lag,
		ConfigReloadSuccessful: ok,
		ConfigReloadSuccess:    at,
		BlocklistZones:         health,
	}
}

func (d *daemon) handler(telemetryPath string) (http.Handler, error) {
	self, err := collector.NewSelfRegistry(d.selfStats)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(telemetryPath, getOrHead(collector.NewExporter(d.store).Handler(self, d.logger)))
	mux.Handle("/probe", &ondemand.Handler{
		Current: d.generation,
		Prober:  &probe.Prober{Logger: d.logger, Gate: d.sched.OnDemandGate(), Policies: d.policies, Blocklists: d.blocklists},
		Logger:  d.logger,
		// /probe waits behind the scheduler at every address, and this
		// many at most probe at once: scheduled probes keep their turn.
		MaxConcurrent: d.maxOnDemand,
	})
	statusPages := status.NewHandler(d.store, status.Options{Logger: d.logger})
	// The status pages answer GET and HEAD only on their own.
	mux.Handle("/status", statusPages)
	mux.Handle("/status/", statusPages) // transcripts and reports
	mux.HandleFunc("/-/reload", d.serveReload)
	mux.Handle("/-/healthy", getOrHead(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "Healthy\n") })))
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
		mux.Handle("/", getOrHead(landing))
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
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	if d.stopping != nil {
		defer context.AfterFunc(d.stopping, cancel)()
	}
	if err := d.reload(ctx); err != nil {
		http.Error(w, "config reload failed, the running config stays in force:\n"+err.Error(), http.StatusInternalServerError)
		return
	}
	io.WriteString(w, "config reloaded\n")
}
