package smtp

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func ehloReply(lines ...string) Reply { return Reply{Code: 250, Lines: lines} }

func TestParseEHLO(t *testing.T) {
	tests := []struct {
		name  string
		reply Reply
		want  Extensions
	}{
		{
			name:  "postfix",
			reply: ehloReply("mx1.good.test", "PIPELINING", "SIZE 10240000", "VRFY", "ETRN", "STARTTLS", "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING"),
			want: Extensions{
				Greeting:       "mx1.good.test",
				Keywords:       []Keyword{{"PIPELINING", ""}, {"SIZE", "10240000"}, {"VRFY", ""}, {"ETRN", ""}, {"STARTTLS", ""}, {"ENHANCEDSTATUSCODES", ""}, {"8BITMIME", ""}, {"DSN", ""}, {"SMTPUTF8", ""}, {"CHUNKING", ""}},
				SizeAdvertised: true, Size: 10240000,
			},
		},
		{name: "greeting only", reply: ehloReply("mx hello"), want: Extensions{Greeting: "mx hello", Keywords: []Keyword{}}},
		{name: "no lines", reply: Reply{Code: 250}, want: Extensions{}},
		{name: "lower case keywords", reply: ehloReply("mx", "starttls", "Size 100"), want: Extensions{
			Greeting: "mx", Keywords: []Keyword{{"STARTTLS", ""}, {"SIZE", "100"}}, SizeAdvertised: true, Size: 100,
		}},
		{name: "bare SIZE", reply: ehloReply("mx", "SIZE"), want: Extensions{
			Greeting: "mx", Keywords: []Keyword{{"SIZE", ""}}, SizeAdvertised: true,
		}},
		{name: "SIZE 0", reply: ehloReply("mx", "SIZE 0"), want: Extensions{
			Greeting: "mx", Keywords: []Keyword{{"SIZE", "0"}}, SizeAdvertised: true,
		}},
		{name: "SIZE garbage", reply: ehloReply("mx", "SIZE lots"), want: Extensions{
			Greeting: "mx", Keywords: []Keyword{{"SIZE", "lots"}}, SizeAdvertised: true, SizeInvalid: true,
		}},
		{name: "SIZE negative", reply: ehloReply("mx", "SIZE -5"), want: Extensions{
			Greeting: "mx", Keywords: []Keyword{{"SIZE", "-5"}}, SizeAdvertised: true, SizeInvalid: true,
		}},
		{name: "SIZE plus sign", reply: ehloReply("mx", "SIZE +5"), want: Extensions{
			Greeting: "mx", Keywords: []Keyword{{"SIZE", "+5"}}, SizeAdvertised: true, SizeInvalid: true,
		}},
		{name: "SIZE overflow", reply: ehloReply("mx", "SIZE 99999999999999999999"), want: Extensions{
			Greeting: "mx", Keywords: []Keyword{{"SIZE", "99999999999999999999"}}, SizeAdvertised: true, SizeInvalid: true,
		}},
		{name: "SIZE max int64", reply: ehloReply("mx", "SIZE 9223372036854775807"), want: Extensions{
			Greeting: "mx", Keywords: []Keyword{{"SIZE", "9223372036854775807"}}, SizeAdvertised: true, Size: 1<<63 - 1,
		}},
		{name: "SIZE two words", reply: ehloReply("mx", "SIZE 10 20"), want: Extensions{
			Greeting: "mx", Keywords: []Keyword{{"SIZE", "10 20"}}, SizeAdvertised: true, SizeInvalid: true,
		}},
		{name: "SIZE first wins", reply: ehloReply("mx", "SIZE 10", "SIZE 20"), want: Extensions{
			Greeting: "mx", Keywords: []Keyword{{"SIZE", "10"}}, SizeAdvertised: true, Size: 10,
		}},
		{name: "AUTH", reply: ehloReply("mx", "AUTH PLAIN login CRAM-MD5"), want: Extensions{
			Greeting: "mx", Keywords: []Keyword{{"AUTH", "PLAIN login CRAM-MD5"}}, Auth: []string{"PLAIN", "LOGIN", "CRAM-MD5"},
		}},
		{name: "legacy AUTH= only", reply: ehloReply("mx", "AUTH=LOGIN PLAIN"), want: Extensions{
			Greeting: "mx", Keywords: []Keyword{{"AUTH", "LOGIN PLAIN"}}, Auth: []string{"LOGIN", "PLAIN"},
		}},
		{name: "AUTH and legacy AUTH=", reply: ehloReply("mx", "AUTH PLAIN LOGIN", "AUTH=LOGIN PLAIN XOAUTH2"), want: Extensions{
			Greeting: "mx", Keywords: []Keyword{{"AUTH", "PLAIN LOGIN"}}, Auth: []string{"PLAIN", "LOGIN", "XOAUTH2"},
		}},
		{name: "legacy AUTH= first", reply: ehloReply("mx", "auth=login", "AUTH PLAIN"), want: Extensions{
			Greeting: "mx", Keywords: []Keyword{{"AUTH", "login"}}, Auth: []string{"LOGIN", "PLAIN"},
		}},
		{name: "AUTH bad mechanisms dropped", reply: ehloReply("mx", "AUTH PLAIN bad/mech THIS-NAME-IS-FAR-TOO-LONG"), want: Extensions{
			Greeting: "mx", Keywords: []Keyword{{"AUTH", "PLAIN bad/mech THIS-NAME-IS-FAR-TOO-LONG"}}, Auth: []string{"PLAIN"},
		}},
		{name: "bare AUTH", reply: ehloReply("mx", "AUTH"), want: Extensions{
			Greeting: "mx", Keywords: []Keyword{{"AUTH", ""}},
		}},
		{name: "garbage lines ignored", reply: ehloReply("mx", "", "   ", "-DASH", "X_UNDER", "ü8BIT", "=x", "PIPE=LINING", "\x00", "DSN"), want: Extensions{
			Greeting: "mx", Keywords: []Keyword{{"DSN", ""}},
		}},
		{name: "blanks around", reply: ehloReply("mx", "  SIZE\t 42  ", "X-EXT a  b"), want: Extensions{
			Greeting: "mx", Keywords: []Keyword{{"SIZE", "42"}, {"X-EXT", "a  b"}}, SizeAdvertised: true, Size: 42,
		}},
		{name: "SIZE abc", reply: ehloReply("mx", "SIZE abc"), want: Extensions{
			Greeting: "mx", Keywords: []Keyword{{"SIZE", "abc"}}, SizeAdvertised: true, SizeInvalid: true,
		}},
		{name: "masked keywords ignored (Cisco ASA)", reply: ehloReply("mx", "PIPELINING", "XXXXXXXA", "XXXA", "xxxxxxxb", "XXXXXXXX", "8BITMIME"), want: Extensions{
			Greeting: "mx", Keywords: []Keyword{{"PIPELINING", ""}, {"8BITMIME", ""}},
		}},
		{name: "X keywords that are no mask kept", reply: ehloReply("mx", "XX", "X-EXPS", "XXXAB", "XEXCH50"), want: Extensions{
			Greeting: "mx", Keywords: []Keyword{{"XX", ""}, {"X-EXPS", ""}, {"XXXAB", ""}, {"XEXCH50", ""}},
		}},
		{name: "order as sent", reply: ehloReply("mx", "SMTPUTF8", "CHUNKING", "AUTH=LOGIN", "8BITMIME", "AUTH PLAIN", "DSN", "PIPELINING"), want: Extensions{
			Greeting: "mx", Keywords: []Keyword{{"SMTPUTF8", ""}, {"CHUNKING", ""}, {"AUTH", "LOGIN"}, {"8BITMIME", ""}, {"DSN", ""}, {"PIPELINING", ""}},
			Auth: []string{"LOGIN", "PLAIN"},
		}},
		{name: "digit first keyword", reply: ehloReply("mx", "8BITMIME"), want: Extensions{
			Greeting: "mx", Keywords: []Keyword{{"8BITMIME", ""}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseEHLO(tt.reply)
			if !reflect.DeepEqual(*got, tt.want) {
				t.Fatalf("ParseEHLO(%q) = %+v, want %+v", tt.reply.Lines, *got, tt.want)
			}
		})
	}
}

func TestParseEHLOCaps(t *testing.T) {
	lines := []string{"mx"}
	for i := range 200 {
		lines = append(lines, fmt.Sprintf("X-K%d", i))
	}
	lines = append(lines, "STARTTLS", "AUTH PLAIN")
	got := ParseEHLO(ehloReply(lines...))
	if len(got.Keywords) != MaxEHLOKeywords {
		t.Fatalf("kept %d keywords, want the cap %d", len(got.Keywords), MaxEHLOKeywords)
	}
	if got.Has("STARTTLS") || got.Has("AUTH") || len(got.Auth) != 0 {
		t.Fatalf("keywords past the cap were kept: STARTTLS %v, AUTH %v %q", got.Has("STARTTLS"), got.Has("AUTH"), got.Auth)
	}

	mechs := make([]string, 100)
	for i := range mechs {
		mechs[i] = fmt.Sprintf("M%d", i)
	}
	got = ParseEHLO(ehloReply("mx", "AUTH "+strings.Join(mechs, " ")))
	if len(got.Auth) != MaxAuthMechanisms {
		t.Fatalf("kept %d mechanisms, want the cap %d", len(got.Auth), MaxAuthMechanisms)
	}
}

func TestExtensionsHasNil(t *testing.T) {
	var e *Extensions
	if e.Has("STARTTLS") {
		t.Fatalf("nil Extensions has STARTTLS")
	}
}

func FuzzParseEHLO(f *testing.F) {
	for _, s := range []string{
		"mx\nPIPELINING\nSIZE 10240000\nSTARTTLS",
		"mx\nAUTH=LOGIN PLAIN\nAUTH PLAIN",
		"mx\nSIZE\nSIZE 0\nSIZE x",
		"\n\n-\n=\nAUTH=",
		"mx\nsize 99999999999999999999999",
		"mx\nXXXXXXXA\nXXXA\nSIZE -5",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := ParseEHLO(ehloReply(strings.Split(s, "\n")...))
		if len(got.Keywords) > MaxEHLOKeywords {
			t.Fatalf("%d keywords, cap %d", len(got.Keywords), MaxEHLOKeywords)
		}
		seenKeyword := map[string]bool{}
		for _, k := range got.Keywords {
			if !validKeyword(k.Name) || k.Name != strings.ToUpper(k.Name) || seenKeyword[k.Name] {
				t.Fatalf("keyword %q kept", k.Name)
			}
			seenKeyword[k.Name] = true
		}
		if got.Size < 0 || (got.Size > 0 && !got.SizeAdvertised) || got.SizeAdvertised != got.Has("SIZE") {
			t.Fatalf("size %d advertised %v, SIZE keyword %v", got.Size, got.SizeAdvertised, got.Has("SIZE"))
		}
		if got.SizeInvalid && (got.Size != 0 || !got.SizeAdvertised) {
			t.Fatalf("invalid SIZE with size %d advertised %v", got.Size, got.SizeAdvertised)
		}
		for _, k := range got.Keywords {
			if maskedKeyword(k.Name) {
				t.Fatalf("masked keyword %q kept as an extension", k.Name)
			}
		}
		if len(got.Auth) > MaxAuthMechanisms || (len(got.Auth) > 0 && !got.Has("AUTH")) {
			t.Fatalf("%d mechanisms, AUTH keyword %v", len(got.Auth), got.Has("AUTH"))
		}
		seen := map[string]bool{}
		for _, m := range got.Auth {
			if !validMechanism(m) || seen[m] {
				t.Fatalf("mechanism %q invalid or repeated in %q", m, got.Auth)
			}
			seen[m] = true
		}
	})
}
