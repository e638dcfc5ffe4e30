// Package dnsbl looks addresses and host names up in DNS blocklists (RFC
// 5782) and tells a listing from an error of the list: an answer in
// 127.255.255.0/24 (the list refuses the query: a public or open resolver,
// too many queries, a typo in the zone) or outside 127.0.0.0/8, SERVFAIL or
// a timeout is never a listing. Each zone's health is checked (section 5:
// the test entry must be listed, the "not listed" entry must not) and the
// answers of an unhealthy zone are not trusted. Answers are cached per name
// and zone, so that thousands of domains sharing an MX farm cost one query
// per address and zone. It knows nothing of Prometheus.
package dnsbl

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/dnsname"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
)

// Kind says what a zone lists.
type Kind string

// The kinds.
const (
	KindAddress Kind = "address" // IPv4 and IPv6 addresses (RFC 5782 sections 2.1, 2.4)
	KindDomain  Kind = "domain"  // host names (section 2.3): the MX host names
)

// Zone is one configured blocklist: its zone name as configured (a key in
// it included), which is a label value, so it comes from the config only.
type Zone struct {
	Name string
	Kind Kind
}

// QueryName is what is asked of zone for subject: for an IP address
// (subject parses as one) its reversed labels (dnsmx.ReversedLabels: four
// octets for IPv4, an IPv4-mapped IPv6 address included, 32 nibbles for
// IPv6; RFC 5782 sections 2.1 and 2.4), then the zone; for a host name the
// name, then the zone. Both are lower case, without a trailing dot. It is ""
// when the result would be no valid host name (RFC 1123: labels of at most
// 63 octets, 253 in all): 64 octets of IPv6 nibbles leave 189 for the zone.
// It is "" too when the result reads as an IPv4 address ("1.2" in zone
// "3.4"), which a resolver would take for one rather than ask.
func QueryName(zone, subject string) string {
	if a, err := netip.ParseAddr(subject); err == nil {
		return addrQueryName(zone, a)
	}
	return nameQueryName(zone, subject)
}

// addrQueryName is QueryName for an address.
func addrQueryName(zone string, a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return joinQueryName(dnsmx.ReversedLabels(a.WithZone("")), zone)
}

// nameQueryName is QueryName for a host name, even one that spells an
// address.
func nameQueryName(zone, name string) string {
	return joinQueryName(dnsname.Normalize(name), zone)
}

func joinQueryName(labels, zone string) string {
	zone = dnsname.Normalize(zone)
	if labels == "" || zone == "" {
		return ""
	}
	q := labels + "." + zone
	if !dnsname.Valid(q) {
		return ""
	}
	if _, err := netip.ParseAddr(q); err == nil {
		return ""
	}
	return q
}

// maxIPv6Labels is the length of the 32 nibbles of an IPv6 address with
// their dots and the dot before the zone: what an address zone's name must
// leave room for.
const maxIPv6Labels = 32 * 2

// CheckZone says why z cannot be used, in words; nil when it can. The
// config, which imports no engine package, applies the same rules (a
// wiring test holds the two in step), so that a zone it accepts is one
// every query fits in: the name must be a host name (letters, digits, hyphens, a key
// included) short enough that every subject's query name is valid: 189
// octets for an address zone (the 64 octets of IPv6 nibbles come first),
// and room for the health entry "invalid" in a domain zone.
func CheckZone(z Zone) error {
	name := dnsname.Normalize(z.Name)
	if !dnsname.Valid(name) {
		return fmt.Errorf("zone %q is not a valid DNS name (letters, digits and hyphens, labels of 1 to 63 octets)", z.Name)
	}
	switch z.Kind {
	case KindAddress:
		if len(name) > 253-maxIPv6Labels {
			return fmt.Errorf("address zone %q is %d octets long: at most %d leave room for the 32 nibbles of an IPv6 address",
				z.Name, len(name), 253-maxIPv6Labels)
		}
	case KindDomain:
		if nameQueryName(name, domainUnlisted) == "" {
			return fmt.Errorf("domain zone %q is too long to ask for any host name", z.Name)
		}
	default:
		return fmt.Errorf("zone %q: unknown kind %q (want %q or %q)", z.Name, z.Kind, KindAddress, KindDomain)
	}
	return nil
}

// Verdict is the outcome of one lookup in one zone. Fixed set, label value.
type Verdict string

// The verdicts.
const (
	VerdictListed    Verdict = "listed"     // an A record in 127.0.0.0/8 outside 127.255.255.0/24
	VerdictNotListed Verdict = "not_listed" // NXDOMAIN (or NODATA)
	VerdictError     Verdict = "error"      // an error of the list: Result.Error says which
)

// Error names an error of the list. Fixed set, label value.
type Error string

// The errors; "" unless the verdict is error.
const (
	ErrorRefusedQuery    Error = "query_refused"  // 127.255.255.0/24: the list refuses the query (public/open resolver, excessive queries, typo)
	ErrorOutsideLoopback Error = "answer_invalid" // an answer outside 127.0.0.0/8
	ErrorLookupFailed    Error = "lookup_failed"  // SERVFAIL, refused, a malformed answer
	ErrorTimeout         Error = "timeout"        // no answer in time
	ErrorZoneUnhealthy   Error = "zone_unhealthy" // the zone fails its health check: its answers are not trusted
)

// Errors lists every error, for documentation and labels.
var Errors = []Error{ErrorRefusedQuery, ErrorOutsideLoopback, ErrorLookupFailed, ErrorTimeout, ErrorZoneUnhealthy}

// Result is one subject looked up in one zone.
type Result struct {
	Zone    string
	Subject string // the address or host name looked up
	Query   string // the name asked; "" when subject and zone make no valid name (QueryName)
	Verdict Verdict
	Error   Error
	// Codes are the 127.0.0.0/8 answers (the list's return codes, and its
	// refusal codes for query_refused), sorted, at most 8.
	Codes []netip.Addr
	// Reason is the zone's TXT records for a listing, joined with "; ",
	// sanitised and capped (remote text: for reports only, never a label);
	// "" when none.
	Reason string
	Detail string // in words
	// Checked is when the lookup was made (earlier than the probe when
	// cached); for zone_unhealthy, when the zone's health check was.
	Checked time.Time
	// Cached is true when the answer (or, for zone_unhealthy, the health
	// check) is from before this call: the Checker's cache.
	Cached bool
}

// Health is a zone's health check (RFC 5782 section 5).
type Health struct {
	Zone    Zone
	Healthy bool
	Checked time.Time // zero until the first check
	Detail  string    // in words, what failed
}
