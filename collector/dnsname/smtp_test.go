package dnsname

import (
	"strings"
	"testing"
)

func TestSMTPRules(t *testing.T) {
	const (
		ehlo     = "must be a host name or an address literal like [192.0.2.1] or [IPv6:2001:db8::1]"
		mailbox  = "must be an address like postmaster@example.com"
		brackets = mailbox + " without <>"
		spaces   = mailbox + " without spaces"
		vrfy     = "must be a user name or an address like postmaster@example.com"
	)
	tests := []struct {
		check func(string) error
		in    string
		want  string // "" for accepted
	}{
		{CheckEHLO, "probe.example.org", ""},
		{CheckEHLO, "[192.0.2.1]", ""},
		{CheckEHLO, "[IPv6:2001:db8::1]", ""},
		{CheckEHLO, "", ehlo},
		{CheckEHLO, "mail_1.example.com", ehlo},
		{CheckEHLO, "[2001:db8::1]", ehlo},
		{CheckEHLO, "[IPv6:192.0.2.1]", ehlo},
		{CheckEHLO, "[IPv6:fe80::1%eth0]", ehlo},
		{CheckEHLO, "probe.example.org\r\nDATA", ehlo},

		{CheckMailbox, "postmaster@example.com", ""},
		{CheckMailbox, "first.last+tag@example.com", ""},
		{CheckMailbox, "postmaster@[192.0.2.1]", ""},
		{CheckMailbox, "\"odd local\"x@example.com", spaces},
		{CheckMailbox, "", spaces},
		{CheckMailbox, "postmaster", mailbox},
		{CheckMailbox, "@example.com", mailbox},
		{CheckMailbox, "probe@", mailbox},
		{CheckMailbox, strings.Repeat("a", 65) + "@example.com", mailbox},
		{CheckMailbox, "<>", brackets},
		{CheckMailbox, "a@b> NOTIFY=NEVER", brackets},
		{CheckMailbox, "a@b.test\r\nDATA", spaces},
		{CheckMailbox, "relay test@example.net", spaces},
		{CheckMailbox, "a\u2028b@example.net", spaces},
		{CheckMailbox, "a\xffb@example.net", spaces},

		{CheckVRFY, "postmaster", ""},
		{CheckVRFY, "postmaster@example.com", ""},
		{CheckVRFY, "post master", vrfy},
		{CheckVRFY, "x\r", vrfy},
		{CheckVRFY, "postmaster@", mailbox},
	}
	for _, tt := range tests {
		err := tt.check(tt.in)
		if got := errString(err); got != tt.want {
			t.Errorf("check(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// FuzzSMTPRules checks the point of the rules: nothing they accept can end
// a command line early, add parameters or break out of <…>.
func FuzzSMTPRules(f *testing.F) {
	for _, s := range []string{"postmaster@example.com", "a@b>\r\nDATA", "[IPv6:2001:db8::1]", "postmaster", "x\u2028y@z.test"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, check := range map[string]func(string) error{"CheckEHLO": CheckEHLO, "CheckMailbox": CheckMailbox, "CheckVRFY": CheckVRFY} {
			if check(s) == nil && (s == "" || strings.ContainsAny(s, "\r\n\x00 \t<>") || strings.ContainsRune(s, '\u2028')) {
				t.Fatalf("%s accepts %q", name, s)
			}
		}
	})
}

func TestGreetingHostname(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{"mx1.Good.Test ESMTP Postfix", "mx1.good.test"},
		{"mx1.good.test.", "mx1.good.test"},
		{"mx1.good.test", "mx1.good.test"},
		{"", ""},
		{" mx1.good.test", ""},                  // the first word is empty
		{"**********************", ""},          // a middlebox's mask
		{"\u212aelvin.test ESMTP", ""},          // the Kelvin sign is no ASCII letter
		{"[192.0.2.1] ESMTP", ""},               // an address literal is no host name
		{"mx\x1b[31m.test ESMTP", ""},           // control bytes
		{strings.Repeat("a", 64) + ".test", ""}, // label too long
	} {
		if got := GreetingHostname(tc.line); got != tc.want {
			t.Fatalf("GreetingHostname(%q) = %q, want %q", tc.line, got, tc.want)
		}
	}
}
