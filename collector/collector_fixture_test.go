package collector

import (
	"bytes"
	"net/netip"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dane"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsbl"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/mtasts"
	"github.com/mx-exporter/mx_exporter/collector/probe/rdns"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/probe/tlscheck"
	"github.com/mx-exporter/mx_exporter/collector/probe/tlsrpt"
	"github.com/mx-exporter/mx_exporter/collector/scheduler"
	"github.com/mx-exporter/mx_exporter/collector/store"
)

// Hand-made reports: the tests need the types only, not the probe code.

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

const ms = time.Millisecond

// fullModule probes like an inbound gateway check: one mailbox, relay
// check, opportunistic STARTTLS.
var fullModule = probe.Asked{
	Recipients: []string{"postmaster@example.org"},
	RelayCheck: "relay-test@mx-exporter.invalid",
	StartTLS:   smtp.StartTLSOpportunistic,
}

// detailedModule is fullModule with every opt-in detail (module key
// metrics) and pipelining: the golden file shows both sides of the series
// budget.
var detailedModule = probe.Asked{
	Recipients: fullModule.Recipients,
	RelayCheck: fullModule.RelayCheck,
	StartTLS:   fullModule.StartTLS,
	Pipelining: true,
	Detail:     probe.Detail{AllExtensions: true, EnhancedStatus: true, AllSteps: true},
}

// plainModule: STARTTLS off, no recipient, VRFY.
var plainModule = probe.Asked{
	StartTLS: smtp.StartTLSOff,
	VRFY:     "postmaster",
}

func reply(code int, enhanced string, lines ...string) smtp.Reply {
	return smtp.Reply{Code: code, Enhanced: enhanced, Lines: lines}
}

func exts(size int64, keywords ...string) *smtp.Extensions {
	e := &smtp.Extensions{Greeting: "mx.example greets you", Keywords: []smtp.Keyword{}}
	for _, k := range keywords {
		e.Keywords = append(e.Keywords, smtp.Keyword{Name: k})
	}
	if size >= 0 {
		e.Keywords = append(e.Keywords, smtp.Keyword{Name: "SIZE"})
		e.SizeAdvertised, e.Size = true, size
	}
	return e
}

// healthy is a full successful dialogue with fullModule; withTLS says
// whether the server offers STARTTLS.
func healthy(host, ip string, start time.Time, withTLS bool) *smtp.Result {
	r := &smtp.Result{
		Host: host, Addr: ip, Port: 25, Start: start, Duration: 120 * ms, Success: true,
		Banner:            reply(220, "", host+" ESMTP"),
		BannerHostname:    host,
		GreetingFirstLine: 5 * ms,
	}
	step := func(name string, d time.Duration, rep smtp.Reply) {
		r.Steps = append(r.Steps, smtp.Step{Name: name, Reply: rep, Duration: d})
	}
	step(smtp.StepConnect, 2*ms, smtp.Reply{})
	step(smtp.StepBanner, 5*ms, r.Banner)
	if withTLS {
		r.Extensions = exts(10240000, "PIPELINING", "STARTTLS", "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING")
		step(smtp.StepEHLO, 3*ms, reply(250, "", host))
		step(smtp.StepStartTLS, 1*ms, reply(220, "2.0.0", "Ready to start TLS"))
		step(smtp.StepTLSHandshake, 15*ms, smtp.Reply{})
		step(smtp.StepEHLOTLS, 40*ms, reply(250, "", host))
		r.ExtensionsTLS = exts(52428800, "PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING", "AUTH")
		r.TLS = &tlscheck.Info{
			Version: "TLS 1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", ServerName: host,
			LeafSubject: "CN=" + host, ChainNotAfter: time.Date(2025, 8, 30, 0, 0, 0, 0, time.UTC), Verified: true,
		}
	} else {
		r.Extensions = exts(-1, "PIPELINING", "8BITMIME")
		step(smtp.StepEHLO, 3*ms, reply(250, "", host))
	}
	step(smtp.StepMail, 1*ms, reply(250, "2.1.0", "Ok"))
	step(smtp.StepRcpt, 4*ms, reply(250, "2.1.5", "Ok"))
	r.Recipients = []smtp.Recipient{{Address: "postmaster@example.org", Reply: reply(250, "2.1.5", "Ok"), Accepted: true}}
	step(smtp.StepRelay, 2*ms, reply(554, "5.7.1", "Relay access denied"))
	r.Relay = &smtp.Relay{Address: "relay-test@mx-exporter.invalid", Reply: reply(554, "5.7.1", "Relay access denied"), Verdict: smtp.RelayRefused}
	step(smtp.StepRSET, 1*ms, reply(250, "2.0.0", "Ok"))
	step(smtp.StepQuit, 1*ms, reply(221, "2.0.0", "Bye"))
	return r
}

func host(name string, pref uint16, results ...*smtp.Result) probe.HostReport {
	h := probe.HostReport{Host: dnsmx.Host{Name: name, Preference: pref, Outcome: dnsmx.OutcomeAnswer, Duration: 3 * ms}}
	for _, r := range results {
		h.Addrs = append(h.Addrs, netip.MustParseAddr(r.Addr))
	}
	h.Results = results
	if len(results) == 0 {
		h.Outcome, h.Err = dnsmx.OutcomeNoData, "no A or AAAA record"
	}
	return h
}

func domainReport(domain string, start time.Time, d *dnsmx.Domain, hosts ...probe.HostReport) *probe.Report {
	d.Name = domain
	if d.Duration == 0 {
		d.Duration = 8 * ms
	}
	for _, h := range hosts {
		d.Hosts = append(d.Hosts, h.Host)
	}
	return &probe.Report{Target: probe.Target{Domain: domain}, Start: start, Duration: 300 * ms, DNS: d, Hosts: hosts}
}

// entry stores r as the probe of target by module, which asked what a says.
func entry(target, module string, a probe.Asked, r *probe.Report) *store.Entry {
	r.Asked = a
	return &store.Entry{Key: store.Key(target, module), Target: target, Module: module, Report: r, Taken: r.Start.Add(r.Duration), Interval: time.Minute}
}

// fixtureEntries covers the cases of the golden file.
func fixtureEntries() []*store.Entry {
	answer := func() *dnsmx.Domain { return &dnsmx.Domain{Outcome: dnsmx.OutcomeAnswer, Rcode: "NOERROR"} }
	var out []*store.Entry

	// A healthy domain: mx1 with two addresses and TLS, mx2 without STARTTLS.
	out = append(out, entry("example.org", "default", fullModule, domainReport("example.org", t0, answer(),
		host("mx1.example.org", 10, healthy("mx1.example.org", "192.0.2.10", t0.Add(10*ms), true), healthy("mx1.example.org", "2001:db8::10", t0.Add(12*ms), true)),
		host("mx2.example.org", 20, healthy("mx2.example.org", "192.0.2.9", t0.Add(11*ms), false)),
	)))

	// An open relay.
	relay := healthy("mx.relay.example", "198.51.100.5", t0.Add(20*ms), false)
	relay.Success, relay.Reason, relay.Detail = false, smtp.ReasonRelayOpen, "relay-test@mx-exporter.invalid accepted"
	relay.Relay.Reply, relay.Relay.Verdict = reply(250, "2.1.5", "Ok"), smtp.RelayOpen
	relay.Steps[len(relay.Steps)-3].Reply = relay.Relay.Reply
	out = append(out, entry("relay.example", "default", detailedModule, domainReport("relay.example", t0, answer(),
		host("mx.relay.example", 10, relay))))

	// A 554 banner: the server refuses us outright.
	banned := &smtp.Result{
		Host: "mx.banned.example", Addr: "198.51.100.7", Port: 25, Start: t0.Add(5 * ms), Duration: 30 * ms,
		Reason: smtp.ReasonBannerRejected, Detail: "554 5.7.1 you are not welcome",
		Banner: reply(554, "5.7.1", "you are not welcome"),
		Steps: []smtp.Step{
			{Name: smtp.StepConnect, Duration: 2 * ms},
			{Name: smtp.StepBanner, Duration: 20 * ms, Reply: reply(554, "5.7.1", "you are not welcome")},
			{Name: smtp.StepQuit, Duration: 1 * ms, Reply: reply(221, "", "Bye")},
		},
	}
	out = append(out, entry("banned.example", "default", detailedModule, domainReport("banned.example", t0, answer(),
		host("mx.banned.example", 5, banned))))

	// Nothing listens.
	refused := &smtp.Result{
		Host: "mx.down.example", Addr: "203.0.113.25", Port: 25, Start: t0.Add(5 * ms), Duration: 1 * ms,
		Reason: smtp.ReasonConnectRefused, Detail: "connection refused",
		Steps: []smtp.Step{{Name: smtp.StepConnect, Duration: 1 * ms, Err: "connection refused"}},
	}
	out = append(out, entry("down.example", "default", fullModule, domainReport("down.example", t0, answer(),
		host("mx.down.example", 10, refused),
		host("mx-noaddr.down.example", 20), // an MX host without address
	)))

	// Null MX: accepts no mail, by design.
	out = append(out, entry("nomail.example", "default", fullModule, domainReport("nomail.example", t0,
		&dnsmx.Domain{Outcome: dnsmx.OutcomeAnswer, Rcode: "NOERROR", NullMX: true})))

	// NXDOMAIN.
	out = append(out, entry("gone.example", "default", fullModule, domainReport("gone.example", t0,
		&dnsmx.Domain{Outcome: dnsmx.OutcomeNXDomain, Rcode: "NXDOMAIN", Err: "gone.example does not exist"})))

	// A host target on the submission port, EHLO refused so HELO, VRFY.
	helo := &smtp.Result{
		Host: "smtp.example.net", Addr: "203.0.113.7", Port: 587, Start: t0.Add(1 * ms), Duration: 50 * ms, Success: true,
		Banner: reply(220, "", "smtp.example.net ready"), BannerHostname: "smtp.example.net", UsedHELO: true,
		Steps: []smtp.Step{
			{Name: smtp.StepConnect, Duration: 1 * ms},
			{Name: smtp.StepBanner, Duration: 2 * ms, Reply: reply(220, "", "smtp.example.net ready")},
			{Name: smtp.StepEHLO, Duration: 1 * ms, Reply: reply(502, "5.5.2", "command not recognized")},
			{Name: smtp.StepHELO, Duration: 1 * ms, Reply: reply(250, "", "smtp.example.net")},
			{Name: smtp.StepMail, Duration: 1 * ms, Reply: reply(250, "", "Ok")},
			{Name: smtp.StepVRFY, Duration: 1 * ms, Reply: reply(252, "2.5.2", "Cannot VRFY user")},
			{Name: smtp.StepRSET, Duration: 1 * ms, Reply: reply(250, "", "Ok")},
			{Name: smtp.StepQuit, Duration: 1 * ms, Reply: reply(221, "", "Bye")},
		},
	}
	// Greylisted behind postscreen, TLS refused, a slow RCPT: all named,
	// the deferral is the failure.
	grey := healthy("mx.grey.example", "198.51.100.20", t0.Add(3*ms), false)
	grey.Success, grey.Reason, grey.Detail = false, smtp.ReasonRcptDeferred, "RCPT TO:<postmaster@example.org> deferred: 450 4.2.0 Greylisted"
	grey.Recipients[0] = smtp.Recipient{Address: "postmaster@example.org", Reply: reply(450, "4.2.0", "Greylisted"), Deferred: true}
	grey.Relay.Reply, grey.Relay.Verdict = reply(450, "4.2.0", "Greylisted"), smtp.RelayInconclusive
	grey.Steps[len(grey.Steps)-4].Reply = grey.Recipients[0].Reply
	grey.Steps[len(grey.Steps)-3].Reply = grey.Relay.Reply
	grey.TLSFailure = &smtp.TLSFailure{Stage: smtp.TLSRefused, Reply: reply(454, "4.7.0", "TLS not available"), Cause: "454 4.7.0 TLS not available", Fallback: true}
	grey.Findings = []smtp.Finding{smtp.FindingGreetingDelayed, smtp.FindingGreylisted, smtp.FindingSlowStep}
	grey.SlowestStep, grey.SlowestStepDuration = smtp.StepRcpt, 2*time.Second
	grey.Steps[1].Duration = 6 * time.Second
	greyHost := host("alias.grey.example", 10, grey)
	greyHost.CNAME = "mx.grey.example"
	greyHost.Special = []dnsmx.SpecialAddr{{Addr: netip.MustParseAddr("198.51.100.20"), Range: "documentation"}}
	literal := host("192.0.2.1", 20)
	literal.IPLiteral = true
	out = append(out, entry("grey.example", "default", fullModule, domainReport("grey.example", t0,
		&dnsmx.Domain{Outcome: dnsmx.OutcomeAnswer, Rcode: "NOERROR", NullMXMixed: true}, greyHost, literal)))

	// No MX record: the domain's own address is its implicit MX, which is
	// no MX record in mx_record_info.
	out = append(out, entry("implicit.example", "default", fullModule, domainReport("implicit.example", t0,
		&dnsmx.Domain{Outcome: dnsmx.OutcomeNoData, Rcode: "NOERROR", Implicit: true},
		host("implicit.example", 0, healthy("implicit.example", "192.0.2.44", t0.Add(2*ms), false)))))

	out = append(out, daneEntry())
	out = append(out, mtaSTSEntries()...)
	out = append(out, whoEntries()...)

	vrfy := reply(252, "2.5.2", "Cannot VRFY user")
	helo.VRFY = &vrfy
	out = append(out, entry("smtp.example.net:587", "submission", plainModule, &probe.Report{
		Target: probe.Target{Host: "smtp.example.net", Port: 587}, Start: t0, Duration: 60 * ms,
		Hosts: []probe.HostReport{host("smtp.example.net", 0, helo)},
	}))
	return out
}

// daneModule is fullModule with DANE enforced.
var daneModule = probe.Asked{
	Recipients: fullModule.Recipients,
	RelayCheck: fullModule.RelayCheck,
	StartTLS:   smtp.StartTLSOpportunistic,
	DANE:       dane.ModeEnforce,
}

// daneEntry is a signed domain behind a validating resolver: mx1 matches
// its DANE-EE record and publishes the next key, mx2's certificate was
// renewed with a new key and no longer matches, mx3 publishes no TLSA.
func daneEntry() *store.Entry {
	current, next := bytes.Repeat([]byte{0xab}, 32), bytes.Repeat([]byte{0xcd}, 32)
	records := []dane.TLSA{
		{Usage: dane.DANEEE, Selector: dane.SelectorSPKI, MatchingType: dane.MatchSHA256, Data: current},
		{Usage: dane.DANEEE, Selector: dane.SelectorSPKI, MatchingType: dane.MatchSHA256, Data: next},
	}
	lookup := func(host string, rs ...dane.TLSA) *dnsmx.TLSALookup {
		l := &dnsmx.TLSALookup{BaseDomain: host, Name: "_25._tcp." + host, Outcome: dnsmx.OutcomeAnswer, Rcode: "NOERROR", Security: dnsmx.SecuritySecure, Records: rs}
		if len(rs) == 0 {
			l.Outcome = dnsmx.OutcomeNXDomain
		}
		return l
	}
	check := func(host string, s dane.Status, res *dane.Result) *dane.Check {
		return &dane.Check{Mode: dane.ModeEnforce, Status: s, TLSAName: "_25._tcp." + host, BaseDomain: host, Result: res}
	}

	pass := healthy("mx1.dane.example", "192.0.2.61", t0.Add(4*ms), true)
	pass.DANE = check("mx1.dane.example", dane.StatusPass, &dane.Result{
		Records: []dane.RecordResult{{Record: records[0], Outcome: dane.Matched}, {Record: records[1], Outcome: dane.NotMatched}},
		Verdict: dane.Match, Rollover: dane.Rollover{Ready: true},
	})
	renewed := healthy("mx2.dane.example", "192.0.2.62", t0.Add(4*ms), true)
	renewed.Success, renewed.Reason, renewed.Detail = false, smtp.ReasonDANEMismatch, "DANE: none of 1 usable TLSA records matches the presented chain"
	renewed.DANE = check("mx2.dane.example", dane.StatusMismatch, &dane.Result{
		Records:  []dane.RecordResult{{Record: records[0], Outcome: dane.NotMatched}},
		Verdict:  dane.Mismatch,
		Rollover: dane.Rollover{Reason: "no record matches the current chain for 3 1 1"},
	})
	none := healthy("mx3.dane.example", "192.0.2.63", t0.Add(4*ms), true)
	none.DANE = check("mx3.dane.example", dane.StatusNoTLSA, nil)

	hosts := []probe.HostReport{
		host("mx1.dane.example", 10, pass),
		host("mx2.dane.example", 20, renewed),
		host("mx3.dane.example", 30, none),
	}
	hosts[0].TLSA = lookup("mx1.dane.example", records...)
	hosts[1].TLSA = lookup("mx2.dane.example", records[0])
	hosts[2].TLSA = lookup("mx3.dane.example")
	for i := range hosts {
		hosts[i].Security = dnsmx.SecuritySecure
	}
	r := domainReport("dane.example", t0, &dnsmx.Domain{Outcome: dnsmx.OutcomeAnswer, Rcode: "NOERROR", MXSecurity: dnsmx.SecuritySecure}, hosts...)
	r.Validation = dnsmx.Validation{Trusted: true, Validating: true, CheckName: ".", Checked: t0}
	return entry("dane.example", "default", daneModule, r)
}

// txtLookup is an answered TXT lookup of name with records.
func txtLookup(name string, records ...string) dnsmx.TXTLookup {
	l := dnsmx.TXTLookup{Name: name, Outcome: dnsmx.OutcomeAnswer, Rcode: "NOERROR", Records: records, Duration: 2 * ms}
	if len(records) == 0 {
		l.Outcome = dnsmx.OutcomeNXDomain
		l.Rcode = "NXDOMAIN"
	}
	return l
}

// policyState is a policy fetched for domain at fetched, served by a host
// whose certificate expires on notAfter.
func policyState(domain, id string, fetched, notAfter time.Time, p *mtasts.Policy, defects ...mtasts.Defect) *mtasts.State {
	return &mtasts.State{
		Fetch: mtasts.Fetch{
			URL: "https://mta-sts." + domain + "/.well-known/mta-sts.txt", Addr: "192.0.2.80:443",
			Start: fetched, Duration: 25 * ms, Status: 200, ContentType: "text/plain", Size: 120,
			TLS: &tlscheck.Info{
				Version: "TLS 1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", ServerName: "mta-sts." + domain,
				LeafSubject: "CN=mta-sts." + domain, ChainNotAfter: notAfter, Verified: true,
			},
		},
		Policy: p, Defects: defects, Valid: true, ID: id,
	}
}

// mtaSTSEntries are domains with MTA-STS: a healthy enforce policy (its
// policy from the cache, fetched half an hour before the probe), one that
// senders refuse two MX hosts of, and a duplicate TXT record whose policy
// is not found.
func mtaSTSEntries() []*store.Entry {
	answer := func() *dnsmx.Domain { return &dnsmx.Domain{Outcome: dnsmx.OutcomeAnswer, Rcode: "NOERROR"} }
	covered := func(pattern string, tls ...mtasts.TLSStatus) *probe.MXPolicy {
		return &probe.MXPolicy{Pattern: pattern, Covered: true, TLS: tls}
	}

	// sts.example: mx1 (two addresses) and mx2, covered by name and by
	// wildcard; TLS-RPT to a mailbox.
	hosts := []probe.HostReport{
		host("mx1.sts.example", 10, healthy("mx1.sts.example", "192.0.2.71", t0.Add(3*ms), true), healthy("mx1.sts.example", "2001:db8::71", t0.Add(3*ms), true)),
		host("mx2.sts.example", 20, healthy("mx2.sts.example", "192.0.2.72", t0.Add(3*ms), true)),
	}
	hosts[0].MTASTS = covered("mx1.sts.example", mtasts.TLSValid, mtasts.TLSValid)
	hosts[1].MTASTS = covered("*.sts.example", mtasts.TLSValid)
	healthyReport := domainReport("sts.example", t0, answer(), hosts...)
	state := policyState("sts.example", "20250601", t0.Add(-30*time.Minute), time.Date(2025, 7, 30, 0, 0, 0, 0, time.UTC),
		&mtasts.Policy{Version: "STSv1", Mode: mtasts.PolicyEnforce, MaxAge: 604800, MX: []string{"mx1.sts.example", "*.sts.example"}})
	state.Cached = true
	healthyReport.MTASTS = &probe.MTASTSReport{
		Mode:      mtasts.ModeEnforce,
		TXTLookup: txtLookup("_mta-sts.sts.example", "v=STSv1; id=20250601"),
		TXT:       mtasts.TXT{Records: 1, Valid: true, ID: "20250601"},
		Policy:    state,
		Status:    mtasts.StatusPass,
		Detail:    "every MX host is covered and its TLS satisfies the policy",
	}
	healthyReport.TLSRPT = &probe.TLSRPTReport{
		Lookup: txtLookup("_smtp._tls.sts.example", "v=TLSRPTv1; rua=mailto:tlsrpt@sts.example"),
		Record: tlsrpt.Record{Records: 1, Valid: true, RUA: []string{"mailto:tlsrpt@sts.example"}},
	}

	// refused.example: an enforce policy with a short max_age that covers
	// mx1 only; mx1's second address presents a certificate that does not
	// verify, and mx2 is not covered. MTA-STS senders refuse both, and the
	// module's enforce fails their dialogues. Two TLS-RPT records.
	bad := healthy("mx1.refused.example", "192.0.2.82", t0.Add(3*ms), true)
	bad.TLS.Verified, bad.TLS.VerifyError = false, "x509: certificate signed by unknown authority"
	bad.Success, bad.Reason, bad.Detail = false, smtp.ReasonMTASTSTLSInvalid, "MTA-STS: the certificate does not verify for mx1.refused.example"
	stray := healthy("mx2.refused.example", "192.0.2.83", t0.Add(3*ms), true)
	stray.Success, stray.Reason, stray.Detail = false, smtp.ReasonMTASTSUncovered, "MTA-STS: mx2.refused.example matches no mx pattern of the policy"
	hosts = []probe.HostReport{
		host("mx1.refused.example", 10, healthy("mx1.refused.example", "192.0.2.81", t0.Add(3*ms), true), bad),
		host("mx2.refused.example", 20, stray),
	}
	hosts[0].MTASTS = covered("mx1.refused.example", mtasts.TLSValid, mtasts.TLSCertInvalid)
	hosts[1].MTASTS = &probe.MXPolicy{}
	refusedReport := domainReport("refused.example", t0, answer(), hosts...)
	refusedReport.MTASTS = &probe.MTASTSReport{
		Mode:      mtasts.ModeEnforce,
		TXTLookup: txtLookup("_mta-sts.refused.example", "v=STSv1; id=r1"),
		TXT:       mtasts.TXT{Records: 1, Valid: true, ID: "r1"},
		Policy: policyState("refused.example", "r1", t0.Add(-2*time.Second), time.Date(2025, 6, 10, 0, 0, 0, 0, time.UTC),
			&mtasts.Policy{Version: "STSv1", Mode: mtasts.PolicyEnforce, MaxAge: 86400, MX: []string{"mx1.refused.example"}},
			mtasts.DefectMaxAgeShort),
		Status:  mtasts.StatusMXUncovered,
		Failure: true,
		Detail:  "mx2.refused.example matches no mx pattern",
	}
	refusedReport.TLSRPT = &probe.TLSRPTReport{
		Lookup: txtLookup("_smtp._tls.refused.example", "v=TLSRPTv1; rua=mailto:a@refused.example", "v=TLSRPTv1; rua=mailto:b@refused.example"),
		Record: tlsrpt.Record{Records: 2, Defect: tlsrpt.DefectDuplicate, Detail: "2 v=TLSRPTv1 records"},
	}

	// dup.example: two v=STSv1 records, and the policy host answers 404.
	// No TLS-RPT record.
	dupReport := domainReport("dup.example", t0, answer(),
		host("mx.dup.example", 10, healthy("mx.dup.example", "192.0.2.91", t0.Add(3*ms), true)))
	notFound := policyState("dup.example", "", t0.Add(-time.Second), time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC), nil)
	notFound.Fetch.Status, notFound.Fetch.Err, notFound.Fetch.Detail, notFound.Valid = 404, mtasts.FetchStatus, "HTTP status 404", false
	dupReport.MTASTS = &probe.MTASTSReport{
		Mode:      mtasts.ModeEnforce,
		TXTLookup: txtLookup("_mta-sts.dup.example", "v=STSv1; id=a1", "v=STSv1; id=a2"),
		TXT:       mtasts.TXT{Records: 2, Defect: mtasts.TXTDuplicate, Detail: "2 v=STSv1 records"},
		Policy:    notFound,
		Status:    mtasts.StatusTXTInvalid,
		Detail:    "2 v=STSv1 records: senders ignore the policy",
	}
	dupReport.TLSRPT = &probe.TLSRPTReport{Lookup: txtLookup("_smtp._tls.dup.example")}

	return []*store.Entry{
		entry("sts.example", "default", fullModule, healthyReport),
		entry("refused.example", "default", fullModule, refusedReport),
		entry("dup.example", "default", fullModule, dupReport),
	}
}

// The blocklist zones of the fixture, as a config would name them: two
// address zones, of which broken.example.net fails its health check (see
// fixtureStats), and a domain zone.
const (
	zoneBL     = "bl.example.net"
	zoneBroken = "broken.example.net"
	zoneDBL    = "dbl.example.net"
)

// confirmed is the reverse DNS of ip whose PTR name resolves back to it.
func confirmed(ip, name string) *rdns.Check {
	return &rdns.Check{
		PTR:     dnsmx.PTRLookup{Addr: netip.MustParseAddr(ip), Outcome: dnsmx.OutcomeAnswer, Rcode: "NOERROR", Names: []string{name}},
		Forward: []rdns.Forward{{Name: name, Outcome: dnsmx.OutcomeAnswer, Confirmed: true}},
		Name:    name, Status: rdns.StatusConfirmed,
		Detail: ip + " is " + name + ", which resolves back to it",
	}
}

// agreeing is the comparison of the names of an address whose PTR name,
// greeting and EHLO reply all are its MX host name.
func agreeing(mx string) *rdns.Names {
	return &rdns.Names{MX: mx, PTR: []string{mx}, Banner: mx, EHLO: mx, Agree: true}
}

// blocklist is the result of subject in zone: listed with codes, not
// listed without.
func blocklist(zone, subject, reason string, codes ...string) dnsbl.Result {
	r := dnsbl.Result{Zone: zone, Subject: subject, Verdict: dnsbl.VerdictNotListed, Checked: t0.Add(-5 * time.Minute), Cached: true}
	for _, c := range codes {
		r.Verdict = dnsbl.VerdictListed
		r.Codes = append(r.Codes, netip.MustParseAddr(c))
	}
	r.Reason = reason
	return r
}

// failedList is an error of zone for subject.
func failedList(zone, subject string, e dnsbl.Error) dnsbl.Result {
	return dnsbl.Result{Zone: zone, Subject: subject, Verdict: dnsbl.VerdictError, Error: e, Detail: string(e), Checked: t0}
}

// whoEntries are domains with reverse DNS, blocklists and IPv6 parity
// (issue 13): one healthy on both address families, and one with every
// fact worth a look.
func whoEntries() []*store.Entry {
	answer := func() *dnsmx.Domain { return &dnsmx.Domain{Outcome: dnsmx.OutcomeAnswer, Rcode: "NOERROR"} }

	// who.example: mx.who.example on 192.0.2.31 and 2001:db8::31, both
	// passing, forward-confirmed, its names agreeing, listed nowhere (and
	// broken.example.net's answers not trusted).
	hosts := []probe.HostReport{host("mx.who.example", 10,
		healthy("mx.who.example", "192.0.2.31", t0.Add(3*ms), true), healthy("mx.who.example", "2001:db8::31", t0.Add(3*ms), true))}
	h := &hosts[0]
	h.Reverse = []*rdns.Check{confirmed("192.0.2.31", "mx.who.example"), confirmed("2001:db8::31", "mx.who.example")}
	h.Names = []*rdns.Names{agreeing("mx.who.example"), agreeing("mx.who.example")}
	h.Listings = [][]dnsbl.Result{
		{blocklist(zoneBL, "192.0.2.31", ""), failedList(zoneBroken, "192.0.2.31", dnsbl.ErrorZoneUnhealthy)},
		{blocklist(zoneBL, "2001:db8::31", ""), failedList(zoneBroken, "2001:db8::31", dnsbl.ErrorZoneUnhealthy)},
	}
	h.NameListings = []dnsbl.Result{blocklist(zoneDBL, "mx.who.example", "")}
	h.Parity = probe.ParityBothPass
	who := domainReport("who.example", t0, answer(), hosts...)

	// listed.example: mx1.listed.example passes on IPv4 and fails on IPv6
	// (ipv6_failing). Its IPv4 address has a PTR of another name (the
	// greeting and the MX name disagree with it) and is listed with two
	// return codes. Its IPv6 address has no PTR, and bl.example.net times
	// out for it. The host name is listed in the domain zone.
	// mx2.listed.example is IPv6 only, its reverse lookup failed, no names
	// were compared, bl.example.net refuses the query (too many) and the
	// domain zone fails. broken.example.net's answers are not trusted.
	v4 := healthy("mx1.listed.example", "198.51.100.31", t0.Add(3*ms), true)
	v6 := &smtp.Result{
		Host: "mx1.listed.example", Addr: "2001:db8::32", Port: 25, Start: t0.Add(3 * ms), Duration: 1 * ms,
		Reason: smtp.ReasonConnectRefused, Detail: "connection refused",
		Steps: []smtp.Step{{Name: smtp.StepConnect, Duration: 1 * ms, Err: "connection refused"}},
	}
	only6 := healthy("mx2.listed.example", "2001:db8::33", t0.Add(3*ms), true)
	hosts = []probe.HostReport{host("mx1.listed.example", 10, v4, v6), host("mx2.listed.example", 20, only6)}
	h = &hosts[0]
	h.Reverse = []*rdns.Check{
		confirmed("198.51.100.31", "mail.other.example"),
		{PTR: dnsmx.PTRLookup{Addr: netip.MustParseAddr("2001:db8::32"), Outcome: dnsmx.OutcomeNXDomain, Rcode: "NXDOMAIN"}, Status: rdns.StatusNoPTR, Detail: "2001:db8::32 has no PTR record"},
	}
	h.Names = []*rdns.Names{{
		MX: "mx1.listed.example", PTR: []string{"mail.other.example"}, Banner: "mx1.listed.example", EHLO: "mx1.listed.example",
		Mismatches: []rdns.Pair{rdns.PairBannerPTR, rdns.PairPTRMX},
		Detail:     "banner says mx1.listed.example, PTR says mail.other.example",
	}, nil}
	h.Listings = [][]dnsbl.Result{
		{blocklist(zoneBL, "198.51.100.31", "listed: see https://bl.example.net/lookup", "127.0.0.4", "127.0.0.10"), failedList(zoneBroken, "198.51.100.31", dnsbl.ErrorZoneUnhealthy)},
		{failedList(zoneBL, "2001:db8::32", dnsbl.ErrorTimeout), failedList(zoneBroken, "2001:db8::32", dnsbl.ErrorZoneUnhealthy)},
	}
	h.NameListings = []dnsbl.Result{blocklist(zoneDBL, "mx1.listed.example", "spam source", "127.0.1.2")}
	h.Parity = probe.ParityIPv6Failing
	h = &hosts[1]
	h.Reverse = []*rdns.Check{{PTR: dnsmx.PTRLookup{Addr: netip.MustParseAddr("2001:db8::33"), Outcome: dnsmx.OutcomeServFail, Rcode: "SERVFAIL"}, Status: rdns.StatusLookupFailed}}
	h.Names = []*rdns.Names{nil}
	h.Listings = [][]dnsbl.Result{{failedList(zoneBL, "2001:db8::33", dnsbl.ErrorRefusedQuery), failedList(zoneBroken, "2001:db8::33", dnsbl.ErrorZoneUnhealthy)}}
	h.NameListings = []dnsbl.Result{failedList(zoneDBL, "mx2.listed.example", dnsbl.ErrorLookupFailed)}
	h.Parity = probe.ParityIPv6Only
	listed := domainReport("listed.example", t0, answer(), hosts...)

	return []*store.Entry{
		entry("who.example", "default", fullModule, who),
		entry("listed.example", "default", fullModule, listed),
	}
}

func fixtureStore() *store.Store {
	s := store.New()
	for _, e := range fixtureEntries() {
		s.Put(e)
	}
	return s
}

func fixtureStats() SelfStats {
	return SelfStats{
		ProbesSucceeded: 40, ProbesFailed: 7, ProbesInFlight: 2, Targets: 7,
		SchedulerLag: scheduler.LagSnapshot{
			UpperBounds: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
			Cumulative:  []uint64{30, 40, 44, 46, 47, 47, 47, 47, 47, 47, 47},
			Count:       47, Sum: 1.25,
		},
		ConfigReloadSuccessful: true,
		ConfigReloadSuccess:    t0.Add(-time.Hour),
		// The fixture's zones, checked at start and every hour; broken
		// fails its check (it lists everything, 127.0.0.1 too).
		BlocklistZones: []dnsbl.Health{
			{Zone: dnsbl.Zone{Name: zoneBL, Kind: dnsbl.KindAddress}, Healthy: true, Checked: t0.Add(-20 * time.Minute)},
			{Zone: dnsbl.Zone{Name: zoneBroken, Kind: dnsbl.KindAddress}, Checked: t0.Add(-20 * time.Minute), Detail: "1.0.0.127.broken.example.net is listed: the zone lists everything"},
			{Zone: dnsbl.Zone{Name: zoneDBL, Kind: dnsbl.KindDomain}, Healthy: true, Checked: t0.Add(-20 * time.Minute)},
		},
	}
}
