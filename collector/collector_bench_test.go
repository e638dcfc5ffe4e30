package collector

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"syscall"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"

	"github.com/mx-exporter/mx_exporter/collector/store"
)

// discard is an http.ResponseWriter that counts and drops the body.
type discard struct {
	h http.Header
	n int64
}

func (d *discard) Header() http.Header { return d.h }
func (d *discard) WriteHeader(int)     {}
func (d *discard) Write(p []byte) (int, error) {
	d.n += int64(len(p))
	return len(p), nil
}

var _ io.Writer = (*discard)(nil)

// bench10k is 5,000 domains × 2 MX hosts × 1 address: 10,000 endpoints,
// a third of them with TLS, a fifth failing RCPT.
func bench10k(b *testing.B) *store.Store {
	b.Helper()
	s := store.New()
	for _, e := range syntheticEntries(5000, 2, 1) {
		s.Put(e)
	}
	return s
}

// renew replaces every report with a copy, as if all had just been probed:
// the next scrape finds a cold cache.
func renew(s *store.Store) {
	for _, e := range s.Entries() {
		ne := *e
		r := *e.Report
		ne.Report = &r
		s.Put(&ne)
	}
}

func runScrape(b *testing.B, h http.Handler, headers map[string]string, before func()) {
	b.Helper()
	runScrapeOf(b, h, "/metrics", headers, before)
}

// runScrapeOf is runScrape for another request target.
func runScrapeOf(b *testing.B, h http.Handler, target string, headers map[string]string, before func()) {
	b.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	var bytes int64
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		if before != nil {
			b.StopTimer()
			c := cpuTime()
			before()
			cpu += cpuTime() - c // not the scrape's
			b.StartTimer()
		}
		w := &discard{h: http.Header{}}
		h.ServeHTTP(w, req)
		bytes = w.n
	}
	b.ReportMetric(float64(bytes), "bytes/scrape")
	b.ReportMetric(float64(cpuTime()-cpu)/1e6/float64(b.N), "cpu-ms/op")
}

func BenchmarkScrape10k(b *testing.B) {
	s := bench10k(b)
	self, err := NewSelfRegistry(fixtureStats)
	if err != nil {
		b.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)

	b.Run("fast/warm", func(b *testing.B) {
		h := NewExporter(s).Handler(self, logger)
		h.ServeHTTP(&discard{h: http.Header{}}, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		runScrape(b, h, nil, nil)
	})
	b.Run("fast/cold", func(b *testing.B) {
		h := NewExporter(s).Handler(self, logger)
		runScrape(b, h, nil, func() { renew(s) })
	})
	b.Run("fast/warm/gzip", func(b *testing.B) {
		h := NewExporter(s).Handler(self, logger)
		h.ServeHTTP(&discard{h: http.Header{}}, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		runScrape(b, h, map[string]string{"Accept-Encoding": "gzip"}, nil)
	})
	b.Run("fast/warm/name-filter", func(b *testing.B) {
		h := NewExporter(s).Handler(self, logger)
		h.ServeHTTP(&discard{h: http.Header{}}, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		runScrapeOf(b, h, "/metrics?name[]=mx_probe_success&name[]=mx_smtp_size_limit_bytes", nil, nil)
	})
	for _, gz := range []bool{false, true} {
		name := "fast/warm/loopback"
		if gz {
			name += "/gzip"
		}
		b.Run(name, func(b *testing.B) {
			srv := httptest.NewServer(NewExporter(s).Handler(self, logger))
			defer srv.Close()
			tr := &http.Transport{DisableCompression: true}
			defer tr.CloseIdleConnections()
			get := func() int64 {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+"/metrics", nil)
				if gz {
					req.Header.Set("Accept-Encoding", "gzip")
				}
				resp, err := tr.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				defer resp.Body.Close()
				n, err := io.Copy(io.Discard, resp.Body)
				if err != nil {
					b.Fatal(err)
				}
				return n
			}
			get()
			var n int64
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				n = get()
			}
			b.ReportMetric(float64(n), "bytes/scrape")
			b.ReportMetric(float64(cpuTime()-cpu)/1e6/float64(b.N), "cpu-ms/op")
		})
	}
	b.Run("registry/warm", func(b *testing.B) {
		reg := prometheus.NewRegistry()
		reg.MustRegister(NewCollector(s))
		h := promhttp.HandlerFor(prometheus.Gatherers{reg, self}, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError})
		h.ServeHTTP(&discard{h: http.Header{}}, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		runScrape(b, h, nil, nil)
	})
}

// BenchmarkCacheFootprint10k reports the heap the cache of 10,000 endpoints
// keeps.
func BenchmarkCacheFootprint10k(b *testing.B) {
	s := bench10k(b)
	var series int
	var retained uint64
	for b.Loop() {
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		exp := NewExporter(s)
		snap := exp.refresh()
		runtime.GC()
		runtime.ReadMemStats(&m1)
		series = 0
		for f := range families {
			series += snap.counts[f]
		}
		retained = m1.HeapAlloc - m0.HeapAlloc
		runtime.KeepAlive(exp)
	}
	b.ReportMetric(float64(series), "series")
	b.ReportMetric(float64(retained)/(1<<20), "cache-MiB")
	b.ReportMetric(float64(retained)/float64(series), "cache-B/series")
}

// BenchmarkEncode10k times the text encoding of a warm cache on one core:
// the CPU a plain scrape costs, without HTTP.
func BenchmarkEncode10k(b *testing.B) {
	s := bench10k(b)
	exp := NewExporter(s)
	exp.refresh()
	format := expfmt.NewFormat(expfmt.TypeTextPlain)
	var buf []byte
	var n int
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		snap := exp.refresh()
		p := snap.plan(nil, nil)
		n = 0
		for c := range len(p.chunks) - 1 {
			var err error
			if buf, err = snap.encodeChunk(buf[:0], p, c, format); err != nil {
				b.Fatal(err)
			}
			n += len(buf)
		}
		p.release()
	}
	b.ReportMetric(float64(n), "bytes/scrape")
	b.ReportMetric(float64(cpuTime()-cpu)/1e6/float64(b.N), "cpu-ms/op")
}

// cpuTime is the CPU time the process used, user and system, in ns: with
// other work on the machine, a steadier figure than the wall time.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkBuild10k builds the cache of 10,000 endpoints on one goroutine:
// the CPU and garbage of cold scrapes (a quarter of the entries change
// between scrapes at a 60 s interval and a 15 s scrape interval).
func BenchmarkBuild10k(b *testing.B) {
	entries := bench10k(b).Entries()
	b.ReportAllocs()
	for b.Loop() {
		for _, e := range entries {
			buildEntry(&entrySeries{}, e)
		}
	}
}
