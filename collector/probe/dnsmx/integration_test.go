package dnsmx

import (
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// TestIntegrationNSD resolves every scenario of the test zone against the
// real authoritative server of the test environment (nsd on 127.0.53.1,
// zone "test.", see .ci/testenv.d/test.zone).
func TestIntegrationNSD(t *testing.T) {
	env := testenv.Require(t)
	r := newTestResolver(t, 2*time.Second, 2, env.Resolver)
	// Every address of the test zone is on loopback. Most rows ask as a lab
	// would, without the special-address finding; the rows with Options{}
	// show that it is reported when not turned off.
	lab := Options{IgnoreSpecialAddresses: true}
	v4 := Options{Families: []Family{IPv4}, IgnoreSpecialAddresses: true}
	const refused = `err="A lookup: REFUSED from 127.0.53.1:53"`
	tests := []struct {
		domain string
		opts   Options
		want   string
	}{
		{"good.test", lab, `answer rcode="NOERROR" [10 mx1.good.test [127.0.1.1] answer; 20 mx2.good.test [127.0.1.2] answer]`},
		{"Good.Test.", lab, `answer rcode="NOERROR" [10 mx1.good.test [127.0.1.1] answer; 20 mx2.good.test [127.0.1.2] answer]`},
		{"good.test", Options{MaxMXHosts: 1, IgnoreSpecialAddresses: true}, `answer rcode="NOERROR" dropped=1 [10 mx1.good.test [127.0.1.1] answer]`},
		{"relay.test", lab, `answer rcode="NOERROR" [10 mx.relay.test [127.0.1.3] answer]`},
		{"reject.test", lab, `answer rcode="NOERROR" [10 mx.reject.test [127.0.1.4] answer]`},
		{"partial.test", lab, `answer rcode="NOERROR" [10 dead.partial.test [127.0.1.250] answer; 20 mx1.good.test [127.0.1.1] answer]`},
		{"nullmx.test", lab, `answer rcode="NOERROR" nullmx []`},
		{"implicit.test", lab, `nodata rcode="NOERROR" implicit [0 implicit.test [127.0.1.1] answer]`},
		{"multiline.test", lab, `answer rcode="NOERROR" [10 mx.multiline.test [127.0.1.6] answer]`},
		{"tls.test", lab, `answer rcode="NOERROR" [10 mx.tls.test [127.0.1.7] answer]`},
		{"cname.test", lab, `answer rcode="NOERROR" [10 alias.cname.test [127.0.1.1] answer cname=mx1.good.test]`},
		{"noaddr.test", lab, `answer rcode="NOERROR" [10 noaddr-host.noaddr.test [] nodata err="no A or AAAA record"]`},
		{"v6.test", lab, `answer rcode="NOERROR" [10 mx.v6.test [::1] answer]`},
		{"v6.test", v4, `answer rcode="NOERROR" [10 mx.v6.test [] nodata err="no A record"]`},
		{"multi.test", lab, `answer rcode="NOERROR" [10 mx.multi.test [127.0.1.1 127.0.1.2] answer]`},
		{"multi.test", Options{MaxAddressesPerHost: 1, IgnoreSpecialAddresses: true}, `answer rcode="NOERROR" [10 mx.multi.test [127.0.1.1] answer dropped=1]`},
		{"missing.test", lab, `nxdomain rcode="NXDOMAIN" []`},
		{"nodata.test", lab, `nodata rcode="NOERROR" []`},
		// nsd is authoritative for "test." only and refuses the rest.
		{"outside.invalid", lab, `refused rcode="REFUSED" []`},
		// "MX 0 ." among other records: flagged, ignored, no note.
		{"mixednull.test", lab, `answer rcode="NOERROR" nullmx-mixed [10 mx1.good.test [127.0.1.1] answer]`},
		// An IP address as the MX exchange is looked up as a name, which
		// nsd refuses here (a resolver would say NXDOMAIN): no address,
		// nothing to dial, although the name spells a working listener.
		{"literal.test", lab, `answer rcode="NOERROR" [10 127.0.1.1 [] refused ip-literal ` + refused + `]`},
		{"literal6.test", lab, `answer rcode="NOERROR" [10 ::1 [] refused ip-literal ` + refused + `]`},
		// The special-address finding, on by default.
		{"good.test", Options{}, `answer rcode="NOERROR" [10 mx1.good.test [127.0.1.1] answer special=[{127.0.1.1 loopback}]; ` +
			`20 mx2.good.test [127.0.1.2] answer special=[{127.0.1.2 loopback}]]`},
		{"v6.test", Options{}, `answer rcode="NOERROR" [10 mx.v6.test [::1] answer special=[{::1 loopback}]]`},
		{"implicit.test", Options{}, `nodata rcode="NOERROR" implicit [0 implicit.test [127.0.1.1] answer special=[{127.0.1.1 loopback}]]`},
		// Only the addresses kept are described.
		{"multi.test", Options{MaxAddressesPerHost: 1}, `answer rcode="NOERROR" [10 mx.multi.test [127.0.1.1] answer dropped=1 special=[{127.0.1.1 loopback}]]`},
	}
	for _, tc := range tests {
		t.Run(tc.domain, func(t *testing.T) {
			d := r.Domain(testCtx(t, 10*time.Second), tc.domain, tc.opts)
			if got := summary(d); got != tc.want {
				t.Fatalf("Domain(%q, %+v)\nwant %s\ngot  %s (err %q, notes %q)", tc.domain, tc.opts, tc.want, got, d.Err, d.Notes)
			}
			if d.Server != env.Resolver {
				t.Fatalf("Server: want %s, got %q", env.Resolver, d.Server)
			}
			if len(d.Notes) != 0 {
				t.Fatalf("notes: want none, got %q", d.Notes)
			}
		})
	}

	t.Run("hosts", func(t *testing.T) {
		for _, tc := range []struct{ name, want string }{
			{"mx1.good.test", "0 mx1.good.test [127.0.1.1] answer"},
			{"alias.cname.test.", "0 alias.cname.test [127.0.1.1] answer cname=mx1.good.test"},
			{"mx.v6.test", "0 mx.v6.test [::1] answer"},
			{"nowhere.good.test", `0 nowhere.good.test [] nxdomain err="NXDOMAIN"`},
			{"127.0.1.1", "0 127.0.1.1 [127.0.1.1] answer"},
		} {
			if got := hostSummary(r.Host(testCtx(t, 10*time.Second), tc.name, lab)); got != tc.want {
				t.Fatalf("Host(%q): want %s, got %s", tc.name, tc.want, got)
			}
		}
		// A host target given as an address is described like any host.
		want := "0 127.0.1.1 [127.0.1.1] answer special=[{127.0.1.1 loopback}]"
		if got := hostSummary(r.Host(testCtx(t, 10*time.Second), "127.0.1.1", Options{})); got != want {
			t.Fatalf("Host(127.0.1.1) without IgnoreSpecialAddresses: want %s, got %s", want, got)
		}
	})

	// A silent first server, then nsd: the answer comes from nsd.
	t.Run("failover to nsd", func(t *testing.T) {
		quiet, _ := silent(t)
		r := newTestResolver(t, 100*time.Millisecond, 1, quiet, env.Resolver)
		d := r.Domain(testCtx(t, 10*time.Second), "good.test", v4)
		want := `answer rcode="NOERROR" [10 mx1.good.test [127.0.1.1] answer; 20 mx2.good.test [127.0.1.2] answer]`
		if got := summary(d); got != want || d.Server != env.Resolver {
			t.Fatalf("want %s from %s\ngot  %s from %s", want, env.Resolver, got, d.Server)
		}
	})
}
