package probe

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe/dnsbl"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/rdns"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// Reverse DNS, the names a gateway goes by, blocklists and IPv6 parity
// (issue 13), end to end against the real servers: nsd serving the reverse
// zones and the blocklist zones bl.test, brokenbl.test and dbl.test beside
// zone test., the validating unbound answering them too, and the Postfix
// listeners as MX hosts (see collector/testenv's package comment).

// healthyZones are the healthy test blocklists, one of each kind.
var healthyZones = []dnsbl.Zone{
	{Name: testenv.BlocklistZone, Kind: dnsbl.KindAddress},
	{Name: testenv.DomainBlocklistZone, Kind: dnsbl.KindDomain},
}

// identitySettings probes like testSettings (postmaster@domain, the relay
// check, opportunistic STARTTLS) through resolver, with reverse DNS on and
// zones as the module's blocklists.
func identitySettings(t *testing.T, env *testenv.Env, resolver, domain string, zones []dnsbl.Zone) Settings {
	t.Helper()
	s := testSettings(t, env, domain)
	r, err := dnsmx.NewResolver([]string{resolver}, 2*time.Second, 2)
	if err != nil {
		t.Fatalf("NewResolver(%s): %v", resolver, err)
	}
	s.Resolver = r
	s.ReverseDNS = true
	s.DNSBLZones = zones
	return s
}

// newChecker is a blocklist checker as the daemon keeps one: answers and
// zone health kept for an hour, longer than any test.
func newChecker() *dnsbl.Checker { return dnsbl.NewChecker(time.Hour, time.Hour) }

// probeIdentity probes target with s and a Prober that has checker, and
// logs what the report says of every address.
func probeIdentity(t *testing.T, checker *dnsbl.Checker, target Target, s Settings) *Report {
	t.Helper()
	rep := (&Prober{Blocklists: checker}).Probe(context.Background(), target, s)
	for _, h := range rep.Hosts {
		t.Logf("%s %s: parity %q, name listings %+v", target.Name(), h.Name, h.Parity, h.NameListings)
		for j, a := range h.Addrs {
			if res := resultAt(h.Results, j); res != nil {
				t.Logf("  %s: success=%v reason=%q banner=%q", a, res.Success, res.Reason, res.BannerHostname)
			}
			if j < len(h.Reverse) && h.Reverse[j] != nil {
				t.Logf("  %s: reverse %s %q: %s", a, h.Reverse[j].Status, h.Reverse[j].Name, h.Reverse[j].Detail)
			}
			if j < len(h.Names) && h.Names[j] != nil {
				t.Logf("  %s: names agree=%v %v: %s", a, h.Names[j].Agree, h.Names[j].Mismatches, h.Names[j].Detail)
			}
			if j < len(h.Listings) {
				t.Logf("  %s: listings %+v", a, h.Listings[j])
			}
		}
	}
	return rep
}

// hostNamed returns the MX host called name.
func hostNamed(t *testing.T, rep *Report, name string) *HostReport {
	t.Helper()
	for i := range rep.Hosts {
		if rep.Hosts[i].Name == name {
			return &rep.Hosts[i]
		}
	}
	t.Fatalf("%s: no MX host %s among %s", rep.Target.Name(), name, describeHosts(rep))
	return nil
}

// addrIndex returns the position of ip among h's addresses.
func addrIndex(t *testing.T, h *HostReport, ip string) int {
	t.Helper()
	i := slices.Index(h.Addrs, netip.MustParseAddr(ip))
	if i < 0 {
		t.Fatalf("%s: no address %s among %v", h.Name, ip, h.Addrs)
	}
	return i
}

// zoneResult returns the result of zone among results.
func zoneResult(t *testing.T, what string, results []dnsbl.Result, zone string) dnsbl.Result {
	t.Helper()
	for _, r := range results {
		if r.Zone == zone {
			return r
		}
	}
	t.Fatalf("%s: no result of zone %s among %+v", what, zone, results)
	return dnsbl.Result{}
}

// addressWant is what the report must say of one address of one MX host.
type addressWant struct {
	mx, ip string
	status rdns.Status
	ptr    string // Check.Name
	// mismatches of the names; none means they agree.
	mismatches []rdns.Pair
	// listing in bl.test: its verdict, its error, and a part of its reason.
	listing    dnsbl.Verdict
	listingErr dnsbl.Error
	reason     string
	// nameListing is the MX host name's verdict in dbl.test, with a part of
	// its reason.
	nameListing dnsbl.Verdict
	nameReason  string
	parity      Parity
}

// checkAddress checks what rep says of w's address against w.
func checkAddress(t *testing.T, rep *Report, w addressWant) {
	t.Helper()
	h := hostNamed(t, rep, w.mx)
	j := addrIndex(t, h, w.ip)
	what := w.mx + " " + w.ip
	if len(h.Reverse) != len(h.Addrs) || h.Reverse[j] == nil {
		t.Fatalf("%s: Reverse %v, want one check per address", what, h.Reverse)
	}
	if c := h.Reverse[j]; c.Status != w.status || c.Name != w.ptr {
		t.Fatalf("%s: reverse %s %q (%s), want %s %q", what, c.Status, c.Name, c.Detail, w.status, w.ptr)
	}
	if len(h.Names) != len(h.Addrs) || h.Names[j] == nil {
		t.Fatalf("%s: Names %v, want a comparison per address", what, h.Names)
	}
	n := h.Names[j]
	if n.Agree != (len(w.mismatches) == 0) || !slices.Equal(n.Mismatches, w.mismatches) {
		t.Fatalf("%s: names agree=%v mismatches %v (%s), want mismatches %v", what, n.Agree, n.Mismatches, n.Detail, w.mismatches)
	}
	if n.MX != w.mx {
		t.Fatalf("%s: names compared MX %q, want %q", what, n.MX, w.mx)
	}
	if len(h.Listings) != len(h.Addrs) {
		t.Fatalf("%s: Listings %v, want one list per address", what, h.Listings)
	}
	l := zoneResult(t, what, h.Listings[j], testenv.BlocklistZone)
	if l.Verdict != w.listing || l.Error != w.listingErr || !strings.Contains(l.Reason, w.reason) || l.Subject != w.ip {
		t.Fatalf("%s: bl.test %s %q subject %q reason %q (%s), want %s %q subject %s reason with %q",
			what, l.Verdict, l.Error, l.Subject, l.Reason, l.Detail, w.listing, w.listingErr, w.ip, w.reason)
	}
	if w.listing != dnsbl.VerdictListed && l.Reason != "" {
		t.Fatalf("%s: bl.test %s with reason %q, want no reason", what, l.Verdict, l.Reason)
	}
	nl := zoneResult(t, w.mx, h.NameListings, testenv.DomainBlocklistZone)
	if nl.Verdict != w.nameListing || nl.Error != "" || !strings.Contains(nl.Reason, w.nameReason) || nl.Subject != w.mx {
		t.Fatalf("%s: dbl.test %s %q subject %q reason %q (%s), want %s subject %s reason with %q",
			w.mx, nl.Verdict, nl.Error, nl.Subject, nl.Reason, nl.Detail, w.nameListing, w.mx, w.nameReason)
	}
	if h.Parity != w.parity {
		t.Fatalf("%s: parity %q, want %q", w.mx, h.Parity, w.parity)
	}
}

// TestIdentityScenarios: the reverse DNS, names and blocklist scenarios of
// the test zones through nsd, one probe per domain. None of it changes
// whether a probe succeeds: v6.test is listed and passes, relay.test fails
// for its open relay only.
func TestIdentityScenarios(t *testing.T) {
	env := testenv.Require(t)
	env.LogOnFailure(t)
	for _, tc := range []struct {
		domain  string
		success bool
		want    []addressWant
	}{
		{"good.test", true, []addressWant{
			{mx: "mx1.good.test", ip: "127.0.1.1", status: rdns.StatusConfirmed, ptr: "mx1.good.test",
				listing: dnsbl.VerdictNotListed, nameListing: dnsbl.VerdictNotListed, parity: ParityIPv4Only},
			{mx: "mx2.good.test", ip: "127.0.1.2", status: rdns.StatusConfirmed, ptr: "mx2.good.test",
				listing: dnsbl.VerdictNotListed, nameListing: dnsbl.VerdictNotListed, parity: ParityIPv4Only},
		}},
		{"relay.test", false, []addressWant{
			{mx: "mx.relay.test", ip: "127.0.1.3", status: rdns.StatusConfirmed, ptr: "mail.other.test",
				mismatches: []rdns.Pair{rdns.PairBannerPTR, rdns.PairPTRMX},
				listing:    dnsbl.VerdictListed, reason: "127.0.1.3 listed: open relay (test listing)",
				nameListing: dnsbl.VerdictListed, nameReason: "mx.relay.test listed (test listing)", parity: ParityIPv4Only},
		}},
		{"greylist.test", false, []addressWant{
			{mx: "mx.greylist.test", ip: "127.0.1.8", status: rdns.StatusNotConfirmed, ptr: "ptronly.other.test",
				mismatches: []rdns.Pair{rdns.PairBannerPTR, rdns.PairPTRMX},
				listing:    dnsbl.VerdictError, listingErr: dnsbl.ErrorRefusedQuery,
				nameListing: dnsbl.VerdictNotListed, parity: ParityIPv4Only},
		}},
		{"slow.test", true, []addressWant{
			{mx: "mx.slow.test", ip: "127.0.1.9", status: rdns.StatusNoPTR,
				listing: dnsbl.VerdictError, listingErr: dnsbl.ErrorOutsideLoopback,
				nameListing: dnsbl.VerdictNotListed, parity: ParityIPv4Only},
		}},
		{"notls.test", true, []addressWant{
			{mx: "mx.notls.test", ip: "127.0.1.10", status: rdns.StatusNotConfirmed, ptr: "wrongaddr.other.test",
				mismatches: []rdns.Pair{rdns.PairBannerPTR, rdns.PairPTRMX},
				listing:    dnsbl.VerdictNotListed, nameListing: dnsbl.VerdictNotListed, parity: ParityIPv4Only},
		}},
		{"v6.test", true, []addressWant{
			{mx: "mx.v6.test", ip: "::1", status: rdns.StatusConfirmed, ptr: "mx.v6.test",
				listing: dnsbl.VerdictListed, reason: "::1 listed (IPv6 test listing)",
				nameListing: dnsbl.VerdictNotListed, parity: ParityIPv6Only},
		}},
	} {
		t.Run(tc.domain, func(t *testing.T) {
			s := identitySettings(t, env, env.Resolver, tc.domain, healthyZones)
			rep := probeIdentity(t, newChecker(), Target{Domain: tc.domain}, s)
			if rep.Success() != tc.success {
				t.Fatalf("%s: success %v, want %v: %s", tc.domain, rep.Success(), tc.success, describeHosts(rep))
			}
			for _, w := range tc.want {
				checkAddress(t, rep, w)
			}
		})
	}
}

// TestIdentityThroughValidatingResolver: the validating unbound answers the
// reverse zones and the blocklists as nsd does (its built-in answers for
// loopback addresses turned off).
func TestIdentityThroughValidatingResolver(t *testing.T) {
	env := testenv.Require(t)
	env.LogOnFailure(t)
	s := identitySettings(t, env, env.ValidatingResolver, "relay.test", healthyZones)
	rep := probeIdentity(t, newChecker(), Target{Domain: "relay.test"}, s)
	checkAddress(t, rep, addressWant{mx: "mx.relay.test", ip: "127.0.1.3", status: rdns.StatusConfirmed, ptr: "mail.other.test",
		mismatches: []rdns.Pair{rdns.PairBannerPTR, rdns.PairPTRMX},
		listing:    dnsbl.VerdictListed, reason: "open relay (test listing)",
		nameListing: dnsbl.VerdictListed, nameReason: "mx.relay.test listed", parity: ParityIPv4Only})
}

// TestIdentityOfAnIPTarget: a host given as an IP address has no MX name:
// its PTR is compared with its greeting only, and no domain blocklist is
// asked (there is no host name).
func TestIdentityOfAnIPTarget(t *testing.T) {
	env := testenv.Require(t)
	env.LogOnFailure(t)
	s := identitySettings(t, env, env.Resolver, "relay.test", healthyZones)
	rep := probeIdentity(t, newChecker(), Target{Host: "127.0.1.3"}, s)
	h := only(t, rep)
	hr := rep.Hosts[0]
	if h.Success || h.Reason != smtp.ReasonRelayOpen {
		t.Fatalf("dialogue success=%v %s (%s), want it to fail on the open relay only", h.Success, h.Reason, h.Detail)
	}
	if len(hr.Reverse) != 1 || hr.Reverse[0].Status != rdns.StatusConfirmed || hr.Reverse[0].Name != "mail.other.test" {
		t.Fatalf("Reverse %+v, want confirmed mail.other.test", hr.Reverse)
	}
	n := hr.Names[0]
	if n == nil || n.MX != "" || n.Agree || !slices.Equal(n.Mismatches, []rdns.Pair{rdns.PairBannerPTR}) {
		t.Fatalf("Names %+v, want no MX name and a banner_ptr mismatch only", n)
	}
	if hr.NameListings != nil {
		t.Fatalf("NameListings %+v of an IP target, want none", hr.NameListings)
	}
	if l := zoneResult(t, "127.0.1.3", hr.Listings[0], testenv.BlocklistZone); l.Verdict != dnsbl.VerdictListed {
		t.Fatalf("bl.test %s (%s), want listed", l.Verdict, l.Detail)
	}
	if hr.Parity != ParityIPv4Only {
		t.Fatalf("parity %q, want ipv4_only", hr.Parity)
	}
}

// TestIPv6ParityScenarios: each MX host of the parity domains, probed with
// the scenario's mailbox: which addresses refuse it decides the parity, and
// the probe fails on those addresses (rcpt_rejected) and on no other.
func TestIPv6ParityScenarios(t *testing.T) {
	env := testenv.Require(t)
	env.LogOnFailure(t)
	for _, sc := range testenv.ParityDomains() {
		t.Run(sc.MX, func(t *testing.T) {
			s := identitySettings(t, env, env.Resolver, sc.Domain, nil)
			s.SMTP.Recipients = []string{sc.Mailbox}
			rep := probeIdentity(t, nil, Target{Domain: sc.Domain}, s)
			h := hostNamed(t, rep, sc.MX)
			if len(h.Addrs) != len(sc.IPs) {
				t.Fatalf("%s: addresses %v, want %v", sc.MX, h.Addrs, sc.IPs)
			}
			for _, ip := range sc.IPs {
				res := resultAt(h.Results, addrIndex(t, h, ip))
				if res == nil {
					t.Fatalf("%s %s: no dialogue", sc.MX, ip)
				}
				if refused := slices.Contains(sc.Refused, ip); refused {
					if res.Success || res.Reason != smtp.ReasonRcptRejected {
						t.Fatalf("%s %s: success=%v reason %q (%s), want rcpt_rejected", sc.MX, ip, res.Success, res.Reason, res.Detail)
					}
				} else if !res.Success {
					t.Fatalf("%s %s: reason %q (%s), want success", sc.MX, ip, res.Reason, res.Detail)
				}
			}
			if string(h.Parity) != sc.Parity {
				t.Fatalf("%s: parity %q, want %q", sc.MX, h.Parity, sc.Parity)
			}
		})
	}
}

// TestUnhealthyBlocklistZone: a zone that lists 127.0.0.1 fails its health
// check; every answer of it is an error zone_unhealthy, never a listing,
// while the healthy zone beside it answers as usual and the probe passes.
func TestUnhealthyBlocklistZone(t *testing.T) {
	env := testenv.Require(t)
	env.LogOnFailure(t)
	zones := []dnsbl.Zone{
		{Name: testenv.BrokenBlocklistZone, Kind: dnsbl.KindAddress},
		{Name: testenv.BlocklistZone, Kind: dnsbl.KindAddress},
	}
	s := identitySettings(t, env, env.Resolver, "good.test", zones)
	rep := probeIdentity(t, newChecker(), Target{Domain: "good.test"}, s)
	if !rep.Success() {
		t.Fatalf("good.test fails: %s", describeHosts(rep))
	}
	for _, h := range rep.Hosts {
		if len(h.Addrs) == 0 || len(h.Listings) != len(h.Addrs) || h.NameListings != nil {
			t.Fatalf("%s: Listings %v, NameListings %v; want one list per address and no name listings (no domain zone)", h.Name, h.Listings, h.NameListings)
		}
		for j, a := range h.Addrs {
			broken := zoneResult(t, a.String(), h.Listings[j], testenv.BrokenBlocklistZone)
			if broken.Verdict != dnsbl.VerdictError || broken.Error != dnsbl.ErrorZoneUnhealthy {
				t.Fatalf("%s %s: brokenbl.test %s %q (%s), want error zone_unhealthy", h.Name, a, broken.Verdict, broken.Error, broken.Detail)
			}
			if ok := zoneResult(t, a.String(), h.Listings[j], testenv.BlocklistZone); ok.Verdict != dnsbl.VerdictNotListed {
				t.Fatalf("%s %s: bl.test %s (%s), want not_listed", h.Name, a, ok.Verdict, ok.Detail)
			}
		}
	}
}

// TestReverseDNSOff: with reverse_dns off the report has no reverse DNS,
// and the names the server gives are still compared with the MX name.
func TestReverseDNSOff(t *testing.T) {
	env := testenv.Require(t)
	env.LogOnFailure(t)
	s := identitySettings(t, env, env.Resolver, "relay.test", nil)
	s.ReverseDNS = false
	rep := probeIdentity(t, nil, Target{Domain: "relay.test"}, s)
	hr := rep.Hosts[0]
	if hr.Reverse != nil || hr.Listings != nil || hr.NameListings != nil {
		t.Fatalf("Reverse %v, Listings %v, NameListings %v; want none", hr.Reverse, hr.Listings, hr.NameListings)
	}
	n := hr.Names[0]
	if n == nil || n.PTR != nil || !n.Agree || n.MX != "mx.relay.test" || n.Banner != "mx.relay.test" {
		t.Fatalf("Names %+v, want MX and banner mx.relay.test agreeing, no PTR", n)
	}
}

// TestBlocklistCacheSharedOverProbes: a Prober's checker keeps the answers
// between probes: the second probe of a domain asks nothing again, and its
// results say they are cached, with the first probe's verdicts.
func TestBlocklistCacheSharedOverProbes(t *testing.T) {
	env := testenv.Require(t)
	env.LogOnFailure(t)
	checker := newChecker()
	s := identitySettings(t, env, env.Resolver, "relay.test", healthyZones)
	first := probeIdentity(t, checker, Target{Domain: "relay.test"}, s)
	second := probeIdentity(t, checker, Target{Domain: "relay.test"}, s)
	results := func(rep *Report) []dnsbl.Result {
		h := rep.Hosts[0]
		if len(h.Listings) != 1 {
			t.Fatalf("Listings %v, want one address", h.Listings)
		}
		return append(slices.Clone(h.Listings[0]), h.NameListings...)
	}
	a, b := results(first), results(second)
	if len(a) != 2 || len(b) != 2 {
		t.Fatalf("results %+v and %+v, want one per zone", a, b)
	}
	for i := range a {
		if a[i].Cached || !b[i].Cached {
			t.Fatalf("%s: cached %v then %v, want false then true", a[i].Zone, a[i].Cached, b[i].Cached)
		}
		if a[i].Verdict != dnsbl.VerdictListed || b[i].Verdict != a[i].Verdict || b[i].Reason != a[i].Reason || !b[i].Checked.Equal(a[i].Checked) {
			t.Fatalf("%s: %+v then %+v, want the same listing", a[i].Zone, a[i], b[i])
		}
	}
}
