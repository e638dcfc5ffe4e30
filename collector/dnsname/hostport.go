package dnsname

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// SplitHostPort is the one reader of "host[:port]": host targets in the
// config and on the command line, /probe's target parameter, DNS resolver
// addresses. It accepts a host name, an IP address, either with ":port", an
// IPv6 address in brackets with or without a port ("[2001:db8::1]:25"), and
// an IPv4 address in brackets, as mail people write address literals
// ("[192.0.2.1]").
//
// The host comes back in its canonical form: a name as Normalize gives it
// (and Valid), an address as netip prints it, brackets removed. port is 0
// when s gives none: the caller's default applies. JoinHostPort turns the
// two back into the canonical spelling of s.
func SplitHostPort(s string) (host string, port int, err error) {
	bad := fmt.Errorf(`must be "host", "host:port", an IP address or "[ipv6]:port", got %s`, quote(s))
	badName := func(name string) error {
		if name == "" {
			return bad
		}
		return fmt.Errorf(`must be "host", "host:port", an IP address or "[ipv6]:port", got %s: the host %w`, quote(s), explainHost(name))
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.String(), 0, nil
	}
	if inner, ok := strings.CutPrefix(s, "["); ok {
		if inner, ok := strings.CutSuffix(inner, "]"); ok {
			if a, err := netip.ParseAddr(inner); err == nil {
				return a.String(), 0, nil
			}
			return "", 0, bad
		}
	}
	h, p, splitErr := net.SplitHostPort(s)
	if splitErr != nil {
		// No port: a bare host name.
		h = Normalize(s)
		if strings.Contains(s, ":") {
			return "", 0, bad
		}
		if !Valid(h) {
			return "", 0, badName(h)
		}
		return h, 0, nil
	}
	if a, err := netip.ParseAddr(h); err == nil {
		h = a.String()
	} else {
		h = Normalize(h)
		if !Valid(h) {
			return "", 0, badName(h)
		}
	}
	// Atoi takes a sign; a port does not.
	port, err = strconv.Atoi(p)
	if err != nil || port < 1 || port > 65535 || p[0] == '+' {
		return "", 0, fmt.Errorf("port must be a number from 1 to 65535, got %s in %s", quote(p), quote(s))
	}
	return h, port, nil
}

// JoinHostPort is the canonical name of a host target, the inverse of
// SplitHostPort: the host alone when port is 0, else host:port, an IPv6
// address in brackets. Config, store keys, the scheduler, reports and
// /probe all name a host target this way, so that one target has one name.
func JoinHostPort(host string, port int) string {
	if port == 0 {
		return host
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}
