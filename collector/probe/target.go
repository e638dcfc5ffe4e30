package probe

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/mx-exporter/mx_exporter/collector/dnsname"
)

// Target is one thing to probe: a mail domain, or a host probed directly.
type Target struct {
	Domain string // MX lookup; exclusive with Host
	Host   string // host name or IP literal, no MX lookup
	Port   int    // overrides Settings.SMTP.Port for a host target; 0 keeps it
}

// Name is the domain or the host, as configured.
func (t Target) Name() string {
	if t.Domain != "" {
		return t.Domain
	}
	return t.Host
}

// ParseTarget reads what a person types: anything with a port, or an IP
// literal, is a host probed directly; a bare name is a mail domain whose MX
// records are looked up (a host name without port is a domain too: if it
// has no MX, its own address is its implicit MX).
func ParseTarget(s string) (Target, error) {
	host, port, err := SplitHostPort(s)
	if err != nil {
		return Target{}, fmt.Errorf("target %q: %w", s, err)
	}
	host = strings.Trim(host, "[]")
	if host == "" {
		return Target{}, fmt.Errorf("target %q: no host", s)
	}
	if _, err := netip.ParseAddr(host); err == nil || port != 0 {
		return Target{Host: host, Port: port}, nil
	}
	return Target{Domain: dnsname.Normalize(host)}, nil
}

// SplitHostPort splits "host", "host:port", "ip" or "[v6]:port" into the host
// and the port (0 when none was given).
func SplitHostPort(s string) (host string, port int, err error) {
	if _, err := netip.ParseAddr(s); err == nil || !strings.Contains(s, ":") {
		return s, 0, nil
	}
	h, ps, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(ps)
	if err != nil || n < 1 || n > 65535 {
		return "", 0, &net.AddrError{Err: "invalid port", Addr: s}
	}
	return h, n, nil
}
