package smtp

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestTranscriptCaps(t *testing.T) {
	tests := []struct {
		maxLines, added int
		wantLen         int
		wantTruncated   bool
		wantFirst       string
		wantLast        string
	}{
		{maxLines: 200, added: 10, wantLen: 10, wantFirst: "line 0", wantLast: "line 9"},
		// 20 lines: 14 from the head, an omission note, 5 from the tail.
		{maxLines: 20, added: 100, wantLen: 20, wantTruncated: true, wantFirst: "line 0", wantLast: "line 99"},
		{maxLines: 20, added: 19, wantLen: 19, wantFirst: "line 0", wantLast: "line 18"},
		// Too small for a tail: the head only.
		{maxLines: 4, added: 10, wantLen: 4, wantTruncated: true, wantFirst: "line 0", wantLast: "line 3"},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%d lines capped at %d", tt.added, tt.maxLines)
		tr := newTranscript(time.Now(), tt.maxLines, 512)
		for i := range tt.added {
			tr.add(Received, []byte(fmt.Sprintf("line %d", i)))
		}
		lines, truncated := tr.lines()
		if len(lines) != tt.wantLen || truncated != tt.wantTruncated ||
			lines[0].Text != tt.wantFirst || lines[len(lines)-1].Text != tt.wantLast {
			t.Fatalf("%s: %d lines (truncated %v) from %q to %q; want %d (%v) from %q to %q",
				name, len(lines), truncated, lines[0].Text, lines[len(lines)-1].Text,
				tt.wantLen, tt.wantTruncated, tt.wantFirst, tt.wantLast)
		}
		for i := 1; i < len(lines); i++ {
			if lines[i].At < lines[i-1].At {
				t.Fatalf("%s: line %d at %v before line %d at %v", name, i, lines[i].At, i-1, lines[i-1].At)
			}
		}
	}
}

func TestTranscriptLongLine(t *testing.T) {
	tr := newTranscript(time.Now(), 10, 16)
	tr.add(Received, []byte(strings.Repeat("x", 100)))
	lines, truncated := tr.lines()
	if !truncated || len(lines[0].Text) > 16 {
		t.Fatalf("line %q (truncated %v), want at most 16 bytes, truncated", lines[0].Text, truncated)
	}
}

func TestBannerHostname(t *testing.T) {
	long := strings.Repeat("a", 63)
	tests := []struct {
		first string
		want  string
	}{
		{"mx1.good.test ESMTP Postfix (Debian/GNU)", "mx1.good.test"},
		{"MX.Example.COM. ready", "mx.example.com"},
		{"localhost", "localhost"},
		{"mx-1.example.com", "mx-1.example.com"},
		{"", ""},
		{" mx.example.com", ""},
		{"[127.0.0.1] hi", ""},
		{"-mx.example.com", ""},
		{"mx-.example.com", ""},
		{"mx..example.com", ""},
		{"mx_1.example.com", ""},
		{"mx.exämple.com", ""},
		{"<script>", ""},
		{long + ".com", long + ".com"},
		{long + "a.com", ""},
		{strings.Repeat(long+".", 4)[:253], strings.Repeat(long+".", 4)[:253]},
		{strings.Repeat(long+".", 4)[:254] + "a", ""},
	}
	for _, tt := range tests {
		if got := bannerHostname(Reply{Code: 220, Lines: []string{tt.first, "second line"}}); got != tt.want {
			t.Fatalf("bannerHostname(%q) = %q, want %q", tt.first, got, tt.want)
		}
	}
	if got := bannerHostname(Reply{}); got != "" {
		t.Fatalf("bannerHostname of no reply = %q, want \"\"", got)
	}
}

func TestOptionsValidate(t *testing.T) {
	ok := Options{EHLOName: "probe.test", MailFrom: "a@b.test", Recipients: []string{"c@d.test"}}
	tests := []struct {
		name    string
		mod     func(*Options)
		wantErr string
	}{
		{name: "valid", mod: func(*Options) {}},
		{name: "null sender", mod: func(o *Options) { o.MailFrom = "" }},
		{name: "no EHLO name", mod: func(o *Options) { o.EHLOName = "" }, wantErr: `EHLO name: must be a host name or an address literal like [192.0.2.1] or [IPv6:2001:db8::1], got ""`},
		{name: "EHLO name with space", mod: func(o *Options) { o.EHLOName = "a b" }, wantErr: `EHLO name: must be a host name or an address literal`},
		{name: "EHLO address literal", mod: func(o *Options) { o.EHLOName = "[IPv6:2001:db8::1]" }},
		{name: "CRLF in recipient", mod: func(o *Options) { o.Recipients = []string{"a@b>\r\nDATA"} }, wantErr: `recipient: must be an address like postmaster@example.com without <>, got "a@b>\r\nDATA"`},
		{name: "empty recipient", mod: func(o *Options) { o.Recipients = []string{""} }, wantErr: `recipient: must be an address like postmaster@example.com without spaces, got ""`},
		{name: "recipient without domain", mod: func(o *Options) { o.Recipients = []string{"postmaster"} }, wantErr: `recipient: must be an address like postmaster@example.com, got "postmaster"`},
		{name: "LF in sender", mod: func(o *Options) { o.MailFrom = "a\n" }, wantErr: "mail_from: must be an address"},
		{name: "bracket in relay check", mod: func(o *Options) { o.RelayCheck = "a@b> NOTIFY=NEVER" }, wantErr: "relay_check: must be an address"},
		{name: "CR in VRFY", mod: func(o *Options) { o.VRFY = "x\r" }, wantErr: `vrfy: must be a user name or an address like postmaster@example.com, got "x\r"`},
		{name: "VRFY of a user name", mod: func(o *Options) { o.VRFY = "postmaster" }},
		{name: "TLS server name with a blank", mod: func(o *Options) { o.TLSServerName = "mx .test" }, wantErr: "tls server name: must be a host name"},
		{name: "bad port", mod: func(o *Options) { o.Port = 70000 }, wantErr: "port"},
		{name: "bad mode", mod: func(o *Options) { o.StartTLS = "sometimes" }, wantErr: "starttls"},
	}
	for _, tt := range tests {
		o := ok
		tt.mod(&o)
		err := o.Validate()
		if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Fatalf("%s: Validate() = %v, want an error containing %q", tt.name, err, tt.wantErr)
		}
	}
}
