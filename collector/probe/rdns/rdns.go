// Package rdns answers "who is this address": its reverse DNS, whether a
// PTR name resolves back to it (forward-confirmed reverse DNS, FCrDNS), and
// whether the names a gateway goes by agree: the MX host name, the PTR
// names, the host name of its 220 greeting and of its EHLO reply. Receivers
// reject senders without FCrDNS, and gateways send too (bounces, forwards).
// None of it is a probe failure; it knows nothing of Prometheus.
package rdns

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/dnsname"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
)

// Status is an address's reverse DNS outcome. The set is fixed and
// documented; it is a label value.
type Status string

// The statuses.
const (
	StatusConfirmed    Status = "confirmed"     // a PTR name resolves back (A/AAAA) to the address
	StatusNotConfirmed Status = "not_confirmed" // PTR names exist, none resolves back to the address
	StatusNoPTR        Status = "no_ptr"        // NXDOMAIN or NODATA, or no target that is a host name: no reverse name
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
	Err       string        // "NXDOMAIN", "no A record", "A lookup: SERVFAIL from …"; "" with an answer
}

// Check is an address's reverse DNS.
type Check struct {
	PTR     dnsmx.PTRLookup
	Forward []Forward // one per PTR name asked, at most MaxForward
	// Name is the forward-confirmed PTR name, else the first PTR name, else "".
	Name   string
	Status Status
	Detail string // in words: "127.0.1.3 is mail.other.test, which resolves back to it"
	// Checked is when the lookup ended; Cached is true when a probe
	// reports the lookup of an earlier one (the probe engine reuses an
	// address's reverse DNS for a minute: hosted MX farms answer for
	// thousands of domains). Lookup leaves both zero.
	Checked time.Time
	Cached  bool
}

// Lookup asks for addr's PTR records and the forward records (of addr's
// family) of up to MaxForward of their names, side by side, within ctx.
//
// The status follows the PTR lookup first: a failed one is lookup_failed
// whatever else, no PTR name that is a host name is no_ptr. A failed
// forward lookup leaves its name unconfirmed (not_confirmed when no other
// name confirms): a receiver whose lookup fails does not confirm it either,
// and the detail says the lookup failed.
func Lookup(ctx context.Context, r *dnsmx.Resolver, addr netip.Addr) Check {
	c := Check{PTR: r.PTR(ctx, addr)}
	// The address as forward answers hold it: an IPv4-mapped address is
	// the IPv4 host it maps, and a zone is no part of a DNS answer.
	want := addr.Unmap().WithZone("")
	switch {
	case c.PTR.Outcome == dnsmx.OutcomeNXDomain, c.PTR.Outcome == dnsmx.OutcomeNoData,
		c.PTR.Outcome == dnsmx.OutcomeAnswer && len(c.PTR.Names) == 0:
		c.Status, c.Detail = StatusNoPTR, noPTRDetail(c.PTR, want)
	case c.PTR.Outcome != dnsmx.OutcomeAnswer:
		c.Status = StatusLookupFailed
		c.Detail = fmt.Sprintf("the PTR lookup of %s failed (%s): whether it has reverse DNS is not known", want, c.PTR.Err)
	default:
		var found []string
		c.Forward, found = forward(ctx, r, want, c.PTR.Names[:min(len(c.PTR.Names), MaxForward)])
		c.Status, c.Name = StatusNotConfirmed, c.PTR.Names[0]
		for _, f := range c.Forward {
			if f.Confirmed {
				c.Status, c.Name = StatusConfirmed, f.Name
				break
			}
		}
		c.Detail = forwardDetail(c, want, found)
	}
	return c
}

// family is the address family of an unmapped address.
func family(addr netip.Addr) dnsmx.Family {
	if addr.Is4() {
		return dnsmx.IPv4
	}
	return dnsmx.IPv6
}

// recordType is the address record type of a family.
func recordType(f dnsmx.Family) string {
	if f == dnsmx.IPv4 {
		return "A"
	}
	return "AAAA"
}

// forward looks up the addresses of names in addr's family, side by side,
// and tells which answers hold addr; found says in words what each lookup
// found, for the detail. Special addresses (a lab's loopback gateway) are
// the normal case here, not a finding.
func forward(ctx context.Context, r *dnsmx.Resolver, addr netip.Addr, names []string) (out []Forward, found []string) {
	hosts := make([]dnsmx.Host, len(names))
	fam := family(addr)
	opts := dnsmx.Options{Families: []dnsmx.Family{fam}, IgnoreSpecialAddresses: true}
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() { hosts[i] = r.Host(ctx, name, opts) })
	}
	wg.Wait()
	out, found = make([]Forward, len(names)), make([]string, len(names))
	rr := recordType(fam)
	for i, h := range hosts {
		f := Forward{Name: names[i], Outcome: h.Outcome, Confirmed: slices.Contains(h.Addrs, addr)}
		switch {
		case f.Confirmed:
			found[i] = "which resolves back to it"
		case h.Outcome == dnsmx.OutcomeAnswer:
			found[i] = "which resolves to " + addrWords(h.Addrs) + ", not to it"
		case h.Outcome == dnsmx.OutcomeNXDomain:
			f.Err, found[i] = "NXDOMAIN", "which does not exist"
		case h.Outcome == dnsmx.OutcomeNoData:
			f.Err, found[i] = h.Err, "which has no address (no "+rr+" record)"
		default:
			f.Err = h.Err
			found[i] = "whose " + rr + " lookup failed (" + strings.TrimPrefix(h.Err, rr+" lookup: ") + ")"
		}
		out[i] = f
	}
	return out, found
}

// maxShown bounds the addresses a detail lists of one forward answer.
const maxShown = 3

// addrWords lists addrs, the first maxShown of them.
func addrWords(addrs []netip.Addr) string {
	parts := make([]string, 0, maxShown+1)
	for _, a := range addrs[:min(len(addrs), maxShown)] {
		parts = append(parts, a.String())
	}
	if len(addrs) > maxShown {
		parts = append(parts, fmt.Sprintf("%d more", len(addrs)-maxShown))
	}
	return strings.Join(parts, ", ")
}

// What a missing or unconfirmed reverse name costs a gateway: it also
// sends (bounces, forwards), and receivers check.
const (
	noFCrDNSCost = "receivers that require FCrDNS reject mail this gateway sends"
	noPTRCost    = "receivers that require reverse DNS reject mail this gateway sends"
)

// noPTRDetail says why addr has no reverse name.
func noPTRDetail(l dnsmx.PTRLookup, addr netip.Addr) string {
	switch l.Outcome {
	case dnsmx.OutcomeNXDomain:
		return fmt.Sprintf("%s has no PTR record (%s does not exist): %s", addr, l.Name, noPTRCost)
	case dnsmx.OutcomeAnswer:
		return fmt.Sprintf("%s has %s, none of them a host name: %s", addr, plural(l.Invalid, "PTR record"), noPTRCost)
	default:
		return fmt.Sprintf("%s has no PTR record (%s exists without one): %s", addr, l.Name, noPTRCost)
	}
}

// forwardDetail says what the forward lookups of addr's PTR names found.
func forwardDetail(c Check, addr netip.Addr, found []string) string {
	if c.Status == StatusConfirmed {
		s := fmt.Sprintf("%s is %s, which resolves back to it", addr, c.Name)
		if others := len(c.PTR.Names) - 1 + c.PTR.Dropped; others > 0 {
			s += fmt.Sprintf(" (and %s)", plural(others, "other PTR name"))
		}
		return s
	}
	parts := make([]string, len(c.Forward))
	for i, f := range c.Forward {
		parts[i] = f.Name + ", " + found[i]
	}
	s := fmt.Sprintf("%s has PTR %s", addr, strings.Join(parts, "; PTR "))
	if unasked := len(c.PTR.Names) - len(c.Forward) + c.PTR.Dropped; unasked > 0 {
		s += fmt.Sprintf("; %s not looked up", plural(unasked, "more PTR name"))
	}
	return s + ": not forward-confirmed; " + noFCrDNSCost
}

// plural writes n and noun, with an s when n is not 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
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
//
// Every name is kept normalised (dnsname.Normalize); one that is not a host
// name is treated as missing: the greeting and EHLO names are remote text.
// A pair is compared only when both its names are present, and a name
// agrees with the PTR names when it is one of them. Agree is true when no
// pair disagrees, also when none could be compared, and Detail is "" when
// nothing was.
func CompareNames(mx string, ptr []string, banner, ehlo string) Names {
	n := Names{MX: hostName(mx), Banner: hostName(banner), EHLO: hostName(ehlo)}
	for _, p := range ptr {
		if h := hostName(p); h != "" && !slices.Contains(n.PTR, h) {
			n.PTR = append(n.PTR, h)
		}
	}
	compared := map[string]bool{} // the sources some pair compared
	for _, p := range Pairs {
		a, b := pairSources(p)
		if !n.present(a) || !n.present(b) {
			continue
		}
		compared[a], compared[b] = true, true
		if !n.agree(a, b) {
			n.Mismatches = append(n.Mismatches, p)
		}
	}
	n.Agree = len(n.Mismatches) == 0
	n.Detail = n.detail(compared)
	return n
}

// The sources of the names, as the detail calls them, in the order it
// names them.
const (
	srcBanner = "banner"
	srcEHLO   = "EHLO"
	srcMX     = "MX"
	srcPTR    = "PTR"
)

var sources = []string{srcBanner, srcEHLO, srcMX, srcPTR}

// hostName is s normalised when it is a host name, else "".
func hostName(s string) string {
	s = strings.TrimSuffix(strings.TrimSpace(s), ".")
	if !dnsname.Valid(s) {
		return ""
	}
	return dnsname.Normalize(s)
}

// present tells whether the source has a name.
func (n *Names) present(src string) bool {
	switch src {
	case srcBanner:
		return n.Banner != ""
	case srcEHLO:
		return n.EHLO != ""
	case srcMX:
		return n.MX != ""
	}
	return len(n.PTR) > 0
}

// says is what a source's name is, as the detail words it.
func (n *Names) says(src string) string {
	switch src {
	case srcBanner:
		return n.Banner
	case srcEHLO:
		return n.EHLO
	case srcMX:
		return n.MX
	}
	return strings.Join(n.PTR, " and ")
}

// detail words the comparison. Agreeing: the sources compared and their
// name. Disagreeing: what each source in a mismatch says, sources that say
// the same grouped, so that "banner says mx.relay.test, PTR says
// mail.other.test" is not written once per pair.
func (n *Names) detail(compared map[string]bool) string {
	if len(compared) == 0 {
		return ""
	}
	if n.Agree {
		var srcs []string
		for _, src := range sources {
			if compared[src] {
				srcs = append(srcs, src)
			}
		}
		name := n.Banner
		if !compared[srcBanner] {
			name = n.MX
		}
		return joinWords(srcs) + " agree on " + name
	}
	involved := map[string]bool{}
	for _, p := range n.Mismatches {
		a, b := pairSources(p)
		involved[a], involved[b] = true, true
	}
	var names []string              // distinct names said, in source order
	bySaid := map[string][]string{} // name said → its sources
	for _, src := range sources {
		if !involved[src] {
			continue
		}
		said := n.says(src)
		if _, ok := bySaid[said]; !ok {
			names = append(names, said)
		}
		bySaid[said] = append(bySaid[said], src)
	}
	parts := make([]string, len(names))
	for i, said := range names {
		verb := " says "
		if len(bySaid[said]) > 1 {
			verb = " say "
		}
		parts[i] = joinWords(bySaid[said]) + verb + said
	}
	return strings.Join(parts, ", ")
}

// agree tells whether sources a and b name the same host; a name agrees
// with the PTR names when it is one of them.
func (n *Names) agree(a, b string) bool {
	if b == srcPTR {
		return slices.Contains(n.PTR, n.says(a))
	}
	return n.says(a) == n.says(b)
}

// pairSources names the two sources a pair compares, the PTR names second.
func pairSources(p Pair) (string, string) {
	switch p {
	case PairBannerPTR:
		return srcBanner, srcPTR
	case PairBannerMX:
		return srcBanner, srcMX
	case PairPTRMX:
		return srcMX, srcPTR
	}
	return srcEHLO, srcBanner
}

// joinWords joins "a", "a and b", "a, b and c".
func joinWords(words []string) string {
	if len(words) <= 1 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
