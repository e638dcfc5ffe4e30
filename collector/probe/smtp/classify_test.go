package smtp

import (
	"strings"
	"testing"
)

func TestReplyStart(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"", true}, {"2", true}, {"25", true}, {"250", true}, {"250 ", true}, {"250-", true},
		{"250\r", true}, {"250\n", true}, {"554 ", true}, {"220 ESMTP", true},
		{"1", false}, {"6", false}, {"S", false}, {"SSH-2.0-OpenSSH_9.2p1", false},
		{"HTTP/1.1 400", false}, {"2x", false}, {"25x", false}, {"2500", false}, {"250+", false},
		{" 250", false}, {"\r\n", false}, {"\x16\x03\x01", false}, {"\xff\xfd\x18", false},
	}
	for _, tt := range tests {
		if got := replyStart([]byte(tt.in)); got != tt.want {
			t.Fatalf("replyStart(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestLooksGreylisted(t *testing.T) {
	tests := []struct {
		name string
		r    Reply
		want bool
	}{
		{"postgrey", Reply{Code: 450, Enhanced: "4.2.0", Lines: []string{"<a@b>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/"}}, true},
		{"451 4.7.1", Reply{Code: 451, Enhanced: "4.7.1", Lines: []string{"Please try later"}}, true},
		{"450 4.7.1", Reply{Code: 450, Enhanced: "4.7.1", Lines: []string{"Service unavailable"}}, true},
		{"451 4.2.0", Reply{Code: 451, Enhanced: "4.2.0", Lines: []string{"hold on"}}, true},
		{"text only", Reply{Code: 451, Lines: []string{"you have been GREYLISTED"}}, true},
		{"gray list", Reply{Code: 450, Enhanced: "4.3.0", Lines: []string{"gray list in effect"}}, true},
		{"grey-list", Reply{Code: 452, Lines: []string{"grey-listing, come back"}}, true},
		{"try again later, second line", Reply{Code: 450, Enhanced: "4.3.2", Lines: []string{"busy", "Try Again Later"}}, true},
		{"452 4.2.0 on another code", Reply{Code: 452, Enhanced: "4.2.0", Lines: []string{"mailbox full"}}, false},
		{"450 mailbox busy", Reply{Code: 450, Enhanced: "4.2.1", Lines: []string{"mailbox busy"}}, false},
		{"421 never", Reply{Code: 421, Enhanced: "4.7.1", Lines: []string{"try again later"}}, false},
		{"5xx never", Reply{Code: 550, Enhanced: "5.7.1", Lines: []string{"greylisted forever"}}, false},
		{"2xx never", Reply{Code: 250, Lines: []string{"greylist ok"}}, false},
		{"no reply", Reply{}, false},
		{"non-ASCII look-alike", Reply{Code: 450, Lines: []string{"gr\u0435ylisted"}}, false},
	}
	for _, tt := range tests {
		if got := looksGreylisted(tt.r); got != tt.want {
			t.Fatalf("%s: looksGreylisted(%+v) = %v, want %v", tt.name, tt.r, got, tt.want)
		}
	}
}

func TestIsSyncError(t *testing.T) {
	tests := []struct {
		r    Reply
		want bool
	}{
		{Reply{Code: 554, Enhanced: "5.5.0", Lines: []string{"Error: SMTP protocol synchronization"}}, true},
		{Reply{Code: 554, Lines: []string{"SMTP synchronisation error"}}, true},
		{Reply{Code: 503, Enhanced: "5.5.1", Lines: []string{"protocol SYNCHRONIZATION error"}}, true},
		{Reply{Code: 554, Enhanced: "5.7.1", Lines: []string{"synchronization"}}, false},
		{Reply{Code: 554, Enhanced: "5.5.0", Lines: []string{"Error: bad command"}}, false},
		{Reply{Code: 421, Enhanced: "4.5.0", Lines: []string{"synchronization"}}, false},
		{Reply{}, false},
	}
	for _, tt := range tests {
		if got := isSyncError(tt.r); got != tt.want {
			t.Fatalf("isSyncError(%+v) = %v, want %v", tt.r, got, tt.want)
		}
	}
}

func TestMaskedGreeting(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  bool
	}{
		{"ASA, all masked", []string{strings.Repeat("*", 60)}, true},
		{"ASA, 2 0 0 left", []string{"****************2***0*0**************0*****"}, true},
		{"multi-line, all masked", []string{"********************", "*************"}, true},
		{"short run", []string{"*******"}, false},
		{"decoration", []string{"mx.example.com ESMTP ******** welcome to our server"}, false},
		{"ruler above text", []string{"****************************", "mx.example.com ESMTP"}, false},
		{"ordinary", []string{"mx.example.com ESMTP Postfix"}, false},
		{"half stars", []string{"******** abcdefgh"}, true},
		{"fewer than half", []string{"******** abcdefghi"}, false},
		{"empty line", []string{""}, false},
		{"no lines", nil, false},
	}
	for _, tt := range tests {
		if got := maskedGreeting(Reply{Code: 220, Lines: tt.lines}); got != tt.want {
			t.Fatalf("%s: maskedGreeting(%q) = %v, want %v", tt.name, tt.lines, got, tt.want)
		}
	}
}

func TestMaskedKeyword(t *testing.T) {
	for k, want := range map[string]bool{
		"XXXXXXXA": true, "XXXXXXXB": true, "XXXA": true, "XXX": true, "XXXXXXXX": true, "xxxxa": true,
		"XX": false, "XXA": false, "XXXAB": false, "XXX1": false, "XXX-": false, "X-EXPS": false,
		"XEXCH50": false, "STARTTLS": false, "": false, "AXXX": false,
	} {
		if got := maskedKeyword(k); got != want {
			t.Fatalf("maskedKeyword(%q) = %v, want %v", k, got, want)
		}
	}
}

func TestMaskedEHLO(t *testing.T) {
	tests := []struct {
		name             string
		lines            []string
		masked, stripped bool
	}{
		{"clean", []string{"mx", "PIPELINING", "STARTTLS"}, false, false},
		{"STARTTLS masked", []string{"mx", "PIPELINING", "XXXXXXXA", "8BITMIME"}, true, true},
		{"AUTH masked, STARTTLS there", []string{"mx", "XXXA", "starttls"}, true, false},
		{"8-letter mask next to STARTTLS", []string{"mx", "XXXXXXXB", "STARTTLS"}, true, false},
		{"only a short mask", []string{"mx", "XXXA"}, true, false},
		{"greeting looks masked: ignored", []string{"XXXXXXXA"}, false, false},
		{"no lines", nil, false, false},
	}
	for _, tt := range tests {
		masked, stripped := maskedEHLO(Reply{Code: 250, Lines: tt.lines})
		if masked != tt.masked || stripped != tt.stripped {
			t.Fatalf("%s: maskedEHLO(%q) = %v, %v; want %v, %v", tt.name, tt.lines, masked, stripped, tt.masked, tt.stripped)
		}
	}
}

func FuzzReplyStart(f *testing.F) {
	for _, s := range []string{"250 ", "SSH-2.0-OpenSSH_9.2p1\r\n", "HTTP/1.1 400", "\x16\x03\x01", "25", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// Every line ReadReply accepts must pass the early check, on every
		// prefix of it: the check must never refuse what the full parse takes.
		line := b
		if i := strings.IndexByte(string(b), '\n'); i >= 0 {
			line = b[:i]
		}
		line = []byte(strings.TrimSuffix(string(line), "\r"))
		if _, _, _, err := splitLine(line); err == nil {
			for n := 0; n <= min(len(b), 4); n++ {
				if !replyStart(b[:n]) {
					t.Fatalf("replyStart(%q) refuses the start of valid line %q", b[:n], line)
				}
			}
		}
		if len(b) > 0 && (b[0] < '2' || b[0] > '5') && replyStart(b) {
			t.Fatalf("replyStart(%q) accepts a line that cannot be a reply", b)
		}
	})
}

func FuzzLooksGreylisted(f *testing.F) {
	f.Add(450, "4.2.0", "Greylisted")
	f.Add(451, "", "try again later")
	f.Add(421, "4.7.1", "too many connections")
	f.Add(554, "5.5.0", "Error: SMTP protocol synchronization")
	f.Fuzz(func(t *testing.T, code int, enhanced, text string) {
		r := Reply{Code: code, Enhanced: enhanced, Lines: strings.Split(text, "\n")}
		if looksGreylisted(r) && (r.Class() != 4 || code == 421) {
			t.Fatalf("%+v called greylisting", r)
		}
		if isSyncError(r) && r.Class() != 5 {
			t.Fatalf("%+v called a synchronization error", r)
		}
		// Case must not matter, for ASCII.
		up := Reply{Code: code, Enhanced: enhanced, Lines: strings.Split(asciiUpper(text), "\n")}
		if looksGreylisted(r) != looksGreylisted(up) || isSyncError(r) != isSyncError(up) {
			t.Fatalf("%q and %q classified differently", text, asciiUpper(text))
		}
	})
}

func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func FuzzMasked(f *testing.F) {
	f.Add("****************2***0*0****\nmx", "mx\nXXXXXXXA\nXXXA\nPIPELINING")
	f.Add("mx.example.com ESMTP", "mx\nSTARTTLS")
	f.Fuzz(func(t *testing.T, greeting, ehlo string) {
		g := Reply{Code: 220, Lines: strings.Split(greeting, "\n")}
		if maskedGreeting(g) {
			for _, l := range g.Lines {
				if !strings.Contains(l, strings.Repeat("*", maskedRun)) {
					t.Fatalf("greeting %q masked without a run of %d asterisks in %q", greeting, maskedRun, l)
				}
			}
		}
		e := Reply{Code: 250, Lines: strings.Split(ehlo, "\n")}
		masked, stripped := maskedEHLO(e)
		if stripped && !masked {
			t.Fatalf("EHLO %q: STARTTLS stripped without a masked keyword", ehlo)
		}
		ext := ParseEHLO(e)
		if stripped && ext.Has("STARTTLS") {
			t.Fatalf("EHLO %q: STARTTLS stripped yet advertised", ehlo)
		}
		for _, k := range ext.Keywords {
			if maskedKeyword(k.Name) {
				t.Fatalf("EHLO %q: masked keyword %q kept", ehlo, k.Name)
			}
		}
	})
}
