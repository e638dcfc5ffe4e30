package smtp

import "github.com/mx-exporter/mx_exporter/collector/dnsname"

// Pure classifiers of what a server sent. Each one names a situation a mail
// admin knows (greylisting, a Cisco ASA rewriting the session, an SSH daemon
// on port 25) from the reply alone, so that it can be tested and fuzzed
// without a connection.

// replyStart reports whether b, the first bytes of a line as far as they
// have arrived, can begin an SMTP reply line (RFC 5321 4.2): a digit 2 to
// 5, two more digits, then a space, a hyphen or the line end. Only the bytes
// present are judged: "2" and "25" can still become "250 ok", while "S"
// (an SSH banner) or "H" (HTTP) never can.
func replyStart(b []byte) bool {
	for i, c := range b {
		switch i {
		case 0:
			if c < '2' || c > '5' {
				return false
			}
		case 1, 2:
			if !isDigit(c) {
				return false
			}
		case 3:
			return c == ' ' || c == '-' || c == '\r' || c == '\n'
		}
	}
	return true
}

// looksGreylisted reports whether a 4xx reply to RCPT reads like
// greylisting: a 450 or 451 with enhanced code 4.2.0 (postgrey) or 4.7.1
// (most policy servers), or any 4xx whose text says "greylist", "graylist",
// "grey-list", "gray-list", "grey list", "gray list" or "try again later",
// in any case. 421 is never greylisting: the server is closing the channel.
func looksGreylisted(r Reply) bool {
	if r.Class() != 4 || r.Code == 421 {
		return false
	}
	if (r.Code == 450 || r.Code == 451) && (r.Enhanced == "4.2.0" || r.Enhanced == "4.7.1") {
		return true
	}
	for _, l := range r.Lines {
		for _, w := range greylistWords {
			if containsFold(l, w) {
				return true
			}
		}
	}
	return false
}

var greylistWords = []string{
	"greylist", "graylist", "grey-list", "gray-list", "grey list", "gray list", "try again later",
}

// isSyncError reports whether a reply says the server saw a command before
// its turn: a 5xx whose enhanced code, if any, is 5.5.x and whose text says
// "synchronization" or "synchronisation" (Postfix: "554 5.5.0 Error: SMTP
// protocol synchronization"). We pipeline only where PIPELINING is
// advertised, and only commands RFC 2920 lets into a group, so it names a
// server (or a middlebox) that misjudged the session, not a fault of ours.
func isSyncError(r Reply) bool {
	if r.Class() != 5 || (r.Enhanced != "" && (len(r.Enhanced) < 4 || r.Enhanced[:4] != "5.5.")) {
		return false
	}
	for _, l := range r.Lines {
		if containsFold(l, "synchronization") || containsFold(l, "synchronisation") {
			return true
		}
	}
	return false
}

// Masked greetings: Cisco ASA/PIX ESMTP inspection replaces the text of the
// greeting with asterisks, sometimes leaving a few characters ("220
// ****************2***0*0****"). A greeting counts as masked when every one
// of its lines has a run of at least maskedRun asterisks and asterisks are
// at least half of its non-blank bytes. Both conditions, and every line,
// keep a banner with some "*****" decoration, or a multi-line greeting with
// an asterisk ruler above the real text, from looking masked.
const maskedRun = 8

func maskedGreeting(r Reply) bool {
	if len(r.Lines) == 0 {
		return false
	}
	for _, l := range r.Lines {
		if !maskedLine(l) {
			return false
		}
	}
	return true
}

func maskedLine(l string) bool {
	var stars, nonBlank, run, longest int
	for i := 0; i < len(l); i++ {
		switch l[i] {
		case '*':
			stars++
			nonBlank++
			run++
			longest = max(longest, run)
		case ' ', '\t':
			run = 0
		default:
			nonBlank++
			run = 0
		}
	}
	return longest >= maskedRun && 2*stars >= nonBlank
}

// maskedKeyword reports whether an EHLO keyword is one a middlebox masked:
// three or more X's, optionally followed by one other letter, in either
// case. Cisco ASA/PIX ESMTP inspection turns "STARTTLS" into "XXXXXXXA" and
// "AUTH" into "XXXA", keeping the length, so that the client ignores them.
func maskedKeyword(k string) bool {
	n := 0
	for n < len(k) && (k[n] == 'X' || k[n] == 'x') {
		n++
	}
	switch {
	case n < 3:
		return false
	case n == len(k):
		return true
	case n == len(k)-1:
		c := k[n] | 0x20 // lower case; X's were consumed above
		return 'a' <= c && c <= 'z'
	}
	return false
}

// maskedEHLO looks for the signs of a middlebox in an EHLO reply before
// TLS: masked reports any masked keyword; starttlsStripped a masked keyword
// as long as "STARTTLS" (8 letters) while STARTTLS itself is not
// advertised. A masked 8-letter keyword could stand for 8BITMIME or
// CHUNKING as well, but a missing STARTTLS next to it is what matters: the
// middlebox keeps the session in clear.
func maskedEHLO(r Reply) (masked, starttlsStripped bool) {
	if len(r.Lines) < 2 {
		return false, false
	}
	var eight, starttls bool
	for _, line := range r.Lines[1:] {
		k, _ := splitKeyword(line)
		switch {
		case maskedKeyword(k):
			masked = true
			eight = eight || len(k) == len("STARTTLS")
		case len(k) == len("STARTTLS") && containsFold(k, "STARTTLS"):
			starttls = true
		}
	}
	return masked, eight && !starttls
}

// containsFold reports whether s contains sub, ignoring ASCII case only:
// Unicode folding would let "K" (the Kelvin sign) and the like match
// ASCII words in server text.
func containsFold(s, sub string) bool {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		if dnsname.EqualFoldASCII(s[i:i+n], sub) {
			return true
		}
	}
	return false
}
