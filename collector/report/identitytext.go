package report

import (
	"strings"

	"github.com/mx-exporter/mx_exporter/collector/printable"
	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsbl"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
)

// Who each address is, in the text report: the PTR name and its forward
// confirmation on the line that names the address, a PTR line when that
// is not the whole story, a names line when the gateway's names disagree,
// the blocklist results of the address and of its MX host name, an
// unhealthy zone once at the top, and the IPv6 parity of the MX hosts
// before the last line, which names these facts without making them
// failures.

// reverseLabel is the parenthesis after an address on its line: " (PTR
// mail.other.test, forward-confirmed)"; "" when no reverse DNS was looked
// up.
func (t *textWriter) reverseLabel(h *probe.HostReport, r *smtp.Result) safe {
	c := ReverseOf(h, AddressIndex(h, r))
	if c == nil {
		return ""
	}
	return " (" + t.style(ReverseTone(c)) + safe(printable.String(ReverseLabel(c))) + t.p.reset + ")"
}

// identity is the address's PTR, names and blocklist lines, under its
// dialogue's facts and above its verdict.
func (t *textWriter) identity(rep *probe.Report, h *probe.HostReport, r *smtp.Result) {
	p := t.p
	j := AddressIndex(h, r)
	if c := ReverseOf(h, j); c != nil {
		if w := ReverseWords(c); w != "" {
			t.printf("    PTR:        %s%s%s\n", t.style(ReverseTone(c)), w, p.reset)
		}
	}
	if w := NamesWords(NamesOf(h, j)); w != "" {
		t.printf("    names:      %s%s%s\n", p.warn, w, p.reset)
	}
	t.listings("    ", 11, ListingsOf(h, j), rep)
}

// listings writes one line per listing or error of a list, then the zones
// that do not list the subject, under the label "blocklist:" padded to
// width as the labels around it are.
func (t *textWriter) listings(indent string, width int, rs []dnsbl.Result, rep *probe.Report) {
	each, notListed := ListingGroups(rs)
	label := "blocklist:"
	for _, r := range each {
		t.printf("%s%-*s %s%s%s\n", indent, width, label, t.style(ListingTone(r)), ListingWords(r, rep.Start), t.p.reset)
		label = ""
	}
	if len(notListed) > 0 {
		t.printf("%s%-*s %s\n", indent, width, label, NotListedWords(notListed, rep.Start))
	}
}

// hostListings are the MX host name's results in the domain blocklists,
// under the host's heading, labelled as its MTA-STS line is.
func (t *textWriter) hostListings(rep *probe.Report, h *probe.HostReport) {
	t.listings("  ", len("blocklist:"), h.NameListings, rep)
}

// unhealthyZones says once, at the top, which blocklist zones failed their
// health check: every result in them is zone_unhealthy, and repeating it
// under each address would bury the listings of the other zones.
func (t *textWriter) unhealthyZones(rep *probe.Report) {
	for _, z := range UnhealthyZones(rep) {
		t.printf("%s%s%s\n", t.p.warn, UnhealthyZoneWords(z), t.p.reset)
	}
}

// ipv6 is the domain's IPv6 parity, before the last line: how many MX
// hosts have IPv6 addresses and, when some do, how each host's two
// families compare; for a host target, how its own compare.
func (t *textWriter) ipv6(rep *probe.Report) {
	if !ParityKnown(rep) {
		return
	}
	p := t.p
	if rep.DNS == nil {
		// A host target: its own parity, without counting MX hosts.
		h := &rep.Hosts[0]
		t.printf("\n%sIPv6:%s %s%s%s\n", p.bold, p.reset, t.style(ParityTone(h.Parity)), ParityWords(h), p.reset)
		return
	}
	t.printf("\n%sIPv6:%s %s\n", p.bold, p.reset, IPv6Words(rep))
	if IPv6Hosts(rep) == 0 {
		return
	}
	for i := range rep.Hosts {
		h := &rep.Hosts[i]
		if w := ParityWords(h); w != "" {
			t.printf("  %s%s%s\n", t.style(ParityTone(h.Parity)), w, p.reset)
		}
	}
}

// identityNote is what the last line adds: listings, addresses without
// FCrDNS and IPv6 gaps, as facts, in amber; "" when there are none.
func (t *textWriter) identityNote(rep *probe.Report) safe {
	w := IdentityOf(rep).Words()
	if w == "" {
		return ""
	}
	return "; " + t.p.warn + safe(printable.String(strings.TrimSpace(w))) + t.p.reset
}
