package dnsmx

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/testenv/fakedns"
)

// specialCases are addresses with their range: each range, its first and
// last address, the addresses just outside it, and the globally reachable
// blocks carved out of special ones. They are data only: nothing dials them.
var specialCases = []struct {
	addr, want string
}{
	// IPv4
	{"0.0.0.0", RangeUnspecified},
	{"0.255.255.255", RangeUnspecified},
	{"1.0.0.0", ""},
	{"1.1.1.1", ""},
	{"9.255.255.255", ""},
	{"10.0.0.0", RangePrivate},
	{"10.255.255.255", RangePrivate},
	{"11.0.0.0", ""},
	{"100.63.255.255", ""},
	{"100.64.0.0", RangeShared},
	{"100.127.255.255", RangeShared},
	{"100.128.0.0", ""},
	{"126.255.255.255", ""},
	{"127.0.0.0", RangeLoopback},
	{"127.0.0.1", RangeLoopback},
	{"127.255.255.255", RangeLoopback},
	{"128.0.0.0", ""},
	{"169.253.255.255", ""},
	{"169.254.0.0", RangeLinkLocal},
	{"169.254.255.255", RangeLinkLocal},
	{"169.255.0.0", ""},
	{"172.15.255.255", ""},
	{"172.16.0.0", RangePrivate},
	{"172.31.255.255", RangePrivate},
	{"172.32.0.0", ""},
	{"191.255.255.255", ""},
	{"192.0.0.0", RangeReserved}, // IETF protocol assignments
	{"192.0.0.8", RangeReserved},
	{"192.0.0.9", ""},  // PCP anycast
	{"192.0.0.10", ""}, // TURN anycast
	{"192.0.0.11", RangeReserved},
	{"192.0.0.170", RangeReserved},
	{"192.0.0.255", RangeReserved},
	{"192.0.1.0", ""},
	{"192.0.2.0", RangeDocumentation},
	{"192.0.2.255", RangeDocumentation},
	{"192.0.3.0", ""},
	{"192.31.196.1", ""}, // AS112
	{"192.52.193.1", ""}, // AMT
	{"192.88.99.1", ""},  // former 6to4 relay anycast
	{"192.167.255.255", ""},
	{"192.168.0.0", RangePrivate},
	{"192.168.255.255", RangePrivate},
	{"192.169.0.0", ""},
	{"192.175.48.1", ""}, // AS112 direct delegation
	{"198.17.255.255", ""},
	{"198.18.0.0", RangeBenchmarking},
	{"198.19.255.255", RangeBenchmarking},
	{"198.20.0.0", ""},
	{"198.51.99.255", ""},
	{"198.51.100.0", RangeDocumentation},
	{"198.51.100.255", RangeDocumentation},
	{"198.51.101.0", ""},
	{"203.0.112.255", ""},
	{"203.0.113.0", RangeDocumentation},
	{"203.0.113.255", RangeDocumentation},
	{"203.0.114.0", ""},
	{"223.255.255.255", ""},
	{"224.0.0.0", RangeMulticast},
	{"239.255.255.255", RangeMulticast},
	{"240.0.0.0", RangeReserved},
	{"255.255.255.254", RangeReserved},
	{"255.255.255.255", RangeReserved}, // limited broadcast

	// IPv6
	{"::", RangeUnspecified},
	{"::1", RangeLoopback},
	{"::2", RangeReserved},
	{"::127.0.0.1", RangeReserved}, // IPv4-compatible, deprecated
	{"::fffe:ffff:ffff", RangeReserved},
	{"::ffff:0.0.0.0", RangeIPv4Mapped},
	{"::ffff:127.0.0.1", RangeIPv4Mapped},
	{"::ffff:1.1.1.1", RangeIPv4Mapped}, // not an IPv6 address, whatever it holds
	{"::ffff:255.255.255.255", RangeIPv4Mapped},
	{"::1:0:0:0", RangeReserved},
	{"64:ff9b::1.1.1.1", ""}, // NAT64: the range of the embedded IPv4 address
	{"64:ff9b::127.0.0.1", RangeLoopback},
	{"64:ff9b::10.0.0.1", RangePrivate},
	{"64:ff9b::192.0.2.1", RangeDocumentation},
	{"64:ff9b::255.255.255.255", RangeReserved},
	{"64:ff9b::1:0:0", RangeReserved}, // outside the /96
	{"64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff", RangeReserved},
	{"64:ff9b:1::", ""}, // local-use NAT64
	{"64:ff9b:1:ffff:ffff:ffff:ffff:ffff", ""},
	{"64:ff9b:2::", RangeReserved},
	{"100::", RangeReserved}, // discard-only
	{"1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", RangeReserved},
	{"2000::", ""},
	{"2001::", ""}, // Teredo
	{"2001:0:ffff:ffff:ffff:ffff:ffff:ffff", ""},
	{"2001:1::", RangeReserved}, // IETF protocol assignments
	{"2001:1::1", ""},           // PCP anycast
	{"2001:1::2", ""},           // TURN anycast
	{"2001:1::3", ""},           // DNS-SD SRP anycast
	{"2001:1::4", RangeReserved},
	{"2001:2::", RangeBenchmarking},
	{"2001:2:0:ffff:ffff:ffff:ffff:ffff", RangeBenchmarking},
	{"2001:2:1::", RangeReserved},
	{"2001:3::1", ""},     // AMT
	{"2001:4:112::1", ""}, // AS112-v6
	{"2001:4:113::", RangeReserved},
	{"2001:10::1", RangeReserved}, // deprecated ORCHID
	{"2001:20::1", ""},            // ORCHIDv2
	{"2001:2f:ffff:ffff:ffff:ffff:ffff:ffff", ""},
	{"2001:30::1", ""}, // drone remote ID
	{"2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", RangeReserved},
	{"2001:200::", ""},
	{"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", ""},
	{"2001:db8::", RangeDocumentation},
	{"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", RangeDocumentation},
	{"2001:db9::", ""},
	{"2002::1", ""}, // 6to4
	{"2620:4f:8000::1", ""},
	{"3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ""},
	{"3fff::", RangeDocumentation},
	{"3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", RangeDocumentation},
	{"3fff:1000::", ""},
	{"3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ""},
	{"4000::", RangeReserved},
	{"5f00::1", RangeReserved}, // SRv6 SIDs
	{"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", RangeReserved},
	{"fc00::", RangePrivate},
	{"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", RangePrivate},
	{"fe00::", RangeReserved},
	{"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", RangeReserved},
	{"fe80::", RangeLinkLocal},
	{"fe80::1%eth0", RangeLinkLocal}, // the zone does not matter
	{"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", RangeLinkLocal},
	{"fec0::1", RangeReserved}, // site-local, deprecated
	{"ff00::", RangeMulticast},
	{"ff02::1", RangeMulticast},
	{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", RangeMulticast},
	{"2001:db8::1%eth0", RangeDocumentation},
}

func TestSpecialRange(t *testing.T) {
	seen := map[string]bool{}
	for _, tc := range specialCases {
		a := netip.MustParseAddr(tc.addr)
		if got := SpecialRange(a); got != tc.want {
			t.Errorf("SpecialRange(%s) = %q, want %q", tc.addr, got, tc.want)
		}
		seen[tc.want] = true
	}
	if got := SpecialRange(netip.Addr{}); got != "" {
		t.Errorf("SpecialRange(zero Addr) = %q, want \"\"", got)
	}
	// The cases cover every name, and every name the table uses is listed.
	for _, name := range SpecialRanges {
		if !seen[name] {
			t.Errorf("no case for range %q", name)
		}
	}
	for _, row := range specialTable {
		if row.name != "" && !slices.Contains(SpecialRanges, row.name) {
			t.Errorf("table row %s names %q, which SpecialRanges lacks", row.prefix, row.name)
		}
	}
	if !slices.IsSortedFunc(specialTable, func(a, b specialPrefix) int { return b.prefix.Bits() - a.prefix.Bits() }) {
		t.Errorf("specialTable is not sorted longest prefix first")
	}
}

// TestSpecialRangeMapped: an IPv4 address and its IPv4-mapped IPv6 form are
// never taken for each other, whatever range the IPv4 address is in.
func TestSpecialRangeMapped(t *testing.T) {
	for _, tc := range specialCases {
		a := netip.MustParseAddr(tc.addr)
		if !a.Is4() {
			continue
		}
		if got := SpecialRange(netip.AddrFrom16(a.As16())); got != RangeIPv4Mapped {
			t.Errorf("SpecialRange(::ffff:%s) = %q, want %q", a, got, RangeIPv4Mapped)
		}
		if got := SpecialRange(nat64(a)); got != tc.want {
			t.Errorf("SpecialRange(%s) = %q, want %q, the range of %s", nat64(a), got, tc.want, a)
		}
	}
}

// nat64 embeds a in the well-known NAT64 prefix.
func nat64(a netip.Addr) netip.Addr {
	b := nat64WellKnown.Addr().As16()
	v4 := a.As4()
	copy(b[12:], v4[:])
	return netip.AddrFrom16(b)
}

func FuzzSpecialRange(f *testing.F) {
	for _, tc := range specialCases {
		f.Add(netip.MustParseAddr(tc.addr).AsSlice())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, ok := netip.AddrFromSlice(b)
		if !ok {
			return
		}
		got := SpecialRange(a)
		if got != "" && !slices.Contains(SpecialRanges, got) {
			t.Fatalf("SpecialRange(%s) = %q, not one of %q", a, got, SpecialRanges)
		}
		if a.Is6() {
			if z := SpecialRange(a.WithZone("eth0")); z != got {
				t.Fatalf("SpecialRange(%s) = %q, but %q with a zone", a, got, z)
			}
		}
		switch {
		case a.Is4In6():
			if got != RangeIPv4Mapped {
				t.Fatalf("SpecialRange(%s) = %q, want %q", a, got, RangeIPv4Mapped)
			}
			return
		case nat64WellKnown.Contains(a):
			return // judged by the embedded IPv4 address: TestSpecialRangeMapped
		case a.Is4():
			if m := SpecialRange(netip.AddrFrom16(a.As16())); m != RangeIPv4Mapped {
				t.Fatalf("SpecialRange(::ffff:%s) = %q, want %q", a, m, RangeIPv4Mapped)
			}
		}
		// The standard library's predicates agree where they overlap. Its
		// IPv4 unspecified is 0.0.0.0 alone, ours all of 0.0.0.0/8.
		for _, p := range []struct {
			is   bool
			want string
		}{
			{a.IsUnspecified(), RangeUnspecified},
			{a.IsLoopback(), RangeLoopback},
			{a.IsPrivate(), RangePrivate},
			{a.IsLinkLocalUnicast(), RangeLinkLocal},
			{a.IsMulticast(), RangeMulticast},
		} {
			wider := p.want == RangeUnspecified && a.Is4()
			if p.is && got != p.want || !p.is && got == p.want && !wider {
				t.Fatalf("SpecialRange(%s) = %q, but the standard library says %v for %q", a, got, p.is, p.want)
			}
		}
	})
}

// TestSpecialAddresses: Host.Special lists the special addresses of each
// host in the order of Addrs, only of the addresses kept, and stays nil with
// IgnoreSpecialAddresses. The fake zone's addresses are DNS data: nothing
// dials them.
func TestSpecialAddresses(t *testing.T) {
	z := &fakedns.Zone{Records: fakedns.Parse(t, `
lab.fake.       MX    10 gw.lab.fake.
gw.lab.fake.    A     10.1.2.3
gw.lab.fake.    A     127.0.2.1
gw.lab.fake.    A     192.0.2.1
gw.lab.fake.    AAAA  fe80::1
gw.lab.fake.    AAAA  2001:db8::25
gw.lab.fake.    AAAA  ::ffff:127.0.0.1
implicit.fake.  A     100.64.0.1
`)}
	r := newTestResolver(t, 2*time.Second, 1, fakedns.Serve(t, z))
	for _, tc := range []struct {
		domain string
		opts   Options
		want   string
	}{
		{"lab.fake", Options{}, `answer rcode="NOERROR" [10 gw.lab.fake [10.1.2.3 127.0.2.1 192.0.2.1 ::ffff:127.0.0.1 2001:db8::25 fe80::1] answer ` +
			`special=[{10.1.2.3 private} {127.0.2.1 loopback} {192.0.2.1 documentation} {::ffff:127.0.0.1 ipv4_mapped} {2001:db8::25 documentation} {fe80::1 link_local}]]`},
		{"lab.fake", Options{MaxAddressesPerHost: 2}, `answer rcode="NOERROR" [10 gw.lab.fake [10.1.2.3 127.0.2.1] answer dropped=4 ` +
			`special=[{10.1.2.3 private} {127.0.2.1 loopback}]]`},
		{"lab.fake", Options{Families: []Family{IPv6}}, `answer rcode="NOERROR" [10 gw.lab.fake [::ffff:127.0.0.1 2001:db8::25 fe80::1] answer ` +
			`special=[{::ffff:127.0.0.1 ipv4_mapped} {2001:db8::25 documentation} {fe80::1 link_local}]]`},
		{"lab.fake", Options{IgnoreSpecialAddresses: true}, `answer rcode="NOERROR" [10 gw.lab.fake [10.1.2.3 127.0.2.1 192.0.2.1 ::ffff:127.0.0.1 2001:db8::25 fe80::1] answer]`},
		{"implicit.fake", Options{}, `nodata rcode="NOERROR" implicit [0 implicit.fake [100.64.0.1] answer special=[{100.64.0.1 shared}]]`},
		{"implicit.fake", Options{IgnoreSpecialAddresses: true}, `nodata rcode="NOERROR" implicit [0 implicit.fake [100.64.0.1] answer]`},
	} {
		d := r.Domain(testCtx(t, 10*time.Second), tc.domain, tc.opts)
		if got := summary(d); got != tc.want {
			t.Fatalf("Domain(%q, %+v)\nwant %s\ngot  %s", tc.domain, tc.opts, tc.want, got)
		}
	}
	// A host target given as an address: described, without a query.
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{}, "0 10.1.2.3 [10.1.2.3] answer special=[{10.1.2.3 private}]"},
		{Options{IgnoreSpecialAddresses: true}, "0 10.1.2.3 [10.1.2.3] answer"},
	} {
		if got := hostSummary(r.Host(testCtx(t, 10*time.Second), "10.1.2.3", tc.opts)); got != tc.want {
			t.Fatalf("Host(10.1.2.3, %+v): want %s, got %s", tc.opts, tc.want, got)
		}
	}
	if n := z.Total("udp A 10."); n != 0 {
		t.Fatalf("the literal caused %d queries", n)
	}
}
