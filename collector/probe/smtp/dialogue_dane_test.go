package smtp

// DANE in the dialogue, against the scripted fake of fake_server_test.go.
// The fakes stand in for what Postfix cannot be made to do in a unit test:
// serve an expired certificate or one whose key a test chose, fail a
// handshake on purpose, report the SNI it was sent. The paths a real server
// shows (a match, a mismatch, a trust anchor not sent, no STARTTLS, a
// refused STARTTLS) run against Postfix too, in dane_integration_test.go.

import (
	"context"
	"crypto/tls"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe/dane"
	"github.com/mx-exporter/mx_exporter/collector/testenv/testcert"
)

// daneCertificates are the certificates of the DANE tests, made once: key
// generation dominates the test time otherwise.
type daneCertificates struct {
	ca      *testcert.Cert // the DANE-TA trust anchor
	leaf    *testcert.Cert // mx.tls.test, signed by ca
	expired *testcert.Cert // mx.tls.test, signed by ca, outside its validity period
	other   *testcert.Cert // a key no fake serves
}

var daneCerts = sync.OnceValue(func() *daneCertificates {
	now := time.Now()
	server := testcert.Options{CommonName: "mx.tls.test", DNSNames: []string{"mx.tls.test"}}
	expired := server
	expired.NotBefore, expired.NotAfter = now.Add(-48*time.Hour), now.Add(-24*time.Hour)
	ca := testcert.New(testcert.Options{CommonName: "mx_exporter DANE test CA", CA: true}, nil)
	return &daneCertificates{
		ca:      ca,
		leaf:    testcert.New(server, ca),
		expired: testcert.New(expired, ca),
		other:   testcert.New(server, ca),
	}
})

// withChain serves leaf followed by the certificates above it, as a server
// configured with its full chain does.
func withChain(leaf *testcert.Cert, above ...*testcert.Cert) *tls.Config {
	c := leaf.TLS()
	for _, a := range above {
		c.Certificate = append(c.Certificate, a.Cert.Raw)
	}
	return serverTLS(c)
}

func tlsaOf(u dane.Usage, c *testcert.Cert, s dane.Selector, m dane.MatchingType) dane.TLSA {
	r, err := dane.Record(u, c.Cert, s, m)
	if err != nil {
		panic(err)
	}
	return r
}

// danePolicy is the policy the engine builds for mx.tls.test with secure
// records.
func danePolicy(mode dane.Mode, records ...dane.TLSA) *dane.Policy {
	return &dane.Policy{
		Mode: mode, TLSAName: "_25._tcp.mx.tls.test", BaseDomain: "mx.tls.test",
		Names: []string{"mx.tls.test"}, Records: records,
	}
}

// decidedPolicy is a policy DNS decided before any dialogue.
func decidedPolicy(mode dane.Mode, s dane.Status, detail string) *dane.Policy {
	return &dane.Policy{Mode: mode, Status: s, Detail: detail, TLSAName: "_25._tcp.mx.tls.test", BaseDomain: "mx.tls.test"}
}

// useDANE sets the policy and trusts the DANE tests' CA for the PKIX facts.
func useDANE(p *dane.Policy, more ...func(*Options)) func(*Options) {
	return func(o *Options) {
		o.DANE = p
		o.RootCAs = daneCerts().ca.Pool()
		for _, m := range more {
			m(o)
		}
	}
}

// wantDANE checks the DANE outcome and, where the fake is given, the
// commands it received.
func wantDANE(status dane.Status, failed bool, verbs []string, more ...func(t *testing.T, r *Result)) func(t *testing.T, r *Result, f *fakeServer) {
	return func(t *testing.T, r *Result, f *fakeServer) {
		t.Helper()
		if r.DANE == nil || r.DANE.Status != status || r.DANE.Failed() != failed {
			t.Fatalf("DANE %+v, want status %q, failed %v\ntranscript:\n%s", r.DANE, status, failed, formatTranscript(r))
		}
		if r.DANE.TLSAName != "_25._tcp.mx.tls.test" || r.DANE.BaseDomain == "" {
			t.Fatalf("DANE %+v, want the policy's names", r.DANE)
		}
		if verbs != nil {
			f.settled()
			if got := sentVerbs(f); !slices.Equal(got, verbs) {
				t.Fatalf("server got %q, want %q", got, verbs)
			}
		}
		for _, m := range more {
			m(t, r)
		}
	}
}

// The commands of a full dialogue with STARTTLS, and those of one a DANE
// sender ends right after the handshake.
var (
	fullTLSDialogue = []string{"EHLO", "STARTTLS", "EHLO", "MAIL", "RCPT", "RCPT", "RSET", "QUIT"}
	quitAfterTLS    = []string{"EHLO", "STARTTLS", "QUIT"}
)

func TestProbeDANE(t *testing.T) {
	c := daneCerts()
	ee := tlsaOf(dane.DANEEE, c.leaf, dane.SelectorSPKI, dane.MatchSHA256)
	next := tlsaOf(dane.DANEEE, c.other, dane.SelectorSPKI, dane.MatchSHA256)
	ta := tlsaOf(dane.DANETA, c.ca, dane.SelectorSPKI, dane.MatchSHA256)
	served := fakeSMTP{tls: withChain(c.leaf), replies: relayRefused}
	noTLS := fakeSMTP{replies: relayRefused}
	starttlsEHLO := "250-mx.fake.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME\r\n"
	refusing := fakeSMTP{ehlo: starttlsEHLO, replies: withReplies(map[string]string{"STARTTLS": "454 4.7.0 TLS not available\r\n"})}
	noCipher := fakeSMTP{tls: noCipherInCommon(), ehlo: starttlsEHLO, replies: relayRefused}
	judged := func(verdict dane.Verdict, outcomes ...dane.Outcome) func(t *testing.T, r *Result) {
		return func(t *testing.T, r *Result) {
			t.Helper()
			if r.DANE.Result == nil || r.DANE.Result.Verdict != verdict {
				t.Fatalf("DANE result %+v, want verdict %v", r.DANE.Result, verdict)
			}
			var got []dane.Outcome
			for _, rr := range r.DANE.Result.Records {
				got = append(got, rr.Outcome)
			}
			if !slices.Equal(got, outcomes) {
				t.Fatalf("record outcomes %v, want %v", got, outcomes)
			}
		}
	}
	notJudged := func(t *testing.T, r *Result) {
		t.Helper()
		if r.DANE.Result != nil {
			t.Fatalf("DANE result %+v, want none: no chain was judged", r.DANE.Result)
		}
	}
	verified := func(want bool) func(t *testing.T, r *Result) {
		return func(t *testing.T, r *Result) {
			t.Helper()
			if r.TLS == nil || r.TLS.Verified != want || r.TLS.ServerName != "mx.tls.test" {
				t.Fatalf("TLS %+v, want verified %v for the MX host name", r.TLS, want)
			}
		}
	}
	runVerdictCases(t, []verdictCase{
		{
			name:  "3 1 1 matching: pass",
			fake:  served,
			opts:  useDANE(danePolicy(dane.ModeEnforce, ee)),
			want:  ReasonNone,
			notes: []string{"DANE applies (mode enforce): 1 usable TLSA records, base domain mx.tls.test", "DANE pass: 1 of 1 usable TLSA records match the presented chain"},
			check: wantDANE(dane.StatusPass, false, fullTLSDialogue, judged(dane.Match, dane.Matched), verified(true)),
		},
		{
			name:   "3 1 1 of another key, enforce: mismatch, QUIT, no envelope",
			fake:   served,
			opts:   useDANE(danePolicy(dane.ModeEnforce, next)),
			want:   ReasonDANEMismatch,
			detail: "DANE: none of 1 usable TLSA records matches the presented chain (TLSA at _25._tcp.mx.tls.test); DANE senders defer mail",
			notes:  []string{"DANE mismatch: none of 1 usable TLSA records matches the presented chain; a DANE sender defers mail, so the probe fails"},
			check: wantDANE(dane.StatusMismatch, true, quitAfterTLS, judged(dane.Mismatch, dane.NotMatched), func(t *testing.T, r *Result) {
				if q := r.Step(StepQuit); q == nil || q.Reply.Code != 221 || r.Step(StepMail) != nil || r.ExtensionsTLS != nil {
					t.Fatalf("steps %q, QUIT %+v: want a QUIT answered 221 right after the handshake", stepNames(r), q)
				}
			}),
		},
		{
			name:  "3 1 1 of another key, report: recorded, the dialogue succeeds",
			fake:  served,
			opts:  useDANE(danePolicy(dane.ModeReport, next)),
			want:  ReasonNone,
			notes: []string{"DANE mismatch: none of 1 usable TLSA records matches the presented chain; a DANE sender defers mail, but the module only reports it"},
			check: wantDANE(dane.StatusMismatch, false, fullTLSDialogue, judged(dane.Mismatch, dane.NotMatched)),
		},
		{
			name:   "2 1 1 of a CA the server does not send, enforce",
			fake:   served,
			opts:   useDANE(danePolicy(dane.ModeEnforce, ta)),
			want:   ReasonDANEMismatch,
			detail: "DANE: the server does not send the trust anchor certificate its DANE-TA records name (TLSA at _25._tcp.mx.tls.test); DANE senders defer mail",
			check:  wantDANE(dane.StatusTANotSent, true, quitAfterTLS, judged(dane.Mismatch, dane.NotMatched)),
		},
		{
			name:  "2 1 1 of a CA the server sends: pass",
			fake:  fakeSMTP{tls: withChain(c.leaf, c.ca), replies: relayRefused},
			opts:  useDANE(danePolicy(dane.ModeEnforce, ta)),
			want:  ReasonNone,
			check: wantDANE(dane.StatusPass, false, fullTLSDialogue, judged(dane.Match, dane.Matched)),
		},
		{
			name: "SHA2-256 matches, SHA2-512 does not, enforce: digest mismatch",
			fake: served,
			opts: useDANE(danePolicy(dane.ModeEnforce, ee, tlsaOf(dane.DANEEE, c.other, dane.SelectorSPKI, dane.MatchSHA512))),
			want: ReasonDANEMismatch,
			detail: "DANE: a SHA2-256 record matches but the SHA2-512 records of the same usage and selector do not: " +
				"senders that use the strongest digest fail (TLSA at _25._tcp.mx.tls.test); DANE senders defer mail",
			check: wantDANE(dane.StatusDigestMismatch, true, quitAfterTLS, judged(dane.DigestMismatch, dane.Matched, dane.NotMatched)),
		},
		{
			name:  "expired leaf matching 3 1 1: DANE passes, the PKIX facts say expired",
			fake:  fakeSMTP{tls: withChain(c.expired), replies: relayRefused},
			opts:  useDANE(danePolicy(dane.ModeEnforce, tlsaOf(dane.DANEEE, c.expired, dane.SelectorSPKI, dane.MatchSHA256))),
			want:  ReasonNone,
			check: wantDANE(dane.StatusPass, false, fullTLSDialogue, verified(false)),
		},
		{
			name: "DANE passes, the module requires a verified certificate: tls_verify_failed stands",
			fake: fakeSMTP{tls: withChain(c.expired), replies: relayRefused},
			opts: useDANE(danePolicy(dane.ModeEnforce, tlsaOf(dane.DANEEE, c.expired, dane.SelectorSPKI, dane.MatchSHA256)),
				func(o *Options) { o.RequireVerifiedTLS = true }),
			want:  ReasonTLSVerifyFailed,
			check: wantDANE(dane.StatusPass, false, quitAfterTLS),
		},
		{
			name:  "STARTTLS turned off by the module: still tried where DANE applies",
			fake:  served,
			opts:  useDANE(danePolicy(dane.ModeEnforce, ee), func(o *Options) { o.StartTLS = StartTLSOff }),
			want:  ReasonNone,
			check: wantDANE(dane.StatusPass, false, fullTLSDialogue),
		},
		{
			name:   "STARTTLS not advertised, enforce: no envelope in clear",
			fake:   noTLS,
			opts:   useDANE(danePolicy(dane.ModeEnforce, ee)),
			want:   ReasonDANEStartTLSMissing,
			detail: "DANE: usable TLSA records, but the server does not advertise STARTTLS; DANE senders never fall back to plaintext, they defer mail",
			notes:  []string{"DANE starttls_missing: usable TLSA records, but the server does not advertise STARTTLS: a DANE sender never falls back to plaintext; a DANE sender defers mail, so the probe fails"},
			check:  wantDANE(dane.StatusStartTLSMissing, true, []string{"EHLO", "QUIT"}, notJudged),
		},
		{
			name:  "STARTTLS not advertised, report: on in plaintext",
			fake:  noTLS,
			opts:  useDANE(danePolicy(dane.ModeReport, ee)),
			want:  ReasonNone,
			check: wantDANE(dane.StatusStartTLSMissing, false, []string{"EHLO", "MAIL", "RCPT", "RCPT", "RSET", "QUIT"}, notJudged),
		},
		{
			name:   "STARTTLS not advertised, report, the module requires STARTTLS",
			fake:   noTLS,
			opts:   useDANE(danePolicy(dane.ModeReport, ee), func(o *Options) { o.StartTLS = StartTLSRequired }),
			want:   ReasonStartTLSMissing,
			detail: "STARTTLS is required but the server does not advertise it",
			check:  wantDANE(dane.StatusStartTLSMissing, false, []string{"EHLO", "QUIT"}),
		},
		{
			name: "handshake fails, enforce: no plaintext retry",
			fake: noCipher,
			opts: useDANE(danePolicy(dane.ModeEnforce, ee)),
			want: ReasonStartTLSFailed,
			detail: "TLS handshake failed: the server sent alert 'handshake failure' (usually: no cipher suite or TLS version in common)" +
				"; DANE senders defer mail rather than fall back to plaintext",
			check: wantDANE(dane.StatusTLSFailed, true, []string{"EHLO", "STARTTLS"}, notJudged, func(t *testing.T, r *Result) {
				if r.TLSFailure == nil || r.TLSFailure.Fallback || r.TLSFailure.Stage != TLSHandshake {
					t.Fatalf("TLS failure %+v, want a handshake failure without fallback", r.TLSFailure)
				}
			}),
		},
		{
			name: "handshake fails, report: the usual plaintext retry",
			fake: noCipher,
			opts: useDANE(danePolicy(dane.ModeReport, ee)),
			want: ReasonNone,
			check: wantDANE(dane.StatusTLSFailed, false, []string{"EHLO", "STARTTLS", "EHLO", "MAIL", "RCPT", "RCPT", "RSET", "QUIT"}, func(t *testing.T, r *Result) {
				if r.TLSFailure == nil || !r.TLSFailure.Fallback {
					t.Fatalf("TLS failure %+v, want the plaintext fallback", r.TLSFailure)
				}
			}),
		},
		{
			name:   "STARTTLS refused, enforce: QUIT, no plaintext",
			fake:   refusing,
			opts:   useDANE(danePolicy(dane.ModeEnforce, ee)),
			want:   ReasonStartTLSFailed,
			detail: "STARTTLS refused: 454 4.7.0 TLS not available; DANE senders defer mail rather than fall back to plaintext",
			check:  wantDANE(dane.StatusTLSFailed, true, []string{"EHLO", "STARTTLS", "QUIT"}),
		},
		{
			name:  "STARTTLS refused, report: on in plaintext",
			fake:  refusing,
			opts:  useDANE(danePolicy(dane.ModeReport, ee)),
			want:  ReasonNone,
			check: wantDANE(dane.StatusTLSFailed, false, []string{"EHLO", "STARTTLS", "MAIL", "RCPT", "RCPT", "RSET", "QUIT"}),
		},
		{
			name:   "TLSA bogus, enforce: the dialogue runs for its facts, then fails",
			fake:   served,
			opts:   useDANE(decidedPolicy(dane.ModeEnforce, dane.StatusTLSABogus, "TLSA lookup of _25._tcp.mx.tls.test: DNSSEC validation failed")),
			want:   ReasonDANETLSABogus,
			detail: "DANE: TLSA lookup of _25._tcp.mx.tls.test: DNSSEC validation failed; DANE senders defer mail",
			notes: []string{
				"DANE tlsa_bogus: TLSA lookup of _25._tcp.mx.tls.test: DNSSEC validation failed; a DANE sender defers mail without connecting; the dialogue runs for its other facts",
				"dane_tlsa_bogus: DANE: TLSA lookup",
			},
			check: wantDANE(dane.StatusTLSABogus, true, fullTLSDialogue, notJudged, verified(true), func(t *testing.T, r *Result) {
				if len(r.Recipients) != 1 || !r.Recipients[0].Accepted || r.Relay == nil || r.Relay.Verdict != RelayRefused {
					t.Fatalf("recipients %+v relay %+v: want the dialogue's verdicts measured", r.Recipients, r.Relay)
				}
			}),
		},
		{
			name:   "TLSA bogus, enforce, a refused recipient: the first failure wins",
			fake:   fakeSMTP{tls: withChain(c.leaf), replies: withReplies(map[string]string{"RCPT TO:<postmaster@fake.test>": "550 5.1.1 no such user\r\n"})},
			opts:   useDANE(decidedPolicy(dane.ModeEnforce, dane.StatusTLSABogus, "bogus")),
			want:   ReasonRcptRejected,
			detail: "RCPT TO:<postmaster@fake.test> not accepted: 550 5.1.1 no such user",
			check:  wantDANE(dane.StatusTLSABogus, true, fullTLSDialogue),
		},
		{
			name:   "TLSA lookup failed, enforce",
			fake:   served,
			opts:   useDANE(decidedPolicy(dane.ModeEnforce, dane.StatusTLSALookupFailed, "TLSA lookup of _25._tcp.mx.tls.test: SERVFAIL")),
			want:   ReasonDANETLSALookupFailed,
			detail: "DANE: TLSA lookup of _25._tcp.mx.tls.test: SERVFAIL; DANE senders defer mail",
			check:  wantDANE(dane.StatusTLSALookupFailed, true, fullTLSDialogue),
		},
		{
			name:  "TLSA bogus, report: recorded only",
			fake:  served,
			opts:  useDANE(decidedPolicy(dane.ModeReport, dane.StatusTLSABogus, "bogus")),
			want:  ReasonNone,
			check: wantDANE(dane.StatusTLSABogus, false, fullTLSDialogue),
		},
		{
			name:  "insecure: nothing changes, STARTTLS as the module says",
			fake:  served,
			opts:  useDANE(decidedPolicy(dane.ModeEnforce, dane.StatusInsecure, "not DNSSEC-secure"), func(o *Options) { o.StartTLS = StartTLSOff }),
			want:  ReasonNone,
			notes: []string{"DANE insecure: not DNSSEC-secure"},
			check: wantDANE(dane.StatusInsecure, false, []string{"EHLO", "MAIL", "RCPT", "RCPT", "RSET", "QUIT"}, notJudged),
		},
		{
			name:   "banner rejected: not reached",
			fake:   fakeSMTP{banner: "554 5.7.1 go away\r\n"},
			opts:   useDANE(danePolicy(dane.ModeEnforce, ee)),
			want:   ReasonBannerRejected,
			detail: "server refused the session: 554 5.7.1 go away",
			notes:  []string{"DANE not_reached: no TLS session to judge: the dialogue ended first (banner_rejected)"},
			check:  wantDANE(dane.StatusNotReached, false, []string{"QUIT"}, notJudged),
		},
		{
			// The probe's own budget ran out, not the server's TLS: a
			// DANE verdict would be a guess.
			name: "handshake timeout: not reached, the timeout is the reason",
			fake: fakeSMTP{ehlo: starttlsEHLO, on: map[string]func(*fakeSession) bool{
				"STARTTLS": func(s *fakeSession) bool { s.reply("220 go ahead"); s.waitClose(); return false },
			}},
			opts:    useDANE(danePolicy(dane.ModeEnforce, ee)),
			timeout: 300 * time.Millisecond,
			want:    ReasonTimeout,
			notes:   []string{"DANE not_reached: no TLS session to judge: the dialogue ended first (timeout)"},
			check:   wantDANE(dane.StatusNotReached, false, nil, notJudged),
		},
		{
			name:   "421 to STARTTLS: not reached, service_closing is the reason",
			fake:   fakeSMTP{ehlo: starttlsEHLO, on: map[string]func(*fakeSession) bool{"STARTTLS": closeAfter("421 4.3.2 shutting down\r\n")}},
			opts:   useDANE(danePolicy(dane.ModeEnforce, ee)),
			want:   ReasonServiceClosing,
			detail: "421 4.3.2 shutting down at STARTTLS: the server is closing the channel (too many connections, rate limit or shutdown)",
			check:  wantDANE(dane.StatusNotReached, false, nil, notJudged),
		},
		{
			name: "PKIX and malformed records only: judged for the report, never a failure",
			fake: served,
			opts: useDANE(danePolicy(dane.ModeEnforce,
				tlsaOf(dane.PKIXEE, c.other, dane.SelectorSPKI, dane.MatchSHA256),
				dane.TLSA{Usage: dane.DANEEE, Selector: dane.SelectorSPKI, MatchingType: dane.MatchSHA256, Data: []byte{1}})),
			want:  ReasonNone,
			check: wantDANE(dane.StatusNoUsableRecords, false, fullTLSDialogue, judged(dane.NoUsableRecords, dane.Unusable, dane.Malformed)),
		},
		{
			name:  "PKIX records only, no STARTTLS: nothing to judge, no failure",
			fake:  noTLS,
			opts:  useDANE(danePolicy(dane.ModeEnforce, tlsaOf(dane.PKIXEE, c.leaf, dane.SelectorSPKI, dane.MatchSHA256))),
			want:  ReasonNone,
			check: wantDANE(dane.StatusNoUsableRecords, false, []string{"EHLO", "MAIL", "RCPT", "RCPT", "RSET", "QUIT"}, notJudged),
		},
		{
			name: "mode off: nothing changes",
			fake: served,
			opts: useDANE(danePolicy(dane.ModeOff, next)),
			want: ReasonNone,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if r.DANE != nil || hasTranscript(r, Note, "DANE") {
					t.Fatalf("DANE %+v, want none and no DANE note\n%s", r.DANE, formatTranscript(r))
				}
			},
		},
	})
}

// TestProbeDANESNI checks the name sent in the ClientHello: the TLSA base
// domain where DANE applies, the MX host name otherwise. The fake records
// what it was sent, which Postfix does not tell.
func TestProbeDANESNI(t *testing.T) {
	c := daneCerts()
	ee := tlsaOf(dane.DANEEE, c.leaf, dane.SelectorSPKI, dane.MatchSHA256)
	base := func(p *dane.Policy) *dane.Policy {
		p.BaseDomain, p.Names = "MX.Base.Test.", []string{"mx.base.test", "mx.tls.test"}
		return p
	}
	tests := []struct {
		name   string
		policy *dane.Policy
		want   string
	}{
		{"DANE applies: the base domain", base(danePolicy(dane.ModeEnforce, ee)), "mx.base.test"},
		{"DANE applies in report mode: the base domain", base(danePolicy(dane.ModeReport, ee)), "mx.base.test"},
		{"insecure: the host name", base(decidedPolicy(dane.ModeEnforce, dane.StatusInsecure, "")), "mx.tls.test"},
		{"no usable records: the host name", base(danePolicy(dane.ModeEnforce, tlsaOf(dane.PKIXEE, c.leaf, dane.SelectorSPKI, dane.MatchSHA256))), "mx.tls.test"},
		{"no DANE: the host name", nil, "mx.tls.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkNoLeak(t)
			var sni atomic.Pointer[string]
			cfg := withChain(c.leaf)
			cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
				name := hello.ServerName
				sni.Store(&name)
				return nil, nil
			}
			f := startFake(t, fakeSMTP{tls: cfg, replies: relayRefused}.serve)
			opts := baseOptions(f.port())
			opts.DANE, opts.RootCAs = tt.policy, c.ca.Pool()
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()

			r := Probe(ctx, "mx.tls.test", "127.0.0.1", opts)

			if !r.Success {
				t.Fatalf("reason %q (detail %q), want success\n%s", r.Reason, r.Detail, formatTranscript(r))
			}
			if got := sni.Load(); got == nil || *got != tt.want {
				t.Fatalf("SNI %v, want %q", got, tt.want)
			}
			// The PKIX facts are always about the MX host name.
			if r.TLS == nil || !r.TLS.Verified || r.TLS.ServerName != "mx.tls.test" {
				t.Fatalf("TLS %+v, want verified for mx.tls.test", r.TLS)
			}
		})
	}
}

// TestProbeDANENotReached: a dialogue that ends before STARTTLS leaves DANE
// undecided, and its own failure is the reason, before a failure DNS decided.
func TestProbeDANENotReached(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	ee := tlsaOf(dane.DANEEE, daneCerts().leaf, dane.SelectorSPKI, dane.MatchSHA256)
	tests := []struct {
		name   string
		policy *dane.Policy
		want   dane.Status
		detail string
	}{
		{"usable records", danePolicy(dane.ModeEnforce, ee), dane.StatusNotReached, "no TLS session to judge: the dialogue ended first (connect_refused)"},
		{"TLSA bogus", decidedPolicy(dane.ModeEnforce, dane.StatusTLSABogus, "bogus"), dane.StatusTLSABogus, "bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := baseOptions(port)
			opts.DANE = tt.policy
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			r := Probe(ctx, "mx.tls.test", "127.0.0.1", opts)
			if r.Reason != ReasonConnectRefused {
				t.Fatalf("reason %q (detail %q), want connect_refused", r.Reason, r.Detail)
			}
			if r.DANE == nil || r.DANE.Status != tt.want || r.DANE.Detail != tt.detail || r.DANE.Result != nil {
				t.Fatalf("DANE %+v, want status %q with detail %q", r.DANE, tt.want, tt.detail)
			}
		})
	}
}

// TestProbeDANEOptions: a DANE mode the dialogue does not know is refused
// like any other invalid option; an empty one counts as off.
func TestProbeDANEOptions(t *testing.T) {
	o := baseOptions(25)
	o.DANE = &dane.Policy{Mode: "enforcing"}
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), `unknown dane mode "enforcing"`) {
		t.Fatalf("Validate: %v, want the unknown mode named", err)
	}
	o.DANE = &dane.Policy{Records: []dane.TLSA{tlsaOf(dane.DANEEE, daneCerts().leaf, dane.SelectorSPKI, dane.MatchSHA256)}}
	if err := o.Validate(); err != nil || activePolicy(o.DANE) != nil {
		t.Fatalf("Validate: %v, active %v: want an empty mode accepted as off", err, activePolicy(o.DANE))
	}
}
