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
	"context"
	"net/netip"
	"time"

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

// QueryName is what is asked of zone for addr (the reversed address labels,
// dnsmx.ReversedLabels, then the zone) or for a host name (the name, then
// the zone); "" when the result would be no valid DNS name.
func QueryName(zone, subject string) string { panic("dnsbl.QueryName: not built yet") }

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
	Query   string // the name asked
	Verdict Verdict
	Error   Error
	// Codes are the 127.0.0.0/8 answers (the list's return codes), capped.
	Codes []netip.Addr
	// Reason is the zone's TXT record for the listing, sanitised and capped
	// (remote text: for reports only, never a label); "" when none.
	Reason  string
	Detail  string    // in words
	Checked time.Time // when the lookup was made (earlier than the probe when cached)
	Cached  bool
}

// Health is a zone's health check (RFC 5782 section 5).
type Health struct {
	Zone    Zone
	Healthy bool
	Checked time.Time // zero until the first check
	Detail  string    // in words, what failed
}

// Checker looks subjects up in zones, caches the answers for TTL and keeps
// each zone's health, checked on first use and again every HealthInterval.
// One Checker lives as long as the daemon; zones come with each call, so a
// reload that changes them needs no new Checker. Safe for concurrent use.
type Checker struct{}

// NewChecker returns a Checker that caches answers for ttl and checks a
// zone's health every healthInterval.
func NewChecker(ttl, healthInterval time.Duration) *Checker { panic("dnsbl.NewChecker: not built yet") }

// CheckAddr looks addr up in every zone of kind address, side by side.
func (c *Checker) CheckAddr(ctx context.Context, r *dnsmx.Resolver, zones []Zone, addr netip.Addr) []Result {
	panic("dnsbl.Checker.CheckAddr: not built yet")
}

// CheckName looks a host name up in every zone of kind domain.
func (c *Checker) CheckName(ctx context.Context, r *dnsmx.Resolver, zones []Zone, name string) []Result {
	panic("dnsbl.Checker.CheckName: not built yet")
}

// CheckZones runs the health checks of zones now (at start and from the
// daemon's periodic loop).
func (c *Checker) CheckZones(ctx context.Context, r *dnsmx.Resolver, zones []Zone) {
	panic("dnsbl.Checker.CheckZones: not built yet")
}

// Zones returns the health of every zone checked so far, by zone name, for
// the daemon's self metrics.
func (c *Checker) Zones() []Health { panic("dnsbl.Checker.Zones: not built yet") }
