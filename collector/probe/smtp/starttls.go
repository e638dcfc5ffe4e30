package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/dnsname"
	"github.com/mx-exporter/mx_exporter/collector/probe/dane"
	"github.com/mx-exporter/mx_exporter/collector/probe/tlscheck"
)

// clearNote is what the transcript says whenever opportunistic TLS fails:
// the consequence, in the words an admin would use.
const clearNote = "TLS failed, mail would travel in clear"

// startTLS upgrades the session when the server offers STARTTLS and the
// STARTTLS mode in effect (tlsMode) is not off. It reports whether the
// dialogue goes on in this session: in TLS, or in plaintext after a refusal
// in opportunistic mode. After a failed handshake in opportunistic mode it
// returns false with d.plainRetry set and no Reason: the caller starts
// again without STARTTLS.
func (d *dialogue) startTLS() bool {
	mode := d.tlsMode()
	if mode == StartTLSOff {
		return true
	}
	if !d.res.Extensions.Has("STARTTLS") {
		masked := ""
		if d.found.has(FindingMiddleboxSTARTTLS) {
			masked = " (a middlebox masked it)"
		}
		if d.daneApplies {
			d.daneDecide(dane.StatusStartTLSMissing, "usable TLSA records, but the server does not advertise STARTTLS"+masked+
				": a DANE sender never falls back to plaintext")
			if d.daneEnforced() {
				// No envelope in clear: a DANE sender would not send one.
				d.reject(ReasonDANEStartTLSMissing, "DANE: usable TLSA records, but the server does not advertise STARTTLS"+masked+
					"; DANE senders never fall back to plaintext, they defer mail")
				return false
			}
		}
		if mode == StartTLSRequired {
			d.reject(ReasonStartTLSMissing, "STARTTLS is required but the server does not advertise it"+masked)
			return false
		}
		return true
	}
	rep, err := d.exchange(StepStartTLS, "STARTTLS")
	if err != nil {
		d.abort(StepStartTLS, err)
		return false
	}
	if rep.Code != 220 {
		return d.tlsRefused(rep)
	}
	if n := d.rd.Buffered(); n > 0 {
		// Anything the server sent before our ClientHello is not
		// protected by TLS (CVE-2011-0411): the session cannot be trusted
		// in either protocol, so no QUIT either.
		cause := fmt.Sprintf("the server sent %d bytes after its 220 to STARTTLS, before the TLS handshake (a command-injection risk)", n)
		d.markStep("unprotected data after 220")
		return d.tlsBroken(rep, cause)
	}
	tc, ok := d.handshake(rep)
	if !ok {
		return false
	}
	d.attach(tc)
	if !d.daneJudge(tc.ConnectionState().PeerCertificates) {
		return false
	}
	if d.opts.RequireVerifiedTLS && !d.res.TLS.Verified {
		// The handshake itself went through: its step stays clean, the
		// why is in TLS.VerifyError.
		d.fail(ReasonTLSVerifyFailed, fmt.Sprintf("certificate not verified for %s: %s", d.tlsName(), d.res.TLS.VerifyError))
		d.politeQuit(true)
		return false
	}

	rep, err = d.exchange(StepEHLOTLS, "EHLO "+d.opts.EHLOName)
	if err != nil {
		d.abort(StepEHLOTLS, err)
		return false
	}
	if rep.Class() != 2 {
		d.reject(ReasonEHLORejected, "EHLO after STARTTLS refused: "+rep.String())
		return false
	}
	d.res.ExtensionsTLS = sharedExtensions.parse(rep)
	// After TLS nothing from before counts (RFC 3207 4.2): only this
	// EHLO says whether the server takes a pipelined group.
	d.pipeOffered = d.res.ExtensionsTLS.Has("PIPELINING")
	return true
}

// handshake runs the TLS handshake after the 220 (ready) to STARTTLS and
// records the TLS facts. On failure it records why and returns false.
func (d *dialogue) handshake(ready Reply) (*tls.Conn, bool) {
	name := d.tlsName()
	// SMTP delivers over TLS whatever the certificate (RFC 3207 4.1), so
	// the handshake does not verify; tlscheck verifies afterwards and turns
	// the outcome into a fact, and DANE judges the chain on its own terms.
	// TLS 1.0 is allowed so that an old server is reported as such rather
	// than as a failed handshake.
	cfg := &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10} //nolint:gosec // verified by tlscheck and DANE
	if sni := d.sniName(); net.ParseIP(sni) == nil {
		cfg.ServerName = sni
	}
	tc := tls.Client(d.raw, cfg)
	d.arm()
	start := time.Now()
	err := tc.HandshakeContext(d.ctx)
	st := Step{Name: StepTLSHandshake, Duration: time.Since(start)}
	if err != nil {
		timedOut := d.ctx.Err() != nil || isTimeout(err)
		cause := plainError(err, "TLS handshake", d.deadline.Sub(start), timedOut)
		if errors.Is(d.ctx.Err(), context.Canceled) {
			cause = "probe cancelled during the TLS handshake"
		}
		st.Err = cause
		d.res.Steps = append(d.res.Steps, st)
		if timedOut {
			// The deadline is spent: no time left for a plaintext retry.
			d.res.TLSFailure = &TLSFailure{Stage: TLSHandshake, Reply: ready, Cause: cause}
			d.fail(ReasonTimeout, cause)
			return nil, false
		}
		return nil, d.tlsBroken(ready, cause)
	}
	d.res.Steps = append(d.res.Steps, st)

	info := tlscheck.Inspect(tc.ConnectionState(), name, d.opts.RootCAs, time.Now())
	d.res.TLS = info
	if info.Verified {
		d.tr.note("%s %s, certificate verified for %s", info.Version, info.CipherSuite, name)
	} else {
		d.tr.note("%s %s, certificate not verified for %s: %s", info.Version, info.CipherSuite, name, info.VerifyError)
	}
	return tc, true
}

// tlsRefused handles a 4xx/5xx to STARTTLS (421 aside, which ends the
// session). In opportunistic mode (tlsMode: never where DANE is enforced)
// the session goes on in plaintext, with the extensions of the EHLO before:
// nothing changed, so no second EHLO.
func (d *dialogue) tlsRefused(rep Reply) bool {
	cause := rep.String()
	fallback := d.tlsMode() == StartTLSOpportunistic
	d.res.TLSFailure = &TLSFailure{Stage: TLSRefused, Reply: rep, Cause: cause, Fallback: fallback}
	if d.daneApplies {
		d.daneDecide(dane.StatusTLSFailed, "STARTTLS is offered but refused: no TLS session, and a DANE sender never falls back to plaintext")
	}
	if !fallback {
		d.reject(ReasonStartTLSFailed, "STARTTLS refused: "+cause+d.daneTLSDefers())
		return false
	}
	d.markStep("STARTTLS refused: " + cause)
	d.tr.note("STARTTLS refused (%s): %s; going on in plaintext", cause, clearNote)
	return true
}

// tlsBroken handles a session that STARTTLS left unusable: neither
// plaintext nor TLS any more, so no QUIT. In opportunistic mode (tlsMode:
// never where DANE is enforced) it asks for a plaintext retry on a new
// connection; otherwise it is starttls_failed.
func (d *dialogue) tlsBroken(ready Reply, cause string) bool {
	fallback := d.tlsMode() == StartTLSOpportunistic
	d.res.TLSFailure = &TLSFailure{Stage: TLSHandshake, Reply: ready, Cause: cause, Fallback: fallback}
	if d.daneApplies {
		d.daneDecide(dane.StatusTLSFailed, "no TLS session came of STARTTLS (see the TLS failure), and a DANE sender never falls back to plaintext")
	}
	if !fallback {
		d.fail(ReasonStartTLSFailed, cause+d.daneTLSDefers())
		return false
	}
	d.tr.note("%s: %s", cause, clearNote)
	d.plainRetry = true
	return false
}

// tlsName is the name the certificate must be valid for.
func (d *dialogue) tlsName() string {
	if d.opts.TLSServerName != "" {
		return d.opts.TLSServerName
	}
	if h := dnsname.Normalize(d.res.Host); h != "" {
		return h
	}
	return d.res.Addr
}
