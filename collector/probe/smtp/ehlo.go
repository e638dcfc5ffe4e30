package smtp

import (
	"slices"
	"strconv"
	"strings"
)

// Caps on what one EHLO reply can make us keep.
const (
	MaxEHLOKeywords   = 64
	MaxAuthMechanisms = 32
)

// ParseEHLO reads the extensions out of an EHLO reply (RFC 5321 4.1.1.1):
// the first line is the greeting, each further line "KEYWORD [params]".
//
// It is lenient where being lenient is harmless and strict where the server
// would otherwise choose what we store:
//   - a line whose keyword breaks the ehlo-keyword syntax (ALPHA/DIGIT, then
//     ALPHA/DIGIT/"-") is ignored, except the pre-RFC 4954 "AUTH=mech ..." form;
//   - a keyword a middlebox masked ("XXXXXXXA", "XXXA": see maskedKeyword) is
//     ignored: it stands for an extension the middlebox took away, and the
//     dialogue reports it as such;
//   - keywords stay in the order the server sent them;
//   - keywords are upper-cased; the first occurrence wins; at most
//     MaxEHLOKeywords are kept;
//   - SIZE without a parameter, or with 0, declares no fixed limit (RFC 1870).
//     A parameter that is not a decimal number of at most 20 digits fitting
//     int64 tells us no usable limit either: SizeAdvertised and SizeInvalid
//     are true, Size 0, and the raw parameter stays in Keywords for the report;
//   - AUTH mechanisms are upper-cased, deduplicated, checked against the SASL
//     mechanism syntax (RFC 4422: 1-20 of A-Z, 0-9, "-", "_") and capped.
func ParseEHLO(r Reply) *Extensions {
	ext := &Extensions{}
	if len(r.Lines) == 0 {
		return ext
	}
	ext.Keywords = make([]Keyword, 0, min(len(r.Lines)-1, MaxEHLOKeywords))
	ext.Greeting = r.Lines[0]
	for _, line := range r.Lines[1:] {
		keyword, params := splitKeyword(line)
		if rest, ok := cutPrefixFold(keyword, "AUTH="); ok {
			// Old servers advertise "AUTH=LOGIN PLAIN" for old clients,
			// often next to a proper "AUTH LOGIN PLAIN" line.
			ext.advertiseAuth(strings.TrimSpace(rest + " " + params))
			continue
		}
		if !validKeyword(keyword) || maskedKeyword(keyword) {
			continue
		}
		keyword = strings.ToUpper(keyword)
		if keyword == "AUTH" {
			ext.advertiseAuth(params)
			continue
		}
		if ext.Has(keyword) || len(ext.Keywords) >= MaxEHLOKeywords {
			continue
		}
		ext.Keywords = append(ext.Keywords, Keyword{Name: keyword, Params: params})
		if keyword == "SIZE" {
			ext.SizeAdvertised = true
			ext.Size, ext.SizeInvalid = parseSize(params)
		}
	}
	return ext
}

// splitKeyword splits at the first run of blanks, trimming both parts.
func splitKeyword(line string) (keyword, params string) {
	line = strings.Trim(line, " \t")
	i := strings.IndexAny(line, " \t")
	if i < 0 {
		return line, ""
	}
	return line[:i], strings.Trim(line[i:], " \t")
}

func validKeyword(k string) bool {
	if k == "" || !isAlnum(k[0]) {
		return false
	}
	for i := 1; i < len(k); i++ {
		if !isAlnum(k[i]) && k[i] != '-' {
			return false
		}
	}
	return true
}

func isAlnum(b byte) bool {
	return isDigit(b) || ('a' <= b && b <= 'z') || ('A' <= b && b <= 'Z')
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return "", false
	}
	return s[len(prefix):], true
}

// parseSize returns the SIZE limit, 0 for none, and whether the parameter
// is invalid: present but not a plain decimal number that fits int64 (see
// ParseEHLO). "SIZE -5" and "SIZE abc" declare no usable limit, which is
// not the same as declaring none.
func parseSize(p string) (size int64, invalid bool) {
	if p == "" {
		return 0, false
	}
	if !digits(p, 1, 20) {
		return 0, true
	}
	n, err := strconv.ParseInt(p, 10, 64)
	if err != nil {
		return 0, true
	}
	return n, false
}

// advertiseAuth records AUTH in either form; the mechanisms of every AUTH
// line count, the parameters of the first are kept as sent.
func (e *Extensions) advertiseAuth(params string) {
	if !e.Has("AUTH") {
		if len(e.Keywords) >= MaxEHLOKeywords {
			return
		}
		e.Keywords = append(e.Keywords, Keyword{Name: "AUTH", Params: params})
	}
	e.addAuth(params)
}

func (e *Extensions) addAuth(params string) {
	for _, m := range strings.Fields(params) {
		m = strings.ToUpper(m)
		if !validMechanism(m) || len(e.Auth) >= MaxAuthMechanisms || slices.Contains(e.Auth, m) {
			continue
		}
		e.Auth = append(e.Auth, m)
	}
}

// validMechanism checks an upper-cased SASL mechanism name.
func validMechanism(m string) bool {
	if len(m) == 0 || len(m) > 20 {
		return false
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if !isDigit(c) && !('A' <= c && c <= 'Z') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}
