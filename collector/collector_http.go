package collector

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
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
// asks for unless told to scrape protobuf or OpenMetrics, is written from
// text encoded once per report: a scrape copies bytes. Any other format,
// and requests filtering with name[], go through
// promhttp.HandlerFor(e.Gatherer(self), opts); the output is the same.
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
		if format.FormatType() != expfmt.TypeTextPlain || (r.URL != nil && r.URL.Query().Has("name[]")) {
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

var (
	bufPool  = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64<<10) }}
	gzipPool = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed); return w }}
)

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
	var out io.Writer = w
	if offerGzip && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		w.Header().Set("Content-Encoding", "gzip")
		gz := gzipPool.Get().(*gzip.Writer)
		gz.Reset(w)
		defer func() {
			_ = gz.Close()
			gz.Reset(nil)
			gzipPool.Put(gz)
		}()
		out = gz
	}
	bw := bufPool.Get().(*bufio.Writer)
	bw.Reset(out)
	defer func() {
		bw.Reset(nil)
		bufPool.Put(bw)
	}()

	enc := expfmt.NewEncoder(bw, format)
	err := s.writeText(bw, others, enc)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil && opts.ErrorLog != nil {
		opts.ErrorLog.Println("error encoding and sending metric family:", err)
	}
}

// writeText writes our families and the others in name order.
func (s *snapshot) writeText(w *bufio.Writer, others []*dto.MetricFamily, enc expfmt.Encoder) error {
	j := 0
	for _, f := range byName {
		def := families[f]
		for ; j < len(others) && others[j].GetName() < def.name; j++ {
			if err := enc.Encode(others[j]); err != nil {
				return err
			}
		}
		if s.count(f) == 0 {
			continue
		}
		w.Write(def.header) //nolint:errcheck // bufio keeps the first error for Flush
		for _, m := range s.own[f] {
			w.Write(appendText(nil, def.name, m.Label, m.GetGauge().GetValue())) //nolint:errcheck
		}
		if slot := prefixSlot[f]; slot >= 0 {
			for _, bk := range s.buckets(slot) {
				for _, r := range bk.runs {
					w.Write(r.text) //nolint:errcheck
				}
			}
		} else {
			for _, es := range s.entries {
				w.Write(es.text[f]) //nolint:errcheck
			}
		}
	}
	for ; j < len(others); j++ {
		if err := enc.Encode(others[j]); err != nil {
			return err
		}
	}
	return nil
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
