package collector

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
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

// The text is encoded, and compressed, in chunks of about chunkSeries
// series by up to maxWorkers goroutines, and written in order as the chunks
// come: a scrape keeps a few chunks in memory, never the whole exposition.
const (
	chunkSeries = 2048
	maxWorkers  = 4
)

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

// safeEncodeChunk is encodeChunk in a goroutine of its own: a panic
// becomes an error of the scrape, as net/http would make it of a handler,
// instead of ending the process.
func (s *snapshot) safeEncodeChunk(b []byte, p *textPlan, c int, format expfmt.Format) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = b, fmt.Errorf("encoding metrics: panic: %v", r)
		}
	}()
	return s.encodeChunk(b, p, c, format)
}

// chunk is one encoded chunk on its way to the writer.
type chunk struct {
	text []byte
	zip  []byte // text as deflate blocks, when compressing
	err  error
}

func (c *chunk) Write(p []byte) (int, error) {
	c.zip = append(c.zip, p...)
	return len(p), nil
}

var (
	chunkPool = sync.Pool{New: func() any { return &chunk{text: make([]byte, 0, 320<<10)} }}
	flatePool = sync.Pool{New: func() any { w, _ := flate.NewWriter(nil, flate.BestSpeed); return w }}

	// gzip member header (no name, no time, fastest compression, unknown
	// OS) and the final empty deflate block.
	gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 255}
	flateEnd   = func() []byte {
		var c chunk
		w, _ := flate.NewWriter(&c, flate.BestSpeed)
		_ = w.Close()
		return c.zip
	}()
)

// writeText writes the exposition: our families and the others in name
// order. With gz, it writes one gzip member whose deflate stream is the
// chunks compressed independently (each ends on a sync flush, so they
// concatenate), which lets the workers compress in parallel.
func (s *snapshot) writeText(w io.Writer, others []*dto.MetricFamily, only map[string]bool, format expfmt.Format, gz bool) error {
	p := s.plan(others, only)
	defer func() {
		clear(p.items) // the others' families
		planPool.Put(p)
	}()
	n := len(p.chunks) - 1
	workers := min(runtime.GOMAXPROCS(0), maxWorkers, n)

	stop := make(chan struct{})
	results := make([]chan *chunk, workers)
	var wg sync.WaitGroup
	for wk := range workers {
		ch := make(chan *chunk, 2)
		results[wk] = ch
		wg.Go(func() {
			var fw *flate.Writer
			if gz {
				fw = flatePool.Get().(*flate.Writer)
				defer flatePool.Put(fw)
			}
			for c := wk; c < n; c += workers {
				select {
				case <-stop:
					return
				default:
				}
				ck := chunkPool.Get().(*chunk)
				ck.text, ck.err = s.safeEncodeChunk(ck.text[:0], p, c, format)
				if gz && ck.err == nil {
					ck.zip = ck.zip[:0]
					fw.Reset(ck)
					if _, ck.err = fw.Write(ck.text); ck.err == nil {
						ck.err = fw.Flush()
					}
				}
				select {
				case ch <- ck:
				case <-stop:
					chunkPool.Put(ck)
					return
				}
			}
		})
	}

	var err error
	var crc, size uint32
	if gz {
		_, err = w.Write(gzipHeader)
	}
	for c := 0; c < n && err == nil; c++ {
		ck := <-results[c%workers]
		switch {
		case ck.err != nil:
			err = ck.err
		case gz:
			crc = crc32.Update(crc, crc32.IEEETable, ck.text)
			size += uint32(len(ck.text))
			_, err = w.Write(ck.zip)
		default:
			_, err = w.Write(ck.text)
		}
		chunkPool.Put(ck)
	}
	close(stop)
	wg.Wait()
	for _, ch := range results {
		for len(ch) > 0 {
			chunkPool.Put(<-ch)
		}
	}
	if err == nil && gz {
		trailer := binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(slices.Clone(flateEnd), crc), size)
		_, err = w.Write(trailer)
	}
	return err
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip.
func acceptsGzip(h string) bool {
	for part := range strings.SplitSeq(h, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") && strings.TrimSpace(coding) != "*" {
			continue
		}
		q := strings.ReplaceAll(params, " ", "")
		if q == "q=0" || strings.HasPrefix(q, "q=0.0") && strings.Trim(q[len("q=0."):], "0") == "" || q == "q=0." {
			return false
		}
		return true
	}
	return false
}

var famIndex = func() map[string]fam {
	m := make(map[string]fam, numFams)
	for i, f := range families {
		m[f.name] = fam(i)
	}
	return m
}()
