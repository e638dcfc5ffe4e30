package dnsmx

import (
	"context"
	"net/netip"
)

// ReversedLabels is addr written as the labels of its reverse name, without
// a suffix: "1.1.0.127" for 127.0.1.1, 32 nibbles from the last for an IPv6
// address (RFC 3596 section 2.5). DNS blocklists (RFC 5782 section 2.1,
// 2.4) put their zone after the same labels. An IPv4-mapped IPv6 address is
// written as the IPv4 address it maps.
func ReversedLabels(addr netip.Addr) string { panic("dnsmx.ReversedLabels: not built yet") }

// ReverseName is addr's PTR name: ReversedLabels + ".in-addr.arpa" or
// ".ip6.arpa", no trailing dot.
func ReverseName(addr netip.Addr) string { panic("dnsmx.ReverseName: not built yet") }

// PTR looks up the PTR records of addr.
func (r *Resolver) PTR(ctx context.Context, addr netip.Addr) PTRLookup {
	panic("dnsmx.Resolver.PTR: not built yet")
}
