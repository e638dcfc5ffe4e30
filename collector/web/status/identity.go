package status

import (
	"fmt"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsbl"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/report"
	"github.com/mx-exporter/mx_exporter/collector/store"
)

// Who each address is, on the status pages (issue 13): the PTR name and
// its forward confirmation by the address, a names mismatch under the
// banner, the blocklist results with their reasons beside the findings,
// the MX host name's listings under its name, a zone that fails its
// health check among the domain's notes, the IPv6 parity in the domain's
// header, a mark beside a domain with a listing or an IPv6 gap, and the
// count of those in the summary. The words are the text report's; the
// lists' TXT reasons and the engine's details are remote text, escaped by
// html/template like the rest.

// identityRow is the part of a row that says who the address is.
type identityRow struct {
	// PTR is the reverse DNS label ("PTR mx.example, forward-confirmed"),
	// PTRWhy why it is not confirmed (Text "" when there is nothing to
	// add), PTRStatus its rdns status for data attributes; Text "" when
	// no reverse DNS was looked up.
	PTR, PTRWhy fact
	PTRStatus   string
	// Names says which of the gateway's names disagree; Text "" when
	// they agree or were not compared.
	Names fact
	// Listed: some address blocklist lists the address.
	Listed bool
	// Listings are one fact per listing or error of a list, then the
	// zones that do not list the address.
	Listings []fact
	// MXListings are the MX host name's results in the domain lists.
	MXListings []fact
}

// ipv6View is a domain's IPv6 parity.
type ipv6View struct {
	Text  string // "1 of 2 MX hosts have IPv6 addresses"
	Class string
	Hosts []fact // each host's parity, when some host has IPv6
}

func newIdentityRow(rep *probe.Report, h *probe.HostReport, res *smtp.Result) identityRow {
	var v identityRow
	j := report.AddressIndex(h, res)
	if c := report.ReverseOf(h, j); c != nil {
		v.PTR = fact{report.ReverseLabel(c), toneClass(report.ReverseTone(c))}
		v.PTRStatus = string(c.Status)
		if w := report.ReverseWords(c); w != "" {
			v.PTRWhy = fact{w, toneClass(report.ReverseTone(c))}
		}
	}
	if w := report.NamesWords(report.NamesOf(h, j)); w != "" {
		v.Names = fact{w, warn}
	}
	rs := report.ListingsOf(h, j)
	for i := range rs {
		v.Listed = v.Listed || rs[i].Verdict == dnsbl.VerdictListed
	}
	v.Listings = listingFacts(rep, rs)
	v.MXListings = listingFacts(rep, h.NameListings)
	return v
}

// listingFacts are the results of one subject: one fact per listing or
// error of a list (a zone_unhealthy result is said once among the notes),
// then the zones that do not list it.
func listingFacts(rep *probe.Report, rs []dnsbl.Result) []fact {
	each, notListed := report.ListingGroups(rs)
	out := make([]fact, 0, len(each)+1)
	for _, r := range each {
		out = append(out, fact{report.ListingWords(r, rep.Start), toneClass(report.ListingTone(r))})
	}
	if len(notListed) > 0 {
		out = append(out, fact{report.NotListedWords(notListed, rep.Start), neutral})
	}
	return out
}

// unhealthyNotes say once per zone that a blocklist failed its health
// check, for the domain's notes.
func unhealthyNotes(rep *probe.Report) []string {
	var out []string
	for _, z := range report.UnhealthyZones(rep) {
		out = append(out, report.UnhealthyZoneWords(z))
	}
	return out
}

// newIPv6View is the domain's IPv6 parity; nil when none was judged.
func newIPv6View(rep *probe.Report) *ipv6View {
	if rep == nil || rep.DNS == nil || !report.ParityKnown(rep) {
		return nil
	}
	v := &ipv6View{Text: report.IPv6Words(rep), Class: neutral}
	if report.IPv6Hosts(rep) == 0 {
		return v
	}
	for i := range rep.Hosts {
		h := &rep.Hosts[i]
		if w := report.ParityWords(h); w != "" {
			v.Hosts = append(v.Hosts, fact{w, toneClass(report.ParityTone(h.Parity))})
			if report.ParityGap(h.Parity) {
				v.Class = warn
			}
		}
	}
	return v
}

// identityMarks are the badges beside a target's name: LISTED when a
// blocklist lists one of its addresses or MX host names, IPv6 BROKEN (or
// IPv4 BROKEN) when an MX host's family fails while the other works.
// Amber: facts, which never fail the target.
func identityMarks(rep *probe.Report) []fact {
	if rep == nil {
		return nil
	}
	id := report.IdentityOf(rep)
	var out []fact
	if id.Listed() {
		out = append(out, fact{"LISTED", warn})
	}
	v6, v4 := false, false
	for i := range rep.Hosts {
		switch rep.Hosts[i].Parity {
		case probe.ParityIPv6Failing:
			v6 = true
		case probe.ParityIPv4Failing:
			v4 = true
		}
	}
	if v6 {
		out = append(out, fact{"IPv6 BROKEN", warn})
	}
	if v4 {
		out = append(out, fact{"IPv4 BROKEN", warn})
	}
	return out
}

// identitySummary counts, for the overview's summary, the targets with a
// listed address or MX host name and the domains with an IPv6 gap; Text
// "" when there are none.
func identitySummary(entries []*store.Entry) fact {
	listed, gaps := 0, 0
	for _, e := range entries {
		for _, m := range identityMarks(e.Report) {
			if m.Text == "LISTED" {
				listed++
			} else {
				gaps++
				break
			}
		}
	}
	var parts []string
	if listed > 0 {
		parts = append(parts, domains(listed, "target has", "targets have")+" an address or MX host name on a blocklist")
	}
	if gaps > 0 {
		parts = append(parts, domains(gaps, "domain has", "domains have")+" an MX host that fails over IPv6 or IPv4 while the other family works")
	}
	switch len(parts) {
	case 0:
		return fact{}
	case 1:
		return fact{parts[0], warn}
	}
	return fact{fmt.Sprintf("%s; %s", parts[0], parts[1]), warn}
}
