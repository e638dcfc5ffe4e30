package collector

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// Handler serves /metrics: the Exporter's series merged with the families
// of self (build info, process and Go metrics, self-monitoring; nil for
// none), in the Prometheus text format, which Prometheus takes whatever it
// asks first, gzip-compressed when the client accepts it and the answer is
// not small (writeOneChunk). name[] selects
// families by name, as promhttp does. Errors of self are logged and what it
// gathered is served, as with promhttp.ContinueOnError.
//
// The text is encoded straight from the cache in chunks, on several CPUs,
// and streamed (see writeChunks): a registry would make a metric object of
// every series at every scrape (BenchmarkScrape10k compares the two).
func (e *Exporter) Handler(self prometheus.Gatherer, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var others []*dto.MetricFamily
		if self != nil {
			var err error
			if others, err = self.Gather(); err != nil {
				logger.Error("gathering self metrics", "err", err)
			}
		}
		var only map[string]bool
		if names := r.URL.Query()["name[]"]; len(names) > 0 {
			only = make(map[string]bool, len(names))
			for _, n := range names {
				only[n] = true
			}
			others = slices.DeleteFunc(others, func(mf *dto.MetricFamily) bool { return !only[mf.GetName()] })
		}
		s := e.refresh()
		for _, mf := range others {
			if f, ok := famIndex[mf.GetName()]; ok && s.counts[f] > 0 {
				logger.Error("metric family exported twice", "family", mf.GetName())
				http.Error(w, "metric family "+mf.GetName()+" is exported by both the exporter and the self gatherer", http.StatusInternalServerError)
				return
			}
		}

		format := expfmt.NegotiateAccept(r.Header, expfmt.FmtText)
		w.Header().Set("Content-Type", string(format))
		w.Header().Add("Vary", "Accept") // the escaping scheme of the format
		w.Header().Add("Vary", "Accept-Encoding")
		gz := acceptsGzip(r.Header.Get("Accept-Encoding"))
		p := s.plan(others, only)
		defer p.release()
		encode := func(b []byte, c int) ([]byte, error) {
			return s.encodeChunk(b, p, c, format)
		}
		var err error
		if n := len(p.chunks) - 1; n == 1 {
			err = writeOneChunk(w, w.Header(), encode, gz)
		} else {
			if gz {
				w.Header().Set("Content-Encoding", "gzip")
			}
			err = writeChunks(w, n, encode, gz)
		}
		if err != nil {
			logger.Error("writing metrics", "err", err)
		}
	})
}

// chunkSeries is about how many series one chunk of the response holds.
const chunkSeries = 2048

// item is a piece of the exposition: a family of the self gatherer, the
// header (and own series) of one of ours, or the series of one of ours in
// some entries.
type item struct {
	kind   uint8
	f      fam
	lo, hi int32 // entries
	mf     *dto.MetricFamily
}

const (
	itemOther   = iota // mf
	itemHeader         // HELP, TYPE and the own series of f
	itemEntries        // family f of entries[lo:hi]
)

// textPlan is the exposition cut into chunks.
type textPlan struct {
	items  []item
	chunks []int // chunk c is items[chunks[c]:chunks[c+1]]
}

var planPool = sync.Pool{New: func() any { return new(textPlan) }}

func (p *textPlan) release() {
	clear(p.items) // the others' families
	planPool.Put(p)
}

// plan lists our families (those only names, when not nil) and the others
// in name order, each family's series together under one header.
func (s *snapshot) plan(others []*dto.MetricFamily, only map[string]bool) *textPlan {
	p := planPool.Get().(*textPlan)
	p.items, p.chunks = p.items[:0], append(p.chunks[:0], 0)
	size := 0
	add := func(it item, series int) {
		p.items = append(p.items, it)
		if size += series; size >= chunkSeries {
			p.chunks = append(p.chunks, len(p.items))
			size = 0
		}
	}
	j := 0
	for _, f := range byName {
		def := families[f]
		for ; j < len(others) && others[j].GetName() < def.name; j++ {
			add(item{kind: itemOther, mf: others[j]}, 1+len(others[j].Metric))
		}
		if s.counts[f] == 0 || only != nil && !only[def.name] {
			continue
		}
		add(item{kind: itemHeader, f: f}, 1)
		for lo := 0; lo < len(s.entries); {
			n, hi := 0, lo
			for hi < len(s.entries) && size+n < chunkSeries {
				n += s.entries[hi].count(f)
				hi++
			}
			add(item{kind: itemEntries, f: f, lo: int32(lo), hi: int32(hi)}, n)
			lo = hi
		}
	}
	for ; j < len(others); j++ {
		add(item{kind: itemOther, mf: others[j]}, 1+len(others[j].Metric))
	}
	if p.chunks[len(p.chunks)-1] != len(p.items) {
		p.chunks = append(p.chunks, len(p.items))
	}
	return p
}

// encodeChunk appends the text of chunk c to b.
func (s *snapshot) encodeChunk(b []byte, p *textPlan, c int, format expfmt.Format) ([]byte, error) {
	for _, it := range p.items[p.chunks[c]:p.chunks[c+1]] {
		switch it.kind {
		case itemOther:
			buf := bytes.NewBuffer(b)
			if err := expfmt.NewEncoder(buf, format).Encode(it.mf); err != nil {
				return b, fmt.Errorf("encoding %s: %w", it.mf.GetName(), err)
			}
			b = buf.Bytes()
		case itemHeader:
			def := families[it.f]
			b = append(b, def.header...)
			if o := s.own[it.f]; o.ok {
				b = appendUnlabelled(b, def.name, o.v)
			}
		case itemEntries:
			for _, es := range s.entries[it.lo:it.hi] {
				b = es.appendFamily(b, it.f)
			}
		}
	}
	return b, nil
}
