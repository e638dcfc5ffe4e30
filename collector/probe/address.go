package probe

// Who each address is: reverse DNS and the names it goes by, its blocklist
// listings, and whether a host's IPv6 addresses work as well as its IPv4
// ones. None of it fails a probe: these are named facts for reports and
// alerts.

import (
	"context"
	"log/slog"
	"net/netip"
	"slices"
	"sync"

	"github.com/mx-exporter/mx_exporter/collector/dnsname"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsbl"
	"github.com/mx-exporter/mx_exporter/collector/probe/rdns"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
)

// Parity compares an MX host's IPv4 and IPv6 dialogues. Fixed set, label
// value.
type Parity string

// The parities; "" for a host with no address.
const (
	ParityBothPass    Parity = "both_pass"    // some address of each family passes
	ParityIPv6Failing Parity = "ipv6_failing" // IPv4 passes, no IPv6 address does
	ParityIPv4Failing Parity = "ipv4_failing" // IPv6 passes, no IPv4 address does
	ParityBothFailing Parity = "both_failing" // addresses of both families, none passes
	ParityIPv4Only    Parity = "ipv4_only"    // no IPv6 address (or IPv6 not probed)
	ParityIPv6Only    Parity = "ipv6_only"    // no IPv4 address (or IPv4 not probed)
)

// Parities lists every parity, for documentation and labels.
var Parities = []Parity{ParityBothPass, ParityIPv6Failing, ParityIPv4Failing, ParityBothFailing, ParityIPv4Only, ParityIPv6Only}

// maxParallelLookups bounds the reverse DNS and blocklist lookups of one
// target that run at once (each of them asks several questions side by
// side): an MX farm with many addresses must not flood the resolver.
const maxParallelLookups = 8

// identityLookups are the reverse DNS and blocklist lookups of one probe.
// They need only the addresses and host names, so they start as soon as
// those are known and run beside the TLSA lookups and the dialogues, outside
// the per-address dial gate (Prober.Gate bounds SMTP dialogues, not DNS
// questions), within the probe's deadline. An address that several MX hosts
// share is looked up once. wait joins them and hands the results to the
// hosts; until then the lookups write only their own slices, never a
// HostReport.
type identityLookups struct {
	wg sync.WaitGroup

	addrIndex map[netip.Addr]int // position in reverse and listings
	reverse   []*rdns.Check      // per address, shared (identityCache); nil when reverse_dns is off
	listings  [][]dnsbl.Result   // per address; nil when no address zone

	nameIndex    map[string]int   // position in nameListings
	nameListings [][]dnsbl.Result // per host name; nil when no domain zone
}

// startIdentityLookups starts the lookups the module asks for: reverse DNS
// of every address when reverse_dns is on, and, when the Prober has a
// blocklist checker, every address in the address zones and every MX host
// name in the domain zones. Nothing is asked without a resolver.
func (p *Prober) startIdentityLookups(ctx context.Context, target Target, hosts []HostReport, s Settings) *identityLookups {
	l := &identityLookups{addrIndex: map[netip.Addr]int{}, nameIndex: map[string]int{}}
	if s.Resolver == nil {
		return l
	}
	var addrs []netip.Addr
	var names []string
	for _, h := range hosts {
		if !target.IsAddr() {
			if _, seen := l.nameIndex[h.Name]; !seen {
				l.nameIndex[h.Name] = len(names)
				names = append(names, h.Name)
			}
		}
		for _, a := range h.Addrs {
			if _, seen := l.addrIndex[a]; !seen {
				l.addrIndex[a] = len(addrs)
				addrs = append(addrs, a)
			}
		}
	}
	blocklists := p.Blocklists
	sem := make(chan struct{}, maxParallelLookups)
	run := func(lookup func()) {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			lookup()
		}()
	}
	if s.ReverseDNS {
		l.reverse = make([]*rdns.Check, len(addrs))
		for i, a := range addrs {
			if l.reverse[i] = identity.cachedReverse(s.Resolver, a); l.reverse[i] == nil {
				run(func() { l.reverse[i] = identity.reverseDNS(ctx, s.Resolver, a) })
			}
		}
	}
	if blocklists != nil && hasZone(s.DNSBLZones, dnsbl.KindAddress) {
		l.listings = make([][]dnsbl.Result, len(addrs))
		for i, a := range addrs {
			run(func() { l.listings[i] = blocklists.CheckAddr(ctx, s.Resolver, s.DNSBLZones, a) })
		}
	}
	if blocklists != nil && hasZone(s.DNSBLZones, dnsbl.KindDomain) {
		l.nameListings = make([][]dnsbl.Result, len(names))
		for i, n := range names {
			run(func() { l.nameListings[i] = blocklists.CheckName(ctx, s.Resolver, s.DNSBLZones, n) })
		}
	}
	return l
}

// hasZone reports whether zones has one of kind.
func hasZone(zones []dnsbl.Zone, kind dnsbl.Kind) bool {
	for _, z := range zones {
		if z.Kind == kind {
			return true
		}
	}
	return false
}

// wait joins the lookups and fills each host's Reverse, Listings and
// NameListings. Each host gets its own copies of the listings: an address
// two MX hosts share has one lookup but two reports. A reverse DNS Check
// is shared, never modified, by every report of its address.
func (l *identityLookups) wait(hosts []HostReport) {
	l.wg.Wait()
	for i := range hosts {
		h := &hosts[i]
		if k, ok := l.nameIndex[h.Name]; ok && l.nameListings != nil {
			h.NameListings = slices.Clone(l.nameListings[k])
		}
		if len(h.Addrs) == 0 {
			continue
		}
		if l.reverse != nil {
			h.Reverse = make([]*rdns.Check, len(h.Addrs))
			for j, a := range h.Addrs {
				h.Reverse[j] = l.reverse[l.addrIndex[a]]
			}
		}
		if l.listings != nil {
			h.Listings = make([][]dnsbl.Result, len(h.Addrs))
			for j, a := range h.Addrs {
				h.Listings[j] = slices.Clone(l.listings[l.addrIndex[a]])
			}
		}
	}
}

// judgeIdentity compares, once the dialogues are over, the names each
// address goes by and the host's IPv4 and IPv6 dialogues. It runs after the
// MTA-STS verdict, which may fail dialogues: parity follows the Success
// that the report gives. It fails nothing.
func judgeIdentity(logger *slog.Logger, target Target, hosts []HostReport) {
	for i := range hosts {
		h := &hosts[i]
		mx := h.Name
		if target.IsAddr() {
			mx = "" // an IP target has no name of its own to compare
		}
		h.Names = compareNames(mx, h.Reverse, h.Results)
		h.Parity = parity(h.Addrs, h.Results)
		logIdentity(logger, h)
	}
}

// compareNames compares, per dialogue, the MX host name, the address's PTR
// names (reverse nil when reverse_dns is off), the greeting's host name and
// the EHLO reply's. An entry is nil when the dialogue gave neither a
// greeting nor an EHLO name: there is nothing of the server's to compare.
// An entry is shared with the other reports that compared the same names,
// and never modified.
func compareNames(mx string, reverse []*rdns.Check, results []*smtp.Result) []*rdns.Names {
	if len(results) == 0 {
		return nil
	}
	names := make([]*rdns.Names, len(results))
	for j, res := range results {
		if res == nil {
			continue
		}
		ehlo := ehloHostname(res.Extensions)
		if res.BannerHostname == "" && ehlo == "" {
			continue
		}
		var ptr []string
		if j < len(reverse) && reverse[j] != nil {
			ptr = reverse[j].PTR.Names
		}
		names[j] = identity.compareNames(mx, ptr, res.BannerHostname, ehlo)
	}
	return names
}

// ehloHostname is the first word of the EHLO reply's first line when it is
// a valid host name, normalised; "" otherwise. It is what smtp makes of the
// greeting for Result.BannerHostname: remote text that may end up in a
// label, so nothing but a host name (at most 253 bytes) gets through.
func ehloHostname(ext *smtp.Extensions) string {
	if ext == nil {
		return ""
	}
	return dnsname.GreetingHostname(ext.Greeting)
}

// parity compares a host's dialogues by address family; an IPv4-mapped
// IPv6 address is the IPv4 address it maps. "" for a host without
// addresses. A missing dialogue counts as failed.
func parity(addrs []netip.Addr, results []*smtp.Result) Parity {
	var has4, has6, pass4, pass6 bool
	for j, a := range addrs {
		pass := j < len(results) && results[j] != nil && results[j].Success
		if a.Is4() || a.Is4In6() {
			has4, pass4 = true, pass4 || pass
		} else {
			has6, pass6 = true, pass6 || pass
		}
	}
	switch {
	case !has4 && !has6:
		return ""
	case !has6:
		return ParityIPv4Only
	case !has4:
		return ParityIPv6Only
	case pass4 && pass6:
		return ParityBothPass
	case pass4:
		return ParityIPv6Failing
	case pass6:
		return ParityIPv4Failing
	}
	return ParityBothFailing
}

// logIdentity says at debug level what the lookups and comparisons found
// for host h.
func logIdentity(logger *slog.Logger, h *HostReport) {
	if !logger.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	for j, a := range h.Addrs {
		args := []any{"mx", h.Name, "ip", a.String()}
		if j < len(h.Reverse) && h.Reverse[j] != nil {
			c := h.Reverse[j]
			args = append(args, "ptr_status", c.Status, "ptr_outcome", c.PTR.Outcome, "ptr_name", c.Name)
		}
		if j < len(h.Names) && h.Names[j] != nil {
			args = append(args, "names_agree", h.Names[j].Agree, "names_mismatches", h.Names[j].Mismatches)
		}
		if j < len(h.Listings) {
			for _, r := range h.Listings[j] {
				logger.Debug("blocklist result", "mx", h.Name, "ip", a.String(), "zone", r.Zone, "verdict", r.Verdict, "dnsbl_error", r.Error, "cached", r.Cached)
			}
		}
		logger.Debug("address identity", args...)
	}
	for _, r := range h.NameListings {
		logger.Debug("blocklist result", "mx", h.Name, "zone", r.Zone, "verdict", r.Verdict, "dnsbl_error", r.Error, "cached", r.Cached)
	}
	if h.Parity != "" {
		logger.Debug("IPv6 parity", "mx", h.Name, "parity", h.Parity)
	}
}
