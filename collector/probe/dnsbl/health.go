package dnsbl

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
)

// The test entries of RFC 5782 section 5: every list must list the first
// and must not list the second. An address zone is asked for the IPv4
// ones (the IPv6 test entries, ::ffff:127.0.0.2 and ::ffff:127.0.0.1, are
// not asked: lists that take IPv6 queries are mostly combined lists whose
// IPv4 entries speak for the zone), a domain zone for the reserved names of
// RFC 2606.
const (
	addrListed     = "127.0.0.2"
	addrUnlisted   = "127.0.0.1"
	domainListed   = "test"
	domainUnlisted = "invalid"
)

// testEntries returns what zone must list and must not list.
func testEntries(kind Kind) (listed, unlisted string) {
	if kind == KindDomain {
		return domainListed, domainUnlisted
	}
	return addrListed, addrUnlisted
}

// probeHealth asks zone for its two test entries, side by side, and judges
// the answers (judgeHealth). A zone whose name makes no valid query name is
// unhealthy without a question.
func probeHealth(ctx context.Context, r *dnsmx.Resolver, z Zone) (healthy, retry bool, detail string) {
	listed, unlisted := testEntries(z.Kind)
	var answers [2]Result
	var wg sync.WaitGroup
	for i, entry := range []string{listed, unlisted} {
		q := QueryName(z.Name, entry)
		if q == "" {
			return false, false, fmt.Sprintf("%s makes no valid DNS name for its test entry %s", z.Name, entry)
		}
		wg.Go(func() { answers[i] = lookup(ctx, r, z.Name, q, false) })
	}
	wg.Wait()
	return judgeHealth(z, answers[0], answers[1])
}

// judgeHealth judges a zone by its answers for the entry it must list and
// the one it must not. A zone is healthy when it lists the first and not
// the second; else the detail says what went wrong, each entry's finding
// in turn. retry is true when a check failed to get an answer (a lookup
// error or a timeout) rather than got a wrong one: the zone is unhealthy
// until a check passes, and the next check is due soon.
func judgeHealth(z Zone, listed, unlisted Result) (healthy, retry bool, detail string) {
	listedEntry, unlistedEntry := testEntries(z.Kind)
	var problems []string
	for _, c := range []struct {
		res   Result
		entry string
		want  Verdict
	}{
		{listed, listedEntry, VerdictListed},
		{unlisted, unlistedEntry, VerdictNotListed},
	} {
		if c.res.Verdict == c.want {
			continue
		}
		var p string
		switch c.res.Error {
		case ErrorLookupFailed, ErrorTimeout:
			retry = true
			p = fmt.Sprintf("could not be checked (%s)", c.res.Detail)
		case ErrorRefusedQuery:
			p = fmt.Sprintf("refuses the query for %s with %s: the answer to queries through a public or open "+
				"resolver, to too many queries, or to a typo or a missing key in the zone name", c.entry, addrList(c.res.Codes))
		case ErrorOutsideLoopback:
			p = fmt.Sprintf("answers %s with an address outside 127.0.0.0/8: no list's answer "+
				"(a resolver rewriting answers, or a zone that is no blocklist)", c.entry)
		default:
			if c.want == VerdictListed {
				p = fmt.Sprintf("does not list its test entry %s (RFC 5782 section 5): a zone that is no blocklist, "+
					"a typo or a missing key in the zone name, or a list that is no longer served", c.entry)
			} else {
				p = fmt.Sprintf("lists %s, which no list may: it answers everything "+
					"(a wildcard, or a resolver rewriting NXDOMAIN)", c.entry)
			}
		}
		problems = append(problems, p)
	}
	if len(problems) == 0 {
		return true, false, ""
	}
	// "bl.example lists 127.0.0.1, which no list may: …; and it …".
	d := z.Name + " " + strings.Join(problems, "; and it ")
	if retry {
		return false, true, d + "; its answers are not trusted until a check passes"
	}
	return false, false, d + "; its answers are not trusted"
}
