package probe

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/testenv"
	"github.com/mx-exporter/mx_exporter/config"
)

// Real-server tests of the named verdicts of issue 9 (section 3 and STARTTLS
// refused, section 2): what Postfix itself can show. Each probe runs with what
// a user's module would have (opportunistic STARTTLS, a real mailbox, the
// relay check, the test CA, the default timeout and slow-step threshold) and
// dials from a loopback address of its own, so that the test finds its own
// connection in the Postfix log and reads the session from the server's side
// too: smtpd logs, at disconnect, how many of each command it saw.

// probeFrom probes domain with a user's module settings from the client
// address from, and returns its only dialogue.
func probeFrom(t *testing.T, domain string, from netip.Addr, edit func(*Settings)) *smtp.Result {
	t.Helper()
	rep := probeDomain(t, domain, func(s *Settings) {
		s.Timeout = config.DefaultTimeout
		s.SMTP.SlowStepThreshold = 0 // the default
		s.SMTP.DialContext = testenv.DialFrom(from)
		if edit != nil {
			edit(s)
		}
	})
	r := only(t, rep)
	t.Logf("%s from %s: success=%v reason=%q findings=%q slowest=%s/%v greeting first line %v; steps: %s",
		domain, from, r.Success, r.Reason, r.Findings, r.SlowestStep, r.SlowestStepDuration, r.GreetingFirstLine, stepTimes(r))
	if rep.Success() != r.Success {
		t.Fatalf("%s: report success %v, dialogue success %v", domain, rep.Success(), r.Success)
	}
	assertNoDATA(t, r)
	return r
}

// stepTimes lists each step with its reply code and duration, for the log.
func stepTimes(r *smtp.Result) string {
	var b strings.Builder
	for _, s := range r.Steps {
		fmt.Fprintf(&b, "%s %d %v; ", s.Name, s.Reply.Code, s.Duration.Round(time.Millisecond))
	}
	return b.String()
}

// clientIPs returns n distinct client addresses (see testenv.ClientIP).
func clientIPs(n int) []netip.Addr {
	var out []netip.Addr
	for len(out) < n {
		ip := testenv.ClientIP()
		dup := false
		for _, o := range out {
			dup = dup || o == ip
		}
		if !dup {
			out = append(out, ip)
		}
	}
	return out
}

// serverSaw waits for smtpd's disconnect line of the connection from ip
// ("disconnect from unknown[ip] ehlo=1 mail=1 rcpt=1/2 rset=1 quit=1
// commands=5/6") and returns its command counters. It fails the test if
// the server saw DATA or no QUIT: the probe never sends DATA and always says
// goodbye while the connection stands.
func serverSaw(t *testing.T, log *testenv.Maillog, ip netip.Addr) string {
	t.Helper()
	marker := "disconnect from unknown[" + ip.String() + "]"
	line := log.Await(t, 5*time.Second, "/smtpd[", marker)
	_, counters, _ := strings.Cut(line, marker)
	counters = strings.TrimSpace(counters)
	if strings.Contains(counters, "data=") || strings.Contains(counters, "bdat=") || !strings.Contains(counters, "quit=1") {
		t.Fatalf("Postfix saw from %s: %q; want no DATA/BDAT and a QUIT", ip, counters)
	}
	return counters
}

// hasCounter reports whether smtpd's counters contain the word c, e.g. "rcpt=1/2".
func hasCounter(counters, c string) bool {
	for _, w := range strings.Fields(counters) {
		if w == c {
			return true
		}
	}
	return false
}

// pregreeted reports whether postscreen's log lines of one client show
// that it sent something before the final greeting line.
func pregreeted(lines []string) bool {
	for _, l := range lines {
		if strings.Contains(l, "/postscreen[") && strings.Contains(l, ": PREGREET ") {
			return true
		}
	}
	return false
}

// TestPostscreenGreeting: postscreen sends "220-" at once and "220 " after its
// greet wait. The probe reports both times and FindingGreetingDelayed, does
// not call the wait a slow step, and sends nothing before the final line:
// postscreen (greet action drop) would log PREGREET and answer 521. The
// same log check run on a client that does talk first proves the check can
// fail.
func TestPostscreenGreeting(t *testing.T) {
	t.Parallel()
	env := testenv.Require(t)
	env.LogOnFailure(t)
	l := env.Listener("mx.multiline.test")
	log := env.FollowMaillog(t)
	ips := clientIPs(2)
	probeIP, rudeIP := ips[0], ips[1]

	r := probeFrom(t, l.Domain, probeIP, nil)
	if !r.Success {
		t.Fatalf("%s: reason %q (%s), want success", l.Host, r.Reason, r.Detail)
	}
	if !r.HasFinding(smtp.FindingGreetingDelayed) {
		t.Fatalf("findings %q, want %q", r.Findings, smtp.FindingGreetingDelayed)
	}
	if r.HasFinding(smtp.FindingSlowStep) {
		t.Fatalf("findings %q (slowest %s %v): postscreen's greet wait is greeting_delayed, not a slow step", r.Findings, r.SlowestStep, r.SlowestStepDuration)
	}
	banner := r.Step(smtp.StepBanner)
	if banner == nil || len(r.Banner.Lines) < 2 || r.Banner.Code != 220 {
		t.Fatalf("banner step %+v, reply %+v; want a multi-line 220", banner, r.Banner)
	}
	// The banner step's clock starts when the probe begins to read, which may
	// be a moment after postscreen accepted and started its greet timer:
	// greetSlack allows for that moment, nothing more.
	const greetSlack = 50 * time.Millisecond
	if r.GreetingFirstLine <= 0 || r.GreetingFirstLine >= smtp.GreetingDelay || banner.Duration < l.MinGreetWait-greetSlack {
		t.Fatalf("first greeting line after %v, final line after %v; want the first within %v and the final after postscreen's greet wait (%v to %v)",
			r.GreetingFirstLine, banner.Duration, smtp.GreetingDelay, l.MinGreetWait, l.GreetWait)
	}
	// The probe's own transcript: the last line received before the first
	// line sent is the final greeting line.
	var last smtp.Line
	for _, line := range r.Transcript {
		if line.Dir == smtp.Sent {
			if !strings.HasPrefix(last.Text, "220 ") || line.At < last.At {
				t.Fatalf("first command %q at %v, after %q at %v; want it after the final \"220 \" line", line.Text, line.At, last.Text, last.At)
			}
			break
		}
		if line.Dir == smtp.Received {
			last = line
		}
	}

	// The server's side: postscreen let the probe pass, smtpd saw a whole
	// polite session, and there is no PREGREET.
	counters := serverSaw(t, log, probeIP)
	lines := log.Lines(t, "["+probeIP.String()+"]")
	if pregreeted(lines) || !strings.Contains(strings.Join(lines, "\n"), "PASS NEW ["+probeIP.String()+"]:") {
		t.Fatalf("Postfix log of the probe from %s:\n%s\nwant PASS NEW and no PREGREET", probeIP, strings.Join(lines, "\n"))
	}
	if !hasCounter(counters, "rcpt=1/2") {
		t.Fatalf("Postfix saw %q from the probe, want its two RCPTs (rcpt=1/2)", counters)
	}

	// The control: a client that sends EHLO right after the first line.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	first, next, err := testenv.Pregreet(ctx, l, rudeIP)
	if !strings.HasPrefix(first, "220-") || next != "521 5.5.1 Protocol error" {
		t.Fatalf("pregreet from %s: %q then %q (%v); want \"220-...\" then \"521 5.5.1 Protocol error\"", rudeIP, first, next, err)
	}
	log.Await(t, 5*time.Second, "/postscreen[", "DISCONNECT ["+rudeIP.String()+"]:")
	if rude := log.Lines(t, "["+rudeIP.String()+"]"); !pregreeted(rude) {
		t.Fatalf("Postfix log of the pregreeting client %s:\n%s\nthe PREGREET check does not see it, so it proves nothing", rudeIP, strings.Join(rude, "\n"))
	}
}

// TestGreylistedRecipient: a 450 4.2.0 "Greylisted, please try again later"
// for the configured mailbox is a deferral, not a refusal: the probe fails as
// rcpt_deferred with the greylisted finding, and the relay check is still
// measured (refused), never open.
func TestGreylistedRecipient(t *testing.T) {
	t.Parallel()
	env := testenv.Require(t)
	env.LogOnFailure(t)
	l := env.Listener("mx.greylist.test")
	log := env.FollowMaillog(t)
	ip := testenv.ClientIP()

	r := probeFrom(t, l.Domain, ip, nil)
	if r.Success || r.Reason != smtp.ReasonRcptDeferred {
		t.Fatalf("success %v, reason %q (%s); want failure rcpt_deferred", r.Success, r.Reason, r.Detail)
	}
	if len(r.Recipients) != 1 {
		t.Fatalf("recipients %+v, want postmaster@%s", r.Recipients, l.Domain)
	}
	if rc := r.Recipients[0]; !rc.Deferred || rc.Accepted || rc.Reply.Code != 450 || rc.Reply.Enhanced != "4.2.0" {
		t.Fatalf("recipient %+v, want deferred (450 4.2.0), not accepted", rc)
	}
	if !r.HasFinding(smtp.FindingGreylisted) {
		t.Fatalf("findings %q, want %q", r.Findings, smtp.FindingGreylisted)
	}
	if r.Relay == nil || r.Relay.Verdict != smtp.RelayRefused || r.Relay.Reply.Code != 554 || r.Relay.Reply.Enhanced != "5.7.1" {
		t.Fatalf("relay check %+v, want measured and refused (554 5.7.1)", r.Relay)
	}
	if counters := serverSaw(t, log, ip); !hasCounter(counters, "rcpt=0/2") {
		t.Fatalf("Postfix saw %q from the probe, want two RCPTs, none accepted (rcpt=0/2)", counters)
	}
}

// TestSlowRecipient: Postfix's "sleep 2" restriction holds the RCPT reply of
// the mailbox for 2 s. The dialogue completes and succeeds, with the
// slow-step finding naming RCPT and its time.
func TestSlowRecipient(t *testing.T) {
	t.Parallel()
	env := testenv.Require(t)
	env.LogOnFailure(t)
	l := env.Listener("mx.slow.test")
	log := env.FollowMaillog(t)
	ip := testenv.ClientIP()

	r := probeFrom(t, l.Domain, ip, nil)
	if !r.Success {
		t.Fatalf("reason %q (%s), want success", r.Reason, r.Detail)
	}
	if !r.HasFinding(smtp.FindingSlowStep) {
		t.Fatalf("findings %q, want %q", r.Findings, smtp.FindingSlowStep)
	}
	if r.SlowestStep != smtp.StepRcpt || r.SlowestStepDuration < smtp.DefaultSlowStepThreshold {
		t.Fatalf("slowest step %q after %v, want %q after at least %v", r.SlowestStep, r.SlowestStepDuration, smtp.StepRcpt, smtp.DefaultSlowStepThreshold)
	}
	if rcpt := r.Step(smtp.StepRcpt); rcpt == nil || rcpt.Duration < l.RcptDelay {
		t.Fatalf("RCPT step %+v, want it to take at least Postfix's %v", rcpt, l.RcptDelay)
	}
	if len(r.Recipients) != 1 || !r.Recipients[0].Accepted {
		t.Fatalf("recipients %+v, want postmaster@%s accepted", r.Recipients, l.Domain)
	}
	if r.Relay == nil || r.Relay.Verdict != smtp.RelayRefused {
		t.Fatalf("relay check %+v, want refused", r.Relay)
	}
	serverSaw(t, log, ip)
}

// TestSTARTTLSRefused: Postfix offers STARTTLS and answers it "454 4.7.0 TLS
// not available due to local problem". In opportunistic mode the probe
// records the refusal and goes on in clear in the same session, as a sending
// MTA at level "may" does, and succeeds; with STARTTLS required it fails as
// starttls_failed and sends no envelope in clear.
func TestSTARTTLSRefused(t *testing.T) {
	t.Parallel()
	env := testenv.Require(t)
	env.LogOnFailure(t)
	l := env.Listener("mx.notls.test")
	log := env.FollowMaillog(t)
	ips := clientIPs(2)

	t.Run("opportunistic", func(t *testing.T) {
		r := probeFrom(t, l.Domain, ips[0], nil)
		if !r.Success {
			t.Fatalf("reason %q (%s), want success: opportunistic TLS is not an expectation", r.Reason, r.Detail)
		}
		f := r.TLSFailure
		if f == nil || f.Stage != smtp.TLSRefused || f.Reply.Code != 454 || f.Reply.Enhanced != "4.7.0" || !f.Fallback {
			t.Fatalf("TLS failure %+v, want refused with 454 4.7.0 and a fallback to plaintext", f)
		}
		if r.TLS != nil || r.ExtensionsTLS != nil {
			t.Fatalf("TLS %+v, EHLO in TLS %+v; want no TLS session", r.TLS, r.ExtensionsTLS)
		}
		if len(r.Recipients) != 1 || !r.Recipients[0].Accepted {
			t.Fatalf("recipients %+v, want postmaster@%s accepted in clear", r.Recipients, l.Domain)
		}
		if r.Relay == nil || r.Relay.Verdict != smtp.RelayRefused {
			t.Fatalf("relay check %+v, want measured and refused", r.Relay)
		}
		// One session: STARTTLS refused once, then the envelope in clear.
		if counters := serverSaw(t, log, ips[0]); !hasCounter(counters, "starttls=0/1") || !hasCounter(counters, "rcpt=1/2") {
			t.Fatalf("Postfix saw %q from the probe, want starttls=0/1 and rcpt=1/2 in the same session", counters)
		}
	})
	t.Run("required", func(t *testing.T) {
		r := probeFrom(t, l.Domain, ips[1], func(s *Settings) { s.SMTP.StartTLS = smtp.StartTLSRequired })
		if r.Success || r.Reason != smtp.ReasonStartTLSFailed {
			t.Fatalf("success %v, reason %q (%s); want failure starttls_failed", r.Success, r.Reason, r.Detail)
		}
		if f := r.TLSFailure; f != nil && f.Fallback {
			t.Fatalf("TLS failure %+v: no fallback to plaintext when STARTTLS is required", f)
		}
		if len(r.Recipients) != 0 || r.Relay != nil {
			t.Fatalf("recipients %+v, relay %+v: with STARTTLS required nothing goes in clear", r.Recipients, r.Relay)
		}
		if counters := serverSaw(t, log, ips[1]); !hasCounter(counters, "starttls=0/1") || strings.Contains(counters, "mail=") {
			t.Fatalf("Postfix saw %q from the probe, want starttls=0/1 and no MAIL", counters)
		}
	})
}
