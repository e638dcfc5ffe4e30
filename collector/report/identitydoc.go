package report

import (
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsbl"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/rdns"
)

// The JSON form of who each address is: reverse, names and dnsbl on each
// address, dnsbl (the domain zones) and ip_parity on each MX host,
// ipv6_mx_hosts on a domain. Each is left out when it was not looked up
// (reverse_dns off, no blocklist configured, no dialogue to compare).

// Reverse is an address's reverse DNS: the PTR lookup, the forward
// lookups of its names, and the verdict of rdns.Statuses.
type Reverse struct {
	Status rdns.Status `json:"status"`
	// Name is the forward-confirmed PTR name, else the first one.
	Name    string    `json:"name,omitempty"`
	PTR     PTRLookup `json:"ptr"`
	Forward []Forward `json:"forward,omitempty"`
	Detail  string    `json:"detail,omitempty"`
}

// PTRLookup is the PTR RRset of an address's reverse name.
type PTRLookup struct {
	Query   string         `json:"query"` // the in-addr.arpa or ip6.arpa name
	Outcome dnsmx.Outcome  `json:"outcome"`
	Rcode   string         `json:"rcode,omitempty"`
	DNSSEC  dnsmx.Security `json:"dnssec,omitempty"`
	Error   string         `json:"error,omitempty"`
	// Names are the targets that are valid host names, in answer order;
	// invalid_targets counts the others (never shown: remote text), and
	// names_dropped the valid ones past the cap.
	Names           []string `json:"names,omitempty"`
	InvalidTargets  int      `json:"invalid_targets,omitempty"`
	NamesDropped    int      `json:"names_dropped,omitempty"`
	DurationSeconds float64  `json:"duration_seconds"`
}

// Forward is the forward lookup of one PTR name, in the address's
// family.
type Forward struct {
	Name      string        `json:"name"`
	Outcome   dnsmx.Outcome `json:"outcome"`
	Confirmed bool          `json:"confirmed"`
	Error     string        `json:"error,omitempty"`
}

// Names compares the names an address goes by; pairs are those of
// rdns.Pairs.
type Names struct {
	Agree      bool        `json:"agree"`
	MX         string      `json:"mx,omitempty"`
	PTR        []string    `json:"ptr,omitempty"`
	Banner     string      `json:"banner,omitempty"`
	EHLO       string      `json:"ehlo,omitempty"`
	Mismatches []rdns.Pair `json:"mismatches,omitempty"`
	Detail     string      `json:"detail,omitempty"`
}

// DNSBLResult is one subject looked up in one blocklist zone. Verdicts
// are those of dnsbl (listed, not_listed, error), errors those of
// dnsbl.Errors; an error is never a listing.
type DNSBLResult struct {
	Zone    string        `json:"zone"`
	Query   string        `json:"query,omitempty"`
	Verdict dnsbl.Verdict `json:"verdict"`
	Error   dnsbl.Error   `json:"error,omitempty"`
	// Codes are the list's return codes (127.0.0.0/8 answers).
	Codes []string `json:"codes,omitempty"`
	// Reason is the list's TXT record for a listing, sanitised and
	// capped: remote text.
	Reason string `json:"reason,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Cached: the answer is from the exporter's cache, asked at checked.
	Cached  bool       `json:"cached"`
	Checked *time.Time `json:"checked,omitempty"`
}

func newReverse(c *rdns.Check) *Reverse {
	if c == nil {
		return nil
	}
	l := &c.PTR
	d := &Reverse{
		Status: c.Status, Name: c.Name, Detail: c.Detail,
		PTR: PTRLookup{
			Query: l.Name, Outcome: l.Outcome, Rcode: l.Rcode, DNSSEC: l.Security, Error: l.Err,
			Names: l.Names, InvalidTargets: l.Invalid, NamesDropped: l.Dropped, DurationSeconds: l.Duration.Seconds(),
		},
	}
	for _, f := range c.Forward {
		d.Forward = append(d.Forward, Forward{Name: f.Name, Outcome: f.Outcome, Confirmed: f.Confirmed, Error: f.Err})
	}
	return d
}

func newNames(n *rdns.Names) *Names {
	if n == nil {
		return nil
	}
	return &Names{
		Agree: n.Agree, MX: n.MX, PTR: n.PTR, Banner: n.Banner, EHLO: n.EHLO,
		Mismatches: n.Mismatches, Detail: n.Detail,
	}
}

func newDNSBL(rs []dnsbl.Result) []DNSBLResult {
	if rs == nil {
		return nil
	}
	out := make([]DNSBLResult, 0, len(rs))
	for i := range rs {
		r := &rs[i]
		d := DNSBLResult{
			Zone: r.Zone, Query: r.Query, Verdict: r.Verdict, Error: r.Error,
			Reason: r.Reason, Detail: r.Detail, Cached: r.Cached,
		}
		for _, c := range r.Codes {
			d.Codes = append(d.Codes, c.String())
		}
		if !r.Checked.IsZero() {
			checked := r.Checked.UTC()
			d.Checked = &checked
		}
		out = append(out, d)
	}
	return out
}

// addIdentity fills the identity keys of host and of its addresses, which
// are h's dialogues in order with the nil ones left out.
func addIdentity(host *Host, h *probe.HostReport) {
	host.DNSBL = newDNSBL(h.NameListings)
	host.IPParity = h.Parity
	k := 0
	for j, res := range h.Results {
		if res == nil {
			continue
		}
		a := &host.Addresses[k]
		k++
		a.Reverse = newReverse(ReverseOf(h, j))
		a.Names = newNames(NamesOf(h, j))
		a.DNSBL = newDNSBL(ListingsOf(h, j))
	}
}

// ipv6Hosts is the domain's count of MX hosts with IPv6 addresses, when
// the report judged parity.
func ipv6Hosts(rep *probe.Report) *int {
	if rep.DNS == nil || !ParityKnown(rep) {
		return nil
	}
	n := IPv6Hosts(rep)
	return &n
}
