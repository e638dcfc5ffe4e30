package probe

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe/dnsbl"
	"github.com/mx-exporter/mx_exporter/collector/probe/rdns"
)

// Which reverse DNS and blocklist questions a whole Probe asks, against the
// small counting DNS server of mtasts_probe_test.go on 127.0.0.1: only it
// can show that a question was not asked. The scenarios run against nsd in
// address_integration_test.go.

// identityZone: two MX hosts sharing one address, and a third of its own
// (neither is 127.0.0.1 or 127.0.0.2, which a blocklist's health check asks
// about), no PTR record.
const identityZone = `
id.test. 60 IN MX 10 mx1.id.test.
id.test. 60 IN MX 20 mx2.id.test.
id.test. 60 IN MX 30 mx3.id.test.
mx1.id.test. 60 IN A 127.0.0.3
mx2.id.test. 60 IN A 127.0.0.3
mx3.id.test. 60 IN A 127.0.0.4
`

// TestNoIdentityLookupsWhenOff: reverse_dns off and no blocklist checker
// ask no PTR and no blocklist question, though zones are configured (the
// probe command without --dnsbl.zone has none, the daemon always has a
// checker); the report says nothing of them, and the parity and the
// (missing) names are still judged.
func TestNoIdentityLookupsWhenOff(t *testing.T) {
	port := closedPort(t)
	z, r := startCountingDNS(t, identityZone)
	s := fakeSettings(r, "", port)
	s.ReverseDNS = false
	s.DNSBLZones = []dnsbl.Zone{{Name: "bl.test", Kind: dnsbl.KindAddress}, {Name: "dbl.test", Kind: dnsbl.KindDomain}}
	rep := (&Prober{}).Probe(context.Background(), Target{Domain: "id.test"}, s)
	if got := z.Questions("PTR "); len(got) != 0 {
		t.Fatalf("PTR questions %v with reverse_dns off", got)
	}
	for _, q := range z.Questions("") {
		if strings.Contains(q, "bl.test.") {
			t.Fatalf("blocklist question %q without a checker", q)
		}
	}
	if len(rep.Hosts) != 3 {
		t.Fatalf("hosts %s, want 3", describeHosts(rep))
	}
	for _, h := range rep.Hosts {
		if h.Reverse != nil || h.Listings != nil || h.NameListings != nil {
			t.Fatalf("%s: Reverse %v, Listings %v, NameListings %v, want none", h.Name, h.Reverse, h.Listings, h.NameListings)
		}
		if len(h.Names) != 1 || h.Names[0] != nil {
			t.Fatalf("%s: Names %v, want one nil entry (the dialogue was refused)", h.Name, h.Names)
		}
		if h.Parity != ParityIPv4Only {
			t.Fatalf("%s: parity %q, want ipv4_only", h.Name, h.Parity)
		}
	}
}

// TestIdentityLookupsAskedOnce: with reverse_dns on and a checker, each
// address is asked once for its PTR and once in the address zone, though
// two MX hosts share one of them, and each host name once in the domain
// zone; both hosts report the shared address's answers.
func TestIdentityLookupsAskedOnce(t *testing.T) {
	port := closedPort(t)
	// The zones' health entries: the checker does not trust, nor ask, a
	// zone that fails its health check.
	z, r := startCountingDNS(t, identityZone+`
2.0.0.127.bl.test. 60 IN A 127.0.0.2
test.dbl.test. 60 IN A 127.0.0.2
`)
	s := fakeSettings(r, "", port)
	s.ReverseDNS = true
	s.DNSBLZones = []dnsbl.Zone{{Name: "bl.test", Kind: dnsbl.KindAddress}, {Name: "dbl.test", Kind: dnsbl.KindDomain}}
	var log bytes.Buffer
	p := &Prober{
		Blocklists: dnsbl.NewChecker(time.Hour, time.Hour),
		Logger:     slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	rep := p.Probe(context.Background(), Target{Domain: "id.test"}, s)
	ptr := z.Questions("PTR ")
	slices.Sort(ptr)
	if want := []string{"PTR 3.0.0.127.in-addr.arpa.", "PTR 4.0.0.127.in-addr.arpa."}; !slices.Equal(ptr, want) {
		t.Fatalf("PTR questions %v, want %v", ptr, want)
	}
	for _, q := range []string{"A 3.0.0.127.bl.test.", "A 4.0.0.127.bl.test.", "A mx1.id.test.dbl.test.", "A mx2.id.test.dbl.test.", "A mx3.id.test.dbl.test."} {
		if got := z.Questions(q); len(got) != 1 {
			t.Fatalf("%q asked %d times, want once", q, len(got))
		}
	}
	if len(rep.Hosts) != 3 {
		t.Fatalf("hosts %s, want 3", describeHosts(rep))
	}
	for _, h := range rep.Hosts {
		if len(h.Reverse) != 1 || h.Reverse[0] == nil || h.Reverse[0].Status != rdns.StatusNoPTR {
			t.Fatalf("%s: Reverse %+v, want one no_ptr", h.Name, h.Reverse)
		}
		if len(h.Listings) != 1 || len(h.Listings[0]) != 1 || h.Listings[0][0].Zone != "bl.test" || len(h.NameListings) != 1 || h.NameListings[0].Subject != h.Name {
			t.Fatalf("%s: Listings %+v, NameListings %+v; want one bl.test result and its own dbl.test result", h.Name, h.Listings, h.NameListings)
		}
	}
	if a, b := rep.Hosts[0].Listings[0][0], rep.Hosts[1].Listings[0][0]; a.Subject != "127.0.0.3" || b.Subject != a.Subject {
		t.Fatalf("shared address: %+v and %+v, want both 127.0.0.3", a, b)
	}
	for _, want := range []string{
		`msg="address identity" target=id.test mx=mx1.id.test ip=127.0.0.3 ptr_status=no_ptr`,
		`msg="blocklist result" target=id.test mx=mx3.id.test ip=127.0.0.4 zone=bl.test verdict=not_listed`,
		`msg="blocklist result" target=id.test mx=mx2.id.test zone=dbl.test verdict=not_listed`,
		`msg="IPv6 parity" target=id.test mx=mx3.id.test parity=ipv4_only`,
	} {
		if !strings.Contains(log.String(), want) {
			t.Fatalf("debug log without %s:\n%s", want, log.String())
		}
	}
}

// TestIdentityLookupsEndWithTheProbe: a PTR question that is never answered
// holds the probe no longer than its deadline, though the resolver itself
// would wait ten seconds: the lookup failed, and the probe is over.
func TestIdentityLookupsEndWithTheProbe(t *testing.T) {
	port := closedPort(t)
	_, r := startCountingDNS(t, identityZone, "3.0.0.127.in-addr.arpa.")
	s := fakeSettings(r, "", port)
	s.ReverseDNS = true
	s.Timeout = 300 * time.Millisecond
	start := time.Now()
	rep := (&Prober{}).Probe(context.Background(), Target{Domain: "id.test"}, s)
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("probe took %v with a deadline of %v", took, s.Timeout)
	}
	if rep.Duration > 3*time.Second {
		t.Fatalf("Duration %v with a deadline of %v", rep.Duration, s.Timeout)
	}
	h := rep.Hosts[0]
	if len(h.Reverse) != 1 || h.Reverse[0].Status != rdns.StatusLookupFailed {
		t.Fatalf("Reverse %+v, want lookup_failed for the unanswered PTR", h.Reverse)
	}
	if got := rep.Hosts[2].Reverse; len(got) != 1 || got[0].Status != rdns.StatusNoPTR {
		t.Fatalf("mx3 Reverse %+v, want no_ptr (answered at once)", got)
	}
}
