package collector

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dane"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/mtasts"
	"github.com/mx-exporter/mx_exporter/collector/probe/rdns"
)

// seriesBudget is the most series a healthy endpoint with STARTTLS may
// export with the module's defaults (issue 14): 10,000 endpoints then cost
// a Prometheus at most 350k series of their own.
const seriesBudget = 35

// countSink counts the series of each family, per kind of subject.
type countSink struct {
	endpoint bool
	byFam    map[string]int // the endpoint's series
	other    int            // the domain's and the MX host's
}

func (c *countSink) subject(_, _, ip string) { c.endpoint = ip != "" }
func (c *countSink) series(f fam, _ float64, _ []string) {
	if c.endpoint {
		c.byFam[families[f].name]++
	} else {
		c.other++
	}
}

// budgetEntry is one domain of the scale benchmark's shape, as the
// daemon's default module probes it: two MX hosts of one address each,
// healthy, with STARTTLS, one mailbox and a relay check; DANE not checked
// (no trusted resolver), reverse DNS confirmed, no MTA-STS policy and no
// TLS-RPT record published. It returns the sink and the endpoints emitted.
func budgetEntry(d probe.Detail) (*countSink, int) {
	return budgetEntryWith(d, nil)
}

// budgetEntryWith is budgetEntry with each MX host changed by change first,
// when it is not nil.
func budgetEntryWith(d probe.Detail, change func(*probe.HostReport)) (*countSink, int) {
	var hosts []probe.HostReport
	for i, ip := range []string{"192.0.2.10", "192.0.2.20"} {
		name := fmt.Sprintf("mx%d.example.org", i+1)
		res := healthy(name, ip, t0, true)
		res.DANE = &dane.Check{Mode: dane.ModeEnforce, Status: dane.StatusNotChecked}
		h := host(name, uint16(10*(i+1)), res)
		h.Reverse = []*rdns.Check{{Name: name, Status: rdns.StatusConfirmed}}
		h.Names = []*rdns.Names{{MX: name, PTR: []string{name}, Banner: name, EHLO: name, Agree: true}}
		h.Parity = probe.ParityIPv4Only
		if change != nil {
			change(&h)
		}
		hosts = append(hosts, h)
	}
	r := domainReport("example.org", t0, &dnsmx.Domain{Outcome: dnsmx.OutcomeAnswer}, hosts...)
	r.MTASTS = &probe.MTASTSReport{Mode: mtasts.ModeEnforce, TXTLookup: dnsmx.TXTLookup{Outcome: dnsmx.OutcomeNXDomain}, Status: mtasts.StatusNoPolicy}
	r.TLSRPT = &probe.TLSRPTReport{Lookup: dnsmx.TXTLookup{Outcome: dnsmx.OutcomeNXDomain}}
	a := fullModule
	a.DANE = dane.ModeEnforce
	a.Detail = d
	c := &countSink{byFam: map[string]int{}}
	n := emit(entry("example.org", "default", a, r), c)
	return c, n
}

func (c *countSink) total() int {
	n := 0
	for _, v := range c.byFam {
		n += v
	}
	return n
}

func (c *countSink) table() string {
	var b strings.Builder
	names := make([]string, 0, len(c.byFam))
	for k := range c.byFam {
		names = append(names, k)
	}
	slices.SortFunc(names, func(x, y string) int {
		if d := c.byFam[y] - c.byFam[x]; d != 0 {
			return d
		}
		return strings.Compare(x, y)
	})
	for _, k := range names {
		fmt.Fprintf(&b, "%4d %s\n", c.byFam[k], k)
	}
	fmt.Fprintf(&b, "%4d total of 2 endpoints: %d each; %d of the domain and its 2 MX hosts\n", c.total(), c.total()/2, c.other)
	// The scale benchmark's 5,000 such domains: 10,000 endpoints.
	fmt.Fprintf(&b, "at 10,000 endpoints (5,000 domains × 2 MX × 1 address): %d series\n", 5000*(c.total()+c.other))
	return b.String()
}

// TestSeriesBudget pins the budget: a default healthy STARTTLS endpoint
// exports at most seriesBudget series. Run with -v for the table by family.
func TestSeriesBudget(t *testing.T) {
	c, n := budgetEntry(probe.Detail{})
	if n != 2 {
		t.Fatalf("endpoints = %d, want 2", n)
	}
	t.Logf("defaults:\n%s", c.table())
	if c.total() > 2*seriesBudget {
		t.Errorf("a default healthy STARTTLS endpoint exports %d series, budget %d:\n%s", c.total()/2, seriesBudget, c.table())
	}
	all, _ := budgetEntry(probe.Detail{AllExtensions: true, EnhancedStatus: true, AllSteps: true})
	t.Logf("everything opted in:\n%s", all.table())
}

// TestSeriesBudgetDANE: with dns.trust_ad on and a secure TLSA RRset whose
// record matches, DANE adds the record counts, the matched count and
// rollover readiness to each address: the README's "Series per endpoint"
// table says so.
func TestSeriesBudgetDANE(t *testing.T) {
	base, _ := budgetEntry(probe.Detail{})
	rec := dane.TLSA{Usage: dane.DANEEE, Selector: dane.SelectorSPKI, MatchingType: dane.MatchSHA256, Data: make([]byte, 32)}
	c, n := budgetEntryWith(probe.Detail{}, func(h *probe.HostReport) {
		h.Security = dnsmx.SecuritySecure
		h.TLSA = &dnsmx.TLSALookup{Outcome: dnsmx.OutcomeAnswer, Security: dnsmx.SecuritySecure, Records: []dane.TLSA{rec}}
		h.Results[0].DANE = &dane.Check{Mode: dane.ModeEnforce, Status: dane.StatusPass, Result: &dane.Result{
			Records: []dane.RecordResult{{Record: rec, Outcome: dane.Matched}},
		}}
	})
	if n != 2 {
		t.Fatalf("endpoints = %d, want 2", n)
	}
	t.Logf("DANE passing:\n%s", c.table())
	want := map[string]int{"mx_dane_tlsa_records": 2, "mx_dane_tlsa_usable_records": 2, "mx_dane_tlsa_matched_records": 2, "mx_dane_rollover_ready": 2}
	for name, n := range want {
		if c.byFam[name] != n {
			t.Errorf("%s: %d series, want %d", name, c.byFam[name], n)
		}
	}
	if got := (c.total() - base.total()) / 2; got != len(want) {
		t.Errorf("DANE adds %d series per address, want %d:\n%s", got, len(want), c.table())
	}
}
