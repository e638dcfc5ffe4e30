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
// judges; a bogus TLSA RRset whose detail is hostile; a secure denial; an
// insecure TLSA RRset) and a domain without DANE.
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

	// Two lookups that are not DANE and no failure, each with its DNSSEC
	// state to say why: a secure denial of TLSA records, and a TLSA alias
	// into an unsigned zone.
	mx4 := domainHost("mx4.signed.example", 40, "192.0.2.85")
	mx4.TLSA = &dnsmx.TLSALookup{BaseDomain: "mx4.signed.example", Name: "_25._tcp.mx4.signed.example", Outcome: dnsmx.OutcomeNoData,
		Rcode: "NOERROR", Security: dnsmx.SecuritySecure}
	mx4.Results[0].DANE = check("mx4.signed.example", dane.StatusNoTLSA, "", nil)
	mx5 := domainHost("mx5.signed.example", 50, "192.0.2.86")
	mx5.TLSA = tlsaLookup("mx5.signed.example", currentKey)
	mx5.TLSA.Security = dnsmx.SecurityInsecure
	mx5.Results[0].DANE = check("mx5.signed.example", dane.StatusInsecure, "", nil)

	hosts := []probe.HostReport{mx1, mx2, mx3, mx4, mx5}
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

// addressRows are the table rows of the addresses of MX host mx in a
// target's section.
func addressRows(t *testing.T, section, mx string) []string {
	t.Helper()
	var rows []string
	for rest := section; ; {
		i := strings.Index(rest, `data-mx="`+mx+`"`)
		if i < 0 {
			break
		}
		rest = rest[i:]
		end := strings.Index(rest, "</tr>")
		if end < 0 {
			t.Fatalf("the row of %s does not end", mx)
		}
		rows, rest = append(rows, rest[:end]), rest[end:]
	}
	if len(rows) == 0 {
		t.Fatalf("no row for %s", mx)
	}
	return rows
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
	// Each address's DANE block says whether its TLSA RRset, or the denial
	// of one, was DNSSEC-secure, in the words of the text report.
	for _, tc := range []struct{ mx, want string }{
		{"mx1.signed.example", `<div class="detail dnssec good">DNSSEC: TLSA records secure (DNSSEC-validated)</div>`},
		{"mx2.signed.example", `<div class="detail dnssec good">DNSSEC: TLSA records secure (DNSSEC-validated)</div>`},
		{"mx3.signed.example", `<div class="detail dnssec bad">DNSSEC: TLSA records BOGUS: DNSSEC validation failed, validating resolvers answer SERVFAIL</div>`},
		{"mx4.signed.example", `<div class="detail dnssec good">DNSSEC: the denial of TLSA records secure (DNSSEC-validated)</div>`},
		{"mx5.signed.example", `<div class="detail dnssec neutral">DNSSEC: TLSA records insecure (not DNSSEC-signed)</div>`},
	} {
		rows := addressRows(t, signed, tc.mx)
		for _, r := range rows {
			if got := strings.Count(r, "DNSSEC: "); !strings.Contains(r, tc.want) || got != 2 {
				t.Errorf("the row of %s shows %d DNSSEC lines, want its addresses' and %s:\n%s", tc.mx, got, tc.want, r)
			}
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
		`<div class="detail dnssec good">DNSSEC: TLSA records secure (DNSSEC-validated)</div>`,
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
