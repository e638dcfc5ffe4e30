package smtp

// DANE in the dialogue (RFC 7672). The probe engine decides from DNS what it
// can (Options.DANE); the dialogue adds what only the session shows: whether
// STARTTLS is offered, whether a TLS session comes of it, and what the
// presented chain makes of the records. A dialogue follows a DANE-validating
// sender where it would stop, and only as far as the module's mode says.

import (
	"crypto/x509"
	"fmt"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/dnsname"
	"github.com/mx-exporter/mx_exporter/collector/probe/dane"
)

// daneDefers is the consequence a DANE failure's Detail ends with, in
// enforce mode: why the probe fails although an ordinary sender would
// deliver.
const daneDefers = "; DANE senders defer mail"

// activePolicy is the policy the dialogue applies: nil when the module does
// not look at DANE. An empty mode counts as off, as in the probe's settings.
func activePolicy(p *dane.Policy) *dane.Policy {
	if p == nil || p.Mode == dane.ModeOff || p.Mode == "" {
		return nil
	}
	return p
}

// daneEnforced: DANE applies to the host and its failures fail the dialogue.
func (d *dialogue) daneEnforced() bool {
	return d.daneApplies && d.dane.Mode == dane.ModeEnforce
}

// tlsMode is the STARTTLS mode in effect. Where DANE applies, TLS is
// mandatory (RFC 7672 section 2.2): in enforce mode the dialogue goes no
// further without it, as a DANE sender would not; in report mode STARTTLS
// is tried even when the module turns it off, so that the chain can be
// judged, and a failure keeps the module's own behaviour.
func (d *dialogue) tlsMode() StartTLS {
	switch {
	case !d.daneApplies:
		return d.opts.StartTLS
	case d.dane.Mode == dane.ModeEnforce:
		return StartTLSRequired
	case d.opts.StartTLS == StartTLSOff:
		return StartTLSOpportunistic
	}
	return d.opts.StartTLS
}

// sniName is the name sent in the TLS handshake's SNI: the TLSA base domain
// where DANE applies (RFC 7672 section 8.1), so that a server with several
// certificates presents the one its records are about; else the name the
// certificate is checked against.
func (d *dialogue) sniName() string {
	if d.daneApplies {
		if b := dnsname.Normalize(d.dane.BaseDomain); b != "" {
			return b
		}
	}
	return d.tlsName()
}

// daneStart notes what DNS said before anything is sent. A status DNS
// decided changes nothing in the dialogue: STARTTLS is tried as the module
// says, with the usual SNI, because the session's other facts are worth as
// much as ever, and its failure (tlsa_bogus, tlsa_lookup_failed) is judged
// at the end, after any failure of the session itself.
func (d *dialogue) daneStart() {
	p := d.dane
	switch {
	case p == nil:
	case p.Status != "":
		d.res.DANE = p.Decided(p.Status, p.Detail)
		if d.res.DANE.Status.Failure() {
			d.tr.note("DANE %s: %s; a DANE sender defers mail without connecting; the dialogue runs for its other facts", p.Status, p.Detail)
		} else {
			d.daneNote(d.res.DANE)
		}
	case d.daneApplies:
		usable := 0
		for _, r := range p.Records {
			if r.Class() == dane.ClassUsable {
				usable++
			}
		}
		d.tr.note("DANE applies (mode %s): %d usable TLSA records, base domain %s; STARTTLS is mandatory and the SNI is the base domain",
			p.Mode, usable, d.sniName())
	default:
		d.tr.note("DANE: no TLSA record of %s is usable on port 25 (PKIX usages or malformed records): TLS without authentication",
			p.BaseDomain)
	}
}

// daneDecide records a status the session decided without judging a chain.
func (d *dialogue) daneDecide(s dane.Status, detail string) {
	d.res.DANE = d.dane.Decided(s, detail)
	d.daneNote(d.res.DANE)
}

// daneNote states the DANE verdict in the transcript, with what it means
// for the probe.
func (d *dialogue) daneNote(c *dane.Check) {
	var then string
	switch {
	case !c.Status.Failure():
	case c.Mode == dane.ModeEnforce:
		then = "; a DANE sender defers mail, so the probe fails"
	default:
		then = "; a DANE sender defers mail, but the module only reports it"
	}
	if c.Detail == "" {
		d.tr.note("DANE %s%s", c.Status, then)
		return
	}
	d.tr.note("DANE %s: %s%s", c.Status, c.Detail, then)
}

// daneJudge judges the chain the server presented against the records and
// reports whether the dialogue goes on. A failure DANE enforces ends it
// with a QUIT inside TLS: a DANE sender would send nothing more.
//
// Records that are all unusable are judged too, for their per-record
// outcomes in the report; that is never a failure.
func (d *dialogue) daneJudge(chain []*x509.Certificate) bool {
	p := d.dane
	if p == nil || p.Status != "" {
		return true
	}
	c := p.Judge(chain, time.Now())
	d.res.DANE = c
	d.daneNote(c)
	if !c.Failed() {
		return true
	}
	detail := "DANE: " + c.Detail
	if c.TLSAName != "" {
		detail += " (TLSA at " + c.TLSAName + ")"
	}
	d.fail(ReasonDANEMismatch, detail+daneDefers)
	d.politeQuit(true)
	return false
}

// daneFinish settles the DANE outcome once the dialogue is over. Where DANE
// applies and no status came of the session, it ended before a TLS session
// could be judged: not_reached, undecided. A failure DNS decided fails the
// dialogue in enforce mode, unless the session failed first: the first
// failure is the probe's Reason, as everywhere.
func (d *dialogue) daneFinish() {
	p := d.dane
	if p == nil {
		return
	}
	if d.res.DANE == nil {
		switch {
		case d.daneApplies:
			why := "no TLS session to judge"
			if d.res.Reason != ReasonNone {
				why += fmt.Sprintf(": the dialogue ended first (%s)", d.res.Reason)
			}
			d.daneDecide(dane.StatusNotReached, why)
		default:
			d.daneDecide(dane.StatusNoUsableRecords,
				"no TLSA record is usable on port 25 (PKIX usages or malformed records), and no TLS session to judge a chain")
		}
	}
	c := d.res.DANE
	if !c.Failed() || d.res.Reason != ReasonNone {
		return
	}
	detail := "DANE: " + c.Detail
	if c.Detail == "" {
		detail = "DANE: " + string(c.Status)
	}
	switch c.Status {
	case dane.StatusTLSABogus:
		d.fail(ReasonDANETLSABogus, detail+daneDefers)
	case dane.StatusTLSALookupFailed:
		d.fail(ReasonDANETLSALookupFailed, detail+daneDefers)
	}
}

// daneTLSDefers is what a starttls_failed Detail adds where DANE is
// enforced: the reason there is no plaintext retry.
func (d *dialogue) daneTLSDefers() string {
	if !d.daneEnforced() {
		return ""
	}
	return "; DANE senders defer mail rather than fall back to plaintext"
}
