// Package rdns answers "who is this address": its reverse DNS, whether a
// PTR name resolves back to it (forward-confirmed reverse DNS, FCrDNS), and
// whether the names a gateway goes by agree: the MX host name, the PTR
// names, the host name of its 220 greeting and of its EHLO reply. Receivers
// reject senders without FCrDNS, and gateways send too (bounces, forwards).
// None of it is a probe failure; it knows nothing of Prometheus.
package rdns

import (
	"context"
	"net/netip"

	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
)

// Status is an address's reverse DNS outcome. The set is fixed and
// documented; it is a label value.
type Status string

// The statuses.
const (
	StatusConfirmed    Status = "confirmed"     // a PTR name resolves back (A/AAAA) to the address
	StatusNotConfirmed Status = "not_confirmed" // PTR names exist, none resolves back to the address
	StatusNoPTR        Status = "no_ptr"        // NXDOMAIN or NODATA: no reverse name
	StatusLookupFailed Status = "lookup_failed" // SERVFAIL, timeout, refused: nothing known
)

// Statuses lists every status, for documentation and labels.
var Statuses = []Status{StatusConfirmed, StatusNotConfirmed, StatusNoPTR, StatusLookupFailed}

// MaxForward caps the PTR names whose forward lookups are asked: a hostile
// reverse zone must not make one address cost a hundred queries.
const MaxForward = 3

// Forward is the forward lookup of one PTR name.
type Forward struct {
	Name      string
	Outcome   dnsmx.Outcome // of the lookups of the address's family
	Confirmed bool          // the address is among the answers
	Err       string
}

// Check is an address's reverse DNS.
type Check struct {
	PTR     dnsmx.PTRLookup
	Forward []Forward // one per PTR name asked, at most MaxForward
	// Name is the forward-confirmed PTR name, else the first PTR name, else "".
	Name   string
	Status Status
	Detail string // in words: "127.0.1.3 is mail.other.test, which resolves back to it"
}

// Lookup asks for addr's PTR records and the forward records (of addr's
// family) of up to MaxForward of their names, side by side, within ctx.
func Lookup(ctx context.Context, r *dnsmx.Resolver, addr netip.Addr) Check {
	panic("rdns.Lookup: not built yet")
}

// Pair names two names of a gateway that are compared.
type Pair string

// The pairs, in the order they are reported.
const (
	PairBannerPTR  Pair = "banner_ptr"  // the 220 greeting's host name is not among the PTR names
	PairBannerMX   Pair = "banner_mx"   // the greeting's host name is not the MX host name
	PairPTRMX      Pair = "ptr_mx"      // the MX host name is not among the PTR names
	PairEHLOBanner Pair = "ehlo_banner" // the EHLO reply's name differs from the greeting's
)

// Pairs lists every pair, for documentation and labels.
var Pairs = []Pair{PairBannerPTR, PairBannerMX, PairPTRMX, PairEHLOBanner}

// Names is the comparison of the names one address goes by. A name that is
// missing (no PTR, no host name in the greeting) is compared with nothing.
type Names struct {
	MX     string
	PTR    []string
	Banner string // the greeting's host name, validated; "" when none
	EHLO   string // the EHLO reply's first word, validated; "" when none
	// Agree is true when every pair of present names agrees.
	Agree      bool
	Mismatches []Pair // in the order of Pairs
	Detail     string // "banner says mx.example.net, PTR says mail.example.org"
}

// CompareNames compares the names, case-insensitively, without trailing dots.
func CompareNames(mx string, ptr []string, banner, ehlo string) Names {
	panic("rdns.CompareNames: not built yet")
}
