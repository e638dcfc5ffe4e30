package report

// The words for who an address is (issue 13), shared by the text report
// and the status pages: its reverse DNS and forward confirmation, whether
// the names a gateway goes by agree, its blocklist listings and those of
// the MX host name, and whether a host's IPv6 addresses work as well as
// its IPv4 ones. None of it is a failure: listings, a missing FCrDNS and an
// IPv6 gap are facts for people and alerts, and look amber at most.

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/dnsname"
	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsbl"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/rdns"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/probe/txtfields"
)

// FCrDNSConsequence says why a missing forward-confirmed reverse DNS
// matters: a gateway sends mail too.
const FCrDNSConsequence = "receivers that require forward-confirmed reverse DNS may refuse the mail this address sends (bounces, forwards)"

// AddressIndex is the position of the dialogue r among h's addresses, for
// the per-address facts kept in the same order (Reverse, Names, Listings);
// -1 when r is not one of h's dialogues.
func AddressIndex(h *probe.HostReport, r *smtp.Result) int {
	for j, res := range h.Results {
		if res == r {
			return j
		}
	}
	return -1
}

// ReverseOf is the reverse DNS of h's j-th address, or nil when none was
// looked up.
func ReverseOf(h *probe.HostReport, j int) *rdns.Check {
	if j < 0 || j >= len(h.Reverse) {
		return nil
	}
	return h.Reverse[j]
}

// NamesOf is the name comparison of h's j-th address, or nil.
func NamesOf(h *probe.HostReport, j int) *rdns.Names {
	if j < 0 || j >= len(h.Names) {
		return nil
	}
	return h.Names[j]
}

// ListingsOf are the address blocklist results of h's j-th address, or
// nil.
func ListingsOf(h *probe.HostReport, j int) []dnsbl.Result {
	if j < 0 || j >= len(h.Listings) {
		return nil
	}
	return h.Listings[j]
}

// ReverseLabel is an address's reverse DNS in a few words, for the line
// that names the address: "PTR mail.other.test, forward-confirmed", "no
// PTR", "PTR lookup failed: SERVFAIL".
func ReverseLabel(c *rdns.Check) string {
	name := c.Name
	if n := len(c.PTR.Names); n > 1 {
		name += fmt.Sprintf(" (1 of %d names)", n+c.PTR.Dropped)
	}
	switch c.Status {
	case rdns.StatusConfirmed:
		return "PTR " + name + ", forward-confirmed"
	case rdns.StatusNotConfirmed:
		return "PTR " + name + ", NOT forward-confirmed"
	case rdns.StatusNoPTR:
		if c.PTR.Invalid > 0 {
			return "no valid PTR"
		}
		return "no PTR"
	case rdns.StatusLookupFailed:
		return "PTR lookup failed: " + lookupFailure(c.PTR.Outcome, c.PTR.Rcode, c.PTR.Err)
	}
	return string(c.Status)
}

// ReverseTone is how an address's reverse DNS should look: a pass when
// confirmed, a warning otherwise (no failure: a gateway without FCrDNS
// still receives mail).
func ReverseTone(c *rdns.Check) Tone {
	if c.Status == rdns.StatusConfirmed {
		return TonePass
	}
	return ToneWarn
}

// ReverseWords explains an address's reverse DNS when the label is not the
// whole story: why a PTR name is not forward-confirmed, why there is no
// PTR, how the lookup failed, or every name when there are several; ""
// for a confirmed address with one PTR name. The engine's detail says it
// when there is one; these words stand in for a check that has none.
func ReverseWords(c *rdns.Check) string {
	if c.Status == rdns.StatusConfirmed && len(c.PTR.Names) <= 1 {
		return ""
	}
	if c.Detail != "" {
		return c.Detail
	}
	switch c.Status {
	case rdns.StatusConfirmed:
		if len(c.PTR.Names) > 1 {
			return ptrNamesWords(c) + "; " + c.Name + " resolves back to " + c.PTR.Addr.String()
		}
		return ""
	case rdns.StatusNotConfirmed:
		why := make([]string, 0, len(c.Forward)+1)
		for _, f := range c.Forward {
			why = append(why, forwardWords(f, c.PTR.Addr))
		}
		if len(c.PTR.Names) > 1 {
			why = append([]string{ptrNamesWords(c)}, why...)
		}
		if n := len(c.PTR.Names) - len(c.Forward); n > 0 && len(c.Forward) > 0 {
			why = append(why, count(n, "more PTR name", "more PTR names")+" not looked up")
		}
		return strings.Join(why, "; ") + ": " + FCrDNSConsequence
	case rdns.StatusNoPTR:
		what := c.PTR.Name + " has no PTR record"
		if c.PTR.Outcome == dnsmx.OutcomeNXDomain {
			what = c.PTR.Name + " does not exist (NXDOMAIN)"
		}
		if c.PTR.Invalid > 0 {
			what = c.PTR.Name + ": " + count(c.PTR.Invalid, "PTR target is not a host name", "PTR targets are not host names")
		}
		return what + ": " + FCrDNSConsequence
	case rdns.StatusLookupFailed:
		why := c.PTR.Err
		if why == "" {
			why = lookupFailure(c.PTR.Outcome, c.PTR.Rcode, "")
		}
		return "the PTR lookup of " + c.PTR.Name + " failed: " + why + "; nothing is known of its reverse DNS"
	}
	return c.Detail
}

// ptrNamesWords lists every PTR name of a check.
func ptrNamesWords(c *rdns.Check) string {
	s := "PTR names " + strings.Join(c.PTR.Names, ", ")
	if c.PTR.Dropped > 0 {
		s += fmt.Sprintf(" and %d more", c.PTR.Dropped)
	}
	return s
}

// forwardWords says why one PTR name does not confirm addr.
func forwardWords(f rdns.Forward, addr netip.Addr) string {
	rr := "A"
	if addr.Is6() && !addr.Is4In6() {
		rr = "AAAA"
	}
	switch {
	case f.Confirmed:
		return f.Name + " resolves back to " + addr.String()
	case f.Outcome == dnsmx.OutcomeAnswer:
		return f.Name + " resolves to other addresses, not " + addr.String()
	case f.Outcome == dnsmx.OutcomeNXDomain:
		return f.Name + " does not exist (NXDOMAIN)"
	case f.Outcome == dnsmx.OutcomeNoData:
		return f.Name + " has no " + rr + " record"
	}
	return "the " + rr + " lookup of " + f.Name + " failed: " + lookupFailure(f.Outcome, "", f.Err)
}

// lookupFailure names how a lookup failed: "SERVFAIL", "REFUSED",
// "timeout", or the error in words.
func lookupFailure(o dnsmx.Outcome, rcode, err string) string {
	switch o {
	case dnsmx.OutcomeServFail, dnsmx.OutcomeRefused:
		return strings.ToUpper(string(o))
	case dnsmx.OutcomeTimeout:
		return "timeout"
	}
	switch {
	case rcode != "" && rcode != "NOERROR":
		return rcode
	case err != "":
		return err
	}
	return string(o)
}

// NamesWords says which names of a gateway disagree, each as its source
// gives it: the engine's detail ("banner and MX say mx.relay.test, PTR
// says mail.other.test"), or for a comparison without one "banner says
// mx.relay.test, PTR says mail.other.test; MX is mx.relay.test". "" when
// they agree (or nothing could be compared).
func NamesWords(n *rdns.Names) string {
	if n == nil || n.Agree || len(n.Mismatches) == 0 {
		return ""
	}
	if n.Detail != "" {
		return n.Detail
	}
	var banner, ehlo, ptr, mx bool
	for _, m := range n.Mismatches {
		switch m {
		case rdns.PairBannerPTR:
			banner, ptr = true, true
		case rdns.PairBannerMX:
			banner, mx = true, true
		case rdns.PairPTRMX:
			ptr, mx = true, true
		case rdns.PairEHLOBanner:
			ehlo, banner = true, true
		}
	}
	// Sources that give the same name are said together: "banner and
	// PTR say mx1.good.test; MX is mx.v6broken.test".
	type saying struct{ who, name string }
	var says []saying
	say := func(on bool, who, name string) {
		if !on || name == "" {
			return
		}
		for i := range says {
			if dnsname.EqualFoldASCII(says[i].name, name) {
				says[i].who += " and " + who
				return
			}
		}
		says = append(says, saying{who, name})
	}
	say(banner, "banner", n.Banner)
	say(ehlo, "EHLO", n.EHLO)
	say(ptr, "PTR", strings.Join(n.PTR, " or "))
	parts := make([]string, len(says))
	for i, sy := range says {
		verb := " says "
		if strings.Contains(sy.who, " and ") {
			verb = " say "
		}
		parts[i] = sy.who + verb + sy.name
	}
	s := strings.Join(parts, ", ")
	if mx && n.MX != "" {
		if s != "" {
			s += "; "
		}
		s += "MX is " + n.MX
	}
	return s
}

// ListingWords is one blocklist result in words: a listing with its return
// codes and the list's TXT reason, that the subject is not listed, or an
// error of the list, which is never a listing. A cached answer says how
// old it is at the probe's start.
func ListingWords(r *dnsbl.Result, at time.Time) string {
	var s string
	switch r.Verdict {
	case dnsbl.VerdictListed:
		s = "LISTED in " + r.Zone + codesWords(r.Codes)
		if r.Reason != "" {
			s += ": " + txtfields.Quote(r.Reason)
		}
	case dnsbl.VerdictNotListed:
		s = "not listed in " + r.Zone
	default:
		s = ListErrorWords(r)
	}
	if r.Cached {
		s += " (" + listingCachedWords(r, at) + ")"
	}
	return s
}

func listingCachedWords(r *dnsbl.Result, at time.Time) string {
	if r.Checked.IsZero() || at.IsZero() {
		return "cached"
	}
	return "cached, asked " + Ago(at.Sub(r.Checked))
}

func codesWords(codes []netip.Addr) string {
	if len(codes) == 0 {
		return ""
	}
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = c.String()
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// ListErrorWords says what an error of a list means (RFC 5782 and the
// lists' own usage rules), why no verdict could be had, and that it is no
// listing: "bl.test refused the query (127.255.255.254): …; not a
// listing". The engine's detail says it when there is one, led by the
// zone's name and closed by "not a listing" when it lacks them.
func ListErrorWords(r *dnsbl.Result) string {
	const notListing = "not a listing"
	s := r.Detail
	if s == "" {
		s = listErrorMeaning(r)
	}
	if !strings.HasPrefix(s, r.Zone+" ") {
		s = r.Zone + ": " + s
	}
	if !strings.HasSuffix(s, notListing) {
		s += "; " + notListing
	}
	return s
}

// listErrorMeaning says what an error of a list means, for a result
// without a detail.
func listErrorMeaning(r *dnsbl.Result) string {
	codes := codesWords(r.Codes)
	switch r.Error {
	case dnsbl.ErrorRefusedQuery:
		return "the list refused the query" + codes + ": it refuses public or open resolvers or too many queries"
	case dnsbl.ErrorOutsideLoopback:
		return "the answer" + codes + " is outside 127.0.0.0/8, so it is no blocklist answer"
	case dnsbl.ErrorLookupFailed:
		return "the lookup failed"
	case dnsbl.ErrorTimeout:
		return "no answer in time"
	case dnsbl.ErrorZoneUnhealthy:
		return "the zone fails its health check, its answers are not trusted"
	}
	return string(r.Error)
}

// ListingTone is how a result should look: a listing is worth a look
// (amber: a fact, not a failure of the probe); that a subject is not
// listed, or that a list could not say, is plain.
func ListingTone(r *dnsbl.Result) Tone {
	if r.Verdict == dnsbl.VerdictListed {
		return ToneWarn
	}
	return TonePlain
}

// UnhealthyZone is a blocklist zone that failed its health check during a
// probe: its answers were not trusted for any subject.
type UnhealthyZone struct {
	Zone     string
	Subjects int    // addresses and host names whose result it spoiled
	Detail   string // the engine's words for what failed
}

// UnhealthyZones lists, in the order first met, the zones whose results in
// rep are zone_unhealthy, so that a report says so once per zone rather
// than under every address.
func UnhealthyZones(rep *probe.Report) []UnhealthyZone {
	var out []UnhealthyZone
	add := func(r *dnsbl.Result) {
		if r.Verdict != dnsbl.VerdictError || r.Error != dnsbl.ErrorZoneUnhealthy {
			return
		}
		for i := range out {
			if out[i].Zone == r.Zone {
				out[i].Subjects++
				return
			}
		}
		out = append(out, UnhealthyZone{Zone: r.Zone, Subjects: 1, Detail: r.Detail})
	}
	for i := range rep.Hosts {
		h := &rep.Hosts[i]
		for j := range h.NameListings {
			add(&h.NameListings[j])
		}
		for _, rs := range h.Listings {
			for j := range rs {
				add(&rs[j])
			}
		}
	}
	return out
}

// UnhealthyZoneWords says that a zone failed its health check and what
// that means for the probe's results.
func UnhealthyZoneWords(z UnhealthyZone) string {
	// The engine's detail is that of each result: "not asked: bl.test
	// lists 127.0.0.1, …; its answers are not trusted".
	why := strings.TrimPrefix(z.Detail, "not asked: ")
	if why == "" {
		why = "it fails its health check (RFC 5782 section 5: the test entry must be listed, the \"not listed\" entry must not)"
	}
	if !strings.Contains(why, "not trusted") {
		why += "; its answers are not trusted"
	}
	return "blocklist " + z.Zone + " is UNHEALTHY: " + why + " (" + count(z.Subjects, "result", "results") + " left out)"
}

// ListingGroups splits results into those worth a line each (listings and
// errors of a list, except zone_unhealthy, said once per zone) and the
// zones that do not list the subject, said together.
func ListingGroups(rs []dnsbl.Result) (each, notListed []*dnsbl.Result) {
	for i := range rs {
		r := &rs[i]
		switch {
		case r.Verdict == dnsbl.VerdictNotListed:
			notListed = append(notListed, r)
		case r.Verdict == dnsbl.VerdictError && r.Error == dnsbl.ErrorZoneUnhealthy:
		default:
			each = append(each, r)
		}
	}
	return each, notListed
}

// NotListedWords says which zones do not list a subject, each cached
// answer with its age at the probe's start.
func NotListedWords(rs []*dnsbl.Result, at time.Time) string {
	zones := make([]string, len(rs))
	for i, r := range rs {
		zones[i] = r.Zone
		if r.Cached {
			zones[i] += " (" + listingCachedWords(r, at) + ")"
		}
	}
	return "not listed in " + strings.Join(zones, ", ")
}

// IsIPv6 reports whether addr is an IPv6 address proper: an IPv4-mapped
// IPv6 address counts as IPv4, as in the parity of probe.Parity.
func IsIPv6(addr netip.Addr) bool { return addr.Is6() && !addr.Is4In6() }

// IPv6Hosts counts the MX hosts of rep with an IPv6 address among those
// probed.
func IPv6Hosts(rep *probe.Report) int {
	n := 0
	for i := range rep.Hosts {
		for _, a := range rep.Hosts[i].Addrs {
			if IsIPv6(a) {
				n++
				break
			}
		}
	}
	return n
}

// ParityKnown reports whether rep carries IPv6 parity: some host with
// addresses was judged.
func ParityKnown(rep *probe.Report) bool {
	for i := range rep.Hosts {
		if rep.Hosts[i].Parity != "" {
			return true
		}
	}
	return false
}

// IPv6Words is the domain's IPv6 reachability in a few words: how many of
// its MX hosts (with addresses) have IPv6 addresses.
func IPv6Words(rep *probe.Report) string {
	hosts := 0
	for i := range rep.Hosts {
		if rep.Hosts[i].Parity != "" {
			hosts++
		}
	}
	v6 := IPv6Hosts(rep)
	switch {
	case v6 == 0 && hosts == 1:
		return "the MX host has no IPv6 address"
	case v6 == 0:
		return "no MX host has an IPv6 address"
	case hosts == 1:
		return "the MX host has IPv6 addresses"
	}
	return fmt.Sprintf("%d of %d MX hosts have IPv6 addresses", v6, hosts)
}

// ParityWords is an MX host's IPv6 parity in words, with the addresses of
// the broken family and why they failed; "" for a host without addresses.
func ParityWords(h *probe.HostReport) string {
	switch h.Parity {
	case probe.ParityBothPass:
		return h.Name + " works over IPv4 and IPv6"
	case probe.ParityIPv6Failing:
		return "IPv6 broken for " + h.Name + " while IPv4 works" + failedWords(h, true)
	case probe.ParityIPv4Failing:
		return "IPv4 broken for " + h.Name + " while IPv6 works" + failedWords(h, false)
	case probe.ParityBothFailing:
		return h.Name + " fails over IPv4 and IPv6"
	case probe.ParityIPv4Only:
		return h.Name + " has no IPv6 address"
	case probe.ParityIPv6Only:
		return h.Name + " has IPv6 addresses only: senders without IPv6 cannot reach it"
	}
	return ""
}

// failedWords names the failed dialogues of one family of h: ": ::1
// failed (rcpt_rejected)".
func failedWords(h *probe.HostReport, v6 bool) string {
	var parts []string
	for _, r := range h.Results {
		if r == nil || r.Success {
			continue
		}
		addr, err := netip.ParseAddr(r.Addr)
		if err != nil || IsIPv6(addr) != v6 {
			continue
		}
		part := r.Addr + " failed"
		if r.Reason != "" {
			part += " (" + string(r.Reason) + ")"
		}
		parts = append(parts, part)
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + strings.Join(parts, ", ")
}

// ParityTone is how a host's parity should look: a family that fails
// while the other works, or a host senders without IPv6 cannot reach, is
// worth a look; both families passing is a pass; the rest is plain (both
// failing is said by the dialogues themselves).
func ParityTone(p probe.Parity) Tone {
	switch p {
	case probe.ParityIPv6Failing, probe.ParityIPv4Failing, probe.ParityIPv6Only:
		return ToneWarn
	case probe.ParityBothPass:
		return TonePass
	}
	return TonePlain
}

// ParityGap reports whether a parity is an IPv6 gap: one family fails
// while the other works.
func ParityGap(p probe.Parity) bool {
	return p == probe.ParityIPv6Failing || p == probe.ParityIPv4Failing
}

// ParityGapWords is the short form of a gap for a summary: "IPv6 broken
// for mx.v6broken.test while IPv4 works"; "" for no gap.
func ParityGapWords(h *probe.HostReport) string {
	switch h.Parity {
	case probe.ParityIPv6Failing:
		return "IPv6 broken for " + h.Name + " while IPv4 works"
	case probe.ParityIPv4Failing:
		return "IPv4 broken for " + h.Name + " while IPv6 works"
	}
	return ""
}

// Identity counts the facts of who a report's addresses are that a
// summary names: listed addresses and MX host names with the zones that
// list them, addresses without forward-confirmed reverse DNS, and IPv6
// gaps.
type Identity struct {
	ListedAddrs, ListedNames int
	AddrZones, NameZones     []string // that list an address, a host name; in the order met
	NoFCrDNS                 int      // not_confirmed or no_ptr; a failed lookup is not counted
	Gaps                     []string // ParityGapWords of each host with a gap
}

// IdentityOf counts rep's identity facts.
func IdentityOf(rep *probe.Report) Identity {
	var id Identity
	listed := func(rs []dnsbl.Result, zones *[]string) bool {
		found := false
		for i := range rs {
			if rs[i].Verdict != dnsbl.VerdictListed {
				continue
			}
			found = true
			if !slices.Contains(*zones, rs[i].Zone) {
				*zones = append(*zones, rs[i].Zone)
			}
		}
		return found
	}
	for i := range rep.Hosts {
		h := &rep.Hosts[i]
		if listed(h.NameListings, &id.NameZones) {
			id.ListedNames++
		}
		for j, res := range h.Results {
			if res == nil {
				continue
			}
			if listed(ListingsOf(h, j), &id.AddrZones) {
				id.ListedAddrs++
			}
			if c := ReverseOf(h, j); c != nil && (c.Status == rdns.StatusNotConfirmed || c.Status == rdns.StatusNoPTR) {
				id.NoFCrDNS++
			}
		}
		if w := ParityGapWords(h); w != "" {
			id.Gaps = append(id.Gaps, w)
		}
	}
	return id
}

// Listed reports whether some address or MX host name is listed.
func (id Identity) Listed() bool { return id.ListedAddrs+id.ListedNames > 0 }

// Words is the facts for a summary line, "" when there are none: "1
// address listed in bl.test; IPv6 broken for mx.v6broken.test while IPv4
// works".
func (id Identity) Words() string {
	var parts []string
	if id.ListedAddrs > 0 {
		parts = append(parts, count(id.ListedAddrs, "address", "addresses")+" listed in "+strings.Join(id.AddrZones, ", "))
	}
	if id.ListedNames > 0 {
		parts = append(parts, count(id.ListedNames, "MX host name", "MX host names")+" listed in "+strings.Join(id.NameZones, ", "))
	}
	if id.NoFCrDNS > 0 {
		parts = append(parts, count(id.NoFCrDNS, "address", "addresses")+" without forward-confirmed reverse DNS")
	}
	parts = append(parts, id.Gaps...)
	return strings.Join(parts, "; ")
}
