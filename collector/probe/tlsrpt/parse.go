package tlsrpt

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/mx-exporter/mx_exporter/collector/dnsname"
	"github.com/mx-exporter/mx_exporter/collector/probe/txtfields"
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
const maxQuoted = txtfields.MaxQuoted

// Parse reads the TXT records found at _smtp._tls.<domain>, each given as its
// character-strings concatenated.
//
// As RFC 8460 section 3 has it: a record counts when it starts with the
// exact "v=TLSRPTv1" followed by the end, WSP or ";"; exactly one must
// count. Its fields follow, each delimited by *WSP ";" *WSP, with an
// optional final delimiter (trailing whitespace tolerated); "rua=" is
// required and holds one or more URIs separated by *WSP "," *WSP, each a
// mailto: URI with an address or an https: URI with a host. The grammar
// allows more than one rua field ("the record supports the ability to
// declare more than one rua"): the URIs of all count. Other fields are
// extensions, name "=" value, and are ignored.
func Parse(records []string) Record {
	var rua []string
	n, defect, detail := txtfields.Parse(records, version, DefectDuplicate, func(fields []txtfields.Field, err error) (d Defect, words string) {
		rua, d, words = reportURIs(fields, err)
		return d, words
	})
	if defect != "" {
		detail += ": senders send no reports"
	}
	return Record{Records: n, Valid: n == 1 && defect == "", RUA: rua, Defect: defect, Detail: detail}
}

// reportURIs reads the report URIs of the one record from its fields (and
// err, why the rest of it is not fields), or finds its first defect and
// says what it is in words.
func reportURIs(fields []txtfields.Field, err error) (rua []string, defect Defect, detail string) {
	haveRUA := false
	for _, f := range fields {
		if f.Name != "rua" {
			if bad := f.CheckExtension(); bad != nil {
				return nil, DefectSyntax, bad.Error()
			}
			continue
		}
		haveRUA = true
		if f.Value == "" {
			return nil, DefectRUAInvalid, "rua is empty"
		}
		if f.Value[0] == ' ' || f.Value[0] == '\t' {
			// tlsrpt-rua = %s"rua=" tlsrpt-uri ...: no WSP before the
			// first URI (only around the commas between URIs).
			return nil, DefectRUAInvalid, "rua= is followed by whitespace before its first URI"
		}
		for u := range strings.SplitSeq(f.Value, ",") {
			u = txtfields.TrimWSP(u)
			if why := checkURI(u); why != "" {
				return nil, DefectRUAInvalid, "report URI " + txtfields.Quote(u) + " " + why
			}
			if len(rua) < MaxRUA {
				rua = append(rua, txtfields.Sanitize(u, MaxURIBytes))
			}
		}
	}
	if err != nil {
		return nil, DefectSyntax, err.Error()
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
		switch c := u[i]; {
		case c <= 0x20 || c > 0x7e:
			return "has spaces, control or non-ASCII characters"
		case c == '!':
			// RFC 8460 section 3: commas, exclamation points and
			// semicolons in a tlsrpt-uri MUST be encoded (a raw "," or
			// ";" already ends the URI or the field).
			return "has an unencoded \"!\" (write %21)"
		case c == '%':
			if i+2 >= len(u) || !isHex(u[i+1]) || !isHex(u[i+2]) {
				return "has a \"%\" not followed by two hex digits"
			}
		case !uriChar(c):
			return "has " + strconv.QuoteRune(rune(c)) + ", which no URI holds unencoded (RFC 3986)"
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

// uriChar reports whether c may stand unencoded in a URI (RFC 3986
// section 2): unreserved (ALPHA / DIGIT / "-" / "." / "_" / "~") or
// reserved (gen-delims ":" / "/" / "?" / "#" / "[" / "]" / "@" and
// sub-delims "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" /
// "="); "%" opens a pct-encoded octet.
func uriChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("-._~:/?#[]@!$&'()*+,;=%", c) >= 0
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// validHost reports whether h is a host name or an IP address.
func validHost(h string) bool {
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	return dnsname.Valid(strings.TrimSuffix(h, "."))
}
