package ondemand

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mx-exporter/mx_exporter/collector"
	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/report"
	"github.com/mx-exporter/mx_exporter/collector/store"
	"github.com/mx-exporter/mx_exporter/config"
)

// Generation is what one config load gives /probe: the modules' settings
// and the allow-list. The daemon swaps it on reload.
type Generation struct {
	Settings map[string]probe.Settings
	Allow    *Allowlist
}

// Handler serves GET /probe?target=…&module=…[&debug=true].
type Handler struct {
	// Current returns the generation in force; never nil.
	Current func() *Generation
	// Prober runs the probe; the daemon gives it the scheduler's address
	// gate, so /probe never talks to an address at the same time as the
	// scheduler does.
	Prober *probe.Prober
	Logger *slog.Logger
	// TimeoutOffset is kept free of Prometheus' scrape timeout so that the
	// answer arrives before Prometheus gives up (default 500 ms).
	TimeoutOffset time.Duration
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "use GET", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	gen := h.Current()

	name := q.Get("target")
	if name == "" {
		http.Error(w, "the target parameter is missing: /probe?target=example.com&module=default", http.StatusBadRequest)
		return
	}
	target, err := probe.ParseTarget(name)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	module := q.Get("module")
	if module == "" {
		module = config.DefaultModuleName
	}
	settings, ok := gen.Settings[module]
	if !ok {
		http.Error(w, fmt.Sprintf("unknown module %q; known modules: %s", module, strings.Join(moduleNames(gen), ", ")), http.StatusBadRequest)
		return
	}
	if err := gen.Allow.Check(target, settings.SMTP.Port); err != nil {
		http.Error(w, "refused: "+err.Error(), http.StatusForbidden)
		return
	}
	timeout, err := h.timeout(r, settings.Timeout)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	settings.Timeout = timeout

	debug := q.Get("debug") == "true"
	var logs bytes.Buffer
	p := *h.Prober
	p.Logger = withLazyAttrs(h.Logger, "probe_target", name, "module", module)
	if debug {
		// The requester sees the log of this probe, and only of it.
		p.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	rep := p.Probe(r.Context(), target, settings)

	if debug {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "Probe of %s with module %s (timeout %s)\n\nLogs:\n%s\nReport:\n", name, module, timeout, logs.String())
		if err := report.WriteText(w, rep, false); err != nil {
			h.Logger.Debug("writing /probe debug answer", "err", err)
		}
		return
	}
	h.answer(w, r, &store.Entry{
		Key:    store.Key(target.Name(), module),
		Target: target.Name(),
		Module: module,
		Report: rep,
		Taken:  time.Now(),
	})
}

// answer serves the series of one probe's entry the way /metrics serves
// the store's, encoded straight from the report: a registry would make a
// const metric, then a protobuf family of each series, sort them and encode
// them again, which cost a fifth of a plain /probe's CPU
// (BenchmarkVersusBlackbox, BenchmarkAnswer). The series, their families'
// order and the Content-Type are the registry's (the collector package's
// tests hold the two paths equal); only the order of series inside a
// family may differ, which the format leaves free.
func (h *Handler) answer(w http.ResponseWriter, r *http.Request, entry *store.Entry) {
	collector.NewExporter(collector.StaticEntries{entry}).Handler(nil, h.Logger).ServeHTTP(w, r)
}

// timeout is the module's timeout, shortened to fit the scrape timeout
// Prometheus announces, less the offset.
func (h *Handler) timeout(r *http.Request, module time.Duration) (time.Duration, error) {
	v := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds")
	if v == "" {
		return module, nil
	}
	secs, err := strconv.ParseFloat(v, 64)
	if err != nil || secs <= 0 {
		return 0, fmt.Errorf("X-Prometheus-Scrape-Timeout-Seconds: %q is not a positive number of seconds", v)
	}
	offset := h.TimeoutOffset
	if offset == 0 {
		offset = 500 * time.Millisecond
	}
	scrape := time.Duration(secs * float64(time.Second))
	if scrape > offset {
		scrape -= offset
	}
	return min(module, scrape), nil
}

func moduleNames(gen *Generation) []string {
	names := make([]string, 0, len(gen.Settings))
	for n := range gen.Settings {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
