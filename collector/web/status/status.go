// Package status serves the status page for people: every probed target, its
// MX hosts in preference order and, for each address, the last result, the
// step timings, the banner, SIZE, STARTTLS and the certificate, the DNSSEC
// state and DANE verdict, the MTA-STS coverage, the relay check and how
// long ago it was probed, with a link to the address's last full
// transcript; and for each domain its MTA-STS policy and TLS-RPT record.
//
// The pages are rendered on the server with html/template from embedded
// templates and CSS: no external asset, no script, so they work on a
// machine without internet and under a strict Content-Security-Policy.
// Every link is relative, so the pages also work behind a reverse proxy
// that serves the exporter under a path of its own.
//
// Routes, relative to Options.Path (default /status):
//
//	/status                                      the overview, refreshing itself
//	/status?show=failing                         the overview of the failing targets only
//	/status/transcript?target=…&module=…&mx=…&ip=…  one address: steps, facts, transcript
//	/status/transcript.json?…                    the same as JSON (report.Document narrowed to it)
//	/status/report?target=…&module=…             the whole target as text (report.WriteText)
//	/status/report.json?target=…&module=…        the whole target as JSON (report.Document)
//
// module may be left out when the target is probed with one module only.
package status

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/dnsname"
	"github.com/mx-exporter/mx_exporter/collector/printable"
	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/report"
	"github.com/mx-exporter/mx_exporter/collector/store"
)

// DefaultRefreshSeconds is how often the overview reloads itself unless
// Options say otherwise.
const DefaultRefreshSeconds = 30

// Options configure the handler. The zero value is usable.
type Options struct {
	// Logger receives rendering errors; nil discards them.
	Logger *slog.Logger
	// Path is the URL path of the overview (default "/status"); the other
	// pages are below it. It is the path the handler is mounted at in the
	// exporter's mux, including any route prefix.
	Path string
	// RefreshSeconds is the overview's reload interval: 0 means
	// DefaultRefreshSeconds, a negative value turns reloading off.
	RefreshSeconds int
	// Now is the clock for "probed 12 s ago" and certificate days left;
	// nil means time.Now.
	Now func() time.Time
	// Title heads every page (default "mx_exporter").
	Title string
	// PageSize is how many targets the overview shows per page: 0 means
	// DefaultPageSize. The summary always counts them all.
	PageSize int
}

// DefaultPageSize keeps one overview page to a few hundred address rows:
// rendering every target of a 10,000-endpoint exporter on each automatic
// refresh would cost the exporter far more than a page that people read
// (BenchmarkOverview measures both) and give the browser a page nobody
// reads to the end.
const DefaultPageSize = 100

//go:embed templates/*.html templates/style.css
var files embed.FS

var (
	styleCSS  = mustRead("templates/style.css")
	styleHash = func() string {
		sum := sha256.Sum256([]byte(styleCSS))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}()
	// contentSecurityPolicy allows nothing but the one embedded style
	// sheet and the empty data: favicon: server-controlled text that slipped
	// through escaping could still not run or load anything.
	contentSecurityPolicy = "default-src 'none'; style-src " + styleHash +
		"; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

	overviewTmpl   = parse("templates/layout.html", "templates/overview.html", "templates/dane.html", "templates/policy.html")
	transcriptTmpl = parse("templates/layout.html", "templates/transcript.html", "templates/dane.html")
	problemTmpl    = parse("templates/layout.html", "templates/problem.html")
)

func mustRead(name string) string {
	b, err := files.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func parse(names ...string) *template.Template {
	return template.Must(template.New(path.Base(names[0])).Funcs(funcs).ParseFS(files, names...))
}

var funcs = template.FuncMap{
	"wbr": wbr,
}

// wbr escapes s and lets the browser break a long name after its dots,
// underscores and at signs rather than in the middle of a label.
func wbr(s string) template.HTML {
	var b strings.Builder
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '.', '_', '@':
			b.WriteString(template.HTMLEscapeString(s[start : i+1]))
			b.WriteString("<wbr>")
			start = i + 1
		}
	}
	b.WriteString(template.HTMLEscapeString(s[start:]))
	return template.HTML(b.String())
}

// handler serves the status pages from a store.
type handler struct {
	st      *store.Store
	opts    Options
	logger  *slog.Logger
	refresh int
	base    string // last element of Path: "status"
}

// NewHandler returns the status pages of st. Mount it at Options.Path and
// at Options.Path+"/":
//
//	h := status.NewHandler(st, status.Options{})
//	mux.Handle("/status", h)
//	mux.Handle("/status/", h)
func NewHandler(st *store.Store, opts Options) http.Handler {
	opts.Path = "/" + strings.Trim(opts.Path, "/")
	if opts.Path == "/" {
		opts.Path = "/status"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Title == "" {
		opts.Title = "mx_exporter"
	}
	h := &handler{st: st, opts: opts, logger: opts.Logger, base: path.Base(opts.Path)}
	if h.logger == nil {
		h.logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case opts.RefreshSeconds == 0:
		h.refresh = DefaultRefreshSeconds
	case opts.RefreshSeconds > 0:
		h.refresh = opts.RefreshSeconds
	}
	return h
}

// ServeHTTP routes the status pages.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "the status pages only answer GET and HEAD", http.StatusMethodNotAllowed)
		return
	}
	switch strings.TrimPrefix(r.URL.Path, h.opts.Path) {
	case "":
		h.overview(w, r)
	case "/":
		// Relative links from ".../status/" would point one level too
		// deep: send the browser to the canonical address. The Location
		// stays relative (http.Redirect would make it absolute), so that
		// the path prefix of a reverse proxy survives.
		w.Header().Set("Location", "../"+h.base)
		w.WriteHeader(http.StatusMovedPermanently)
	case "/transcript":
		h.transcript(w, r)
	case "/transcript.json":
		h.transcriptJSON(w, r)
	case "/report":
		h.reportText(w, r)
	case "/report.json":
		h.reportJSON(w, r)
	default:
		h.problem(w, r, http.StatusNotFound, "No such status page",
			"The status pages are the overview, transcript, transcript.json, report and report.json.")
	}
}

// layout is what every page's frame needs.
type layout struct {
	Title   string // of the document
	Heading string // of the site: Options.Title
	Refresh int    // seconds, 0 for none
	Home    string // relative link to the overview
	CSS     template.CSS
	Now     time.Time
}

func (h *handler) layout(title string, refresh int, home string) layout {
	return layout{
		Title: title + " · " + h.opts.Title, Heading: h.opts.Title, Refresh: refresh, Home: home,
		CSS: template.CSS(styleCSS), Now: h.opts.Now(),
	}
}

func (h *handler) overview(w http.ResponseWriter, r *http.Request) {
	now := h.opts.Now()
	q := r.URL.Query()
	failingOnly := q.Get("show") == "failing"
	pageNo, err := strconv.Atoi(q.Get("page"))
	if err != nil || pageNo < 1 {
		pageNo = 1 // absent or nonsense: the first page, which holds the failures
	}
	size := h.opts.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	page := buildOverview(h.st.Entries(), now, h.base+"/", failingOnly, pageNo, size)
	page.layout = h.layout("Status", h.refresh, h.base)
	h.render(w, http.StatusOK, overviewTmpl, page)
}

// find returns the entry of the target and module named in the query.
func (h *handler) find(w http.ResponseWriter, r *http.Request) (*store.Entry, bool) {
	q := r.URL.Query()
	target, module := q.Get("target"), q.Get("module")
	if target == "" {
		h.problem(w, r, http.StatusBadRequest, "Which target?",
			"Add ?target=NAME (and &module=NAME if the target is probed with several modules): the links on the status page do.")
		return nil, false
	}
	if module != "" {
		if e := h.st.Get(store.Key(target, module)); e != nil {
			return e, true
		}
	} else {
		var found []*store.Entry
		for _, e := range h.st.Entries() {
			if e.Target == target {
				found = append(found, e)
			}
		}
		switch len(found) {
		case 1:
			return found[0], true
		case 0:
		default:
			mods := make([]string, len(found))
			for i, e := range found {
				mods[i] = e.Module
			}
			h.problem(w, r, http.StatusBadRequest, "Which module?",
				fmt.Sprintf("%s is probed with the modules %s: add &module=NAME.", target, strings.Join(mods, ", ")))
			return nil, false
		}
	}
	names := make([]string, 0)
	for _, e := range h.st.Entries() {
		names = append(names, e.Target+" ("+e.Module+")")
	}
	known := "No target has been probed yet."
	if len(names) > 0 {
		known = "Targets with a result: " + strings.Join(names, ", ") + "."
	}
	what := target
	if module != "" {
		what += " with module " + module
	}
	h.problem(w, r, http.StatusNotFound, "Unknown target",
		fmt.Sprintf("There is no probe result for %s: it is not in the configuration, or its first probe has not finished yet. %s", what, known))
	return nil, false
}

// findAddress narrows the entry's report to the host and address of the query.
func (h *handler) findAddress(w http.ResponseWriter, r *http.Request) (*store.Entry, report.Document, bool) {
	e, ok := h.find(w, r)
	if !ok {
		return nil, report.Document{}, false
	}
	q := r.URL.Query()
	mx, ip := dnsname.Normalize(q.Get("mx")), q.Get("ip")
	doc := report.NewDocument(e.Report)
	var known []string
	for _, host := range doc.Hosts {
		for _, a := range host.Addresses {
			if host.Name == mx && a.IP == ip {
				host.Addresses = []report.Address{a}
				doc.Hosts = []report.Host{host}
				return e, doc, true
			}
			known = append(known, host.Name+" "+a.IP)
		}
	}
	msg := fmt.Sprintf("The last probe of %s has no dialogue with mx=%q ip=%q.", e.Target, mx, ip)
	if len(known) > 0 {
		msg += " It talked to: " + strings.Join(known, ", ") + "."
	} else {
		msg += " It talked to no address."
	}
	h.problem(w, r, http.StatusNotFound, "Unknown address", msg)
	return nil, report.Document{}, false
}

func (h *handler) transcript(w http.ResponseWriter, r *http.Request) {
	e, doc, ok := h.findAddress(w, r)
	if !ok {
		return
	}
	page := newTranscriptPage(e, doc, h.opts.Now(), r.URL.Query())
	page.layout = h.layout(page.Host.Name+" "+page.Addr.IP, 0, h.home(r))
	h.render(w, http.StatusOK, transcriptTmpl, page)
}

func (h *handler) transcriptJSON(w http.ResponseWriter, r *http.Request) {
	if _, doc, ok := h.findAddress(w, r); ok {
		h.writeJSON(w, doc)
	}
}

func (h *handler) reportText(w http.ResponseWriter, r *http.Request) {
	e, ok := h.find(w, r)
	if !ok {
		return
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# %s, module %s, probed %s (%s)\n\n", e.Target, e.Module,
		e.Taken.UTC().Format(time.RFC3339), ago(h.opts.Now().Sub(e.Taken)))
	if err := report.WriteText(&buf, e.Report, false); err != nil {
		h.logger.Error("cannot render the text report", "target", e.Target, "err", err)
		http.Error(w, "cannot render the report", http.StatusInternalServerError)
		return
	}
	h.secure(w)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write(buf.Bytes())
}

func (h *handler) reportJSON(w http.ResponseWriter, r *http.Request) {
	if e, ok := h.find(w, r); ok {
		h.writeJSON(w, report.NewDocument(e.Report))
	}
}

func (h *handler) writeJSON(w http.ResponseWriter, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		h.logger.Error("cannot encode the JSON report", "err", err)
		http.Error(w, "cannot encode the report", http.StatusInternalServerError)
		return
	}
	h.secure(w)
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(b, '\n'))
}

// problemPage explains an error to a person.
type problemPage struct {
	layout
	Status  int
	Problem string
	Detail  string
}

// home is the relative link from r's page back to the overview.
func (h *handler) home(r *http.Request) string {
	depth := strings.Count(strings.TrimPrefix(r.URL.Path, h.opts.Path), "/")
	return strings.Repeat("../", depth) + h.base
}

func (h *handler) problem(w http.ResponseWriter, r *http.Request, status int, problem, detail string) {
	page := problemPage{layout: h.layout(problem, 0, h.home(r)), Status: status, Problem: problem, Detail: detail}
	h.render(w, status, problemTmpl, page)
}

// render executes t into a buffer first, so that a template error becomes a
// clean 500 rather than half a page. The page then goes through
// printable.Text: html/template escapes markup but lets control bytes and
// invalid UTF-8 through, and a server's EHLO parameters, reply text, TXT
// records or certificate names must show as \xNN, as in the text report.
func (h *handler) render(w http.ResponseWriter, status int, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		h.logger.Error("cannot render the status page", "template", t.Name(), "err", err)
		http.Error(w, "cannot render the status page", http.StatusInternalServerError)
		return
	}
	h.secure(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(printable.Text(buf.Bytes()))
}

func (h *handler) secure(w http.ResponseWriter) {
	w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
}

// addressQuery is the query of an address's pages.
func addressQuery(e *store.Entry, mx, ip string) string {
	return url.Values{"target": {e.Target}, "module": {e.Module}, "mx": {mx}, "ip": {ip}}.Encode()
}

func targetQuery(e *store.Entry) string {
	return url.Values{"target": {e.Target}, "module": {e.Module}}.Encode()
}

// failing reports whether the entry's target fails.
func failing(rep *probe.Report) bool { return rep == nil || !rep.Success() }

// sortEntries puts failing targets first, then by name and module.
func sortEntries(es []*store.Entry) {
	slices.SortStableFunc(es, func(a, b *store.Entry) int {
		fa, fb := failing(a.Report), failing(b.Report)
		switch {
		case fa && !fb:
			return -1
		case fb && !fa:
			return 1
		}
		if c := strings.Compare(a.Target, b.Target); c != 0 {
			return c
		}
		return strings.Compare(a.Module, b.Module)
	})
}
