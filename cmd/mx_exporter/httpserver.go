package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

const (
	// readHeaderTimeout bounds reading a request's headers, and
	// readTimeout the whole request: a Prometheus scrape is a few hundred
	// bytes of headers and no body, so a client that takes this long is
	// not a scraper.
	readHeaderTimeout = 10 * time.Second
	readTimeout       = readHeaderTimeout
	// maxHeaderBytes is far above any scraper's headers (Prometheus' with
	// basic auth are well under a kilobyte) and far below net/http's
	// default megabyte, which each slow connection could make the server
	// buffer.
	maxHeaderBytes = 32 << 10
)

// httpLimits are the HTTP server's timeouts a user may need to change
// (--web.write-timeout, --web.idle-timeout).
type httpLimits struct {
	// writeTimeout is the time an answer may take from the end of its
	// request's headers; a /probe answer gets the longest probe on top.
	writeTimeout time.Duration
	// idleTimeout closes a keep-alive connection that sent no new request
	// for this long.
	idleTimeout time.Duration
}

// newHTTPServer is the daemon's HTTP server: handler behind the answer
// deadlines, with every timeout set, and idle connections closed early
// when the open ones would take the file descriptors the probes and new
// scrapes need. longestProbe is the longest a /probe may take with the
// config in force.
func newHTTPServer(handler http.Handler, limits httpLimits, longestProbe func() time.Duration, logger *slog.Logger) (*http.Server, error) {
	// Zero would not mean "none": net/http takes a zero idle timeout
	// from the read timeout, and a zero write deadline would be now.
	if limits.writeTimeout <= 0 {
		return nil, fmt.Errorf("--web.write-timeout must be positive, got %s", limits.writeTimeout)
	}
	if limits.idleTimeout <= 0 {
		return nil, fmt.Errorf("--web.idle-timeout must be positive, got %s", limits.idleTimeout)
	}
	conns := newConnReclaimer(fileLimit() / 2)
	return &http.Server{
		Handler: &answerDeadlines{
			next:         handler,
			writeTimeout: limits.writeTimeout,
			longestProbe: longestProbe,
		},
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		// The deadline before a handler runs; answerDeadlines sets each
		// request's own.
		WriteTimeout:   limits.writeTimeout,
		IdleTimeout:    limits.idleTimeout,
		MaxHeaderBytes: maxHeaderBytes,
		ConnState:      conns.track,
		// net/http's own complaints (a TLS handshake that failed, a
		// client that spoke plain HTTP to the TLS port) go through slog
		// like everything else, not to stderr in another format.
		ErrorLog: slog.NewLogLogger(logger.With("component", "http").Handler(), slog.LevelWarn),
	}, nil
}

// answerDeadlines gives each request its deadline to be answered by: the
// write timeout, plus for /probe the longest probe the config in force
// allows (the module timeouts: a /probe never waits longer than its
// module's), so that a slow probe is answered and a client that does not
// read its answer is cut off. The read deadline moves with it: net/http
// keeps reading the connection while the handler runs (to notice a client
// that went away), and a read deadline passing there would cancel the
// request's context, and with it the probe.
type answerDeadlines struct {
	next         http.Handler
	writeTimeout time.Duration
	longestProbe func() time.Duration
}

func (a *answerDeadlines) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d := a.writeTimeout
	if r.URL.Path == "/probe" {
		d += a.longestProbe()
	}
	deadline := time.Now().Add(d)
	rc := http.NewResponseController(w)
	// Both only fail on a ResponseWriter that hides the connection, where
	// the server's own timeouts stay in force.
	_ = rc.SetWriteDeadline(deadline)
	_ = rc.SetReadDeadline(deadline)
	a.next.ServeHTTP(w, r)
}

// getOrHead answers 405 to methods other than GET and HEAD: the pages and
// metrics are read-only, and a POST or DELETE that got an answer would
// suggest otherwise.
func getOrHead(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "use GET or HEAD", http.StatusMethodNotAllowed)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// fileLimit is the process' limit of open files (RLIMIT_NOFILE, as the Go
// runtime raised it at start), or 0 when unknown.
func fileLimit() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur > 1<<30 {
		return 0
	}
	return int(lim.Cur)
}

// connReclaimer keeps the HTTP side's connections within a share of the
// file descriptors: whenever more than max are open and one is idle, the
// one idle longest is closed, checked when a connection opens and when
// one becomes idle. Idle keep-alive connections cost a file descriptor
// each until the idle timeout; without this, enough of them leave none
// for a new scrape (accept fails and net/http retries) or for the probes'
// own connections. Checking when a connection becomes idle matters when
// the descriptors have run out already: no connection opens then, but
// those being answered become idle and give theirs back. Closing an idle
// connection is what its idle timeout would do anyway, and HTTP clients
// expect it.
type connReclaimer struct {
	max int // 0: no limit
	mu  sync.Mutex
	// open holds every open connection with the time it became idle;
	// zero while a request is read or answered.
	open map[net.Conn]time.Time
}

func newConnReclaimer(maxOpen int) *connReclaimer {
	return &connReclaimer{max: maxOpen, open: make(map[net.Conn]time.Time)}
}

// track is the server's ConnState hook.
func (c *connReclaimer) track(conn net.Conn, state http.ConnState) {
	var victim net.Conn
	c.mu.Lock()
	switch state {
	case http.StateNew, http.StateActive:
		c.open[conn] = time.Time{}
	case http.StateIdle:
		c.open[conn] = time.Now()
	case http.StateHijacked, http.StateClosed:
		delete(c.open, conn)
	}
	if (state == http.StateNew || state == http.StateIdle) && c.max > 0 && len(c.open) > c.max {
		victim = c.longestIdleLocked()
	}
	if victim != nil {
		// Forgotten now so that it is not picked twice; its StateClosed
		// comes later.
		delete(c.open, victim)
	}
	c.mu.Unlock()
	if victim != nil {
		// Not in this goroutine: StateNew is reported by the accept
		// loop, and closing a TLS connection writes an alert first.
		// Closing a connection whose goroutine waits for its next
		// request ends that goroutine, which reports StateClosed.
		go victim.Close()
	}
}

// longestIdleLocked is the open connection idle longest, or nil when none
// is idle.
func (c *connReclaimer) longestIdleLocked() net.Conn {
	var oldest net.Conn
	var since time.Time
	for conn, idle := range c.open {
		if !idle.IsZero() && (oldest == nil || idle.Before(since)) {
			oldest, since = conn, idle
		}
	}
	return oldest
}
