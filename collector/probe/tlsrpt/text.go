package tlsrpt

import (
	"fmt"
	"strings"
)

// The helpers below are the TXT-field rules tlsrpt shares with mtasts
// (RFC 8460 section 3 took them from RFC 8461 section 3.1); they are small
// enough to keep a copy rather than have one protocol package import the
// other.

// quote returns s as a Go-quoted string of printable ASCII, cut at
// maxQuoted bytes: what a remote server sends can be shown to a person but
// never carries control sequences or invalid UTF-8.
func quote(s string) string {
	return fmt.Sprintf("%q", sanitize(s, maxQuoted))
}

// sanitize keeps s's printable ASCII, replaces other bytes by '?' and cuts
// the result at limit bytes, marking the cut with "...".
func sanitize(s string, limit int) string {
	cut := false
	if len(s) > limit {
		s, cut = s[:limit], true
	}
	var b strings.Builder
	b.Grow(len(s) + 3)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			c = '?'
		}
		b.WriteByte(c)
	}
	if cut {
		b.WriteString("...")
	}
	return b.String()
}

func isWSP(c byte) bool { return c == ' ' || c == '\t' }

func trimWSP(s string) string {
	return strings.TrimRight(strings.TrimLeft(s, " \t"), " \t")
}

func isAlphaDigit(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// validExtName: (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".").
func validExtName(s string) bool {
	if s == "" || len(s) > 32 || !isAlphaDigit(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlphaDigit(c) && c != '_' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// validExtValue: 1*(%x21-3A / %x3C / %x3E-7E).
func validExtValue(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '=' || c == ';' {
			return false
		}
	}
	return true
}
