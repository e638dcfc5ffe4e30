package dane

import (
	"crypto/x509"
	"fmt"
	"slices"
	"time"
)

// Mode is a module's DANE setting.
type Mode string

// The modes. Enforce is the default: a DANE failure fails the probe, because
// a sender that validates DANE (Postfix or Exim with DANE on, the large
// providers) will not deliver. Report keeps every DANE fact but lets the
// probe succeed; off skips the TLSA lookup.
const (
	ModeEnforce Mode = "enforce"
	ModeReport  Mode = "report"
	ModeOff     Mode = "off"
)

// Modes lists the valid modes, for configuration checks and documentation.
var Modes = []Mode{ModeEnforce, ModeReport, ModeOff}

// Status is the DANE verdict for one address, as a DANE-validating sender
// would reach it. The set is fixed and documented; it is a label value.
type Status string

// The statuses. Those for which Failure is true are the ones where a DANE
// sender defers mail.
const (
	// StatusNotChecked: no trusted validating resolver (dns.trust_ad off,
	// or its self-check fails), so nothing is known: never a pass.
	StatusNotChecked Status = "not_checked"
	// StatusInsecure: the host's address records or its TLSA RRset are not
	// DNSSEC-secure, so DANE does not apply (RFC 7672 section 2.2).
	StatusInsecure Status = "insecure"
	// StatusNoTLSA: a secure denial: the host publishes no TLSA records.
	StatusNoTLSA Status = "no_tlsa"
	// StatusNoUsableRecords: TLSA records exist but none is usable on port
	// 25 (PKIX usages, malformed records): TLS without authentication
	// (RFC 7672 section 2.2), not a failure.
	StatusNoUsableRecords Status = "no_usable_records"
	// StatusPass: a usable record matches the presented chain.
	StatusPass Status = "pass"
	// StatusMismatch: usable records exist and none matches.
	StatusMismatch Status = "mismatch"
	// StatusTANotSent: the only usable records are DANE-TA digests and the
	// server did not send the trust anchor they name.
	StatusTANotSent Status = "ta_not_sent"
	// StatusDigestMismatch: a SHA2-256 record matches, but the SHA2-512
	// records of the same usage and selector do not (RFC 7671 section 9).
	StatusDigestMismatch Status = "digest_mismatch"
	// StatusTLSABogus: the TLSA lookup failed DNSSEC validation.
	StatusTLSABogus Status = "tlsa_bogus"
	// StatusTLSALookupFailed: the TLSA lookup failed otherwise (SERVFAIL
	// that is not bogus, timeout): a DANE sender cannot tell and defers.
	StatusTLSALookupFailed Status = "tlsa_lookup_failed"
	// StatusStartTLSMissing: usable TLSA records, but the server does not
	// offer STARTTLS; a DANE sender never falls back to plaintext.
	StatusStartTLSMissing Status = "starttls_missing"
	// StatusTLSFailed: usable TLSA records, STARTTLS offered, but no TLS
	// session came of it (refused, handshake failed).
	StatusTLSFailed Status = "tls_failed"
	// StatusNotReached: the dialogue ended before STARTTLS for another
	// reason (connect refused, banner rejected…): undecided.
	StatusNotReached Status = "not_reached"
)

// Statuses lists every status, for documentation and exporting.
var Statuses = []Status{
	StatusNotChecked, StatusInsecure, StatusNoTLSA, StatusNoUsableRecords,
	StatusPass, StatusMismatch, StatusTANotSent, StatusDigestMismatch,
	StatusTLSABogus, StatusTLSALookupFailed, StatusStartTLSMissing,
	StatusTLSFailed, StatusNotReached,
}

// Failure reports whether a DANE-validating sender defers mail to the
// address.
func (s Status) Failure() bool {
	switch s {
	case StatusMismatch, StatusTANotSent, StatusDigestMismatch,
		StatusTLSABogus, StatusTLSALookupFailed, StatusStartTLSMissing, StatusTLSFailed:
		return true
	}
	return false
}

// Policy is what DNS says about DANE for one MX host: the input of the SMTP
// dialogue of each of its addresses. The probe engine builds it from the
// DNSSEC state of the host's addresses and its TLSA lookup.
type Policy struct {
	Mode Mode
	// Status is decided before any dialogue when DNS alone decides it
	// (not_checked, insecure, no_tlsa, tlsa_bogus, tlsa_lookup_failed); it
	// is "" when Records are to be judged against the presented chain.
	Status Status
	// Detail says in words why, for the report: "no validating resolver",
	// "TLSA lookup of _25._tcp.mx.example.com: SERVFAIL, and an answer with
	// the CD bit set: DNSSEC validation failed".
	Detail string
	// TLSAName is the name the records came from (after CNAMEs): for the
	// report.
	TLSAName string
	// BaseDomain is the TLSA base domain (RFC 7671 section 7): the MX host,
	// or the final target of its secure CNAME chain. It is the SNI of the
	// handshake when DANE applies.
	BaseDomain string
	// Names are the reference identifiers for DANE-TA: the base domain and
	// the MX host name (RFC 7672 section 3.2.2).
	Names []string
	// Records is the secure TLSA RRset as looked up, malformed and unusable
	// records included.
	Records []TLSA
}

// Applies reports whether DANE authentication applies to the host: the
// records are secure and at least one is usable. TLS is then mandatory
// and the SNI is the base domain (RFC 7672 section 2.2, 8.1).
func (p *Policy) Applies() bool {
	if p == nil || p.Mode == ModeOff || p.Status != "" {
		return false
	}
	return slices.ContainsFunc(p.Records, func(r TLSA) bool { return r.Class() == ClassUsable })
}

// Check is the DANE outcome of one address: its policy, and the judgement of
// the presented chain when there was one.
type Check struct {
	Mode       Mode
	Status     Status
	Detail     string // in words, for the report; may name records, never server text
	TLSAName   string
	BaseDomain string
	// Result is the judgement of Policy.Records against the presented
	// chain; nil when no chain was judged (no TLS session, or DNS decided).
	Result *Result
}

// Failed reports whether the check is a DANE failure that the module
// enforces: the probe then fails.
func (c *Check) Failed() bool {
	return c != nil && c.Mode == ModeEnforce && c.Status.Failure()
}

// Decided returns the check of an address when DNS alone decides it (the
// policy's Status is set), or when the dialogue never judged a chain: the
// status given, with the policy's names.
func (p *Policy) Decided(s Status, detail string) *Check {
	return &Check{Mode: p.Mode, Status: s, Detail: detail, TLSAName: p.TLSAName, BaseDomain: p.BaseDomain}
}

// Judge evaluates the policy's records against the chain the server
// presented (leaf first) and says what a DANE sender concludes.
func (p *Policy) Judge(chain []*x509.Certificate, now time.Time) *Check {
	res := Evaluate(p.Records, chain, Options{Names: p.Names, Now: now})
	c := p.Decided(statusOf(res), "")
	c.Result = &res
	c.Detail = describeResult(res, c.Status)
	return c
}

// statusOf turns a record-set verdict into an address's status. A mismatch
// where every usable record is a DANE-TA record whose anchor was not sent is
// its own status: the fix is on the server (send the chain), not in DNS.
func statusOf(res Result) Status {
	switch res.Verdict {
	case Match:
		return StatusPass
	case DigestMismatch:
		return StatusDigestMismatch
	case NoUsableRecords:
		return StatusNoUsableRecords
	}
	taNotSent := false
	for _, r := range res.Records {
		if r.Outcome != NotMatched {
			continue
		}
		if r.Record.Usage != DANETA || r.TA != TANotSent {
			return StatusMismatch
		}
		taNotSent = true
	}
	if taNotSent {
		return StatusTANotSent
	}
	return StatusMismatch
}

// describeResult says the verdict in words.
func describeResult(res Result, s Status) string {
	usable, matched := res.Counts()
	switch s {
	case StatusPass:
		return fmt.Sprintf("%d of %d usable TLSA records match the presented chain", matched, usable)
	case StatusNoUsableRecords:
		return "no TLSA record is usable on port 25 (PKIX usages or malformed records): TLS without authentication"
	case StatusDigestMismatch:
		return "a SHA2-256 record matches but the SHA2-512 records of the same usage and selector do not: senders that use the strongest digest fail"
	case StatusTANotSent:
		return "the server does not send the trust anchor certificate its DANE-TA records name"
	}
	return fmt.Sprintf("none of %d usable TLSA records matches the presented chain", usable) + taWhy(res)
}

// taWhy names, for a mismatch, why the first DANE-TA record whose trust
// anchor was presented still failed: the operator then knows the fix lies
// in the chain or the names, not in DNS. "" when there is none.
func taWhy(res Result) string {
	for _, r := range res.Records {
		if r.Outcome != NotMatched || r.Record.Usage != DANETA {
			continue
		}
		var why string
		switch r.TA {
		case TAChainInvalid:
			why = "the presented chain does not lead from the leaf to its trust anchor"
		case TAChainExpired:
			why = "a certificate of the chain below its trust anchor is expired or not yet valid"
		case TANameMismatch:
			why = "the leaf carries neither the TLSA base domain nor the MX host name"
		default:
			continue
		}
		return fmt.Sprintf(" (DANE-TA %s: %s)", r.Record.Combination(), why)
	}
	return ""
}

// Counts returns how many records are usable on port 25 (matched or not)
// and how many of them match.
func (res Result) Counts() (usable, matched int) {
	for _, r := range res.Records {
		switch r.Outcome {
		case Matched:
			usable++
			matched++
		case NotMatched:
			usable++
		}
	}
	return usable, matched
}
