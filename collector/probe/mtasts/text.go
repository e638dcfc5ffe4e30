package mtasts

import (
	"fmt"
	"strings"
)

// maxQuoted caps the bytes of remote text (a TXT record, a policy line, a
// Location header) quoted in a Detail: enough to recognise the text, not
// enough for a hostile server to fill a report.
const maxQuoted = 200

// quote returns s as a Go-quoted string of printable ASCII, cut at
// maxQuoted bytes: everything else is replaced by '?', so that what a
// remote server sends can be shown to a person but never carries control
// sequences or invalid UTF-8 into a log, a page or a label.
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

// isWSP is ABNF's WSP (RFC 5234): space or horizontal tab.
func isWSP(c byte) bool { return c == ' ' || c == '\t' }

// trimWSP drops leading and trailing WSP.
func trimWSP(s string) string {
	return strings.TrimRight(strings.TrimLeft(s, " \t"), " \t")
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// validExtName reports whether s is an sts-ext-name (RFC 8461 sections
// 3.1 and 3.2, the same rule for TXT fields and policy keys):
// (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".").
func validExtName(s string) bool {
	if s == "" || len(s) > 32 || !isAlpha(s[0]) && !isDigit(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !isDigit(c) && c != '_' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}
