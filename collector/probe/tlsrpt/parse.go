package tlsrpt

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"github.com/mx-exporter/mx_exporter/collector/dnsname"
)

// The caps on what a Record keeps of a hostile record: a real one names one
// or two report URIs of a few dozen bytes.
const (
	MaxRUA      = 10  // report URIs kept; the rest are checked, not kept
	MaxURIBytes = 256 // bytes kept of one URI; a longer one is cut, marked "..."
)

// version opens every TLS-RPT record; it is case-sensitive (RFC 8460
// section 3: %s"v=TLSRPTv1").
const version = "v=TLSRPTv1"

// maxQuoted caps the bytes of a record quoted in a Detail.
const maxQuoted = 200

// Parse reads the TXT records found at _smtp._tls.<domain>, each given as its
// character-strings concatenated.
//
// As RFC 8460 section 3 has it: a record counts when it starts with the
// exact "v=TLSRPTv1" followed by the end, WSP or ";"; exactly one must
// count. Its fields follow, each delimited by *WSP ";" *WSP, with an
// optional final delimiter (trailing whitespace tolerated); "rua=" is
// required once and holds one or more URIs separated by *WSP "," *WSP, each
// a mailto: URI with an address or an https: URI with a host; other fields
// are extensions, name "=" value, and are ignored.
func Parse(records []string) Record {
	var rpt []string
	for _, r := range records {
		if rest, ok := strings.CutPrefix(r, version); ok && (rest == "" || rest[0] == ';' || isWSP(rest[0])) {
			rpt = append(rpt, r)
		}
	}
	rec := Record{Records: len(rpt)}
	switch len(rpt) {
	case 0:
		return rec
	case 1:
	default:
		rec.Defect = DefectDuplicate
		rec.Detail = fmt.Sprintf("%d TXT records start with v=TLSRPTv1 (the first two: %s, %s): senders send no reports",
			len(rpt), quote(rpt[0]), quote(rpt[1]))
		return rec
	}
	rua, defect, detail := parseRecord(rpt[0])
	if defect != "" {
		rec.Defect, rec.Detail = defect, detail+" in "+quote(rpt[0])+": senders send no reports"
		return rec
	}
	rec.Valid, rec.RUA = true, rua
	return rec
}

// parseRecord reads the one record and returns its report URIs, or the first
// defect and what it is in words.
func parseRecord(r string) (rua []string, defect Defect, detail string) {
	rest := strings.TrimLeft(r[len(version):], " \t")
	if rest == "" {
		return nil, DefectRUAMissing, "no rua field"
	}
	if rest[0] != ';' {
		return nil, DefectSyntax, "v=TLSRPTv1 is not followed by \";\""
	}
	fields := strings.Split(rest[1:], ";")
	haveRUA := false
	for i, f := range fields {
		f = trimWSP(f)
		if f == "" {
			if i == len(fields)-1 {
				break // the optional final delimiter
			}
			return nil, DefectSyntax, "an empty field between two \";\""
		}
		key, value, ok := strings.Cut(f, "=")
		if !ok {
			return nil, DefectSyntax, "field " + quote(f) + " is not key=value"
		}
		if !validExtName(key) {
			return nil, DefectSyntax, "field name " + quote(key) + " is not letters, digits, \"_\", \"-\" and \".\" (at most 32)"
		}
		if key != "rua" {
			if !validExtValue(value) {
				return nil, DefectSyntax, "field " + quote(f) + " has a value with spaces, \"=\", control characters or nothing"
			}
			continue
		}
		if haveRUA {
			return nil, DefectSyntax, "the rua field appears twice"
		}
		haveRUA = true
		if value == "" {
			return nil, DefectRUAInvalid, "rua is empty"
		}
		for u := range strings.SplitSeq(value, ",") {
			u = trimWSP(u)
			if why := checkURI(u); why != "" {
				return nil, DefectRUAInvalid, "report URI " + quote(u) + " " + why
			}
			if len(rua) < MaxRUA {
				rua = append(rua, sanitize(u, MaxURIBytes))
			}
		}
	}
	if !haveRUA {
		return nil, DefectRUAMissing, "no rua field"
	}
	return rua, "", ""
}

// checkURI returns why u is no report URI, or "" when it is one: a mailto:
// URI with an address (local part "@" host name) or an https: URI with a
// host (RFC 8460 section 3).
func checkURI(u string) string {
	if u == "" {
		return "is empty"
	}
	for i := 0; i < len(u); i++ {
		if c := u[i]; c <= 0x20 || c > 0x7e {
			return "has spaces, control or non-ASCII characters"
		}
	}
	parsed, err := url.Parse(u)
	if err != nil {
		return "is not a URI"
	}
	switch strings.ToLower(parsed.Scheme) {
	case "mailto":
		addr, _, _ := strings.Cut(parsed.Opaque, "?")
		if decoded, err := url.PathUnescape(addr); err == nil {
			addr = decoded
		}
		at := strings.LastIndexByte(addr, '@')
		if at <= 0 || !validHost(addr[at+1:]) {
			return "is a mailto: URI without a mail address"
		}
	case "https":
		if !validHost(parsed.Hostname()) {
			return "is an https: URI without a valid host"
		}
	default:
		return "is neither mailto: nor https:"
	}
	return ""
}

// validHost reports whether h is a host name or an IP address.
func validHost(h string) bool {
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	return dnsname.Valid(strings.TrimSuffix(h, "."))
}
