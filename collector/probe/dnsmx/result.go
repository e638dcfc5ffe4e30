// Package dnsmx resolves a mail domain to the hosts and addresses that receive
// its mail: MX records (RFC 5321 section 5.1, null MX of RFC 7505, implicit
// MX), then the A and AAAA records of every MX host.
//
// It speaks DNS itself (github.com/miekg/dns) so that every outcome a mail
// admin cares about stays distinct: NXDOMAIN is not NODATA is not SERVFAIL is
// not a timeout. It knows nothing of Prometheus.
package dnsmx

import (
	"net/netip"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe/dane"
)

// Outcome classifies one lookup.
type Outcome string

// Lookup outcomes.
const (
	OutcomeAnswer   Outcome = "answer"   // NOERROR with records of the asked type
	OutcomeNXDomain Outcome = "nxdomain" // the name does not exist
	OutcomeNoData   Outcome = "nodata"   // the name exists, no record of that type
	OutcomeServFail Outcome = "servfail" // SERVFAIL from every server
	OutcomeRefused  Outcome = "refused"  // REFUSED from every server
	OutcomeTimeout  Outcome = "timeout"  // no answer within the deadline
	OutcomeError    Outcome = "error"    // anything else: malformed answer, other rcode, network error
)

// Family is an address family a lookup may return.
type Family string

// Address families.
const (
	IPv4 Family = "ipv4"
	IPv6 Family = "ipv6"
)

// Options bound a domain resolution.
type Options struct {
	Families            []Family // which address records to ask for; empty means both
	MaxMXHosts          int      // 0 means no cap
	MaxAddressesPerHost int      // 0 means no cap
	// IgnoreSpecialAddresses turns off the reporting of MX host addresses
	// in special-purpose ranges (Host.Special): for labs and test
	// environments whose gateways live on private or loopback addresses.
	IgnoreSpecialAddresses bool
}

// Domain is the resolution of one mail domain.
type Domain struct {
	Name     string        // as asked, lower case, no trailing dot
	Outcome  Outcome       // of the MX query
	Rcode    string        // DNS rcode of the deciding answer ("NOERROR", "NXDOMAIN", …), "" without one
	Err      string        // human explanation when Outcome is not answer/nodata
	Duration time.Duration // MX lookup time, including retries
	Server   string        // the server that gave the deciding answer
	// MXSecurity is the DNSSEC state of the MX RRset (or of its secure
	// denial, for an implicit MX).
	MXSecurity Security

	// NullMX is true when the domain publishes "MX 0 ." (RFC 7505): it
	// accepts no mail. Hosts is then empty, and that is not a failure.
	NullMX bool
	// NullMXMixed is true when "MX 0 ." stands among other MX records,
	// which RFC 7505 section 3 forbids: it is ignored and the other MX
	// hosts are probed.
	NullMXMixed bool
	// Implicit is true when there was no MX record and the domain's own
	// address records stand in as an MX of preference 0 (RFC 5321 5.1).
	Implicit bool

	Hosts        []Host // by preference, then name
	HostsDropped int    // MX hosts left out by MaxMXHosts

	// Notes are findings that are not failures, for reports and debug
	// output: an "MX 0 ." among other MX records (ignored), a host listed at
	// two preferences, a domain that is an alias, an implicit MX whose
	// address lookup failed. Free text, never a label.
	Notes []string
}

// Host is one MX host and its addresses.
type Host struct {
	Name       string // lower case, no trailing dot
	Preference uint16

	Addrs        []netip.Addr // filtered by family, deduplicated, IPv4 then IPv6, each sorted; capped
	AddrsDropped int          // left out by MaxAddressesPerHost
	// Outcome is of the address lookups taken together: a failed A or AAAA
	// lookup (timeout, servfail, …) wins even when the other family brought
	// addresses, which then stay in Addrs; else answer when there is an
	// address, nxdomain when every lookup said so, nodata otherwise.
	Outcome Outcome
	Err     string // e.g. "no A or AAAA record", "NXDOMAIN"
	// CNAME is the canonical name when the MX target is an alias, which
	// RFC 2181 section 10.3 forbids; it is followed and reported.
	CNAME string
	// IPLiteral is true when the MX exchange is an IP address written as a
	// name ("MX 10 192.0.2.1."), which RFC 5321 section 5.1 does not allow:
	// most MTAs look it up as a host name and fail.
	IPLiteral bool
	// Special lists the addresses in special-purpose ranges (loopback,
	// private, link-local, documentation, unspecified…), which senders on
	// the internet cannot reach; nil with Options.IgnoreSpecialAddresses.
	Special  []SpecialAddr
	Duration time.Duration // address lookup time
	// Security is the DNSSEC state of the address records taken together:
	// secure only when every A and AAAA lookup asked was secure (an answer
	// or a secure denial), bogus when any was bogus, unknown when any
	// failed otherwise, else insecure. Empty for a host given as an IP
	// address, which nothing was looked up for.
	Security Security
}

// Security is the DNSSEC state of an answer (RFC 4035 section 4.3), as a
// trusted validating resolver tells it with the AD bit.
type Security string

// The DNSSEC states.
const (
	// SecurityUnchecked: the resolver's AD bit is not trusted (dns.trust_ad
	// is off) or its self-check failed: nothing is known.
	SecurityUnchecked Security = "unchecked"
	SecuritySecure    Security = "secure"   // AD set: validated
	SecurityInsecure  Security = "insecure" // answered without AD: unsigned, or below an insecure delegation
	// SecurityBogus: SERVFAIL, and the same question with the CD bit set
	// is answered: validation failed, so the data is signed wrongly.
	SecurityBogus Security = "bogus"
	// SecurityUnknown: the lookup failed (timeout, SERVFAIL also with CD,
	// refused…): neither state can be told.
	SecurityUnknown Security = "unknown"
)

// Securities lists every state, for documentation and exporting.
var Securities = []Security{SecurityUnchecked, SecuritySecure, SecurityInsecure, SecurityBogus, SecurityUnknown}

// Validation is the resolver self-check: whether the resolver is trusted
// (dns.trust_ad) and answers a signed name with the AD bit set, which is
// what makes Security mean anything. The resolver runs it at most once per
// validationRefresh and shares the answer between probes.
type Validation struct {
	Trusted    bool   // dns.trust_ad is on
	Validating bool   // Trusted, and CheckName came back with AD
	CheckName  string // the signed name asked, "." by default
	// Err says in words why the resolver is not validating; "" when it is
	// or when it is not trusted.
	Err     string
	Checked time.Time
	// Changed is true on the first check, and on the first check whose
	// Validating differs from the one before: the engine logs it once.
	Changed bool
}

// TLSALookup is the TLSA RRset of one MX host and port (RFC 7672 section
// 2.2), looked up at _port._tcp.<base domain>.
type TLSALookup struct {
	// BaseDomain is the TLSA base domain (RFC 7671 section 7): the final
	// target of the host's CNAME chain when that chain is secure and a
	// TLSA RRset exists there, else the host name as the MX record gave it.
	BaseDomain string
	// Name is the owner the records came from: _25._tcp.<base domain>, or
	// the final target when the TLSA name is itself an alias.
	Name     string
	Outcome  Outcome
	Rcode    string
	Security Security
	// Records are as the resolver returned them, malformed ones included;
	// empty unless Outcome is answer.
	Records []dane.TLSA
	// RecordsDropped counts the records past the cap of one RRset
	// (maxTLSARecords), which are not judged.
	RecordsDropped int
	Err            string // in words, when Outcome is not answer or nodata
	Duration       time.Duration
}

// SpecialAddr is an MX host address in a special-purpose range.
type SpecialAddr struct {
	Addr  netip.Addr
	Range string // one of SpecialRanges
}

// TXTLookup is the TXT RRset of one name (the _mta-sts and _smtp._tls
// records of a mail domain), CNAMEs followed.
type TXTLookup struct {
	Name     string // as asked, lower case, no trailing dot
	CNAME    string // the canonical name when Name is an alias; "" otherwise
	Outcome  Outcome
	Rcode    string
	Security Security
	// Records are the TXT records in answer order, each its
	// character-strings concatenated; capped in number and length
	// (maxTXTRecords, maxTXTBytes), RecordsDropped counting the rest.
	Records        []string
	RecordsDropped int
	// RecordsTruncated counts the kept records longer than maxTXTBytes,
	// kept with their first maxTXTBytes bytes: dropping one would make
	// a published policy look absent, and its tag and id come first.
	RecordsTruncated int
	Err              string // in words, when Outcome is not answer or nodata
	Duration         time.Duration
}

// PTRLookup is the reverse lookup of one address (RFC 1035 section 3.5,
// RFC 3596 section 2.5).
type PTRLookup struct {
	Addr     netip.Addr
	Name     string // the in-addr.arpa or ip6.arpa name asked, no trailing dot
	Outcome  Outcome
	Rcode    string
	Security Security
	// Names are the PTR targets that are valid host names, normalised, in
	// answer order, at most maxPTRNames; Invalid counts the targets that are
	// not host names (never kept: they are remote text), Dropped the valid
	// ones past the cap.
	Names    []string
	Invalid  int
	Dropped  int
	Err      string // in words, when Outcome is not answer or nodata
	Duration time.Duration
}
