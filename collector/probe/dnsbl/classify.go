package dnsbl

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/txtfields"
)

const (
	// maxCodes caps the return codes kept of one answer. A list that
	// combines sublists answers with one A record per sublist that lists
	// the subject (RFC 5782 section 2.3), a handful at most; the rest of a
	// larger answer says nothing more.
	maxCodes = 8
	// maxReason caps the listing reason: the zone's TXT records, joined.
	// One reason is a sentence and a URL; a combined list may send one
	// per sublist.
	maxReason = 2 * txtfields.MaxQuoted
	// maxInvalidShown caps the addresses outside 127.0.0.0/8 that a detail
	// names.
	maxInvalidShown = 3
)

var (
	// loopbackNet holds every return code (RFC 5782 section 2.1: the A
	// record of an entry is a code, never an address to use, and 127/8
	// by convention).
	loopbackNet = netip.MustParsePrefix("127.0.0.0/8")
	// refusedNet is what lists answer when they refuse the query rather
	// than a listing: Spamhaus's 127.255.255.252 (a typo in the zone
	// name), .254 (a public or open resolver), .255 (too many queries),
	// and others of the kind. Taking them for listings is a known false
	// positive of other tools.
	refusedNet = netip.MustParsePrefix("127.255.255.0/24")
)

// answer is what one A lookup of a query name means.
type answer struct {
	verdict Verdict
	err     Error
	// codes are the answers in 127.0.0.0/8 (refusal codes included),
	// sorted, without duplicates, at most maxCodes.
	codes []netip.Addr
	// invalid are the answers outside 127.0.0.0/8, sorted, without
	// duplicates, at most maxInvalidShown: for the detail only.
	invalid []netip.Addr
}

// classify judges the A lookup of a query name: its outcome and the
// addresses it brought.
//
//   - NXDOMAIN and NODATA: not listed (so is an answer without addresses,
//     which the resolver never gives).
//   - Any address outside 127.0.0.0/8: error answer_invalid, whatever else
//     came with it: that is no list's answer but a resolver's rewrite or a
//     zone that is no list, so none of its codes is believed either.
//   - Else any code in 127.255.255.0/24: error query_refused, whatever
//     else came with it.
//   - Else listed, with the codes.
//   - A timeout: error timeout. SERVFAIL, REFUSED and every other failure
//     (a malformed reply, a network error): error lookup_failed.
func classify(outcome dnsmx.Outcome, addrs []netip.Addr) answer {
	switch outcome {
	case dnsmx.OutcomeNXDomain, dnsmx.OutcomeNoData:
		return answer{verdict: VerdictNotListed}
	case dnsmx.OutcomeTimeout:
		return answer{verdict: VerdictError, err: ErrorTimeout}
	case dnsmx.OutcomeAnswer:
	default:
		return answer{verdict: VerdictError, err: ErrorLookupFailed}
	}
	var a answer
	refused := false
	for _, addr := range addrs {
		if !loopbackNet.Contains(addr) {
			a.invalid = append(a.invalid, addr)
			continue
		}
		a.codes = append(a.codes, addr)
		refused = refused || refusedNet.Contains(addr)
	}
	a.codes = sortedCapped(a.codes, maxCodes)
	a.invalid = sortedCapped(a.invalid, maxInvalidShown)
	switch {
	case len(a.invalid) > 0:
		a.verdict, a.err = VerdictError, ErrorOutsideLoopback
	case refused:
		a.verdict, a.err = VerdictError, ErrorRefusedQuery
	case len(a.codes) > 0:
		a.verdict = VerdictListed
	default:
		a.verdict = VerdictNotListed
	}
	return a
}

// sortedCapped sorts addrs, drops duplicates and keeps at most limit.
func sortedCapped(addrs []netip.Addr, limit int) []netip.Addr {
	if len(addrs) == 0 {
		return nil
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	addrs = slices.Compact(addrs)
	return slices.Clip(addrs[:min(len(addrs), limit)])
}

// describe says in words what a says of zone. lookupErr is the resolver's
// own words for a failed lookup (server addresses and rcodes: nothing a
// remote server wrote).
func describe(zone, query string, a answer, lookupErr string) string {
	switch a.err {
	case "":
		if a.verdict == VerdictListed {
			return fmt.Sprintf("listed in %s (%s)", zone, addrList(a.codes))
		}
		return "not listed in " + zone
	case ErrorOutsideLoopback:
		return fmt.Sprintf("%s answered %s, outside 127.0.0.0/8: no list's answer (a resolver rewriting answers, "+
			"or a zone that is no blocklist); not a listing", zone, addrList(a.invalid))
	case ErrorRefusedQuery:
		return fmt.Sprintf("%s refused the query (%s): it answers so to queries through a public or open resolver, "+
			"to too many queries, or to a typo or a missing key in the zone name; not a listing", zone, addrList(a.codes))
	case ErrorTimeout:
		return fmt.Sprintf("no answer for %s in time: %s", query, lookupErr)
	default:
		return fmt.Sprintf("the lookup of %s failed: %s", query, lookupErr)
	}
}

// addrList writes addrs with commas.
func addrList(addrs []netip.Addr) string {
	s := make([]string, len(addrs))
	for i, a := range addrs {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

// lookup asks the A records of query in zone and judges them; with
// withReason, a listing also gets its reason, the zone's TXT records for
// the same name (a health check needs none). The
// Result has no Subject: the answer is the name's, whichever subject it was
// asked for.
func lookup(ctx context.Context, r *dnsmx.Resolver, zone, query string, withReason bool) Result {
	h := r.Host(ctx, query, dnsmx.Options{Families: []dnsmx.Family{dnsmx.IPv4}, IgnoreSpecialAddresses: true})
	a := classify(h.Outcome, h.Addrs)
	res := Result{
		Zone:    zone,
		Query:   query,
		Verdict: a.verdict,
		Error:   a.err,
		Codes:   a.codes,
		Detail:  describe(zone, query, a, h.Err),
	}
	if withReason && a.verdict == VerdictListed {
		if t := r.TXT(ctx, query); t.Outcome == dnsmx.OutcomeAnswer {
			res.Reason = reason(t.Records)
		}
	}
	return res
}

// reason is the TXT records of a listing as one line of printable ASCII,
// capped: remote text, for reports only.
func reason(records []string) string {
	var kept []string
	for _, rec := range records {
		if rec = strings.TrimSpace(rec); rec != "" {
			kept = append(kept, rec)
		}
	}
	return txtfields.Sanitize(strings.Join(kept, "; "), maxReason)
}
