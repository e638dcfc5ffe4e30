package status

import (
	"html"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/mtasts"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/probe/tlscheck"
	"github.com/mx-exporter/mx_exporter/collector/probe/tlsrpt"
	"github.com/mx-exporter/mx_exporter/collector/store"
)

// hostileTXT stands for a TXT record and a policy detail that a domain's
// owner controls: the pages must show them, escaped.
const hostileTXT = `v=STSv1; id=<script>alert(1)</script>`

// stsState is a policy served with status 200 by mta-sts.<domain>.
func stsState(domain, id string, pol *mtasts.Policy, defects ...mtasts.Defect) *mtasts.State {
	valid := true
	for _, d := range defects {
		valid = valid && !d.Fatal()
	}
	return &mtasts.State{
		Fetch: mtasts.Fetch{
			URL: "https://mta-sts." + domain + "/.well-known/mta-sts.txt", Addr: "192.0.2.200:443", Start: testTaken.Add(-2 * time.Second),
			Duration: 4 * time.Millisecond, Status: 200, ContentType: "text/plain", Size: 80,
			TLS: &tlscheck.Info{Version: "TLS 1.3", ServerName: "mta-sts." + domain, ChainNotAfter: testNow.Add(60 * 24 * time.Hour), Verified: true},
		},
		Policy: pol, Defects: defects, Valid: valid, ID: id,
	}
}

// stsReport gives rep an MTA-STS check of mode (the module's) and a
// TLS-RPT record that reports to a mailbox.
func withMTASTS(rep *probe.Report, mode mtasts.Mode, status mtasts.Status, failure bool, detail string, st *mtasts.State) *probe.Report {
	d := rep.Target.Domain
	rep.MTASTS = &probe.MTASTSReport{
		Mode:      mode,
		TXTLookup: dnsmx.TXTLookup{Name: "_mta-sts." + d, Outcome: dnsmx.OutcomeAnswer, Records: []string{"v=STSv1; id=" + st.ID}},
		TXT:       mtasts.TXT{Records: 1, Valid: true, ID: st.ID},
		PolicyHost: &dnsmx.Host{Name: "mta-sts." + d, Outcome: dnsmx.OutcomeAnswer,
			Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.200")}},
		Policy: st, Status: status, Failure: failure, Detail: detail,
	}
	rep.TLSRPT = &probe.TLSRPTReport{
		Lookup: dnsmx.TXTLookup{Name: "_smtp._tls." + d, Outcome: dnsmx.OutcomeAnswer, Records: []string{"v=TLSRPTv1; rua=mailto:tlsrpt@" + d}},
		Record: tlsrpt.Record{Records: 1, Valid: true, RUA: []string{"mailto:tlsrpt@" + d}},
	}
	return rep
}

func enforcePolicy(mx ...string) *mtasts.Policy {
	return &mtasts.Policy{Version: "STSv1", Mode: mtasts.PolicyEnforce, MaxAge: 604800, MX: mx}
}

// policyStore holds one domain per MTA-STS verdict the overview must tell
// apart: a pass, an MX an enforce policy does not cover (enforced, and
// only reported), an expired MX certificate under enforce, the same
// mistake under a testing policy, an unfetchable policy whose TXT record
// and detail are hostile, and a domain that publishes nothing.
func policyStore() *store.Store {
	st := store.New()

	pass := domainReport("pass.example", domainHost("mx1.pass.example", 10, "192.0.2.11"))
	pass.Hosts[0].MTASTS = &probe.MXPolicy{Pattern: "*.pass.example", Covered: true, TLS: []mtasts.TLSStatus{mtasts.TLSValid}}
	withMTASTS(pass, mtasts.ModeEnforce, mtasts.StatusPass, false, "enforce policy id pass1 (max_age 604800) covers every MX host (1)",
		stsState("pass.example", "pass1", enforcePolicy("*.pass.example")))
	pass.MTASTS.Policy.Cached, pass.MTASTS.PolicyHost = true, nil
	pass.MTASTS.Policy.Fetch.Start = pass.Start.Add(-12 * time.Minute)
	st.Put(entry("default", pass))

	uncovered := func(name string, mode mtasts.Mode) *probe.Report {
		rep := domainReport(name, domainHost("mx1."+name, 10, "192.0.2.21"), domainHost("backup.provider.example", 20, "192.0.2.22"))
		rep.Hosts[0].MTASTS = &probe.MXPolicy{Pattern: "mx1." + name, Covered: true, TLS: []mtasts.TLSStatus{mtasts.TLSValid}}
		rep.Hosts[1].MTASTS = &probe.MXPolicy{}
		withMTASTS(rep, mode, mtasts.StatusMXUncovered, true, "enforce policy id u1 (max_age 604800) does not cover MX backup.provider.example",
			stsState(name, "u1", enforcePolicy("mx1."+name)))
		if mode == mtasts.ModeEnforce {
			r := rep.Hosts[1].Results[0]
			r.Success, r.Reason = false, smtp.ReasonMTASTSUncovered
			r.Detail = "MTA-STS: the enforce policy id u1 (max_age 604800) of " + name + " does not cover MX host backup.provider.example: MTA-STS senders refuse to deliver to it"
		}
		return rep
	}
	st.Put(entry("default", uncovered("uncovered.example", mtasts.ModeEnforce)))
	st.Put(entry("report", uncovered("reported.example", mtasts.ModeReport)))

	expired := domainReport("expired.example", domainHost("mx1.expired.example", 10, "192.0.2.31"))
	expired.Hosts[0].MTASTS = &probe.MXPolicy{Pattern: "mx1.expired.example", Covered: true, TLS: []mtasts.TLSStatus{mtasts.TLSCertInvalid}}
	r := expired.Hosts[0].Results[0]
	r.TLS.Verified, r.TLS.VerifyError = false, "x509: certificate has expired or is not yet valid"
	r.Success, r.Reason, r.Detail = false, smtp.ReasonMTASTSTLSInvalid, "MTA-STS: the certificate of mx1.expired.example does not verify: MTA-STS senders refuse to deliver to it"
	withMTASTS(expired, mtasts.ModeEnforce, mtasts.StatusMXTLSInvalid, true, "enforce policy id e1 covers every MX host, but at mx1.expired.example 192.0.2.31 its certificate does not verify",
		stsState("expired.example", "e1", enforcePolicy("mx1.expired.example"), mtasts.DefectMaxAgeShort))
	st.Put(entry("default", expired))

	testing := domainReport("testing.example", domainHost("mx1.testing.example", 10, "192.0.2.41"), domainHost("mx2.testing.example", 20, "192.0.2.42"))
	testing.Hosts[0].MTASTS = &probe.MXPolicy{Pattern: "mx1.testing.example", Covered: true, TLS: []mtasts.TLSStatus{mtasts.TLSValid}}
	testing.Hosts[1].MTASTS = &probe.MXPolicy{}
	withMTASTS(testing, mtasts.ModeEnforce, mtasts.StatusMXUncovered, false, "testing policy id t1 (max_age 86400) does not cover MX mx2.testing.example",
		stsState("testing.example", "t1", &mtasts.Policy{Version: "STSv1", Mode: mtasts.PolicyTesting, MaxAge: 86400, MX: []string{"mx1.testing.example"}}))
	st.Put(entry("default", testing))

	unfetchable := domainReport("unfetchable.example", domainHost("mx1.unfetchable.example", 10, "192.0.2.51"))
	us := &mtasts.State{ID: "x", Fetch: mtasts.Fetch{URL: "https://mta-sts.unfetchable.example/.well-known/mta-sts.txt", Addr: "192.0.2.201:443",
		Status: 404, Err: mtasts.FetchStatus, Detail: "HTTP 404 <b>Not Found</b>"}}
	withMTASTS(unfetchable, mtasts.ModeEnforce, mtasts.StatusUnfetchable, false, "the policy could not be fetched: "+hostileTXT, us)
	unfetchable.MTASTS.TXTLookup.Records = []string{hostileTXT}
	unfetchable.TLSRPT.Lookup.Records = []string{"v=TLSRPTv1; rua=mailto:<i>x</i>@unfetchable.example"}
	st.Put(entry("default", unfetchable))

	none := domainReport("nosts.example", domainHost("mx1.nosts.example", 10, "192.0.2.61"))
	none.MTASTS = &probe.MTASTSReport{Mode: mtasts.ModeEnforce, Status: mtasts.StatusNoPolicy,
		TXTLookup: dnsmx.TXTLookup{Name: "_mta-sts.nosts.example", Outcome: dnsmx.OutcomeNXDomain}, Detail: "no MTA-STS policy"}
	none.TLSRPT = &probe.TLSRPTReport{Lookup: dnsmx.TXTLookup{Name: "_smtp._tls.nosts.example", Outcome: dnsmx.OutcomeNXDomain}}
	st.Put(entry("default", none))

	st.Put(entry("default", domainReport("plain.example", domainHost("mx1.plain.example", 10, "192.0.2.71"))))
	return st
}

func TestMTASTSOnTheOverview(t *testing.T) {
	srv := serve(t, policyStore(), Options{})
	p := get(t, srv.URL+"/status")
	if p.status != http.StatusOK {
		t.Fatalf("status %d:\n%s", p.status, p.body)
	}
	body := strings.ReplaceAll(p.body, "<wbr>", "")
	if want := `<p class="policy-count bad" data-policy-count>MTA-STS senders refuse mail to some MX of 3 domains; 2 domains have an MTA-STS or TLS-RPT warning</p>`; !strings.Contains(section(t, body, "summary"), want) {
		t.Errorf("the summary lacks %s", want)
	}
	for _, tc := range []struct {
		target string
		want   []string
		not    []string
	}{
		{"pass.example", []string{
			`<details class="policy mta-sts" data-mta-sts="pass">`, // folded: nothing is wrong
			`<span class="badge good">MTA-STS pass</span> <span class="detail">enforce policy id pass1 (max_age 604800) covers every MX host (1)</span>`,
			`<dt>TXT</dt><dd class="neutral">_mta-sts.pass.example: valid, id pass1<div><code>v=STSv1; id=pass1</code></div></dd>`,
			`<li class="neutral">https://mta-sts.pass.example/.well-known/mta-sts.txt (cached, fetched 12 min ago)</li>`,
			`<li class="neutral">192.0.2.200:443: HTTP 200, text/plain, 80 bytes in 4.0 ms</li>`,
			`<li class="good">certificate verified for mta-sts.pass.example, expires in 60 days (2027-01-22)</li>`,
			`<dt>Policy</dt><dd>mode enforce, max_age 604800 s (7 days), mx *.pass.example</dd>`,
			`<li><span class="mx">MX 10 mx1.pass.example</span>: <span class="good">covered by mx pattern *.pass.example</span><ul class="facts"><li class="good">192.0.2.11: TLS satisfies the policy (TLS 1.3, certificate verified for mx1.pass.example)</li></ul></li>`,
			`<div class="policy tls-rpt"><span class="label">TLS-RPT</span> <span class="good">valid: reports go to mailto:tlsrpt@pass.example</span>`,
			`<div class="sub mta-sts good">MTA-STS: covered by mx pattern *.pass.example</div>`,
			`<div class="sub mta-sts good">MTA-STS: TLS satisfies the policy (TLS 1.3, certificate verified for mx1.pass.example)</div>`,
		}, []string{"data-mta-sts-mark", " open>"}},
		{"uncovered.example", []string{
			`<span class="badge bad" data-mta-sts-mark="bad">MTA-STS FAILS</span>`,
			`<details class="policy mta-sts" data-mta-sts="mx_uncovered" open>`,
			`<span class="badge bad">MTA-STS MX NOT COVERED</span>`,
			`<p class="detail bad">MTA-STS senders refuse to deliver to backup.provider.example, so the probe fails (mta_sts: enforce)</p>`,
			`<span class="mx">MX 20 backup.provider.example</span>: <span class="bad">NOT COVERED: the host matches no mx pattern of the policy</span></li>`,
			`<div class="sub mta-sts bad">MTA-STS: NOT COVERED: the host matches no mx pattern of the policy</div>`,
			`<span class="reason">mta_sts_mx_uncovered</span>`,
		}, nil},
		{"reported.example", []string{
			`data-module="report" data-status="ok">`, // the module only reports it
			`<span class="badge bad" data-mta-sts-mark="bad">MTA-STS FAILS</span>`,
			`MTA-STS senders refuse to deliver to backup.provider.example, but the module only reports it (mta_sts: report)`,
		}, nil},
		{"expired.example", []string{
			`<span class="badge bad" data-mta-sts-mark="bad">MTA-STS FAILS</span>`,
			`<span class="badge bad">MTA-STS MX TLS INVALID</span>`,
			`<li class="warn" data-defect>max_age_short (warning): max_age under a week in enforce mode`,
			`<li class="bad">192.0.2.31: does not satisfy the policy: certificate not verified for mx1.expired.example: x509: certificate has expired or is not yet valid</li>`,
			`<div class="sub mta-sts bad">MTA-STS: does not satisfy the policy: certificate not verified for mx1.expired.example:`,
		}, nil},
		{"testing.example", []string{
			`data-module="default" data-status="ok">`,
			`<span class="badge warn" data-mta-sts-mark="warn">MTA-STS WARNING</span>`,
			`<span class="badge warn">MTA-STS MX not covered</span>`,
			`but the policy is in testing mode`,
			`<div class="sub mta-sts warn">MTA-STS: NOT COVERED: the host matches no mx pattern of the policy</div>`,
		}, nil},
		{"unfetchable.example", []string{
			`<span class="badge warn" data-mta-sts-mark="warn">MTA-STS WARNING</span>`,
			`<span class="badge warn">MTA-STS policy unfetchable</span>`,
			`new senders fail open`,
			`<li class="warn">192.0.2.201:443: FAILED http_status: HTTP 404 &lt;b&gt;Not Found&lt;/b&gt;, after 0.0 ms</li>`,
		}, []string{"<dt>Policy</dt>", "<dt>Coverage</dt>"}},
		{"nosts.example", []string{
			`<span class="badge neutral">MTA-STS no policy</span>`,
			`_mta-sts.nosts.example: no record: _mta-sts.nosts.example does not exist (NXDOMAIN)`,
			`<span class="neutral">no record: _smtp._tls.nosts.example does not exist (NXDOMAIN): senders send no TLS reports</span>`,
		}, []string{"data-mta-sts-mark", "<dt>Fetch</dt>"}},
		{"plain.example", nil, []string{"MTA-STS", "TLS-RPT"}},
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

func TestMTASTSOnTheTranscriptPage(t *testing.T) {
	srv := serve(t, policyStore(), Options{})
	overview := get(t, srv.URL+"/status")
	for _, tc := range []struct {
		mx   string
		want string
	}{
		{"mx=mx1.expired.example", `<dt>MTA-STS</dt><dd class="mta-sts"><ul class="facts"><li class="good">covered by mx pattern mx1.expired.example</li>` +
			`<li class="bad">does not satisfy the policy: certificate not verified for mx1.expired.example: x509: certificate has expired or is not yet valid</li></ul></dd>`},
		{"mx=backup.provider.example&target=uncovered", `<dt>MTA-STS</dt><dd class="mta-sts"><ul class="facts"><li class="bad">NOT COVERED: the host matches no mx pattern of the policy</li></ul></dd>`},
	} {
		href := overview.link(t, "transcript", tc.mx)
		p := get(t, href)
		if p.status != http.StatusOK {
			t.Fatalf("%s: status %d", href, p.status)
		}
		if !strings.Contains(p.body, tc.want) {
			t.Errorf("transcript of %s lacks %s", tc.mx, tc.want)
		}
	}
	plain := get(t, overview.link(t, "transcript", "mx=mx1.plain.example"))
	if strings.Contains(plain.body, "MTA-STS") {
		t.Errorf("the transcript of a domain without MTA-STS mentions it")
	}
}

func TestMTASTSTextIsEscaped(t *testing.T) {
	p := get(t, serve(t, policyStore(), Options{}).URL+"/status")
	body := strings.ReplaceAll(p.body, "<wbr>", "")
	if strings.Contains(body, "<script>") || strings.Contains(body, "<b>Not") || strings.Contains(body, "<i>x") {
		t.Errorf("the status page carries live markup from a TXT record, a policy detail or a fetch error")
	}
	for _, want := range []string{html.EscapeString(hostileTXT), "&lt;i&gt;x&lt;/i&gt;"} {
		if !strings.Contains(body, want) {
			t.Errorf("the status page does not show %s escaped", want)
		}
	}
}

// TestMTASTSSummary: the summary counts the domains whose MTA-STS fails or
// warns, and says nothing when none does.
func TestMTASTSSummary(t *testing.T) {
	warning := domainReport("testing.example", domainHost("mx1.testing.example", 10, "192.0.2.41"))
	withMTASTS(warning, mtasts.ModeEnforce, mtasts.StatusPass, false, "testing policy id t1 covers every MX host (1)",
		stsState("testing.example", "t1", enforcePolicy("mx1.testing.example"), mtasts.DefectContentType))
	for _, tc := range []struct {
		name    string
		reports []*probe.Report
		want    string
	}{
		{"nothing wrong", []*probe.Report{domainReport("plain.example", domainHost("mx1.plain.example", 10, "192.0.2.71"))}, ""},
		{"one warning", []*probe.Report{warning},
			`<p class="policy-count warn" data-policy-count>1 domain has an MTA-STS or TLS-RPT warning</p>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := store.New()
			for _, rep := range tc.reports {
				st.Put(entry("default", rep))
			}
			p := get(t, serve(t, st, Options{}).URL+"/status")
			switch {
			case tc.want == "" && strings.Contains(p.body, "data-policy-count"):
				t.Errorf("the summary counts MTA-STS problems of a store without any")
			case tc.want != "" && !strings.Contains(p.body, tc.want):
				t.Errorf("the summary lacks %s", tc.want)
			}
		})
	}
}
