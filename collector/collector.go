// Package collector is the Prometheus side: it turns the latest report of
// every stored entry into series. The catalogue (metrics.go) lists the
// families, emit (emit.go) says which series a report yields, and two sinks
// take them:
//
//   - Collector, a plain prometheus.Collector of const metrics made at each
//     Collect, for a registry: /probe and the tests.
//   - Exporter, which keeps the series of each report in compact form
//     (cache.go) and serves /metrics from it (handler.go), at a fraction of
//     a registry's cost (BenchmarkScrape10k compares them).
//
// Every series comes from the store at scrape time (never direct
// instrumentation), so the series of a target, MX host or address vanish
// with it.
package collector

import (
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"weak"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/store"
)

// Source gives the entries to export: a store.Store, or StaticEntries.
type Source interface {
	Entries() []*store.Entry
}

// StaticEntries is a fixed Source, e.g. the one report of a /probe request.
type StaticEntries []*store.Entry

// Entries returns the entries.
func (s StaticEntries) Entries() []*store.Entry { return s }

// exported returns the entries to export, by target, and how many it left
// out because another module probes the same target: their series would
// have the same labels. The first module (by name) wins.
func exported(entries []*store.Entry) (out []*store.Entry, duplicates int) {
	out = make([]*store.Entry, 0, len(entries))
	for _, en := range entries {
		if en != nil && en.Report != nil {
			out = append(out, en)
		}
	}
	byTarget := func(a, b *store.Entry) int { return strings.Compare(a.Target, b.Target) }
	if !slices.IsSortedFunc(out, byTarget) { // a store's are, by key
		slices.SortStableFunc(out, byTarget)
	}
	out = slices.CompactFunc(out, func(a, b *store.Entry) bool {
		if a.Target == b.Target {
			duplicates++
			return true
		}
		return false
	})
	return out, duplicates
}

// Collector is a prometheus.Collector of a Source's series.
type Collector struct{ src Source }

// NewCollector returns a Collector of src's entries.
func NewCollector(src Source) *Collector { return &Collector{src: src} }

// Describe sends the descriptors of every family of the catalogue.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range families {
		ch <- f.desc
	}
}

// Collect sends every series as a const metric.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	entries, duplicates := exported(c.src.Entries())
	s := &constSink{ch: ch}
	endpoints := 0
	for _, en := range entries {
		endpoints += emit(en, s)
	}
	s.subject("", "", "")
	s.series(famEndpoints, float64(endpoints), nil)
	s.series(famDuplicateTargets, float64(duplicates), nil)
}

// constSink is the sink of Collector.
type constSink struct {
	ch     chan<- prometheus.Metric
	subj   [slotOther]string
	values []string
}

func (s *constSink) subject(domain, mx, ip string) { s.subj = [slotOther]string{domain, mx, ip} }

func (s *constSink) series(f fam, v float64, labels []string) {
	def := families[f]
	s.values = s.values[:0]
	for _, sl := range def.slots {
		switch {
		case sl != slotOther:
			s.values = append(s.values, s.subj[sl])
		case len(labels) > 0:
			s.values, labels = append(s.values, labels[0]), labels[1:]
		}
	}
	s.values = append(s.values, labels...) // too many or too few: the metric says so
	m, err := prometheus.NewConstMetric(def.desc, prometheus.GaugeValue, v, s.values...)
	if err != nil {
		m = prometheus.NewInvalidMetric(def.desc, err)
	}
	s.ch <- m
}

// Exporter keeps the series of a Source's entries in compact form, for
// Handler. It is safe for concurrent scrapes.
type Exporter struct {
	src Source

	mu sync.Mutex
	// cache has the series of the reports of the last scrape. Its keys are
	// weak: a report the store has replaced is not kept alive until the
	// next scrape.
	cache map[weak.Pointer[probe.Report]]*entrySeries
}

// NewExporter returns an Exporter of src's entries.
func NewExporter(src Source) *Exporter {
	return &Exporter{src: src, cache: map[weak.Pointer[probe.Report]]*entrySeries{}}
}

// snapshot is what one scrape exports.
type snapshot struct {
	entries []*entrySeries // in target order
	own     []ownSeries    // by family
	counts  []int          // series of each family
}

// ownSeries is the one unlabelled series of a family of the Exporter's own.
type ownSeries struct {
	ok bool
	v  float64
}

// refresh reads the source and brings the cache up to date: series of new
// reports are built, those of reports gone from the source are dropped.
func (e *Exporter) refresh() *snapshot {
	entries, duplicates := exported(e.src.Entries())
	s := &snapshot{
		entries: make([]*entrySeries, len(entries)),
		own:     make([]ownSeries, len(families)),
		counts:  make([]int, len(families)),
	}

	e.mu.Lock()
	next := make(map[weak.Pointer[probe.Report]]*entrySeries, len(entries))
	var todo []int // entries whose series are still to build
	for i, en := range entries {
		report, entry := weak.Make(en.Report), weak.Make(en)
		es := e.cache[report]
		if es == nil || es.entry != entry {
			es = &entrySeries{entry: entry}
			todo = append(todo, i)
		}
		next[report] = es
		s.entries[i] = es
	}
	parallel(len(todo), func(k int) { buildEntry(s.entries[todo[k]], entries[todo[k]]) })
	e.cache = next
	e.mu.Unlock()

	endpoints := 0
	for _, es := range s.entries {
		endpoints += es.endpoints
		for f := range families {
			s.counts[f] += es.count(fam(f))
		}
	}
	s.own[famEndpoints] = ownSeries{true, float64(endpoints)}
	s.own[famDuplicateTargets] = ownSeries{true, float64(duplicates)}
	s.counts[famEndpoints]++
	s.counts[famDuplicateTargets]++
	return s
}

// parallel calls do(k) for k in [0, n), on all CPUs when n is large (the
// first scrape after start).
func parallel(n int, do func(k int)) {
	workers := min(runtime.GOMAXPROCS(0), n/64)
	if workers <= 1 {
		for k := range n {
			do(k)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				k := int(next.Add(1)) - 1
				if k >= n {
					return
				}
				do(k)
			}
		})
	}
	wg.Wait()
}
