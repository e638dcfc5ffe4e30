package collector

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestCacheReuse: a report is built once, a new report is built again.
func TestCacheReuse(t *testing.T) {
	s := fixtureStore()
	exp := NewExporter(s)
	first := exp.refresh()
	second := exp.refresh()
	for i := range first.entries {
		if first.entries[i] != second.entries[i] {
			t.Fatalf("entry %d: want the cached series on the second scrape, got a rebuild", i)
		}
	}
	e := *s.Entries()[0]
	s.Put(&e) // same report, new entry (e.g. settings changed on reload)
	third := exp.refresh()
	if third.entries[0] == second.entries[0] {
		t.Fatalf("want a rebuild for a new entry, got the cached series")
	}
}

// TestCacheKeepsNoReport: a report the store has replaced is not kept alive
// by the cache until the next scrape.
func TestCacheKeepsNoReport(t *testing.T) {
	s := fixtureStore()
	exp := NewExporter(s)
	scrape(t, fastHandler(exp, nil))
	old := s.Entries()[0]
	gone := make(chan struct{})
	runtime.AddCleanup(old.Report, func(c chan struct{}) { close(c) }, gone)
	ne := *old
	r := *old.Report
	ne.Report = &r
	s.Put(&ne)
	old = nil
	for range 20 {
		runtime.GC()
		select {
		case <-gone:
			runtime.KeepAlive(exp)
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatal("the replaced report is still alive")
}

// TestBuilderForgetsTuples: values that come and go (a banner host name per
// server) do not pile up in a builder.
func TestBuilderForgetsTuples(t *testing.T) {
	b := &builder{known: map[string]*knownTuple{}, build: 1}
	for i := range 2 * maxKnown {
		b.subject("example.org", fmt.Sprintf("mx%d.example.org", i), "192.0.2.1")
		b.series(famBannerInfo, 1, []string{fmt.Sprintf("mx%d.example.org", i)})
		b.finish(&entrySeries{})
		b.reset()
		if len(b.known) > maxKnown {
			t.Fatalf("after %d builds: want at most %d known tuples, got %d", i+1, maxKnown, len(b.known))
		}
	}
}

// TestUnforeseenLabelShape: a family with labels no family has yet (here
// domain, ip, mechanism, mx, tls, in a row's own order) needs no change to
// the cache: it renders its series as a registry does.
func TestUnforeseenLabelShape(t *testing.T) {
	f := &family{name: "mx_test_mechanism_info", help: "A label shape of the future.",
		labels: []string{labelTLS, labelMX, "mechanism", labelIP, labelDomain}}
	f.derive()
	saved := families[famTLSInfo]
	families[famTLSInfo] = f
	defer func() { families[famTLSInfo] = saved }()
	feed := func(s sink) {
		s.subject("example.org", "", "")
		s.subject("example.org", "mx1.example.org", "192.0.2.1")
		s.series(famTLSInfo, 1, []string{"spf", "true"})
		s.subject("example.org", "mx1.example.org", "2001:db8::1")
		s.series(famTLSInfo, 0, []string{"dkim\"x", "false"})
	}

	b := builders.Get().(*builder)
	var es entrySeries
	feed(b)
	b.finish(&es)
	b.release()
	got := string(f.header) + string(es.appendFamily(nil, famTLSInfo))
	want := `# HELP mx_test_mechanism_info A label shape of the future.
# TYPE mx_test_mechanism_info gauge
mx_test_mechanism_info{domain="example.org",ip="192.0.2.1",mechanism="spf",mx="mx1.example.org",tls="true"} 1
mx_test_mechanism_info{domain="example.org",ip="2001:db8::1",mechanism="dkim\"x",mx="mx1.example.org",tls="false"} 0
`
	if got != want {
		t.Fatalf("cache: want\n%s\ngot\n%s", want, got)
	}
	if err := testutil.CollectAndCompare(feedCollector{f, feed}, strings.NewReader(want)); err != nil {
		t.Fatalf("the registry disagrees: %v", err)
	}
}

// feedCollector collects what feed sends to a const-metric sink.
type feedCollector struct {
	f    *family
	feed func(sink)
}

func (c feedCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.f.desc }
func (c feedCollector) Collect(ch chan<- prometheus.Metric) { c.feed(&constSink{ch: ch}) }
