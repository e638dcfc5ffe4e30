// Package collector turns the latest probe reports of the store into
// Prometheus metrics. It is the only package that knows about Prometheus.
//
// Every series is built from the store at scrape time (never direct
// instrumentation), so the series of a target, MX host or address vanish
// with it. The series of one report are built once, when a scrape first
// sees the report, and cached with their text encoding; a scrape assembles
// the cached series. Three ways to expose them, all giving the same
// exposition byte for byte:
//
//   - Exporter.Handler serves /metrics. The Prometheus text format is
//     copied from the cached text (tens of milliseconds for 10,000
//     endpoints); other formats go through promhttp and the Gatherer.
//   - Exporter.Gatherer returns the cached series as metric families,
//     skipping the registry's per-series checks (about 2 µs per series).
//   - Exporter is a prometheus.Collector, for a registry (tests, /probe).
package collector

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/mx-exporter/mx_exporter/collector/prober"
	"github.com/mx-exporter/mx_exporter/collector/store"
)

// Source gives the entries to export, sorted by key (as store.Store does).
type Source interface {
	Entries() []*store.Entry
}

// StaticEntries is a fixed Source, e.g. the one report of a /probe request.
type StaticEntries []*store.Entry

// Entries returns the entries sorted by target.
func (s StaticEntries) Entries() []*store.Entry {
	return slices.SortedStableFunc(slices.Values(s), compareTarget)
}

// Exporter exports the latest report of every entry of a Source. It is
// safe for concurrent scrapes.
type Exporter struct {
	src Source

	mu    sync.Mutex
	cache map[*prober.Report]*entrySeries // series of the reports of the last scrape
}

// NewExporter returns an Exporter of src's entries.
func NewExporter(src Source) *Exporter {
	return &Exporter{src: src, cache: map[*prober.Report]*entrySeries{}}
}

// snapshot is what one scrape exports.
type snapshot struct {
	entries []*entrySeries // one per domain label, in domain order
	own     [numFams][]*dto.Metric
}

// refresh reads the source and brings the cache up to date: series of new
// reports are built, those of reports gone from the source are dropped.
func (e *Exporter) refresh() *snapshot {
	entries := e.src.Entries()
	// The exposition order is the registry's: by domain. The store sorts by
	// key, which begins with the domain; make sure of it anyway.
	if !slices.IsSortedFunc(entries, compareTarget) {
		entries = slices.Clone(entries)
		slices.SortStableFunc(entries, compareTarget)
	}

	s := &snapshot{entries: make([]*entrySeries, 0, len(entries))}
	var endpoints, duplicates int

	e.mu.Lock()
	next := make(map[*prober.Report]*entrySeries, len(entries))
	var todo []int // indexes in s.entries of series still to build
	for _, en := range entries {
		if en == nil || en.Report == nil {
			continue
		}
		if n := len(s.entries); n > 0 && s.entries[n-1].entry.Target == en.Target {
			// Another module probes the same target: its series would
			// have the same labels. The first module (by name) wins.
			duplicates++
			continue
		}
		es := e.cache[en.Report]
		if es == nil || es.entry != en {
			es = &entrySeries{entry: en}
			todo = append(todo, len(s.entries))
		}
		next[en.Report] = es
		s.entries = append(s.entries, es)
	}
	buildAll(s.entries, todo)
	for _, es := range s.entries {
		endpoints += es.endpoints
	}
	e.cache = next
	e.mu.Unlock()

	s.own[famEndpoints] = []*dto.Metric{gauge(float64(endpoints))}
	s.own[famDuplicateTargets] = []*dto.Metric{gauge(float64(duplicates))}
	return s
}

// buildAll builds the series of entries[i] for each i in todo, on all CPUs
// when there are many (the first scrape after start).
func buildAll(entries []*entrySeries, todo []int) {
	workers := min(runtime.GOMAXPROCS(0), len(todo)/64)
	if workers <= 1 {
		for _, i := range todo {
			buildEntry(entries[i])
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				k := int(next.Add(1)) - 1
				if k >= len(todo) {
					return
				}
				buildEntry(entries[todo[k]])
			}
		})
	}
	wg.Wait()
}

func compareTarget(a, b *store.Entry) int {
	if a == nil || b == nil {
		return cmp.Compare(boolInt(a != nil), boolInt(b != nil))
	}
	return strings.Compare(a.Target, b.Target)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func gauge(v float64) *dto.Metric {
	return &dto.Metric{Gauge: &dto.Gauge{Value: &v}}
}

// Describe sends the descriptors of every metric the Exporter may export.
func (e *Exporter) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range families {
		ch <- f.desc
	}
}

// Collect sends the cached series of every entry.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	s := e.refresh()
	for f := range numFams {
		desc := families[f].desc
		for _, m := range s.own[f] {
			ch <- cachedMetric{desc, m}
		}
		for _, es := range s.entries {
			for _, m := range es.family(f) {
				ch <- cachedMetric{desc, m}
			}
		}
	}
}

// cachedMetric hands a prebuilt series to a registry.
type cachedMetric struct {
	desc *prometheus.Desc
	m    *dto.Metric
}

func (c cachedMetric) Desc() *prometheus.Desc { return c.desc }

// Write shares the cached label pairs and value: by contract nothing
// downstream modifies them.
func (c cachedMetric) Write(out *dto.Metric) error {
	out.Label = c.m.Label
	out.Gauge = c.m.Gauge
	return nil
}

// Gatherer returns a Gatherer of the Exporter's series merged with the
// families of self (build info, process and Go metrics, self-monitoring;
// nil for none). It serves the cached series as they are, without the
// registry's per-series checks: the Exporter must not also be registered
// with self. Serve it with promhttp.HandlerFor.
func (e *Exporter) Gatherer(self prometheus.Gatherer) prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		var others []*dto.MetricFamily
		var err error
		if self != nil {
			others, err = self.Gather()
		}
		ours := e.refresh().families()
		merged := make([]*dto.MetricFamily, 0, len(ours)+len(others))
		i, j := 0, 0
		for i < len(ours) || j < len(others) {
			switch {
			case j == len(others) || i < len(ours) && ours[i].GetName() < others[j].GetName():
				merged = append(merged, ours[i])
				i++
			case i == len(ours) || others[j].GetName() < ours[i].GetName():
				merged = append(merged, others[j])
				j++
			default:
				return nil, fmt.Errorf("metric family %s is exported by both the exporter and the self gatherer", ours[i].GetName())
			}
		}
		return merged, err
	})
}

// count is the number of series of family f.
func (s *snapshot) count(f fam) int {
	n := len(s.own[f])
	for _, es := range s.entries {
		n += es.count(f)
	}
	return n
}

// families assembles the snapshot's metric families in name order.
func (s *snapshot) families() []*dto.MetricFamily {
	out := make([]*dto.MetricFamily, 0, numFams)
	for _, f := range byName {
		def := families[f]
		n := s.count(f)
		if n == 0 {
			continue
		}
		ms := make([]*dto.Metric, 0, n)
		ms = append(ms, s.own[f]...)
		if slot := prefixSlot[f]; slot >= 0 {
			for _, bk := range s.buckets(slot) {
				for i, r := range bk.runs {
					ms = append(ms, bk.entries[i].runMetrics(r)...)
				}
			}
		} else {
			for _, es := range s.entries {
				ms = append(ms, es.family(f)...)
			}
		}
		out = append(out, &dto.MetricFamily{Name: def.namePtr, Help: def.helpPtr, Type: def.typPtr, Metric: ms})
	}
	return out
}

// bucket gathers the runs of all entries with the same leading label values.
type bucket struct {
	key     string
	n       int
	runs    []*run
	entries []*entrySeries // of each run
}

// buckets orders a family whose leading labels sort before "domain": by
// those labels first (a small set of values, such as the command), then by
// domain. Each entry's runs are already in order, so bucketing them by their
// leading values takes no sort of the series.
func (s *snapshot) buckets(slot int8) []*bucket {
	var buckets []*bucket
	index := map[string]*bucket{}
	for _, es := range s.entries {
		for _, r := range es.runs[slot] {
			bk := index[r.key]
			if bk == nil {
				bk = &bucket{key: r.key}
				index[r.key] = bk
				buckets = append(buckets, bk)
			}
			bk.n++
		}
	}
	for _, bk := range buckets {
		bk.runs = make([]*run, 0, bk.n)
		bk.entries = make([]*entrySeries, 0, bk.n)
	}
	for _, es := range s.entries {
		for i := range es.runs[slot] {
			r := &es.runs[slot][i]
			bk := index[r.key]
			bk.runs = append(bk.runs, r)
			bk.entries = append(bk.entries, es)
		}
	}
	slices.SortFunc(buckets, func(a, b *bucket) int { return strings.Compare(a.key, b.key) })
	return buckets
}
