package report

import (
	"bytes"
	"crypto/sha256"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dane"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/mtasts"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/probe/tlscheck"
	"github.com/mx-exporter/mx_exporter/collector/probe/tlsrpt"
)

// The fixtures of this file are the MTA-STS scenarios of the test
// environment (brief of issue 12), made by hand: what the engine reports
// for each, with the details in its words.

// stsDialogue is a dialogue with STARTTLS and a certificate verified for
// host that delivered.
func stsDialogue(host, ip string) *smtp.Result {
	r := tlsResult(host, ip)
	r.TLS.Verified, r.TLS.VerifyError = true, ""
	return r
}

func stsHost(name string, pref uint16, policy *probe.MXPolicy, rs ...*smtp.Result) probe.HostReport {
	h := probe.HostReport{Host: dnsmx.Host{Name: name, Preference: pref, Outcome: dnsmx.OutcomeAnswer}, Results: rs, MTASTS: policy}
	for _, r := range rs {
		h.Addrs = append(h.Addrs, netip.MustParseAddr(r.Addr))
	}
	return h
}

func covered(pattern string, tls ...mtasts.TLSStatus) *probe.MXPolicy {
	return &probe.MXPolicy{Pattern: pattern, Covered: true, TLS: tls}
}

var uncovered = &probe.MXPolicy{}

func txtAnswer(name string, records ...string) dnsmx.TXTLookup {
	return dnsmx.TXTLookup{Name: name, Outcome: dnsmx.OutcomeAnswer, Rcode: "NOERROR", Records: records, Duration: msec(0.8)}
}

func txtNXDomain(name string) dnsmx.TXTLookup {
	return dnsmx.TXTLookup{Name: name, Outcome: dnsmx.OutcomeNXDomain, Rcode: "NXDOMAIN", Err: "NXDOMAIN", Duration: msec(0.6)}
}

func validTXT(id string) mtasts.TXT { return mtasts.TXT{Records: 1, Valid: true, ID: id} }

// policyHost is mta-sts.<domain> resolved to ip.
func policyHost(domain, ip string) *dnsmx.Host {
	return &dnsmx.Host{Name: "mta-sts." + domain, Outcome: dnsmx.OutcomeAnswer, Addrs: []netip.Addr{netip.MustParseAddr(ip)}, Duration: msec(0.5)}
}

// policyCert is the policy host's certificate, valid for 60 days after
// the probe.
func policyCert(domain string) *tlscheck.Info {
	return &tlscheck.Info{Version: "TLS 1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", ServerName: "mta-sts." + domain,
		LeafNotAfter: start.Add(60 * 24 * time.Hour), ChainNotAfter: start.Add(60 * 24 * time.Hour), Verified: true}
}

// fetched is the state of a policy served with status 200 from ip.
func fetched(domain, ip, id, body string, pol *mtasts.Policy, defects ...mtasts.Defect) *mtasts.State {
	valid := true
	for _, d := range defects {
		valid = valid && !d.Fatal()
	}
	return &mtasts.State{
		Fetch: mtasts.Fetch{
			URL: "https://mta-sts." + domain + "/.well-known/mta-sts.txt", Addr: ip + ":443", Start: start.Add(-msec(40)), Duration: msec(4.2),
			Status: 200, ContentType: "text/plain", TLS: policyCert(domain), Size: len(body),
		},
		Policy: pol, Defects: defects, Valid: valid, ID: id, Digest: sha256.Sum256([]byte(body)),
	}
}

func enforcePolicy(maxAge int64, mx ...string) *mtasts.Policy {
	return &mtasts.Policy{Version: "STSv1", Mode: mtasts.PolicyEnforce, MaxAge: maxAge, MX: mx}
}

func tlsRPT(domain string, rec tlsrpt.Record, records ...string) *probe.TLSRPTReport {
	name := "_smtp._tls." + domain
	if len(records) == 0 {
		return &probe.TLSRPTReport{Lookup: txtNXDomain(name)}
	}
	return &probe.TLSRPTReport{Lookup: txtAnswer(name, records...), Record: rec}
}

func stsReport(domain string, sts *probe.MTASTSReport, rpt *probe.TLSRPTReport, hosts ...probe.HostReport) *probe.Report {
	return &probe.Report{
		Target: probe.Target{Domain: domain}, Start: start, Duration: msec(30),
		Asked: probe.Asked{Recipients: []string{"postmaster@" + domain}},
		DNS:   &dnsmx.Domain{Name: domain, Outcome: dnsmx.OutcomeAnswer, Rcode: "NOERROR", Duration: msec(1), Server: "127.0.53.1:53"},
		Hosts: hosts, MTASTS: sts, TLSRPT: rpt,
	}
}

// refused is what the engine makes of a dialogue an enforced policy
// refuses: it ran to the end, and fails with the MTA-STS reason.
func refused(r *smtp.Result, reason smtp.Reason, detail string) *smtp.Result {
	r.Success, r.Reason, r.Detail = false, reason, detail
	return r
}

// enforceReport: an enforce policy covers both MX hosts by name, and both
// present certificates valid for their names; TLS-RPT reports to a
// mailbox.
func enforceReport() *probe.Report {
	const d = "enforce.sts.test"
	body := "version: STSv1\nmode: enforce\nmx: mx1.good.test\nmx: mx.tls.test\nmax_age: 604800\n"
	return stsReport(d, &probe.MTASTSReport{
		Mode: mtasts.ModeEnforce, TXTLookup: txtAnswer("_mta-sts."+d, "v=STSv1; id=enforce1"), TXT: validTXT("enforce1"),
		PolicyHost: policyHost(d, "127.0.4.1"),
		Policy:     fetched(d, "127.0.4.1", "enforce1", body, enforcePolicy(604800, "mx1.good.test", "mx.tls.test")),
		Status:     mtasts.StatusPass,
		Detail:     "enforce policy id enforce1 (max_age 604800) covers every MX host (2), and every covered address reached offers STARTTLS with TLS 1.2 or later and a certificate valid for its MX name",
	}, tlsRPT(d, tlsrpt.Record{Records: 1, Valid: true, RUA: []string{"mailto:tlsrpt@good.test"}}, "v=TLSRPTv1; rua=mailto:tlsrpt@good.test"),
		stsHost("mx1.good.test", 10, covered("mx1.good.test", mtasts.TLSValid), stsDialogue("mx1.good.test", "127.0.1.1")),
		stsHost("mx.tls.test", 20, covered("mx.tls.test", mtasts.TLSValid), stsDialogue("mx.tls.test", "127.0.1.7")),
	)
}

// uncoveredReport: the enforce policy names mx1.good.test only, so
// MTA-STS senders refuse the second MX; the module enforces it. The
// TLS-RPT record has no rua.
func uncoveredReport() *probe.Report {
	const d = "uncovered.sts.test"
	body := "version: STSv1\nmode: enforce\nmx: mx1.good.test\nmax_age: 604800\n"
	policy := "enforce policy id uncovered1 (max_age 604800) of " + d
	return stsReport(d, &probe.MTASTSReport{
		Mode: mtasts.ModeEnforce, TXTLookup: txtAnswer("_mta-sts."+d, "v=STSv1; id=uncovered1"), TXT: validTXT("uncovered1"),
		PolicyHost: policyHost(d, "127.0.4.1"),
		Policy:     fetched(d, "127.0.4.1", "uncovered1", body, enforcePolicy(604800, "mx1.good.test")),
		Status:     mtasts.StatusMXUncovered, Failure: true,
		Detail: "enforce policy id uncovered1 (max_age 604800) does not cover MX mx.tls.test: MTA-STS senders (Gmail, Exchange Online) refuse to deliver to it",
	}, tlsRPT(d, tlsrpt.Record{Records: 1, Defect: tlsrpt.DefectRUAMissing, Detail: `no rua field in "v=TLSRPTv1": senders send no reports`}, "v=TLSRPTv1"),
		stsHost("mx1.good.test", 10, covered("mx1.good.test", mtasts.TLSValid), stsDialogue("mx1.good.test", "127.0.1.1")),
		stsHost("mx.tls.test", 20, uncovered, refused(stsDialogue("mx.tls.test", "127.0.1.7"), smtp.ReasonMTASTSUncovered,
			"MTA-STS: the "+policy+" does not cover MX host mx.tls.test: MTA-STS senders refuse to deliver to it")),
	)
}

// testingReport: the same mistake under a testing policy: senders deliver
// and report. Two TLS-RPT records.
func testingReport() *probe.Report {
	const d = "testing.sts.test"
	body := "version: STSv1\nmode: testing\nmx: mx1.good.test\nmax_age: 86400\n"
	return stsReport(d, &probe.MTASTSReport{
		Mode: mtasts.ModeEnforce, TXTLookup: txtAnswer("_mta-sts."+d, "v=STSv1; id=testing1"), TXT: validTXT("testing1"),
		PolicyHost: policyHost(d, "127.0.4.1"),
		Policy:     fetched(d, "127.0.4.1", "testing1", body, &mtasts.Policy{Version: "STSv1", Mode: mtasts.PolicyTesting, MaxAge: 86400, MX: []string{"mx1.good.test"}}),
		Status:     mtasts.StatusMXUncovered,
		Detail:     "testing policy id testing1 (max_age 86400) does not cover MX mx.tls.test: in mode testing senders still deliver and only report it through TLS-RPT; under mode enforce they would refuse to deliver to it",
	}, tlsRPT(d, tlsrpt.Record{Records: 2, Defect: tlsrpt.DefectDuplicate, Detail: `2 TXT records start with v=TLSRPTv1 (the first two: "v=TLSRPTv1; rua=mailto:a@good.test", "v=TLSRPTv1; rua=mailto:b@good.test"): senders send no reports`},
		"v=TLSRPTv1; rua=mailto:a@good.test", "v=TLSRPTv1; rua=mailto:b@good.test"),
		stsHost("mx1.good.test", 10, covered("mx1.good.test", mtasts.TLSValid), stsDialogue("mx1.good.test", "127.0.1.1")),
		stsHost("mx.tls.test", 20, uncovered, stsDialogue("mx.tls.test", "127.0.1.7")),
	)
}

// expiredHostReport: the policy host's certificate has expired, so no
// policy comes of the fetch; no TLS-RPT record.
func expiredHostReport() *probe.Report {
	const d = "expiredhost.sts.test"
	cert := policyCert(d)
	cert.LeafNotAfter, cert.ChainNotAfter = start.Add(-3*24*time.Hour), start.Add(-3*24*time.Hour)
	cert.Verified, cert.VerifyError = false, "certificate has expired or is not yet valid"
	st := &mtasts.State{Fetch: mtasts.Fetch{
		URL: "https://mta-sts." + d + "/.well-known/mta-sts.txt", Addr: "127.0.4.2:443", Start: start, Duration: msec(3.1),
		TLS: cert, Err: mtasts.FetchTLSVerify, Detail: "the certificate of mta-sts." + d + " does not verify: certificate has expired or is not yet valid",
	}, ID: "expiredhost1"}
	return stsReport(d, &probe.MTASTSReport{
		Mode: mtasts.ModeEnforce, TXTLookup: txtAnswer("_mta-sts."+d, "v=STSv1; id=expiredhost1"), TXT: validTXT("expiredhost1"),
		PolicyHost: policyHost(d, "127.0.4.2"), Policy: st, Status: mtasts.StatusUnfetchable,
		Detail: "the policy for TXT id expiredhost1 could not be fetched from https://mta-sts." + d + "/.well-known/mta-sts.txt (tls_verify_failed: " + st.Fetch.Detail +
			"): senders that cached it keep applying it until its max_age runs out, new senders deliver without MTA-STS",
	}, tlsRPT(d, tlsrpt.Record{}),
		stsHost("mx1.good.test", 10, nil, stsDialogue("mx1.good.test", "127.0.1.1")),
	)
}

// syntaxReport: the policy says "mode: enforcing" and holds a line that is
// no key-value pair: two fatal defects. It is also served as text/html.
func syntaxReport() *probe.Report {
	const d = "syntax.sts.test"
	body := "version: STSv1\nmode: enforcing\nmax_age: 604800\nmx: mx1.good.test\nthis is not a key value line\n"
	st := fetched(d, "127.0.4.1", "syntax1", body, &mtasts.Policy{Version: "STSv1", MaxAge: 604800, MX: []string{"mx1.good.test"}},
		mtasts.DefectModeInvalid, mtasts.DefectLineInvalid, mtasts.DefectContentType)
	st.Fetch.ContentType = "text/html; charset=utf-8"
	return stsReport(d, &probe.MTASTSReport{
		Mode: mtasts.ModeEnforce, TXTLookup: txtAnswer("_mta-sts."+d, "v=STSv1; id=syntax1"), TXT: validTXT("syntax1"),
		PolicyHost: policyHost(d, "127.0.4.1"), Policy: st, Status: mtasts.StatusInvalid,
		Detail: "the policy at https://mta-sts." + d + "/.well-known/mta-sts.txt (TXT id syntax1) is invalid (mode_invalid, line_invalid): senders ignore it and deliver without MTA-STS",
	}, tlsRPT(d, tlsrpt.Record{}),
		stsHost("mx1.good.test", 10, nil, stsDialogue("mx1.good.test", "127.0.1.1")),
	)
}

// dupTXTReport: two v=STSv1 records, which senders ignore, in front of a
// valid policy.
func dupTXTReport() *probe.Report {
	const d = "duptxt.sts.test"
	body := "version: STSv1\nmode: enforce\nmx: mx1.good.test\nmax_age: 604800\n"
	txt := mtasts.TXT{Records: 2, Defect: mtasts.TXTDuplicate, Detail: `2 TXT records start with v=STSv1 (the first two: "v=STSv1; id=dup1", "v=STSv1; id=dup2"): senders ignore them all and see no policy`}
	return stsReport(d, &probe.MTASTSReport{
		Mode: mtasts.ModeEnforce, TXTLookup: txtAnswer("_mta-sts."+d, "v=STSv1; id=dup1", "v=STSv1; id=dup2", "v=spf1 -all"), TXT: txt,
		PolicyHost: policyHost(d, "127.0.4.1"), Policy: fetched(d, "127.0.4.1", "", body, enforcePolicy(604800, "mx1.good.test")),
		Status: mtasts.StatusTXTInvalid,
		Detail: "the TXT record at _mta-sts." + d + " is invalid (duplicate): " + txt.Detail,
	}, tlsRPT(d, tlsrpt.Record{}),
		stsHost("mx1.good.test", 10, nil, stsDialogue("mx1.good.test", "127.0.1.1")),
	)
}

// noneReport: a policy in mode none, the way to retire one; its TLS-RPT
// record names an ftp: URI.
func noneReport() *probe.Report {
	const d = "none.sts.test"
	body := "version: STSv1\nmode: none\nmax_age: 86400\n"
	return stsReport(d, &probe.MTASTSReport{
		Mode: mtasts.ModeEnforce, TXTLookup: txtAnswer("_mta-sts."+d, "v=STSv1; id=none1"), TXT: validTXT("none1"),
		PolicyHost: policyHost(d, "127.0.4.1"),
		Policy:     fetched(d, "127.0.4.1", "none1", body, &mtasts.Policy{Version: "STSv1", Mode: mtasts.PolicyNone, MaxAge: 86400}),
		Status:     mtasts.StatusModeNone,
		Detail:     "none policy id none1 (max_age 86400): mode none, senders apply no MTA-STS to the domain",
	}, tlsRPT(d, tlsrpt.Record{Records: 1, Defect: tlsrpt.DefectRUAInvalid, Detail: `report URI "ftp://tlsrpt.good.test/" is neither mailto: nor https: in "v=TLSRPTv1; rua=ftp://tlsrpt.good.test/": senders send no reports`},
		"v=TLSRPTv1; rua=ftp://tlsrpt.good.test/"),
		stsHost("mx1.good.test", 10, nil, stsDialogue("mx1.good.test", "127.0.1.1")),
	)
}

// noPolicyReport: no _mta-sts record at all, and no TLS-RPT.
func noPolicyReport() *probe.Report {
	const d = "nosts.sts.test"
	return stsReport(d, &probe.MTASTSReport{
		Mode: mtasts.ModeEnforce, TXTLookup: txtNXDomain("_mta-sts." + d), Status: mtasts.StatusNoPolicy,
		Detail: "no MTA-STS policy: _mta-sts." + d + " has no v=STSv1 TXT record",
	}, tlsRPT(d, tlsrpt.Record{}),
		stsHost("mx1.good.test", 10, nil, stsDialogue("mx1.good.test", "127.0.1.1")),
	)
}

// cachedReport: a wildcard policy served from the exporter's cache,
// fetched 12 minutes before the probe; TLS-RPT reports over HTTPS.
func cachedReport() *probe.Report {
	const d = "wildcard.sts.test"
	body := "version: STSv1\nmode: enforce\nmx: *.good.test\nmax_age: 1209600\n"
	st := fetched(d, "127.0.4.1", "wildcard1", body, enforcePolicy(1209600, "*.good.test"))
	st.Cached, st.Fetch.Start = true, start.Add(-12*time.Minute)
	return stsReport(d, &probe.MTASTSReport{
		Mode: mtasts.ModeEnforce, TXTLookup: txtAnswer("_mta-sts."+d, "v=STSv1; id=wildcard1"), TXT: validTXT("wildcard1"),
		Policy: st, Status: mtasts.StatusPass,
		Detail: "enforce policy id wildcard1 (max_age 1209600) covers every MX host (1), and every covered address reached offers STARTTLS with TLS 1.2 or later and a certificate valid for its MX name",
	}, tlsRPT(d, tlsrpt.Record{Records: 1, Valid: true, RUA: []string{"https://tlsrpt.good.test/v1"}}, "v=TLSRPTv1; rua=https://tlsrpt.good.test/v1"),
		stsHost("mx1.good.test", 10, covered("*.good.test", mtasts.TLSValid), stsDialogue("mx1.good.test", "127.0.1.1")),
	)
}

// expiredMXReport: the only MX is covered, but its certificate has
// expired: MTA-STS senders refuse it, and only they. The policy's max_age
// is a day, short for enforce mode.
func expiredMXReport() *probe.Report {
	const d = "expiredmx.sts.test"
	body := "version: STSv1\nmode: enforce\nmx: mx.expired.test\nmax_age: 86400\n"
	r := stsDialogue("mx.expired.test", "127.0.1.12")
	r.TLS.LeafNotAfter, r.TLS.ChainNotAfter = start.Add(-5*24*time.Hour), start.Add(-5*24*time.Hour)
	r.TLS.Verified, r.TLS.VerifyError = false, "certificate has expired or is not yet valid"
	refused(r, smtp.ReasonMTASTSTLSInvalid, "MTA-STS: the enforce policy id expiredmx1 (max_age 86400) of "+d+
		" covers mx.expired.test (pattern mx.expired.test), but at this address its certificate does not verify for mx.expired.test: certificate has expired or is not yet valid: MTA-STS senders refuse to deliver to it")
	return stsReport(d, &probe.MTASTSReport{
		Mode: mtasts.ModeEnforce, TXTLookup: txtAnswer("_mta-sts."+d, "v=STSv1; id=expiredmx1"), TXT: validTXT("expiredmx1"),
		PolicyHost: policyHost(d, "127.0.4.1"),
		Policy:     fetched(d, "127.0.4.1", "expiredmx1", body, enforcePolicy(86400, "mx.expired.test"), mtasts.DefectMaxAgeShort),
		Status:     mtasts.StatusMXTLSInvalid, Failure: true,
		Detail: "enforce policy id expiredmx1 (max_age 86400) covers every MX host, but at mx.expired.test 127.0.1.12: its certificate does not verify for mx.expired.test: " +
			"certificate has expired or is not yet valid (it expired on 2026-11-18): MTA-STS senders (Gmail, Exchange Online) refuse to deliver to it; warnings: max_age_short",
	}, tlsRPT(d, tlsrpt.Record{}),
		stsHost("mx.expired.test", 10, covered("mx.expired.test", mtasts.TLSCertInvalid), r),
	)
}

var policyScenarios = []struct {
	name string
	rep  func() *probe.Report
	want []string // lines or parts of lines the text must hold
}{
	{"enforce.sts.test", enforceReport, []string{
		"MTA-STS: pass: enforce policy id enforce1 (max_age 604800) covers every MX host (2)",
		`  TXT:        _mta-sts.enforce.sts.test: valid, id enforce1`,
		`              "v=STSv1; id=enforce1"`,
		"  fetch:      https://mta-sts.enforce.sts.test/.well-known/mta-sts.txt\n",
		"              mta-sts.enforce.sts.test is 127.0.4.1\n",
		"              127.0.4.1:443: HTTP 200, text/plain, 79 bytes in 4.2 ms\n",
		"              certificate verified for mta-sts.enforce.sts.test, expires in 60 days (2027-01-22)\n",
		"  policy:     mode enforce, max_age 604800 s (7 days), mx mx1.good.test, mx.tls.test\n",
		"  coverage:   MX 10 mx1.good.test: covered by mx pattern mx1.good.test\n",
		"                127.0.1.7 port 25: TLS satisfies the policy (TLS 1.3, certificate verified for mx.tls.test)\n",
		"TLS-RPT: valid: reports go to mailto:tlsrpt@good.test\n",
		"  MTA-STS: covered by mx pattern mx.tls.test\n",
		"    MTA-STS:    TLS satisfies the policy (TLS 1.3, certificate verified for mx1.good.test)\n",
		"OK enforce.sts.test: 2 addresses passed (",
	}},
	{"uncovered.sts.test", uncoveredReport, []string{
		"MTA-STS: MX NOT COVERED: enforce policy id uncovered1 (max_age 604800) does not cover MX mx.tls.test",
		"  MTA-STS senders refuse to deliver to mx.tls.test, so the probe fails (mta_sts: enforce)\n",
		"              MX 20 mx.tls.test: NOT COVERED: the host matches no mx pattern of the policy\n",
		"TLS-RPT: INVALID (rua_missing): no rua field in \"v=TLSRPTv1\": senders send no reports\n",
		"  MTA-STS: NOT COVERED: the host matches no mx pattern of the policy\n",
		"    verdict:    FAIL mta_sts_mx_uncovered: MTA-STS: the enforce policy id uncovered1 (max_age 604800) of uncovered.sts.test does not cover MX host mx.tls.test",
		"DEGRADED uncovered.sts.test: 1 of 2 addresses failed MTA-STS; delivery works through MX 10 mx1.good.test (",
	}},
	{"testing.sts.test", testingReport, []string{
		"MTA-STS: MX not covered: testing policy id testing1",
		"  MTA-STS senders would refuse to deliver to mx.tls.test, but the policy is in testing mode: they deliver, and report the failure to the TLS-RPT address\n",
		"  policy:     mode testing, max_age 86400 s (1 day), mx mx1.good.test\n",
		"TLS-RPT: INVALID (duplicate): 2 TXT records start with v=TLSRPTv1",
		`              "v=TLSRPTv1; rua=mailto:b@good.test"`,
		"OK testing.sts.test: 2 addresses passed; MTA-STS senders would refuse to deliver to mx.tls.test, but the policy is in testing mode (",
	}},
	{"expiredhost.sts.test", expiredHostReport, []string{
		"MTA-STS: policy unfetchable: the policy for TXT id expiredhost1 could not be fetched",
		"  new senders fail open: they deliver without MTA-STS; senders that cached the policy keep applying it until its max_age runs out\n",
		"              mta-sts.expiredhost.sts.test is 127.0.4.2\n",
		"              127.0.4.2:443: FAILED tls_verify_failed: the certificate of mta-sts.expiredhost.sts.test does not verify: certificate has expired or is not yet valid, after 3.1 ms\n",
		"              certificate NOT verified for mta-sts.expiredhost.sts.test: certificate has expired or is not yet valid; EXPIRED on 2026-11-20, 3 days before this probe\n",
		"TLS-RPT: no record: _smtp._tls.expiredhost.sts.test does not exist (NXDOMAIN): senders send no TLS reports\n",
		"OK expiredhost.sts.test: 1 address passed; the MTA-STS policy cannot be fetched: new senders fail open (",
	}},
	{"syntax.sts.test", syntaxReport, []string{
		"MTA-STS: policy invalid: the policy at https://mta-sts.syntax.sts.test/.well-known/mta-sts.txt (TXT id syntax1) is invalid (mode_invalid, line_invalid)",
		"  senders ignore the policy and fail open: they deliver without MTA-STS\n",
		"              127.0.4.1:443: HTTP 200, text/html; charset=utf-8, 94 bytes in 4.2 ms\n",
		"  policy:     mode missing or invalid, max_age 604800 s (7 days), mx mx1.good.test\n",
		"  defects:    mode_invalid (fatal): the mode is not enforce, testing or none\n",
		"              line_invalid (fatal): a line is not \"key: value\": senders reject the whole policy\n",
		"              content_type (warning): served as text/html; charset=utf-8, not text/plain",
		"OK syntax.sts.test: 1 address passed; the MTA-STS policy is invalid: senders ignore it (",
	}},
	{"duptxt.sts.test", dupTXTReport, []string{
		"MTA-STS: TXT record invalid: the TXT record at _mta-sts.duptxt.sts.test is invalid",
		`  TXT:        _mta-sts.duptxt.sts.test: INVALID (duplicate): more than one v=STSv1 record: senders ignore them all` + "\n",
		`              "v=STSv1; id=dup2"`,
		`              "v=spf1 -all"`,
		"OK duptxt.sts.test: 1 address passed; the _mta-sts TXT record is invalid: senders ignore the policy (",
	}},
	{"none.sts.test", noneReport, []string{
		"MTA-STS: mode none: none policy id none1 (max_age 86400): mode none, senders apply no MTA-STS to the domain\n",
		"  policy:     mode none, max_age 86400 s (1 day)\n",
		"TLS-RPT: INVALID (rua_invalid): report URI \"ftp://tlsrpt.good.test/\" is neither mailto: nor https:",
		"OK none.sts.test: 1 address passed (",
	}},
	{"nosts.sts.test", noPolicyReport, []string{
		"MTA-STS: no policy: no MTA-STS policy: _mta-sts.nosts.sts.test has no v=STSv1 TXT record\n",
		"  TXT:        _mta-sts.nosts.sts.test: no record: _mta-sts.nosts.sts.test does not exist (NXDOMAIN)\n",
		"TLS-RPT: no record: _smtp._tls.nosts.sts.test does not exist (NXDOMAIN): senders send no TLS reports\n",
	}},
	{"wildcard.sts.test", cachedReport, []string{
		"  fetch:      https://mta-sts.wildcard.sts.test/.well-known/mta-sts.txt (cached, fetched 12 min ago)\n",
		"  policy:     mode enforce, max_age 1209600 s (14 days), mx *.good.test\n",
		"  coverage:   MX 10 mx1.good.test: covered by mx pattern *.good.test\n",
		"TLS-RPT: valid: reports go to https://tlsrpt.good.test/v1\n",
	}},
	{"expiredmx.sts.test", expiredMXReport, []string{
		"MTA-STS: MX TLS INVALID: enforce policy id expiredmx1 (max_age 86400) covers every MX host, but at mx.expired.test 127.0.1.12",
		"  MTA-STS senders refuse to deliver to mx.expired.test, so the probe fails (mta_sts: enforce)\n",
		"  defects:    max_age_short (warning): max_age under a week in enforce mode",
		"                127.0.1.12 port 25: does not satisfy the policy: certificate not verified for mx.expired.test: certificate has expired or is not yet valid\n",
		"FAIL expiredmx.sts.test: 1 of 1 address failed MTA-STS; mail from MTA-STS senders stops, other senders still deliver (",
	}},
}

func TestWriteTextMTASTSGolden(t *testing.T) {
	for _, tc := range policyScenarios {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteText(&buf, tc.rep(), false); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name+".txt", buf.Bytes())
			out := buf.String()
			for _, want := range tc.want {
				if !strings.Contains(out, want) {
					t.Errorf("report lacks %q", want)
				}
			}
			// The blocks come between the MX lookup and the first MX host.
			sts, rpt, mx := strings.Index(out, "\nMTA-STS:"), strings.Index(out, "\nTLS-RPT:"), strings.Index(out, "\nMX 10 ")
			if sts < 0 || rpt < sts || mx < rpt {
				t.Errorf("MTA-STS at %d, TLS-RPT at %d, MX 10 at %d: want them in that order", sts, rpt, mx)
			}
		})
	}
}

// TestWriteTextMTASTSColour: a refusal is red, a pass green, what makes
// senders fail open amber, and a fact that decides nothing plain.
func TestWriteTextMTASTSColour(t *testing.T) {
	for _, tc := range []struct {
		rep  *probe.Report
		want []string
	}{
		{enforceReport(), []string{
			"MTA-STS:" + string(colours.reset) + " " + string(colours.ok) + "pass:",
			"  MTA-STS: " + string(colours.ok) + "covered by mx pattern mx1.good.test",
			"TLS-RPT:" + string(colours.reset) + " " + string(colours.ok) + "valid:",
		}},
		{uncoveredReport(), []string{
			"MTA-STS:" + string(colours.reset) + " " + string(colours.bad) + "MX NOT COVERED:",
			"  " + string(colours.bad) + "MTA-STS senders refuse to deliver to mx.tls.test",
			"  MTA-STS: " + string(colours.bad) + "NOT COVERED",
			"TLS-RPT:" + string(colours.reset) + " " + string(colours.warn) + "INVALID (rua_missing):",
		}},
		{testingReport(), []string{
			"MTA-STS:" + string(colours.reset) + " " + string(colours.warn) + "MX not covered:",
			"  MTA-STS: " + string(colours.warn) + "NOT COVERED",
		}},
		{expiredHostReport(), []string{
			"MTA-STS:" + string(colours.reset) + " " + string(colours.warn) + "policy unfetchable:",
			labelIndent + string(colours.warn) + "127.0.4.2:443: FAILED tls_verify_failed",
			labelIndent + string(colours.warn) + "certificate NOT verified",
		}},
		{syntaxReport(), []string{
			"  defects:    " + string(colours.bad) + "mode_invalid (fatal)",
			labelIndent + string(colours.warn) + "content_type (warning)",
		}},
		{noPolicyReport(), []string{
			"MTA-STS:" + string(colours.reset) + " no policy:",
			"TLS-RPT:" + string(colours.reset) + " no record:",
		}},
		{expiredMXReport(), []string{
			labelIndent + "  127.0.1.12 port 25: " + string(colours.bad) + "does not satisfy the policy",
			"    MTA-STS:    " + string(colours.bad) + "does not satisfy the policy",
		}},
	} {
		t.Run(tc.rep.Target.Name(), func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteText(&buf, tc.rep, true); err != nil {
				t.Fatal(err)
			}
			for _, want := range tc.want {
				if !strings.Contains(buf.String(), want) {
					t.Errorf("coloured rendering lacks %q", want)
				}
			}
		})
	}
}

// TestSummaryLineMTASTS: the last line counts MTA-STS failures like any
// other, says whom they stop, and names on an OK line what the module only
// reports or what makes senders fail open.
func TestSummaryLineMTASTS(t *testing.T) {
	allUncovered := func() *probe.Report {
		rep := uncoveredReport()
		rep.Hosts = rep.Hosts[1:]
		return rep
	}
	reported := func() *probe.Report {
		rep := uncoveredReport()
		rep.MTASTS.Mode = mtasts.ModeReport
		r := rep.Hosts[1].Results[0]
		r.Success, r.Reason, r.Detail = true, "", ""
		return rep
	}
	lookupFailed := func() *probe.Report {
		rep := noPolicyReport()
		rep.MTASTS.TXTLookup = dnsmx.TXTLookup{Name: "_mta-sts.nosts.sts.test", Outcome: dnsmx.OutcomeServFail, Rcode: "SERVFAIL", Err: "SERVFAIL from every server"}
		rep.MTASTS.Status = mtasts.StatusTXTLookupFailed
		return rep
	}
	withDANE := func() *probe.Report {
		rep := uncoveredReport()
		r := rep.Hosts[0].Results[0]
		stoppedAfterTLS(r, "DANE: none of 1 usable TLSA records matches the presented chain")
		r.DANE = enforced("mx1.good.test", dane.StatusMismatch, "none of 1 usable TLSA records matches the presented chain", nil)
		return rep
	}
	withDead := func() *probe.Report {
		rep := expiredMXReport()
		dead := &smtp.Result{Host: "mx.expired.test", Addr: "127.0.1.13", Port: 25, Reason: smtp.ReasonConnectRefused}
		h := &rep.Hosts[0]
		h.Results, h.Addrs = append(h.Results, dead), append(h.Addrs, netip.MustParseAddr(dead.Addr))
		h.MTASTS.TLS = append(h.MTASTS.TLS, mtasts.TLSNotReached)
		return rep
	}
	htmlType := func() *probe.Report {
		rep := enforceReport()
		rep.MTASTS.Policy.Defects = []mtasts.Defect{mtasts.DefectContentType}
		return rep
	}
	for _, tc := range []struct {
		name string
		rep  *probe.Report
		want string
	}{
		{"a pass with a warning", htmlType(), "OK enforce.sts.test: 2 addresses passed; the MTA-STS policy has 1 warning: content_type"},
		{"every MX uncovered", allUncovered(), "FAIL uncovered.sts.test: 1 of 1 address failed MTA-STS; mail from MTA-STS senders stops, other senders still deliver"},
		{"report mode", reported(), "OK uncovered.sts.test: 2 addresses passed; MTA-STS senders refuse to deliver to mx.tls.test, which the module only reports (mta_sts: report)"},
		{"TXT lookup failed", lookupFailed(), "OK nosts.sts.test: 1 address passed; the _mta-sts TXT lookup failed"},
		{"DANE and MTA-STS", withDANE(), "FAIL uncovered.sts.test: 2 of 2 addresses failed, 1 of them DANE, 1 MTA-STS; mail from DANE and MTA-STS senders stops"},
		{"MTA-STS and a dead address", withDead(), "FAIL expiredmx.sts.test: 2 of 2 addresses failed, 1 of them MTA-STS; mail from MTA-STS senders stops"},
	} {
		t.Run(tc.name, func(t *testing.T) {
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

// TestMTASTSRemoteTextIsPrintable: what a DNS or web server sends is shown
// with its control bytes escaped, so that it cannot drive the terminal.
func TestMTASTSRemoteTextIsPrintable(t *testing.T) {
	rep := syntaxReport()
	rep.MTASTS.TXTLookup.Records = []string{"v=STSv1; id=syntax1\x1b[2J", "\xff\xfe"}
	rep.MTASTS.Policy.Fetch.ContentType = "text/html\x1b]0;pwned\x07"
	rep.TLSRPT = tlsRPT("syntax.sts.test", tlsrpt.Record{Records: 1, Defect: tlsrpt.DefectSyntax}, "v=TLSRPTv1;\rrua=mailto:x@y.test")
	var buf bytes.Buffer
	if err := WriteText(&buf, rep, false); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.ContainsAny(out, "\x1b\x07\r") || strings.Contains(out, "\xff") {
		t.Fatalf("remote control bytes reach the terminal:\n%q", out)
	}
	for _, want := range []string{
		`"v=STSv1; id=syntax1\x1b[2J"`,
		`"\xff\xfe"`,
		`HTTP 200, text/html\x1b]0;pwned\x07, 94 bytes`,
		`served as text/html\x1b]0;pwned\x07, not text/plain`,
		`"v=TLSRPTv1;\x0drua=mailto:x@y.test"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %s", want)
		}
	}
	if got := Printable(strings.Repeat("a", 1000)); len(got) > maxPrintable+len("…") {
		t.Errorf("Printable of 1000 bytes: %d bytes, want at most %d", len(got), maxPrintable+len("…"))
	}
}

func TestTLSStatusWords(t *testing.T) {
	old := stsDialogue("mx.old.test", "192.0.2.9")
	old.TLS.Version = "TLS 1.0"
	expired := stsDialogue("mx.old.test", "192.0.2.9")
	expired.TLS.Verified, expired.TLS.VerifyError = false, "x509: certificate has expired"
	other := stsDialogue("mx.old.test", "192.0.2.9")
	other.TLS.ServerName = "relay.provider.test"
	refusedTLS := stsDialogue("mx.old.test", "192.0.2.9")
	refusedTLS.TLS, refusedTLS.TLSFailure = nil, &smtp.TLSFailure{Stage: smtp.TLSRefused, Cause: "454 4.7.0 TLS not available"}
	for _, tc := range []struct {
		s     mtasts.TLSStatus
		r     *smtp.Result
		asked probe.Asked
		want  string
	}{
		{mtasts.TLSValid, stsDialogue("mx.old.test", "192.0.2.9"), probe.Asked{}, "TLS satisfies the policy (TLS 1.3, certificate verified for mx.old.test)"},
		{mtasts.TLSStartTLSMissing, nil, probe.Asked{}, "does not satisfy the policy: STARTTLS not offered"},
		{mtasts.TLSStartTLSFailed, refusedTLS, probe.Asked{}, "does not satisfy the policy: STARTTLS refused: 454 4.7.0 TLS not available"},
		{mtasts.TLSCertInvalid, expired, probe.Asked{}, "does not satisfy the policy: certificate not verified for mx.old.test: x509: certificate has expired"},
		{mtasts.TLSCertInvalid, other, probe.Asked{}, "does not satisfy the policy: the certificate was verified for relay.provider.test (tls_server_name), not for the MX name mx.old.test"},
		{mtasts.TLSVersionTooOld, old, probe.Asked{}, "does not satisfy the policy: TLS 1.0, the policy needs TLS 1.2 or later"},
		{mtasts.TLSNotReached, nil, probe.Asked{}, "not judged: the dialogue ended before STARTTLS could be tried"},
		{mtasts.TLSNotReached, nil, probe.Asked{StartTLS: smtp.StartTLSOff}, "not judged: the module does not try STARTTLS (starttls: off)"},
	} {
		if got := TLSStatusWords(tc.s, tc.r, "mx.old.test", tc.asked); got != tc.want {
			t.Errorf("TLSStatusWords(%s):\n got %q\nwant %q", tc.s, got, tc.want)
		}
	}
}

func TestMaxAgeWords(t *testing.T) {
	for _, tc := range []struct {
		s    int64
		want string
	}{
		{0, "0 s (0 seconds)"},
		{59, "59 s (59 seconds)"},
		{300, "300 s (5 minutes)"},
		{3600, "3600 s (1 hour)"},
		{5400, "5400 s (1.5 hours)"},
		{86400, "86400 s (1 day)"},
		{604800, "604800 s (7 days)"},
		{31557600, "31557600 s (365.2 days)"},
	} {
		if got := MaxAgeWords(tc.s); got != tc.want {
			t.Errorf("MaxAgeWords(%d) = %q, want %q", tc.s, got, tc.want)
		}
	}
}
