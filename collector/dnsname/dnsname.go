// Package dnsname holds the one host-name check that the config, the SMTP
// dialogue (banner host names become a metric label) and everything else
// share, so that what the config accepts and what a label may carry never
// drift apart.
package dnsname

import "strings"

// Valid reports whether s is a host name as RFC 1123 and RFC 5321 have it:
// dot-separated labels of letters, digits and inner hyphens, at most 63
// bytes each and 253 in all. No trailing dot, no underscores.
func Valid(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
