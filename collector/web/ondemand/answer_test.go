package ondemand

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mx-exporter/mx_exporter/collector"
	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/store"
	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// answerConfig probes good.test (both MX hosts, STARTTLS, the relay check)
// and the address of mx1.good.test directly: the answers of a domain and of
// a host target.
func answerConfig(env *testenv.Env) string {
	return `modules:
  default:
    ehlo: probe.mx-exporter.test
    timeout: 5s
    recipients: [postmaster@good.test]
    relay_check: relay-check@outside.test
    tls:
      ca_file: ` + env.CAFile + `
targets:
  - domain: good.test
probe_endpoint:
  allow:
    networks: [127.0.1.1/32]
`
}

// probedEntry is the entry of one real probe of target, as ServeHTTP makes it.
func probedEntry(t testing.TB, h *Handler, target string) *store.Entry {
	t.Helper()
	tg, err := probe.ParseTarget(target)
	if err != nil {
		t.Fatal(err)
	}
	rep := h.Prober.Probe(context.Background(), tg, h.Current().Settings["default"])
	if !rep.Success() {
		t.Fatalf("probe of %s failed: %+v", target, rep)
	}
	return &store.Entry{Key: store.Key(tg.Name(), "default"), Target: tg.Name(), Module: "default", Report: rep, Taken: time.Now()}
}

// registryAnswer is how /probe answered before it encoded the report
// itself: a registry of the entry's Collector behind promhttp.
func registryAnswer(w http.ResponseWriter, r *http.Request, entry *store.Entry) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(collector.NewCollector(collector.StaticEntries{entry})); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}

// serve returns the Content-Type and the body of one answer.
func serve(answer func(http.ResponseWriter, *http.Request), header http.Header) (string, string) {
	req := httptest.NewRequest(http.MethodGet, "/probe?target=good.test", nil)
	req.Header = header
	rec := httptest.NewRecorder()
	answer(rec, req)
	body, _ := io.ReadAll(rec.Body)
	return rec.Header().Get("Content-Type"), string(body)
}

// TestAnswerEqualsRegistry: the answer has the registry's Content-Type,
// families in the same order with the same HELP and TYPE, and the same
// series (their order inside a family is free in the format).
func TestAnswerEqualsRegistry(t *testing.T) {
	env := testenv.Require(t)
	h := newHandler(t, env, answerConfig(env))
	for _, target := range []string{"good.test", "127.0.1.1:25"} {
		entry := probedEntry(t, h, target)
		for _, header := range []http.Header{
			{},
			{"Accept": {"application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1"}},
		} {
			wantType, want := serve(func(w http.ResponseWriter, r *http.Request) { registryAnswer(w, r, entry) }, header)
			gotType, got := serve(func(w http.ResponseWriter, r *http.Request) { h.answer(w, r, entry) }, header)
			if gotType != wantType {
				t.Errorf("%s, Accept %q: Content-Type %q, want the registry's %q", target, header.Get("Accept"), gotType, wantType)
			}
			if g, w := sortedInFamily(got), sortedInFamily(want); g != w {
				t.Errorf("%s, Accept %q: the answer differs from the registry's:\n--- registry\n%s\n--- answer\n%s", target, header.Get("Accept"), w, g)
			}
		}
	}
}

// sortedInFamily sorts the series lines of each family, leaving HELP and
// TYPE lines and the order of families as they are.
func sortedInFamily(text string) string {
	var out, block []string
	for line := range strings.SplitSeq(text, "\n") {
		if strings.HasPrefix(line, "#") {
			slices.Sort(block)
			out, block = append(out, block...), block[:0]
			out = append(out, line)
			continue
		}
		block = append(block, line)
	}
	slices.Sort(block)
	return strings.Join(append(out, block...), "\n")
}

// BenchmarkAnswer measures what /probe spends on its answer after the
// probe: the registry it used before and the encoder it uses now, on the
// report of a real STARTTLS probe of mx1.good.test by address (the
// dialogue of BenchmarkVersusBlackbox in cmd/mx_exporter):
//
//	go test -run '^$' -bench Answer -benchmem ./collector/web/ondemand/
func BenchmarkAnswer(b *testing.B) {
	env := testenv.Require(b)
	h := newHandler(b, env, answerConfig(env))
	entry := probedEntry(b, h, "127.0.1.1:25")
	for _, path := range []struct {
		name   string
		answer func(http.ResponseWriter, *http.Request)
	}{
		{"registry", func(w http.ResponseWriter, r *http.Request) { registryAnswer(w, r, entry) }},
		{"encoder", func(w http.ResponseWriter, r *http.Request) { h.answer(w, r, entry) }},
	} {
		b.Run(path.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/probe?target=127.0.1.1:25", nil)
			w := &discardWriter{header: http.Header{}}
			for b.Loop() {
				clear(w.header)
				path.answer(w, req)
			}
			b.ReportMetric(float64(w.n)/float64(b.N), "B/answer")
		})
	}
}

// discardWriter is a ResponseWriter that counts what it is given.
type discardWriter struct {
	header http.Header
	n      int
}

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) WriteHeader(int)             {}
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }
