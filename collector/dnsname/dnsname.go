// Package dnsname holds the rules for the names mx_exporter reads and sends,
// written once: the host-name check and normalisation (banner host names
// become a metric label), the host[:port] reader and the canonical name of a
// host target, and the SMTP-safety rules for EHLO names and mail addresses.
// The config, the probe engine, the people side and the Prometheus side
// share them, so that what the config accepts, what a person may type, what
// a label may carry and what the probe may send never drift apart. It
// imports nothing else of the project, so that the config may use it.
package dnsname

import "strings"

// Valid reports whether s is a host name as RFC 1123 and RFC 5321 have it:
// dot-separated labels of letters, digits and inner hyphens, at most 63
// bytes each and 253 in all. No trailing dot, no underscores.
func Valid(s string) bool {
	if s == "" || len(s) > MaxNameLength {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > maxLabelLength || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if !isLDH(label[i]) {
				return false
			}
		}
	}
	return true
}

// Normalize is the one canonical form of a host or domain name: lower case,
// without the trailing dot of a fully qualified name, so that "MX1.Example.COM."
// and "mx1.example.com" are one name in config, store keys, labels and
// queries. It does not validate; see Valid.
func Normalize(s string) string {
	return strings.ToLower(strings.TrimSuffix(s, "."))
}

// EqualFoldASCII reports whether a and b are equal ignoring ASCII case
// only, as DNS compares names (RFC 4343). strings.EqualFold would also fold
// Unicode, equating the Kelvin sign (U+212A) with "k", which no DNS server
// does and which would let non-ASCII text pass for an ASCII host name or
// protocol keyword.
func EqualFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
