package mtasts

import "github.com/mx-exporter/mx_exporter/collector/probe/txtfields"

// stsVersion opens every MTA-STS TXT record; it is case-sensitive (RFC 8461
// section 3.1: %s"v=STSv1").
const stsVersion = "v=STSv1"

// maxIDLen is the longest id: 1*32(ALPHA / DIGIT).
const maxIDLen = 32

// maxQuoted caps the bytes of remote text quoted in a Detail or kept of a
// Location header.
const maxQuoted = txtfields.MaxQuoted

// ParseTXT reads the TXT records found at _mta-sts.<domain>, each given as
// its character-strings concatenated (RFC 8461 section 3.1).
//
// A record counts when it starts with the exact "v=STSv1" followed by the
// end, WSP or ";" ("v=STSv10; ..." is another version and is ignored). The
// one record must then be sts-version followed by fields, each delimited
// by *WSP ";" *WSP, with an optional final delimiter; a field is "id="
// 1*32(ALPHA / DIGIT) or an extension sts-ext-name "=" sts-ext-value.
// Trailing whitespace after the last field is tolerated. An id after the
// first is ignored, as RFC 8461 section 3.2 has it for every field but mx
// ("all entries except for the first SHALL be ignored"), but must still
// be a field of the grammar: an id or an extension value.
func ParseTXT(records []string) TXT {
	var id string
	n, defect, detail := txtfields.Parse(records, stsVersion, TXTDuplicate, func(fields []txtfields.Field, err error) (d TXTDefect, words string) {
		id, d, words = stsID(fields, err)
		return d, words
	})
	switch {
	case defect == TXTDuplicate:
		detail += ": senders ignore them all and see no policy"
	case defect != "":
		detail += ": senders ignore the policy"
	}
	return TXT{Records: n, Valid: n == 1 && defect == "", ID: id, Defect: defect, Detail: detail}
}

// stsID reads the id of the one record from its fields (and err, why the
// rest of it is not fields), or finds its first defect and says what it is
// in words.
func stsID(fields []txtfields.Field, err error) (id string, defect TXTDefect, detail string) {
	haveID := false
	for _, f := range fields {
		if f.Name != "id" {
			if bad := f.CheckExtension(); bad != nil {
				return "", TXTSyntax, bad.Error()
			}
			continue
		}
		if haveID {
			// Ignored, but still sts-id or sts-extension.
			if bad := f.CheckExtension(); bad != nil {
				return "", TXTSyntax, bad.Error()
			}
			continue
		}
		haveID = true
		if !validID(f.Value) {
			return "", TXTBadID, "id " + txtfields.Quote(f.Value) + " is not 1 to 32 letters and digits"
		}
		id = f.Value
	}
	if err != nil {
		return "", TXTSyntax, err.Error()
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
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c)) {
			return false
		}
	}
	return true
}
