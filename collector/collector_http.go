package collector

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// Handler serves /metrics: the Exporter's series merged with the families
// of self (as Gatherer does). The Prometheus text format, which Prometheus
// asks for unless told to scrape protobuf or OpenMetrics, is encoded
// straight from the cache, in chunks written as they are ready (see
// writeText), with or without a name[] filter. Any other format goes
// through promhttp.HandlerFor(e.Gatherer(self), opts); the output is the
// same.
//
// Of opts, the fast path honours ErrorHandling and ErrorLog (for errors of
// self), DisableCompression and OfferedCompressions (it compresses with gzip
// only), MaxRequestsInFlight, Timeout, ProcessStartTime, AcceptedFormats and
// EnableOpenMetrics.
func (e *Exporter) Handler(self prometheus.Gatherer, opts promhttp.HandlerOpts) http.Handler {
	inner := opts
	inner.Timeout, inner.MaxRequestsInFlight = 0, 0 // applied around both paths below
	slow := promhttp.HandlerFor(e.Gatherer(self), inner)

	accepted := opts.AcceptedFormats
	if len(accepted) == 0 {
		accepted = expfmt.DefaultAcceptedFormats()
		if opts.EnableOpenMetrics {
			accepted = expfmt.DefaultOpenMetricsAcceptedFormats()
		}
	}
	offerGzip := !opts.DisableCompression &&
		(len(opts.OfferedCompressions) == 0 || slices.Contains(opts.OfferedCompressions, promhttp.Gzip))

	var sem chan struct{}
	if opts.MaxRequestsInFlight > 0 {
		sem = make(chan struct{}, opts.MaxRequestsInFlight)
	}
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sem != nil {
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			default:
				http.Error(w, fmt.Sprintf("Limit of concurrent requests reached (%d), try again later.", opts.MaxRequestsInFlight), http.StatusServiceUnavailable)
				return
			}
		}
		format := expfmt.NegotiateAccept(r.Header, accepted...)
		if format.FormatType() != expfmt.TypeTextPlain {
			slow.ServeHTTP(w, r)
			return
		}
		e.serveText(w, r, self, format, opts, offerGzip)
	})
	if opts.Timeout > 0 {
		h = http.TimeoutHandler(h, opts.Timeout, fmt.Sprintf("Exceeded configured timeout of %v.\n", opts.Timeout))
	}
	return h
}

func (e *Exporter) serveText(w http.ResponseWriter, r *http.Request, self prometheus.Gatherer, format expfmt.Format, opts promhttp.HandlerOpts, offerGzip bool) {
	if !opts.ProcessStartTime.IsZero() {
		w.Header().Set("Process-Start-Time-Unix", strconv.FormatInt(opts.ProcessStartTime.Unix(), 10))
	}
	var others []*dto.MetricFamily
	if self != nil {
		var err error
		others, err = self.Gather()
		if err != nil {
			if opts.ErrorLog != nil {
				opts.ErrorLog.Println("error gathering metrics:", err)
			}
			switch opts.ErrorHandling {
			case promhttp.PanicOnError:
				panic(err)
			case promhttp.HTTPErrorOnError:
				http.Error(w, "An error has occurred while serving metrics:\n\n"+err.Error(), http.StatusInternalServerError)
				return
			}
		}
	}
	// name[] selects families by exact name, as promhttp does.
	var only map[string]bool
	if r.URL != nil {
		if names := r.URL.Query()["name[]"]; len(names) > 0 {
			only = make(map[string]bool, len(names))
			for _, n := range names {
				only[n] = true
			}
			others = slices.DeleteFunc(others, func(mf *dto.MetricFamily) bool { return !only[mf.GetName()] })
		}
	}
	s := e.refresh()
	for _, mf := range others {
		if f, ok := famIndex[mf.GetName()]; ok && s.count(f) > 0 {
			err := fmt.Errorf("metric family %s is exported by both the exporter and the self gatherer", mf.GetName())
			if opts.ErrorLog != nil {
				opts.ErrorLog.Println("error gathering metrics:", err)
			}
			http.Error(w, "An error has occurred while serving metrics:\n\n"+err.Error(), http.StatusInternalServerError)
			return
		}
	}

	w.Header().Add("Vary", "Accept")
	if !opts.DisableCompression {
		w.Header().Add("Vary", "Accept-Encoding")
	}
	w.Header().Set("Content-Type", string(format))
	gz := offerGzip && acceptsGzip(r.Header.Get("Accept-Encoding"))
	if gz {
		w.Header().Set("Content-Encoding", "gzip")
	}
	if err := s.writeText(w, others, only, format, gz); err != nil && opts.ErrorLog != nil {
		opts.ErrorLog.Println("error encoding and sending metric family:", err)
	}
}

// chunkSeries is about how many series one chunk of the exposition holds
// (see writeChunks).
const chunkSeries = 2048

// item is a piece of the exposition: a family of the self gatherer, the
// header (and own series) of one of ours, or series of one of ours.
type item struct {
	kind   uint8
	f      fam
	lo, hi int32 // entries or runs
	mf     *dto.MetricFamily
}

const (
	itemOther   = iota // mf
	itemHeader         // HELP, TYPE and the own series of f
	itemEntries        // family f of entries[lo:hi]
	itemRuns           // family f of runs[lo:hi]
)

// textPlan is the exposition cut into chunks.
type textPlan struct {
	items  []item
	chunks []int    // chunk c is items[chunks[c]:chunks[c+1]]
	runs   []runRef // of the prefixed families
}

var planPool = sync.Pool{New: func() any { return new(textPlan) }}

// plan lists our families and the others in name order. Put it back into
// planPool when done.
func (s *snapshot) plan(others []*dto.MetricFamily, only map[string]bool) *textPlan {
	p := planPool.Get().(*textPlan)
	p.items, p.chunks, p.runs = p.items[:0], append(p.chunks[:0], 0), p.runs[:0]
	size := 0
	grow := func(n int) {
		if size += n; size >= chunkSeries {
			p.chunks = append(p.chunks, len(p.items))
			size = 0
		}
	}
	j := 0
	for _, f := range byName {
		def := families[f]
		for ; j < len(others) && others[j].GetName() < def.name; j++ {
			p.items = append(p.items, item{kind: itemOther, mf: others[j]})
			grow(1 + len(others[j].Metric))
		}
		if s.count(f) == 0 || only != nil && !only[def.name] {
			continue
		}
		p.items = append(p.items, item{kind: itemHeader, f: f})
		grow(1)
		if def.prefix > 0 {
			lo := len(p.runs)
			p.runs = s.runs(f, p.runs)
			for lo < len(p.runs) {
				n, hi := 0, lo
				for hi < len(p.runs) && size+n < chunkSeries {
					n += int(p.runs[hi].hi - p.runs[hi].lo)
					hi++
				}
				p.items = append(p.items, item{kind: itemRuns, f: f, lo: int32(lo), hi: int32(hi)})
				grow(n)
				lo = hi
			}
			continue
		}
		for lo := 0; lo < len(s.entries); {
			n, hi := 0, lo
			for hi < len(s.entries) && size+n < chunkSeries {
				n += s.entries[hi].count(f)
				hi++
			}
			p.items = append(p.items, item{kind: itemEntries, f: f, lo: int32(lo), hi: int32(hi)})
			grow(n)
			lo = hi
		}
	}
	for ; j < len(others); j++ {
		p.items = append(p.items, item{kind: itemOther, mf: others[j]})
		grow(1 + len(others[j].Metric))
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
				return b, err
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
				b = es.appendRecs(b, it.f, es.off[it.f], es.off[it.f+1])
			}
		case itemRuns:
			for _, r := range p.runs[it.lo:it.hi] {
				b = s.entries[r.e].appendRecs(b, it.f, r.lo, r.hi)
			}
		}
	}
	return b, nil
}

// writeText writes the exposition: our families and the others in name
// order, compressed with gz.
func (s *snapshot) writeText(w io.Writer, others []*dto.MetricFamily, only map[string]bool, format expfmt.Format, gz bool) error {
	p := s.plan(others, only)
	defer func() {
		clear(p.items) // the others' families
		planPool.Put(p)
	}()
	return writeChunks(w, len(p.chunks)-1, func(b []byte, c int) ([]byte, error) {
		return s.encodeChunk(b, p, c, format)
	}, gz)
}

var famIndex = func() map[string]fam {
	m := make(map[string]fam, numFams)
	for i, f := range families {
		m[f.name] = fam(i)
	}
	return m
}()
