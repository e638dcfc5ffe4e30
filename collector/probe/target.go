package probe

import (
	"fmt"
	"net/netip"

	"github.com/mx-exporter/mx_exporter/collector/dnsname"
)

// Target is one thing to probe: a mail domain, or a host probed directly.
// Its fields are in canonical form (dnsname.Normalize for names, netip's
// form for addresses), as ParseTarget and the config give them.
type Target struct {
	Domain string // MX lookup; exclusive with Host
	Host   string // host name or IP address, no brackets, no MX lookup
	Port   int    // overrides Settings.SMTP.Port for a host target; 0 keeps it
}

// Name is the one name of the target: the domain, or the host with its port
// when it names one (dnsname.JoinHostPort). The config names its targets the
// same way, so that store keys, the scheduler, the domain label, reports and
// the /probe allow-list agree on which target is which.
func (t Target) Name() string {
	if t.Domain != "" {
		return t.Domain
	}
	return dnsname.JoinHostPort(t.Host, t.Port)
}

// ParseTarget reads what a person types: anything with a port, or an IP
// address, is a host probed directly; a bare name is a mail domain whose MX
// records are looked up (a host name without port is a domain too: if it
// has no MX, its own address is its implicit MX). It reads a target as the
// config does (dnsname.SplitTarget): a plain host name or an IP address,
// nothing trimmed or unescaped, so that the name the /probe allow-list
// judges is the name the resolver asks.
func ParseTarget(s string) (Target, error) {
	host, port, err := dnsname.SplitTarget(s)
	if err != nil {
		return Target{}, fmt.Errorf("target: %w", err)
	}
	if _, err := netip.ParseAddr(host); err == nil || port != 0 {
		return Target{Host: host, Port: port}, nil
	}
	return Target{Domain: host}, nil
}

// IsAddr reports whether the target is a host given as an IP address: no
// DNS is asked for it, and no DANE applies (there is no name to look up
// TLSA records for).
func (t Target) IsAddr() bool {
	if t.Domain != "" {
		return false
	}
	_, err := netip.ParseAddr(t.Host)
	return err == nil
}
