package mtasts

import (
	"strings"
	"unicode/utf8"

	"github.com/mx-exporter/mx_exporter/collector/dnsname"
	"github.com/mx-exporter/mx_exporter/collector/probe/txtfields"
)

// MaxMXPatterns caps the mx patterns ParsePolicy keeps, so that a hostile
// body (up to MaxPolicyBytes, thousands of short mx lines) cannot make the
// cache hold thousands of strings per domain. Real policies list a handful;
// an MX host matching only a pattern past the cap reads as uncovered.
const MaxMXPatterns = 100

// minEnforceMaxAge is the max_age under which an enforce policy draws
// DefectMaxAgeShort: RFC 8461 section 3.2 expects weeks, and a sender
// forgets a shorter policy soon enough that an attacker who blocks the
// policy fetch for a day defeats it.
const minEnforceMaxAge = 7 * 24 * 3600

// maxAgeDigits is the longest max_age value: 1*10(DIGIT).
const maxAgeDigits = 10

// Fatal reports whether the defect makes the policy unusable for senders.
func (d Defect) Fatal() bool {
	switch d {
	case DefectVersionMissing, DefectVersionInvalid, DefectModeMissing, DefectModeInvalid,
		DefectMaxAgeMissing, DefectMaxAgeInvalid, DefectMXMissing, DefectMXInvalid, DefectLineInvalid:
		return true
	}
	return false
}

// ParsePolicy parses a policy body strictly: LF or CRLF line ends, the first
// value of a repeated non-mx key wins, unknown keys are ignored. It returns
// the policy as far as it could be read and every defect found, each once,
// in the order of Defects (content type and change are the caller's).
//
// The grammar is RFC 8461 section 3.2's: each line is a field name, ":",
// optional WSP, the value and optional trailing WSP; no leading whitespace,
// no space before the ":". Known keys are case-sensitive ("Mode" is an
// unknown key), and their values follow their own rules; an unknown key
// still needs a value of visible characters and inner spaces (UTF-8, no
// control characters). The final line may lack its line end, and empty
// lines at the very end are tolerated (a common editor habit that senders
// accept); an empty line elsewhere is an invalid line.
func ParsePolicy(body []byte) (Policy, []Defect) {
	p := Policy{MaxAge: -1}
	var found defectSet
	var haveVersion, haveMode, haveMaxAge, haveMX bool
	for _, line := range policyLines(string(body)) {
		key, value, ok := policyField(line)
		if !ok {
			found.add(DefectLineInvalid)
			continue
		}
		switch key {
		case "version":
			if haveVersion {
				continue
			}
			haveVersion = true
			if value == "STSv1" {
				p.Version = value
			} else {
				found.add(DefectVersionInvalid)
			}
		case "mode":
			if haveMode {
				continue
			}
			haveMode = true
			switch m := PolicyMode(value); m {
			case PolicyEnforce, PolicyTesting, PolicyNone:
				p.Mode = m
			default:
				found.add(DefectModeInvalid)
			}
		case "max_age":
			if haveMaxAge {
				continue
			}
			haveMaxAge = true
			if age, ok := parseMaxAge(value); ok {
				p.MaxAge = age
			} else {
				found.add(DefectMaxAgeInvalid)
			}
		case "mx":
			haveMX = true
			pattern, ok := mxPattern(value)
			if !ok {
				found.add(DefectMXInvalid)
				continue
			}
			if len(p.MX) < MaxMXPatterns && !contains(p.MX, pattern) {
				p.MX = append(p.MX, pattern)
			}
		default:
			if !validPolicyExtValue(value) {
				found.add(DefectLineInvalid)
			}
		}
	}
	if !haveVersion {
		found.add(DefectVersionMissing)
	}
	if !haveMode {
		found.add(DefectModeMissing)
	}
	if !haveMaxAge {
		found.add(DefectMaxAgeMissing)
	}
	if !haveMX && p.Mode != PolicyNone {
		found.add(DefectMXMissing)
	}
	if p.Mode == PolicyEnforce && p.MaxAge >= 0 && p.MaxAge < minEnforceMaxAge {
		found.add(DefectMaxAgeShort)
	}
	return p, found.list()
}

// defectSet collects defects once each and lists them in the order of
// Defects.
type defectSet map[Defect]bool

func (s *defectSet) add(d Defect) {
	if *s == nil {
		*s = defectSet{}
	}
	(*s)[d] = true
}

func (s defectSet) list() []Defect {
	if len(s) == 0 {
		return nil
	}
	out := make([]Defect, 0, len(s))
	for _, d := range Defects {
		if s[d] {
			out = append(out, d)
		}
	}
	return out
}

// policyLines splits body at LF, drops the CR of a CRLF, drops the empty
// piece after a final line end and any empty lines at the very end.
func policyLines(body string) []string {
	lines := strings.Split(body, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// policyField splits a line into its field name and value: name ":" *WSP
// value *WSP. It fails when there is no ":" or the name is no
// sts-policy-ext-name. The value is not checked here.
func policyField(line string) (key, value string, ok bool) {
	key, value, ok = strings.Cut(line, ":")
	if !ok || !txtfields.ValidName(key) {
		return "", "", false
	}
	return key, txtfields.TrimWSP(value), true
}

// parseMaxAge reads a max_age value: 1*10(DIGIT), at most MaxAgeLimit.
func parseMaxAge(s string) (int64, bool) {
	if s == "" || len(s) > maxAgeDigits {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0') // ten digits fit an int64
	}
	return n, n <= MaxAgeLimit
}

// mxPattern reads an mx value: a host name or "*." and a host name, A-labels
// only, in the one canonical form (lower case, no trailing dot).
func mxPattern(s string) (string, bool) {
	for i := 0; i < len(s); i++ {
		// Before lower-casing: strings.ToLower maps some non-ASCII
		// letters (the Kelvin sign) to ASCII ones.
		if s[i] >= utf8.RuneSelf {
			return "", false
		}
	}
	p := dnsname.Normalize(s)
	name := strings.TrimPrefix(p, "*.")
	if !dnsname.Valid(name) {
		return "", false
	}
	return p, true
}

// validPolicyExtValue reports whether s is an sts-policy-ext-value: visible
// characters (UTF-8 allowed) and inner spaces, no control characters, not
// empty, no leading or trailing whitespace.
func validPolicyExtValue(s string) bool {
	if s == "" || s[0] == ' ' || s[len(s)-1] == ' ' || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
