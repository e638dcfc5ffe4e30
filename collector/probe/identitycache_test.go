package probe

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe/rdns"
)

// reverseZone: an address with a forward-confirmed PTR name, against the
// counting DNS server of mtasts_probe_test.go.
const reverseZone = identityZone + `
3.0.0.127.in-addr.arpa. 60 IN PTR mx1.id.test.
`

// TestReverseDNSSharedBetweenProbes: the probes that follow the one that
// looked an address up, with the same resolver, ask no PTR question and
// report the one shared Check, marked cached; the first reports its own.
func TestReverseDNSSharedBetweenProbes(t *testing.T) {
	port := closedPort(t)
	z, r := startCountingDNS(t, reverseZone)
	s := fakeSettings(r, "", port)
	s.ReverseDNS = true
	first := (&Prober{}).Probe(context.Background(), Target{Domain: "id.test"}, s)
	second := (&Prober{}).Probe(context.Background(), Target{Domain: "id.test"}, s)
	third := (&Prober{}).Probe(context.Background(), Target{Domain: "id.test"}, s)
	if got := z.Questions("PTR "); len(got) != 2 {
		t.Fatalf("PTR questions %v, want one per address (2)", got)
	}
	c1 := first.Hosts[0].Reverse[0]
	if c1.Cached || c1.Checked.IsZero() || c1.Status != rdns.StatusConfirmed || c1.Name != "mx1.id.test" {
		t.Fatalf("first probe's Check %+v, want confirmed mx1.id.test, not cached, with its time", c1)
	}
	c2, c3 := second.Hosts[0].Reverse[0], third.Hosts[0].Reverse[0]
	if !c2.Cached || c2 != c3 || c2 != second.Hosts[1].Reverse[0] {
		t.Fatalf("later probes' Checks %p %p %p, want one shared cached Check", c2, c3, second.Hosts[1].Reverse[0])
	}
	if c2.Status != c1.Status || c2.Name != c1.Name || c2.Detail != c1.Detail || !c2.Checked.Equal(c1.Checked) {
		t.Fatalf("cached Check %+v differs from the lookup %+v", c2, c1)
	}
	if n2, n3 := second.Hosts[0].Names, third.Hosts[0].Names; len(n2) != 1 || len(n3) != 1 || n2[0] != n3[0] {
		t.Fatalf("Names %v and %v", n2, n3)
	}
}

// TestReverseDNSCacheExpires: a lookup is reused for reverseTTL, then asked
// again; another resolver (a reload that names other servers) never gets
// the first one's answer.
func TestReverseDNSCacheExpires(t *testing.T) {
	z, r := startCountingDNS(t, reverseZone)
	_, other := startCountingDNS(t, identityZone)
	now := time.Unix(1_800_000_000, 0)
	c := &identityCache{now: func() time.Time { return now }}
	addr := netip.MustParseAddr("127.0.0.3")
	ctx := context.Background()
	a := c.reverseDNS(ctx, r, addr)
	now = now.Add(reverseTTL - time.Second)
	if b := c.reverseDNS(ctx, r, addr); !b.Cached || c.cachedReverse(r, addr) != b {
		t.Fatalf("within the TTL: %+v, want the cached Check", b)
	}
	if got := c.reverseDNS(ctx, other, addr); got.Cached || got.Status != rdns.StatusNoPTR {
		t.Fatalf("another resolver: %+v, want its own no_ptr lookup", got)
	}
	now = now.Add(time.Second)
	if c.cachedReverse(r, addr) != nil {
		t.Fatal("cachedReverse returns an expired lookup")
	}
	if b := c.reverseDNS(ctx, r, addr); b.Cached || b == a {
		t.Fatalf("after the TTL: %+v, want a new lookup", b)
	}
	if got := z.Questions("PTR "); len(got) != 2 {
		t.Fatalf("PTR questions %v, want 2", got)
	}
	now = now.Add(2 * reverseTTL)
	c.reverseDNS(ctx, other, netip.MustParseAddr("127.0.0.4")) // sweeps
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.reverse) != 1 {
		t.Fatalf("%d entries after the sweep, want the new one only", len(c.reverse))
	}
}

// TestReverseDNSInFlightShared: probes that ask while another's lookup is
// in flight wait for it; one PTR question in all.
func TestReverseDNSInFlightShared(t *testing.T) {
	z, r := startCountingDNS(t, reverseZone)
	release := z.Hold(t, "3.0.0.127.in-addr.arpa.")
	c := &identityCache{}
	addr := netip.MustParseAddr("127.0.0.3")
	got := make([]*rdns.Check, 8)
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() { got[i] = c.reverseDNS(context.Background(), r, addr) })
	}
	time.Sleep(50 * time.Millisecond) // let them all ask
	release()
	wg.Wait()
	if q := z.Questions("PTR "); len(q) != 1 {
		t.Fatalf("PTR questions %v, want 1", q)
	}
	fresh := 0
	for _, g := range got {
		if g.Status != rdns.StatusConfirmed {
			t.Fatalf("Check %+v, want confirmed", g)
		}
		if !g.Cached {
			fresh++
		}
	}
	if fresh != 1 {
		t.Fatalf("%d uncached Checks, want the looker-up's alone", fresh)
	}
}

// TestReverseDNSCutShortNotKept: a lookup the probe's deadline ended is
// that probe's alone: the next probe asks again.
func TestReverseDNSCutShortNotKept(t *testing.T) {
	z, r := startCountingDNS(t, reverseZone, "3.0.0.127.in-addr.arpa.")
	c := &identityCache{}
	addr := netip.MustParseAddr("127.0.0.3")
	for range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		if got := c.reverseDNS(ctx, r, addr); got.Cached || got.Status != rdns.StatusLookupFailed {
			t.Fatalf("Check %+v, want its own lookup_failed", got)
		}
		cancel()
	}
	if q := z.Questions("PTR "); len(q) != 2 {
		t.Fatalf("PTR questions %v, want 2", q)
	}
}

// TestCompareNamesShared: the same names give the one shared comparison,
// other names their own.
func TestCompareNamesShared(t *testing.T) {
	c := &identityCache{}
	a := c.compareNames("mx.example.test", []string{"mx.example.test"}, "mx.example.test", "mx.example.test")
	b := c.compareNames("mx.example.test", []string{"mx.example.test"}, "mx.example.test", "mx.example.test")
	d := c.compareNames("mx.example.test", []string{"mx.example.test", "other.test"}, "mx.example.test", "mx.example.test")
	e := c.compareNames("mx.example.test", []string{"mx.example.test"}, "other.test", "mx.example.test")
	if a != b || a == d || a == e || !a.Agree || e.Agree {
		t.Fatalf("comparisons %+v %+v %+v %+v", a, b, d, e)
	}
}
