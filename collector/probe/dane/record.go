// Package dane judges TLSA records (RFC 6698, updated by RFC 7671) against the
// certificate chain an SMTP server presented after STARTTLS, the way a
// DANE-validating sending MTA does (RFC 7672). It is part of the probe engine:
// pure functions over crypto/x509, no network, no DNS, no Prometheus. Looking
// up the records (and deciding that they are DNSSEC-secure) is the caller's
// business; this package takes the records as given.
//
// The pieces: TLSA is one record, with Validate and Class telling a malformed
// record and one unusable on port 25 from a usable one; Evaluate matches a
// set of records against a presented chain and returns a per-record result,
// the overall Verdict and the rollover readiness; Data computes a record's
// association data from a certificate, for tests and test environments that
// publish records.
package dane

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Usage is a TLSA certificate usage (RFC 6698 section 2.1.1; acronyms from
// RFC 7218).
type Usage uint8

// The certificate usages. Only DANE-TA and DANE-EE are usable for SMTP
// (RFC 7672 section 3.1.3): a sending MTA has no common set of public CAs
// with every receiver, so the PKIX usages cannot be relied upon.
const (
	PKIXTA Usage = 0
	PKIXEE Usage = 1
	DANETA Usage = 2
	DANEEE Usage = 3
)

// Selector says which part of a certificate a record is about (RFC 6698
// section 2.1.2).
type Selector uint8

// The selectors.
const (
	SelectorCert Selector = 0 // the full certificate, DER
	SelectorSPKI Selector = 1 // the SubjectPublicKeyInfo, DER
)

// MatchingType says how the selected bytes are presented in the record (RFC
// 6698 section 2.1.3).
type MatchingType uint8

// The matching types.
const (
	MatchFull   MatchingType = 0 // the bytes themselves
	MatchSHA256 MatchingType = 1 // their SHA2-256 digest, 32 bytes
	MatchSHA512 MatchingType = 2 // their SHA2-512 digest, 64 bytes
)

// TLSA is one TLSA record: three parameters and the certificate association
// data (RFC 6698 section 2.1).
type TLSA struct {
	Usage        Usage
	Selector     Selector
	MatchingType MatchingType
	Data         []byte
}

// The reasons a record is malformed, for errors.Is. A record with an unknown
// parameter is "unusable" in RFC 7671's words (section 4.1) and a client
// ignores it; the probe names it so that the operator learns which field is
// wrong instead of seeing a record that silently never counts.
var (
	ErrUnknownUsage        = errors.New("unknown certificate usage")
	ErrUnknownSelector     = errors.New("unknown selector")
	ErrUnknownMatchingType = errors.New("unknown matching type")
	ErrDigestLength        = errors.New("digest length does not fit the matching type")
	ErrEmptyData           = errors.New("empty certificate association data")
)

// Validate says why the record is malformed, or nil. The digest lengths are
// those of the hash functions RFC 6698 section 2.1.3 names (32 bytes for
// SHA2-256, 64 for SHA2-512); a record of another length can never match,
// and RFC 7671 section 9 counts on clients being able to tell the digests
// apart. A full (matching type 0) record must carry data.
func (r TLSA) Validate() error {
	if r.Usage > DANEEE {
		return fmt.Errorf("%w %d", ErrUnknownUsage, r.Usage)
	}
	if r.Selector > SelectorSPKI {
		return fmt.Errorf("%w %d", ErrUnknownSelector, r.Selector)
	}
	switch r.MatchingType {
	case MatchFull:
		if len(r.Data) == 0 {
			return ErrEmptyData
		}
	case MatchSHA256, MatchSHA512:
		if want := digestLen(r.MatchingType); len(r.Data) != want {
			return fmt.Errorf("%w: %d bytes for matching type %d, want %d", ErrDigestLength, len(r.Data), r.MatchingType, want)
		}
	default:
		return fmt.Errorf("%w %d", ErrUnknownMatchingType, r.MatchingType)
	}
	return nil
}

func digestLen(m MatchingType) int {
	if m == MatchSHA512 {
		return sha512.Size
	}
	return sha256.Size
}

// Class is what a record can be used for on port 25.
type Class int

// The classes. A malformed record is reported as such before anything else,
// even with a PKIX usage: the operator should fix it either way.
const (
	ClassUsable    Class = iota // DANE-TA or DANE-EE, well formed
	ClassUnusable               // PKIX-TA or PKIX-EE: never DANE for SMTP (RFC 7672 section 3.1.3)
	ClassMalformed              // Validate fails
)

func (c Class) String() string {
	switch c {
	case ClassUsable:
		return "usable"
	case ClassUnusable:
		return "unusable"
	case ClassMalformed:
		return "malformed"
	}
	return "class(" + strconv.Itoa(int(c)) + ")"
}

// Class classifies the record for SMTP.
func (r TLSA) Class() Class {
	if r.Validate() != nil {
		return ClassMalformed
	}
	if r.Usage == PKIXTA || r.Usage == PKIXEE {
		return ClassUnusable
	}
	return ClassUsable
}

// Combination is a record's (usage, selector, matching type): the unit of
// RFC 7671 section 8's rollover rule.
type Combination struct {
	Usage        Usage
	Selector     Selector
	MatchingType MatchingType
}

func (c Combination) String() string {
	return fmt.Sprintf("%d %d %d", c.Usage, c.Selector, c.MatchingType)
}

// Combination is the record's parameters without the data.
func (r TLSA) Combination() Combination {
	return Combination{r.Usage, r.Selector, r.MatchingType}
}

// String is the record in presentation format, as a zone file holds it:
// "3 1 1 " and the data in upper-case hex (RFC 6698 section 2.2).
func (r TLSA) String() string {
	return fmt.Sprintf("%d %d %d %s", r.Usage, r.Selector, r.MatchingType, strings.ToUpper(hex.EncodeToString(r.Data)))
}

// ParseTLSA reads a record in presentation format: three decimal fields and
// the data in hex, which may be split by white space (RFC 6698 section 2.2).
// It checks only the syntax; Validate judges the values, so that a record a
// resolver returned with, say, usage 4 is still reported, not dropped.
func ParseTLSA(s string) (TLSA, error) {
	f := strings.Fields(s)
	if len(f) < 4 {
		return TLSA{}, fmt.Errorf("tlsa %q: want usage, selector, matching type and data", s)
	}
	var p [3]uint8
	for i := range p {
		n, err := strconv.ParseUint(f[i], 10, 8)
		if err != nil {
			return TLSA{}, fmt.Errorf("tlsa %q: field %d: not a number from 0 to 255", s, i+1)
		}
		p[i] = uint8(n)
	}
	data, err := hex.DecodeString(strings.Join(f[3:], ""))
	if err != nil {
		return TLSA{}, fmt.Errorf("tlsa %q: data: not hex", s)
	}
	return TLSA{Usage(p[0]), Selector(p[1]), MatchingType(p[2]), data}, nil
}
