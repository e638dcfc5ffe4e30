package ondemand

import (
	"bytes"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
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
	// MaxConcurrent bounds the probes /probe runs at once; beyond it a
	// request is answered 503 at once. Zero is DefaultMaxConcurrent.
	MaxConcurrent int

	inFlight atomic.Int64
}

// DefaultMaxConcurrent is the default of Handler.MaxConcurrent (the flag
// --probe.max-concurrent-ondemand).
const DefaultMaxConcurrent = 32

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
	settings.DialAllowed = gen.Allow.DialAllowed(target)
	timeout := h.timeout(r, settings.Timeout)
	settings.Timeout = timeout

	// Counted only once the request is known good: a flood of bad
	// requests costs nothing but their parsing, and takes no turn from
	// good ones.
	limit := h.MaxConcurrent
	if limit <= 0 {
		limit = DefaultMaxConcurrent
	}
	if n := h.inFlight.Add(1); n > int64(limit) {
		h.inFlight.Add(-1)
		w.Header().Set("Retry-After", "1")
		http.Error(w, fmt.Sprintf("too many probes at once: the limit of %d /probe requests in progress (--probe.max-concurrent-ondemand) is reached; try again later", limit), http.StatusServiceUnavailable)
		return
	}
	defer h.inFlight.Add(-1)

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
		// The target is the caller's text: quoted, so that no byte of it
		// is taken for markup or a terminal's control sequence, and no
		// browser is let guess another type.
		w.Header().Set("X-Content-Type-Options", "nosniff")
		fmt.Fprintf(w, "Probe of %s with module %q (timeout %s)\n\nLogs:\n%s\nReport:\n", strconv.QuoteToASCII(name), module, timeout, logs.String())
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

// minScrapeTimeout is the shortest X-Prometheus-Scrape-Timeout-Seconds
// taken at its word; below it the header is ignored, as an absurd one is.
const minScrapeTimeout = 100 * time.Millisecond

// timeout is the module's timeout, shortened to fit the scrape timeout
// Prometheus announces, less the offset. A header that is not a number of
// seconds Prometheus could mean (unparsable, NaN, infinite, zero or
// negative, below minScrapeTimeout) is ignored: the module's timeout
// applies. The result is always within (0, module].
func (h *Handler) timeout(r *http.Request, module time.Duration) time.Duration {
	v := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds")
	if v == "" || module <= 0 {
		return module
	}
	secs, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	// Compared as floats, before any conversion: a Duration cannot hold
	// NaN, and a huge value would overflow it into a negative one.
	if err != nil || math.IsNaN(secs) || secs < minScrapeTimeout.Seconds() {
		h.Logger.Debug("ignoring X-Prometheus-Scrape-Timeout-Seconds: not a usable number of seconds", "value", v)
		return module
	}
	offset := h.TimeoutOffset
	if offset == 0 {
		offset = 500 * time.Millisecond
	}
	if secs > offset.Seconds() {
		secs -= offset.Seconds()
	}
	if secs >= module.Seconds() {
		return module // +Inf and every other value beyond the module's
	}
	return time.Duration(secs * float64(time.Second))
}

func moduleNames(gen *Generation) []string {
	names := make([]string, 0, len(gen.Settings))
	for n := range gen.Settings {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
