package rdns

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mx-exporter/mx_exporter/collector/testenv/fakedns"
)

const reverseRecords = `
1.2.0.127.in-addr.arpa.    PTR   mx.fake.
mx.fake.                   A     127.0.2.1
2.2.0.127.in-addr.arpa.    PTR   ptronly.fake.
3.2.0.127.in-addr.arpa.    PTR   wrong.fake.
wrong.fake.                A     127.0.2.99
wrong.fake.                A     127.0.2.98
4.2.0.127.in-addr.arpa.    PTR   v6only.fake.
v6only.fake.               AAAA  ::1
6.2.0.127.in-addr.arpa.    A     127.0.2.6
7.2.0.127.in-addr.arpa.    PTR   bad_name.fake.
7.2.0.127.in-addr.arpa.    PTR   127.0.2.7.
8.2.0.127.in-addr.arpa.    PTR   other.fake.
8.2.0.127.in-addr.arpa.    PTR   MX8.Fake.
other.fake.                A     127.0.2.1
mx8.fake.                  A     127.0.2.1
mx8.fake.                  A     127.0.2.8
9.2.0.127.in-addr.arpa.    PTR   broken.fake.
10.2.0.127.in-addr.arpa.   CNAME 10.0/26.2.0.127.in-addr.arpa.
10.0/26.2.0.127.in-addr.arpa. PTR customer.fake.
customer.fake.             A     127.0.2.10
11.2.0.127.in-addr.arpa.   PTR   n1.fake.
11.2.0.127.in-addr.arpa.   PTR   n2.fake.
11.2.0.127.in-addr.arpa.   PTR   n3.fake.
11.2.0.127.in-addr.arpa.   PTR   n4.fake.
11.2.0.127.in-addr.arpa.   PTR   n5.fake.
n4.fake.                   A     127.0.2.11
1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa. PTR v6.fake.
v6.fake.                   AAAA  ::1
v6.fake.                   A     127.0.2.1
2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa. PTR mx.fake.
`

// checkSummary renders what the tests compare of a Check besides Detail.
func checkSummary(c Check) string {
	s := fmt.Sprintf("%s name=%q ptr=%s", c.Status, c.Name, c.PTR.Outcome)
	for _, f := range c.Forward {
		s += fmt.Sprintf(" [%s %s", f.Name, f.Outcome)
		if f.Confirmed {
			s += " confirmed"
		}
		if f.Err != "" {
			s += " err=" + f.Err
		}
		s += "]"
	}
	return s
}

func TestLookup(t *testing.T) {
	const fcrdns = ": not forward-confirmed; receivers that require FCrDNS reject mail this gateway sends"
	const noPTR = ": receivers that require reverse DNS reject mail this gateway sends"
	tests := []struct {
		name, addr string
		want       string
		detail     string // the whole detail, or its start when it ends in "…"
		asked      string // the forward queries, as "A=1 AAAA=0"
	}{
		{"confirmed", "127.0.2.1", `confirmed name="mx.fake" ptr=answer [mx.fake answer confirmed]`,
			"127.0.2.1 is mx.fake, which resolves back to it", "A=1 AAAA=0"},
		{"PTR name does not exist", "127.0.2.2", `not_confirmed name="ptronly.fake" ptr=answer [ptronly.fake nxdomain err=NXDOMAIN]`,
			"127.0.2.2 has PTR ptronly.fake, which does not exist" + fcrdns, "A=1 AAAA=0"},
		{"PTR name resolves elsewhere", "127.0.2.3", `not_confirmed name="wrong.fake" ptr=answer [wrong.fake answer]`,
			"127.0.2.3 has PTR wrong.fake, which resolves to 127.0.2.98, 127.0.2.99, not to it" + fcrdns, "A=1 AAAA=0"},
		// Only the address's family is asked: an AAAA does not confirm
		// an IPv4 address.
		{"PTR name without an address of the family", "127.0.2.4", `not_confirmed name="v6only.fake" ptr=answer [v6only.fake nodata err=no A record]`,
			"127.0.2.4 has PTR v6only.fake, which has no address (no A record)" + fcrdns, "A=1 AAAA=0"},
		{"no PTR: nxdomain", "127.0.2.5", `no_ptr name="" ptr=nxdomain`,
			"127.0.2.5 has no PTR record (5.2.0.127.in-addr.arpa does not exist)" + noPTR, "A=0 AAAA=0"},
		{"no PTR: nodata", "127.0.2.6", `no_ptr name="" ptr=nodata`,
			"127.0.2.6 has no PTR record (6.2.0.127.in-addr.arpa exists without one)" + noPTR, "A=0 AAAA=0"},
		// Targets that are not host names are never looked up.
		{"no PTR: only invalid targets", "127.0.2.7", `no_ptr name="" ptr=answer`,
			"127.0.2.7 has 2 PTR records, none of them a host name" + noPTR, "A=0 AAAA=0"},
		// The confirmed name wins over the first.
		{"second name confirms", "127.0.2.8", `confirmed name="mx8.fake" ptr=answer [other.fake answer] [mx8.fake answer confirmed]`,
			"127.0.2.8 is mx8.fake, which resolves back to it (and 1 other PTR name)", "A=2 AAAA=0"},
		{"forward lookup fails", "127.0.2.9", `not_confirmed name="broken.fake" ptr=answer [broken.fake servfail err=A lookup: SERVFAIL from …]`,
			"127.0.2.9 has PTR broken.fake, whose A lookup failed (SERVFAIL from …", "A=1 AAAA=0"},
		// RFC 2317 classless delegation.
		{"CNAME'd PTR", "127.0.2.10", `confirmed name="customer.fake" ptr=answer [customer.fake answer confirmed]`,
			"127.0.2.10 is customer.fake, which resolves back to it", "A=1 AAAA=0"},
		// MaxForward: n4 would confirm, but is not asked.
		{"names past MaxForward not asked", "127.0.2.11",
			`not_confirmed name="n1.fake" ptr=answer [n1.fake nxdomain err=NXDOMAIN] [n2.fake nxdomain err=NXDOMAIN] [n3.fake nxdomain err=NXDOMAIN]`,
			"127.0.2.11 has PTR n1.fake, which does not exist; PTR n2.fake, which does not exist; PTR n3.fake, which does not exist; " +
				"2 more PTR names not looked up" + fcrdns, "A=3 AAAA=0"},
		{"IPv6 confirmed", "::1", `confirmed name="v6.fake" ptr=answer [v6.fake answer confirmed]`,
			"::1 is v6.fake, which resolves back to it", "A=0 AAAA=1"},
		{"IPv6 with a zone", "::1%lo", `confirmed name="v6.fake" ptr=answer [v6.fake answer confirmed]`,
			"::1 is v6.fake, which resolves back to it", "A=0 AAAA=1"},
		// An A record does not confirm an IPv6 address.
		{"IPv6, name with an A only", "::2", `not_confirmed name="mx.fake" ptr=answer [mx.fake nodata err=no AAAA record]`,
			"::2 has PTR mx.fake, which has no address (no AAAA record)" + fcrdns, "A=0 AAAA=1"},
		{"IPv4-mapped is IPv4", "::ffff:127.0.2.1", `confirmed name="mx.fake" ptr=answer [mx.fake answer confirmed]`,
			"127.0.2.1 is mx.fake, which resolves back to it", "A=1 AAAA=0"},
	}
	f := &fakedns.Zone{Records: fakedns.Parse(t, reverseRecords)}
	f.Fail("broken.fake.", dns.RcodeServerFailure)
	r := newResolver(t, time.Second, fakedns.Serve(t, f))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a4, a6 := f.Total("A "), f.Total("AAAA ")
			c := Lookup(testCtx(t, 10*time.Second), r, netip.MustParseAddr(tc.addr))
			if got := checkSummary(c); !matches(got, tc.want) {
				t.Fatalf("Lookup(%s)\nwant %s\ngot  %s", tc.addr, tc.want, got)
			}
			if !matches(c.Detail, tc.detail) {
				t.Fatalf("Lookup(%s)\nwant detail %s\ngot         %s", tc.addr, tc.detail, c.Detail)
			}
			if got := fmt.Sprintf("A=%d AAAA=%d", f.Total("A ")-a4, f.Total("AAAA ")-a6); got != tc.asked {
				t.Fatalf("Lookup(%s): want forward queries %s, got %s", tc.addr, tc.asked, got)
			}
			if len(c.Forward) > MaxForward {
				t.Fatalf("Lookup(%s): %d forward lookups, more than MaxForward %d", tc.addr, len(c.Forward), MaxForward)
			}
		})
	}
}

// matches compares got with want, which may end in "…" to match a prefix
// (the server address of a resolver error varies with the port).
func matches(got, want string) bool {
	if prefix, ok := strings.CutSuffix(want, "…]"); ok {
		return strings.HasPrefix(got, prefix) && strings.HasSuffix(got, "]")
	}
	if prefix, ok := strings.CutSuffix(want, "…"); ok {
		return strings.HasPrefix(got, prefix)
	}
	return got == want
}

// TestLookupFailed: a failed PTR lookup is lookup_failed, distinct from
// no_ptr, and asks nothing forward.
func TestLookupFailed(t *testing.T) {
	addr := netip.MustParseAddr("127.0.2.1")
	for _, rc := range []int{dns.RcodeServerFailure, dns.RcodeRefused} {
		t.Run(dns.RcodeToString[rc], func(t *testing.T) {
			f := &fakedns.Zone{Records: fakedns.Parse(t, reverseRecords)}
			f.Fail("1.2.0.127.in-addr.arpa.", rc)
			c := Lookup(testCtx(t, 10*time.Second), newResolver(t, time.Second, fakedns.Serve(t, f)), addr)
			want := "127.0.2.1 failed (" + dns.RcodeToString[rc] + " from "
			if c.Status != StatusLookupFailed || len(c.Forward) != 0 || c.Name != "" || !strings.Contains(c.Detail, want) ||
				!strings.HasSuffix(c.Detail, "): whether it has reverse DNS is not known") || f.Total("A ") != 0 {
				t.Fatalf("want lookup_failed, no forward lookup, detail with %q, got %s %q, %d A queries", want, checkSummary(c), c.Detail, f.Total("A "))
			}
		})
	}
	t.Run("timeout", func(t *testing.T) {
		quiet, _ := fakedns.Silent(t)
		c := Lookup(testCtx(t, 10*time.Second), newResolver(t, 50*time.Millisecond, quiet), addr)
		if c.Status != StatusLookupFailed || c.PTR.Outcome != "timeout" || !strings.HasPrefix(c.Detail, "the PTR lookup of 127.0.2.1 failed (") {
			t.Fatalf("want lookup_failed after a timeout, got %s %q", checkSummary(c), c.Detail)
		}
	})
	// The caller's deadline bounds the whole check, whatever the
	// resolver's own timeout.
	t.Run("context deadline", func(t *testing.T) {
		quiet, _ := fakedns.Silent(t)
		start := time.Now()
		c := Lookup(testCtx(t, 100*time.Millisecond), newResolver(t, 10*time.Second, quiet), addr)
		if c.Status != StatusLookupFailed || time.Since(start) > 5*time.Second {
			t.Fatalf("want lookup_failed at the context's deadline, got %s after %v", checkSummary(c), time.Since(start))
		}
	})
}

// TestLookupForwardSideBySide: the forward lookups of several names run
// at once, within the caller's deadline. Each forward server here answers
// only after every name has been asked, which a lookup one after the
// other would never reach.
func TestLookupForwardSideBySide(t *testing.T) {
	f := &fakedns.Zone{Records: fakedns.Parse(t, reverseRecords)}
	asked := make(chan struct{}, MaxForward)
	release := make(chan struct{})
	var gate dns.HandlerFunc = func(w dns.ResponseWriter, req *dns.Msg) {
		if req.Question[0].Qtype == dns.TypeA {
			asked <- struct{}{}
			<-release
		}
		f.ServeDNS(w, req)
	}
	go func() {
		defer close(release)
		for range MaxForward {
			select {
			case <-asked:
			case <-time.After(10 * time.Second): // a safety net, so that a failure does not hang the test
				return
			}
		}
	}()
	c := Lookup(testCtx(t, 10*time.Second), newResolver(t, 5*time.Second, fakedns.Serve(t, gate)), netip.MustParseAddr("127.0.2.11"))
	if len(c.Forward) != MaxForward || slices.ContainsFunc(c.Forward, func(f Forward) bool { return f.Outcome != "nxdomain" }) {
		t.Fatalf("want %d forward lookups, all answered nxdomain, got %s", MaxForward, checkSummary(c))
	}
}
