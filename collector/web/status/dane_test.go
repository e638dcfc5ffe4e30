package status

import (
	"bytes"
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dane"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/report"
	"github.com/mx-exporter/mx_exporter/collector/store"
)

var (
	currentKey = dane.TLSA{Usage: dane.DANEEE, Selector: dane.SelectorSPKI, MatchingType: dane.MatchSHA256, Data: bytes.Repeat([]byte{0xab}, 32)}
	nextKey    = dane.TLSA{Usage: dane.DANEEE, Selector: dane.SelectorSPKI, MatchingType: dane.MatchSHA256, Data: bytes.Repeat([]byte{0xcd}, 32)}
	oldKey     = dane.TLSA{Usage: dane.DANEEE, Selector: dane.SelectorSPKI, MatchingType: dane.MatchSHA256, Data: bytes.Repeat([]byte{0x12}, 32)}
)

// hostileDetail stands for text that reaches a DANE block from outside:
// whatever a future detail quotes must still be escaped.
const hostileDetail = `<img src=x onerror="alert(1)">`

func tlsaLookup(host string, records ...dane.TLSA) *dnsmx.TLSALookup {
	return &dnsmx.TLSALookup{BaseDomain: host, Name: "_25._tcp." + host, Outcome: dnsmx.OutcomeAnswer, Rcode: "NOERROR",
		Security: dnsmx.SecuritySecure, Records: records}
}

// daneStore holds a signed domain behind a validating resolver (a match
// with the next key published, on an expired certificate on one address;
// a renewed key that no longer matches, in an RRset longer than the probe
// judges; a bogus TLSA RRset whose detail is hostile) and a domain
// without DANE.
func daneStore() *store.Store {
	check := func(host string, s dane.Status, detail string, res *dane.Result) *dane.Check {
		return &dane.Check{Mode: dane.ModeEnforce, Status: s, Detail: detail, TLSAName: "_25._tcp." + host, BaseDomain: host, Result: res}
	}
	mx1 := domainHost("mx1.signed.example", 10, "192.0.2.81", "192.0.2.82")
	mx1.TLSA = tlsaLookup("mx1.signed.example", currentKey, nextKey)
	for _, r := range mx1.Results {
		r.DANE = check("mx1.signed.example", dane.StatusPass, "1 of 2 usable TLSA records match the presented chain", &dane.Result{
			Records: []dane.RecordResult{{Record: currentKey, Outcome: dane.Matched}, {Record: nextKey, Outcome: dane.NotMatched}},
			Verdict: dane.Match, Rollover: dane.Rollover{Ready: true},
		})
	}
	expired := mx1.Results[1]
	expired.TLS.ChainNotAfter, expired.TLS.LeafNotAfter = testNow.Add(-48*time.Hour), testNow.Add(-48*time.Hour)
	expired.TLS.Verified, expired.TLS.VerifyError = false, "certificate has expired"

	mx2 := domainHost("mx2.signed.example", 20, "192.0.2.83")
	mx2.TLSA = tlsaLookup("mx2.signed.example", oldKey)
	mx2.TLSA.RecordsDropped = 3
	r := mx2.Results[0]
	r.Success, r.Reason, r.Detail = false, smtp.ReasonDANEMismatch, "DANE: none of 1 usable TLSA records matches the presented chain"
	r.Recipients, r.Relay = nil, nil
	r.DANE = check("mx2.signed.example", dane.StatusMismatch, "none of 1 usable TLSA records matches the presented chain", &dane.Result{
		Records:  []dane.RecordResult{{Record: oldKey, Outcome: dane.NotMatched}},
		Verdict:  dane.Mismatch,
		Rollover: dane.Rollover{Reason: "no record matches the current chain for 3 1 1"},
	})

	mx3 := domainHost("mx3.signed.example", 30, "192.0.2.84")
	mx3.TLSA = &dnsmx.TLSALookup{BaseDomain: "mx3.signed.example", Name: "_25._tcp.mx3.signed.example", Outcome: dnsmx.OutcomeServFail,
		Rcode: "SERVFAIL", Security: dnsmx.SecurityBogus}
	b := mx3.Results[0]
	b.Success, b.Reason, b.Detail = false, smtp.ReasonDANETLSABogus, "DANE: TLSA lookup failed DNSSEC validation"
	b.DANE = check("mx3.signed.example", dane.StatusTLSABogus, "TLSA lookup of _25._tcp.mx3.signed.example: "+hostileDetail, nil)
	b.DANE.TLSAName, b.DANE.BaseDomain = "_25._tcp.<b>mx3</b>.signed.example", "<b>mx3</b>.signed.example"

	hosts := []probe.HostReport{mx1, mx2, mx3}
	for i := range hosts {
		hosts[i].Security = dnsmx.SecuritySecure
	}
	signed := domainReport("signed.example", hosts...)
	signed.DNS.MXSecurity = dnsmx.SecuritySecure
	signed.Asked.DANE = dane.ModeEnforce
	signed.Validation = dnsmx.Validation{Trusted: true, Validating: true, CheckName: ".", Checked: testTaken}

	st := store.New()
	st.Put(entry("default", signed))
	st.Put(entry("default", domainReport("good.example", domainHost("mx1.good.example", 10, "192.0.2.1"))))
	return st
}

// section is the overview's section of one target, or its summary.
func section(t *testing.T, body, target string) string {
	t.Helper()
	i := strings.Index(body, `data-target="`+target+`"`)
	if target == "summary" {
		i = strings.Index(body, `id="summary"`)
	}
	if i < 0 {
		t.Fatalf("no section for %s", target)
	}
	s := body[i:]
	return s[:strings.Index(s, "</section>")]
}

func TestDANEOnTheOverview(t *testing.T) {
	srv := serve(t, daneStore(), Options{})
	p := get(t, srv.URL+"/status")
	if p.status != http.StatusOK {
		t.Fatalf("status %d:\n%s", p.status, p.body)
	}
	body := strings.ReplaceAll(p.body, "<wbr>", "")
	if want := `<p class="resolver good" data-resolver>the resolver validates DNSSEC: its self-check of . came back with the AD bit</p>`; !strings.Contains(section(t, body, "summary"), want) {
		t.Errorf("the summary lacks %s", want)
	}
	signed := section(t, body, "signed.example")
	for _, want := range []string{
		`<p class="dnssec good">DNSSEC: MX records secure (DNSSEC-validated)</p>`,
		`<div class="sub dnssec good">DNSSEC: addresses secure (DNSSEC-validated)</div>`,
		`<th>DANE</th>`,
		`<span class="badge good" data-dane="pass">pass</span>`,
		`<span class="badge bad" data-dane="mismatch">MISMATCH</span>`,
		`<span class="badge bad" data-dane="tlsa_bogus">TLSA BOGUS</span>`,
		`a DANE sender defers mail, so the probe fails (dane: enforce)`,
		`<li class="good"><code title="DANE-EE SPKI SHA2-256: ` + strings.Repeat("AB", 32) + `">3 1 1 ABABABABABABABAB…</code> <span class="sub">DANE-EE SPKI SHA2-256</span> matched</li>`,
		`<li class="neutral"><code title="DANE-EE SPKI SHA2-256: ` + strings.Repeat("CD", 32) + `">3 1 1 CDCDCDCDCDCDCDCD…</code>`,
		`<li class="bad"><code title="DANE-EE SPKI SHA2-256: ` + strings.Repeat("12", 32) + `">3 1 1 1212121212121212…</code>`,
		`<div class="detail good">rollover ready:`,
		`<div class="detail warn">rollover NOT ready: no record matches the current chain for 3 1 1</div>`,
		// An expired certificate that DANE-EE still matches: both facts.
		`certificate EXPIRED 2026-11-21 (2 days ago)`,
		html.EscapeString(report.DANEExpiredWords),
		`<span class="reason">dane_mismatch</span>`,
	} {
		if !strings.Contains(signed, want) {
			t.Errorf("signed.example lacks %s", want)
		}
	}
	if good := section(t, body, "good.example"); strings.Contains(good, "DANE") || strings.Contains(good, "DNSSEC") {
		t.Errorf("a target whose module does not look at DANE shows DANE or DNSSEC:\n%s", good)
	}
}

func TestDANEOnTheTranscriptPage(t *testing.T) {
	srv := serve(t, daneStore(), Options{})
	overview := get(t, srv.URL+"/status")
	p := get(t, overview.link(t, "transcript", "mx=mx2.signed.example"))
	if p.status != http.StatusOK {
		t.Fatalf("status %d:\n%s", p.status, p.body)
	}
	for _, want := range []string{
		`<dt>DNSSEC</dt><dd class="dnssec good">addresses secure (DNSSEC-validated)</dd>`,
		`<dt>DANE</dt><dd class="dane"><span class="badge bad" data-dane="mismatch">MISMATCH</span>`,
		`none of 1 usable TLSA records matches the presented chain`,
		`3 1 1 1212121212121212…`,
		`rollover NOT ready`,
		`<div class="detail warn">3 more TLSA records past the cap of one RRset: not judged</div>`,
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("transcript page lacks %s", want)
		}
	}
}

func TestDANETextIsEscaped(t *testing.T) {
	srv := serve(t, daneStore(), Options{})
	overview := get(t, srv.URL+"/status")
	transcript := get(t, overview.link(t, "transcript", "mx=mx3.signed.example"))
	for name, p := range map[string]page{"status page": overview, "transcript": transcript} {
		body := strings.ReplaceAll(p.body, "<wbr>", "")
		if strings.Contains(body, "<img") || strings.Contains(body, "<b>mx3") {
			t.Errorf("%s carries live markup from a DANE detail or TLSA name", name)
		}
		for _, want := range []string{html.EscapeString(hostileDetail), "&lt;b&gt;mx3&lt;/b&gt;"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s does not show %s escaped", name, want)
			}
		}
	}
}

// TestResolverAtTheTop: the summary says once whether DNSSEC is checked at
// all: a trusted resolver that fails its self-check is bad news, no
// trusted resolver while a module asks for DANE a warning, and a store
// that asks nothing of DNSSEC says nothing.
func TestResolverAtTheTop(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    dnsmx.Validation
		dane dane.Mode
		want string
	}{
		{"failing self-check", dnsmx.Validation{Trusted: true, CheckName: ".", Err: "the answer came without the AD bit <!>"}, dane.ModeEnforce,
			`<p class="resolver bad" data-resolver>DNSSEC not checked: the resolver does not validate (self-check of .): the answer came without the AD bit &lt;!&gt;</p>`},
		{"no trusted resolver", dnsmx.Validation{}, dane.ModeReport,
			`<p class="resolver warn" data-resolver>DNSSEC not checked: no validating resolver (dns.trust_ad is off, so the AD bit is not believed)</p>`},
		{"nothing asked", dnsmx.Validation{}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := domainReport("good.example", domainHost("mx1.good.example", 10, "192.0.2.1"))
			rep.Validation, rep.Asked.DANE = tc.v, tc.dane
			st := store.New()
			st.Put(entry("default", rep))
			p := get(t, serve(t, st, Options{}).URL+"/status")
			if tc.want == "" {
				if strings.Contains(p.body, "data-resolver") {
					t.Errorf("a store without DNSSEC or DANE talks about the resolver")
				}
				return
			}
			if !strings.Contains(p.body, tc.want) {
				t.Errorf("status page lacks %s", tc.want)
			}
		})
	}
}
