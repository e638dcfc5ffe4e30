package report

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsbl"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/rdns"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/probe/tlscheck"
)

// The fixtures of this file are the reverse DNS, blocklist and IPv6
// scenarios of the test environment (brief of issue 13), made by hand:
// what the engine reports for each, with the details in its words. Their
// goldens are in testdata/identity.

// idDialogue is a dialogue with addr that delivered: its greeting and EHLO
// reply name banner, STARTTLS with a certificate verified for host.
func idDialogue(host, addr, banner string) *smtp.Result {
	ip := netip.MustParseAddr(addr)
	_, domain, _ := strings.Cut(host, ".")
	return &smtp.Result{
		Host: host, Addr: addr, Port: 25, Start: start, Duration: msec(8), Success: true,
		Banner:         smtp.Reply{Code: 220, Lines: []string{banner + " ESMTP"}},
		BannerHostname: banner,
		Steps: []smtp.Step{
			{Name: smtp.StepConnect, Duration: msec(0.4)},
			{Name: smtp.StepBanner, Reply: smtp.Reply{Code: 220}, Duration: msec(1)},
			{Name: smtp.StepEHLO, Sent: "EHLO probe.test", Reply: smtp.Reply{Code: 250}, Duration: msec(0.5)},
			{Name: smtp.StepStartTLS, Sent: "STARTTLS", Reply: smtp.Reply{Code: 220, Enhanced: "2.0.0"}, Duration: msec(0.4)},
			{Name: smtp.StepTLSHandshake, Duration: msec(4)},
			{Name: smtp.StepRcpt, Sent: "RCPT TO:<postmaster@" + domain + ">", Reply: smtp.Reply{Code: 250, Enhanced: "2.1.5"}, Duration: msec(0.6)},
		},
		Extensions: &smtp.Extensions{Greeting: banner, Keywords: []smtp.Keyword{{Name: "PIPELINING"}, {Name: "STARTTLS"}}},
		TLS: &tlscheck.Info{Version: "TLS 1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", ServerName: host,
			LeafNotAfter: start.Add(60 * 24 * time.Hour), ChainNotAfter: start.Add(60 * 24 * time.Hour), Verified: true},
		Recipients: []smtp.Recipient{{Address: "postmaster@" + domain, Reply: smtp.Reply{Code: 250, Enhanced: "2.1.5"}, Accepted: true}},
		Transcript: []smtp.Line{
			{At: msec(0.4), Dir: smtp.Note, Text: "connected to " + netip.AddrPortFrom(ip, 25).String()},
			{At: msec(1.4), Dir: smtp.Received, Text: "220 " + banner + " ESMTP"},
		},
	}
}

// refusedAt makes r a dialogue whose recipient was refused.
func refusedAt(r *smtp.Result) *smtp.Result {
	_, domain, _ := strings.Cut(r.Host, ".")
	rcpt := "postmaster@" + domain
	r.Success, r.Reason = false, smtp.ReasonRcptRejected
	r.Detail = "RCPT TO:<" + rcpt + "> refused: 550 5.1.1 <" + rcpt + ">: Recipient address rejected: User unknown"
	r.Recipients = []smtp.Recipient{{Address: rcpt, Reply: smtp.Reply{Code: 550, Enhanced: "5.1.1"}}}
	r.Steps[len(r.Steps)-1].Reply = smtp.Reply{Code: 550, Enhanced: "5.1.1"}
	return r
}

func ptrLookup(addr string, o dnsmx.Outcome, names ...string) dnsmx.PTRLookup {
	a := netip.MustParseAddr(addr)
	l := dnsmx.PTRLookup{Addr: a, Name: reverseName(a), Outcome: o, Names: names, Duration: msec(0.7)}
	switch o {
	case dnsmx.OutcomeAnswer, dnsmx.OutcomeNoData:
		l.Rcode = "NOERROR"
	case dnsmx.OutcomeNXDomain:
		l.Rcode, l.Err = "NXDOMAIN", "NXDOMAIN"
	case dnsmx.OutcomeServFail:
		l.Rcode, l.Err = "SERVFAIL", "SERVFAIL from every server"
	}
	return l
}

// reverseName is written here rather than taken from dnsmx, whose
// ReverseName is the engine's: the fixtures must not depend on it.
func reverseName(a netip.Addr) string {
	if a.Is4() {
		b := a.As4()
		return netip.AddrFrom4([4]byte{b[3], b[2], b[1], b[0]}).String() + ".in-addr.arpa"
	}
	const hex = "0123456789abcdef"
	b := a.As16()
	var s strings.Builder
	for i := 15; i >= 0; i-- {
		s.WriteByte(hex[b[i]&0xf])
		s.WriteByte('.')
		s.WriteByte(hex[b[i]>>4])
		s.WriteByte('.')
	}
	return s.String() + "ip6.arpa"
}

func confirmed(addr, name string) *rdns.Check {
	return &rdns.Check{
		PTR:     ptrLookup(addr, dnsmx.OutcomeAnswer, name),
		Forward: []rdns.Forward{{Name: name, Outcome: dnsmx.OutcomeAnswer, Confirmed: true}},
		Name:    name, Status: rdns.StatusConfirmed,
		Detail: addr + " is " + name + ", which resolves back to it",
	}
}

func notConfirmed(addr, name string, forward dnsmx.Outcome, detail string) *rdns.Check {
	f := rdns.Forward{Name: name, Outcome: forward}
	switch forward {
	case dnsmx.OutcomeNXDomain:
		f.Err = "NXDOMAIN"
	case dnsmx.OutcomeNoData:
		f.Err = "no A record"
	}
	return &rdns.Check{PTR: ptrLookup(addr, dnsmx.OutcomeAnswer, name), Forward: []rdns.Forward{f}, Name: name, Status: rdns.StatusNotConfirmed, Detail: detail}
}

func agree(mx string, ptr []string, banner string) *rdns.Names {
	return &rdns.Names{MX: mx, PTR: ptr, Banner: banner, EHLO: banner, Agree: true, Detail: "banner, EHLO, MX and PTR agree on " + mx}
}

func disagree(mx string, ptr []string, banner, detail string, pairs ...rdns.Pair) *rdns.Names {
	return &rdns.Names{MX: mx, PTR: ptr, Banner: banner, EHLO: banner, Mismatches: pairs, Detail: detail}
}

func query(zone, subject string) string {
	if a, err := netip.ParseAddr(subject); err == nil {
		return strings.TrimSuffix(strings.TrimSuffix(reverseName(a), ".in-addr.arpa"), ".ip6.arpa") + "." + zone
	}
	return subject + "." + zone
}

func listedIn(zone, subject, code, reason string) dnsbl.Result {
	return dnsbl.Result{Zone: zone, Subject: subject, Query: query(zone, subject), Verdict: dnsbl.VerdictListed,
		Codes: []netip.Addr{netip.MustParseAddr(code)}, Reason: reason, Detail: "listed in " + zone + " (" + code + ")", Checked: start}
}

func notListedIn(zone, subject string) dnsbl.Result {
	return dnsbl.Result{Zone: zone, Subject: subject, Query: query(zone, subject), Verdict: dnsbl.VerdictNotListed,
		Detail: "not listed in " + zone, Checked: start}
}

func listError(zone, subject string, e dnsbl.Error, detail string, codes ...string) dnsbl.Result {
	r := dnsbl.Result{Zone: zone, Subject: subject, Query: query(zone, subject), Verdict: dnsbl.VerdictError, Error: e, Detail: detail, Checked: start}
	for _, c := range codes {
		r.Codes = append(r.Codes, netip.MustParseAddr(c))
	}
	return r
}

// cached makes r an answer from the exporter's cache, asked ago before
// the probe.
func cached(r dnsbl.Result, ago time.Duration) dnsbl.Result {
	r.Cached, r.Checked = true, start.Add(-ago)
	return r
}

// idHost is an MX host with one dialogue per result, in the same order as
// its addresses.
func idHost(name string, pref uint16, parity probe.Parity, rs ...*smtp.Result) probe.HostReport {
	h := probe.HostReport{Host: dnsmx.Host{Name: name, Preference: pref, Outcome: dnsmx.OutcomeAnswer, Duration: msec(0.9)}, Results: rs, Parity: parity}
	for _, r := range rs {
		h.Addrs = append(h.Addrs, netip.MustParseAddr(r.Addr))
	}
	return h
}

func idReport(domain string, hosts ...probe.HostReport) *probe.Report {
	return &probe.Report{
		Target: probe.Target{Domain: domain}, Start: start, Duration: msec(14),
		DNS:   &dnsmx.Domain{Name: domain, Outcome: dnsmx.OutcomeAnswer, Rcode: "NOERROR", Duration: msec(1.1), Server: "127.0.53.1:53"},
		Hosts: hosts,
	}
}

// goodReport: both MX hosts of good.test have FCrDNS, names that agree,
// and no listing; no IPv6.
func goodReport() *probe.Report {
	mx1 := idHost("mx1.good.test", 10, probe.ParityIPv4Only, idDialogue("mx1.good.test", "127.0.1.1", "mx1.good.test"))
	mx1.Reverse = []*rdns.Check{confirmed("127.0.1.1", "mx1.good.test")}
	mx1.Names = []*rdns.Names{agree("mx1.good.test", []string{"mx1.good.test"}, "mx1.good.test")}
	mx1.Listings = [][]dnsbl.Result{{notListedIn("bl.test", "127.0.1.1")}}
	mx1.NameListings = []dnsbl.Result{notListedIn("dbl.test", "mx1.good.test")}
	mx2 := idHost("mx2.good.test", 20, probe.ParityIPv4Only, idDialogue("mx2.good.test", "127.0.1.2", "mx2.good.test"))
	mx2.Reverse = []*rdns.Check{confirmed("127.0.1.2", "mx2.good.test")}
	mx2.Names = []*rdns.Names{agree("mx2.good.test", []string{"mx2.good.test"}, "mx2.good.test")}
	mx2.Listings = [][]dnsbl.Result{{cached(notListedIn("bl.test", "127.0.1.2"), 4*time.Minute)}}
	mx2.NameListings = []dnsbl.Result{notListedIn("dbl.test", "mx2.good.test")}
	return idReport("good.test", mx1, mx2)
}

// relayReport: mx.relay.test's address is mail.other.test in reverse DNS
// (confirmed, but neither its greeting nor its MX name), listed in bl.test
// with a reason, and its host name is listed in dbl.test.
func relayReport() *probe.Report {
	h := idHost("mx.relay.test", 10, probe.ParityIPv4Only, idDialogue("mx.relay.test", "127.0.1.3", "mx.relay.test"))
	h.Reverse = []*rdns.Check{confirmed("127.0.1.3", "mail.other.test")}
	h.Names = []*rdns.Names{disagree("mx.relay.test", []string{"mail.other.test"}, "mx.relay.test",
		"banner and MX say mx.relay.test, PTR says mail.other.test", rdns.PairBannerPTR, rdns.PairPTRMX)}
	h.Listings = [][]dnsbl.Result{{listedIn("bl.test", "127.0.1.3", "127.0.0.4", "127.0.1.3 listed: open relay (test listing)")}}
	h.NameListings = []dnsbl.Result{listedIn("dbl.test", "mx.relay.test", "127.0.1.2", "mx.relay.test listed (test listing)")}
	return idReport("relay.test", h)
}

// greylistReport: the PTR name of mx.greylist.test's address has no
// address of its own, and bl.test refuses the query (127.255.255.254).
func greylistReport() *probe.Report {
	h := idHost("mx.greylist.test", 10, probe.ParityIPv4Only, idDialogue("mx.greylist.test", "127.0.1.8", "mx.greylist.test"))
	h.Reverse = []*rdns.Check{notConfirmed("127.0.1.8", "ptronly.other.test", dnsmx.OutcomeNoData,
		"127.0.1.8 has PTR ptronly.other.test, which has no address (no A record): not forward-confirmed; receivers that require FCrDNS reject mail this gateway sends")}
	h.Names = []*rdns.Names{disagree("mx.greylist.test", []string{"ptronly.other.test"}, "mx.greylist.test",
		"banner and MX say mx.greylist.test, PTR says ptronly.other.test", rdns.PairBannerPTR, rdns.PairPTRMX)}
	h.Listings = [][]dnsbl.Result{{listError("bl.test", "127.0.1.8", dnsbl.ErrorRefusedQuery,
		"bl.test refused the query (127.255.255.254): it answers so to queries through a public or open resolver, "+
			"to too many queries, or to a typo or a missing key in the zone name; not a listing", "127.255.255.254")}}
	h.NameListings = []dnsbl.Result{notListedIn("dbl.test", "mx.greylist.test")}
	return idReport("greylist.test", h)
}

// slowReport: mx.slow.test's address has no PTR record, and bl.test
// answers it outside 127.0.0.0/8.
func slowReport() *probe.Report {
	h := idHost("mx.slow.test", 10, probe.ParityIPv4Only, idDialogue("mx.slow.test", "127.0.1.9", "mx.slow.test"))
	h.Reverse = []*rdns.Check{{PTR: ptrLookup("127.0.1.9", dnsmx.OutcomeNXDomain), Status: rdns.StatusNoPTR,
		Detail: "127.0.1.9 has no PTR record (9.1.0.127.in-addr.arpa does not exist): receivers that require reverse DNS reject mail this gateway sends"}}
	h.Names = []*rdns.Names{{MX: "mx.slow.test", Banner: "mx.slow.test", EHLO: "mx.slow.test", Agree: true, Detail: "banner, EHLO and MX agree on mx.slow.test"}}
	h.Listings = [][]dnsbl.Result{{listError("bl.test", "127.0.1.9", dnsbl.ErrorOutsideLoopback,
		"bl.test answered 192.0.2.9, outside 127.0.0.0/8: no list's answer (a resolver rewriting answers, or a zone that is no blocklist); not a listing")}}
	return idReport("slow.test", h)
}

// lookupFailedReport: the PTR lookup fails (SERVFAIL), one list fails too
// and the domain list does not answer in time; nothing is known and
// nothing is said to be listed.
func lookupFailedReport() *probe.Report {
	h := idHost("mx.ptrfail.test", 10, probe.ParityIPv4Only, idDialogue("mx.ptrfail.test", "127.0.1.20", "mx.ptrfail.test"))
	h.Reverse = []*rdns.Check{{PTR: ptrLookup("127.0.1.20", dnsmx.OutcomeServFail), Status: rdns.StatusLookupFailed,
		Detail: "the PTR lookup of 127.0.1.20 failed (SERVFAIL from every server): whether it has reverse DNS is not known"}}
	h.Names = []*rdns.Names{{MX: "mx.ptrfail.test", Banner: "mx.ptrfail.test", EHLO: "mx.ptrfail.test", Agree: true, Detail: "banner, EHLO and MX agree on mx.ptrfail.test"}}
	h.Listings = [][]dnsbl.Result{{
		listError("bl.test", "127.0.1.20", dnsbl.ErrorLookupFailed, "the lookup of 20.1.0.127.bl.test failed: A lookup: SERVFAIL"),
		notListedIn("other.test", "127.0.1.20"),
	}}
	h.NameListings = []dnsbl.Result{listError("dbl.test", "mx.ptrfail.test", dnsbl.ErrorTimeout, "deadline reached before an answer for mx.ptrfail.test.dbl.test")}
	return idReport("ptrfail.test", h)
}

// unhealthyReport is good.test asked in bl.test and in brokenbl.test,
// which lists 127.0.0.1 and so fails its health check: said once, not
// under each address.
func unhealthyReport() *probe.Report {
	rep := goodReport()
	const detail = "not asked: brokenbl.test lists 127.0.0.1, which no list may: it answers everything " +
		"(a wildcard, or a resolver rewriting NXDOMAIN); its answers are not trusted"
	for i := range rep.Hosts {
		h := &rep.Hosts[i]
		h.Listings[0] = append(h.Listings[0], listError("brokenbl.test", h.Results[0].Addr, dnsbl.ErrorZoneUnhealthy, detail))
	}
	return rep
}

// v6brokenReport: mx.v6broken.test takes the recipient over IPv4 and
// refuses it over IPv6; ::1 is listed in bl.test.
func v6brokenReport() *probe.Report {
	h := idHost("mx.v6broken.test", 10, probe.ParityIPv6Failing,
		idDialogue("mx.v6broken.test", "127.0.1.1", "mx1.good.test"), refusedAt(idDialogue("mx.v6broken.test", "::1", "mx.v6.test")))
	h.Reverse = []*rdns.Check{confirmed("127.0.1.1", "mx1.good.test"), confirmed("::1", "mx.v6.test")}
	h.Names = []*rdns.Names{
		disagree("mx.v6broken.test", []string{"mx1.good.test"}, "mx1.good.test", "banner and PTR say mx1.good.test, MX says mx.v6broken.test", rdns.PairBannerMX, rdns.PairPTRMX),
		disagree("mx.v6broken.test", []string{"mx.v6.test"}, "mx.v6.test", "banner and PTR say mx.v6.test, MX says mx.v6broken.test", rdns.PairBannerMX, rdns.PairPTRMX),
	}
	h.Listings = [][]dnsbl.Result{
		{notListedIn("bl.test", "127.0.1.1")},
		{listedIn("bl.test", "::1", "127.0.0.3", "::1 listed (IPv6 test listing)")},
	}
	return idReport("v6broken.test", h)
}

// v4brokenReport: the other way round, without reverse DNS or lists.
func v4brokenReport() *probe.Report {
	return idReport("v4broken.test", idHost("mx.v4broken.test", 10, probe.ParityIPv4Failing,
		refusedAt(idDialogue("mx.v4broken.test", "127.0.1.2", "mx2.good.test")), idDialogue("mx.v4broken.test", "::1", "mx.v6.test")))
}

// dualReport: both families pass.
func dualReport() *probe.Report {
	return idReport("dual.test", idHost("mx.dual.test", 10, probe.ParityBothPass,
		idDialogue("mx.dual.test", "127.0.1.1", "mx1.good.test"), idDialogue("mx.dual.test", "::1", "mx.v6.test")))
}

// v6OnlyReport: the only MX host has only an IPv6 address.
func v6OnlyReport() *probe.Report {
	h := idHost("mx.v6.test", 10, probe.ParityIPv6Only, idDialogue("mx.v6.test", "::1", "mx.v6.test"))
	h.Reverse = []*rdns.Check{confirmed("::1", "mx.v6.test")}
	h.Names = []*rdns.Names{agree("mx.v6.test", []string{"mx.v6.test"}, "mx.v6.test")}
	return idReport("v6.test", h)
}

// hostTargetReport is mx.v6broken.test probed as a host target.
func hostTargetReport() *probe.Report {
	rep := v6brokenReport()
	rep.Target, rep.DNS = probe.Target{Host: "mx.v6broken.test"}, nil
	return rep
}

var identityScenarios = []struct {
	name string
	rep  func() *probe.Report
}{
	{"good.test", goodReport},
	{"relay.test", relayReport},
	{"greylist.test", greylistReport},
	{"slow.test", slowReport},
	{"ptrfail.test", lookupFailedReport},
	{"brokenbl.good.test", unhealthyReport},
	{"v6broken.test", v6brokenReport},
	{"v4broken.test", v4brokenReport},
	{"dual.test", dualReport},
	{"v6.test", v6OnlyReport},
}

func identityGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Join("testdata", "identity"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	golden(t, filepath.Join("identity", name), got)
}

func TestWriteTextIdentityGolden(t *testing.T) {
	for _, tc := range identityScenarios {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteText(&buf, tc.rep(), false); err != nil {
				t.Fatal(err)
			}
			identityGolden(t, tc.name+".txt", buf.Bytes())
		})
	}
}

// TestWriteTextIdentity: each fact in the words a mail admin reads, where
// the admin looks for it.
func TestWriteTextIdentity(t *testing.T) {
	for _, tc := range []struct {
		rep  func() *probe.Report
		want []string
		not  []string
	}{
		{goodReport, []string{
			"  127.0.1.1 port 25 (PTR mx1.good.test, forward-confirmed)\n",
			"    blocklist:  not listed in bl.test\n",
			"    blocklist:  not listed in bl.test (cached, asked 4 min ago)\n",
			"  blocklist: not listed in dbl.test\n",
			"\nIPv6: no MX host has an IPv6 address\n",
			"\nOK good.test: 2 addresses passed (14.0 ms)\n",
		}, []string{"names:", "PTR:", "LISTED"}},
		{relayReport, []string{
			"  127.0.1.3 port 25 (PTR mail.other.test, forward-confirmed)\n",
			"    names:      banner and MX say mx.relay.test, PTR says mail.other.test\n",
			"    blocklist:  LISTED in bl.test (127.0.0.4): \"127.0.1.3 listed: open relay (test listing)\"\n",
			"MX 10 mx.relay.test\n  blocklist: LISTED in dbl.test (127.0.1.2): \"mx.relay.test listed (test listing)\"\n",
			"\nOK relay.test: 1 address passed; 1 address listed in bl.test; 1 MX host name listed in dbl.test (14.0 ms)\n",
		}, nil},
		{greylistReport, []string{
			"  127.0.1.8 port 25 (PTR ptronly.other.test, NOT forward-confirmed)\n",
			"    PTR:        127.0.1.8 has PTR ptronly.other.test, which has no address (no A record): not forward-confirmed; receivers that require FCrDNS reject mail this gateway sends\n",
			"    blocklist:  bl.test refused the query (127.255.255.254): it answers so to queries through a public or open resolver, to too many queries, or to a typo or a missing key in the zone name; not a listing\n",
			"; 1 address without forward-confirmed reverse DNS (14.0 ms)\n",
		}, []string{"LISTED", "listed in bl.test"}},
		{slowReport, []string{
			"  127.0.1.9 port 25 (no PTR)\n",
			"    PTR:        127.0.1.9 has no PTR record (9.1.0.127.in-addr.arpa does not exist): receivers that require reverse DNS reject mail this gateway sends\n",
			"    blocklist:  bl.test answered 192.0.2.9, outside 127.0.0.0/8: no list's answer (a resolver rewriting answers, or a zone that is no blocklist); not a listing\n",
		}, []string{"names:", "LISTED"}},
		{lookupFailedReport, []string{
			"  127.0.1.20 port 25 (PTR lookup failed: SERVFAIL)\n",
			"    PTR:        the PTR lookup of 127.0.1.20 failed (SERVFAIL from every server): whether it has reverse DNS is not known\n",
			"    blocklist:  bl.test: the lookup of 20.1.0.127.bl.test failed: A lookup: SERVFAIL; not a listing\n",
			"                not listed in other.test\n",
			"  blocklist: dbl.test: deadline reached before an answer for mx.ptrfail.test.dbl.test; not a listing\n",
			"\nOK ptrfail.test: 1 address passed (14.0 ms)\n",
		}, []string{"without forward-confirmed"}},
		{unhealthyReport, []string{
			"good.test\nblocklist brokenbl.test is UNHEALTHY: brokenbl.test lists 127.0.0.1, which no list may: it answers everything (a wildcard, or a resolver rewriting NXDOMAIN); its answers are not trusted (2 results left out)\n",
		}, []string{"brokenbl.test: the zone"}},
		{v6brokenReport, []string{
			"  ::1 port 25 (PTR mx.v6.test, forward-confirmed)\n",
			"    names:      banner and PTR say mx.v6.test, MX says mx.v6broken.test\n",
			"    blocklist:  LISTED in bl.test (127.0.0.3): \"::1 listed (IPv6 test listing)\"\n",
			"\nIPv6: the MX host has IPv6 addresses\n  IPv6 broken for mx.v6broken.test while IPv4 works: ::1 failed (rcpt_rejected)\n",
			"\nDEGRADED v6broken.test: 1 of 2 addresses failed; delivery works through MX 10 mx.v6broken.test; 1 address listed in bl.test; IPv6 broken for mx.v6broken.test while IPv4 works (14.0 ms)\n",
		}, nil},
		{v4brokenReport, []string{
			"  IPv4 broken for mx.v4broken.test while IPv6 works: 127.0.1.2 failed (rcpt_rejected)\n",
			"; IPv4 broken for mx.v4broken.test while IPv6 works (14.0 ms)\n",
		}, []string{"PTR", "blocklist", "names:"}},
		{dualReport, []string{"\nIPv6: the MX host has IPv6 addresses\n  mx.dual.test works over IPv4 and IPv6\n", "\nOK dual.test: 2 addresses passed (14.0 ms)\n"}, nil},
		{v6OnlyReport, []string{"  mx.v6.test has IPv6 addresses only: senders without IPv6 cannot reach it\n", "\nOK v6.test: 1 address passed (14.0 ms)\n"}, nil},
		{hostTargetReport, []string{"\nIPv6: IPv6 broken for mx.v6broken.test while IPv4 works: ::1 failed (rcpt_rejected)\n"}, []string{"MX host has"}},
	} {
		rep := tc.rep()
		t.Run(rep.Target.Name(), func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteText(&buf, rep, false); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			for _, want := range tc.want {
				if !strings.Contains(out, want) {
					t.Fatalf("report lacks %q:\n%s", want, out)
				}
			}
			for _, not := range tc.not {
				if strings.Contains(out, not) {
					t.Fatalf("report says %q:\n%s", not, out)
				}
			}
		})
	}
}

// TestWriteTextIdentityColour: listings, a missing FCrDNS and an IPv6 gap
// are amber, never red, and the OK stays green.
func TestWriteTextIdentityColour(t *testing.T) {
	for _, tc := range []struct {
		rep  func() *probe.Report
		want []string
	}{
		{relayReport, []string{
			" (" + string(colours.ok) + "PTR mail.other.test, forward-confirmed" + string(colours.reset) + ")",
			string(colours.warn) + "LISTED in bl.test",
			string(colours.warn) + "banner and MX say mx.relay.test",
			string(colours.ok) + "OK" + string(colours.reset) + " relay.test: 1 address passed; " + string(colours.warn) + "1 address listed in bl.test",
		}},
		{greylistReport, []string{" (" + string(colours.warn) + "PTR ptronly.other.test, NOT forward-confirmed" + string(colours.reset) + ")"}},
		{v6brokenReport, []string{string(colours.warn) + "IPv6 broken for mx.v6broken.test while IPv4 works: ::1"}},
		{dualReport, []string{string(colours.ok) + "mx.dual.test works over IPv4 and IPv6"}},
	} {
		rep := tc.rep()
		var buf bytes.Buffer
		if err := WriteText(&buf, rep, true); err != nil {
			t.Fatal(err)
		}
		for _, want := range tc.want {
			if !strings.Contains(buf.String(), want) {
				t.Fatalf("coloured %s lacks %q:\n%q", rep.Target.Name(), want, buf.String())
			}
		}
		if strings.Contains(buf.String(), string(colours.bad)+"LISTED") {
			t.Fatalf("a listing of %s is red: it is a fact, not a failure", rep.Target.Name())
		}
	}
}

// TestIdentityNeverFails: listings, a missing FCrDNS and an IPv6 gap leave
// an OK report OK.
func TestIdentityNeverFails(t *testing.T) {
	for _, rep := range []*probe.Report{relayReport(), greylistReport(), slowReport(), lookupFailedReport(), unhealthyReport()} {
		var buf bytes.Buffer
		if err := WriteText(&buf, rep, false); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if last := lines[len(lines)-1]; !strings.HasPrefix(last, "OK "+rep.Target.Name()+":") {
			t.Fatalf("%s: want an OK last line, got %q", rep.Target.Name(), last)
		}
		if doc := NewDocument(rep); !doc.Success {
			t.Fatalf("%s: the document says the probe failed", rep.Target.Name())
		}
	}
}

func TestNamesWords(t *testing.T) {
	for _, tc := range []struct {
		names *rdns.Names
		want  string
	}{
		{nil, ""},
		{agree("mx.a.test", []string{"mx.a.test"}, "mx.a.test"), ""},
		{disagree("mx.a.test", []string{"mail.b.test"}, "mx.a.test", "", rdns.PairBannerPTR, rdns.PairPTRMX),
			"banner says mx.a.test, PTR says mail.b.test; MX is mx.a.test"},
		{disagree("mx.a.test", []string{"mail.b.test", "mail.c.test"}, "mx.a.test", "", rdns.PairBannerPTR, rdns.PairPTRMX),
			"banner says mx.a.test, PTR says mail.b.test or mail.c.test; MX is mx.a.test"},
		{disagree("mx.a.test", nil, "gw.a.test", "", rdns.PairBannerMX), "banner says gw.a.test; MX is mx.a.test"},
		{&rdns.Names{MX: "mx.a.test", Banner: "mx.a.test", EHLO: "other.a.test", Mismatches: []rdns.Pair{rdns.PairEHLOBanner}},
			"banner says mx.a.test, EHLO says other.a.test"},
		{disagree("mx.a.test", []string{"mx.a.test"}, "gw.a.test", "", rdns.PairBannerMX, rdns.PairBannerPTR),
			"banner says gw.a.test, PTR says mx.a.test; MX is mx.a.test"},
		// The engine's detail, when there is one, is the words.
		{disagree("mx.a.test", []string{"mail.b.test"}, "mx.a.test", "banner and MX say mx.a.test, PTR says mail.b.test", rdns.PairBannerPTR, rdns.PairPTRMX),
			"banner and MX say mx.a.test, PTR says mail.b.test"},
	} {
		if got := NamesWords(tc.names); got != tc.want {
			t.Fatalf("NamesWords(%+v):\nwant %q\ngot  %q", tc.names, tc.want, got)
		}
	}
}

func TestListingWords(t *testing.T) {
	multi := listedIn("bl.test", "192.0.2.1", "127.0.0.2", "")
	multi.Codes = append(multi.Codes, netip.MustParseAddr("127.0.0.10"))
	for _, tc := range []struct {
		r    dnsbl.Result
		want string
	}{
		{listedIn("bl.test", "192.0.2.1", "127.0.0.2", "spam source \"x\"\x1b[31m"), `LISTED in bl.test (127.0.0.2): "spam source \"x\"?[31m"`},
		{multi, "LISTED in bl.test (127.0.0.2, 127.0.0.10)"},
		{cached(notListedIn("bl.test", "192.0.2.1"), 90*time.Minute), "not listed in bl.test (cached, asked 1 h ago)"},
		{listError("bl.test", "192.0.2.1", dnsbl.ErrorOutsideLoopback, "", "192.0.2.9"),
			"bl.test: the answer (192.0.2.9) is outside 127.0.0.0/8, so it is no blocklist answer; not a listing"},
		{listError("bl.test", "192.0.2.1", dnsbl.ErrorTimeout, ""), "bl.test: no answer in time; not a listing"},
		{listError("bl.test", "192.0.2.1", dnsbl.ErrorRefusedQuery, "bl.test refused the query (127.255.255.254): …; not a listing", "127.255.255.254"),
			"bl.test refused the query (127.255.255.254): …; not a listing"},
		{listError("bl.test", "192.0.2.1", dnsbl.ErrorRefusedQuery, "", "127.255.255.254"),
			"bl.test: the list refused the query (127.255.255.254): it refuses public or open resolvers or too many queries; not a listing"},
		{listError("bl.test", "192.0.2.1", dnsbl.ErrorTimeout, "deadline reached before an answer for 1.2.0.192.bl.test"),
			"bl.test: deadline reached before an answer for 1.2.0.192.bl.test; not a listing"},
		{listError("bl.test", "192.0.2.1", dnsbl.ErrorZoneUnhealthy, ""), "bl.test: the zone fails its health check, its answers are not trusted; not a listing"},
	} {
		if got := ListingWords(&tc.r, start); got != tc.want {
			t.Fatalf("ListingWords(%+v):\nwant %q\ngot  %q", tc.r, tc.want, got)
		}
	}
}

func TestReverseWords(t *testing.T) {
	two := confirmed("192.0.2.1", "a.test")
	two.PTR.Names = []string{"a.test", "b.test"}
	two.Detail = "192.0.2.1 is a.test, which resolves back to it (and 1 other PTR name)"
	twoBare := confirmed("192.0.2.1", "a.test")
	twoBare.PTR.Names, twoBare.Detail = []string{"a.test", "b.test"}, ""
	wrong := notConfirmed("127.0.1.10", "wrongaddr.other.test", dnsmx.OutcomeAnswer, "")
	v6 := notConfirmed("2001:db8::1", "v6.test", dnsmx.OutcomeNoData, "")
	invalid := &rdns.Check{PTR: ptrLookup("192.0.2.1", dnsmx.OutcomeAnswer), Status: rdns.StatusNoPTR}
	invalid.PTR.Invalid = 2
	for _, tc := range []struct {
		c           *rdns.Check
		label, more string
	}{
		{confirmed("192.0.2.1", "a.test"), "PTR a.test, forward-confirmed", ""},
		{two, "PTR a.test (1 of 2 names), forward-confirmed", "192.0.2.1 is a.test, which resolves back to it (and 1 other PTR name)"},
		{twoBare, "PTR a.test (1 of 2 names), forward-confirmed", "PTR names a.test, b.test; a.test resolves back to 192.0.2.1"},
		{wrong, "PTR wrongaddr.other.test, NOT forward-confirmed", "wrongaddr.other.test resolves to other addresses, not 127.0.1.10: " + FCrDNSConsequence},
		{v6, "PTR v6.test, NOT forward-confirmed", "v6.test has no AAAA record: " + FCrDNSConsequence},
		{invalid, "no valid PTR", "1.2.0.192.in-addr.arpa: 2 PTR targets are not host names: " + FCrDNSConsequence},
	} {
		if got := ReverseLabel(tc.c); got != tc.label {
			t.Fatalf("ReverseLabel(%+v):\nwant %q\ngot  %q", tc.c, tc.label, got)
		}
		if got := ReverseWords(tc.c); got != tc.more {
			t.Fatalf("ReverseWords(%+v):\nwant %q\ngot  %q", tc.c, tc.more, got)
		}
	}
}
