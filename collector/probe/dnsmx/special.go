package dnsmx

import (
	"cmp"
	"net/netip"
	"slices"
)

// Names of the special-purpose ranges: the values of SpecialAddr.Range.
const (
	RangeUnspecified   = "unspecified"   // 0.0.0.0/8, ::/128
	RangeLoopback      = "loopback"      // 127.0.0.0/8, ::1/128
	RangePrivate       = "private"       // RFC 1918, fc00::/7 (unique local)
	RangeShared        = "shared"        // 100.64.0.0/10 (carrier-grade NAT)
	RangeLinkLocal     = "link_local"    // 169.254.0.0/16, fe80::/10
	RangeDocumentation = "documentation" // 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32, 3fff::/20
	RangeBenchmarking  = "benchmarking"  // 198.18.0.0/15, 2001:2::/48
	RangeMulticast     = "multicast"     // 224.0.0.0/4, ff00::/8
	RangeReserved      = "reserved"      // 240.0.0.0/4 with the broadcast address, IETF protocol assignments, IPv6 outside 2000::/3
	RangeIPv4Mapped    = "ipv4_mapped"   // ::ffff:0:0/96
)

// SpecialRanges lists every value SpecialRange returns besides "": a
// bounded set, fit for a label value.
var SpecialRanges = []string{
	RangeUnspecified, RangeLoopback, RangePrivate, RangeShared, RangeLinkLocal,
	RangeDocumentation, RangeBenchmarking, RangeMulticast, RangeReserved, RangeIPv4Mapped,
}

// specialPrefix is one row of the table SpecialRange consults. An empty
// name carves a block that senders can reach out of a wider special one.
type specialPrefix struct {
	prefix netip.Prefix
	name   string
}

// specialTable follows IANA's IPv4 and IPv6 Special-Purpose Address
// Registries (RFC 6890; iana-ipv4-special-registry and
// iana-ipv6-special-registry): the blocks whose "Globally Reachable" column
// says False or that are deprecated, plus multicast (RFC 5771, RFC 4291
// 2.7). Blocks the registries mark globally reachable are not special, odd
// as an MX there would be: AS112 (192.31.196.0/24, 192.175.48.0/24,
// 2001:4:112::/48, 2620:4f:8000::/48), AMT (192.52.193.0/24, 2001:3::/32),
// the PCP, TURN and SRP anycast addresses, ORCHIDv2, the drone tags. Nor are
// Teredo (2001::/32), 6to4 (2002::/16) and the former 6to4 relay anycast
// (192.88.99.0/24), "N/A" there: their addresses are routed.
//
// The rows are sorted longest prefix first, so that the first match is the
// most specific block; the last IPv6 rows say that what is outside global
// unicast (2000::/3) and not named above is reserved by the IETF (the IPv6
// Address Space registry): IPv4-compatible addresses, 100::/64 (discard
// only), 5f00::/16 (SRv6), fec0::/10 (site-local, deprecated), …
var specialTable = sortedBySpecificity([]specialPrefix{
	{netip.MustParsePrefix("0.0.0.0/8"), RangeUnspecified},         // "this network", RFC 791 3.2; 0.0.0.0/32, RFC 1122
	{netip.MustParsePrefix("10.0.0.0/8"), RangePrivate},            // RFC 1918
	{netip.MustParsePrefix("100.64.0.0/10"), RangeShared},          // RFC 6598
	{netip.MustParsePrefix("127.0.0.0/8"), RangeLoopback},          // RFC 1122 3.2.1.3
	{netip.MustParsePrefix("169.254.0.0/16"), RangeLinkLocal},      // RFC 3927
	{netip.MustParsePrefix("172.16.0.0/12"), RangePrivate},         // RFC 1918
	{netip.MustParsePrefix("192.0.0.0/24"), RangeReserved},         // IETF protocol assignments, RFC 6890 2.1
	{netip.MustParsePrefix("192.0.0.9/32"), ""},                    // PCP anycast, RFC 7723
	{netip.MustParsePrefix("192.0.0.10/32"), ""},                   // TURN anycast, RFC 8155
	{netip.MustParsePrefix("192.0.2.0/24"), RangeDocumentation},    // TEST-NET-1, RFC 5737
	{netip.MustParsePrefix("192.168.0.0/16"), RangePrivate},        // RFC 1918
	{netip.MustParsePrefix("198.18.0.0/15"), RangeBenchmarking},    // RFC 2544
	{netip.MustParsePrefix("198.51.100.0/24"), RangeDocumentation}, // TEST-NET-2, RFC 5737
	{netip.MustParsePrefix("203.0.113.0/24"), RangeDocumentation},  // TEST-NET-3, RFC 5737
	{netip.MustParsePrefix("224.0.0.0/4"), RangeMulticast},         // RFC 5771
	{netip.MustParsePrefix("240.0.0.0/4"), RangeReserved},          // RFC 1112 4; holds 255.255.255.255, RFC 919 7

	{netip.MustParsePrefix("::/128"), RangeUnspecified},          // RFC 4291 2.5.2
	{netip.MustParsePrefix("::1/128"), RangeLoopback},            // RFC 4291 2.5.3
	{netip.MustParsePrefix("::ffff:0:0/96"), RangeIPv4Mapped},    // RFC 4291 2.5.5.2
	{netip.MustParsePrefix("64:ff9b:1::/48"), ""},                // local-use NAT64, RFC 8215: see SpecialRange
	{netip.MustParsePrefix("2001::/23"), RangeReserved},          // IETF protocol assignments, RFC 2928
	{netip.MustParsePrefix("2001::/32"), ""},                     // Teredo, RFC 4380
	{netip.MustParsePrefix("2001:1::1/128"), ""},                 // PCP anycast, RFC 7723
	{netip.MustParsePrefix("2001:1::2/128"), ""},                 // TURN anycast, RFC 8155
	{netip.MustParsePrefix("2001:1::3/128"), ""},                 // DNS-SD SRP anycast, RFC 9665
	{netip.MustParsePrefix("2001:2::/48"), RangeBenchmarking},    // RFC 5180
	{netip.MustParsePrefix("2001:3::/32"), ""},                   // AMT, RFC 7450
	{netip.MustParsePrefix("2001:4:112::/48"), ""},               // AS112-v6, RFC 7535
	{netip.MustParsePrefix("2001:20::/28"), ""},                  // ORCHIDv2, RFC 7343
	{netip.MustParsePrefix("2001:30::/28"), ""},                  // drone remote ID tags, RFC 9374
	{netip.MustParsePrefix("2001:db8::/32"), RangeDocumentation}, // RFC 3849
	{netip.MustParsePrefix("3fff::/20"), RangeDocumentation},     // RFC 9637
	{netip.MustParsePrefix("fc00::/7"), RangePrivate},            // unique local, RFC 4193
	{netip.MustParsePrefix("fe80::/10"), RangeLinkLocal},         // RFC 4291 2.5.6
	{netip.MustParsePrefix("ff00::/8"), RangeMulticast},          // RFC 4291 2.7
	{netip.MustParsePrefix("2000::/3"), ""},                      // global unicast, RFC 4291 2.4
	{netip.MustParsePrefix("::/0"), RangeReserved},               // the rest of IPv6
})

// nat64WellKnown is the well-known NAT64 prefix (RFC 6052 2.1).
var nat64WellKnown = netip.MustParsePrefix("64:ff9b::/96")

func sortedBySpecificity(rows []specialPrefix) []specialPrefix {
	slices.SortStableFunc(rows, func(a, b specialPrefix) int { return cmp.Compare(b.prefix.Bits(), a.prefix.Bits()) })
	return rows
}

// SpecialRange names the special-purpose range a holds (one of
// SpecialRanges), or returns "" for an address senders on the internet can
// reach, and for the zero Addr. The zone of an IPv6 address is ignored.
//
// An IPv4-mapped IPv6 address (::ffff:192.0.2.1) is RangeIPv4Mapped
// whatever IPv4 address it holds: in an AAAA record it is no IPv6 address at
// all. An IPv4 address is never taken for its mapped form or the reverse.
//
// NAT64 addresses are judged by what a sender would reach: a resolver doing
// DNS64 (RFC 6147) makes them up from A records for the exporter's own
// network, so an address in the well-known prefix 64:ff9b::/96 gets the
// range of the IPv4 address it embeds, and the local-use prefix
// 64:ff9b:1::/48 (RFC 8215), whose embedding depends on the operator's
// prefix length, is not special.
func SpecialRange(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	a = a.WithZone("")
	if nat64WellKnown.Contains(a) {
		b := a.As16()
		return SpecialRange(netip.AddrFrom4([4]byte(b[12:])))
	}
	for _, row := range specialTable {
		if row.prefix.Contains(a) {
			return row.name
		}
	}
	return ""
}

// specialAddrs lists the addresses of addrs in special-purpose ranges, in
// the order of addrs; nil when there is none.
func specialAddrs(addrs []netip.Addr) []SpecialAddr {
	var out []SpecialAddr
	for _, a := range addrs {
		if r := SpecialRange(a); r != "" {
			out = append(out, SpecialAddr{Addr: a, Range: r})
		}
	}
	return out
}
