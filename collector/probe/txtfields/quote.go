package txtfields

import (
	"fmt"
	"strings"
)

// MaxQuoted caps the bytes of remote text (a TXT record, a policy line, a
// Location header) that Quote keeps: enough to recognise the text, not
// enough for a hostile server to fill a report.
const MaxQuoted = 200

// Quote returns s as a Go-quoted string of printable ASCII, cut at
// MaxQuoted bytes: everything else is replaced by '?', so that what a
// remote server sends can be shown to a person but never carries control
// sequences or invalid UTF-8 into a log, a page or a label.
func Quote(s string) string {
	return fmt.Sprintf("%q", Sanitize(s, MaxQuoted))
}

// Sanitize keeps s's printable ASCII, replaces other bytes by '?' and cuts
// the result at limit bytes, marking the cut with "...".
func Sanitize(s string, limit int) string {
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
