package dane

import (
	"crypto/x509"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Outcome is what became of one record.
type Outcome int

// The outcomes.
const (
	Matched    Outcome = iota // a usable record that authenticates the chain
	NotMatched                // a usable record that does not
	Malformed                 // see RecordResult.Err
	Unusable                  // PKIX-TA or PKIX-EE: not DANE on port 25 (RFC 7672 section 3.1.3)
)

func (o Outcome) String() string {
	switch o {
	case Matched:
		return "matched"
	case NotMatched:
		return "not_matched"
	case Malformed:
		return "malformed"
	case Unusable:
		return "unusable"
	}
	return "outcome(" + strconv.Itoa(int(o)) + ")"
}

// TAFailure says why a DANE-TA record did not match.
type TAFailure int

// The reasons, in the order they are checked: the first that applies is the
// one reported.
const (
	TAOK TAFailure = iota
	// TANotSent: no presented certificate matches the record, and the record
	// is a digest, so the client has no trust anchor. RFC 7671 section 5.2.2
	// lets a server omit the TA only when the record is the full certificate
	// or key (matching type 0); for digests the server must send it (RFC
	// 7672 section 3.1.2). A digest record that names no presented
	// certificate is also what a pre-published next TA looks like. A full
	// record whose data does not parse as a certificate (selector 0) or a
	// SubjectPublicKeyInfo (selector 1) and matches no presented
	// certificate gives no usable TA either, and is reported so.
	TANotSent
	// TAChainInvalid: the TA is known, but no path from the leaf through the
	// presented certificates verifies to it (a signature, a missing
	// intermediate, an intermediate that is not a CA).
	TAChainInvalid
	// TAChainExpired: a path verifies, but the leaf or an intermediate is
	// outside its validity period at Options.Now.
	TAChainExpired
	// TANameMismatch: the chain is valid, but the leaf carries none of the
	// reference identifiers (RFC 7672 section 3.2.2 and 3.2.3).
	TANameMismatch
)

func (f TAFailure) String() string {
	switch f {
	case TAOK:
		return "ok"
	case TANotSent:
		return "ta_not_sent"
	case TAChainInvalid:
		return "chain_invalid"
	case TAChainExpired:
		return "chain_expired"
	case TANameMismatch:
		return "name_mismatch"
	}
	return "ta_failure(" + strconv.Itoa(int(f)) + ")"
}

// RecordResult is one record's outcome.
type RecordResult struct {
	Record  TLSA
	Outcome Outcome
	// Err is why the record is malformed (errors.Is one of the Err values of
	// this package); nil otherwise.
	Err error
	// TA is why a usable DANE-TA record did not match; TAOK otherwise.
	TA TAFailure
	// TAExpired: a DANE-TA record matched through a trust anchor certificate
	// outside its validity period. RFC 7671 does not check it (see matchTA),
	// so the record counts as matched; a report should still warn.
	TAExpired bool
}

// Verdict is what a DANE-validating sender makes of the record set.
type Verdict int

// The verdicts. Only Mismatch and DigestMismatch are failures: a sender that
// follows RFC 7672 defers mail to the host.
const (
	// NoUsableRecords: no record is usable for SMTP (none at all, or only
	// malformed and PKIX ones). RFC 7672 section 2.2 has the client use TLS
	// without authentication then: not a DANE failure, but not DANE either.
	NoUsableRecords Verdict = iota
	// Match: a usable record matches, among those a sender following RFC
	// 7671 section 9 keeps.
	Match
	// Mismatch: usable records exist and none matches the chain.
	Mismatch
	// DigestMismatch: a SHA2-256 record matches, but the SHA2-512 records of
	// the same usage and selector do not. A sender that applies RFC 7671
	// section 9's digest algorithm agility uses only the strongest digest
	// and fails, so this is a failure.
	DigestMismatch
)

func (v Verdict) String() string {
	switch v {
	case NoUsableRecords:
		return "no_usable_records"
	case Match:
		return "matched"
	case Mismatch:
		return "mismatch"
	case DigestMismatch:
		return "digest_mismatch"
	}
	return "verdict(" + strconv.Itoa(int(v)) + ")"
}

// Options are the inputs of Evaluate besides records and chain.
type Options struct {
	// Names are the reference identifiers a DANE-TA chain's leaf must carry:
	// the TLSA base domain (the MX host name, or the final target of its
	// secure CNAME chain) and the MX host name as the MX record gave it (RFC
	// 7672 section 3.2.2). DANE-EE ignores names (RFC 7671 section 5.1).
	// With no names, no DANE-TA record can match.
	Names []string
	// Now is the time DANE-TA chains are validated at; zero means time.Now().
	Now time.Time
}

// Result is the judgement of a record set against a chain.
type Result struct {
	Records []RecordResult
	Verdict Verdict
	// DigestDisagreement lists the (usage, selector) pairs, as "3 1", where
	// both SHA2-256 and SHA2-512 records are published and only one of the
	// two digests matches: checks.md D10 wants both to match. When the
	// SHA2-512 side matches it is a warning only (every sender still
	// delivers); when it does not, Verdict is DigestMismatch.
	DigestDisagreement []string
	Rollover           Rollover
}

// Rollover is RFC 7671 section 8's readiness for the next key or TA.
type Rollover struct {
	// Ready: every published (usage, selector, matching type) combination
	// has a record that matches the current chain, and at least one usable
	// record matches nothing presented (the next key or TA, published ahead
	// of use). Not ready is a warning, never a failure.
	Ready bool
	// Reason says why not, in words; empty when ready.
	Reason string
}

// Evaluate judges records against chain, the certificates exactly as the
// server sent them (leaf first). It does no PKIX validation against public
// CAs: DANE on port 25 replaces it.
func Evaluate(records []TLSA, chain []*x509.Certificate, o Options) Result {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	res := Result{Records: make([]RecordResult, len(records))}
	for i, r := range records {
		res.Records[i] = evaluateRecord(r, chain, o)
	}
	res.Verdict, res.DigestDisagreement = verdict(res.Records)
	res.Rollover = rollover(res.Records)
	return res
}

func evaluateRecord(r TLSA, chain []*x509.Certificate, o Options) RecordResult {
	rr := RecordResult{Record: r, Outcome: NotMatched}
	if err := r.Validate(); err != nil {
		rr.Outcome, rr.Err = Malformed, err
		return rr
	}
	switch r.Usage {
	case PKIXTA, PKIXEE:
		rr.Outcome = Unusable
	case DANEEE:
		// RFC 7671 section 5.1: the leaf alone; its names and validity
		// period are not looked at.
		if len(chain) > 0 && r.matches(chain[0]) {
			rr.Outcome = Matched
		}
	case DANETA:
		rr.TA, rr.TAExpired = matchTA(r, chain, o)
		if rr.TA == TAOK {
			rr.Outcome = Matched
		}
	}
	return rr
}

// verdict applies RFC 7671 section 9: per (usage, selector), a sender that
// sees both SHA2-256 and SHA2-512 records uses only the SHA2-512 ones.
func verdict(rs []RecordResult) (Verdict, []string) {
	type group struct{ usage, selector uint8 }
	type seen struct{ has256, has512, match256, match512 bool }
	groups := map[group]*seen{}
	var order []group
	usable := false
	for _, r := range rs {
		if r.Outcome != Matched && r.Outcome != NotMatched {
			continue
		}
		usable = true
		g := group{uint8(r.Record.Usage), uint8(r.Record.Selector)}
		s := groups[g]
		if s == nil {
			s = &seen{}
			groups[g] = s
			order = append(order, g)
		}
		m := r.Outcome == Matched
		switch r.Record.MatchingType {
		case MatchSHA256:
			s.has256, s.match256 = true, s.match256 || m
		case MatchSHA512:
			s.has512, s.match512 = true, s.match512 || m
		}
	}
	if !usable {
		return NoUsableRecords, nil
	}
	var disagree []string
	strong, anyMatch := false, false
	for _, r := range rs {
		if r.Outcome != Matched {
			continue
		}
		anyMatch = true
		s := groups[group{uint8(r.Record.Usage), uint8(r.Record.Selector)}]
		if r.Record.MatchingType == MatchSHA256 && s.has512 {
			continue // a §9 sender ignores it
		}
		strong = true
	}
	for _, g := range order {
		if s := groups[g]; s.has256 && s.has512 && s.match256 != s.match512 {
			disagree = append(disagree, fmt.Sprintf("%d %d", g.usage, g.selector))
		}
	}
	switch {
	case strong:
		return Match, disagree
	case anyMatch:
		return DigestMismatch, disagree
	}
	return Mismatch, disagree
}

// rollover applies RFC 7671 section 8 (and checks.md D8) to the usable
// records.
func rollover(rs []RecordResult) Rollover {
	var order []Combination
	matched := map[Combination]bool{}
	spare := false
	for _, r := range rs {
		if r.Outcome != Matched && r.Outcome != NotMatched {
			continue
		}
		c := r.Record.Combination()
		if _, ok := matched[c]; !ok {
			order = append(order, c)
		}
		matched[c] = matched[c] || r.Outcome == Matched
		// A spare is a record for a key or TA not in use yet: a DANE-EE
		// record that is not the leaf's, or a DANE-TA record that names no
		// presented certificate. A DANE-TA record whose TA is presented but
		// whose chain fails is broken, not spare.
		if r.Outcome == NotMatched && (r.Record.Usage == DANEEE || r.TA == TANotSent) {
			spare = true
		}
	}
	if len(order) == 0 {
		return Rollover{Reason: "no usable TLSA records"}
	}
	var stale []string
	for _, c := range order {
		if !matched[c] {
			stale = append(stale, c.String())
		}
	}
	if len(stale) > 0 {
		return Rollover{Reason: "no record matches the current chain for " + strings.Join(stale, ", ")}
	}
	if !spare {
		return Rollover{Reason: "no record for the next key or trust anchor is published"}
	}
	return Rollover{Ready: true}
}
