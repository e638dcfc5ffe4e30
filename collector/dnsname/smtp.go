package dnsname

import (
	"errors"
	"net/netip"
	"strings"
	"unicode/utf8"
)

// The SMTP-safety rules: what the probe may put after EHLO, MAIL FROM,
// RCPT TO and VRFY. The config checks them at load, where each error gets
// its file, line and key; smtp.Options.Validate checks them again before
// connecting, for settings built in code (the probe command's flags). Above
// all, nothing that goes into a command may carry a line break: a recipient
// "a@b>\r\nDATA" would otherwise make the probe send DATA.
//
// Each error says what is wanted; the caller adds what it got.

var (
	errEHLO = errors.New("must be a host name or an address literal like [192.0.2.1] or [IPv6:2001:db8::1]")
	errVRFY = errors.New("must be a user name or an address like postmaster@example.com")

	errMailbox         = errors.New("must be an address like postmaster@example.com")
	errMailboxBrackets = errors.New("must be an address like postmaster@example.com without <>")
	errMailboxSpaces   = errors.New("must be an address like postmaster@example.com without spaces")
)

// CheckEHLO checks the name sent with EHLO and HELO: a host name or an
// address literal (RFC 5321 4.1.1.1).
func CheckEHLO(s string) error {
	if !Valid(s) && !ValidAddressLiteral(s) {
		return errEHLO
	}
	return nil
}

// ValidAddressLiteral accepts the RFC 5321 address literals [192.0.2.1] and
// [IPv6:2001:db8::1].
func ValidAddressLiteral(s string) bool {
	inner, ok := strings.CutPrefix(s, "[")
	if !ok {
		return false
	}
	if inner, ok = strings.CutSuffix(inner, "]"); !ok {
		return false
	}
	if v6, ok := strings.CutPrefix(inner, "IPv6:"); ok {
		a, err := netip.ParseAddr(v6)
		return err == nil && a.Is6() && a.Zone() == ""
	}
	a, err := netip.ParseAddr(inner)
	return err == nil && a.Is4()
}

// CheckMailbox checks an address for MAIL FROM or RCPT TO: a plausible
// local@domain. It is deliberately loose about the local part (servers
// differ) and strict about what would break the SMTP command line. The null
// sender is the caller's to allow: "" is no mailbox.
func CheckMailbox(s string) error {
	if strings.ContainsAny(s, "<>") {
		return errMailboxBrackets
	}
	if !plainText(s) {
		return errMailboxSpaces
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at > 64 {
		return errMailbox
	}
	if domain := s[at+1:]; !Valid(domain) && !ValidAddressLiteral(domain) {
		return errMailbox
	}
	return nil
}

// CheckVRFY checks the argument of VRFY: a mailbox, or a user name.
func CheckVRFY(s string) error {
	if strings.Contains(s, "@") {
		return CheckMailbox(s)
	}
	if !plainText(s) {
		return errVRFY
	}
	return nil
}

// plainText reports whether s is non-empty valid UTF-8 without spaces,
// control characters or angle brackets: safe inside an SMTP command.
func plainText(s string) bool {
	if s == "" || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r == '<' || r == '>' || r == 0x85 || r == 0xa0 || r == 0x2028 || r == 0x2029 {
			return false
		}
	}
	return true
}

// GreetingHostname is the host name a server names itself by in the first
// line of its 220 greeting or its EHLO reply (RFC 5321 sections 4.2 and
// 4.1.1.1: the first word), normalised; "" when that word is not a valid
// host name. It is validated before it is lower-cased: strings.ToLower
// would turn the Kelvin sign into "k", and non-ASCII text would pass.
func GreetingHostname(line string) string {
	word, _, _ := strings.Cut(line, " ")
	word = strings.TrimSuffix(word, ".")
	if !Valid(word) {
		return ""
	}
	return Normalize(word)
}
