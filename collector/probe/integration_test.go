package probe

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// These tests run the whole fan-out against the real servers of
// collector/testenv: nsd serving the zone test. and Postfix listeners on
// 127.0.1.x:25 (see that package for what each one does).

func testSettings(t testing.TB, env *testenv.Env, domain string) Settings {
	t.Helper()
	r, err := dnsmx.NewResolver([]string{env.Resolver}, 2*time.Second, 2)
	if err != nil {
		t.Fatalf("NewResolver(%s): %v", env.Resolver, err)
	}
	return Settings{
		Resolver: r,
		Timeout:  10 * time.Second,
		SMTP: smtp.Options{
			Port:       25,
			EHLOName:   "probe.mx-exporter.test",
			Recipients: []string{"postmaster@" + domain},
			RelayCheck: env.RelayAddress,
			StartTLS:   smtp.StartTLSOpportunistic,
			RootCAs:    env.CAPool,
		},
	}
}

func probeDomain(t *testing.T, domain string, edit func(*Settings)) *Report {
	t.Helper()
	env := testenv.Require(t)
	env.LogOnFailure(t)
	s := testSettings(t, env, domain)
	if edit != nil {
		edit(&s)
	}
	return (&Prober{}).Probe(context.Background(), Target{Domain: domain}, s)
}

// only returns the one dialogue of a report with one host and one address.
func only(t *testing.T, rep *Report) *smtp.Result {
	t.Helper()
	if len(rep.Hosts) != 1 || len(rep.Hosts[0].Results) != 1 {
		t.Fatalf("%s: want 1 host with 1 address, got %s", rep.Target.Name(), describeHosts(rep))
	}
	return rep.Hosts[0].Results[0]
}

func describeHosts(rep *Report) string {
	var b strings.Builder
	for _, h := range rep.Hosts {
		b.WriteString(h.Name + "[")
		for _, a := range h.Addrs {
			b.WriteString(a.String() + " ")
		}
		b.WriteString("] ")
	}
	if rep.DNS != nil {
		b.WriteString("dns=" + string(rep.DNS.Outcome) + " " + rep.DNS.Err)
	}
	return b.String()
}

func assertNoDATA(t *testing.T, r *smtp.Result) {
	t.Helper()
	for _, l := range r.Transcript {
		if l.Dir == smtp.Sent && strings.HasPrefix(strings.ToUpper(l.Text), "DATA") {
			t.Fatalf("%s: the probe sent DATA", r.Addr)
		}
	}
}

func TestHealthyDomainWithTwoMX(t *testing.T) {
	env := testenv.Require(t)
	rep := probeDomain(t, "good.test", nil)
	if !rep.Success() {
		t.Fatalf("good.test: Success() = false, want true: %s", describeHosts(rep))
	}
	if rep.DNS.Outcome != dnsmx.OutcomeAnswer || len(rep.Hosts) != 2 {
		t.Fatalf("good.test: outcome %s with %d hosts, want answer with 2", rep.DNS.Outcome, len(rep.Hosts))
	}
	mx1, mx2 := rep.Hosts[0], rep.Hosts[1]
	if mx1.Name != "mx1.good.test" || mx1.Preference != 10 || mx2.Name != "mx2.good.test" || mx2.Preference != 20 {
		t.Fatalf("hosts = %s/%d, %s/%d; want mx1.good.test/10, mx2.good.test/20", mx1.Name, mx1.Preference, mx2.Name, mx2.Preference)
	}
	for _, h := range rep.Hosts {
		r := h.Results[0]
		assertNoDATA(t, r)
		if r.Banner.Code != 220 || r.BannerHostname != h.Name {
			t.Fatalf("%s: banner %d %q, want 220 from %s", h.Name, r.Banner.Code, r.BannerHostname, h.Name)
		}
		if len(r.Recipients) != 1 || !r.Recipients[0].Accepted || r.Recipients[0].Reply.Enhanced != "2.1.5" {
			t.Fatalf("%s: recipients %+v, want postmaster accepted with 2.1.5", h.Name, r.Recipients)
		}
		if r.Relay == nil || r.Relay.Verdict != smtp.RelayRefused || r.Relay.Reply.Enhanced != "5.7.1" {
			t.Fatalf("%s: relay check %+v, want refused with 5.7.1", h.Name, r.Relay)
		}
		if q := r.Step(smtp.StepQuit); q == nil || q.Reply.Code != 221 {
			t.Fatalf("%s: QUIT step %+v, want 221", h.Name, q)
		}
	}
	tlsr := mx1.Results[0]
	if tlsr.TLS == nil || !tlsr.TLS.Verified || tlsr.TLS.Version == "" || tlsr.ExtensionsTLS == nil {
		t.Fatalf("mx1.good.test: TLS %+v, want a verified session and a second EHLO", tlsr.TLS)
	}
	if tlsr.TLS.ChainNotAfter.Before(time.Now()) {
		t.Fatalf("mx1.good.test: certificate expiry %v is in the past", tlsr.TLS.ChainNotAfter)
	}
	if got := mx2.Results[0].Extensions; got == nil || !got.SizeAdvertised || got.Size != env.SizeLimit {
		t.Fatalf("mx2.good.test: SIZE %+v, want %d", got, env.SizeLimit)
	}
	if mx2.Results[0].TLS != nil {
		t.Fatalf("mx2.good.test offers no STARTTLS, yet TLS = %+v", mx2.Results[0].TLS)
	}
}

func TestFailuresEndWithTheirReason(t *testing.T) {
	tests := []struct {
		domain string
		edit   func(*Settings)
		reason smtp.Reason
		check  func(t *testing.T, r *smtp.Result)
	}{
		{domain: "relay.test", reason: smtp.ReasonRelayOpen, check: func(t *testing.T, r *smtp.Result) {
			if r.Relay == nil || r.Relay.Verdict != smtp.RelayOpen || r.Relay.Reply.Code/100 != 2 {
				t.Fatalf("relay check %+v, want open with a 2xx reply", r.Relay)
			}
		}},
		{domain: "reject.test", reason: smtp.ReasonBannerRejected, check: func(t *testing.T, r *smtp.Result) {
			if r.Banner.Code != 554 {
				t.Fatalf("banner code %d, want 554", r.Banner.Code)
			}
			if q := r.Step(smtp.StepQuit); q == nil {
				t.Fatalf("no polite QUIT after the 554 greeting")
			}
		}},
		{domain: "good.test", edit: func(s *Settings) { s.SMTP.Recipients = []string{"nobody@good.test"} }, reason: smtp.ReasonRcptRejected, check: func(t *testing.T, r *smtp.Result) {
			if rc := r.Recipients[0]; rc.Accepted || rc.Reply.Code != 550 || rc.Reply.Enhanced != "5.1.1" {
				t.Fatalf("recipient %+v, want 550 5.1.1 not accepted", rc)
			}
		}},
		{domain: "tls.test", edit: func(s *Settings) { s.SMTP.RootCAs = nil; s.SMTP.RequireVerifiedTLS = true }, reason: smtp.ReasonTLSVerifyFailed, check: func(t *testing.T, r *smtp.Result) {
			if r.TLS == nil || r.TLS.Verified || r.TLS.VerifyError == "" {
				t.Fatalf("TLS %+v, want an unverified session with its reason", r.TLS)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.domain+"/"+string(tt.reason), func(t *testing.T) {
			rep := probeDomain(t, tt.domain, tt.edit)
			if rep.Success() {
				t.Fatalf("%s: Success() = true, want a failure", tt.domain)
			}
			r := rep.Hosts[0].Results[0]
			if r.Success || r.Reason != tt.reason {
				t.Fatalf("%s: success=%v reason=%q (%s), want reason %q", tt.domain, r.Success, r.Reason, r.Detail, tt.reason)
			}
			assertNoDATA(t, r)
			tt.check(t, r)
		})
	}
}

func TestDeadMXNextToAHealthyOne(t *testing.T) {
	env := testenv.Require(t)
	rep := probeDomain(t, "partial.test", nil)
	if rep.Success() || len(rep.Hosts) != 2 {
		t.Fatalf("partial.test: success=%v hosts=%s, want failure with 2 hosts", rep.Success(), describeHosts(rep))
	}
	dead, good := rep.Hosts[0].Results[0], rep.Hosts[1].Results[0]
	if dead.Addr != env.DeadIP || dead.Reason != smtp.ReasonConnectRefused {
		t.Fatalf("dead MX: %s reason %q, want %s connect_refused", dead.Addr, dead.Reason, env.DeadIP)
	}
	if !good.Success {
		t.Fatalf("mx1.good.test behind the dead MX: %s %s, want success", good.Reason, good.Detail)
	}
}

func TestDomainShapes(t *testing.T) {
	tests := []struct {
		domain  string
		success bool
		check   func(t *testing.T, rep *Report)
	}{
		{"nullmx.test", true, func(t *testing.T, rep *Report) {
			if !rep.DNS.NullMX || len(rep.Hosts) != 0 {
				t.Fatalf("null MX = %v with %d hosts, want true with none", rep.DNS.NullMX, len(rep.Hosts))
			}
		}},
		{"implicit.test", true, func(t *testing.T, rep *Report) {
			if !rep.DNS.Implicit || rep.Hosts[0].Name != "implicit.test" {
				t.Fatalf("implicit = %v, hosts %s; want implicit MX implicit.test", rep.DNS.Implicit, describeHosts(rep))
			}
		}},
		{"multiline.test", true, func(t *testing.T, rep *Report) {
			if r := only(t, rep); len(r.Banner.Lines) < 2 {
				t.Fatalf("banner %q, want a multi-line 220 greeting", r.Banner.Lines)
			}
		}},
		{"tls.test", true, func(t *testing.T, rep *Report) {
			if r := only(t, rep); r.TLS == nil || !r.TLS.Verified || r.TLS.ServerName != "mx.tls.test" {
				t.Fatalf("TLS %+v, want verified for mx.tls.test", r.TLS)
			}
		}},
		{"cname.test", true, func(t *testing.T, rep *Report) {
			if h := rep.Hosts[0]; h.CNAME != "mx1.good.test" {
				t.Fatalf("host %s CNAME %q, want the alias reported as mx1.good.test", h.Name, h.CNAME)
			}
		}},
		{"noaddr.test", false, func(t *testing.T, rep *Report) {
			if h := rep.Hosts[0]; len(h.Addrs) != 0 || h.Err == "" {
				t.Fatalf("host %s addrs %v err %q, want no address and a reason", h.Name, h.Addrs, h.Err)
			}
		}},
		{"missing.test", false, func(t *testing.T, rep *Report) {
			if rep.DNS.Outcome != dnsmx.OutcomeNXDomain {
				t.Fatalf("outcome %s, want nxdomain", rep.DNS.Outcome)
			}
		}},
		{"nodata.test", false, func(t *testing.T, rep *Report) {
			if rep.DNS.Outcome != dnsmx.OutcomeNoData || len(rep.Hosts) != 0 {
				t.Fatalf("outcome %s hosts %d, want nodata and none", rep.DNS.Outcome, len(rep.Hosts))
			}
		}},
		{"multi.test", true, func(t *testing.T, rep *Report) {
			if h := rep.Hosts[0]; len(h.Results) != 2 || h.Results[0].Addr != "127.0.1.1" || h.Results[1].Addr != "127.0.1.2" {
				t.Fatalf("mx.multi.test: %s, want both addresses probed", describeHosts(rep))
			}
		}},
		{"v6.test", true, func(t *testing.T, rep *Report) {
			if r := only(t, rep); r.Addr != "::1" {
				t.Fatalf("mx.v6.test probed on %s, want ::1", r.Addr)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.domain, func(t *testing.T) {
			// postscreen greets a client anew only when no other connection
			// from its address passed lately (it logs PASS OLD otherwise):
			// other tests and packages talk to mx.multiline.test from
			// 127.0.0.1, so this probe comes from an address of its own.
			var edit func(*Settings)
			if tt.domain == "multiline.test" {
				from := testenv.ClientIP()
				edit = func(s *Settings) { s.SMTP.DialContext = testenv.DialFrom(from) }
			}
			rep := probeDomain(t, tt.domain, edit)
			if rep.Success() != tt.success {
				t.Fatalf("%s: Success() = %v, want %v: %s", tt.domain, rep.Success(), tt.success, describeHosts(rep))
			}
			tt.check(t, rep)
		})
	}
}

func TestHostTargets(t *testing.T) {
	env := testenv.Require(t)
	p := &Prober{}
	tests := []struct {
		target Target
		edit   func(*Settings)
		reason smtp.Reason
	}{
		{target: Target{Host: "mx1.good.test"}},
		{target: Target{Host: "127.0.1.2", Port: 25}},
		{target: Target{Host: "127.0.1.2"}, edit: func(s *Settings) { s.SMTP.StartTLS = smtp.StartTLSRequired }, reason: smtp.ReasonStartTLSMissing},
		{target: Target{Host: "127.0.1.1", Port: 2525}, reason: smtp.ReasonConnectRefused},
	}
	for _, tt := range tests {
		t.Run(tt.target.Name(), func(t *testing.T) {
			s := testSettings(t, env, "good.test")
			if tt.edit != nil {
				tt.edit(&s)
			}
			rep := p.Probe(context.Background(), tt.target, s)
			if rep.DNS != nil {
				t.Fatalf("host target made an MX lookup")
			}
			r := only(t, rep)
			if r.Reason != tt.reason || rep.Success() != (tt.reason == smtp.ReasonNone) {
				t.Fatalf("%s: reason %q (%s), success %v; want reason %q", tt.target.Name(), r.Reason, r.Detail, rep.Success(), tt.reason)
			}
		})
	}
}
