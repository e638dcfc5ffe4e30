// Package txtfields reads records of version-tagged key=value fields, as
// MTA-STS (RFC 8461 section 3.1) and TLS-RPT (RFC 8460 section 3) publish
// them in DNS TXT, and quotes remote text for a person to read.
//
// Both records are one grammar with another tag and other required fields:
// a case-sensitive version tag ("v=STSv1", "v=TLSRPTv1"), then one or more
// fields each after a delimiter *WSP ";" *WSP, with an optional final
// delimiter; a field is name "=" value, the name (ALPHA / DIGIT)
// *31(ALPHA / DIGIT / "_" / "-" / "."), an extension's value
// 1*(%x21-3A / %x3C / %x3E-7E). What a field means (id, rua) is the
// protocol package's. It imports nothing else of the project.
package txtfields

import (
	"errors"
	"fmt"
	"strings"
)

// Field is one name=value field of a record.
type Field struct {
	Name, Value string
	text        string // the field as written, without surrounding WSP, for the words of a defect
}

// Parse reads the TXT records of one protocol, each given as its
// character-strings concatenated without spaces (RFC 8461 section 3.1, RFC
// 8460 section 3), and returns how many start with tag, the first defect
// and that defect in words, quoting the record(s).
//
// A record counts when it starts with tag followed by the end, WSP or ";"
// ("v=STSv10; ..." is another version, "V=STSv1" no version at all). No
// record is no defect. More than one is the defect duplicate. Exactly one
// is split into its fields and handed to judge, which returns the first
// defect of the protocol's own and its words, or "" when the record is
// good: judge gets the fields in order up to the first one that is not
// name=value, and err, which says why in words (the tag not followed by
// ";", an empty field, a field without "=" or with a bad name), or nil
// when the whole record is fields. The words of judge's defect are
// followed by " in " and the record quoted.
func Parse[D ~string](records []string, tag string, duplicate D, judge func(fields []Field, err error) (D, string)) (n int, defect D, detail string) {
	sel := selectTagged(records, tag)
	switch n = len(sel); {
	case n == 0:
		return 0, "", ""
	case n > 1:
		return n, duplicate, fmt.Sprintf("%d TXT records start with %s (the first two: %s, %s)",
			n, tag, Quote(sel[0]), Quote(sel[1]))
	}
	if defect, detail = judge(split(sel[0][len(tag):], tag)); defect != "" {
		detail += " in " + Quote(sel[0])
	}
	return 1, defect, detail
}

// selectTagged returns the records that start with tag followed by the
// end, WSP or ";".
func selectTagged(records []string, tag string) []string {
	var out []string
	for _, r := range records {
		if rest, ok := strings.CutPrefix(r, tag); ok && (rest == "" || rest[0] == ';' || isWSP(rest[0])) {
			out = append(out, r)
		}
	}
	return out
}

// split reads what follows the tag: nothing, or fields each after a
// delimiter *WSP ";" *WSP, with an optional final delimiter. Trailing WSP
// after the last field is tolerated.
func split(rest, tag string) ([]Field, error) {
	rest = strings.TrimLeft(rest, " \t")
	if rest == "" {
		return nil, nil
	}
	if rest[0] != ';' {
		return nil, errors.New(tag + " is not followed by \";\"")
	}
	pieces := strings.Split(rest[1:], ";")
	var fields []Field
	for i, p := range pieces {
		p = TrimWSP(p)
		if p == "" {
			if i == len(pieces)-1 {
				break // the optional final delimiter
			}
			return fields, errors.New("an empty field between two \";\"")
		}
		name, value, ok := strings.Cut(p, "=")
		if !ok {
			return fields, errors.New("field " + Quote(p) + " is not key=value")
		}
		if !ValidName(name) {
			return fields, errors.New("field name " + Quote(name) + " is not letters, digits, \"_\", \"-\" and \".\" (at most 32)")
		}
		fields = append(fields, Field{Name: name, Value: value, text: p})
	}
	return fields, nil
}

// CheckExtension returns an error in words when f's value is no extension
// value, 1*(%x21-3A / %x3C / %x3E-7E): printable ASCII without "=" and
// ";", not empty.
func (f Field) CheckExtension() error {
	if validValue(f.Value) {
		return nil
	}
	return errors.New("field " + Quote(f.text) + " has a value with spaces, \"=\", control characters or nothing")
}

// ValidName reports whether s is a field name: (ALPHA / DIGIT)
// *31(ALPHA / DIGIT / "_" / "-" / "."). MTA-STS policy keys
// (sts-policy-ext-name, RFC 8461 section 3.2) follow the same rule.
func ValidName(s string) bool {
	if s == "" || len(s) > 32 || !isAlphaDigit(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlphaDigit(c) && c != '_' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// validValue reports whether s is an extension value:
// 1*(%x21-3A / %x3C / %x3E-7E).
func validValue(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '=' || c == ';' {
			return false
		}
	}
	return true
}

// TrimWSP drops leading and trailing WSP (RFC 5234: space and horizontal
// tab).
func TrimWSP(s string) string {
	return strings.Trim(s, " \t")
}

func isWSP(c byte) bool { return c == ' ' || c == '\t' }

func isAlphaDigit(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
