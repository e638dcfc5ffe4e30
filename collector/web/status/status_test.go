package status

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/probe/tlscheck"
	"github.com/mx-exporter/mx_exporter/collector/report"
	"github.com/mx-exporter/mx_exporter/collector/store"
)

var (
	testNow   = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	testTaken = testNow.Add(-12 * time.Second)
)

const hostileBanner = `<script>alert("pwned")</script> mx.hostile.example ESMTP`

// okResult is a complete successful dialogue with STARTTLS and a relay check.
func okResult(host, ip string) *smtp.Result {
	ms := time.Millisecond
	return &smtp.Result{
		Host: host, Addr: ip, Port: 25, Start: testTaken.Add(-50 * ms), Duration: 40 * ms, Success: true,
		Steps: []smtp.Step{
			{Name: smtp.StepConnect, Duration: ms / 2},
			{Name: smtp.StepBanner, Reply: smtp.Reply{Code: 220, Lines: []string{host + " ESMTP"}}, Duration: ms},
			{Name: smtp.StepEHLO, Sent: "EHLO probe.example", Reply: smtp.Reply{Code: 250, Lines: []string{host, "STARTTLS"}}, Duration: ms},
			{Name: smtp.StepStartTLS, Sent: "STARTTLS", Reply: smtp.Reply{Code: 220, Enhanced: "2.0.0", Lines: []string{"Ready to start TLS"}}, Duration: ms},
			{Name: smtp.StepTLSHandshake, Duration: 5 * ms},
			{Name: smtp.StepEHLOTLS, Sent: "EHLO probe.example", Reply: smtp.Reply{Code: 250, Lines: []string{host}}, Duration: 40 * ms},
			{Name: smtp.StepMail, Sent: "MAIL FROM:<>", Reply: smtp.Reply{Code: 250, Enhanced: "2.1.0", Lines: []string{"Ok"}}, Duration: ms},
			{Name: smtp.StepRcpt, Sent: "RCPT TO:<postmaster@good.example>", Reply: smtp.Reply{Code: 250, Enhanced: "2.1.5", Lines: []string{"Ok"}}, Duration: ms},
			{Name: smtp.StepRelay, Sent: "RCPT TO:<relay@outside.example>", Reply: smtp.Reply{Code: 554, Enhanced: "5.7.1", Lines: []string{"Relay access denied"}}, Duration: ms},
			{Name: smtp.StepRSET, Sent: "RSET", Reply: smtp.Reply{Code: 250, Enhanced: "2.0.0", Lines: []string{"Ok"}}, Duration: ms},
			{Name: smtp.StepQuit, Sent: "QUIT", Reply: smtp.Reply{Code: 221, Enhanced: "2.0.0", Lines: []string{"Bye"}}, Duration: ms},
		},
		Banner:         smtp.Reply{Code: 220, Lines: []string{host + " ESMTP"}},
		BannerHostname: host,
		Extensions: &smtp.Extensions{Greeting: host, Keywords: []smtp.Keyword{{Name: "PIPELINING"}, {Name: "SIZE", Params: "10240000"}, {Name: "STARTTLS"}},
			SizeAdvertised: true, Size: 10240000},
		ExtensionsTLS: &smtp.Extensions{Greeting: host, Keywords: []smtp.Keyword{{Name: "PIPELINING"}, {Name: "SIZE", Params: "12345678"}},
			SizeAdvertised: true, Size: 12345678},
		TLS: &tlscheck.Info{Version: "TLS 1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", ServerName: host,
			LeafNotAfter: testNow.Add(40 * 24 * time.Hour), ChainNotAfter: testNow.Add(40 * 24 * time.Hour), Verified: true},
		Recipients: []smtp.Recipient{{Address: "postmaster@good.example", Reply: smtp.Reply{Code: 250, Enhanced: "2.1.5"}, Accepted: true}},
		Relay:      &smtp.Relay{Address: "relay@outside.example", Reply: smtp.Reply{Code: 554, Enhanced: "5.7.1"}, Verdict: smtp.RelayRefused},
		Transcript: []smtp.Line{
			{At: ms / 2, Dir: smtp.Note, Text: "connected to " + ip + ":25"},
			{At: ms, Dir: smtp.Received, Text: "220 " + host + " ESMTP"},
			{At: 2 * ms, Dir: smtp.Sent, Text: "EHLO probe.example"},
			{At: 3 * ms, Dir: smtp.Received, Text: "250-" + host},
			{At: 3 * ms, Dir: smtp.Received, Text: "250 STARTTLS"},
			{At: 4 * ms, Dir: smtp.Sent, Text: "QUIT"},
			{At: 5 * ms, Dir: smtp.Received, Text: "221 2.0.0 Bye"},
		},
	}
}

func domainHost(name string, pref uint16, ips ...string) probe.HostReport {
	h := probe.HostReport{Host: dnsmx.Host{Name: name, Preference: pref, Outcome: dnsmx.OutcomeAnswer}}
	for _, ip := range ips {
		h.Addrs = append(h.Addrs, netip.MustParseAddr(ip))
		h.Results = append(h.Results, okResult(name, ip))
	}
	return h
}

func domainReport(name string, hosts ...probe.HostReport) *probe.Report {
	return &probe.Report{
		Target: probe.Target{Domain: name}, Start: testTaken.Add(-time.Second), Duration: 45 * time.Millisecond,
		DNS:   &dnsmx.Domain{Name: name, Outcome: dnsmx.OutcomeAnswer, Rcode: "NOERROR", Duration: time.Millisecond, Server: "127.0.53.1:53"},
		Hosts: hosts,
	}
}

func entry(module string, rep *probe.Report) *store.Entry {
	name := rep.Target.Name()
	return &store.Entry{Key: store.Key(name, module), Target: name, Module: module, Report: rep, Taken: testTaken}
}

// testStore holds one target of every kind the page must tell apart.
func testStore() *store.Store {
	st := store.New()

	st.Put(entry("default", domainReport("good.example",
		domainHost("mx1.good.example", 10, "192.0.2.1"),
		domainHost("mx2.good.example", 20, "192.0.2.2"))))

	hostile := domainHost("mx.hostile.example", 10, "192.0.2.4")
	r := hostile.Results[0]
	r.Success, r.Reason, r.Detail = false, smtp.ReasonBannerRejected, "greeting was 554: "+hostileBanner
	r.Banner = smtp.Reply{Code: 554, Enhanced: "5.7.1", Lines: []string{hostileBanner}}
	r.Steps = r.Steps[:2]
	r.Steps[1].Reply = r.Banner
	r.Extensions, r.ExtensionsTLS, r.TLS, r.Relay, r.Recipients = nil, nil, nil, nil, nil
	r.Transcript = []smtp.Line{
		{At: time.Millisecond, Dir: smtp.Received, Text: "554 5.7.1 " + hostileBanner},
		{At: 2 * time.Millisecond, Dir: smtp.Sent, Text: "QUIT"},
	}
	st.Put(entry("default", domainReport("hostile.example", hostile)))

	null := domainReport("null.example")
	null.DNS.NullMX = true
	st.Put(entry("default", null))

	missing := domainReport("missing.example")
	missing.DNS.Outcome, missing.DNS.Rcode, missing.DNS.Err = dnsmx.OutcomeNXDomain, "NXDOMAIN", "NXDOMAIN"
	st.Put(entry("default", missing))

	relay := &probe.Report{Target: probe.Target{Host: "relay.example"}, Duration: time.Millisecond,
		Hosts: []probe.HostReport{domainHost("relay.example", 0, "192.0.2.3")}}
	rr := relay.Hosts[0].Results[0]
	rr.Success, rr.Reason, rr.Detail = false, smtp.ReasonRelayOpen, "relay@outside.example was accepted"
	rr.Relay = &smtp.Relay{Address: "relay@outside.example", Reply: smtp.Reply{Code: 250, Enhanced: "2.1.5"}, Verdict: smtp.RelayOpen}
	st.Put(entry("relay", relay))

	noaddr := domainReport("noaddr.example", domainHost("mx1.noaddr.example", 10, "192.0.2.5"),
		probe.HostReport{Host: dnsmx.Host{Name: "ghost.noaddr.example", Preference: 20, Outcome: dnsmx.OutcomeNoData, Err: "no A or AAAA record"}})
	st.Put(entry("default", noaddr))
	return st
}

// serve mounts the handler the way the daemon does.
func serve(t *testing.T, st *store.Store, opts Options) *httptest.Server {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	h := NewHandler(st, opts)
	p := "/" + strings.Trim(opts.Path, "/")
	if p == "/" {
		p = "/status"
	}
	mux := http.NewServeMux()
	mux.Handle(p, h)
	mux.Handle(p+"/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

type page struct {
	url    *url.URL
	status int
	header http.Header
	body   string
}

func get(t *testing.T, rawURL string) page {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(rawURL)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	return page{url: resp.Request.URL, status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// link resolves the href of the first <a> of class cls whose href contains
// want, as a browser does from the page's URL.
func (p page) link(t *testing.T, cls, want string) string {
	t.Helper()
	re := regexp.MustCompile(`<a class="` + cls + `" href="([^"]*)"`)
	if cls == "" {
		re = regexp.MustCompile(`<a href="([^"]*)"`)
	}
	for _, m := range re.FindAllStringSubmatch(p.body, -1) {
		href := html.UnescapeString(m[1])
		if strings.Contains(href, want) {
			u, err := p.url.Parse(href)
			if err != nil {
				t.Fatalf("bad link %q: %v", href, err)
			}
			return u.String()
		}
	}
	t.Fatalf("no link of class %q containing %q on %s", cls, want, p.url)
	return ""
}

func TestOverviewShowsEveryTargetFailingFirst(t *testing.T) {
	srv := serve(t, testStore(), Options{})
	p := get(t, srv.URL+"/status")
	if p.status != http.StatusOK {
		t.Fatalf("status %d, want 200:\n%s", p.status, p.body)
	}
	if ct := p.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "style-src 'sha256-") {
		t.Errorf("Content-Security-Policy %q lacks default-src 'none' and the style hash", csp)
	}
	for _, want := range []string{
		`<meta http-equiv="refresh" content="30">`,
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		`data-targets="6" data-failing="4"`,
		`4 of 6 targets failing`,
		`3 of 6 addresses failing`,
		`12 s ago`,
		`null MX (RFC 7505): null.example accepts no mail`,
		`NXDOMAIN: missing.example does not exist`,
		`OPEN RELAY: relay@outside.example accepted (250 2.1.5)`,
		`refused (554 5.7.1): no open relay`,
		`<span class="reason">banner_rejected</span>`,
		`<span class="reason">relay_open</span>`,
		`no A or AAAA record`,
		`11.8 MiB<div class="sub">12345678 bytes</div>`,
		`STARTTLS offered`,
		`TLS 1.3 TLS_AES_128_GCM_SHA256`,
		`certificate expires 2027-01-02 (40 days left)`,
		`verified for mx1.good.example`,
		`<code>220 mx1.good.example ESMTP</code>`,
		`<span class="pref" title="preference">10</span> mx1.good.example`,
		`<span>tls_handshake</span> <b>5.0</b>`,
		`host target: no MX lookup`,
	} {
		if !strings.Contains(strings.ReplaceAll(p.body, "<wbr>", ""), want) {
			t.Errorf("status page lacks %s", want)
		}
	}

	// Failing targets first, in name order, then the healthy ones.
	order := regexp.MustCompile(`<section class="target (ok|fail)" id="[^"]*" data-target="([^"]*)"`).FindAllStringSubmatch(p.body, -1)
	var got []string
	for _, m := range order {
		got = append(got, m[1]+" "+m[2])
	}
	want := []string{"fail hostile.example", "fail missing.example", "fail noaddr.example", "fail relay.example", "ok good.example", "ok null.example"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("targets in order\n got %v\nwant %v", got, want)
	}

	// A null MX domain has nothing to probe, and that is no news.
	null := p.body[strings.Index(p.body, `data-target="null.example"`):]
	null = null[:strings.Index(null, "</section>")]
	if strings.Contains(null, "No address was probed") {
		t.Errorf("the null MX domain says no address was probed, as if that were a problem")
	}

	// MX hosts in preference order within a target.
	i1, i2 := strings.Index(p.body, `data-mx="mx1.good.example"`), strings.Index(p.body, `data-mx="mx2.good.example"`)
	if i1 < 0 || i2 < 0 || i1 > i2 {
		t.Errorf("mx1 (pref 10) at %d should precede mx2 (pref 20) at %d", i1, i2)
	}
}

func TestShowFailingOnly(t *testing.T) {
	srv := serve(t, testStore(), Options{})
	all := get(t, srv.URL+"/status")
	p := get(t, all.link(t, "", "show=failing"))
	sections := regexp.MustCompile(`<section class="target (ok|fail)"`).FindAllStringSubmatch(p.body, -1)
	if len(sections) != 4 || !strings.Contains(p.body, "4 of 6 targets failing") {
		t.Fatalf("show=failing: %d sections, want the 4 failing ones, and the summary of all 6", len(sections))
	}
	for _, m := range sections {
		if m[1] != "fail" {
			t.Errorf("show=failing shows a healthy target")
		}
	}
	if back := p.link(t, "", "?"); back != srv.URL+"/status?" {
		t.Errorf("the link back to all targets resolves to %s", back)
	}
}

// BenchmarkOverview renders the overview of 1,000 domains of two MX hosts
// with two addresses each (4,000 address rows): the first page, as the
// page's automatic refresh asks for it, and every target on one page
// (PageSize 1,000), which is what it cost before the overview had pages.
//
//	go test -run '^$' -bench Overview -benchtime 5x ./collector/web/status/
func BenchmarkOverview(b *testing.B) {
	st := store.New()
	for i := range 1000 {
		name := fmt.Sprintf("d%04d.example", i)
		st.Put(entry("default", domainReport(name,
			domainHost("mx1."+name, 10, "192.0.2.1", "2001:db8::1"),
			domainHost("mx2."+name, 20, "192.0.2.2", "2001:db8::2"))))
	}
	for _, bc := range []struct {
		name     string
		pageSize int
	}{{"first-page", 0}, {"all-on-one-page", 1000}} {
		b.Run(bc.name, func(b *testing.B) {
			h := NewHandler(st, Options{Now: func() time.Time { return testNow }, PageSize: bc.pageSize})
			req := httptest.NewRequest(http.MethodGet, "/status", nil)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
				b.ReportMetric(float64(w.Body.Len())/1000, "page-kB")
			}
		})
	}
}

func TestServerTextIsEscaped(t *testing.T) {
	srv := serve(t, testStore(), Options{})
	overview := get(t, srv.URL+"/status")
	transcript := get(t, overview.link(t, "transcript", "mx.hostile.example"))
	if transcript.status != http.StatusOK {
		t.Fatalf("transcript: status %d", transcript.status)
	}
	for name, p := range map[string]page{"status page": overview, "transcript": transcript} {
		if strings.Contains(p.body, "<script") {
			t.Errorf("%s carries a live <script> from the banner", name)
		}
		if !strings.Contains(p.body, `&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;`) {
			t.Errorf("%s does not show the hostile banner escaped", name)
		}
	}
	if !strings.Contains(overview.body, `<code>554 5.7.1 &lt;script&gt;`) {
		t.Errorf("status page lacks the banner's code, enhanced code and escaped text")
	}
}

func TestTranscriptLinkOpensTheTranscript(t *testing.T) {
	srv := serve(t, testStore(), Options{})
	overview := get(t, srv.URL+"/status")
	link := overview.link(t, "transcript", "mx=mx1.good.example")
	if !strings.HasPrefix(link, srv.URL+"/status/transcript?") {
		t.Fatalf("transcript link %s is not under /status/transcript", link)
	}
	p := get(t, link)
	if p.status != http.StatusOK {
		t.Fatalf("GET %s: status %d:\n%s", link, p.status, p.body)
	}
	for _, want := range []string{
		`<pre id="transcript" class="transcript">`,
		`<span class="dir">C:</span> EHLO probe.example`,
		`<span class="dir">S:</span> 220 mx1.good.example ESMTP`,
		`<span class="line c">`,
		`<span class="line s">`,
		`MX 10 of good.example`,
		`postmaster@good.example accepted (250 2.1.5)`,
		`<code>RCPT TO:&lt;postmaster@good.example&gt;</code>`,
		`12 s ago`,
		`<code>250 mx1.good.example</code> <span class="sub">&#43;1 more line(s)</span>`,
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("transcript page lacks %s", want)
		}
	}
	if strings.Contains(p.body, `http-equiv="refresh"`) {
		t.Errorf("the transcript page reloads itself; it should stay put while it is read")
	}
	back := p.link(t, "", "status")
	if back != srv.URL+"/status" {
		t.Errorf("back link resolves to %s, want %s/status", back, srv.URL)
	}

	js := get(t, p.link(t, "", "transcript.json"))
	if js.status != http.StatusOK || js.header.Get("Content-Type") != "application/json" {
		t.Fatalf("JSON: status %d, Content-Type %q", js.status, js.header.Get("Content-Type"))
	}
	var doc report.Document
	if err := json.Unmarshal([]byte(js.body), &doc); err != nil {
		t.Fatalf("JSON: %v", err)
	}
	if doc.Target != "good.example" || len(doc.Hosts) != 1 || doc.Hosts[0].Name != "mx1.good.example" ||
		len(doc.Hosts[0].Addresses) != 1 || doc.Hosts[0].Addresses[0].IP != "192.0.2.1" ||
		len(doc.Hosts[0].Addresses[0].Transcript) != 7 {
		t.Errorf("JSON is not the one dialogue of mx1.good.example 192.0.2.1: %+v", doc)
	}

	text := get(t, p.link(t, "", "report?"))
	if text.status != http.StatusOK || !strings.HasPrefix(text.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("text report: status %d, Content-Type %q", text.status, text.header.Get("Content-Type"))
	}
	for _, want := range []string{"MX 10 mx1.good.example", "C: EHLO probe.example", "S: 220 mx1.good.example ESMTP", "MX 20 mx2.good.example", "12 s ago"} {
		if !strings.Contains(text.body, want) {
			t.Errorf("text report lacks %q", want)
		}
	}
}

func TestProblemsAnswerWithAHelpfulPage(t *testing.T) {
	srv := serve(t, testStore(), Options{})
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/status/transcript?target=nosuch.example&mx=mx.nosuch.example&ip=192.0.2.9", 404,
			"There is no probe result for nosuch.example: it is not in the configuration, or its first probe has not finished yet."},
		{"/status/transcript?target=nosuch.example", 404, "good.example (default)"},
		{"/status/transcript?target=good.example&mx=mx1.good.example&ip=192.0.2.99", 404,
			"The last probe of good.example has no dialogue with mx=&#34;mx1.good.example&#34; ip=&#34;192.0.2.99&#34;. It talked to: mx1.good.example 192.0.2.1, mx2.good.example 192.0.2.2."},
		{"/status/transcript?target=good.example&module=other&mx=mx1.good.example&ip=192.0.2.1", 404, "good.example with module other"},
		{"/status/transcript.json?target=nosuch.example", 404, "Unknown target"},
		{"/status/report?target=nosuch.example", 404, "Unknown target"},
		{"/status/transcript", 400, "Add ?target=NAME"},
		{"/status/nonsense", 404, "No such status page"},
	} {
		p := get(t, srv.URL+tc.path)
		if p.status != tc.status || !strings.Contains(p.body, tc.want) {
			t.Errorf("GET %s: status %d, want %d with %q:\n%s", tc.path, p.status, tc.status, tc.want, p.body)
		}
		if !strings.Contains(p.body, `href="../status"`) {
			t.Errorf("GET %s: no link back to the overview", tc.path)
		}
	}

	resp, err := http.Post(srv.URL+"/status", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /status: status %d, Allow %q; want 405, GET, HEAD", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestModuleIsNeededOnlyWhenAmbiguous(t *testing.T) {
	st := store.New()
	st.Put(entry("default", domainReport("good.example", domainHost("mx1.good.example", 10, "192.0.2.1"))))
	st.Put(entry("strict", domainReport("good.example", domainHost("mx1.good.example", 10, "192.0.2.1"))))
	srv := serve(t, st, Options{})
	p := get(t, srv.URL+"/status/report?target=good.example")
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "good.example is probed with the modules default, strict") {
		t.Errorf("without module: status %d:\n%s", p.status, p.body)
	}
	if p := get(t, srv.URL+"/status/report?target=good.example&module=strict"); p.status != http.StatusOK {
		t.Errorf("with module: status %d", p.status)
	}
}

func TestWorksUnderARoutePrefix(t *testing.T) {
	srv := serve(t, testStore(), Options{Path: "/mx/status/", RefreshSeconds: 5})
	p := get(t, srv.URL+"/mx/status")
	if p.status != http.StatusOK || !strings.Contains(p.body, `content="5"`) {
		t.Fatalf("status %d, refresh 5 s: %v", p.status, strings.Contains(p.body, `content="5"`))
	}
	link := p.link(t, "transcript", "mx=mx2.good.example")
	if !strings.HasPrefix(link, srv.URL+"/mx/status/transcript?") {
		t.Fatalf("transcript link %s is not under /mx/status/transcript", link)
	}
	if tr := get(t, link); tr.status != http.StatusOK || !strings.Contains(tr.body, "EHLO probe.example") {
		t.Errorf("GET %s: status %d", link, tr.status)
	}
	if got := get(t, srv.URL+"/status"); got.status != http.StatusNotFound {
		t.Errorf("GET /status outside the prefix: status %d, want 404", got.status)
	}

	slash := get(t, srv.URL+"/mx/status/")
	loc, err := slash.url.Parse(slash.header.Get("Location"))
	if slash.status != http.StatusMovedPermanently || err != nil || loc.Path != "/mx/status" ||
		slash.header.Get("Location") != "../status" {
		t.Errorf("GET /mx/status/: status %d, Location %q resolves to %v; want a redirect to /mx/status",
			slash.status, slash.header.Get("Location"), loc)
	}
}

func TestEmptyStoreAndNoRefresh(t *testing.T) {
	srv := serve(t, store.New(), Options{RefreshSeconds: -1})
	p := get(t, srv.URL+"/status")
	if p.status != http.StatusOK || !strings.Contains(p.body, "No probe has finished yet") || !strings.Contains(p.body, `data-targets="0"`) {
		t.Errorf("empty store: status %d:\n%s", p.status, p.body)
	}
	if strings.Contains(p.body, `http-equiv="refresh"`) {
		t.Errorf("RefreshSeconds -1 still reloads")
	}
}

func TestAllOK(t *testing.T) {
	st := store.New()
	st.Put(entry("default", domainReport("good.example", domainHost("mx1.good.example", 10, "192.0.2.1"))))
	p := get(t, serve(t, st, Options{}).URL+"/status")
	if !strings.Contains(p.body, "All 1 targets OK") || !strings.Contains(p.body, `class="summary good"`) {
		t.Errorf("one healthy target: no green summary:\n%s", p.body)
	}
}

func TestCertificateDaysLeft(t *testing.T) {
	for _, tc := range []struct {
		left  time.Duration
		text  string
		class string
	}{
		{40 * 24 * time.Hour, "certificate expires 2027-01-02 (40 days left)", good},
		{3*24*time.Hour + time.Hour, "certificate expires 2026-11-26 (3 days left)", warn},
		{-2 * 24 * time.Hour, "certificate EXPIRED 2026-11-21 (2 days ago)", bad},
	} {
		info := &tlscheck.Info{Version: "TLS 1.3", ChainNotAfter: testNow.Add(tc.left), Verified: true, ServerName: "mx"}
		facts := tlsFacts(true, true, info, testNow)
		var found bool
		for _, f := range facts {
			if f.Text == tc.text && f.Class == tc.class {
				found = true
			}
		}
		if !found {
			t.Errorf("%v left: want %q (%s) among %+v", tc.left, tc.text, tc.class, facts)
		}
	}
}

func TestAgo(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "just now"},
		{500 * time.Millisecond, "just now"},
		{12 * time.Second, "12 s ago"},
		{89 * time.Second, "89 s ago"},
		{5 * time.Minute, "5 min ago"},
		{3 * time.Hour, "3 h ago"},
		{72 * time.Hour, "3 days ago"},
	} {
		if got := ago(tc.d); got != tc.want {
			t.Errorf("ago(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestOverviewPages(t *testing.T) {
	srv := serve(t, testStore(), Options{PageSize: 2})
	sectionRE := regexp.MustCompile(`<section class="target (ok|fail)" id="[^"]*" data-target="([^"]*)"`)
	pagerRE := regexp.MustCompile(`<a rel="(prev|next)" href="([^"]*)"`)
	type shown struct {
		targets  []string
		statuses []string
		links    map[string]string // rel → resolved URL
	}
	read := func(p page) shown {
		t.Helper()
		var s shown
		for _, m := range sectionRE.FindAllStringSubmatch(p.body, -1) {
			s.statuses = append(s.statuses, m[1])
			s.targets = append(s.targets, m[2])
		}
		s.links = map[string]string{}
		for _, m := range pagerRE.FindAllStringSubmatch(p.body, -1) {
			u, err := p.url.Parse(html.UnescapeString(m[2]))
			if err != nil {
				t.Fatal(err)
			}
			s.links[m[1]] = u.String()
		}
		return s
	}

	// Walk the pages by their "next" links: every target exactly once,
	// failing ones first, the summary counting all of them on every page.
	seen := map[string]int{}
	var statuses []string
	url := srv.URL + "/status"
	for n := 1; url != ""; n++ {
		p := get(t, url)
		if !strings.Contains(p.body, "4 of 6 targets failing") || !strings.Contains(p.body, fmt.Sprintf("page %d of 3", n)) {
			t.Fatalf("page %d: summary or pager missing", n)
		}
		s := read(p)
		if len(s.targets) != 2 {
			t.Fatalf("page %d shows %d targets, want 2", n, len(s.targets))
		}
		for _, name := range s.targets {
			seen[name]++
		}
		statuses = append(statuses, s.statuses...)
		if _, ok := s.links["prev"]; ok != (n > 1) {
			t.Errorf("page %d: previous link %v", n, ok)
		}
		url = s.links["next"]
		if n > 3 {
			t.Fatal("more than 3 pages")
		}
	}
	if len(seen) != 6 {
		t.Errorf("the pages show %d distinct targets, want 6: %v", len(seen), seen)
	}
	for name, n := range seen {
		if n != 1 {
			t.Errorf("%s shown on %d pages", name, n)
		}
	}
	if want := []string{"fail", "fail", "fail", "fail", "ok", "ok"}; !slices.Equal(statuses, want) {
		t.Errorf("statuses in page order %v, want failing first %v", statuses, want)
	}

	// The summary on page 1 links every failing target, on its own page.
	first := get(t, srv.URL+"/status")
	failing := regexp.MustCompile(`<li><a href="([^"]*)">`).FindAllStringSubmatch(first.body, -1)
	if len(failing) != 2 {
		t.Fatalf("%d failing-target links in the summary, want 2 (the page size) and a note of the rest", len(failing))
	}
	if !strings.Contains(first.body, "and 2 more, on the pages after the first") {
		t.Errorf("the summary does not say how many failing targets it left out")
	}
	for _, m := range failing {
		if !strings.HasPrefix(html.UnescapeString(m[1]), "#target-") {
			t.Errorf("failing target on page 1 linked as %q, want an anchor on this page", m[1])
		}
	}
	second := get(t, srv.URL+"/status?page=2")
	for _, m := range regexp.MustCompile(`<li><a href="([^"]*)">`).FindAllStringSubmatch(second.body, -1) {
		if href := html.UnescapeString(m[1]); !strings.HasPrefix(href, "?#target-") && !strings.HasPrefix(href, "#target-") {
			t.Errorf("failing target linked from page 2 as %q", href)
		}
	}

	// Out of range or nonsense page numbers land on a page that exists.
	if s := read(get(t, srv.URL+"/status?page=99")); !slices.Equal(s.statuses, []string{"ok", "ok"}) {
		t.Errorf("page=99: %v, want the last page", s.statuses)
	}
	if s := read(get(t, srv.URL+"/status?page=x")); !slices.Equal(s.statuses, []string{"fail", "fail"}) {
		t.Errorf("page=x: %v, want the first page", s.statuses)
	}

	// Paging keeps show=failing.
	f := read(get(t, srv.URL+"/status?show=failing"))
	if next := f.links["next"]; !strings.Contains(next, "show=failing") || !strings.Contains(next, "page=2") {
		t.Errorf("next page of the failing targets: %q", next)
	}
}

// TestFindingsAreNamed: a greylisted address behind postscreen whose
// STARTTLS was refused shows each of these facts in words on the overview
// and on its transcript page, and the DNS facts of its domain as notes.
func TestFindingsAreNamed(t *testing.T) {
	st := store.New()
	h := domainHost("mx1.grey.example", 10, "192.0.2.30")
	h.CNAME = "real.grey.example"
	h.Special = []dnsmx.SpecialAddr{{Addr: netip.MustParseAddr("192.0.2.30"), Range: "documentation"}}
	r := h.Results[0]
	r.Success, r.Reason, r.Detail = false, smtp.ReasonRcptDeferred, "RCPT TO:<postmaster@grey.example> deferred: 450 4.2.0 Greylisted"
	r.Recipients = []smtp.Recipient{{Address: "postmaster@grey.example", Reply: smtp.Reply{Code: 450, Enhanced: "4.2.0"}, Deferred: true}}
	r.TLS, r.ExtensionsTLS = nil, nil
	r.TLSFailure = &smtp.TLSFailure{Stage: smtp.TLSRefused, Reply: smtp.Reply{Code: 454, Enhanced: "4.7.0"}, Cause: "454 4.7.0 TLS not available", Fallback: true}
	r.Findings = []smtp.Finding{smtp.FindingGreetingDelayed, smtp.FindingGreylisted}
	r.GreetingFirstLine = time.Millisecond
	rep := domainReport("grey.example", h)
	rep.DNS.NullMXMixed = true
	st.Put(entry("default", rep))
	srv := serve(t, st, Options{})

	overview := get(t, srv.URL+"/status")
	transcript := get(t, overview.link(t, "transcript", "mx=mx1.grey.example"))
	for _, p := range []page{overview, transcript} {
		for _, want := range []string{
			"STARTTLS refused: 454 4.7.0 TLS not available",
			"TLS failed, mail would travel in clear",
			"greeting delayed: first line after 1.0 ms",
			"greylisted: the mailbox was deferred",
		} {
			if body := strings.ReplaceAll(p.body, "<wbr>", ""); !strings.Contains(body, html.EscapeString(want)) {
				t.Errorf("%s lacks %q", p.url.Path, want)
			}
		}
	}
	for _, want := range []string{report.NullMXMixedWords, "MX mx1.grey.example is an alias of real.grey.example", "192.0.2.30 is in a special-purpose range (documentation)"} {
		if !strings.Contains(overview.body, html.EscapeString(want)) {
			t.Errorf("overview lacks the note %q", want)
		}
	}
	if want := "postmaster@grey.example DEFERRED (try again later)"; !strings.Contains(transcript.body, want) {
		t.Errorf("transcript page lacks %q", want)
	}
}
