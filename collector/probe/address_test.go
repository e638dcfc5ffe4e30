package probe

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/mx-exporter/mx_exporter/collector/probe/dnsbl"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/rdns"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
)

// Reverse DNS, names and IPv6 parity on hand-built values. Which questions
// a probe asks is in address_probe_test.go; the scenarios themselves run
// against the real servers in address_integration_test.go.

// passed and failed are dialogues that met the module's expectations or not.
func passed() *smtp.Result { return &smtp.Result{Success: true} }
func failed() *smtp.Result { return &smtp.Result{Reason: smtp.ReasonConnectRefused} }

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

func TestParity(t *testing.T) {
	for _, tc := range []struct {
		name    string
		addrs   []netip.Addr
		results []*smtp.Result
		want    Parity
	}{
		{"no address", nil, nil, ""},
		{"both pass", addrs("192.0.2.1", "2001:db8::1"), []*smtp.Result{passed(), passed()}, ParityBothPass},
		{"IPv6 fails", addrs("192.0.2.1", "2001:db8::1"), []*smtp.Result{passed(), failed()}, ParityIPv6Failing},
		{"IPv4 fails", addrs("192.0.2.1", "2001:db8::1"), []*smtp.Result{failed(), passed()}, ParityIPv4Failing},
		{"both fail", addrs("192.0.2.1", "2001:db8::1"), []*smtp.Result{failed(), failed()}, ParityBothFailing},
		{"IPv4 only, passing", addrs("192.0.2.1", "192.0.2.2"), []*smtp.Result{passed(), passed()}, ParityIPv4Only},
		{"IPv4 only, failing", addrs("192.0.2.1"), []*smtp.Result{failed()}, ParityIPv4Only},
		{"IPv6 only, passing", addrs("2001:db8::1"), []*smtp.Result{passed()}, ParityIPv6Only},
		{"IPv6 only, failing", addrs("2001:db8::1"), []*smtp.Result{failed()}, ParityIPv6Only},
		// One passing address of a family is enough for that family.
		{"one IPv6 of two passes", addrs("192.0.2.1", "2001:db8::1", "2001:db8::2"), []*smtp.Result{passed(), failed(), passed()}, ParityBothPass},
		{"one IPv4 of two passes", addrs("192.0.2.1", "192.0.2.2", "2001:db8::1"), []*smtp.Result{failed(), passed(), failed()}, ParityIPv6Failing},
		// An IPv4-mapped IPv6 address is IPv4.
		{"mapped IPv4 alone", addrs("::ffff:192.0.2.1"), []*smtp.Result{passed()}, ParityIPv4Only},
		{"mapped IPv4 beside IPv4", addrs("192.0.2.1", "::ffff:192.0.2.2"), []*smtp.Result{passed(), failed()}, ParityIPv4Only},
		{"mapped IPv4 fails, IPv6 passes", addrs("::ffff:192.0.2.1", "2001:db8::1"), []*smtp.Result{failed(), passed()}, ParityIPv4Failing},
		// A dialogue that is missing (never run) counts as failed.
		{"missing IPv6 dialogue", addrs("192.0.2.1", "2001:db8::1"), []*smtp.Result{passed(), nil}, ParityIPv6Failing},
		{"results shorter than addresses", addrs("192.0.2.1", "2001:db8::1"), []*smtp.Result{passed()}, ParityIPv6Failing},
	} {
		if got := parity(tc.addrs, tc.results); got != tc.want {
			t.Fatalf("%s: parity %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestParitiesAreListed: every value parity can return is in Parities, the
// list documentation and labels are built from.
func TestParitiesAreListed(t *testing.T) {
	for _, p := range []Parity{ParityBothPass, ParityIPv6Failing, ParityIPv4Failing, ParityBothFailing, ParityIPv4Only, ParityIPv6Only} {
		if !slices.Contains(Parities, p) {
			t.Fatalf("%q missing from Parities %v", p, Parities)
		}
	}
	if len(Parities) != 6 {
		t.Fatalf("Parities %v, want the 6 parities each once", Parities)
	}
}

func TestEHLOHostname(t *testing.T) {
	long := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 61)
	for _, tc := range []struct {
		ext  *smtp.Extensions
		want string
	}{
		{nil, ""},
		{&smtp.Extensions{}, ""},
		{&smtp.Extensions{Greeting: "mx.relay.test"}, "mx.relay.test"},
		{&smtp.Extensions{Greeting: "MX.Relay.Test. Hello probe.mx-exporter.test [127.0.0.1]"}, "mx.relay.test"},
		{&smtp.Extensions{Greeting: "mx1.good.test says hi"}, "mx1.good.test"},
		// Not a host name: nothing of it gets through.
		{&smtp.Extensions{Greeting: "[127.0.1.1]"}, ""},
		{&smtp.Extensions{Greeting: "Hello there"}, "hello"}, // a one-label name is a host name too
		{&smtp.Extensions{Greeting: "mx_1.example.test"}, ""},
		{&smtp.Extensions{Greeting: "mx.example.test\x00evil"}, ""},
		{&smtp.Extensions{Greeting: " mx.example.test"}, ""},
		{&smtp.Extensions{Greeting: "-mx.example.test"}, ""},
		{&smtp.Extensions{Greeting: "mx\u212a.example.test"}, ""}, // the Kelvin sign is no k
		// Capped as BannerHostname is: at most 253 bytes.
		{&smtp.Extensions{Greeting: long}, long},
		{&smtp.Extensions{Greeting: long + "d"}, ""},
	} {
		if got := ehloHostname(tc.ext); got != tc.want {
			t.Fatalf("ehloHostname(%+v) = %q, want %q", tc.ext, got, tc.want)
		}
	}
}

// TestCompareNamesWithoutNames: a dialogue that gave neither a greeting
// host name nor an EHLO name has nothing to compare, whatever the PTR says;
// a host without dialogues has no Names at all.
func TestCompareNamesWithoutNames(t *testing.T) {
	reverse := []*rdns.Check{{PTR: dnsmx.PTRLookup{Names: []string{"mail.other.test"}}}, nil, nil}
	results := []*smtp.Result{
		nil, // never ran
		{Reason: smtp.ReasonConnectRefused},
		{BannerHostname: "", Extensions: &smtp.Extensions{Greeting: "[127.0.0.1]"}},
	}
	got := compareNames("mx.example.test", reverse, results)
	if len(got) != 3 || got[0] != nil || got[1] != nil || got[2] != nil {
		t.Fatalf("Names %v, want 3 nil entries", got)
	}
	if got := compareNames("mx.example.test", nil, nil); got != nil {
		t.Fatalf("Names of a host without dialogues %v, want nil", got)
	}
}

// TestWaitHandsOutCopies: an address two MX hosts share is looked up once
// and reported under both, each host with its own copy of the listings and
// the one immutable reverse DNS Check (shared: identityCache); a host
// without addresses gets its name listings only.
func TestWaitHandsOutCopies(t *testing.T) {
	shared, own := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	l := &identityLookups{
		addrIndex:    map[netip.Addr]int{shared: 0, own: 1},
		reverse:      []*rdns.Check{{Status: rdns.StatusConfirmed, Name: "mx.example.test"}, {Status: rdns.StatusNoPTR}},
		listings:     [][]dnsbl.Result{{{Zone: "bl.test", Verdict: dnsbl.VerdictNotListed}}, {{Zone: "bl.test", Verdict: dnsbl.VerdictListed}}},
		nameIndex:    map[string]int{"mx1.example.test": 0, "mx2.example.test": 1, "mx3.example.test": 2},
		nameListings: [][]dnsbl.Result{{{Zone: "dbl.test", Subject: "mx1.example.test"}}, {{Zone: "dbl.test", Subject: "mx2.example.test"}}, {{Zone: "dbl.test", Subject: "mx3.example.test"}}},
	}
	hosts := []HostReport{
		{Host: dnsmx.Host{Name: "mx1.example.test", Addrs: []netip.Addr{shared, own}}},
		{Host: dnsmx.Host{Name: "mx2.example.test", Addrs: []netip.Addr{shared}}},
		{Host: dnsmx.Host{Name: "mx3.example.test"}},
	}
	l.wait(hosts)
	h1, h2, h3 := hosts[0], hosts[1], hosts[2]
	if len(h1.Reverse) != 2 || h1.Reverse[0].Status != rdns.StatusConfirmed || h1.Reverse[1].Status != rdns.StatusNoPTR {
		t.Fatalf("mx1 Reverse %v, want confirmed and no_ptr", h1.Reverse)
	}
	if len(h2.Reverse) != 1 || h2.Reverse[0] != h1.Reverse[0] {
		t.Fatalf("mx2 Reverse %v, want mx1's confirmed Check, shared", h2.Reverse)
	}
	if len(h1.Listings) != 2 || h1.Listings[1][0].Verdict != dnsbl.VerdictListed || len(h2.Listings) != 1 || h2.Listings[0][0].Verdict != dnsbl.VerdictNotListed {
		t.Fatalf("Listings %v and %v, want the shared address not listed, the IPv6 one listed", h1.Listings, h2.Listings)
	}
	h2.Listings[0][0].Verdict = dnsbl.VerdictError
	if h1.Listings[0][0].Verdict != dnsbl.VerdictNotListed {
		t.Fatal("two hosts share one listings slice")
	}
	if h3.Reverse != nil || h3.Listings != nil || len(h3.NameListings) != 1 || h3.NameListings[0].Subject != "mx3.example.test" {
		t.Fatalf("host without addresses: Reverse %v, Listings %v, NameListings %v; want its name listings only", h3.Reverse, h3.Listings, h3.NameListings)
	}
	if h1.NameListings[0].Subject != "mx1.example.test" || h2.NameListings[0].Subject != "mx2.example.test" {
		t.Fatalf("name listings %v, %v, want each host's own", h1.NameListings, h2.NameListings)
	}
}
