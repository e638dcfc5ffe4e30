package probe

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe/dane"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// The DNSSEC and DANE scenarios of issue 11, end to end against the real
// servers: nsd serving the signed zone dnssec.test. (TLSA records computed
// from the test keys, signatures tampered where a scenario says bogus),
// unbound validating it with the zone's key as trust anchor, and Postfix
// presenting the test certificates. See .ci/testenv.d/dnssec.test.zone.

// daneSettings probes like a gateway check with DANE in mode, through the
// validating unbound, trusted. The test zones have no mailboxes: the
// envelope stops at MAIL FROM, which is all DANE needs.
func daneSettings(t *testing.T, env *testenv.Env, mode dane.Mode, trust bool) Settings {
	t.Helper()
	r, err := dnsmx.NewResolver([]string{env.ValidatingResolver}, 2*time.Second, 2)
	if err != nil {
		t.Fatalf("NewResolver(%s): %v", env.ValidatingResolver, err)
	}
	if trust {
		r.EnableValidation("dnssec.test.")
	}
	return Settings{
		Resolver: r,
		Timeout:  10 * time.Second,
		DANE:     mode,
		DNS:      dnsmx.Options{IgnoreSpecialAddresses: true},
		SMTP: smtp.Options{
			Port:     25,
			EHLOName: "probe.mx-exporter.test",
			StartTLS: smtp.StartTLSOpportunistic,
			RootCAs:  env.CAPool,
		},
	}
}

func probeDANE(t *testing.T, domain string, s Settings) *Report {
	t.Helper()
	rep := (&Prober{}).Probe(context.Background(), Target{Domain: domain}, s)
	for _, h := range rep.Hosts {
		for _, r := range h.Results {
			if r != nil {
				assertNoDATA(t, r)
				t.Logf("%s %s %s: success=%v reason=%q detail=%q dane=%+v", domain, h.Name, r.Addr, r.Success, r.Reason, r.Detail, r.DANE)
			}
		}
	}
	return rep
}

// sentMAIL reports whether the dialogue sent MAIL FROM: a DANE sender that
// cannot authenticate the server sends no envelope.
func sentMAIL(r *smtp.Result) bool {
	for _, l := range r.Transcript {
		if l.Dir == smtp.Sent && strings.HasPrefix(strings.ToUpper(l.Text), "MAIL FROM") {
			return true
		}
	}
	return false
}

func TestDANEScenarios(t *testing.T) {
	env := testenv.Require(t)
	env.LogOnFailure(t)
	for _, tc := range []struct {
		domain   string
		mode     dane.Mode
		status   dane.Status
		reason   smtp.Reason // ReasonNone: the dialogue succeeds
		rollover bool        // Result.Rollover.Ready, when a chain is judged
		mail     bool        // MAIL FROM is sent
	}{
		{"ee.dnssec.test", dane.ModeEnforce, dane.StatusPass, smtp.ReasonNone, false, true},
		{"rollover.dnssec.test", dane.ModeEnforce, dane.StatusPass, smtp.ReasonNone, true, true},
		{"mismatch.dnssec.test", dane.ModeEnforce, dane.StatusMismatch, smtp.ReasonDANEMismatch, false, false},
		{"mismatch.dnssec.test", dane.ModeReport, dane.StatusMismatch, smtp.ReasonNone, false, true},
		{"ta.dnssec.test", dane.ModeEnforce, dane.StatusTANotSent, smtp.ReasonDANEMismatch, false, false},
		{"tachain.dnssec.test", dane.ModeEnforce, dane.StatusPass, smtp.ReasonNone, false, true},
		{"pkix.dnssec.test", dane.ModeEnforce, dane.StatusNoUsableRecords, smtp.ReasonNone, false, true},
		{"bogus.dnssec.test", dane.ModeEnforce, dane.StatusTLSABogus, smtp.ReasonDANETLSABogus, false, true},
		{"bogus.dnssec.test", dane.ModeReport, dane.StatusTLSABogus, smtp.ReasonNone, false, true},
		{"notls.dnssec.test", dane.ModeEnforce, dane.StatusTLSFailed, smtp.ReasonStartTLSFailed, false, false},
		{"nostarttls.dnssec.test", dane.ModeEnforce, dane.StatusStartTLSMissing, smtp.ReasonDANEStartTLSMissing, false, false},
		{"nostarttls.dnssec.test", dane.ModeReport, dane.StatusStartTLSMissing, smtp.ReasonNone, false, true},
		{"secure.dnssec.test", dane.ModeEnforce, dane.StatusNoTLSA, smtp.ReasonNone, false, true},
		{"unsigned.test", dane.ModeEnforce, dane.StatusInsecure, smtp.ReasonNone, false, true},
		// Secure addresses, the TLSA RRset insecure (a CNAME into
		// unsigned.test) and of the next key: ignored, not a mismatch.
		{"insecuretlsa.dnssec.test", dane.ModeEnforce, dane.StatusInsecure, smtp.ReasonNone, false, true},
		{"expired.dnssec.test", dane.ModeEnforce, dane.StatusPass, smtp.ReasonNone, false, true},
		{"cnametlsa.dnssec.test", dane.ModeEnforce, dane.StatusPass, smtp.ReasonNone, false, true},
		{"alias.dnssec.test", dane.ModeEnforce, dane.StatusPass, smtp.ReasonNone, false, true},
	} {
		t.Run(tc.domain+"/"+string(tc.mode), func(t *testing.T) {
			rep := probeDANE(t, tc.domain, daneSettings(t, env, tc.mode, true))
			if !rep.Validation.Validating {
				t.Fatalf("resolver self-check: %+v", rep.Validation)
			}
			r := only(t, rep)
			if r.DANE == nil {
				t.Fatal("no DANE check")
			}
			if r.DANE.Status != tc.status {
				t.Fatalf("DANE status %s (%s), want %s", r.DANE.Status, r.DANE.Detail, tc.status)
			}
			if r.Reason != tc.reason || r.Success != (tc.reason == smtp.ReasonNone) {
				t.Fatalf("success %v reason %q (%s), want reason %q", r.Success, r.Reason, r.Detail, tc.reason)
			}
			if rep.Success() != r.Success {
				t.Fatalf("report success %v, dialogue %v", rep.Success(), r.Success)
			}
			if got := sentMAIL(r); got != tc.mail {
				t.Fatalf("MAIL FROM sent: %v, want %v", got, tc.mail)
			}
			if res := r.DANE.Result; res != nil && len(tc.status) > 0 && tc.status == dane.StatusPass && res.Rollover.Ready != tc.rollover {
				t.Fatalf("rollover ready %v (%s), want %v", res.Rollover.Ready, res.Rollover.Reason, tc.rollover)
			}
		})
	}
}

// TestDANEDetails checks what the table above cannot: DNSSEC states, the
// base domain and SNI of an alias, DANE-EE and an expired certificate.
func TestDANEDetails(t *testing.T) {
	env := testenv.Require(t)
	env.LogOnFailure(t)
	s := daneSettings(t, env, dane.ModeEnforce, true)

	t.Run("signed", func(t *testing.T) {
		rep := probeDANE(t, "ee.dnssec.test", s)
		h := rep.Hosts[0]
		if rep.DNS.MXSecurity != dnsmx.SecuritySecure || h.Security != dnsmx.SecuritySecure {
			t.Fatalf("MX %s, addresses %s; want both secure", rep.DNS.MXSecurity, h.Security)
		}
		if h.TLSA == nil || h.TLSA.Security != dnsmx.SecuritySecure || len(h.TLSA.Records) != 1 || h.TLSA.Name != "_25._tcp.mx.ee.dnssec.test" {
			t.Fatalf("TLSA lookup %+v", h.TLSA)
		}
		if got := h.Results[0].DANE.Result.Records[0].Record.Combination().String(); got != "3 1 1" {
			t.Fatalf("record %s, want 3 1 1", got)
		}
	})
	t.Run("unsigned", func(t *testing.T) {
		rep := probeDANE(t, "unsigned.test", s)
		if rep.DNS.MXSecurity != dnsmx.SecurityInsecure || rep.Hosts[0].Security != dnsmx.SecurityInsecure {
			t.Fatalf("MX %s, addresses %s; want both insecure", rep.DNS.MXSecurity, rep.Hosts[0].Security)
		}
		if rep.Hosts[0].TLSA != nil {
			t.Fatalf("TLSA looked up for a host with insecure addresses: %+v", rep.Hosts[0].TLSA)
		}
	})
	t.Run("insecure TLSA", func(t *testing.T) {
		// The host's addresses are secure, so the TLSA RRset is asked;
		// it lies behind a CNAME into the unsigned zone: no AD, and a
		// sender ignores it (RFC 7672 section 2.2.2) rather than match
		// its record, which names a key no server presents.
		rep := probeDANE(t, "insecuretlsa.dnssec.test", s)
		h, r := rep.Hosts[0], only(t, rep)
		if rep.DNS.MXSecurity != dnsmx.SecuritySecure || h.Security != dnsmx.SecuritySecure {
			t.Fatalf("MX %s, addresses %s; want both secure", rep.DNS.MXSecurity, h.Security)
		}
		l := h.TLSA
		if l == nil || l.Outcome != dnsmx.OutcomeAnswer || l.Security != dnsmx.SecurityInsecure || len(l.Records) != 1 ||
			l.Name != "_25._tcp.insecuretlsa.unsigned.test" {
			t.Fatalf("TLSA lookup %+v: want one insecure record at _25._tcp.insecuretlsa.unsigned.test", l)
		}
		if r.DANE == nil || r.DANE.Status != dane.StatusInsecure || r.DANE.Result != nil || !r.Success || !rep.Success() {
			t.Fatalf("DANE %+v, success %v; want insecure, nothing judged, success", r.DANE, r.Success)
		}
	})
	t.Run("alias", func(t *testing.T) {
		r := only(t, probeDANE(t, "alias.dnssec.test", s))
		if r.DANE.BaseDomain != "mx.ee.dnssec.test" {
			t.Fatalf("base domain %q, want mx.ee.dnssec.test (the secure alias's target)", r.DANE.BaseDomain)
		}
	})
	t.Run("expired", func(t *testing.T) {
		r := only(t, probeDANE(t, "expired.dnssec.test", s))
		if r.TLS == nil || r.TLS.Verified || !r.TLS.LeafNotAfter.Before(time.Now()) {
			t.Fatalf("TLS %+v: want an expired, unverified certificate", r.TLS)
		}
		if r.DANE.Status != dane.StatusPass {
			t.Fatalf("DANE %s: DANE-EE ignores expiry", r.DANE.Status)
		}
	})
	t.Run("bogus MX", func(t *testing.T) {
		rep := probeDANE(t, "bogusmx.dnssec.test", s)
		if rep.DNS.Outcome != dnsmx.OutcomeServFail || rep.DNS.MXSecurity != dnsmx.SecurityBogus || rep.Success() {
			t.Fatalf("MX lookup %s, %s, success %v; want servfail, bogus, failure", rep.DNS.Outcome, rep.DNS.MXSecurity, rep.Success())
		}
	})
	t.Run("not trusted", func(t *testing.T) {
		rep := probeDANE(t, "ee.dnssec.test", daneSettings(t, env, dane.ModeEnforce, false))
		r := only(t, rep)
		if rep.DNS.MXSecurity != dnsmx.SecurityUnchecked || r.DANE == nil || r.DANE.Status != dane.StatusNotChecked || !r.Success {
			t.Fatalf("MX %s, DANE %+v, success %v; want unchecked, not_checked, success", rep.DNS.MXSecurity, r.DANE, r.Success)
		}
	})
	t.Run("resolver not validating", func(t *testing.T) {
		// nsd answers authoritatively and never sets AD: trusting it
		// must not turn into DANE passes.
		ns := daneSettings(t, env, dane.ModeEnforce, false)
		r, err := dnsmx.NewResolver([]string{env.Resolver}, 2*time.Second, 2)
		if err != nil {
			t.Fatal(err)
		}
		r.EnableValidation("dnssec.test.")
		ns.Resolver = r
		rep := probeDANE(t, "ee.dnssec.test", ns)
		if !rep.Validation.Trusted || rep.Validation.Validating || rep.Validation.Err == "" {
			t.Fatalf("self-check %+v: want trusted, not validating, with a reason", rep.Validation)
		}
		if d := only(t, rep).DANE; d == nil || d.Status != dane.StatusNotChecked {
			t.Fatalf("DANE %+v, want not_checked", d)
		}
		// nsd's missing AD bit is no evidence of an unsigned zone: while
		// the self-check fails, no state is claimed.
		if rep.DNS.MXSecurity != dnsmx.SecurityUnchecked {
			t.Errorf("MX RRset %s, want unchecked while the self-check fails", rep.DNS.MXSecurity)
		}
		for _, h := range rep.Hosts {
			if h.Security != dnsmx.SecurityUnchecked {
				t.Errorf("addresses of %s %s, want unchecked while the self-check fails", h.Name, h.Security)
			}
		}
	})
	t.Run("off", func(t *testing.T) {
		rep := probeDANE(t, "mismatch.dnssec.test", daneSettings(t, env, dane.ModeOff, true))
		r := only(t, rep)
		if r.DANE != nil || rep.Hosts[0].TLSA != nil || !r.Success {
			t.Fatalf("dane off: check %+v, lookup %+v, success %v", r.DANE, rep.Hosts[0].TLSA, r.Success)
		}
	})
}
