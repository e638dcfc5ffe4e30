package probe

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/mtasts"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/probe/tlscheck"
)

// The MTA-STS verdict on hand-built reports: what judgeMTASTS makes of a
// policy and of dialogues whose outcome is set by hand. The real servers
// play the scenarios end to end in mtasts_integration_test.go.

// testDomain is the policy domain of the hand-built reports.
const testDomain = "example.test"

// validPolicy is a fetched, valid policy for TXT id "id1".
func validPolicy(mode mtasts.PolicyMode, maxAge int64, mx ...string) *mtasts.State {
	return &mtasts.State{
		Fetch:  mtasts.Fetch{URL: mtasts.PolicyURL(testDomain), Status: 200, ContentType: "text/plain"},
		Policy: &mtasts.Policy{Version: "STSv1", Mode: mode, MaxAge: maxAge, MX: mx},
		Valid:  true,
		ID:     "id1",
	}
}

// stsReport is a module's view of a domain with a valid TXT record (id
// "id1") and the given policy state.
func stsReport(mode mtasts.Mode, st *mtasts.State) *MTASTSReport {
	return &MTASTSReport{
		Mode:      mode,
		TXTLookup: dnsmx.TXTLookup{Name: "_mta-sts." + testDomain, Outcome: dnsmx.OutcomeAnswer, Records: []string{"v=STSv1; id=id1"}},
		TXT:       mtasts.TXT{Records: 1, Valid: true, ID: "id1"},
		Policy:    st,
	}
}

// dialogue is a successful dialogue with host at addr, STARTTLS with TLS
// 1.3 and a certificate verified for host, changed by edits.
func dialogue(host, addr string, edits ...func(*smtp.Result)) *smtp.Result {
	r := &smtp.Result{
		Host:       host,
		Addr:       addr,
		Port:       25,
		Success:    true,
		Extensions: &smtp.Extensions{Keywords: []smtp.Keyword{{Name: "PIPELINING"}, {Name: "STARTTLS"}}},
		TLS:        &tlscheck.Info{Version: "TLS 1.3", ServerName: host, Verified: true},
	}
	for _, edit := range edits {
		edit(r)
	}
	return r
}

// The dialogue edits: what can be wrong with an address's TLS.
var (
	noSTARTTLS = func(r *smtp.Result) {
		r.TLS = nil
		r.Extensions = &smtp.Extensions{Keywords: []smtp.Keyword{{Name: "PIPELINING"}}}
	}
	startTLSFailed = func(r *smtp.Result) {
		r.TLS = nil
		r.TLSFailure = &smtp.TLSFailure{Stage: smtp.TLSHandshake, Cause: "TLS handshake failed: the server sent alert 'handshake failure'", Fallback: true}
	}
	certExpired = func(r *smtp.Result) {
		r.TLS.Verified = false
		r.TLS.VerifyError = "certificate has expired or is not yet valid"
		r.TLS.LeafNotAfter = time.Date(2020, 1, 1, 12, 0, 0, 0, time.UTC)
		r.Start = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	}
	tls11 = func(r *smtp.Result) { r.TLS.Version = "TLS 1.1" }
	tls12 = func(r *smtp.Result) { r.TLS.Version = "TLS 1.2" }
	// connectRefused: the dialogue ended before EHLO.
	connectRefused = func(r *smtp.Result) {
		r.Success, r.Reason, r.Detail = false, smtp.ReasonConnectRefused, "connection refused"
		r.TLS, r.Extensions = nil, nil
	}
	// plaintext: the module does not try STARTTLS, the server offers it.
	plaintext = func(r *smtp.Result) { r.TLS = nil }
	// heloOnly: EHLO refused, HELO accepted: no extensions at all.
	heloOnly = func(r *smtp.Result) { r.TLS, r.Extensions, r.UsedHELO = nil, nil, true }
	// rcptRejected: the dialogue failed on its own, after TLS.
	rcptRejected = func(r *smtp.Result) {
		r.Success, r.Reason, r.Detail = false, smtp.ReasonRcptRejected, "550 5.1.1 no such user"
	}
	// otherName: the module's tls_server_name made the dialogue verify
	// for another name.
	otherName = func(r *smtp.Result) { r.TLS.ServerName = "gateway.example.net" }
)

// mxHost is an MX host with its dialogues, one per address.
func mxHost(name string, results ...*smtp.Result) HostReport {
	h := HostReport{Host: dnsmx.Host{Name: name, Outcome: dnsmx.OutcomeAnswer}, Results: results}
	for _, r := range results {
		h.Addrs = append(h.Addrs, netip.MustParseAddr(r.Addr))
	}
	return h
}

func domainReport(sts *MTASTSReport, hosts ...HostReport) *Report {
	return &Report{
		Target: Target{Domain: testDomain},
		DNS:    &dnsmx.Domain{Name: testDomain, Outcome: dnsmx.OutcomeAnswer},
		Hosts:  hosts,
		MTASTS: sts,
	}
}

// want is one address's expected outcome: its TLS status under the policy
// ("" when its host is not covered) and its dialogue's reason afterwards.
type want struct {
	tls    mtasts.TLSStatus
	reason smtp.Reason
}

// checkAddresses compares every address of rep with wants, host by host.
func checkAddresses(t *testing.T, rep *Report, wants map[string][]want) {
	t.Helper()
	for _, h := range rep.Hosts {
		w, ok := wants[h.Name]
		if !ok {
			if h.MTASTS != nil {
				t.Fatalf("%s: MTASTS %+v, want none", h.Name, *h.MTASTS)
			}
			continue
		}
		if len(w) != len(h.Results) {
			t.Fatalf("%s: %d wants for %d dialogues (test bug)", h.Name, len(w), len(h.Results))
		}
		for j, r := range h.Results {
			if r.Reason != w[j].reason || r.Success != (w[j].reason == smtp.ReasonNone) {
				t.Fatalf("%s %s: success %v reason %q (%s), want reason %q", h.Name, r.Addr, r.Success, r.Reason, r.Detail, w[j].reason)
			}
			var got mtasts.TLSStatus
			if h.MTASTS != nil && h.MTASTS.TLS != nil {
				got = h.MTASTS.TLS[j]
			}
			if got != w[j].tls {
				t.Fatalf("%s %s: TLS status %q, want %q (host policy %+v)", h.Name, r.Addr, got, w[j].tls, h.MTASTS)
			}
		}
	}
}

func TestJudgeMTASTSCoverage(t *testing.T) {
	enforce := validPolicy(mtasts.PolicyEnforce, 604800, "mx1.example.test", "*.farm.example.test")
	testingPolicy := validPolicy(mtasts.PolicyTesting, 604800, "mx1.example.test", "*.farm.example.test")
	for _, tc := range []struct {
		name     string
		mode     mtasts.Mode
		startTLS smtp.StartTLS // the module's
		state    *mtasts.State
		hosts    []HostReport
		status   mtasts.Status
		failure  bool
		wants    map[string][]want
		detail   []string // words the domain's Detail must hold
	}{
		{
			name: "every MX covered and valid", mode: mtasts.ModeEnforce, state: enforce,
			hosts: []HostReport{
				mxHost("mx1.example.test", dialogue("mx1.example.test", "192.0.2.1")),
				mxHost("a.farm.example.test", dialogue("a.farm.example.test", "192.0.2.2", tls12)),
			},
			status: mtasts.StatusPass,
			wants: map[string][]want{
				"mx1.example.test":    {{mtasts.TLSValid, smtp.ReasonNone}},
				"a.farm.example.test": {{mtasts.TLSValid, smtp.ReasonNone}},
			},
			detail: []string{"enforce policy id id1 (max_age 604800) covers every MX host (2)"},
		},
		{
			name: "uncovered host with two addresses fails both", mode: mtasts.ModeEnforce, state: enforce,
			hosts: []HostReport{
				mxHost("mx1.example.test", dialogue("mx1.example.test", "192.0.2.1")),
				mxHost("backup.example.test", dialogue("backup.example.test", "192.0.2.3"), dialogue("backup.example.test", "2001:db8::3")),
			},
			status: mtasts.StatusMXUncovered, failure: true,
			wants: map[string][]want{
				"mx1.example.test":    {{mtasts.TLSValid, smtp.ReasonNone}},
				"backup.example.test": {{"", smtp.ReasonMTASTSUncovered}, {"", smtp.ReasonMTASTSUncovered}},
			},
			detail: []string{"enforce policy id id1 (max_age 604800) does not cover MX backup.example.test", "refuse to deliver to it"},
		},
		{
			name: "a wildcard covers one label only", mode: mtasts.ModeEnforce, state: enforce,
			hosts: []HostReport{
				mxHost("a.b.farm.example.test", dialogue("a.b.farm.example.test", "192.0.2.4")),
			},
			status: mtasts.StatusMXUncovered, failure: true,
			wants: map[string][]want{"a.b.farm.example.test": {{"", smtp.ReasonMTASTSUncovered}}},
		},
		{
			name: "testing policy: the same facts, no failure", mode: mtasts.ModeEnforce, state: testingPolicy,
			hosts: []HostReport{
				mxHost("mx1.example.test", dialogue("mx1.example.test", "192.0.2.1", certExpired)),
				mxHost("backup.example.test", dialogue("backup.example.test", "192.0.2.3")),
			},
			status: mtasts.StatusMXUncovered,
			wants: map[string][]want{
				"mx1.example.test":    {{mtasts.TLSCertInvalid, smtp.ReasonNone}},
				"backup.example.test": {{"", smtp.ReasonNone}},
			},
			detail: []string{"testing policy id id1", "senders still deliver"},
		},
		{
			name: "module report: the facts and the failure, dialogues untouched", mode: mtasts.ModeReport, state: enforce,
			hosts: []HostReport{
				mxHost("mx1.example.test", dialogue("mx1.example.test", "192.0.2.1", noSTARTTLS)),
				mxHost("backup.example.test", dialogue("backup.example.test", "192.0.2.3")),
			},
			status: mtasts.StatusMXUncovered, failure: true,
			wants: map[string][]want{
				"mx1.example.test":    {{mtasts.TLSStartTLSMissing, smtp.ReasonNone}},
				"backup.example.test": {{"", smtp.ReasonNone}},
			},
		},
		{
			name: "every TLS status, side by side", mode: mtasts.ModeEnforce, state: enforce,
			hosts: []HostReport{
				mxHost("mx1.example.test",
					dialogue("mx1.example.test", "192.0.2.1"),
					dialogue("mx1.example.test", "192.0.2.2", noSTARTTLS),
					dialogue("mx1.example.test", "192.0.2.3", startTLSFailed),
					dialogue("mx1.example.test", "192.0.2.4", certExpired),
					dialogue("mx1.example.test", "192.0.2.5", tls11),
					dialogue("mx1.example.test", "192.0.2.6", connectRefused),
					dialogue("mx1.example.test", "192.0.2.7", heloOnly),
					dialogue("mx1.example.test", "192.0.2.8", otherName),
				),
			},
			status: mtasts.StatusMXTLSInvalid, failure: true,
			wants: map[string][]want{"mx1.example.test": {
				{mtasts.TLSValid, smtp.ReasonNone},
				{mtasts.TLSStartTLSMissing, smtp.ReasonMTASTSTLSInvalid},
				{mtasts.TLSStartTLSFailed, smtp.ReasonMTASTSTLSInvalid},
				{mtasts.TLSCertInvalid, smtp.ReasonMTASTSTLSInvalid},
				{mtasts.TLSVersionTooOld, smtp.ReasonMTASTSTLSInvalid},
				{mtasts.TLSNotReached, smtp.ReasonConnectRefused},
				{mtasts.TLSStartTLSMissing, smtp.ReasonMTASTSTLSInvalid},
				{mtasts.TLSCertInvalid, smtp.ReasonMTASTSTLSInvalid},
			}},
			detail: []string{"covers every MX host, but at mx1.example.test 192.0.2.2: it does not offer STARTTLS", "and 3 more", "not reached, TLS not judged: mx1.example.test 192.0.2.6: the dialogue ended before EHLO (connect_refused)"},
		},
		{
			name: "an address not reached is not judged: pass", mode: mtasts.ModeEnforce, state: enforce,
			hosts: []HostReport{
				mxHost("mx1.example.test", dialogue("mx1.example.test", "192.0.2.1"), dialogue("mx1.example.test", "192.0.2.6", connectRefused)),
			},
			status: mtasts.StatusPass,
			wants: map[string][]want{"mx1.example.test": {
				{mtasts.TLSValid, smtp.ReasonNone},
				{mtasts.TLSNotReached, smtp.ReasonConnectRefused},
			}},
		},
		{
			name: "module starttls off: offered STARTTLS is not judged", mode: mtasts.ModeEnforce, startTLS: smtp.StartTLSOff, state: enforce,
			hosts: []HostReport{
				mxHost("mx1.example.test", dialogue("mx1.example.test", "192.0.2.1", plaintext)),
			},
			status: mtasts.StatusPass,
			wants:  map[string][]want{"mx1.example.test": {{mtasts.TLSNotReached, smtp.ReasonNone}}},
		},
		{
			name: "first reason wins", mode: mtasts.ModeEnforce, state: enforce,
			hosts: []HostReport{
				mxHost("mx1.example.test", dialogue("mx1.example.test", "192.0.2.1", certExpired, rcptRejected)),
				mxHost("backup.example.test", dialogue("backup.example.test", "192.0.2.3", rcptRejected)),
			},
			status: mtasts.StatusMXUncovered, failure: true,
			wants: map[string][]want{
				"mx1.example.test":    {{mtasts.TLSCertInvalid, smtp.ReasonRcptRejected}},
				"backup.example.test": {{"", smtp.ReasonRcptRejected}},
			},
			detail: []string{"does not cover MX backup.example.test, and at covered addresses mx1.example.test 192.0.2.1: its certificate does not verify", "refuse to deliver to them"},
		},
		{
			name: "a host without addresses is left out", mode: mtasts.ModeEnforce, state: enforce,
			hosts: []HostReport{
				mxHost("mx1.example.test", dialogue("mx1.example.test", "192.0.2.1")),
				{Host: dnsmx.Host{Name: "gone.example.test", Outcome: dnsmx.OutcomeNXDomain, Err: "NXDOMAIN"}},
			},
			status: mtasts.StatusPass,
			wants:  map[string][]want{"mx1.example.test": {{mtasts.TLSValid, smtp.ReasonNone}}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := domainReport(stsReport(tc.mode, tc.state), tc.hosts...)
			rep.Asked.StartTLS = tc.startTLS
			judgeMTASTS(rep)
			sts := rep.MTASTS
			t.Logf("%s: %s", sts.Status, sts.Detail)
			if sts.Status != tc.status || sts.Failure != tc.failure {
				t.Fatalf("status %s failure %v (%s), want %s failure %v", sts.Status, sts.Failure, sts.Detail, tc.status, tc.failure)
			}
			checkAddresses(t, rep, tc.wants)
			for _, words := range tc.detail {
				if !strings.Contains(sts.Detail, words) {
					t.Fatalf("detail %q, want it to say %q", sts.Detail, words)
				}
			}
			for _, h := range rep.Hosts {
				if h.MTASTS == nil {
					continue
				}
				if h.MTASTS.Covered != (h.MTASTS.Pattern != "") {
					t.Fatalf("%s: covered %v with pattern %q", h.Name, h.MTASTS.Covered, h.MTASTS.Pattern)
				}
				if !h.MTASTS.Covered && h.MTASTS.TLS != nil {
					t.Fatalf("%s: uncovered, yet TLS judged %v", h.Name, h.MTASTS.TLS)
				}
			}
		})
	}
}

// TestJudgeMTASTSPrecedence: the statuses that come before coverage, each
// winning over everything after it. Every case has an uncovered MX, so
// that a verdict that wrongly went on to coverage would show.
func TestJudgeMTASTSPrecedence(t *testing.T) {
	enforce := func() *mtasts.State { return validPolicy(mtasts.PolicyEnforce, 604800, "mx1.example.test") }
	unfetchable := func() *mtasts.State {
		return &mtasts.State{ID: "id1", Fetch: mtasts.Fetch{
			URL: mtasts.PolicyURL(testDomain), Err: mtasts.FetchTLSVerify, Detail: "certificate expired on 2020-01-01",
		}}
	}
	invalid := func() *mtasts.State {
		st := enforce()
		st.Policy.Mode = ""
		st.Valid = false
		st.Defects = []mtasts.Defect{mtasts.DefectModeInvalid, mtasts.DefectLineInvalid, mtasts.DefectContentType}
		return st
	}
	for _, tc := range []struct {
		name   string
		edit   func(*MTASTSReport)
		status mtasts.Status
		detail string
	}{
		{"TXT lookup failed beats everything", func(s *MTASTSReport) {
			s.TXTLookup = dnsmx.TXTLookup{Outcome: dnsmx.OutcomeServFail, Err: "SERVFAIL from every server"}
			s.TXT = mtasts.TXT{}
			s.Policy = nil
		}, mtasts.StatusTXTLookupFailed, "the TXT lookup of _mta-sts.example.test failed (SERVFAIL from every server)"},
		{"TXT lookup timed out", func(s *MTASTSReport) {
			s.TXTLookup = dnsmx.TXTLookup{Outcome: dnsmx.OutcomeTimeout}
			s.TXT = mtasts.TXT{}
			s.Policy = nil
		}, mtasts.StatusTXTLookupFailed, "failed (timeout)"},
		{"no record", func(s *MTASTSReport) {
			s.TXTLookup = dnsmx.TXTLookup{Outcome: dnsmx.OutcomeNXDomain}
			s.TXT = mtasts.TXT{}
			s.Policy = nil
		}, mtasts.StatusNoPolicy, "no v=STSv1 TXT record"},
		{"TXT records of other kinds only", func(s *MTASTSReport) {
			s.TXTLookup.Records = []string{"google-site-verification=abc"}
			s.TXT = mtasts.TXT{}
			s.Policy = nil
		}, mtasts.StatusNoPolicy, "no MTA-STS policy"},
		{"invalid TXT beats an unfetchable policy", func(s *MTASTSReport) {
			s.TXT = mtasts.TXT{Records: 2, Defect: mtasts.TXTDuplicate, Detail: "2 v=STSv1 records"}
			s.Policy = unfetchable()
		}, mtasts.StatusTXTInvalid, "invalid (duplicate): 2 v=STSv1 records"},
		{"invalid TXT beats a valid policy", func(s *MTASTSReport) {
			s.TXT = mtasts.TXT{Records: 1, Defect: mtasts.TXTNoID}
		}, mtasts.StatusTXTInvalid, "invalid (id_missing): senders ignore the policy and deliver without MTA-STS"},
		{"unfetchable beats what the policy would say", func(s *MTASTSReport) {
			s.Policy = unfetchable()
		}, mtasts.StatusUnfetchable, "could not be fetched from https://mta-sts.example.test/.well-known/mta-sts.txt (tls_verify_failed: certificate expired on 2020-01-01)"},
		{"no policy state at all is unfetchable", func(s *MTASTSReport) {
			s.Policy = nil
		}, mtasts.StatusUnfetchable, "(not fetched)"},
		{"invalid policy", func(s *MTASTSReport) {
			s.Policy = invalid()
		}, mtasts.StatusInvalid, "is invalid (mode_invalid, line_invalid): senders ignore it"},
		{"mode none", func(s *MTASTSReport) {
			s.Policy = validPolicy(mtasts.PolicyNone, 86400)
		}, mtasts.StatusModeNone, "none policy id id1 (max_age 86400): mode none"},
		{"coverage, with the warnings", func(s *MTASTSReport) {
			s.Policy.Defects = []mtasts.Defect{mtasts.DefectContentType}
		}, mtasts.StatusMXUncovered, "warnings: content_type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sts := stsReport(mtasts.ModeEnforce, enforce())
			tc.edit(sts)
			rep := domainReport(sts,
				mxHost("mx1.example.test", dialogue("mx1.example.test", "192.0.2.1")),
				mxHost("backup.example.test", dialogue("backup.example.test", "192.0.2.3")),
			)
			judgeMTASTS(rep)
			if sts.Status != tc.status || !strings.Contains(sts.Detail, tc.detail) {
				t.Fatalf("status %s, detail %q; want %s saying %q", sts.Status, sts.Detail, tc.status, tc.detail)
			}
			if tc.status == mtasts.StatusMXUncovered {
				return
			}
			if sts.Failure {
				t.Fatalf("status %s is a failure", sts.Status)
			}
			for _, h := range rep.Hosts {
				if h.MTASTS != nil {
					t.Fatalf("%s: coverage %+v without a usable policy", h.Name, *h.MTASTS)
				}
				for _, r := range h.Results {
					if !r.Success {
						t.Fatalf("%s: dialogue failed %q (%s) without a usable policy", h.Name, r.Reason, r.Detail)
					}
				}
			}
		})
	}
}

// TestMTASTSDialogueDetail: the failed dialogue says which policy refuses
// it and why, in words.
func TestMTASTSDialogueDetail(t *testing.T) {
	rep := domainReport(stsReport(mtasts.ModeEnforce, validPolicy(mtasts.PolicyEnforce, 604800, "mx1.example.test")),
		mxHost("mx1.example.test", dialogue("mx1.example.test", "192.0.2.1", certExpired)),
		mxHost("mx.tls.test", dialogue("mx.tls.test", "192.0.2.3")),
	)
	judgeMTASTS(rep)
	for _, tc := range []struct {
		r    *smtp.Result
		want string
	}{
		{rep.Hosts[0].Results[0], "MTA-STS: the enforce policy id id1 (max_age 604800) of example.test covers mx1.example.test (pattern mx1.example.test), but at this address its certificate does not verify for mx1.example.test: certificate has expired or is not yet valid (it expired on 2020-01-01): MTA-STS senders refuse to deliver to it"},
		{rep.Hosts[1].Results[0], "MTA-STS: the enforce policy id id1 (max_age 604800) of example.test does not cover MX host mx.tls.test: MTA-STS senders refuse to deliver to it"},
	} {
		if tc.r.Detail != tc.want {
			t.Fatalf("%s detail\n %q, want\n %q", tc.r.Host, tc.r.Detail, tc.want)
		}
	}
	if !strings.Contains(rep.MTASTS.Detail, "enforce policy id id1 (max_age 604800) does not cover MX mx.tls.test") {
		t.Fatalf("domain detail %q", rep.MTASTS.Detail)
	}
	if rep.Success() {
		t.Fatal("report succeeds with both dialogues failed by the policy")
	}
}

func TestTLSVersionAtLeast12(t *testing.T) {
	for name, want := range map[string]bool{
		"TLS 1.0": false, "TLS 1.1": false, "TLS 1.2": true, "TLS 1.3": true,
		"TLS 1.4": true, "TLS 2.0": true, "SSLv3": false, "0x0300": false, "0x0304": false, "": false, "TLS x.y": false,
	} {
		if got := tlsVersionAtLeast12(name); got != want {
			t.Fatalf("tlsVersionAtLeast12(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestJudgeMTASTSWithoutReport: a host target, or mode off, has no policy:
// nothing is judged and no host gets coverage.
func TestJudgeMTASTSWithoutReport(t *testing.T) {
	rep := domainReport(nil, mxHost("mx1.example.test", dialogue("mx1.example.test", "192.0.2.1", noSTARTTLS)))
	judgeMTASTS(rep)
	if rep.Hosts[0].MTASTS != nil || !rep.Hosts[0].Results[0].Success {
		t.Fatalf("judged without a policy: %+v, success %v", rep.Hosts[0].MTASTS, rep.Hosts[0].Results[0].Success)
	}
}
