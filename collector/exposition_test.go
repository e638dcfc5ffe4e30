package collector

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Helpers to scrape the two paths, the Exporter's Handler and a registry of
// the Collector, and to compare what they serve.

// scrape GETs /metrics from h as Prometheus would, uncompressed.
func scrape(t testing.TB, h http.Handler) string {
	t.Helper()
	return scrapeTarget(t, h, "/metrics", nil)
}

// scrapeTarget GETs target (with a name[] query, say) with the given request
// headers and returns the Content-Type, a line feed and the body, gunzipped
// when it came compressed.
func scrapeTarget(t testing.TB, h http.Handler, target string, headers map[string]string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: want status 200, got %d: %s", rec.Code, rec.Body)
	}
	body := rec.Body.Bytes()
	if enc := rec.Header().Get("Content-Encoding"); enc != "" {
		if enc != "gzip" {
			t.Fatalf("scrape: want gzip or no Content-Encoding, got %q", enc)
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("scrape: gunzip: %v", err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			t.Fatalf("scrape: gunzip: %v", err)
		}
	}
	return rec.Header().Get("Content-Type") + "\n" + string(body)
}

// fastHandler serves exp as the daemon does.
func fastHandler(exp *Exporter, self prometheus.Gatherer) http.Handler {
	return exp.Handler(self, slog.New(slog.DiscardHandler))
}

// registryHandler serves src's Collector and others through a pedantic
// registry, in the text format only, as the Handler.
func registryHandler(t testing.TB, src Source, others ...prometheus.Collector) http.Handler {
	t.Helper()
	return promhttp.HandlerFor(gathererOf(t, append([]prometheus.Collector{NewCollector(src)}, others...)...),
		promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError, AcceptedFormats: []expfmt.Format{expfmt.FmtText}})
}

func gathererOf(t testing.TB, cs ...prometheus.Collector) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			t.Fatalf("register: %v", err)
		}
	}
	return reg
}

func selfRegistry(t testing.TB) *prometheus.Registry {
	t.Helper()
	return gathererOf(t, NewSelfCollector(fixtureStats))
}

// bySet returns an exposition with the series of each family sorted, after
// checking what the text format requires of its layout: each family once,
// its HELP and TYPE first and its series together. Families come in name
// order, as the registry writes them; the order of series inside a family
// is free, so two expositions with the same bySet have the same series.
func bySet(t testing.TB, text string) string {
	t.Helper()
	var out, block []string
	flush := func() {
		slices.Sort(block)
		out, block = append(out, block...), block[:0]
	}
	family := ""
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		switch fields := strings.Fields(line); {
		case line == "":
			continue
		case len(fields) >= 3 && fields[0] == "#" && fields[1] == "HELP":
			if fields[2] <= family {
				t.Fatalf("line %d: family %s after %s: want each family once, in name order", i+1, fields[2], family)
			}
			flush()
			family = fields[2]
			out = append(out, line)
		case len(fields) >= 3 && fields[0] == "#" && fields[1] == "TYPE":
			if fields[2] != family || !strings.HasPrefix(out[len(out)-1], "# HELP ") {
				t.Fatalf("line %d: %s: want TYPE right after the HELP of its family", i+1, line)
			}
			out = append(out, line)
		default:
			name, _, _ := strings.Cut(strings.Fields(line)[0], "{")
			if family == "" || !strings.HasPrefix(name, family) {
				t.Fatalf("line %d: series %s outside its family's block (in %s)", i+1, name, family)
			}
			block = append(block, line)
		}
	}
	flush()
	return strings.Join(out, "\n")
}

// sameSeries fails unless two scrapes (Content-Type and body) have the same
// families with the same series.
func sameSeries(t testing.TB, what, want, got string) {
	t.Helper()
	wantType, wantBody, _ := strings.Cut(want, "\n")
	gotType, gotBody, _ := strings.Cut(got, "\n")
	if wantType != gotType {
		t.Fatalf("%s: Content-Type: want %q, got %q", what, wantType, gotType)
	}
	if w, g := bySet(t, wantBody), bySet(t, gotBody); w != g {
		t.Fatalf("%s: the series differ:\n%s", what, lineDiff(w, g))
	}
}

// lineDiff lists the lines only one side has.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for _, l := range w {
		if !slices.Contains(g, l) {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	if b.Len() == 0 {
		return "(same lines, different order)"
	}
	return b.String()
}

// seriesOf returns every gauge series of a scrape as "name{l="v",…}" →
// value, labels in name order.
func seriesOf(t testing.TB, scraped string) map[string]float64 {
	t.Helper()
	_, body, _ := strings.Cut(scraped, "\n")
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parsing the exposition: %v", err)
	}
	out := map[string]float64{}
	for name, mf := range mfs {
		for _, m := range mf.Metric {
			var ls []string
			for _, l := range m.Label {
				ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			slices.Sort(ls)
			out[name+"{"+strings.Join(ls, ",")+"}"] = m.GetGauge().GetValue()
		}
	}
	return out
}
