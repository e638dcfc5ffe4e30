package dnsmx

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/mx-exporter/mx_exporter/collector/dnsname"
)

// maxPTRNames bounds the PTR names kept of one address. Most addresses have
// one; a shared host with a few virtual names has a handful. A reverse zone
// that answers with dozens would otherwise cost the caller a forward lookup
// and a report line each: the rest are counted (PTRLookup.Dropped).
const maxPTRNames = 10

const hexDigits = "0123456789abcdef"

// ReversedLabels is addr written as the labels of its reverse name, without
// a suffix: "1.1.0.127" for 127.0.1.1, 32 nibbles from the last for an IPv6
// address (RFC 3596 section 2.5). DNS blocklists (RFC 5782 section 2.1,
// 2.4) put their zone after the same labels. An IPv4-mapped IPv6 address is
// written as the IPv4 address it maps. A zone ("fe80::1%eth0") is left out:
// it names a link of this machine, not part of the address on the wire.
// The invalid (zero) Addr has no reverse name: "".
func ReversedLabels(addr netip.Addr) string {
	if !addr.IsValid() {
		return ""
	}
	// An IPv4-mapped address is the IPv4 host: its PTR lives under
	// in-addr.arpa, where the gateway's owner put it, and a blocklist
	// lists it there.
	addr = addr.Unmap()
	if addr.Is4() {
		b := addr.As4()
		var s strings.Builder
		s.Grow(15)
		for i := len(b) - 1; i >= 0; i-- {
			writeDecimal(&s, b[i])
			if i > 0 {
				s.WriteByte('.')
			}
		}
		return s.String()
	}
	b := addr.As16() // As16 carries no zone
	out := make([]byte, 0, 63)
	for i := len(b) - 1; i >= 0; i-- {
		out = append(out, hexDigits[b[i]&0x0f], '.', hexDigits[b[i]>>4])
		if i > 0 {
			out = append(out, '.')
		}
	}
	return string(out)
}

func writeDecimal(s *strings.Builder, v byte) {
	if v >= 100 {
		s.WriteByte('0' + v/100)
	}
	if v >= 10 {
		s.WriteByte('0' + v/10%10)
	}
	s.WriteByte('0' + v%10)
}

// ReverseName is addr's PTR name: ReversedLabels + ".in-addr.arpa" or
// ".ip6.arpa", no trailing dot. The invalid (zero) Addr has none: "".
func ReverseName(addr netip.Addr) string {
	labels := ReversedLabels(addr)
	switch {
	case labels == "":
		return ""
	case addr.Unmap().Is4():
		return labels + ".in-addr.arpa" // RFC 1035 section 3.5
	default:
		return labels + ".ip6.arpa" // RFC 3596 section 2.5
	}
}

// PTR looks up the PTR records of addr at ReverseName(addr), following
// CNAMEs: a reverse zone delegated in pieces smaller than a /24 (RFC 2317)
// answers every address with a CNAME into the customer's zone, and that is
// where its PTR records are.
//
// The targets are remote text: only those that are host names (not IP
// addresses written as names) are kept,
// normalised, in answer order and without repeats, at most maxPTRNames
// (Dropped counts the rest); the others are counted in Invalid and never
// kept. An answer whose targets are all invalid keeps Outcome answer with
// no Names: what that means is the caller's to say.
func (r *Resolver) PTR(ctx context.Context, addr netip.Addr) PTRLookup {
	start := time.Now()
	l := PTRLookup{Addr: addr, Name: ReverseName(addr)}
	if l.Name == "" {
		l.Outcome, l.Err, l.Security = OutcomeError, errNoAddr.Error(), r.unasked()
		return l
	}
	res := r.lookup(ctx, l.Name, dns.TypePTR)
	l.Outcome, l.Rcode, l.Security, l.Err = res.outcome, res.rcode, res.security, res.err
	if res.outcome == OutcomeAnswer {
		l.Names, l.Invalid, l.Dropped = ptrNames(res.rrs)
	}
	l.Duration = time.Since(start)
	return l
}

var errNoAddr = errors.New("no IP address to look up")

// ptrNames reads the PTR targets of rrs: the valid host names, normalised,
// in answer order without repeats and at most maxPTRNames; how many targets
// were not host names; how many valid ones were past the cap.
func ptrNames(rrs []dns.RR) (names []string, invalid, dropped int) {
	for _, rr := range rrs {
		p, ok := rr.(*dns.PTR)
		if !ok {
			continue
		}
		// Validated before normalising: lower-casing first would turn
		// some non-ASCII letters (the Kelvin sign) into ASCII ones. miekg/dns
		// presents such bytes escaped anyway; this holds without relying
		// on it.
		// An IP address spelled as a name ("127.0.1.1.") passes the
		// label rules, but no host name has that form (RFC 1123 section
		// 2.1), and a forward lookup of it would "confirm" any address
		// whose PTR spells it.
		target := strings.TrimSuffix(p.Ptr, ".")
		if _, err := netip.ParseAddr(target); err == nil || !dnsname.Valid(target) {
			invalid++
			continue
		}
		name := dnsname.Normalize(target)
		switch {
		case slices.Contains(names, name):
		case len(names) == maxPTRNames:
			dropped++
		default:
			names = append(names, name)
		}
	}
	return names, invalid, dropped
}
