package probe

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/mtasts"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/probe/tlsrpt"
	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// The MTA-STS and TLS-RPT scenarios of issue 12, end to end against the
// real servers: nsd serving the sts.test domains of zone test., nginx
// serving their policies on 127.0.4.1-3:443, and the Postfix listeners as
// MX hosts (see collector/testenv's package comment).

// stsSettings probes like a gateway check with mta_sts in mode, through
// nsd, with the test CA as the module's CA: it verifies the MX hosts and
// the policy hosts alike. The sts.test domains have no mailboxes: the
// envelope stops at MAIL FROM, which is all MTA-STS needs.
func stsSettings(t *testing.T, env *testenv.Env, mode mtasts.Mode) Settings {
	t.Helper()
	r, err := dnsmx.NewResolver([]string{env.Resolver}, 2*time.Second, 2)
	if err != nil {
		t.Fatalf("NewResolver(%s): %v", env.Resolver, err)
	}
	return Settings{
		Resolver:      r,
		Timeout:       10 * time.Second,
		MTASTS:        mode,
		MTASTSRefresh: time.Hour,
		DNS:           dnsmx.Options{IgnoreSpecialAddresses: true},
		SMTP: smtp.Options{
			Port:     25,
			EHLOName: "probe.mx-exporter.test",
			StartTLS: smtp.StartTLSOpportunistic,
			RootCAs:  env.CAPool,
		},
	}
}

func probeSTS(t *testing.T, p *Prober, domain string, s Settings) *Report {
	t.Helper()
	rep := p.Probe(context.Background(), Target{Domain: domain}, s)
	for _, h := range rep.Hosts {
		for _, r := range h.Results {
			if r != nil {
				assertNoDATA(t, r)
				t.Logf("%s %s %s: success=%v reason=%q detail=%q", domain, h.Name, r.Addr, r.Success, r.Reason, r.Detail)
			}
		}
	}
	if sts := rep.MTASTS; sts != nil {
		t.Logf("%s: MTA-STS %s failure=%v: %s", domain, sts.Status, sts.Failure, sts.Detail)
	}
	return rep
}

// mxWant is what the policy makes of one MX host: its pattern ("" when not
// covered), its addresses' TLS statuses (covered hosts only) and the
// reason of its dialogue (every sts.test MX host has one address).
type mxWant struct {
	pattern string
	tls     mtasts.TLSStatus
	reason  smtp.Reason
}

// fetchWant is what the policy fetch must show; zero fields are not checked
// but Err, which must match.
type fetchWant struct {
	err     mtasts.FetchError
	status  int
	defects []mtasts.Defect // among State.Defects
}

// rptWant is the TLS-RPT reading.
type rptWant struct {
	records int
	valid   bool
	defect  tlsrpt.Defect
	rua     []string
}

var (
	pass     = smtp.ReasonNone
	mx1      = "mx1.good.test"
	mxTLS    = "mx.tls.test"
	noReport = rptWant{}
)

func TestMTASTSScenarios(t *testing.T) {
	env := testenv.Require(t)
	env.LogOnFailure(t)
	for _, tc := range []struct {
		domain  string
		mode    mtasts.Mode // the module's; enforce when ""
		status  mtasts.Status
		failure bool
		txt     mtasts.TXTDefect
		fetched bool // a policy fetch was made (Policy set)
		fetch   fetchWant
		hosts   map[string]mxWant // nil: no host has coverage
		rpt     rptWant
	}{
		{domain: "enforce.sts.test", status: mtasts.StatusPass, fetched: true, fetch: fetchWant{status: 200},
			hosts: map[string]mxWant{mx1: {mx1, mtasts.TLSValid, pass}, mxTLS: {mxTLS, mtasts.TLSValid, pass}},
			rpt:   rptWant{1, true, "", []string{"mailto:tlsrpt@good.test"}}},
		{domain: "wildcard.sts.test", status: mtasts.StatusPass, fetched: true, fetch: fetchWant{status: 200},
			hosts: map[string]mxWant{mx1: {"*.good.test", mtasts.TLSValid, pass}},
			rpt:   rptWant{1, true, "", []string{"https://tlsrpt.good.test/v1"}}},
		{domain: "uncovered.sts.test", status: mtasts.StatusMXUncovered, failure: true, fetched: true, fetch: fetchWant{status: 200},
			hosts: map[string]mxWant{mx1: {mx1, mtasts.TLSValid, pass}, mxTLS: {"", "", smtp.ReasonMTASTSUncovered}},
			rpt:   rptWant{1, false, tlsrpt.DefectRUAMissing, nil}},
		{domain: "uncovered.sts.test", mode: mtasts.ModeReport, status: mtasts.StatusMXUncovered, failure: true, fetched: true, fetch: fetchWant{status: 200},
			hosts: map[string]mxWant{mx1: {mx1, mtasts.TLSValid, pass}, mxTLS: {"", "", pass}},
			rpt:   rptWant{1, false, tlsrpt.DefectRUAMissing, nil}},
		{domain: "testing.sts.test", status: mtasts.StatusMXUncovered, fetched: true, fetch: fetchWant{status: 200},
			hosts: map[string]mxWant{mx1: {mx1, mtasts.TLSValid, pass}, mxTLS: {"", "", pass}},
			rpt:   rptWant{2, false, tlsrpt.DefectDuplicate, nil}},
		{domain: "none.sts.test", status: mtasts.StatusModeNone, fetched: true, fetch: fetchWant{status: 200},
			rpt: rptWant{1, false, tlsrpt.DefectRUAInvalid, nil}},
		{domain: "expiredhost.sts.test", status: mtasts.StatusUnfetchable, fetched: true, fetch: fetchWant{err: mtasts.FetchTLSVerify}, rpt: noReport},
		{domain: "wrongname.sts.test", status: mtasts.StatusUnfetchable, fetched: true, fetch: fetchWant{err: mtasts.FetchTLSVerify}, rpt: noReport},
		{domain: "redirect.sts.test", status: mtasts.StatusUnfetchable, fetched: true, fetch: fetchWant{err: mtasts.FetchRedirect, status: 301}, rpt: noReport},
		{domain: "notfound.sts.test", status: mtasts.StatusUnfetchable, fetched: true, fetch: fetchWant{err: mtasts.FetchStatus, status: 404}, rpt: noReport},
		{domain: "syntax.sts.test", status: mtasts.StatusInvalid, fetched: true,
			fetch: fetchWant{status: 200, defects: []mtasts.Defect{mtasts.DefectModeInvalid, mtasts.DefectLineInvalid}}, rpt: noReport},
		{domain: "duptxt.sts.test", status: mtasts.StatusTXTInvalid, txt: mtasts.TXTDuplicate, fetched: true, fetch: fetchWant{status: 200}, rpt: noReport},
		{domain: "noid.sts.test", status: mtasts.StatusTXTInvalid, txt: mtasts.TXTNoID, fetched: true, fetch: fetchWant{status: 200}, rpt: noReport},
		{domain: "big.sts.test", status: mtasts.StatusUnfetchable, fetched: true, fetch: fetchWant{err: mtasts.FetchTooLarge, status: 200}, rpt: noReport},
		{domain: "expiredmx.sts.test", status: mtasts.StatusMXTLSInvalid, failure: true, fetched: true, fetch: fetchWant{status: 200},
			hosts: map[string]mxWant{"mx.expired.test": {"mx.expired.test", mtasts.TLSCertInvalid, smtp.ReasonMTASTSTLSInvalid}}, rpt: noReport},
		{domain: "maxage.sts.test", status: mtasts.StatusInvalid, fetched: true,
			fetch: fetchWant{status: 200, defects: []mtasts.Defect{mtasts.DefectMaxAgeInvalid}}, rpt: noReport},
		{domain: "htmltype.sts.test", status: mtasts.StatusPass, fetched: true,
			fetch: fetchWant{status: 200, defects: []mtasts.Defect{mtasts.DefectContentType}},
			hosts: map[string]mxWant{mx1: {mx1, mtasts.TLSValid, pass}}, rpt: noReport},
		{domain: "cnametxt.sts.test", status: mtasts.StatusPass, fetched: true, fetch: fetchWant{status: 200},
			hosts: map[string]mxWant{mx1: {mx1, mtasts.TLSValid, pass}}, rpt: noReport},
		{domain: "nosts.sts.test", status: mtasts.StatusNoPolicy, rpt: noReport},
	} {
		mode := tc.mode
		if mode == "" {
			mode = mtasts.ModeEnforce
		}
		t.Run(tc.domain+"/"+string(mode), func(t *testing.T) {
			rep := probeSTS(t, &Prober{}, tc.domain, stsSettings(t, env, mode))
			sts := rep.MTASTS
			if sts == nil || rep.TLSRPT == nil {
				t.Fatalf("MTASTS %+v, TLSRPT %+v; want both", sts, rep.TLSRPT)
			}
			if sts.Mode != mode || sts.Status != tc.status || sts.Failure != tc.failure {
				t.Fatalf("mode %s status %s failure %v (%s); want %s, %s, failure %v", sts.Mode, sts.Status, sts.Failure, sts.Detail, mode, tc.status, tc.failure)
			}
			if sts.TXT.Defect != tc.txt {
				t.Fatalf("TXT defect %q (%s), want %q", sts.TXT.Defect, sts.TXT.Detail, tc.txt)
			}
			// The probe fails exactly where an MTA-STS sender refuses
			// and the module enforces.
			if want := !(tc.failure && mode == mtasts.ModeEnforce); rep.Success() != want {
				t.Fatalf("report success %v, want %v", rep.Success(), want)
			}
			checkFetch(t, sts, tc.fetched, tc.fetch)
			for _, h := range rep.Hosts {
				w, ok := tc.hosts[h.Name]
				if !ok {
					if h.MTASTS != nil {
						t.Fatalf("%s: coverage %+v, want none", h.Name, *h.MTASTS)
					}
					if r := h.Results[0]; !r.Success {
						t.Fatalf("%s: dialogue failed %q (%s)", h.Name, r.Reason, r.Detail)
					}
					continue
				}
				checkMX(t, h, w)
			}
			if len(tc.hosts) > 0 && len(rep.Hosts) != len(tc.hosts) {
				t.Fatalf("MX hosts %s, want %d", describeHosts(rep), len(tc.hosts))
			}
			checkTLSRPT(t, rep.TLSRPT, tc.rpt)
		})
	}
}

func checkFetch(t *testing.T, sts *MTASTSReport, fetched bool, w fetchWant) {
	t.Helper()
	if !fetched {
		if sts.Policy != nil || sts.PolicyHost != nil {
			t.Fatalf("fetched a policy (%+v, host %+v) without a v=STSv1 record", sts.Policy, sts.PolicyHost)
		}
		return
	}
	st := sts.Policy
	if st == nil || sts.PolicyHost == nil {
		t.Fatalf("policy %+v, host %+v: want both", st, sts.PolicyHost)
	}
	f := st.Fetch
	t.Logf("fetch %s from %s: status %d, %s, %d bytes, err %q (%s), defects %v", f.URL, f.Addr, f.Status, f.ContentType, f.Size, f.Err, f.Detail, st.Defects)
	if st.Cached || st.ID != sts.TXT.ID {
		t.Fatalf("state cached %v for id %q, want a fetch for this probe, id %q", st.Cached, st.ID, sts.TXT.ID)
	}
	if f.Err != w.err || w.status != 0 && f.Status != w.status {
		t.Fatalf("fetch error %q status %d (%s), want %q status %d", f.Err, f.Status, f.Detail, w.err, w.status)
	}
	if len(sts.PolicyHost.Addrs) == 0 || !strings.HasPrefix(f.Addr, sts.PolicyHost.Addrs[0].String()+":") {
		t.Fatalf("fetched from %q, the policy host resolved to %v", f.Addr, sts.PolicyHost.Addrs)
	}
	for _, d := range w.defects {
		if !slices.Contains(st.Defects, d) {
			t.Fatalf("defects %v, want %s among them", st.Defects, d)
		}
	}
}

func checkMX(t *testing.T, h HostReport, w mxWant) {
	t.Helper()
	mp := h.MTASTS
	if mp == nil {
		t.Fatalf("%s: no coverage, want pattern %q", h.Name, w.pattern)
	}
	if mp.Pattern != w.pattern || mp.Covered != (w.pattern != "") {
		t.Fatalf("%s: pattern %q covered %v, want pattern %q", h.Name, mp.Pattern, mp.Covered, w.pattern)
	}
	var want []mtasts.TLSStatus
	if w.tls != "" {
		want = []mtasts.TLSStatus{w.tls}
	}
	if !slices.Equal(mp.TLS, want) {
		t.Fatalf("%s: TLS %v, want %v", h.Name, mp.TLS, want)
	}
	r := h.Results[0]
	if r.Reason != w.reason || r.Success != (w.reason == pass) {
		t.Fatalf("%s: success %v reason %q (%s), want reason %q", h.Name, r.Success, r.Reason, r.Detail, w.reason)
	}
	if w.reason != pass && !strings.HasPrefix(r.Detail, "MTA-STS: ") {
		t.Fatalf("%s: detail %q, want the policy's words", h.Name, r.Detail)
	}
}

func checkTLSRPT(t *testing.T, rpt *TLSRPTReport, w rptWant) {
	t.Helper()
	rec := rpt.Record
	if rec.Records != w.records || rec.Valid != w.valid || rec.Defect != w.defect || !slices.Equal(rec.RUA, w.rua) {
		t.Fatalf("TLS-RPT %+v (lookup %s %s), want %+v", rec, rpt.Lookup.Outcome, rpt.Lookup.Err, w)
	}
	if w.records == 0 && rpt.Lookup.Outcome != dnsmx.OutcomeNXDomain && rpt.Lookup.Outcome != dnsmx.OutcomeNoData {
		t.Fatalf("TLS-RPT lookup %s (%s), want it absent", rpt.Lookup.Outcome, rpt.Lookup.Err)
	}
}

// TestMTASTSDetails checks what the table above cannot: the policy host's
// expired certificate, the redirect's target, the TXT alias and the words
// of the verdicts.
func TestMTASTSDetails(t *testing.T) {
	env := testenv.Require(t)
	env.LogOnFailure(t)
	s := stsSettings(t, env, mtasts.ModeEnforce)

	t.Run("expired policy host", func(t *testing.T) {
		sts := probeSTS(t, &Prober{}, "expiredhost.sts.test", s).MTASTS
		info := sts.Policy.Fetch.TLS
		if info == nil || info.Verified || info.LeafNotAfter.IsZero() || !info.LeafNotAfter.Before(time.Now()) {
			t.Fatalf("policy host certificate %+v, want its facts with an expiry in the past", info)
		}
		if sts.PolicyHost.Addrs[0].String() != testenv.PolicyExpiredAddr {
			t.Fatalf("policy host %v, want %s", sts.PolicyHost.Addrs, testenv.PolicyExpiredAddr)
		}
		if !strings.Contains(sts.Detail, "tls_verify_failed") || !strings.Contains(sts.Detail, "new senders deliver without MTA-STS") {
			t.Fatalf("detail %q", sts.Detail)
		}
	})
	t.Run("redirect not followed", func(t *testing.T) {
		f := probeSTS(t, &Prober{}, "redirect.sts.test", s).MTASTS.Policy.Fetch
		// One request: a followed redirect would have brought
		// enforce's policy, a 200, its body and its size.
		if f.Status != 301 || f.Location != "https://mta-sts.enforce.sts.test/.well-known/mta-sts.txt" || f.Size != 0 {
			t.Fatalf("fetch %+v, want the 301 alone with its Location", f)
		}
	})
	t.Run("TXT through a CNAME", func(t *testing.T) {
		sts := probeSTS(t, &Prober{}, "cnametxt.sts.test", s).MTASTS
		if sts.TXTLookup.CNAME != "_mta-sts.enforce.sts.test" || sts.TXT.ID != "enforce1" {
			t.Fatalf("TXT lookup %+v, reading %+v; want enforce1 through the alias", sts.TXTLookup, sts.TXT)
		}
		if sts.PolicyHost.Name != "mta-sts.cnametxt.sts.test" {
			t.Fatalf("policy host %s, want the domain's own", sts.PolicyHost.Name)
		}
	})
	t.Run("words", func(t *testing.T) {
		for domain, want := range map[string]string{
			"enforce.sts.test":   "enforce policy id enforce1 (max_age 604800) covers every MX host (2)",
			"uncovered.sts.test": "enforce policy id uncovered1 (max_age 604800) does not cover MX mx.tls.test: MTA-STS senders (Gmail, Exchange Online) refuse to deliver to it",
			"testing.sts.test":   "testing policy id testing1 (max_age 604800) does not cover MX mx.tls.test: in mode testing senders still deliver",
			"expiredmx.sts.test": "covers every MX host, but at mx.expired.test 127.0.1.12: its certificate does not verify for mx.expired.test: certificate has expired or is not yet valid (it expired on ",
			"syntax.sts.test":    "is invalid (mode_invalid, line_invalid): senders ignore it",
			"nosts.sts.test":     "no MTA-STS policy: _mta-sts.nosts.sts.test has no v=STSv1 TXT record",
		} {
			if d := probeSTS(t, &Prober{}, domain, s).MTASTS.Detail; !strings.Contains(d, want) {
				t.Fatalf("%s: detail %q, want it to say %q", domain, d, want)
			}
		}
	})
}

// TestMTASTSCacheThroughTheEngine: two probes of one domain with one
// Prober.Policies: the second is served the policy from the cache, and
// resolves no policy host.
func TestMTASTSCacheThroughTheEngine(t *testing.T) {
	env := testenv.Require(t)
	env.LogOnFailure(t)
	p := &Prober{Policies: mtasts.NewCache()}
	s := stsSettings(t, env, mtasts.ModeEnforce)
	first := probeSTS(t, p, "enforce.sts.test", s).MTASTS
	second := probeSTS(t, p, "enforce.sts.test", s).MTASTS
	if first.Policy == nil || first.Policy.Cached || first.PolicyHost == nil {
		t.Fatalf("first probe: policy %+v, host %+v; want a fetch", first.Policy, first.PolicyHost)
	}
	if second.Policy == nil || !second.Policy.Cached || second.PolicyHost != nil {
		t.Fatalf("second probe: policy %+v, host %+v; want the cached policy", second.Policy, second.PolicyHost)
	}
	if second.Status != mtasts.StatusPass || second.Policy.ID != "enforce1" || second.Policy.Digest != first.Policy.Digest {
		t.Fatalf("second probe: %s, id %q; want pass with the same policy", second.Status, second.Policy.ID)
	}
}

// TestMTASTSCachePerVerification: two modules share one Prober.Policies
// and probe the same domain, one verifying with the test CA, one with the
// system roots (which do not hold it). A policy fetched under one module's
// roots says nothing of whether the other's verify the policy host: each
// module gets its own fetch and its own verdict, whichever probes first.
func TestMTASTSCachePerVerification(t *testing.T) {
	env := testenv.Require(t)
	env.LogOnFailure(t)
	withCA := stsSettings(t, env, mtasts.ModeEnforce)
	systemRoots := withCA
	systemRoots.SMTP.RootCAs = nil
	check := func(t *testing.T, name string, sts *MTASTSReport, verified bool) {
		t.Helper()
		if sts == nil || sts.Policy == nil || sts.Policy.Fetch.TLS == nil {
			t.Fatalf("%s: MTA-STS %+v, want a fetch with its certificate", name, sts)
		}
		st := sts.Policy
		if verified {
			if st.Cached || st.Fetch.Err != "" || !st.Fetch.TLS.Verified || sts.Status != mtasts.StatusPass {
				t.Fatalf("%s: %s, fetch error %q, cached %v, certificate verified %v; want its own fetch, verified, pass",
					name, sts.Status, st.Fetch.Err, st.Cached, st.Fetch.TLS.Verified)
			}
			return
		}
		if st.Cached || st.Fetch.Err != mtasts.FetchTLSVerify || st.Fetch.TLS.Verified || sts.Status != mtasts.StatusUnfetchable {
			t.Fatalf("%s: %s, fetch error %q, cached %v, certificate verified %v; want its own fetch failing %s, unfetchable",
				name, sts.Status, st.Fetch.Err, st.Cached, st.Fetch.TLS.Verified, mtasts.FetchTLSVerify)
		}
	}
	for _, caFirst := range []bool{true, false} {
		t.Run(map[bool]string{true: "test CA first", false: "system roots first"}[caFirst], func(t *testing.T) {
			p := &Prober{Policies: mtasts.NewCache()}
			if caFirst {
				check(t, "test CA", probeSTS(t, p, "enforce.sts.test", withCA).MTASTS, true)
				check(t, "system roots", probeSTS(t, p, "enforce.sts.test", systemRoots).MTASTS, false)
			} else {
				check(t, "system roots", probeSTS(t, p, "enforce.sts.test", systemRoots).MTASTS, false)
				check(t, "test CA", probeSTS(t, p, "enforce.sts.test", withCA).MTASTS, true)
			}
			// Each module's entry stays its own: the next probes are
			// served from the cache with the same verdicts.
			if sts := probeSTS(t, p, "enforce.sts.test", withCA).MTASTS; !sts.Policy.Cached || sts.Status != mtasts.StatusPass {
				t.Fatalf("test CA again: %s, cached %v; want pass from the cache", sts.Status, sts.Policy.Cached)
			}
			if sts := probeSTS(t, p, "enforce.sts.test", systemRoots).MTASTS; !sts.Policy.Cached || sts.Status != mtasts.StatusUnfetchable {
				t.Fatalf("system roots again: %s, cached %v; want unfetchable from the cache", sts.Status, sts.Policy.Cached)
			}
		})
	}
}
