package status

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsbl"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/rdns"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/report"
	"github.com/mx-exporter/mx_exporter/collector/store"
)

// hostileReason stands for a blocklist's TXT reason and a list's error
// detail, which their operators control: the pages must show them,
// escaped.
const hostileReason = `listed <script>alert(1)</script> see <a href="x">here</a>`

func confirmedPTR(addr, name string) *rdns.Check {
	return &rdns.Check{
		PTR:     dnsmx.PTRLookup{Addr: netip.MustParseAddr(addr), Name: "x.in-addr.arpa", Outcome: dnsmx.OutcomeAnswer, Names: []string{name}},
		Forward: []rdns.Forward{{Name: name, Outcome: dnsmx.OutcomeAnswer, Confirmed: true}},
		Name:    name, Status: rdns.StatusConfirmed,
	}
}

func zoneResult(zone, subject string, v dnsbl.Verdict, e dnsbl.Error, code, reason, detail string) dnsbl.Result {
	r := dnsbl.Result{Zone: zone, Subject: subject, Verdict: v, Error: e, Reason: reason, Detail: detail, Checked: testTaken}
	if code != "" {
		r.Codes = []netip.Addr{netip.MustParseAddr(code)}
	}
	return r
}

// identityStore holds one domain per fact the pages must show: a listed
// address and host name with names that disagree, a PTR that does not
// resolve back with a list that refuses the query, an IPv6 gap, a zone
// that fails its health check, a hostile reason and detail, and a domain
// with none of it.
func identityStore() *store.Store {
	st := store.New()

	relay := domainReport("relay.example", domainHost("mx.relay.example", 10, "192.0.2.3"))
	h := &relay.Hosts[0]
	h.Parity = probe.ParityIPv4Only
	h.Reverse = []*rdns.Check{confirmedPTR("192.0.2.3", "mail.other.example")}
	h.Names = []*rdns.Names{{MX: "mx.relay.example", PTR: []string{"mail.other.example"}, Banner: "mx.relay.example", EHLO: "mx.relay.example",
		Mismatches: []rdns.Pair{rdns.PairBannerPTR, rdns.PairPTRMX}}}
	h.Listings = [][]dnsbl.Result{{zoneResult("bl.example", "192.0.2.3", dnsbl.VerdictListed, "", "127.0.0.4", "192.0.2.3 listed: open relay", "")}}
	h.NameListings = []dnsbl.Result{zoneResult("dbl.example", "mx.relay.example", dnsbl.VerdictListed, "", "127.0.1.2", "mx.relay.example listed", "")}
	st.Put(entry("default", relay))

	grey := domainReport("greylist.example", domainHost("mx.greylist.example", 10, "192.0.2.8"))
	h = &grey.Hosts[0]
	h.Parity = probe.ParityIPv4Only
	h.Reverse = []*rdns.Check{{
		PTR:     dnsmx.PTRLookup{Addr: netip.MustParseAddr("192.0.2.8"), Name: "8.2.0.192.in-addr.arpa", Outcome: dnsmx.OutcomeAnswer, Names: []string{"ptronly.other.example"}},
		Forward: []rdns.Forward{{Name: "ptronly.other.example", Outcome: dnsmx.OutcomeNXDomain}},
		Name:    "ptronly.other.example", Status: rdns.StatusNotConfirmed,
	}}
	h.Listings = [][]dnsbl.Result{{zoneResult("bl.example", "192.0.2.8", dnsbl.VerdictError, dnsbl.ErrorRefusedQuery, "127.255.255.254", "", "")}}
	st.Put(entry("default", grey))

	v6 := domainReport("v6broken.example", domainHost("mx.v6broken.example", 10, "192.0.2.1", "2001:db8::1"))
	h = &v6.Hosts[0]
	h.Parity = probe.ParityIPv6Failing
	r := h.Results[1]
	r.Success, r.Reason, r.Detail = false, smtp.ReasonRcptRejected, "RCPT TO:<postmaster@v6broken.example> refused: 550 5.1.1"
	st.Put(entry("default", v6))

	broken := domainReport("brokenbl.example", domainHost("mx1.brokenbl.example", 10, "192.0.2.11"))
	h = &broken.Hosts[0]
	h.Listings = [][]dnsbl.Result{{
		zoneResult("bl.example", "192.0.2.11", dnsbl.VerdictNotListed, "", "", "", ""),
		zoneResult("brokenbl.example", "192.0.2.11", dnsbl.VerdictError, dnsbl.ErrorZoneUnhealthy, "", "",
			"not asked: brokenbl.example lists 127.0.0.1, which no list may: it answers everything (a wildcard, or a resolver rewriting NXDOMAIN); its answers are not trusted"),
	}}
	st.Put(entry("default", broken))

	hostile := domainReport("hostile.example", domainHost("mx.hostile.example", 10, "192.0.2.66"))
	h = &hostile.Hosts[0]
	h.Listings = [][]dnsbl.Result{{
		zoneResult("bl.example", "192.0.2.66", dnsbl.VerdictListed, "", "127.0.0.2", hostileReason, ""),
		zoneResult("other.example", "192.0.2.66", dnsbl.VerdictError, dnsbl.ErrorLookupFailed, "", "", "<b>SERVFAIL</b>"),
	}}
	st.Put(entry("default", hostile))

	plain := domainReport("plain.example", domainHost("mx1.plain.example", 10, "192.0.2.71"))
	plain.Hosts[0].Parity = probe.ParityIPv4Only
	plain.Hosts[0].Reverse = []*rdns.Check{confirmedPTR("192.0.2.71", "mx1.plain.example")}
	plain.Hosts[0].Listings = [][]dnsbl.Result{{zoneResult("bl.example", "192.0.2.71", dnsbl.VerdictNotListed, "", "", "", "")}}
	st.Put(entry("default", plain))
	return st
}

func TestIdentityOnTheOverview(t *testing.T) {
	srv := serve(t, identityStore(), Options{})
	p := get(t, srv.URL+"/status")
	if p.status != http.StatusOK {
		t.Fatalf("status %d:\n%s", p.status, p.body)
	}
	body := strings.ReplaceAll(p.body, "<wbr>", "")
	if want := `<p class="identity-count warn" data-identity-count>2 targets have an address or MX host name on a blocklist; 1 domain has an MX host that fails over IPv6 or IPv4 while the other family works</p>`; !strings.Contains(section(t, body, "summary"), want) {
		t.Errorf("the summary lacks %s", want)
	}
	for _, tc := range []struct {
		target string
		want   []string
		not    []string
	}{
		{"relay.example", []string{
			`data-status="ok">`, // a listing fails nothing
			`<span class="badge warn" data-identity-mark>LISTED</span></h2>`,
			`data-ip="192.0.2.3" data-status="ok" data-listed>`,
			`<div class="sub ptr good" data-ptr="confirmed">PTR mail.other.example, forward-confirmed</div>`,
			`<div class="sub names warn" data-names>banner says mx.relay.example, PTR says mail.other.example; MX is mx.relay.example</div>`,
			`<li class="warn" data-dnsbl>LISTED in bl.example (127.0.0.4): &#34;192.0.2.3 listed: open relay&#34;</li>`,
			`<div class="sub dnsbl warn" data-dnsbl>LISTED in dbl.example (127.0.1.2): &#34;mx.relay.example listed&#34;</div>`,
			`<div class="ipv6" data-ipv6><span class="label">IPv6</span> <span class="neutral">the MX host has no IPv6 address</span></div>`,
		}, []string{"IPv6 BROKEN"}},
		{"greylist.example", []string{
			`<div class="sub ptr warn" data-ptr="not_confirmed">PTR ptronly.other.example, NOT forward-confirmed</div>`,
			`<li class="warn" data-ptr-why>ptronly.other.example does not exist (NXDOMAIN): ` + report.FCrDNSConsequence + `</li>`,
			`<li class="neutral" data-dnsbl>bl.example: the list refused the query (127.255.255.254): it refuses public or open resolvers or too many queries; not a listing</li>`,
		}, []string{"data-identity-mark", "data-listed"}},
		{"v6broken.example", []string{
			`<span class="badge warn" data-identity-mark>IPv6 BROKEN</span></h2>`,
			`<div class="ipv6" data-ipv6><span class="label">IPv6</span> <span class="warn">the MX host has IPv6 addresses</span><ul class="facts"><li class="warn">IPv6 broken for mx.v6broken.example while IPv4 works: 2001:db8::1 failed (rcpt_rejected)</li></ul></div>`,
		}, []string{"LISTED", "data-ptr"}},
		{"brokenbl.example", []string{
			`<li>blocklist brokenbl.example is UNHEALTHY: brokenbl.example lists 127.0.0.1, which no list may: it answers everything (a wildcard, or a resolver rewriting NXDOMAIN); its answers are not trusted (1 result left out)</li>`,
			`<li class="neutral" data-dnsbl>not listed in bl.example</li>`,
		}, []string{"brokenbl.example: the zone", "data-identity-mark", "data-ipv6"}},
		{"plain.example", []string{
			`<div class="sub ptr good" data-ptr="confirmed">PTR mx1.plain.example, forward-confirmed</div>`,
		}, []string{"data-identity-mark", "data-names", "data-ptr-why", "UNHEALTHY"}},
	} {
		t.Run(tc.target, func(t *testing.T) {
			s := section(t, body, tc.target)
			for _, want := range tc.want {
				if !strings.Contains(s, want) {
					t.Errorf("%s lacks %s", tc.target, want)
				}
			}
			for _, not := range tc.not {
				if strings.Contains(s, not) {
					t.Errorf("%s shows %s", tc.target, not)
				}
			}
		})
	}
}

func TestIdentityOnTheTranscriptPage(t *testing.T) {
	srv := serve(t, identityStore(), Options{})
	overview := get(t, srv.URL+"/status")
	p := get(t, overview.link(t, "transcript", "mx=mx.relay.example"))
	if p.status != http.StatusOK {
		t.Fatalf("status %d", p.status)
	}
	for _, want := range []string{
		`<dt>Reverse DNS</dt><dd class="ptr" data-ptr="confirmed"><ul class="facts"><li class="good">PTR mail.other.example, forward-confirmed</li></ul></dd>`,
		`<dt>Names</dt><dd class="names warn">banner says mx.relay.example, PTR says mail.other.example; MX is mx.relay.example</dd>`,
		`<dt>Blocklists</dt><dd class="dnsbl"><ul class="facts"><li class="warn">LISTED in bl.example (127.0.0.4): &#34;192.0.2.3 listed: open relay&#34;</li></ul></dd>`,
		`<dt>Blocklists of the MX name</dt><dd class="dnsbl"><ul class="facts"><li class="warn">LISTED in dbl.example (127.0.1.2): &#34;mx.relay.example listed&#34;</li></ul></dd>`,
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the transcript page lacks %s", want)
		}
	}
	noID := get(t, overview.link(t, "transcript", "mx=mx.v6broken.example"))
	for _, not := range []string{"<dt>Reverse DNS</dt>", "<dt>Names</dt>", "<dt>Blocklists"} {
		if strings.Contains(noID.body, not) {
			t.Errorf("the transcript of an address without reverse DNS or lists shows %s", not)
		}
	}
}

func TestIdentityTextIsEscaped(t *testing.T) {
	srv := serve(t, identityStore(), Options{})
	overview := get(t, srv.URL+"/status")
	transcript := get(t, overview.link(t, "transcript", "mx=mx.hostile.example"))
	for name, body := range map[string]string{"overview": overview.body, "transcript": transcript.body} {
		if strings.Contains(body, "<script>") || strings.Contains(body, `<a href="x">`) || strings.Contains(body, "<b>SERVFAIL") {
			t.Errorf("the %s page carries live markup from a blocklist reason or error", name)
		}
		for _, want := range []string{"listed &lt;script&gt;alert(1)&lt;/script&gt; see &lt;a href=", "&lt;b&gt;SERVFAIL&lt;/b&gt;"} {
			if !strings.Contains(body, want) {
				t.Errorf("the %s page does not show %s escaped", name, want)
			}
		}
	}
}

// TestIdentitySummary: the summary says nothing when no target is listed
// and no domain has an IPv6 gap.
func TestIdentitySummary(t *testing.T) {
	st := store.New()
	plain := domainReport("plain.example", domainHost("mx1.plain.example", 10, "192.0.2.71"))
	plain.Hosts[0].Parity = probe.ParityIPv4Only
	st.Put(entry("default", plain))
	p := get(t, serve(t, st, Options{}).URL+"/status")
	if strings.Contains(p.body, "data-identity-count") || strings.Contains(p.body, "data-identity-mark") {
		t.Errorf("the overview marks a store without listings or IPv6 gaps")
	}
}
