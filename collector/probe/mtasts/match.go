package mtasts

import (
	"strings"

	"github.com/mx-exporter/mx_exporter/collector/dnsname"
)

// Match reports whether host matches an mx pattern: equal, or for "*.rest"
// exactly one more left-most label than rest (RFC 8461 section 4.1:
// "*.example.com" covers "mx.example.com", not "a.b.example.com" nor
// "example.com"). Both are compared without case (ASCII only, as host
// names are) and without a trailing dot.
func Match(pattern, host string) bool {
	pattern = strings.TrimSuffix(pattern, ".")
	host = strings.TrimSuffix(host, ".")
	if pattern == "" || host == "" {
		return false
	}
	if rest, ok := strings.CutPrefix(pattern, "*."); ok {
		label, parent, ok := strings.Cut(host, ".")
		return ok && label != "" && rest != "" && dnsname.EqualFoldASCII(parent, rest)
	}
	return dnsname.EqualFoldASCII(pattern, host)
}

// Covering returns the first of the policy's patterns that host matches,
// and whether one does.
func (p Policy) Covering(host string) (string, bool) {
	for _, pattern := range p.MX {
		if Match(pattern, host) {
			return pattern, true
		}
	}
	return "", false
}
