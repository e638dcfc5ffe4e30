package report

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dane"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/probe/tlscheck"
)

// TLSA records of the fixtures: fixed data, so that the goldens stay put.
var (
	eeCurrent = dane.TLSA{Usage: dane.DANEEE, Selector: dane.SelectorSPKI, MatchingType: dane.MatchSHA256, Data: bytes.Repeat([]byte{0xab}, 32)}
	eeNext    = dane.TLSA{Usage: dane.DANEEE, Selector: dane.SelectorSPKI, MatchingType: dane.MatchSHA256, Data: bytes.Repeat([]byte{0xcd}, 32)}
	eeOld     = dane.TLSA{Usage: dane.DANEEE, Selector: dane.SelectorSPKI, MatchingType: dane.MatchSHA256, Data: bytes.Repeat([]byte{0x12}, 32)}
	ee512     = dane.TLSA{Usage: dane.DANEEE, Selector: dane.SelectorSPKI, MatchingType: dane.MatchSHA512, Data: bytes.Repeat([]byte{0x51}, 64)}
	taDigest  = dane.TLSA{Usage: dane.DANETA, Selector: dane.SelectorCert, MatchingType: dane.MatchSHA256, Data: bytes.Repeat([]byte{0x7e}, 32)}
	pkixEE    = dane.TLSA{Usage: dane.PKIXEE, Selector: dane.SelectorSPKI, MatchingType: dane.MatchSHA256, Data: bytes.Repeat([]byte{0x0f}, 32)}
	// shortDigest claims SHA2-256 with a SHA-1-sized digest.
	shortDigest = dane.TLSA{Usage: dane.DANEEE, Selector: dane.SelectorSPKI, MatchingType: dane.MatchSHA256, Data: bytes.Repeat([]byte{0x99}, 20)}
)

// tlsResult is a dialogue that reached TLS and delivered, as the fixtures
// of this file need it; the DANE check is the caller's.
func tlsResult(host, ip string) *smtp.Result {
	_, domain, _ := strings.Cut(host, ".")
	return &smtp.Result{
		Host: host, Addr: ip, Port: 25, Start: start, Duration: msec(9), Success: true,
		Steps: []smtp.Step{
			{Name: smtp.StepConnect, Duration: msec(0.3)},
			{Name: smtp.StepBanner, Reply: smtp.Reply{Code: 220}, Duration: msec(1)},
			{Name: smtp.StepEHLO, Sent: "EHLO probe.test", Reply: smtp.Reply{Code: 250}, Duration: msec(0.5)},
			{Name: smtp.StepStartTLS, Sent: "STARTTLS", Reply: smtp.Reply{Code: 220, Enhanced: "2.0.0"}, Duration: msec(0.4)},
			{Name: smtp.StepTLSHandshake, Duration: msec(4)},
		},
		Extensions: &smtp.Extensions{Greeting: host, Keywords: []smtp.Keyword{{Name: "STARTTLS"}}},
		TLS: &tlscheck.Info{Version: "TLS 1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", ServerName: host,
			LeafNotAfter: start.Add(60 * 24 * time.Hour), ChainNotAfter: start.Add(60 * 24 * time.Hour),
			VerifyError: "certificate signed by unknown authority"},
		Recipients: []smtp.Recipient{{Address: "postmaster@" + domain, Reply: smtp.Reply{Code: 250, Enhanced: "2.1.5"}, Accepted: true}},
	}
}

// stoppedAfterTLS is what the dialogue does on a DANE failure it enforces:
// QUIT inside TLS, as a DANE sender would send nothing more.
func stoppedAfterTLS(r *smtp.Result, detail string) {
	r.Success, r.Reason, r.Detail = false, smtp.ReasonDANEMismatch, detail
	r.Recipients = nil
}

func secureLookup(name string, records ...dane.TLSA) *dnsmx.TLSALookup {
	return &dnsmx.TLSALookup{BaseDomain: name, Name: "_25._tcp." + name, Outcome: dnsmx.OutcomeAnswer, Rcode: "NOERROR",
		Security: dnsmx.SecuritySecure, Records: records, Duration: msec(2)}
}

func enforced(host string, s dane.Status, detail string, res *dane.Result) *dane.Check {
	return &dane.Check{Mode: dane.ModeEnforce, Status: s, Detail: detail, TLSAName: "_25._tcp." + host, BaseDomain: host, Result: res}
}

func daneHost(name string, pref uint16, l *dnsmx.TLSALookup, rs ...*smtp.Result) probe.HostReport {
	h := probe.HostReport{Host: dnsmx.Host{Name: name, Preference: pref, Outcome: dnsmx.OutcomeAnswer, Security: dnsmx.SecuritySecure}, TLSA: l, Results: rs}
	for _, r := range rs {
		h.Addrs = append(h.Addrs, netip.MustParseAddr(r.Addr))
	}
	return h
}

// daneReport is a signed domain behind a validating resolver, with one MX
// host for each DANE verdict a mail admin must tell apart.
func daneReport() *probe.Report {
	// mx1: the current key matches and the next one is published; its
	// IPv6 address presents an expired certificate with the same key.
	passing := func(ip string) *smtp.Result {
		r := tlsResult("mx1.dane.test", ip)
		r.DANE = enforced("mx1.dane.test", dane.StatusPass, "1 of 2 usable TLSA records match the presented chain", &dane.Result{
			Records: []dane.RecordResult{{Record: eeCurrent, Outcome: dane.Matched}, {Record: eeNext, Outcome: dane.NotMatched}},
			Verdict: dane.Match, Rollover: dane.Rollover{Ready: true},
		})
		return r
	}
	pass, expired := passing("192.0.2.61"), passing("2001:db8::61")
	expired.TLS.LeafNotAfter, expired.TLS.ChainNotAfter = start.Add(-2*24*time.Hour), start.Add(-2*24*time.Hour)
	expired.TLS.VerifyError = "certificate has expired"

	// mx2: the certificate was renewed with a new key, the TLSA record
	// was not.
	mismatch := tlsResult("mx2.dane.test", "192.0.2.62")
	stoppedAfterTLS(mismatch, "DANE: none of 1 usable TLSA records matches the presented chain (TLSA records of _25._tcp.mx2.dane.test); DANE senders defer mail rather than deliver without an authenticated TLS session")
	mismatch.DANE = enforced("mx2.dane.test", dane.StatusMismatch, "none of 1 usable TLSA records matches the presented chain", &dane.Result{
		Records:  []dane.RecordResult{{Record: eeOld, Outcome: dane.NotMatched}},
		Verdict:  dane.Mismatch,
		Rollover: dane.Rollover{Reason: "no record matches the current chain for 3 1 1"},
	})

	// mx3 is an alias of a hosting provider's gateway, which names its CA
	// in a DANE-TA digest but sends only its leaf.
	taNotSent := tlsResult("mx3.dane.test", "192.0.2.63")
	stoppedAfterTLS(taNotSent, "DANE: the server does not send the trust anchor certificate its DANE-TA records name (TLSA records of _25._tcp.mail.hosting.test); DANE senders defer mail rather than deliver without an authenticated TLS session")
	taNotSent.DANE = &dane.Check{Mode: dane.ModeEnforce, Status: dane.StatusTANotSent,
		Detail:   "the server does not send the trust anchor certificate its DANE-TA records name",
		TLSAName: "_25._tcp.mail.hosting.test", BaseDomain: "mail.hosting.test",
		Result: &dane.Result{
			Records:  []dane.RecordResult{{Record: taDigest, Outcome: dane.NotMatched, TA: dane.TANotSent}},
			Verdict:  dane.Mismatch,
			Rollover: dane.Rollover{Reason: "no record matches the current chain for 2 0 1"},
		}}
	taLookup := secureLookup("mail.hosting.test", taDigest)

	// mx4: the TLSA RRset's signatures are wrong. The dialogue went on
	// and the mailbox was accepted: only DANE senders defer.
	bogus := tlsResult("mx4.dane.test", "192.0.2.64")
	bogus.Success, bogus.Reason = false, smtp.ReasonDANETLSABogus
	bogus.Detail = "DANE: TLSA lookup of _25._tcp.mx4.dane.test: DNSSEC validation failed (bogus): DANE senders defer all mail"
	bogus.DANE = enforced("mx4.dane.test", dane.StatusTLSABogus, "TLSA lookup of _25._tcp.mx4.dane.test: DNSSEC validation failed (bogus): DANE senders defer all mail", nil)
	bogusLookup := &dnsmx.TLSALookup{BaseDomain: "mx4.dane.test", Name: "_25._tcp.mx4.dane.test", Outcome: dnsmx.OutcomeServFail, Rcode: "SERVFAIL",
		Security: dnsmx.SecurityBogus, Err: "SERVFAIL, and an answer with the CD bit set: DNSSEC validation failed", Duration: msec(30)}

	// mx5 publishes no TLSA records, provably.
	noTLSA := tlsResult("mx5.dane.test", "192.0.2.65")
	noTLSA.DANE = enforced("mx5.dane.test", dane.StatusNoTLSA, "TLSA lookup of _25._tcp.mx5.dane.test: no TLSA records (secure denial): no DANE", nil)
	noTLSALookup := &dnsmx.TLSALookup{BaseDomain: "mx5.dane.test", Name: "_25._tcp.mx5.dane.test", Outcome: dnsmx.OutcomeNXDomain, Rcode: "NXDOMAIN",
		Security: dnsmx.SecuritySecure, Duration: msec(1)}

	// mx6 publishes a PKIX-EE record and a digest of the wrong length:
	// neither counts on port 25.
	noUsable := tlsResult("mx6.dane.test", "192.0.2.66")
	noUsable.DANE = enforced("mx6.dane.test", dane.StatusNoUsableRecords,
		"no TLSA record is usable on port 25 (PKIX usages or malformed records): TLS without authentication", &dane.Result{
			Records: []dane.RecordResult{{Record: pkixEE, Outcome: dane.Unusable}, {Record: shortDigest, Outcome: dane.Malformed, Err: shortDigest.Validate()}},
			Verdict: dane.NoUsableRecords, Rollover: dane.Rollover{Reason: "no usable TLSA records"},
		})

	// mx7: the SHA2-256 record matches, the SHA2-512 one of the same key
	// does not.
	digest := tlsResult("mx7.dane.test", "192.0.2.67")
	stoppedAfterTLS(digest, "DANE: a SHA2-256 record matches but the SHA2-512 records of the same usage and selector do not: senders that use the strongest digest fail (TLSA records of _25._tcp.mx7.dane.test); DANE senders defer mail rather than deliver without an authenticated TLS session")
	digest.DANE = enforced("mx7.dane.test", dane.StatusDigestMismatch,
		"a SHA2-256 record matches but the SHA2-512 records of the same usage and selector do not: senders that use the strongest digest fail", &dane.Result{
			Records:            []dane.RecordResult{{Record: eeCurrent, Outcome: dane.Matched}, {Record: ee512, Outcome: dane.NotMatched}},
			Verdict:            dane.DigestMismatch,
			DigestDisagreement: []string{"3 1"},
			Rollover:           dane.Rollover{Reason: "no record matches the current chain for 3 1 2"},
		})

	// mx8 lives in an unsigned zone.
	insecure := tlsResult("mx8.unsigned.test", "192.0.2.68")
	insecure.DANE = enforced("mx8.unsigned.test", dane.StatusInsecure,
		"the address records of mx8.unsigned.test are insecure, not DNSSEC-secure: DANE does not apply", nil)
	insecure.DANE.TLSAName = ""
	insecureHost := daneHost("mx8.unsigned.test", 80, nil, insecure)
	insecureHost.Security = dnsmx.SecurityInsecure

	// mx9's addresses are secure, but its TLSA name is an alias into an
	// unsigned zone: the records are ignored, not judged.
	insecureTLSA := tlsResult("mx9.dane.test", "192.0.2.69")
	insecureTLSA.DANE = enforced("mx9.dane.test", dane.StatusInsecure,
		"TLSA lookup of _25._tcp.mx9.unsigned.test: answered without DNSSEC validation (insecure): DANE does not apply", nil)
	insecureTLSA.DANE.TLSAName = "_25._tcp.mx9.unsigned.test"
	insecureTLSALookup := &dnsmx.TLSALookup{BaseDomain: "mx9.dane.test", Name: "_25._tcp.mx9.unsigned.test", Outcome: dnsmx.OutcomeAnswer, Rcode: "NOERROR",
		Security: dnsmx.SecurityInsecure, Records: []dane.TLSA{eeNext}, Duration: msec(2)}

	mx3 := daneHost("mx3.dane.test", 30, taLookup, taNotSent)
	mx3.CNAME = "mail.hosting.test"
	return &probe.Report{
		Target: probe.Target{Domain: "dane.test"}, Start: start, Duration: msec(60),
		Asked: probe.Asked{Recipients: []string{"postmaster@dane.test"}, DANE: dane.ModeEnforce},
		DNS: &dnsmx.Domain{Name: "dane.test", Outcome: dnsmx.OutcomeAnswer, Rcode: "NOERROR", Duration: msec(1.5), Server: "127.0.53.2:53",
			MXSecurity: dnsmx.SecuritySecure},
		Validation: dnsmx.Validation{Trusted: true, Validating: true, CheckName: ".", Checked: start},
		Hosts: []probe.HostReport{
			daneHost("mx1.dane.test", 10, secureLookup("mx1.dane.test", eeCurrent, eeNext), pass, expired),
			daneHost("mx2.dane.test", 20, secureLookup("mx2.dane.test", eeOld), mismatch),
			mx3,
			daneHost("mx4.dane.test", 40, bogusLookup, bogus),
			daneHost("mx5.dane.test", 50, noTLSALookup, noTLSA),
			daneHost("mx6.dane.test", 60, secureLookup("mx6.dane.test", pkixEE, shortDigest), noUsable),
			daneHost("mx7.dane.test", 70, secureLookup("mx7.dane.test", eeCurrent, ee512), digest),
			insecureHost,
			daneHost("mx9.dane.test", 90, insecureTLSALookup, insecureTLSA),
		},
	}
}

// notCheckedReport is a module with DANE on behind a resolver that is not
// trusted: every DANE verdict is not_checked, never a pass.
func notCheckedReport() *probe.Report {
	r := tlsResult("mx1.plain.test", "192.0.2.71")
	r.DANE = &dane.Check{Mode: dane.ModeEnforce, Status: dane.StatusNotChecked, BaseDomain: "mx1.plain.test",
		Detail: "no validating resolver: dns.trust_ad is off, so the AD bit is not believed"}
	h := daneHost("mx1.plain.test", 10, nil, r)
	h.Security = dnsmx.SecurityUnchecked
	return &probe.Report{
		Target: probe.Target{Domain: "plain.test"}, Start: start, Duration: msec(10),
		Asked: probe.Asked{Recipients: []string{"postmaster@plain.test"}, DANE: dane.ModeEnforce},
		DNS: &dnsmx.Domain{Name: "plain.test", Outcome: dnsmx.OutcomeAnswer, Rcode: "NOERROR", Duration: msec(1),
			MXSecurity: dnsmx.SecurityUnchecked},
		Hosts: []probe.HostReport{h},
	}
}

func TestWriteTextDANEGolden(t *testing.T) {
	for _, tc := range []struct {
		golden string
		rep    *probe.Report
		want   []string
	}{
		{"dane.test.txt", daneReport(), []string{
			"DNSSEC: MX records secure (DNSSEC-validated)",
			"DNSSEC: address records secure (DNSSEC-validated)",
			"DNSSEC: address records insecure (not DNSSEC-signed)",
			"DANE:       pass: 1 of 2 usable TLSA records match the presented chain",
			"3 1 1 ABABABABABABABAB…  DANE-EE SPKI SHA2-256  matched",
			"3 1 1 CDCDCDCDCDCDCDCD…  DANE-EE SPKI SHA2-256  not matched",
			"rollover: ready",
			"certificate EXPIRED on 2026-11-21",
			DANEExpiredWords,
			"DANE:       MISMATCH: none of 1 usable TLSA records matches the presented chain",
			"a DANE sender defers mail, so the probe fails (dane: enforce)",
			"rollover: NOT ready: no record matches the current chain for 3 1 1",
			"verdict:    FAIL dane_mismatch:",
			"DANE:       TRUST ANCHOR NOT SENT:",
			"TLSA records of _25._tcp.mail.hosting.test, TLSA base domain mail.hosting.test",
			"not matched: the trust anchor it names was not sent",
			"DANE:       TLSA BOGUS: TLSA lookup of _25._tcp.mx4.dane.test: DNSSEC validation failed (bogus)",
			"DANE:       no TLSA: TLSA lookup of _25._tcp.mx5.dane.test: no TLSA records (secure denial)",
			"DANE:       no usable records:",
			"1 1 1 0F0F0F0F0F0F0F0F…  PKIX-EE SPKI SHA2-256  unusable on port 25",
			"malformed: digest length does not fit the matching type: 20 bytes for matching type 1, want 32",
			"DANE:       DIGEST MISMATCH:",
			"the SHA2-256 and SHA2-512 records of 3 1 disagree",
			"DANE:       insecure: the address records of mx8.unsigned.test are insecure",
			"DNSSEC: TLSA records secure (DNSSEC-validated)",
			"DNSSEC: TLSA records BOGUS: DNSSEC validation failed",
			"DNSSEC: the denial of TLSA records secure (DNSSEC-validated)",
			"DANE:       insecure: TLSA lookup of _25._tcp.mx9.unsigned.test: answered without DNSSEC validation (insecure)",
			"DNSSEC: TLSA records insecure (not DNSSEC-signed)",
			"DEGRADED dane.test: 4 of 10 addresses failed DANE; delivery works through MX 10 mx1.dane.test",
		}},
		{"plain.test.txt", notCheckedReport(), []string{
			"DNSSEC not checked: no validating resolver (dns.trust_ad is off, so the AD bit is not believed)",
			"DANE:       not checked (see the DNSSEC line at the top)",
			"OK plain.test: 1 address passed",
		}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteText(&buf, tc.rep, false); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.golden, buf.Bytes())
			out := buf.String()
			for _, want := range tc.want {
				if !strings.Contains(out, want) {
					t.Errorf("report lacks %q", want)
				}
			}
			if strings.Contains(out, "DNSSEC: address records unchecked") || strings.Contains(out, "DNSSEC: MX records unchecked") {
				t.Errorf("an unchecked state is spelled out per record set; the report should say it once")
			}
		})
	}
}

// TestWriteTextDANEColour: a DANE failure is red, a pass green, the
// statuses that decide nothing keep the plain colour.
func TestWriteTextDANEColour(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteText(&buf, daneReport(), true); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"DANE:       " + string(colours.ok) + "pass:",
		"DANE:       " + string(colours.bad) + "MISMATCH:",
		"DANE:       " + string(colours.bad) + "TLSA BOGUS:",
		"DANE:       no TLSA:", // neither a failure nor a pass: no colour
		"rollover: " + string(colours.warn) + "NOT ready",
		"DNSSEC: " + string(colours.ok) + "MX records secure",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("coloured rendering lacks %q", want)
		}
	}
}

func TestDocumentJSONDANE(t *testing.T) {
	b, err := json.MarshalIndent(NewDocument(daneReport()), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "dane.test.json", append(b, '\n'))
	var doc Document
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	v := doc.ResolverValidation
	if v == nil || !v.Trusted || !v.Validating || v.CheckName != "." {
		t.Fatalf("resolver_validation: got %+v", v)
	}
	if doc.DNS.DNSSEC != dnsmx.SecuritySecure || doc.Hosts[0].DNSSEC != dnsmx.SecuritySecure || doc.Hosts[7].DNSSEC != dnsmx.SecurityInsecure {
		t.Fatalf("dnssec: mx %q, hosts %q and %q", doc.DNS.DNSSEC, doc.Hosts[0].DNSSEC, doc.Hosts[7].DNSSEC)
	}
	pass := doc.Hosts[0].Addresses[0].DANE
	switch {
	case pass == nil || pass.Status != dane.StatusPass || pass.Failure || pass.Mode != dane.ModeEnforce:
		t.Fatalf("mx1 dane: got %+v", pass)
	case len(pass.Records) != 2 || pass.Records[0] != (TLSARecord{Usage: 3, Selector: 1, MatchingType: 1, Data: strings.Repeat("AB", 32), Outcome: "matched"}):
		t.Fatalf("mx1 dane records: got %+v", pass.Records)
	case pass.RolloverReady == nil || !*pass.RolloverReady || pass.RolloverReason != "":
		t.Fatalf("mx1 rollover: got %v %q", pass.RolloverReady, pass.RolloverReason)
	}
	mismatch := doc.Hosts[1].Addresses[0]
	if d := mismatch.DANE; mismatch.Reason != smtp.ReasonDANEMismatch || !d.Failure || d.RolloverReady == nil || *d.RolloverReady {
		t.Fatalf("mx2: reason %q, dane %+v", mismatch.Reason, d)
	}
	ta := doc.Hosts[2]
	if d := ta.Addresses[0].DANE; d.TLSAName != "_25._tcp.mail.hosting.test" || d.BaseDomain != "mail.hosting.test" || d.Records[0].TAFailure != "ta_not_sent" {
		t.Fatalf("mx3 dane: got %+v", d)
	}
	if l := ta.TLSA; l == nil || l.Name != "_25._tcp.mail.hosting.test" || len(l.Records) != 1 || l.Records[0].Class != "usable" || l.Records[0].Outcome != "" {
		t.Fatalf("mx3 tlsa: got %+v", l)
	}
	if l := doc.Hosts[3].TLSA; l.Security != dnsmx.SecurityBogus || l.Rcode != "SERVFAIL" || l.Error == "" || doc.Hosts[3].Addresses[0].DANE.Records != nil {
		t.Fatalf("mx4 tlsa: got %+v", l)
	}
	noUsable := doc.Hosts[5]
	if d := noUsable.Addresses[0].DANE; d.RolloverReady != nil || d.Records[0].Outcome != "unusable" || d.Records[1].Outcome != "malformed" ||
		!strings.Contains(d.Records[1].Error, "digest length") {
		t.Fatalf("mx6 dane: got %+v", d)
	}
	if rec := noUsable.TLSA.Records[1]; rec.Class != "malformed" || rec.Error == "" {
		t.Fatalf("mx6 tlsa record: got %+v", rec)
	}
	if d := doc.Hosts[6].Addresses[0].DANE; len(d.DigestDisagreement) != 1 || d.DigestDisagreement[0] != "3 1" {
		t.Fatalf("mx7 digest_disagreement: got %+v", d)
	}
	if doc.Hosts[7].TLSA != nil {
		t.Fatalf("mx8 has no TLSA lookup, got %+v", doc.Hosts[7].TLSA)
	}

	// Without dns.trust_ad, the self-check means nothing and is left out.
	plain := NewDocument(notCheckedReport())
	if plain.ResolverValidation != nil || plain.Hosts[0].Addresses[0].DANE.Status != dane.StatusNotChecked {
		t.Fatalf("plain.test: resolver_validation %+v, dane %+v", plain.ResolverValidation, plain.Hosts[0].Addresses[0].DANE)
	}
}

// TestDocumentWithoutDANE: a module that does not look at DANE gets none
// of its keys, so existing readers see the document they knew.
func TestDocumentWithoutDANE(t *testing.T) {
	b, err := json.Marshal(NewDocument(sampleReport()))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"dane"`, `"tlsa"`, `"dnssec"`, `"resolver_validation"`} {
		if bytes.Contains(b, []byte(key)) {
			t.Errorf("a report without DNSSEC or DANE carries %s", key)
		}
	}
}

func TestResolverWords(t *testing.T) {
	for _, tc := range []struct {
		v    dnsmx.Validation
		want string
	}{
		{dnsmx.Validation{}, "DNSSEC not checked: no validating resolver (dns.trust_ad is off, so the AD bit is not believed)"},
		{dnsmx.Validation{Trusted: true, CheckName: "example.", Err: "the answer came without the AD bit"},
			"DNSSEC not checked: the resolver does not validate (self-check of example.): the answer came without the AD bit"},
		{dnsmx.Validation{Trusted: true, Validating: true}, "the resolver validates DNSSEC: its self-check of . came back with the AD bit"},
	} {
		if got := ResolverWords(tc.v); got != tc.want {
			t.Errorf("ResolverWords(%+v):\n got %q\nwant %q", tc.v, got, tc.want)
		}
	}

	// A trusted resolver that fails its self-check is said once, at the
	// top, even for a module without DANE; an IP target asks no DNS.
	rep := sampleReport()
	rep.Validation = dnsmx.Validation{Trusted: true, CheckName: ".", Err: "SERVFAIL"}
	var buf bytes.Buffer
	if err := WriteText(&buf, rep, false); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(buf.String(), "\n"); lines[1] != "DNSSEC not checked: the resolver does not validate (self-check of .): SERVFAIL" {
		t.Errorf("second line %q, want the resolver's failure", lines[1])
	}
	ip := notCheckedReport()
	ip.Target, ip.DNS = probe.Target{Host: "192.0.2.71"}, nil
	buf.Reset()
	if err := WriteText(&buf, ip, false); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "DNSSEC not checked") {
		t.Errorf("an IP target is told that DNSSEC was not checked:\n%s", buf.String())
	}
}

// TestDANERecordsWithoutAChain: when no chain was judged (no STARTTLS),
// the records DNS gave are listed with what each can be.
func TestDANERecordsWithoutAChain(t *testing.T) {
	r := tlsResult("mx1.dane.test", "192.0.2.61")
	r.TLS, r.Extensions, r.Steps = nil, &smtp.Extensions{Greeting: "mx1.dane.test"}, r.Steps[:3]
	r.Success, r.Reason, r.Detail, r.Recipients = false, smtp.ReasonDANEStartTLSMissing, "DANE: STARTTLS is not offered", nil
	r.DANE = enforced("mx1.dane.test", dane.StatusStartTLSMissing, "usable TLSA records, but the server does not offer STARTTLS", nil)
	lookup := secureLookup("mx1.dane.test", eeCurrent, pkixEE, shortDigest)
	lookup.RecordsDropped = 40
	rep := &probe.Report{
		Target: probe.Target{Domain: "dane.test"}, Start: start, Duration: msec(5),
		Asked:      probe.Asked{DANE: dane.ModeEnforce},
		DNS:        &dnsmx.Domain{Name: "dane.test", Outcome: dnsmx.OutcomeAnswer, MXSecurity: dnsmx.SecuritySecure},
		Validation: dnsmx.Validation{Trusted: true, Validating: true},
		Hosts:      []probe.HostReport{daneHost("mx1.dane.test", 10, lookup, r)},
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, rep, false); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"DANE:       STARTTLS MISSING: usable TLSA records, but the server does not offer STARTTLS",
		"3 1 1 ABABABABABABABAB…  DANE-EE SPKI SHA2-256  usable, not judged: no certificate chain was presented",
		"1 1 1 0F0F0F0F0F0F0F0F…  PKIX-EE SPKI SHA2-256  unusable on port 25",
		"3 1 1 9999999999999999…  DANE-EE SPKI SHA2-256  malformed: digest length",
		"40 more TLSA records past the cap of one RRset: not judged",
		"FAIL dane.test: 1 of 1 address failed DANE; mail from DANE senders stops (",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "rollover:") {
		t.Errorf("rollover is judged without a chain:\n%s", out)
	}
	if l := NewDocument(rep).Hosts[0].TLSA; l.RecordsDropped != 40 {
		t.Errorf("tlsa.records_dropped: got %d, want 40", l.RecordsDropped)
	}
}

// TestSummaryLineDANE: the last line counts DANE failures like any other
// and says whom they stop: DANE senders, while others may still deliver.
func TestSummaryLineDANE(t *testing.T) {
	failed := func(reason smtp.Reason, s dane.Status, accepted bool) *smtp.Result {
		r := &smtp.Result{Addr: "192.0.2.1", Reason: reason, DANE: &dane.Check{Mode: dane.ModeEnforce, Status: s}}
		if accepted {
			r.Recipients = []smtp.Recipient{{Address: "postmaster@d.test", Accepted: true}}
		}
		return r
	}
	reported := &smtp.Result{Addr: "192.0.2.1", Success: true, DANE: &dane.Check{Mode: dane.ModeReport, Status: dane.StatusMismatch}}
	refused := &smtp.Result{Addr: "192.0.2.2", Reason: smtp.ReasonConnectRefused}
	passed := &smtp.Result{Addr: "192.0.2.2", Success: true, DANE: &dane.Check{Mode: dane.ModeEnforce, Status: dane.StatusPass}}
	for _, tc := range []struct {
		name    string
		results []*smtp.Result
		want    string
	}{
		{"mismatch only", []*smtp.Result{failed(smtp.ReasonDANEMismatch, dane.StatusMismatch, false)},
			"FAIL d.test: 1 of 1 address failed DANE; mail from DANE senders stops"},
		{"bogus, mailbox accepted", []*smtp.Result{failed(smtp.ReasonDANETLSABogus, dane.StatusTLSABogus, true)},
			"FAIL d.test: 1 of 1 address failed DANE; mail from DANE senders stops, other senders still deliver"},
		{"tls failed under DANE", []*smtp.Result{failed(smtp.ReasonStartTLSFailed, dane.StatusTLSFailed, false)},
			"FAIL d.test: 1 of 1 address failed DANE; mail from DANE senders stops"},
		{"DANE and a dead address", []*smtp.Result{failed(smtp.ReasonDANEMismatch, dane.StatusMismatch, false), refused},
			"FAIL d.test: 2 of 2 addresses failed, 1 of them DANE; mail from DANE senders stops"},
		{"DANE beside a pass", []*smtp.Result{failed(smtp.ReasonDANEMismatch, dane.StatusMismatch, false), passed},
			"DEGRADED d.test: 1 of 2 addresses failed DANE; delivery works through MX 10 mx1.d.test"},
		{"report mode", []*smtp.Result{reported},
			"OK d.test: 1 address passed; DANE fails on 1 of them, which the module only reports (dane: report)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := probe.HostReport{Host: dnsmx.Host{Name: "mx1.d.test", Preference: 10}, Results: tc.results}
			for _, r := range tc.results {
				h.Addrs = append(h.Addrs, netip.MustParseAddr(r.Addr))
			}
			rep := &probe.Report{Target: probe.Target{Domain: "d.test"}, DNS: &dnsmx.Domain{Outcome: dnsmx.OutcomeAnswer}, Hosts: []probe.HostReport{h}}
			var buf bytes.Buffer
			if err := WriteText(&buf, rep, false); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if last := lines[len(lines)-1]; !strings.HasPrefix(last, tc.want+" (") {
				t.Fatalf("summary line:\nwant %q\ngot  %q", tc.want, last)
			}
		})
	}
}
