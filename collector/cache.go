package collector

import (
	"slices"
	"sync"
	"unique"
	"weak"

	"github.com/mx-exporter/mx_exporter/collector/store"
)

// entrySeries are the series of one store entry in compact form: built once
// per report, never modified, shared by concurrent scrapes. Label values are
// kept escaped, as the exposition writes them: those of the subjects (the
// domain, its MX hosts, their addresses) in one text per entry, the others
// (a step, a recipient, an extension and its tls) as tuples interned across
// entries. A series is then a value and two indices, without pointers, and
// its line is assembled at scrape time by walking its family's labels (see
// appendFamily). BenchmarkCacheFootprint10k measures what it costs.
type entrySeries struct {
	entry     weak.Pointer[store.Entry] // built from; not kept alive
	text      string
	subjects  []subject
	tuples    []unique.Handle[string] // escaped values joined by tupleSep
	recs      []rec                   // family f is recs[off[f]:off[f+1]]
	off       []int32                 // len(families)+1
	endpoints int
}

// subject locates in text the value of each subject label (by slot).
type subject [slotOther]span

type span struct{ lo, hi uint32 }

// rec is one series: its value, subject, and tuple of other label values
// (noTuple when it has none).
type rec struct {
	v     float64
	subj  uint32
	tuple uint32
}

const (
	noTuple  = ^uint32(0)
	tupleSep = "\xff" // in no valid UTF-8 text, so in no label value
)

// count is the number of series of family f.
func (es *entrySeries) count(f fam) int { return int(es.off[f+1] - es.off[f]) }

// buildEntry makes the series of en into es.
func buildEntry(es *entrySeries, en *store.Entry) {
	b := builders.Get().(*builder)
	defer b.release()
	es.endpoints = emit(en, b)
	b.finish(es)
}

// builder is the sink that builds an entrySeries. Builders are pooled: a
// build allocates little besides what the cache keeps.
type builder struct {
	text     []byte
	last     [slotOther]string // raw values of the current subject
	subjects []subject
	pending  []pendingRec
	next     []int32
	tuples   []unique.Handle[string]
	key      []byte
	// known are the tuples this builder interned lately, so that most
	// series find theirs without allocating. A known tuple whose build is
	// the current one already has an index in the entry being built.
	known map[string]*knownTuple
	build uint64
}

type pendingRec struct {
	rec
	f fam
}

type knownTuple struct {
	h     unique.Handle[string]
	build uint64
	index uint32
}

// maxKnown bounds a builder's known tuples: values that come and go (a
// server's banner host name) must not pile up in it.
const maxKnown = 4096

var builders = sync.Pool{New: func() any { return &builder{known: map[string]*knownTuple{}, build: 1} }}

func (b *builder) release() {
	b.reset()
	builders.Put(b)
}

// reset readies the builder for the next entry.
func (b *builder) reset() {
	b.text, b.subjects, b.pending = b.text[:0], b.subjects[:0], b.pending[:0]
	b.last = [slotOther]string{} // drop references to the report
	clear(b.tuples[:cap(b.tuples)])
	b.tuples = b.tuples[:0]
	if len(b.known) > maxKnown {
		clear(b.known)
	}
	b.build++
}

func (b *builder) subject(domain, mx, ip string) {
	var s subject
	if n := len(b.subjects); n > 0 {
		s = b.subjects[n-1]
	}
	for sl, v := range [slotOther]string{domain, mx, ip} {
		if len(b.subjects) > 0 && v == b.last[sl] {
			continue // the span of the previous subject serves
		}
		lo := len(b.text)
		b.text = appendEscaped(b.text, v)
		s[sl] = span{uint32(lo), uint32(len(b.text))}
		b.last[sl] = v
	}
	b.subjects = append(b.subjects, s)
}

func (b *builder) series(f fam, v float64, labels []string) {
	if len(b.subjects) == 0 {
		b.subject("", "", "")
	}
	b.pending = append(b.pending, pendingRec{rec{v, uint32(len(b.subjects) - 1), b.tuple(labels)}, f})
}

// tuple returns the index of the entry's tuple of labels.
func (b *builder) tuple(labels []string) uint32 {
	if len(labels) == 0 {
		return noTuple
	}
	b.key = b.key[:0]
	for i, v := range labels {
		if i > 0 {
			b.key = append(b.key, tupleSep...)
		}
		b.key = appendEscaped(b.key, v)
	}
	k := b.known[string(b.key)]
	if k == nil {
		k = &knownTuple{h: unique.Make(string(b.key))}
		b.known[k.h.Value()] = k
	}
	if k.build != b.build {
		k.build, k.index = b.build, uint32(len(b.tuples))
		b.tuples = append(b.tuples, k.h)
	}
	return k.index
}

// finish stores the series in es, placed by family.
func (b *builder) finish(es *entrySeries) {
	es.off = make([]int32, len(families)+1)
	for _, p := range b.pending {
		es.off[p.f+1]++
	}
	for f := range families {
		es.off[f+1] += es.off[f]
	}
	next := append(b.next[:0], es.off...) // where the next series of each family goes
	es.recs = make([]rec, len(b.pending))
	for _, p := range b.pending {
		es.recs[next[p.f]] = p.rec
		next[p.f]++
	}
	b.next = next
	es.text = string(b.text)
	es.subjects = slices.Clone(b.subjects)
	es.tuples = slices.Clone(b.tuples)
}
