package dnsmx

// The reverse names are checked here by table, by a fuzz round trip and
// against miekg/dns's own construction; the PTR shapes a correct server
// gives are asked of nsd in reverse_integration_test.go, and the fakes here
// bring what it will not: SERVFAIL, silence, hostile targets, a huge RRset.

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mx-exporter/mx_exporter/collector/dnsname"
	"github.com/mx-exporter/mx_exporter/collector/testenv/fakedns"
)

func TestReverseName(t *testing.T) {
	const loopback6 = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"
	tests := []struct {
		addr   string
		labels string
		name   string
	}{
		// RFC 1035 section 3.5: the octets in reverse order.
		{"127.0.1.1", "1.1.0.127", "1.1.0.127.in-addr.arpa"},
		{"192.0.2.45", "45.2.0.192", "45.2.0.192.in-addr.arpa"},
		{"10.20.255.0", "0.255.20.10", "0.255.20.10.in-addr.arpa"},
		{"0.0.0.0", "0.0.0.0", "0.0.0.0.in-addr.arpa"},
		{"255.255.255.255", "255.255.255.255", "255.255.255.255.in-addr.arpa"},
		// RFC 3596 section 2.5: every nibble, the last first, lower case.
		{"::1", loopback6, loopback6 + ".ip6.arpa"},
		{"::", strings.Repeat("0.", 31) + "0", strings.Repeat("0.", 31) + "0.ip6.arpa"},
		{"4321:0:1:2:3:4:567:89ab", "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4",
			"b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa"}, // the RFC's example
		{"2001:DB8::ABCD", "d.c.b.a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2",
			"d.c.b.a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", strings.Repeat("f.", 31) + "f", strings.Repeat("f.", 31) + "f.ip6.arpa"},
		// An IPv4-mapped address is the IPv4 host.
		{"::ffff:127.0.1.3", "3.1.0.127", "3.1.0.127.in-addr.arpa"},
		{"::ffff:7f00:2", "2.0.0.127", "2.0.0.127.in-addr.arpa"},
		// IPv4-compatible (deprecated) is not mapped: an IPv6 address.
		{"::127.0.0.2", "2.0.0.0.0.0.f.7." + strings.Repeat("0.", 23) + "0", "2.0.0.0.0.0.f.7." + strings.Repeat("0.", 23) + "0.ip6.arpa"},
		// A zone names a link of this machine, not part of the address.
		{"fe80::1%eth0", "1." + strings.Repeat("0.", 27) + "0.8.e.f", "1." + strings.Repeat("0.", 27) + "0.8.e.f.ip6.arpa"},
		{"::1%lo", loopback6, loopback6 + ".ip6.arpa"},
	}
	for _, tc := range tests {
		addr := netip.MustParseAddr(tc.addr)
		if got := ReversedLabels(addr); got != tc.labels {
			t.Fatalf("ReversedLabels(%s)\nwant %s\ngot  %s", tc.addr, tc.labels, got)
		}
		if got := ReverseName(addr); got != tc.name {
			t.Fatalf("ReverseName(%s)\nwant %s\ngot  %s", tc.addr, tc.name, got)
		}
	}
	if got := ReversedLabels(netip.Addr{}); got != "" {
		t.Fatalf("ReversedLabels(invalid addr): want \"\", got %q", got)
	}
	if got := ReverseName(netip.Addr{}); got != "" {
		t.Fatalf("ReverseName(invalid addr): want \"\", got %q", got)
	}
}

// parseReverseName reads a reverse name back into the address it names,
// written independently of ReverseName: the round trip of the fuzz target.
func parseReverseName(name string) (netip.Addr, error) {
	if labels, ok := strings.CutSuffix(name, ".in-addr.arpa"); ok {
		parts := strings.Split(labels, ".")
		if len(parts) != 4 {
			return netip.Addr{}, fmt.Errorf("%d labels before in-addr.arpa, want 4", len(parts))
		}
		var b [4]byte
		for i, p := range parts {
			v, err := strconv.ParseUint(p, 10, 8)
			if err != nil || strconv.FormatUint(v, 10) != p {
				return netip.Addr{}, fmt.Errorf("label %q is not an octet in canonical decimal", p)
			}
			b[3-i] = byte(v)
		}
		return netip.AddrFrom4(b), nil
	}
	if labels, ok := strings.CutSuffix(name, ".ip6.arpa"); ok {
		parts := strings.Split(labels, ".")
		if len(parts) != 32 {
			return netip.Addr{}, fmt.Errorf("%d labels before ip6.arpa, want 32", len(parts))
		}
		var b [16]byte
		for i, p := range parts {
			if len(p) != 1 || !strings.Contains("0123456789abcdef", p) {
				return netip.Addr{}, fmt.Errorf("label %q is not a lower-case nibble", p)
			}
			v, _ := strconv.ParseUint(p, 16, 8)
			// Label i is nibble 31-i: the low nibble of byte 15-i/2 when
			// i is even.
			if i%2 == 0 {
				b[15-i/2] |= byte(v)
			} else {
				b[15-i/2] |= byte(v) << 4
			}
		}
		return netip.AddrFrom16(b), nil
	}
	return netip.Addr{}, fmt.Errorf("%q is under neither in-addr.arpa nor ip6.arpa", name)
}

// FuzzReverseName: the reverse name reads back to the address (unmapped,
// without its zone), is a valid DNS name, and is the one miekg/dns builds.
func FuzzReverseName(f *testing.F) {
	for _, s := range []string{"127.0.1.1", "::1", "::ffff:127.0.0.2", "2001:db8::abcd", "fe80::1%eth0", "0.0.0.0", "::"} {
		f.Add([]byte(s))
	}
	f.Add([]byte{127, 0, 1, 1})
	f.Add([]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xee, 0xdd, 0xcc})
	f.Fuzz(func(t *testing.T, data []byte) {
		// Four or sixteen bytes are an address; anything else is text
		// for netip to parse (zones, mapped forms, garbage).
		addr, ok := netip.AddrFromSlice(data)
		if !ok {
			var err error
			if addr, err = netip.ParseAddr(string(data)); err != nil {
				if ReverseName(addr) != "" || ReversedLabels(addr) != "" {
					t.Fatalf("invalid addr: want no reverse name, got %q", ReverseName(addr))
				}
				return
			}
		}
		name := ReverseName(addr)
		want := addr.Unmap().WithZone("")
		got, err := parseReverseName(name)
		if err != nil {
			t.Fatalf("ReverseName(%s) = %q, which does not read back: %v", addr, name, err)
		}
		if got != want {
			t.Fatalf("ReverseName(%s) = %q, which reads back as %s, want %s", addr, name, got, want)
		}
		if _, ok := dns.IsDomainName(name); !ok || dnsname.CheckQueryName(name) != nil {
			t.Fatalf("ReverseName(%s) = %q: not a valid domain name", addr, name)
		}
		if labels := ReversedLabels(addr); !strings.HasPrefix(name, labels+".") || strings.Count(name[len(labels):], ".") != 2 {
			t.Fatalf("ReverseName(%s) = %q is not ReversedLabels %q and a two-label suffix", addr, name, labels)
		}
		// miekg/dns's ReverseAddr knows no zones; without one it must agree.
		if oracle, err := dns.ReverseAddr(want.String()); err != nil || oracle != name+"." {
			t.Fatalf("ReverseName(%s) = %q, miekg/dns says %q (err %v)", addr, name, oracle, err)
		}
	})
}

const ptrRecords = `
1.2.0.127.in-addr.arpa.  PTR   mx1.good.fake.
2.2.0.127.in-addr.arpa.  PTR   MX2.Good.Fake.
2.2.0.127.in-addr.arpa.  PTR   mx2.good.fake.
2.2.0.127.in-addr.arpa.  PTR   www.good.fake.
3.2.0.127.in-addr.arpa.  A     127.0.2.3
4.2.0.127.in-addr.arpa.  CNAME 4.0/26.2.0.127.in-addr.arpa.
4.0/26.2.0.127.in-addr.arpa. PTR customer.classless.fake.
5.2.0.127.in-addr.arpa.  PTR   bad_name.fake.
5.2.0.127.in-addr.arpa.  PTR   .
5.2.0.127.in-addr.arpa.  PTR   spaced\032name.fake.
6.2.0.127.in-addr.arpa.  PTR   bad_name.fake.
6.2.0.127.in-addr.arpa.  PTR   ok.mixed.fake.
6.2.0.127.in-addr.arpa.  PTR   -dash.fake.
6.2.0.127.in-addr.arpa.  PTR   b\195\188cher.fake.
7.2.0.127.in-addr.arpa.  PTR   \226\132\170elvin.fake.
8.2.0.127.in-addr.arpa.  PTR   127.0.2.8.
8.2.0.127.in-addr.arpa.  PTR   1.2.3.4.5.fake.
1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa. PTR mx.v6.fake.
`

// ptrSummary renders what the tests compare of a PTRLookup.
func ptrSummary(l PTRLookup) string {
	s := fmt.Sprintf("%s rcode=%q name=%s %q", l.Outcome, l.Rcode, l.Name, l.Names)
	if l.Invalid > 0 {
		s += fmt.Sprintf(" invalid=%d", l.Invalid)
	}
	if l.Dropped > 0 {
		s += fmt.Sprintf(" dropped=%d", l.Dropped)
	}
	return s
}

func TestPTRFake(t *testing.T) {
	const v6name = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa"
	tests := []struct {
		name, addr, want string
	}{
		{"IPv4", "127.0.2.1", `answer rcode="NOERROR" name=1.2.0.127.in-addr.arpa ["mx1.good.fake"]`},
		// Normalised, and a name given twice in two cases kept once.
		{"several, normalised, no repeats", "127.0.2.2", `answer rcode="NOERROR" name=2.2.0.127.in-addr.arpa ["mx2.good.fake" "www.good.fake"]`},
		{"IPv6", "::1", `answer rcode="NOERROR" name=` + v6name + ` ["mx.v6.fake"]`},
		{"IPv6 with a zone", "::1%lo", `answer rcode="NOERROR" name=` + v6name + ` ["mx.v6.fake"]`},
		{"IPv4-mapped", "::ffff:127.0.2.1", `answer rcode="NOERROR" name=1.2.0.127.in-addr.arpa ["mx1.good.fake"]`},
		// RFC 2317: the reverse name is an alias into the customer's zone.
		{"classless delegation CNAME", "127.0.2.4", `answer rcode="NOERROR" name=4.2.0.127.in-addr.arpa ["customer.classless.fake"]`},
		{"nxdomain", "127.0.2.9", `nxdomain rcode="NXDOMAIN" name=9.2.0.127.in-addr.arpa []`},
		{"nodata", "127.0.2.3", `nodata rcode="NOERROR" name=3.2.0.127.in-addr.arpa []`},
		// Remote text that is not a host name is counted, never kept.
		{"only invalid targets", "127.0.2.5", `answer rcode="NOERROR" name=5.2.0.127.in-addr.arpa [] invalid=3`},
		{"invalid among valid", "127.0.2.6", `answer rcode="NOERROR" name=6.2.0.127.in-addr.arpa ["ok.mixed.fake"] invalid=3`},
		// U+212A KELVIN SIGN lower-cases to an ASCII k: it must not pass
		// for "kelvin.fake".
		// An address written as a name is not a host name: its forward
		// lookup would confirm itself.
		{"IP address as target", "127.0.2.8", `answer rcode="NOERROR" name=8.2.0.127.in-addr.arpa ["1.2.3.4.5.fake"] invalid=1`},
		{"non-ASCII that folds to ASCII", "127.0.2.7", `answer rcode="NOERROR" name=7.2.0.127.in-addr.arpa [] invalid=1`},
	}
	for _, noChase := range []bool{false, true} {
		z := &fakedns.Zone{Records: fakedns.Parse(t, ptrRecords), NoChase: noChase}
		r := newTestResolver(t, time.Second, 1, fakedns.Serve(t, z))
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%s/nochase=%v", tc.name, noChase), func(t *testing.T) {
				addr := netip.MustParseAddr(tc.addr)
				l := r.PTR(testCtx(t, 10*time.Second), addr)
				if got := ptrSummary(l); got != tc.want {
					t.Fatalf("PTR(%s)\nwant %s\ngot  %s (err %q)", tc.addr, tc.want, got, l.Err)
				}
				if l.Addr != addr {
					t.Fatalf("PTR(%s): want Addr %s as asked, got %s", tc.addr, addr, l.Addr)
				}
				if l.Security != SecurityUnchecked {
					t.Fatalf("PTR(%s): want security %s without trust_ad, got %s", tc.addr, SecurityUnchecked, l.Security)
				}
				switch l.Outcome {
				case OutcomeAnswer, OutcomeNoData:
					if l.Err != "" {
						t.Fatalf("PTR(%s): want no error, got %q", tc.addr, l.Err)
					}
				default:
					if l.Err == "" {
						t.Fatalf("PTR(%s): outcome %s without an error in words", tc.addr, l.Outcome)
					}
				}
				if l.Duration <= 0 {
					t.Fatalf("PTR(%s): want a duration, got %v", tc.addr, l.Duration)
				}
			})
		}
	}
}

// TestPTRCap: a reverse zone that answers with many names costs a bounded
// list; the rest are counted.
func TestPTRCap(t *testing.T) {
	var b strings.Builder
	for i := range maxPTRNames + 5 {
		fmt.Fprintf(&b, "1.2.0.127.in-addr.arpa. PTR host%02d.many.fake.\n", i)
	}
	b.WriteString("1.2.0.127.in-addr.arpa. PTR not_a_host.many.fake.\n")
	r := newTestResolver(t, time.Second, 1, fakedns.Serve(t, &fakedns.Zone{Records: fakedns.Parse(t, b.String())}))
	l := r.PTR(testCtx(t, 10*time.Second), netip.MustParseAddr("127.0.2.1"))
	if l.Outcome != OutcomeAnswer || len(l.Names) != maxPTRNames || l.Dropped != 5 || l.Invalid != 1 {
		t.Fatalf("want answer with %d names, dropped=5, invalid=1, got %s", maxPTRNames, ptrSummary(l))
	}
	for i, n := range l.Names {
		if want := fmt.Sprintf("host%02d.many.fake", i); n != want {
			t.Fatalf("name %d: want %s (answer order), got %s", i, want, n)
		}
	}
}

// TestPTRFailures: a failed lookup stays distinct from "no PTR".
func TestPTRFailures(t *testing.T) {
	addr := netip.MustParseAddr("127.0.2.1")
	t.Run("servfail", func(t *testing.T) {
		r := newTestResolver(t, time.Second, 1, fakedns.Serve(t, &fakedns.Zone{Rcode: dns.RcodeServerFailure}))
		l := r.PTR(testCtx(t, 10*time.Second), addr)
		if l.Outcome != OutcomeServFail || l.Rcode != "SERVFAIL" || !strings.Contains(l.Err, "SERVFAIL") || len(l.Names) != 0 {
			t.Fatalf("want servfail, rcode SERVFAIL, no names, got %s (err %q)", ptrSummary(l), l.Err)
		}
	})
	t.Run("refused", func(t *testing.T) {
		r := newTestResolver(t, time.Second, 1, fakedns.Serve(t, &fakedns.Zone{Rcode: dns.RcodeRefused}))
		if l := r.PTR(testCtx(t, 10*time.Second), addr); l.Outcome != OutcomeRefused || l.Err == "" {
			t.Fatalf("want refused with an error, got %s (err %q)", ptrSummary(l), l.Err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		quiet, _ := fakedns.Silent(t)
		r := newTestResolver(t, 50*time.Millisecond, 1, quiet)
		if l := r.PTR(testCtx(t, 10*time.Second), addr); l.Outcome != OutcomeTimeout || l.Err == "" {
			t.Fatalf("want timeout with an error, got %s (err %q)", ptrSummary(l), l.Err)
		}
	})
	t.Run("context deadline", func(t *testing.T) {
		quiet, _ := fakedns.Silent(t)
		r := newTestResolver(t, 10*time.Second, 1, quiet)
		start := time.Now()
		l := r.PTR(testCtx(t, 100*time.Millisecond), addr)
		if l.Outcome != OutcomeTimeout || time.Since(start) > 5*time.Second {
			t.Fatalf("want timeout at the context's deadline, got %s after %v", ptrSummary(l), time.Since(start))
		}
	})
	t.Run("CNAME loop", func(t *testing.T) {
		z := &fakedns.Zone{Records: fakedns.Parse(t, "1.2.0.127.in-addr.arpa. CNAME a.loop.fake.\na.loop.fake. CNAME 1.2.0.127.in-addr.arpa.\n")}
		r := newTestResolver(t, time.Second, 1, fakedns.Serve(t, z))
		if l := r.PTR(testCtx(t, 10*time.Second), addr); l.Outcome != OutcomeError || !strings.Contains(l.Err, "CNAME loop") {
			t.Fatalf("want error CNAME loop, got %s (err %q)", ptrSummary(l), l.Err)
		}
	})
	t.Run("no address", func(t *testing.T) {
		z := &fakedns.Zone{Records: fakedns.Parse(t, ptrRecords)}
		r := newTestResolver(t, time.Second, 1, fakedns.Serve(t, z))
		l := r.PTR(testCtx(t, 10*time.Second), netip.Addr{})
		if l.Outcome != OutcomeError || l.Err == "" || l.Name != "" || z.Total("udp ") != 0 {
			t.Fatalf("invalid addr: want error without a query, got %s (err %q), %d queries", ptrSummary(l), l.Err, z.Total("udp "))
		}
	})
}

// TestPTRSecurity: the DNSSEC state is that of the lookup, as for every
// other record type.
func TestPTRSecurity(t *testing.T) {
	z := &fakedns.Zone{Records: fakedns.Parse(t, ptrRecords), Signed: []string{"2.0.127.in-addr.arpa."}}
	z.Bogus("2.2.0.127.in-addr.arpa.")
	r := trusted(t, "", fakedns.Serve(t, z))
	ctx := testCtx(t, 10*time.Second)
	if l := r.PTR(ctx, netip.MustParseAddr("127.0.2.1")); l.Outcome != OutcomeAnswer || l.Security != SecuritySecure {
		t.Fatalf("signed reverse zone: want answer secure, got %s %s", ptrSummary(l), l.Security)
	}
	if l := r.PTR(ctx, netip.MustParseAddr("::1")); l.Outcome != OutcomeAnswer || l.Security != SecurityInsecure {
		t.Fatalf("unsigned reverse zone: want answer insecure, got %s %s", ptrSummary(l), l.Security)
	}
	if l := r.PTR(ctx, netip.MustParseAddr("127.0.2.2")); l.Outcome != OutcomeServFail || l.Security != SecurityBogus {
		t.Fatalf("bogus PTR: want servfail bogus, got %s %s (err %q)", ptrSummary(l), l.Security, l.Err)
	}
}
