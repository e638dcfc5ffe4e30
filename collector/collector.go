// Package collector turns the latest probe reports of the store into
// Prometheus metrics. It is the only package that knows about Prometheus.
//
// Every series is built from the store at scrape time (never direct
// instrumentation), so the series of a target, MX host or address vanish
// with it. The series of one report are built once, when a scrape first
// sees the report, and cached in compact form: about 20 bytes a series,
// without pointers (see entrySeries). Three ways to expose them, all giving
// the same exposition byte for byte:
//
//   - Exporter.Handler serves /metrics. The Prometheus text format is
//     encoded from the cache in chunks, on all CPUs, and streamed (about
//     60 ms of CPU for 10,000 endpoints); other formats go through promhttp
//     and the Gatherer.
//   - Exporter.Gatherer returns the series as metric families, skipping
//     the registry's per-series checks; their *dto.Metric are made for the
//     call and not kept.
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
	"weak"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/mx-exporter/mx_exporter/collector/probe"
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

	mu sync.Mutex
	// cache has the series of the reports of the last scrape. Its keys are
	// weak: a report the store has replaced is not kept alive until the
	// next scrape (at 10,000 endpoints, tens of megabytes).
	cache map[weak.Pointer[probe.Report]]*entrySeries
}

// NewExporter returns an Exporter of src's entries.
func NewExporter(src Source) *Exporter {
	return &Exporter{src: src, cache: map[weak.Pointer[probe.Report]]*entrySeries{}}
}

// snapshot is what one scrape exports.
type snapshot struct {
	entries []*entrySeries // one per domain label, in domain order
	own     [numFams]ownSeries
	counts  [numFams]int // series of each family
}

// ownSeries is the one unlabelled series of a family of the Exporter's own.
type ownSeries struct {
	ok bool
	v  float64
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
	next := make(map[weak.Pointer[probe.Report]]*entrySeries, len(entries))
	var todo []*store.Entry // entries whose series are still to build
	var build []*entrySeries
	for _, en := range entries {
		if en == nil || en.Report == nil {
			continue
		}
		if n := len(s.entries); n > 0 && s.entries[n-1].target == en.Target {
			// Another module probes the same target: its series would
			// have the same labels. The first module (by name) wins.
			duplicates++
			continue
		}
		report, entry := weak.Make(en.Report), weak.Make(en)
		es := e.cache[report]
		if es == nil || es.entry != entry {
			es = &entrySeries{entry: entry, target: en.Target}
			todo = append(todo, en)
			build = append(build, es)
		}
		next[report] = es
		s.entries = append(s.entries, es)
	}
	parallel(len(todo), func(k int) { buildEntry(build[k], todo[k]) })
	e.cache = next
	e.mu.Unlock()

	for _, es := range s.entries {
		endpoints += es.endpoints
		for f := range numFams {
			s.counts[f] += es.count(f)
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

// Collect sends every series. Their metrics are made for this call only.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	s := e.refresh()
	ms := s.dtoMetrics()
	for f := range numFams {
		desc := families[f].desc
		if o := s.own[f]; o.ok {
			ch <- cachedMetric{desc, gauge(o.v)}
		}
		for i, es := range s.entries {
			for _, m := range ms[i][es.off[f]:es.off[f+1]] {
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

// Write shares the label pairs and value: by contract nothing downstream
// modifies them.
func (c cachedMetric) Write(out *dto.Metric) error {
	out.Label = c.m.Label
	out.Gauge = c.m.Gauge
	return nil
}

// Gatherer returns a Gatherer of the Exporter's series merged with the
// families of self (build info, process and Go metrics, self-monitoring;
// nil for none). It serves the series as they are, without the registry's
// per-series checks: the Exporter must not also be registered with self.
// Serve it with promhttp.HandlerFor.
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
func (s *snapshot) count(f fam) int { return s.counts[f] }

// dtoMetrics makes the metrics of every entry.
func (s *snapshot) dtoMetrics() [][]*dto.Metric {
	ms := make([][]*dto.Metric, len(s.entries))
	parallel(len(s.entries), func(i int) { ms[i] = s.entries[i].dtoMetrics() })
	return ms
}

// families assembles the snapshot's metric families in name order.
func (s *snapshot) families() []*dto.MetricFamily {
	dtos := s.dtoMetrics()
	out := make([]*dto.MetricFamily, 0, numFams)
	for _, f := range byName {
		def := families[f]
		n := s.count(f)
		if n == 0 {
			continue
		}
		ms := make([]*dto.Metric, 0, n)
		if o := s.own[f]; o.ok {
			ms = append(ms, gauge(o.v))
		}
		if def.prefix > 0 {
			for _, r := range s.runs(f, nil) {
				ms = append(ms, dtos[r.e][r.lo:r.hi]...)
			}
		} else {
			for i, es := range s.entries {
				ms = append(ms, dtos[i][es.off[f]:es.off[f+1]]...)
			}
		}
		out = append(out, &dto.MetricFamily{Name: def.namePtr, Help: def.helpPtr, Type: def.typPtr, Metric: ms})
	}
	return out
}

// runRef is a stretch of one entry's series of a family sharing the values
// of the labels sorting before "domain": recs[lo:hi] of entries[e].
type runRef struct{ e, lo, hi int32 }

// runs orders family f, whose leading labels sort before "domain" (such as
// the command): by those labels first (a small set of values), then by
// domain. Each entry's series are already in that order, so bucketing the
// entries' runs by their leading labels takes no sort of the series. The
// runs are appended to out.
func (s *snapshot) runs(f fam, out []runRef) []runRef {
	var keys []string // the encoded leading labels of each bucket
	var counts []int32
	index := map[string]int32{}
	// Two passes over the runs of every entry: count them by bucket, then
	// place them.
	byStatic := make([]int32, numStatic) // bucket of a static label set, +1
	bucket := func(ls uint32, pre string) int32 {
		if ls < numStatic && byStatic[ls] > 0 {
			return byStatic[ls] - 1
		}
		bk, ok := index[pre]
		if !ok {
			bk = int32(len(keys))
			index[pre] = bk
			keys = append(keys, pre)
			counts = append(counts, 0)
		}
		if ls < numStatic {
			byStatic[ls] = bk + 1
		}
		return bk
	}
	each := func(do func(bucket int32, r runRef)) {
		for ei, es := range s.entries {
			hi := es.off[f+1]
			for i := es.off[f]; i < hi; {
				ls := es.recs[i].ls
				pre := es.pre(ls)
				j := i + 1
				for j < hi && (es.recs[j].ls == ls || es.pre(es.recs[j].ls) == pre) {
					j++
				}
				do(bucket(ls, pre), runRef{int32(ei), i, j})
				i = j
			}
		}
	}
	var n int32
	each(func(bk int32, _ runRef) { counts[bk]++; n++ })

	// Order the buckets by label values, then place the runs (stably).
	order := make([]int32, len(keys))
	values := make([][]*dto.LabelPair, len(keys))
	for i, k := range keys {
		order[i] = int32(i)
		values[i] = parsePairs(k, nil)
	}
	slices.SortFunc(order, func(a, b int32) int {
		return slices.CompareFunc(values[a], values[b], func(x, y *dto.LabelPair) int {
			return strings.Compare(x.GetValue(), y.GetValue())
		})
	})
	start := make([]int32, len(keys))
	base := int32(len(out))
	pos := base
	for _, bk := range order {
		start[bk] = pos
		pos += counts[bk]
	}
	out = slices.Grow(out, int(n))[:int(base+n)]
	each(func(bk int32, r runRef) {
		out[start[bk]] = r
		start[bk]++
	})
	return out
}
