package dnsmx

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// TestIntegrationPTR asks the real servers of the test environment for the
// reverse names of the listeners' addresses: nsd (127.0.53.1), which is
// authoritative for 1.0.127.in-addr.arpa and the ip6.arpa name of ::1
// (.ci/testenv.d/reverse-127.0.1.zone, reverse-ipv6-loopback.zone), and the
// validating unbound (127.0.53.2), which reaches them through stub zones and
// must not answer its built-in "localhost." for ::1.
func TestIntegrationPTR(t *testing.T) {
	env := testenv.Require(t)
	const v6name = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa"
	tests := []struct {
		addr, want string
	}{
		{"127.0.1.1", `answer rcode="NOERROR" name=1.1.0.127.in-addr.arpa ["mx1.good.test"]`},
		{"127.0.1.2", `answer rcode="NOERROR" name=2.1.0.127.in-addr.arpa ["mx2.good.test"]`},
		{"127.0.1.3", `answer rcode="NOERROR" name=3.1.0.127.in-addr.arpa ["mail.other.test"]`},
		{"::ffff:127.0.1.3", `answer rcode="NOERROR" name=3.1.0.127.in-addr.arpa ["mail.other.test"]`},
		{"127.0.1.4", `answer rcode="NOERROR" name=4.1.0.127.in-addr.arpa ["mx.reject.test"]`},
		{"127.0.1.6", `answer rcode="NOERROR" name=6.1.0.127.in-addr.arpa ["mx.multiline.test"]`},
		{"127.0.1.7", `answer rcode="NOERROR" name=7.1.0.127.in-addr.arpa ["mx.tls.test"]`},
		{"127.0.1.8", `answer rcode="NOERROR" name=8.1.0.127.in-addr.arpa ["ptronly.other.test"]`},
		{"127.0.1.9", `nxdomain rcode="NXDOMAIN" name=9.1.0.127.in-addr.arpa []`},
		{"127.0.1.10", `answer rcode="NOERROR" name=10.1.0.127.in-addr.arpa ["wrongaddr.other.test"]`},
		{"127.0.1.11", `answer rcode="NOERROR" name=11.1.0.127.in-addr.arpa ["mx.chain.test"]`},
		{"127.0.1.12", `answer rcode="NOERROR" name=12.1.0.127.in-addr.arpa ["mx.expired.test"]`},
		{"::1", `answer rcode="NOERROR" name=` + v6name + ` ["mx.v6.test"]`},
	}
	for _, srv := range []struct {
		name, addr string
		sec        Security
	}{
		{"nsd", env.Resolver, SecurityUnchecked},
		// Trusting unbound's AD bit: the reverse zones are not signed.
		{"unbound", env.ValidatingResolver, SecurityInsecure},
	} {
		r := newTestResolver(t, 2*time.Second, 2, srv.addr)
		if srv.sec != SecurityUnchecked {
			r.EnableValidation("dnssec.test.")
		}
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%s/%s", srv.name, tc.addr), func(t *testing.T) {
				l := r.PTR(testCtx(t, 10*time.Second), netip.MustParseAddr(tc.addr))
				if got := ptrSummary(l); got != tc.want {
					t.Fatalf("PTR(%s) from %s\nwant %s\ngot  %s (err %q)", tc.addr, srv.addr, tc.want, got, l.Err)
				}
				if l.Security != srv.sec {
					t.Fatalf("PTR(%s) from %s: want security %s, got %s", tc.addr, srv.addr, srv.sec, l.Security)
				}
			})
		}
	}
}
