package rdns

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// TestIntegrationLookup checks the reverse DNS of the listeners' addresses
// against the real servers of the test environment: nsd (127.0.53.1),
// authoritative for the reverse zones and "test.", and the validating
// unbound (127.0.53.2), which reaches them through stub zones. See
// .ci/testenv.d/reverse-127.0.1.zone and reverse-ipv6-loopback.zone.
func TestIntegrationLookup(t *testing.T) {
	env := testenv.Require(t)
	const fcrdns = ": not forward-confirmed; receivers that require FCrDNS reject mail this gateway sends"
	tests := []struct {
		addr, want, detail string
	}{
		{"127.0.1.1", `confirmed name="mx1.good.test" ptr=answer [mx1.good.test answer confirmed]`,
			"127.0.1.1 is mx1.good.test, which resolves back to it"},
		{"127.0.1.2", `confirmed name="mx2.good.test" ptr=answer [mx2.good.test answer confirmed]`,
			"127.0.1.2 is mx2.good.test, which resolves back to it"},
		{"127.0.1.3", `confirmed name="mail.other.test" ptr=answer [mail.other.test answer confirmed]`,
			"127.0.1.3 is mail.other.test, which resolves back to it"},
		{"::ffff:127.0.1.3", `confirmed name="mail.other.test" ptr=answer [mail.other.test answer confirmed]`,
			"127.0.1.3 is mail.other.test, which resolves back to it"},
		{"127.0.1.4", `confirmed name="mx.reject.test" ptr=answer [mx.reject.test answer confirmed]`, ""},
		{"127.0.1.6", `confirmed name="mx.multiline.test" ptr=answer [mx.multiline.test answer confirmed]`, ""},
		{"127.0.1.7", `confirmed name="mx.tls.test" ptr=answer [mx.tls.test answer confirmed]`, ""},
		{"127.0.1.11", `confirmed name="mx.chain.test" ptr=answer [mx.chain.test answer confirmed]`, ""},
		{"127.0.1.12", `confirmed name="mx.expired.test" ptr=answer [mx.expired.test answer confirmed]`, ""},
		// The name exists (a TXT record) without an address.
		{"127.0.1.8", `not_confirmed name="ptronly.other.test" ptr=answer [ptronly.other.test nodata err=no A record]`,
			"127.0.1.8 has PTR ptronly.other.test, which has no address (no A record)" + fcrdns},
		{"127.0.1.9", `no_ptr name="" ptr=nxdomain`,
			"127.0.1.9 has no PTR record (9.1.0.127.in-addr.arpa does not exist): receivers that require reverse DNS reject mail this gateway sends"},
		{"127.0.1.10", `not_confirmed name="wrongaddr.other.test" ptr=answer [wrongaddr.other.test answer]`,
			"127.0.1.10 has PTR wrongaddr.other.test, which resolves to 127.0.1.99, not to it" + fcrdns},
		{"::1", `confirmed name="mx.v6.test" ptr=answer [mx.v6.test answer confirmed]`,
			"::1 is mx.v6.test, which resolves back to it"},
	}
	for _, srv := range []struct{ name, addr string }{{"nsd", env.Resolver}, {"unbound", env.ValidatingResolver}} {
		r := newResolver(t, 2*time.Second, srv.addr)
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%s/%s", srv.name, tc.addr), func(t *testing.T) {
				c := Lookup(testCtx(t, 10*time.Second), r, netip.MustParseAddr(tc.addr))
				if got := checkSummary(c); got != tc.want {
					t.Fatalf("Lookup(%s) from %s\nwant %s\ngot  %s (%s)", tc.addr, srv.addr, tc.want, got, c.Detail)
				}
				if tc.detail != "" && c.Detail != tc.detail {
					t.Fatalf("Lookup(%s) from %s\nwant detail %s\ngot         %s", tc.addr, srv.addr, tc.detail, c.Detail)
				}
				if c.Detail == "" || strings.ContainsAny(c.Detail, "\n\r") {
					t.Fatalf("Lookup(%s): want a one-line detail, got %q", tc.addr, c.Detail)
				}
			})
		}
	}
}

// TestIntegrationNames compares the names of the relay.test scenario as
// the engine will: its MX host name and banner say mx.relay.test, its
// address's PTR says mail.other.test.
func TestIntegrationNames(t *testing.T) {
	env := testenv.Require(t)
	r := newResolver(t, 2*time.Second, env.Resolver)
	ctx := testCtx(t, 10*time.Second)
	relay := Lookup(ctx, r, netip.MustParseAddr("127.0.1.3"))
	n := CompareNames("mx.relay.test", relay.PTR.Names, "mx.relay.test", "mx.relay.test")
	if want := "banner and MX say mx.relay.test, PTR says mail.other.test"; n.Agree || n.Detail != want ||
		fmt.Sprint(n.Mismatches) != "[banner_ptr ptr_mx]" {
		t.Fatalf("relay.test: want mismatches [banner_ptr ptr_mx], detail %q, got %v %q", want, n.Mismatches, n.Detail)
	}
	good := Lookup(ctx, r, netip.MustParseAddr("127.0.1.1"))
	if n := CompareNames("mx1.good.test", good.PTR.Names, "mx1.good.test", "mx1.good.test"); !n.Agree || len(n.Mismatches) != 0 {
		t.Fatalf("good.test: want agreement, got %v %q", n.Mismatches, n.Detail)
	}
}
