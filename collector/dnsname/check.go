package dnsname

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode"
)

// MaxNameLength is the longest host name in octets, without a trailing
// dot: 255 on the wire (RFC 1035 2.3.4) less the length octet of the first
// label and the root's zero octet.
const MaxNameLength = 253

// maxLabelLength is the longest label in octets (RFC 1035 2.3.4).
const maxLabelLength = 63

// maxTargetLength is the longest spelling of a target SplitTarget reads: a
// name of MaxNameLength with a trailing dot and ":65535". Anything longer is
// refused before it is parsed.
const maxTargetLength = MaxNameLength + len(".:65535")

// maxQuoted is how much of a refused input an error message quotes: enough
// to recognise it, never a megabyte echoed back to whoever sent it.
const maxQuoted = 64

// CheckHost says why s is not a host name as Valid has it, or returns nil
// when it is one. It is Valid with words, for the errors a person reads.
func CheckHost(s string) error {
	if Valid(s) {
		return nil
	}
	return explainHost(s)
}

// explainHost names the first rule of Valid that s breaks.
func explainHost(s string) error {
	switch {
	case s == "":
		return errors.New("is empty")
	case len(s) > MaxNameLength:
		return fmt.Errorf("is %d octets long; a host name has at most %d", len(s), MaxNameLength)
	case strings.ContainsFunc(s, isSpace):
		return errors.New("contains whitespace")
	case strings.Contains(s, `\`):
		return errors.New(`contains a backslash: DNS escapes such as \. or \046 are not part of a host name`)
	case !isASCIIString(s):
		return errors.New("is not ASCII: write an internationalised name as its A-label (xn--…)")
	}
	for label := range strings.SplitSeq(s, ".") {
		switch {
		case label == "":
			return errors.New("has an empty label (two dots in a row, or a dot at the start or end)")
		case len(label) > maxLabelLength:
			return fmt.Errorf("has a label of %d octets; a label has at most %d", len(label), maxLabelLength)
		case label[0] == '-' || label[len(label)-1] == '-':
			return fmt.Errorf("has the label %s, which begins or ends with a hyphen", quote(label))
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !isLDH(c) {
				return fmt.Errorf("contains %q: a host name has only letters, digits, hyphens and dots", c)
			}
		}
	}
	return errors.New("is not a host name")
}

// CheckQueryName checks a name before it is put in a DNS question: the
// presentation form a DNS library reads must be the name itself, label for
// label, so that what was checked is what is asked. Labels are printable
// ASCII other than the backslash (service labels such as _25._tcp or
// _mta-sts and the odd CNAME target have more than letters and digits),
// 1 to 63 octets, at most 253 in all; one trailing dot is allowed, and "."
// is the root. A backslash is refused because a DNS library reads it as an
// escape: "x\.allowed.test" would be asked as the two labels "x.allowed"
// and "test". Whitespace and control characters are refused: nothing is
// trimmed into a name.
func CheckQueryName(s string) error {
	if s == "." {
		return nil
	}
	name := strings.TrimSuffix(s, ".")
	switch {
	case name == "":
		return errors.New("empty name")
	case len(name) > MaxNameLength:
		return fmt.Errorf("name of %d octets; a DNS name has at most %d", len(name), MaxNameLength)
	case !isASCIIString(name):
		return fmt.Errorf("%s is not ASCII: give its A-label (punycode) form", quote(name))
	case strings.Contains(name, `\`):
		return fmt.Errorf(`%s contains a backslash: DNS escapes are not asked`, quote(name))
	}
	for label := range strings.SplitSeq(name, ".") {
		switch {
		case label == "":
			return fmt.Errorf("%s has an empty label", quote(name))
		case len(label) > maxLabelLength:
			return fmt.Errorf("%s has a label of %d octets; a label has at most %d", quote(name), len(label), maxLabelLength)
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; c <= ' ' || c > '~' {
				return fmt.Errorf("%s contains %q", quote(name), c)
			}
		}
	}
	return nil
}

// SplitTarget reads a target, in the config or on /probe, as SplitHostPort
// does, and more strictly: a target is a plain host name (Valid) or an IP
// address, with an optional port. It refuses, before anything else and
// with a reason a person can act on: an input longer than any target can
// be, whitespace anywhere, an IPv6 zone (it names an interface of this
// machine, not a mail server), and a name whose last label is all digits
// ("127.1", "0x7f.1"), which some address parsers read as an IPv4 address
// while a DNS server reads it as a name. What it returns is what is
// checked against the allow-list and what the resolver asks.
func SplitTarget(s string) (host string, port int, err error) {
	if len(s) > maxTargetLength {
		return "", 0, fmt.Errorf("is %d bytes long; a target is a host name of at most %d octets or an IP address, with an optional :port", len(s), MaxNameLength)
	}
	if strings.ContainsFunc(s, isSpace) {
		return "", 0, fmt.Errorf("%s contains whitespace", quote(s))
	}
	host, port, err = SplitHostPort(s)
	if err != nil {
		return "", 0, err
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return "", 0, fmt.Errorf("%s names an IPv6 zone (%%%s): a target is an address without one", quote(s), a.Zone())
		}
		return host, port, nil
	}
	last := host[strings.LastIndexByte(host, '.')+1:]
	if strings.Trim(last, "0123456789") == "" {
		return "", 0, fmt.Errorf("%s is neither an IP address nor a host name (the last label of a host name is not all digits)", quote(s))
	}
	return host, port, nil
}

// quote quotes s for an error message, cut to maxQuoted bytes with its
// length said when longer.
func quote(s string) string {
	if len(s) <= maxQuoted {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q… (%d bytes)", s[:maxQuoted], len(s))
}

// isSpace is unicode.IsSpace on the runes of a string read as UTF-8; an
// invalid byte is no space (it is refused as non-ASCII).
func isSpace(r rune) bool { return unicode.IsSpace(r) }

func isLDH(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
}

func isASCIIString(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
