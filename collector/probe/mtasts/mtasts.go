// Package mtasts checks a domain's MTA-STS policy (RFC 8461) the way a
// sending MTA reads it: the _mta-sts TXT record, the policy fetched over
// HTTPS from mta-sts.<domain>, its strict parse, and which MX host names its
// mx patterns cover. It knows nothing of Prometheus, of the SMTP dialogue or
// of DNS transport: the caller looks up the TXT record and the policy host's
// addresses through its own resolver and hands them in.
package mtasts

import (
	"context"
	"crypto/x509"
	"net"
	"net/netip"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe/tlscheck"
)

// Mode is a module's MTA-STS setting (config key mta_sts).
type Mode string

// The modes. Enforce is the default: where the policy would make an
// MTA-STS sender refuse mail (an enforce policy that does not cover a live
// MX, or a covered MX whose TLS does not satisfy it), the probe fails.
// Report keeps every fact but lets the probe succeed; off looks nothing up.
const (
	ModeEnforce Mode = "enforce"
	ModeReport  Mode = "report"
	ModeOff     Mode = "off"
)

// Modes lists the valid modes, for configuration checks and documentation.
var Modes = []Mode{ModeEnforce, ModeReport, ModeOff}

// PolicyMode is the mode a published policy declares (RFC 8461 section 5).
type PolicyMode string

// The policy modes.
const (
	PolicyEnforce PolicyMode = "enforce"
	PolicyTesting PolicyMode = "testing"
	PolicyNone    PolicyMode = "none"
)

// PolicyModes lists the policy modes, for exporting a bounded label set.
var PolicyModes = []PolicyMode{PolicyEnforce, PolicyTesting, PolicyNone}

// MaxAgeLimit is the largest max_age a policy may declare (RFC 8461
// section 3.2): about one year, in seconds.
const MaxAgeLimit = 31557600

// MaxPolicyBytes caps the policy body (RFC 8461 section 3.3 suggests 64 KiB):
// a longer body is a fetch error, not a truncated policy.
const MaxPolicyBytes = 64 << 10

// TXTDefect names what is wrong with the _mta-sts TXT RRset (RFC 8461
// section 3.1). A defect disables the policy for senders.
type TXTDefect string

// The TXT defects; "" when the record is valid or absent.
const (
	TXTDuplicate TXTDefect = "duplicate"  // more than one v=STSv1 record: senders ignore them all
	TXTNoID      TXTDefect = "id_missing" // no id field
	TXTBadID     TXTDefect = "id_invalid" // id not 1-32 ALPHA/DIGIT
	TXTSyntax    TXTDefect = "syntax"     // a field that is not key=value, or a key or value of bad characters
)

// TXTDefects lists every TXT defect, for documentation and labels.
var TXTDefects = []TXTDefect{TXTDuplicate, TXTNoID, TXTBadID, TXTSyntax}

// TXT is the reading of a domain's _mta-sts TXT RRset.
type TXT struct {
	// Records counts the records that start with "v=STSv1" (others are
	// ignored): 0 means no policy is published.
	Records int
	Valid   bool      // exactly one, well formed, with a valid id
	ID      string    // the id when Valid
	Defect  TXTDefect // the first defect found; "" when Valid or Records is 0
	Detail  string    // the defect in words, quoting the record (capped)
}

// Defect names what is wrong with a fetched policy. Fatal ones make the
// policy invalid: a sender treats the domain as having no usable policy.
// The others are warnings.
type Defect string

// The policy defects.
const (
	DefectVersionMissing Defect = "version_missing" // no version line (fatal)
	DefectVersionInvalid Defect = "version_invalid" // version not STSv1 (fatal)
	DefectModeMissing    Defect = "mode_missing"    // no mode line (fatal)
	DefectModeInvalid    Defect = "mode_invalid"    // mode not enforce, testing or none (fatal)
	DefectMaxAgeMissing  Defect = "max_age_missing" // no max_age line (fatal)
	DefectMaxAgeInvalid  Defect = "max_age_invalid" // not a plain integer, or above MaxAgeLimit (fatal)
	DefectMXMissing      Defect = "mx_missing"      // no mx line while mode is not none (fatal)
	DefectMXInvalid      Defect = "mx_invalid"      // an mx pattern that is no host name or "*." wildcard; the pattern is dropped (fatal: senders differ)
	DefectLineInvalid    Defect = "line_invalid"    // a line that is not "key: value" (fatal)
	// Warnings.
	DefectMaxAgeShort    Defect = "max_age_short"             // enforce mode with max_age under a week (RFC 8461 section 3.2 expects weeks)
	DefectContentType    Defect = "content_type"              // Content-Type is not text/plain (section 3.2); many senders still accept it
	DefectChangedUnderID Defect = "changed_without_id_change" // the body changed while the TXT id did not: senders keep the old one (section 8.1)
)

// Defects lists every defect, for documentation and labels.
var Defects = []Defect{
	DefectVersionMissing, DefectVersionInvalid, DefectModeMissing, DefectModeInvalid,
	DefectMaxAgeMissing, DefectMaxAgeInvalid, DefectMXMissing, DefectMXInvalid, DefectLineInvalid,
	DefectMaxAgeShort, DefectContentType, DefectChangedUnderID,
}

// Policy is a parsed policy body (RFC 8461 section 3.2).
type Policy struct {
	Version string     // "STSv1"; "" when missing or invalid
	Mode    PolicyMode // "" when missing or invalid
	MaxAge  int64      // seconds; -1 when missing or invalid
	MX      []string   // the valid mx patterns in order, lower case, no trailing dot, duplicates dropped, at most MaxMXPatterns
}

// FetchError names why a policy fetch gave no policy body.
type FetchError string

// The fetch errors; "" when a 200 with a body within MaxPolicyBytes came.
const (
	FetchNoAddress    FetchError = "no_address"     // mta-sts.<domain> has no address (or its lookup failed)
	FetchConnect      FetchError = "connect_failed" // no TCP connection to any address
	FetchTLSHandshake FetchError = "tls_failed"     // the TLS handshake failed
	FetchTLSVerify    FetchError = "tls_verify_failed"
	FetchHTTP         FetchError = "http_error"  // malformed HTTP, or the connection closed mid-answer
	FetchRedirect     FetchError = "redirect"    // a 3xx: never followed (section 3.3)
	FetchStatus       FetchError = "http_status" // any other status than 200 and 3xx
	FetchTooLarge     FetchError = "body_too_large"
	FetchTimeout      FetchError = "timeout"
)

// FetchErrors lists every fetch error, for documentation and labels.
var FetchErrors = []FetchError{
	FetchNoAddress, FetchConnect, FetchTLSHandshake, FetchTLSVerify, FetchHTTP,
	FetchRedirect, FetchStatus, FetchTooLarge, FetchTimeout,
}

// Fetch is one HTTPS request for a policy.
type Fetch struct {
	URL         string    // https://mta-sts.<domain>/.well-known/mta-sts.txt
	Addr        string    // the address that answered (or was tried last)
	Start       time.Time // when the fetch began
	Duration    time.Duration
	Status      int    // HTTP status; 0 when none came
	ContentType string // as sent, capped; "" when none
	Location    string // of a 3xx, capped, for the report only
	// TLS is the policy host's certificate, verified for mta-sts.<domain>
	// against the module's CA pool; nil when no certificate came. It is
	// kept (Verified false) when the fetch stopped because it does not
	// verify.
	TLS    *tlscheck.Info
	Size   int        // body bytes read
	Err    FetchError // "" on success
	Detail string     // the error in words
}

// State is what a domain's policy is known to be: the last fetch and the
// policy it brought, as the cache keeps it.
type State struct {
	Fetch   Fetch
	Policy  *Policy  // nil when the fetch failed
	Defects []Defect // of the body, the content type and the change check
	Valid   bool     // fetched, and no fatal defect
	ID      string   // the TXT id the fetch was made for
	Digest  [32]byte // SHA-256 of the body, to tell a changed policy
	// Cached is true when this State was served from the cache rather than
	// fetched for this probe.
	Cached bool
	// Narrowed is set by a fetch that left out an address of the policy
	// host because the caller may not dial it (/probe's
	// resolved_addresses): its outcome is that caller's, not the policy
	// host's, and the Cache keeps it for no other caller.
	Narrowed bool
}

// FetchOptions say where and how to fetch a domain's policy.
type FetchOptions struct {
	Domain string // the policy domain, lower case, no trailing dot
	// Addrs are the addresses of mta-sts.<domain>, looked up by the caller
	// through its configured resolvers (never the system's); tried in order.
	Addrs []netip.Addr
	// RootCAs verify the policy host's certificate; nil uses the system pool.
	RootCAs *x509.CertPool
	// DialContext opens the TCP connection; nil uses a net.Dialer.
	DialContext func(ctx context.Context, network, address string) (net.Conn, error)
	Now         func() time.Time // nil: time.Now
	// Port is the TCP port to dial, for tests against a server on a free
	// loopback port; 0 means 443, the only port RFC 8461 allows.
	Port uint16
}

// Status is a domain's MTA-STS verdict as an MTA-STS sender would reach it.
// The set is fixed and documented; it is a label value.
type Status string

// The statuses.
const (
	StatusNoPolicy        Status = "no_policy"          // no v=STSv1 TXT record: nothing to check
	StatusTXTLookupFailed Status = "txt_lookup_failed"  // the TXT lookup failed (SERVFAIL, timeout): senders go on with what they cached
	StatusTXTInvalid      Status = "txt_invalid"        // duplicate records or a bad id: senders ignore the policy
	StatusUnfetchable     Status = "policy_unfetchable" // TXT present, policy not fetched: new senders fail open (warning)
	StatusInvalid         Status = "policy_invalid"     // fetched, with a fatal defect: senders ignore it
	StatusModeNone        Status = "mode_none"          // the policy says mode none: no MTA-STS
	StatusPass            Status = "pass"               // every MX covered, every covered address's TLS satisfies the policy
	StatusMXUncovered     Status = "mx_uncovered"       // a live MX matches no mx pattern
	StatusMXTLSInvalid    Status = "mx_tls_invalid"     // a covered MX address without STARTTLS or a certificate that verifies
)

// Statuses lists every status, for documentation and labels.
var Statuses = []Status{
	StatusNoPolicy, StatusTXTLookupFailed, StatusTXTInvalid, StatusUnfetchable, StatusInvalid,
	StatusModeNone, StatusPass, StatusMXUncovered, StatusMXTLSInvalid,
}

// TLSStatus is whether one covered MX address's TLS satisfies a policy
// (RFC 8461 section 4.2): STARTTLS, TLS 1.2 or later, a certificate that
// verifies for the MX host name.
type TLSStatus string

// The TLS statuses.
const (
	TLSValid           TLSStatus = "valid"
	TLSStartTLSMissing TLSStatus = "starttls_missing" // not offered
	TLSStartTLSFailed  TLSStatus = "starttls_failed"  // refused, or the handshake failed
	TLSCertInvalid     TLSStatus = "certificate_invalid"
	TLSVersionTooOld   TLSStatus = "tls_version_too_old"
	TLSNotReached      TLSStatus = "not_reached" // the dialogue ended before STARTTLS (connect or greeting failed), or the module does not try STARTTLS
)

// TLSStatuses lists every TLS status, for documentation and labels.
var TLSStatuses = []TLSStatus{TLSValid, TLSStartTLSMissing, TLSStartTLSFailed, TLSCertInvalid, TLSVersionTooOld, TLSNotReached}
