package collector

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

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
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	var bytes int64
	b.ReportAllocs()
	for b.Loop() {
		if before != nil {
			b.StopTimer()
			before()
			b.StartTimer()
		}
		w := &discard{h: http.Header{}}
		h.ServeHTTP(w, req)
		bytes = w.n
	}
	b.ReportMetric(float64(bytes), "bytes/scrape")
}

func BenchmarkScrape10k(b *testing.B) {
	s := bench10k(b)
	self, err := NewSelfRegistry(fixtureStats)
	if err != nil {
		b.Fatal(err)
	}
	opts := promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}

	b.Run("fast/warm", func(b *testing.B) {
		h := NewExporter(s).Handler(self, opts)
		h.ServeHTTP(&discard{h: http.Header{}}, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		runScrape(b, h, nil, nil)
	})
	b.Run("fast/cold", func(b *testing.B) {
		h := NewExporter(s).Handler(self, opts)
		runScrape(b, h, nil, func() { renew(s) })
	})
	b.Run("fast/warm/gzip", func(b *testing.B) {
		h := NewExporter(s).Handler(self, opts)
		h.ServeHTTP(&discard{h: http.Header{}}, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		runScrape(b, h, map[string]string{"Accept-Encoding": "gzip"}, nil)
	})
	b.Run("gatherer/warm", func(b *testing.B) {
		h := promhttp.HandlerFor(NewExporter(s).Gatherer(self), opts)
		h.ServeHTTP(&discard{h: http.Header{}}, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		runScrape(b, h, nil, nil)
	})
	b.Run("registry/warm", func(b *testing.B) {
		reg := prometheus.NewRegistry()
		reg.MustRegister(NewExporter(s))
		h := promhttp.HandlerFor(prometheus.Gatherers{reg, self}, opts)
		h.ServeHTTP(&discard{h: http.Header{}}, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		runScrape(b, h, nil, nil)
	})
}

// BenchmarkCacheFootprint10k reports the heap the cache of 10,000 endpoints
// keeps (text path only: the dto metrics are made on first registry use).
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
		for f := range numFams {
			series += snap.count(f)
		}
		retained = m1.HeapAlloc - m0.HeapAlloc
		runtime.KeepAlive(exp)
	}
	b.ReportMetric(float64(series), "series")
	b.ReportMetric(float64(retained)/1e6, "cache-MB")
	b.ReportMetric(float64(retained)/float64(series), "cache-B/series")
}
