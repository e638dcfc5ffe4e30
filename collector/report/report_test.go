package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/probe/tlscheck"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var start = time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)

func msec(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }

// sampleReport is a domain with a healthy TLS MX and a dead one behind it.
func sampleReport() *probe.Report {
	ok := &smtp.Result{
		Host: "mx1.example.test", Addr: "192.0.2.1", Port: 25, Start: start, Duration: msec(12.5), Success: true,
		Banner:         smtp.Reply{Code: 220, Lines: []string{"mx1.example.test ESMTP"}},
		BannerHostname: "mx1.example.test",
		Steps: []smtp.Step{
			{Name: smtp.StepConnect, Duration: msec(0.4)},
			{Name: smtp.StepBanner, Reply: smtp.Reply{Code: 220}, Duration: msec(1)},
			{Name: smtp.StepEHLO, Sent: "EHLO probe.test", Reply: smtp.Reply{Code: 250}, Duration: msec(0.5)},
			{Name: smtp.StepRcpt, Sent: "RCPT TO:<postmaster@example.test>", Reply: smtp.Reply{Code: 250, Enhanced: "2.1.5"}, Duration: msec(0.7)},
		},
		Extensions: &smtp.Extensions{Greeting: "mx1.example.test", Keywords: []smtp.Keyword{{Name: "SIZE", Params: "10240000"}, {Name: "STARTTLS"}, {Name: "PIPELINING"}}, SizeAdvertised: true, Size: 10240000},
		TLS: &tlscheck.Info{Version: "TLS 1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", ServerName: "mx1.example.test",
			LeafNotAfter: start.Add(30 * 24 * time.Hour), ChainNotAfter: start.Add(30 * 24 * time.Hour), Verified: true},
		Recipients: []smtp.Recipient{{Address: "postmaster@example.test", Reply: smtp.Reply{Code: 250, Enhanced: "2.1.5"}, Accepted: true}},
		Relay:      &smtp.Relay{Address: "relay@outside.test", Reply: smtp.Reply{Code: 554, Enhanced: "5.7.1"}, Verdict: smtp.RelayRefused},
		Transcript: []smtp.Line{
			{At: msec(0.4), Dir: smtp.Note, Text: "connected to 192.0.2.1:25"},
			{At: msec(1.4), Dir: smtp.Received, Text: "220 mx1.example.test ESMTP"},
			{At: msec(1.5), Dir: smtp.Sent, Text: "EHLO probe.test"},
			{At: msec(2), Dir: smtp.Received, Text: "550 5.1.1 pretend"},
		},
	}
	dead := &smtp.Result{
		Host: "mx2.example.test", Addr: "192.0.2.2", Port: 25, Start: start, Duration: msec(0.3),
		Reason: smtp.ReasonConnectRefused, Detail: "nothing listens on 192.0.2.2:25 (connection refused)",
		Steps: []smtp.Step{{Name: smtp.StepConnect, Duration: msec(0.3), Err: "connection refused"}},
	}
	return &probe.Report{
		Target: probe.Target{Domain: "example.test"}, Start: start, Duration: msec(15),
		DNS: &dnsmx.Domain{Name: "example.test", Outcome: dnsmx.OutcomeAnswer, Rcode: "NOERROR", Duration: msec(1.2), Server: "127.0.53.1:53",
			Notes: []string{"MX host mx2.example.test listed at preferences 20 and 30: kept 20"}},
		Hosts: []probe.HostReport{
			{Host: dnsmx.Host{Name: "mx1.example.test", Preference: 10, Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")}}, Results: []*smtp.Result{ok}},
			{Host: dnsmx.Host{Name: "mx2.example.test", Preference: 20, Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.2")}}, Results: []*smtp.Result{dead}},
			{Host: dnsmx.Host{Name: "mx3.example.test", Preference: 30, Outcome: dnsmx.OutcomeNoData, Err: "no A or AAAA record"}},
		},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the rendering:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestWriteTextGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteText(&buf, sampleReport(), false); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte("\x1b[")) {
		t.Fatalf("plain rendering contains ANSI escapes")
	}
	golden(t, "example.test.txt", buf.Bytes())
}

func TestWriteTextColour(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteText(&buf, sampleReport(), true); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		string(colours.sent) + "C: EHLO probe.test",
		string(colours.bad) + "S: 550 5.1.1 pretend",
		string(colours.bad) + "FAIL connect_refused",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("coloured rendering lacks %q", want)
		}
	}
}

func TestDocumentJSON(t *testing.T) {
	b, err := json.MarshalIndent(NewDocument(sampleReport()), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "example.test.json", append(b, '\n'))

	var doc Document
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("the JSON does not read back: %v", err)
	}
	if doc.Success || doc.Kind != "domain" || len(doc.Hosts) != 3 || doc.Hosts[1].Addresses[0].Reason != smtp.ReasonConnectRefused {
		t.Fatalf("read back %+v, want a failed domain with 3 hosts and connect_refused on the second", doc)
	}
}

// oddReport has one of each named fact of a dialogue and of DNS: the text
// must put each in words, the JSON must carry each.
func oddReport() *probe.Report {
	grey := &smtp.Result{
		Host: "mx1.odd.test", Addr: "192.0.2.10", Port: 25, Start: start, Duration: msec(7300), Success: false,
		Reason: smtp.ReasonRcptDeferred, Detail: "RCPT TO:<postmaster@odd.test> deferred: 450 4.2.0 Greylisted, try again later",
		Banner:            smtp.Reply{Code: 220, Lines: []string{"mx1.odd.test ESMTP", "mx1.odd.test ESMTP"}},
		BannerHostname:    "mx1.odd.test",
		GreetingFirstLine: msec(0.8),
		Steps: []smtp.Step{
			{Name: smtp.StepConnect, Duration: msec(0.4)},
			{Name: smtp.StepBanner, Reply: smtp.Reply{Code: 220}, Duration: msec(6000)},
			{Name: smtp.StepEHLO, Sent: "EHLO probe.test", Reply: smtp.Reply{Code: 250}, Duration: msec(0.5)},
			{Name: smtp.StepStartTLS, Sent: "STARTTLS", Reply: smtp.Reply{Code: 454, Enhanced: "4.7.0"}, Duration: msec(0.3)},
			{Name: smtp.StepMail, Sent: "MAIL FROM:<>", Reply: smtp.Reply{Code: 250, Enhanced: "2.1.0"}, Duration: msec(0.3)},
			{Name: smtp.StepRcpt, Sent: "RCPT TO:<postmaster@odd.test>", Reply: smtp.Reply{Code: 450, Enhanced: "4.2.0"}, Duration: msec(1200)},
		},
		Extensions: &smtp.Extensions{Greeting: "mx1.odd.test", Keywords: []smtp.Keyword{{Name: "STARTTLS"}, {Name: "SIZE", Params: "-5"}, {Name: "PIPELINING"}, {Name: "8BITMIME"}},
			SizeAdvertised: true, SizeInvalid: true},
		TLSFailure: &smtp.TLSFailure{Stage: smtp.TLSRefused, Reply: smtp.Reply{Code: 454, Enhanced: "4.7.0", Lines: []string{"TLS not available due to local problem"}},
			Cause: "454 4.7.0 TLS not available due to local problem", Fallback: true},
		Recipients:  []smtp.Recipient{{Address: "postmaster@odd.test", Reply: smtp.Reply{Code: 450, Enhanced: "4.2.0"}, Deferred: true}},
		Relay:       &smtp.Relay{Address: "relay@outside.test", Reply: smtp.Reply{Code: 554, Enhanced: "5.7.1"}, Verdict: smtp.RelayRefused},
		Findings:    []smtp.Finding{smtp.FindingGreetingDelayed, smtp.FindingGreylisted, smtp.FindingSlowStep},
		SlowestStep: smtp.StepRcpt, SlowestStepDuration: msec(1200),
		Transcript: []smtp.Line{{At: msec(0.4), Dir: smtp.Note, Text: "connected to 192.0.2.10:25"}},
	}
	expired := &smtp.Result{
		Host: "mx1.odd.test", Addr: "192.0.2.11", Port: 25, Start: start, Duration: msec(20), Success: true,
		Banner:     smtp.Reply{Code: 220, Lines: []string{"***************************"}},
		Extensions: &smtp.Extensions{Greeting: "mx1.odd.test", Keywords: []smtp.Keyword{{Name: "PIPELINING"}}},
		TLS: &tlscheck.Info{Version: "TLS 1.2", CipherSuite: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", ServerName: "mx1.odd.test",
			LeafNotAfter: start.Add(-3 * 24 * time.Hour), ChainNotAfter: start.Add(-3 * 24 * time.Hour),
			VerifyError: "certificate expired"},
		Findings: []smtp.Finding{smtp.FindingMiddleboxBanner, smtp.FindingMiddleboxEHLO, smtp.FindingMiddleboxSTARTTLS},
	}
	return &probe.Report{
		Target: probe.Target{Domain: "odd.test"}, Start: start, Duration: msec(7400),
		DNS: &dnsmx.Domain{Name: "odd.test", Outcome: dnsmx.OutcomeAnswer, Rcode: "NOERROR", Duration: msec(1), NullMXMixed: true},
		Hosts: []probe.HostReport{
			{Host: dnsmx.Host{Name: "mx1.odd.test", Preference: 10, CNAME: "real.odd.test",
				Addrs:   []netip.Addr{netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("192.0.2.11")},
				Special: []dnsmx.SpecialAddr{{Addr: netip.MustParseAddr("192.0.2.10"), Range: "documentation"}, {Addr: netip.MustParseAddr("192.0.2.11"), Range: "documentation"}}},
				Results: []*smtp.Result{grey, expired}},
			{Host: dnsmx.Host{Name: "192.0.2.99", Preference: 20, IPLiteral: true, Outcome: dnsmx.OutcomeNXDomain, Err: "NXDOMAIN"}},
		},
	}
}

func TestWriteTextFindingsGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteText(&buf, oddReport(), false); err != nil {
		t.Fatal(err)
	}
	golden(t, "odd.test.txt", buf.Bytes())
	out := buf.String()
	// Each fact in words a mail admin reads without the source code.
	for _, want := range []string{
		"null MX (\"MX 0 .\") among other MX records",
		"MX mx1.odd.test is an alias of real.odd.test",
		"192.0.2.10 is in a special-purpose range (documentation)",
		"MX 192.0.2.99 names an IP address",
		"STARTTLS refused: 454 4.7.0 TLS not available due to local problem",
		"TLS failed, mail would travel in clear",
		"invalid SIZE value \"-5\"",
		"extensions: STARTTLS, SIZE -5, PIPELINING, 8BITMIME",
		"DEFERRED (try again later",
		"greeting delayed: first line after 0.8 ms, final line after 6000.0 ms",
		"greylisted:",
		"slow: rcpt took 1200.0 ms",
		"certificate EXPIRED on 2026-11-20 03:00 UTC, 3 days before this probe",
		"greeting is masked with asterisks",
		"EHLO keywords are masked",
		"STARTTLS was removed",
		"transcript of the probe started 2026-11-23 03:00:00.000 UTC; times count from that start",
		"DEGRADED odd.test: 1 of 2 addresses failed, 1 MX host has no address; delivery works through MX 10 mx1.odd.test",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "none declared") {
		t.Fatalf("an invalid SIZE must not read as no limit:\n%s", out)
	}
}

func TestDocumentJSONFindings(t *testing.T) {
	b, err := json.MarshalIndent(NewDocument(oddReport()), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "odd.test.json", append(b, '\n'))
	var doc Document
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	a := doc.Hosts[0].Addresses[0]
	switch {
	case !doc.DNS.NullMXMixed || !doc.Hosts[1].IPLiteral || len(doc.Hosts[0].Special) != 2:
		t.Fatalf("DNS facts lost: %+v %+v", doc.DNS, doc.Hosts)
	case len(a.Findings) != 3 || a.Findings[1] != smtp.FindingGreylisted:
		t.Fatalf("findings: want 3 with greylisted second, got %v", a.Findings)
	case a.TLSFailure == nil || a.TLSFailure.Stage != smtp.TLSRefused || !a.TLSFailure.Fallback || a.TLSFailure.Reply.Code != 454:
		t.Fatalf("tls_failure: got %+v", a.TLSFailure)
	case !a.Recipients[0].Deferred || a.Recipients[0].Accepted:
		t.Fatalf("recipient: want deferred, got %+v", a.Recipients[0])
	case a.SlowestStep == nil || a.SlowestStep.Name != "rcpt" || a.SlowestStep.DurationSeconds != 1.2:
		t.Fatalf("slowest_step: got %+v", a.SlowestStep)
	case !a.Extensions.SizeInvalid || a.Extensions.Keywords[1] != (Keyword{Name: "SIZE", Params: "-5"}):
		t.Fatalf("extensions: got %+v", a.Extensions)
	}
}

func TestSummaryLine(t *testing.T) {
	ok := func(addr string) *smtp.Result { return &smtp.Result{Addr: addr, Success: true} }
	bad := func(addr string, r smtp.Reason) *smtp.Result { return &smtp.Result{Addr: addr, Reason: r} }
	host := func(name string, pref uint16, rs ...*smtp.Result) probe.HostReport {
		h := probe.HostReport{Host: dnsmx.Host{Name: name, Preference: pref}, Results: rs}
		for _, r := range rs {
			h.Addrs = append(h.Addrs, netip.MustParseAddr(r.Addr))
		}
		return h
	}
	answer := &dnsmx.Domain{Outcome: dnsmx.OutcomeAnswer}
	for _, tc := range []struct {
		name string
		rep  *probe.Report
		want string
	}{
		{"all ok", &probe.Report{DNS: answer, Hosts: []probe.HostReport{host("mx1.d.test", 10, ok("192.0.2.1"), ok("192.0.2.2"))}},
			"OK d.test: 2 addresses passed"},
		{"dead primary", &probe.Report{DNS: answer, Hosts: []probe.HostReport{
			host("mx1.d.test", 10, bad("192.0.2.1", smtp.ReasonConnectRefused)), host("mx2.d.test", 20, ok("192.0.2.2"))}},
			"DEGRADED d.test: 1 of 2 addresses failed; delivery works through MX 20 mx2.d.test"},
		{"open relay takes mail but fails", &probe.Report{DNS: answer, Hosts: []probe.HostReport{host("mx1.d.test", 10, bad("192.0.2.1", smtp.ReasonRelayOpen))}},
			"FAIL d.test: 1 of 1 address failed"},
		{"all dead", &probe.Report{DNS: answer, Hosts: []probe.HostReport{host("mx1.d.test", 10, bad("192.0.2.1", smtp.ReasonBannerTimeout))}},
			"FAIL d.test: 1 of 1 address failed; no address takes mail"},
		{"greylisted everywhere", &probe.Report{DNS: answer, Hosts: []probe.HostReport{host("mx1.d.test", 10, bad("192.0.2.1", smtp.ReasonRcptDeferred))}},
			"FAIL d.test: 1 of 1 address failed; no address takes mail"},
		{"no address", &probe.Report{DNS: answer, Hosts: []probe.HostReport{host("mx1.d.test", 10)}},
			"FAIL d.test: no MX host has an address to deliver to"},
		{"nxdomain", &probe.Report{DNS: &dnsmx.Domain{Outcome: dnsmx.OutcomeNXDomain}}, "FAIL d.test: the MX lookup failed (nxdomain): senders cannot find where to deliver"},
		{"null mx", &probe.Report{DNS: &dnsmx.Domain{Outcome: dnsmx.OutcomeAnswer, NullMX: true}}, "OK d.test: null MX, accepts no mail by design"},
		{"implicit", &probe.Report{DNS: &dnsmx.Domain{Outcome: dnsmx.OutcomeNoData, Implicit: true}, Hosts: []probe.HostReport{
			host("d.test", 0, bad("192.0.2.1", smtp.ReasonConnectRefused), ok("192.0.2.2"))}},
			"DEGRADED d.test: 1 of 2 addresses failed; delivery works through the implicit MX d.test"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.rep.Target = probe.Target{Domain: "d.test"}
			var buf bytes.Buffer
			if err := WriteText(&buf, tc.rep, false); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if last := lines[len(lines)-1]; !strings.HasPrefix(last, tc.want+" (") {
				t.Fatalf("summary line:\nwant %q\ngot  %q", tc.want, last)
			}
		})
	}
}
