package mtasts

import (
	"fmt"
	"strings"
)

// stsVersion opens every MTA-STS TXT record; it is case-sensitive (RFC 8461
// section 3.1: %s"v=STSv1").
const stsVersion = "v=STSv1"

// maxIDLen is the longest id: 1*32(ALPHA / DIGIT).
const maxIDLen = 32

// ParseTXT reads the TXT records found at _mta-sts.<domain>, each given as
// its character-strings concatenated (RFC 8461 section 3.1).
//
// A record counts when it starts with the exact "v=STSv1" followed by the
// end, WSP or ";" ("v=STSv10; ..." is another version and is ignored). The
// one record must then be sts-version followed by fields, each delimited
// by *WSP ";" *WSP, with an optional final delimiter; a field is "id="
// 1*32(ALPHA / DIGIT) or an extension sts-ext-name "=" sts-ext-value.
// Trailing whitespace after the last field is tolerated. A repeated id
// field is a syntax defect: senders could read either.
func ParseTXT(records []string) TXT {
	var sts []string
	for _, r := range records {
		if isSTSRecord(r) {
			sts = append(sts, r)
		}
	}
	t := TXT{Records: len(sts)}
	switch len(sts) {
	case 0:
		return t
	case 1:
	default:
		t.Defect = TXTDuplicate
		t.Detail = fmt.Sprintf("%d TXT records start with v=STSv1 (the first two: %s, %s): senders ignore them all and see no policy",
			len(sts), quote(sts[0]), quote(sts[1]))
		return t
	}
	id, defect, detail := parseSTSRecord(sts[0])
	if defect != "" {
		t.Defect, t.Detail = defect, detail+" in "+quote(sts[0])+": senders ignore the policy"
		return t
	}
	t.Valid, t.ID = true, id
	return t
}

// isSTSRecord reports whether r starts with the sts-version token.
func isSTSRecord(r string) bool {
	rest, ok := strings.CutPrefix(r, stsVersion)
	return ok && (rest == "" || rest[0] == ';' || isWSP(rest[0]))
}

// parseSTSRecord reads one record that isSTSRecord accepted and returns its
// id, or the first defect and what it is in words.
func parseSTSRecord(r string) (id string, defect TXTDefect, detail string) {
	rest := strings.TrimLeft(r[len(stsVersion):], " \t")
	if rest == "" {
		return "", TXTNoID, "no id field"
	}
	if rest[0] != ';' {
		return "", TXTSyntax, "v=STSv1 is not followed by \";\""
	}
	fields := strings.Split(rest[1:], ";")
	haveID := false
	for i, f := range fields {
		f = trimWSP(f)
		if f == "" {
			if i == len(fields)-1 {
				break // the optional final delimiter
			}
			return "", TXTSyntax, "an empty field between two \";\""
		}
		key, value, ok := strings.Cut(f, "=")
		if !ok {
			return "", TXTSyntax, "field " + quote(f) + " is not key=value"
		}
		if !validExtName(key) {
			return "", TXTSyntax, "field name " + quote(key) + " is not letters, digits, \"_\", \"-\" and \".\" (at most 32)"
		}
		if key == "id" {
			if haveID {
				return "", TXTSyntax, "the id field appears twice"
			}
			haveID = true
			if !validID(value) {
				return "", TXTBadID, "id " + quote(value) + " is not 1 to 32 letters and digits"
			}
			id = value
			continue
		}
		if !validExtValue(value) {
			return "", TXTSyntax, "field " + quote(f) + " has a value with spaces, \"=\", control characters or nothing"
		}
	}
	if !haveID {
		return "", TXTNoID, "no id field"
	}
	return id, "", ""
}

// validID reports whether s is 1*32(ALPHA / DIGIT).
func validID(s string) bool {
	if s == "" || len(s) > maxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAlpha(s[i]) && !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// validExtValue reports whether s is an sts-ext-value of the TXT record:
// 1*(%x21-3A / %x3C / %x3E-7E), printable ASCII without "=" and ";".
func validExtValue(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '=' || c == ';' {
			return false
		}
	}
	return true
}
