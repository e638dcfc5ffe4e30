package collector

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/store"
)

var update = flag.Bool("update", false, "rewrite testdata/metrics.golden")

const golden = "testdata/metrics.golden"

// scrape GETs /metrics from h as Prometheus would, uncompressed.
func scrape(t testing.TB, h http.Handler) string {
	t.Helper()
	return scrapeWith(t, h, nil)
}

// scrapeWith GETs /metrics with the given request headers and returns the
// body, gunzipped when it came compressed.
func scrapeWith(t testing.TB, h http.Handler, headers map[string]string) string {
	t.Helper()
	return scrapeTarget(t, h, "/metrics", headers)
}

// scrapeTarget is scrapeWith for another request target (a name[] query).
func scrapeTarget(t testing.TB, h http.Handler, target string, headers map[string]string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: want status 200, got %d: %s", rec.Code, rec.Body)
	}
	body := rec.Body.Bytes()
	if enc := rec.Header().Get("Content-Encoding"); enc != "" {
		if enc != "gzip" {
			t.Fatalf("scrape: want gzip or no Content-Encoding, got %q", enc)
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("scrape: gunzip: %v", err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			t.Fatalf("scrape: gunzip: %v", err)
		}
	}
	return rec.Header().Get("Content-Type") + "\n" + string(body)
}

var handlerOpts = promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}

// fastHandler serves exp as the daemon does: Exporter.Handler.
func fastHandler(exp *Exporter, self prometheus.Gatherer) http.Handler {
	return exp.Handler(self, handlerOpts)
}

// gathererHandler serves exp's Gatherer through promhttp.
func gathererHandler(exp *Exporter, self prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(exp.Gatherer(self), handlerOpts)
}

// registryHandler serves exp through a pedantic registry.
func registryHandler(t testing.TB, exp *Exporter, others ...prometheus.Collector) http.Handler {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	for _, c := range append([]prometheus.Collector{exp}, others...) {
		if err := reg.Register(c); err != nil {
			t.Fatalf("register: %v", err)
		}
	}
	return promhttp.HandlerFor(reg, handlerOpts)
}

func selfRegistry(t testing.TB) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(NewSelfCollector(fixtureStats)); err != nil {
		t.Fatalf("register self collector: %v", err)
	}
	return reg
}

func TestGolden(t *testing.T) {
	got := scrape(t, fastHandler(NewExporter(fixtureStore()), selfRegistry(t)))
	contentType, got, _ := strings.Cut(got, "\n")
	if want := "text/plain; version=0.0.4; charset=utf-8; escaping=underscores"; contentType != want {
		t.Fatalf("Content-Type: want %q, got %q", want, contentType)
	}
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update once to create it)", err)
	}
	if got != string(want) {
		t.Fatalf("exposition differs from %s (go test -update rewrites it):\n%s", golden, lineDiff(string(want), got))
	}
	// The same through testutil, against the registry path.
	if err := testutil.GatherAndCompare(gathererOf(t, NewExporter(fixtureStore()), NewSelfCollector(fixtureStats)), bytes.NewReader(want)); err != nil {
		t.Fatalf("GatherAndCompare: %v", err)
	}
}

func gathererOf(t testing.TB, cs ...prometheus.Collector) prometheus.Gatherer {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			t.Fatalf("register: %v", err)
		}
	}
	return reg
}

// lineDiff lists the lines only one side has.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for _, l := range w {
		if !slices.Contains(g, l) {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	if b.Len() == 0 {
		return "(same lines, different order)"
	}
	return b.String()
}

func TestLint(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    prometheus.Collector
	}{
		{"exporter", NewExporter(fixtureStore())},
		{"self", NewSelfCollector(fixtureStats)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			problems, err := testutil.CollectAndLint(tc.c)
			if err != nil {
				t.Fatalf("CollectAndLint: %v", err)
			}
			if len(problems) != 0 {
				t.Fatalf("want no lint problems, got %v", problems)
			}
		})
	}
}

func TestPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("promtool not found: %v", err)
		}
		t.Skipf("promtool not found: %v", err)
	}
	exposition, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(exposition)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Fatalf("promtool check metrics: want no findings, got %v:\n%s", err, out)
	}
}

// seriesOf returns every series of g as "name{l="v",…}" → value.
func seriesOf(t testing.TB, g prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.Metric {
			var ls []string
			for _, l := range m.Label {
				ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			out[mf.GetName()+"{"+strings.Join(ls, ",")+"}"] = m.GetGauge().GetValue()
		}
	}
	return out
}

// TestEndpointSeries checks the fixed per-endpoint set: series that exist
// for an endpoint exist from its first probe, 0 where nothing happened.
func TestEndpointSeries(t *testing.T) {
	got := seriesOf(t, NewExporter(fixtureStore()).Gatherer(nil))
	const (
		refused = `domain="down.example",ip="203.0.113.25",mx="mx.down.example"`
		banned  = `domain="banned.example",ip="198.51.100.7",mx="mx.banned.example"`
		mx1     = `domain="example.org",ip="192.0.2.10",mx="mx1.example.org"`
		mx2     = `domain="example.org",ip="192.0.2.9",mx="mx2.example.org"`
		relay   = `domain="relay.example",ip="198.51.100.5",mx="mx.relay.example"`
		sub     = `domain="smtp.example.net:587",ip="203.0.113.7",mx="smtp.example.net"`
	)
	for _, tc := range []struct {
		series string
		want   float64 // -1: must be absent
	}{
		// connect_refused: everything there, at 0.
		{`mx_probe_success{` + refused + `}`, 0},
		{`mx_probe_failure_info{` + refused + `,reason="connect_refused"}`, 1},
		{`mx_smtp_reply_code{command="banner",` + refused + `}`, 0},
		{`mx_smtp_reply_code{command="rcpt",` + refused + `}`, 0},
		{`mx_smtp_reply_code{command="relay",` + refused + `}`, 0},
		{`mx_smtp_step_duration_seconds{` + refused + `,step="connect"}`, 0.001},
		{`mx_smtp_step_duration_seconds{` + refused + `,step="tls_handshake"}`, 0},
		{`mx_smtp_step_duration_seconds{` + refused + `,step="helo"}`, -1},
		{`mx_smtp_step_duration_seconds{` + refused + `,step="vrfy"}`, -1},
		{`mx_smtp_recipient_accepted{` + refused + `,recipient="postmaster@example.org"}`, 0},
		{`mx_smtp_recipient_reply_code{` + refused + `,recipient="postmaster@example.org"}`, 0},
		{`mx_smtp_open_relay{` + refused + `}`, 0},
		{`mx_smtp_relay_check_conclusive{` + refused + `}`, 0},
		{`mx_smtp_extension{domain="down.example",extension="STARTTLS",ip="203.0.113.25",mx="mx.down.example",tls="false"}`, 0},
		{`mx_smtp_extension{domain="down.example",extension="STARTTLS",ip="203.0.113.25",mx="mx.down.example",tls="true"}`, -1},
		{`mx_tls_established{` + refused + `}`, 0},
		{`mx_tls_cert_verified{` + refused + `}`, -1},
		{`mx_smtp_banner_info{domain="down.example",hostname="",ip="203.0.113.25",mx="mx.down.example"}`, -1},
		{`mx_host_addresses{domain="down.example",mx="mx-noaddr.down.example"}`, 0},
		{`mx_host_addresses{domain="down.example",mx="mx.down.example"}`, 1},
		{`mx_target_success{domain="down.example"}`, 0},
		// 554 banner.
		{`mx_smtp_reply_code{command="banner",` + banned + `}`, 554},
		{`mx_smtp_enhanced_status_info{code="5.7.1",command="banner",` + banned + `}`, 1},
		{`mx_probe_failure_info{` + banned + `,reason="banner_rejected"}`, 1},
		{`mx_smtp_reply_code{command="quit",` + banned + `}`, 221},
		// healthy, with and without TLS.
		{`mx_probe_success{` + mx1 + `}`, 1},
		{`mx_probe_failure_info{` + mx1 + `,reason="connect_refused"}`, -1},
		{`mx_tls_established{` + mx1 + `}`, 1},
		{`mx_tls_cert_verified{` + mx1 + `}`, 1},
		{`mx_tls_cert_expiry_timestamp_seconds{` + mx1 + `}`, float64(time.Date(2025, 8, 30, 0, 0, 0, 0, time.UTC).Unix())},
		{`mx_tls_info{cipher="TLS_AES_128_GCM_SHA256",` + mx1 + `,version="TLS 1.3"}`, 1},
		{`mx_smtp_size_limit_bytes{` + mx1 + `}`, 52428800},
		{`mx_smtp_extension{domain="example.org",extension="AUTH",ip="192.0.2.10",mx="mx1.example.org",tls="false"}`, 0},
		{`mx_smtp_extension{domain="example.org",extension="AUTH",ip="192.0.2.10",mx="mx1.example.org",tls="true"}`, 1},
		{`mx_smtp_extension{domain="example.org",extension="STARTTLS",ip="192.0.2.10",mx="mx1.example.org",tls="true"}`, 0},
		{`mx_smtp_banner_info{domain="example.org",hostname="mx1.example.org",ip="192.0.2.10",mx="mx1.example.org"}`, 1},
		{`mx_smtp_relay_check_conclusive{` + mx1 + `}`, 1},
		{`mx_smtp_open_relay{` + mx1 + `}`, 0},
		{`mx_tls_established{` + mx2 + `}`, 0},
		{`mx_smtp_step_duration_seconds{` + mx2 + `,step="starttls"}`, 0},
		{`mx_smtp_size_limit_bytes{` + mx2 + `}`, 0},
		{`mx_record_info{domain="example.org",mx="mx2.example.org",preference="20"}`, 1},
		{`mx_records{domain="example.org"}`, 2},
		{`mx_probe_last_run_timestamp_seconds{` + mx2 + `}`, float64(t0.Add(131*ms).UnixMilli()) / 1e3},
		// open relay.
		{`mx_smtp_open_relay{` + relay + `}`, 1},
		{`mx_smtp_relay_check_conclusive{` + relay + `}`, 1},
		{`mx_smtp_reply_code{command="relay",` + relay + `}`, 250},
		{`mx_probe_failure_info{` + relay + `,reason="relay_open"}`, 1},
		// host target, STARTTLS off, HELO, VRFY, no recipients, no relay check.
		{`mx_smtp_step_duration_seconds{` + sub + `,step="helo"}`, 0.001},
		{`mx_smtp_reply_code{command="ehlo",` + sub + `}`, 502},
		{`mx_smtp_reply_code{command="vrfy",` + sub + `}`, 252},
		{`mx_smtp_reply_code{command="starttls",` + sub + `}`, -1},
		{`mx_smtp_reply_code{command="rcpt",` + sub + `}`, -1},
		{`mx_smtp_open_relay{` + sub + `}`, -1},
		{`mx_tls_established{` + sub + `}`, -1},
		{`mx_dns_lookup_success{domain="smtp.example.net:587"}`, -1},
		{`mx_host_addresses{domain="smtp.example.net:587",mx="smtp.example.net"}`, 1},
		{`mx_target_success{domain="smtp.example.net:587"}`, 1},
		// DNS outcomes.
		{`mx_dns_lookup_success{domain="nomail.example"}`, 1},
		{`mx_null_mx{domain="nomail.example"}`, 1},
		{`mx_records{domain="nomail.example"}`, 0},
		{`mx_target_success{domain="nomail.example"}`, 1},
		{`mx_dns_lookup_success{domain="gone.example"}`, 0},
		{`mx_dns_lookup_outcome_info{domain="gone.example",outcome="nxdomain"}`, 1},
		{`mx_target_success{domain="gone.example"}`, 0},
		// Named findings and facts (issue 9): present while they hold.
		{`mx_smtp_finding_info{domain="grey.example",finding="greylisted",ip="198.51.100.20",mx="alias.grey.example"}`, 1},
		{`mx_smtp_finding_info{domain="grey.example",finding="slow_step",ip="198.51.100.20",mx="alias.grey.example"}`, 1},
		{`mx_smtp_finding_info{domain="example.org",finding="greylisted",ip="192.0.2.9",mx="mx2.example.org"}`, -1},
		{`mx_probe_failure_info{domain="grey.example",ip="198.51.100.20",mx="alias.grey.example",reason="rcpt_deferred"}`, 1},
		{`mx_smtp_recipient_reply_code{domain="grey.example",ip="198.51.100.20",mx="alias.grey.example",recipient="postmaster@example.org"}`, 450},
		{`mx_smtp_relay_check_conclusive{domain="grey.example",ip="198.51.100.20",mx="alias.grey.example"}`, 0},
		{`mx_smtp_open_relay{domain="grey.example",ip="198.51.100.20",mx="alias.grey.example"}`, 0},
		{`mx_tls_starttls_failure_info{domain="grey.example",ip="198.51.100.20",mx="alias.grey.example",stage="refused"}`, 1},
		{`mx_tls_starttls_failure_info{domain="example.org",ip="192.0.2.10",mx="mx1.example.org",stage="refused"}`, -1},
		{`mx_smtp_greeting_first_line_seconds{domain="example.org",ip="192.0.2.10",mx="mx1.example.org"}`, 0.005},
		{`mx_smtp_greeting_first_line_seconds{domain="down.example",ip="203.0.113.25",mx="mx.down.example"}`, -1},
		{`mx_dns_finding_info{domain="grey.example",finding="null_mx_mixed"}`, 1},
		{`mx_host_finding_info{domain="grey.example",finding="mx_cname",mx="alias.grey.example"}`, 1},
		{`mx_host_finding_info{domain="grey.example",finding="special_address",mx="alias.grey.example"}`, 1},
		{`mx_host_finding_info{domain="grey.example",finding="mx_ip_literal",mx="192.0.2.1"}`, 1},
		// An implicit MX is no MX record: mx_records and mx_record_info agree.
		{`mx_records{domain="implicit.example"}`, 0},
		{`mx_implicit_mx{domain="implicit.example"}`, 1},
		{`mx_record_info{domain="implicit.example",mx="implicit.example",preference="0"}`, -1},
		{`mx_probe_success{domain="implicit.example",ip="192.0.2.44",mx="implicit.example"}`, 1},
		{`mx_exporter_endpoints{}`, 9},
		{`mx_exporter_duplicate_targets{}`, 0},
	} {
		v, ok := got[tc.series]
		switch {
		case tc.want < 0 && ok:
			t.Fatalf("%s: want absent, got %v", tc.series, v)
		case tc.want >= 0 && !ok:
			t.Fatalf("%s: want %v, got no such series", tc.series, tc.want)
		case tc.want >= 0 && v != tc.want:
			t.Fatalf("%s: want %v, got %v", tc.series, tc.want, v)
		}
	}
	// Remote-controlled text never becomes a label.
	for s := range got {
		for _, text := range []string{"not welcome", "Relay access denied", "greets you", "ESMTP", "CN="} {
			if strings.Contains(s, text) {
				t.Fatalf("series %s carries server text %q", s, text)
			}
		}
	}
}

// TestFastPathEqualsRegistry: the Gatherer must serve exactly what a
// registry would, for every kind of store.
func TestFastPathEqualsRegistry(t *testing.T) {
	dup := fixtureEntries()
	other := *dup[0]
	other.Key, other.Module = store.Key(other.Target, "zzz"), "zzz"
	dup = append(dup, &other)

	for _, tc := range []struct {
		name    string
		entries []*store.Entry
	}{
		{"empty", nil},
		{"fixture", fixtureEntries()},
		{"duplicate target in two modules", dup},
		{"synthetic 150 domains (parallel build)", syntheticEntries(150, 2, 2)},
		{"label values to escape", oddEntries()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := store.New()
			for _, e := range tc.entries {
				s.Put(e)
			}
			exp := NewExporter(s)
			self := selfRegistry(t)
			reg := registryHandler(t, exp, NewSelfCollector(fixtureStats))
			for _, h := range []struct {
				name    string
				headers map[string]string
			}{
				{"text", nil},
				{"text, gzip", map[string]string{"Accept-Encoding": "gzip"}},
				{"text as Prometheus asks", map[string]string{
					"Accept":          "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1",
					"Accept-Encoding": "gzip",
				}},
				{"protobuf", map[string]string{"Accept": "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3"}},
			} {
				for _, target := range []string{
					"/metrics",
					// name[] picks families of ours and of self, once each
					// however often named; an unknown name picks nothing.
					"/metrics?name[]=mx_probe_success&name[]=mx_exporter_probes_total&name[]=mx_probe_success&name[]=mx_tls_info",
					"/metrics?name[]=no_such_metric",
				} {
					want := scrapeTarget(t, reg, target, h.headers)
					for _, path := range []struct {
						name string
						h    http.Handler
					}{
						{"Handler", fastHandler(exp, self)},
						{"Gatherer", gathererHandler(exp, self)},
						{"Handler, cold cache", fastHandler(NewExporter(s), self)},
					} {
						if got := scrapeTarget(t, path.h, target, h.headers); got != want {
							t.Fatalf("%s, %s, %s: the exposition differs from the registry's:\n%s", h.name, target, path.name, lineDiff(want, got))
						}
					}
				}
			}
		})
	}
}

func TestDuplicateTargets(t *testing.T) {
	entries := fixtureEntries()
	other := *entries[0]
	other.Key, other.Module = store.Key(other.Target, "zzz"), "zzz"
	other.Report = domainReport("example.org", t0, &dnsmx.Domain{Outcome: dnsmx.OutcomeServFail})
	got := seriesOf(t, NewExporter(StaticEntries(append(entries, &other))).Gatherer(nil))
	for _, tc := range []struct {
		series string
		want   float64
	}{
		{`mx_exporter_duplicate_targets{}`, 1},
		{`mx_dns_lookup_success{domain="example.org"}`, 1}, // module "default" wins over "zzz"
	} {
		if v, ok := got[tc.series]; !ok || v != tc.want {
			t.Fatalf("%s: want %v, got %v (present %v)", tc.series, tc.want, v, ok)
		}
	}
}

// TestSeriesVanish: series follow the store, never linger.
func TestSeriesVanish(t *testing.T) {
	entries := fixtureEntries()
	example := entries[0]
	// A newer report of example.org: mx2 gone from DNS, mx1 lost its IPv6 address.
	newer := *example
	newer.Report = domainReport("example.org", t0.Add(time.Minute), &dnsmx.Domain{Outcome: dnsmx.OutcomeAnswer},
		host("mx1.example.org", 10, healthy("mx1.example.org", "192.0.2.10", t0.Add(time.Minute), true)))
	newer.Taken = t0.Add(time.Minute + time.Second)

	for _, tc := range []struct {
		name   string
		change func(s *store.Store)
		gone   []string // substrings no series may contain any more
		kept   []string // series that must still be there
	}{
		{
			name:   "entry removed",
			change: func(s *store.Store) { s.Retain(func(k string) bool { return k != example.Key }) },
			gone:   []string{`domain="example.org"`},
			kept:   []string{`mx_target_success{domain="relay.example"}`},
		},
		{
			name:   "MX host and address vanish",
			change: func(s *store.Store) { s.Put(&newer) },
			gone:   []string{`mx="mx2.example.org"`, `ip="2001:db8::10"`},
			kept: []string{
				`mx_probe_success{domain="example.org",ip="192.0.2.10",mx="mx1.example.org"}`,
				`mx_records{domain="example.org"}`,
			},
		},
		{
			name:   "all removed",
			change: func(s *store.Store) { s.Retain(func(string) bool { return false }) },
			gone:   []string{`domain=`},
			kept:   []string{`mx_exporter_endpoints{}`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := store.New()
			for _, e := range entries {
				s.Put(e)
			}
			exp := NewExporter(s)
			g := exp.Gatherer(nil)
			before := seriesOf(t, g)
			for _, sub := range tc.gone {
				if !hasSeries(before, sub) {
					t.Fatalf("before the change: want a series with %s, got none", sub)
				}
			}
			tc.change(s)
			after := seriesOf(t, g)
			for _, sub := range tc.gone {
				if hasSeries(after, sub) {
					t.Fatalf("after the change: want no series with %s, got some", sub)
				}
			}
			for _, k := range tc.kept {
				if _, ok := after[k]; !ok {
					t.Fatalf("after the change: want %s, got none", k)
				}
			}
			exp.mu.Lock()
			cached := len(exp.cache)
			exp.mu.Unlock()
			if want := s.Len(); cached != want {
				t.Fatalf("cache: want %d reports (one per entry), got %d", want, cached)
			}
			// The registry path agrees.
			if fast, slow := scrape(t, fastHandler(exp, nil)), scrape(t, registryHandler(t, exp)); fast != slow {
				t.Fatalf("after the change, fast and registry paths differ:\n%s", lineDiff(slow, fast))
			}
		})
	}
}

func hasSeries(m map[string]float64, sub string) bool {
	for k := range m {
		if strings.Contains(k, sub) {
			return true
		}
	}
	return false
}

// TestCacheReuse: a report is built once, a new report is built again.
func TestCacheReuse(t *testing.T) {
	s := fixtureStore()
	exp := NewExporter(s)
	first := exp.refresh()
	second := exp.refresh()
	for i := range first.entries {
		if first.entries[i] != second.entries[i] {
			t.Fatalf("entry %s: want the cached series on the second scrape, got a rebuild", first.entries[i].target)
		}
	}
	e := *s.Entries()[0]
	s.Put(&e) // same report, new entry (e.g. settings changed on reload)
	third := exp.refresh()
	if third.entries[0] == second.entries[0] {
		t.Fatalf("want a rebuild for a new entry, got the cached series")
	}
}

// TestConcurrentScrapes runs scrapes of both paths while the store changes;
// run it with -race.
func TestConcurrentScrapes(t *testing.T) {
	s := store.New()
	entries := syntheticEntries(50, 2, 1)
	for _, e := range entries {
		s.Put(e)
	}
	exp := NewExporter(s)
	handlers := []http.Handler{fastHandler(exp, selfRegistry(t)), gathererHandler(exp, nil), registryHandler(t, exp)}

	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			e := *entries[i%len(entries)]
			r := *e.Report
			r.Start = r.Start.Add(time.Duration(i) * time.Second)
			e.Report = &r
			s.Put(&e)
			if i%7 == 0 {
				s.Retain(func(k string) bool { return k != entries[(i/7)%len(entries)].Key })
			}
		}
	})
	errs := make(chan error, 9)
	var scrapers sync.WaitGroup
	for i := range 9 {
		h := handlers[i%len(handlers)]
		scrapers.Go(func() {
			for range 10 {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
				if rec.Code != http.StatusOK {
					errs <- fmt.Errorf("scrape: want 200, got %d: %s", rec.Code, rec.Body)
					return
				}
			}
		})
	}
	scrapers.Wait()
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestSelfRegistry(t *testing.T) {
	reg, err := NewSelfRegistry(fixtureStats)
	if err != nil {
		t.Fatalf("NewSelfRegistry: %v", err)
	}
	got := scrape(t, fastHandler(NewExporter(fixtureStore()), reg))
	for _, want := range []string{"mx_exporter_build_info{", "go_goroutines ", "mx_exporter_probes_total{result=\"failure\"} 7", "mx_probe_success{"} {
		if !strings.Contains(got, want) {
			t.Fatalf("want a line with %q in the exposition, got none", want)
		}
	}
}

// TestGatherConflict: a family exported twice is an error, not a broken
// exposition.
func TestGatherConflict(t *testing.T) {
	self := prometheus.NewRegistry()
	self.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "mx_exporter_endpoints", Help: "twice"}))
	_, err := NewExporter(fixtureStore()).Gatherer(self).Gather()
	if err == nil || !strings.Contains(err.Error(), "mx_exporter_endpoints") {
		t.Fatalf("want an error naming mx_exporter_endpoints, got %v", err)
	}
}

// TestHostileText: label values stay bounded and valid whatever a server sends.
func TestHostileText(t *testing.T) {
	r := healthy("mx.hostile.example", "192.0.2.66", t0, true)
	r.BannerHostname = "evil\" name{}"
	r.Steps[1].Reply.Enhanced = "5.7.1 owned"
	r.TLS.Version = "TLS \xff"
	e := entry("hostile.example", "default", fullModule, domainReport("hostile.example", t0, &dnsmx.Domain{Outcome: "weird"},
		host("mx.hostile.example", 10, r)))
	exp := NewExporter(StaticEntries{e})
	got := seriesOf(t, exp.Gatherer(nil))
	for s := range got {
		if strings.Contains(s, "evil") || strings.Contains(s, "owned") {
			t.Fatalf("hostile text in series %s", s)
		}
	}
	if _, ok := got[`mx_dns_lookup_outcome_info{domain="hostile.example",outcome="error"}`]; !ok {
		t.Fatalf("unknown DNS outcome: want outcome=\"error\", got %v", got)
	}
	if fast, slow := scrape(t, fastHandler(exp, nil)), scrape(t, registryHandler(t, exp)); fast != slow {
		t.Fatalf("fast and registry paths differ:\n%s", lineDiff(slow, fast))
	}
}

// syntheticEntries makes n domains with hosts MX hosts of perHost
// addresses; every third MX host has TLS, every fifth address fails.
func syntheticEntries(n, hosts, perHost int) []*store.Entry {
	out := make([]*store.Entry, 0, n)
	for d := range n {
		domain := fmt.Sprintf("d%05d.example", d)
		var hrs []probe.HostReport
		for h := range hosts {
			name := fmt.Sprintf("mx%d.%s", h+1, domain)
			var rs []*smtp.Result
			for a := range perHost {
				i := (d*hosts+h)*perHost + a
				ip := fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
				r := healthy(name, ip, t0.Add(time.Duration(i)*ms), (d+h)%3 == 0)
				if i%5 == 4 {
					r.Success, r.Reason = false, smtp.ReasonRcptRejected
					r.Recipients[0].Accepted, r.Recipients[0].Reply = false, reply(550, "5.1.1", "User unknown")
				}
				rs = append(rs, r)
			}
			hrs = append(hrs, host(name, uint16(10*(h+1)), rs...))
		}
		out = append(out, entry(domain, "default", fullModule, domainReport(domain, t0, &dnsmx.Domain{Outcome: dnsmx.OutcomeAnswer}, hrs...)))
	}
	return out
}

// TestHandlerDelegates: the Handler's answer equals the registry's for
// other formats and options (served by promhttp) and for name[] (served by
// the text path).
func TestHandlerDelegates(t *testing.T) {
	exp := NewExporter(fixtureStore())
	for _, tc := range []struct {
		name   string
		target string
		opts   promhttp.HandlerOpts
		accept string
	}{
		{"name filter", "/metrics?name[]=mx_probe_success&name[]=mx_tls_info", handlerOpts, ""},
		{"OpenMetrics", "/metrics", promhttp.HandlerOpts{EnableOpenMetrics: true}, "application/openmetrics-text;version=1.0.0"},
		{"text despite OpenMetrics enabled", "/metrics", promhttp.HandlerOpts{EnableOpenMetrics: true}, "text/plain;version=0.0.4"},
		{"uncompressed only", "/metrics", promhttp.HandlerOpts{DisableCompression: true}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			get := func(h http.Handler) string {
				rec := httptest.NewRecorder()
				req := httptest.NewRequest(http.MethodGet, tc.target, nil)
				req.Header.Set("Accept", tc.accept)
				req.Header.Set("Accept-Encoding", "gzip")
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					t.Fatalf("want status 200, got %d: %s", rec.Code, rec.Body)
				}
				body := rec.Body.Bytes()
				if rec.Header().Get("Content-Encoding") == "gzip" {
					zr, err := gzip.NewReader(bytes.NewReader(body))
					if err != nil {
						t.Fatal(err)
					}
					if body, err = io.ReadAll(zr); err != nil {
						t.Fatal(err)
					}
				}
				return fmt.Sprint(rec.Header()) + "\n" + string(body)
			}
			reg := prometheus.NewPedanticRegistry()
			reg.MustRegister(exp)
			want := get(promhttp.HandlerFor(reg, tc.opts))
			if got := get(exp.Handler(nil, tc.opts)); got != want {
				t.Fatalf("Handler and registry differ:\n%s", lineDiff(want, got))
			}
		})
	}
}

// TestAppendFloat: the text path formats values as expfmt does, which is
// strconv's shortest 'g' but for a few special values.
func TestAppendFloat(t *testing.T) {
	values := []float64{
		0, 1, -1, 2, 0.5, 0.1, 0.001, 0.0001, 0.00001, 1e-9, 3e-9, 123456, 999999, 1e6, -1e6, 1234567,
		1e12, 1e15, 1e21, 1e22, 1.5e300, 5e-324, math.MaxFloat64, math.SmallestNonzeroFloat64,
		0.12345678912, 52428800, 1.7487756e+09, 1748775600.131, 999999.999999999, 0.000099999,
		math.Inf(1), math.Inf(-1), math.NaN(), math.Copysign(0, -1), math.Nextafter(0.1, 1), math.Nextafter(1e6, 0),
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		ns := time.Duration(rnd.Int64N(int64(1000 * time.Second)))
		ms := time.UnixMilli(rnd.Int64N(1 << 42))
		values = append(values,
			ns.Seconds(), -ns.Seconds(), (ns / time.Microsecond * time.Microsecond).Seconds(),
			(ns / time.Millisecond * time.Millisecond).Seconds(), unixSeconds(ms),
			float64(rnd.Int64N(1<<53))/1e9, float64(rnd.Int64N(1<<40))/1e3,
			rnd.Float64(), rnd.NormFloat64()*1e6, math.Float64frombits(rnd.Uint64()),
			math.Pow(10, float64(rnd.IntN(40)-20))*float64(rnd.IntN(1000)),
		)
	}
	for _, v := range values {
		var want []byte
		switch {
		case math.IsNaN(v):
			want = []byte("NaN")
		case math.IsInf(v, 1):
			want = []byte("+Inf")
		case v == 0:
			want = []byte("0")
		default:
			want = strconv.AppendFloat(nil, v, 'g', -1, 64)
		}
		if got := appendFloat(nil, v); string(got) != string(want) {
			t.Fatalf("appendFloat(%b): want %s, got %s", v, want, got)
		}
	}
}

// oddEntries have label values the exposition escapes, and values whose
// order changes when escaped (a quote sorts before '#', its escape after).
func oddEntries() []*store.Entry {
	mod := fullModule
	mod.Recipients = []string{`x#y@example.org`, `x"y@example.org`, `x\y@example.org`, "x\ny@example.org"}
	var out []*store.Entry
	for _, target := range []string{`we"ird.example`, `we#ird.example`, `we\ird.example`, "we\nird.example", "we\xffird.example"} {
		r := healthy(`mx"1.example`, "192.0.2.1", t0, true)
		r.Recipients = append(r.Recipients, smtp.Recipient{Address: `x"y@example.org`, Reply: reply(550, "5.1.1", "no"), Accepted: false})
		r2 := healthy(`mx#1.example`, "192.0.2.2", t0, false)
		out = append(out, entry(target, "default", mod, domainReport(target, t0, &dnsmx.Domain{Outcome: dnsmx.OutcomeAnswer},
			host(`mx"1.example`, 10, r), host(`mx#1.example`, 20, r2), host(`mx\\1.example`, 30))))
	}
	return out
}

// TestWriteTextError: a client that goes away mid-scrape ends the
// encoding and returns its error.
func TestWriteTextError(t *testing.T) {
	s := store.New()
	for _, e := range syntheticEntries(150, 2, 2) {
		s.Put(e)
	}
	snap := NewExporter(s).refresh()
	for _, gz := range []bool{false, true} {
		for _, n := range []int{0, 5, 100 << 10} {
			if err := snap.writeText(&failAfter{n}, nil, nil, expfmt.NewFormat(expfmt.TypeTextPlain), gz); err != io.ErrClosedPipe {
				t.Fatalf("gzip %v, failing after %d bytes: want %v, got %v", gz, n, io.ErrClosedPipe, err)
			}
		}
	}
}

// TestCacheKeepsNoReport: a report the store has replaced is not kept alive
// by the cache until the next scrape.
func TestCacheKeepsNoReport(t *testing.T) {
	s := fixtureStore()
	exp := NewExporter(s)
	scrape(t, fastHandler(exp, nil))
	old := s.Entries()[0]
	gone := make(chan struct{})
	runtime.AddCleanup(old.Report, func(c chan struct{}) { close(c) }, gone)
	ne := *old
	r := *old.Report
	ne.Report = &r
	s.Put(&ne)
	old = nil
	for range 20 {
		runtime.GC()
		select {
		case <-gone:
			runtime.KeepAlive(exp)
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatal("the replaced report is still alive")
}

// TestMergeSort: the builder's sort of a family's series, which come in
// ascending runs, against slices.SortFunc.
// TestInternedSetsFreed: a label set made for one report (a server's odd
// enhanced status code) goes when no cached entry has it any more.
func TestInternedSetsFreed(t *testing.T) {
	r := healthy("mx.odd.example", "192.0.2.77", t0, false)
	r.Steps[len(r.Steps)-1].Reply.Enhanced = "4.9.321"
	s := StaticEntries{entry("odd.example", "default", fullModule, domainReport("odd.example", t0, &dnsmx.Domain{Outcome: dnsmx.OutcomeAnswer},
		host("mx.odd.example", 10, r)))}
	key := dynKey{kind: dynEnhanced, a: "4.9.321", b: smtp.StepQuit}
	has := func() bool {
		interned.RLock()
		defer interned.RUnlock()
		_, ok := interned.m[key]
		return ok
	}
	if got := scrape(t, fastHandler(NewExporter(s), nil)); !strings.Contains(got, `code="4.9.321",command="quit"`) || !has() {
		t.Fatalf("want the odd code exported and interned")
	}
	for range 50 {
		runtime.GC()
		if !has() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the label set is still interned")
}
