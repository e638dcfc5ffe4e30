package ondemand

import (
	"fmt"
	"net/netip"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/config"
)

// DialAllowed is the address check for a probe of t that Check allowed
// (probe.Settings.DialAllowed), as probe_endpoint.allow.resolved_addresses
// says: whoever controls the DNS of an allowed domain would otherwise
// choose what the exporter connects to, its own loopback or the private
// network behind it included. It is nil, and every address is dialled,
// for a configured target (the operator named it), for a target given as
// an address (Check judged that address) and with resolved_addresses: any.
func (a *Allowlist) DialAllowed(t probe.Target) func(netip.Addr) error {
	if a.configured[t.Name()] || t.IsAddr() || a.resolved == config.ResolvedAny {
		return nil
	}
	return a.resolvedAddressAllowed
}

// resolvedAddressAllowed says why addr, which DNS gave for a target /probe
// probes, may not be dialled, or returns nil.
func (a *Allowlist) resolvedAddressAllowed(addr netip.Addr) error {
	for _, n := range a.networks {
		// An IPv4-mapped IPv6 address reaches its IPv4 address.
		if n.Contains(addr) || n.Contains(addr.Unmap()) {
			return nil
		}
	}
	if a.resolved == config.ResolvedNetworks {
		return fmt.Errorf("%s is outside probe_endpoint.allow.networks (resolved_addresses: networks)", addr)
	}
	if r := dnsmx.SpecialRange(addr); r != "" {
		return fmt.Errorf("%s is a special-purpose address (%s) outside probe_endpoint.allow.networks (resolved_addresses: public)", addr, r)
	}
	return nil
}
