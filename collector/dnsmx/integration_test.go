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
	v4 := Options{Families: []Family{IPv4}}
	tests := []struct {
		domain string
		opts   Options
		want   string
	}{
		{"good.test", Options{}, `answer rcode="NOERROR" [10 mx1.good.test [127.0.1.1] answer; 20 mx2.good.test [127.0.1.2] answer]`},
		{"Good.Test.", Options{}, `answer rcode="NOERROR" [10 mx1.good.test [127.0.1.1] answer; 20 mx2.good.test [127.0.1.2] answer]`},
		{"good.test", Options{MaxMXHosts: 1}, `answer rcode="NOERROR" dropped=1 [10 mx1.good.test [127.0.1.1] answer]`},
		{"relay.test", Options{}, `answer rcode="NOERROR" [10 mx.relay.test [127.0.1.3] answer]`},
		{"reject.test", Options{}, `answer rcode="NOERROR" [10 mx.reject.test [127.0.1.4] answer]`},
		{"partial.test", Options{}, `answer rcode="NOERROR" [10 dead.partial.test [127.0.1.250] answer; 20 mx1.good.test [127.0.1.1] answer]`},
		{"nullmx.test", Options{}, `answer rcode="NOERROR" nullmx []`},
		{"implicit.test", Options{}, `nodata rcode="NOERROR" implicit [0 implicit.test [127.0.1.1] answer]`},
		{"multiline.test", Options{}, `answer rcode="NOERROR" [10 mx.multiline.test [127.0.1.6] answer]`},
		{"tls.test", Options{}, `answer rcode="NOERROR" [10 mx.tls.test [127.0.1.7] answer]`},
		{"cname.test", Options{}, `answer rcode="NOERROR" [10 alias.cname.test [127.0.1.1] answer cname=mx1.good.test]`},
		{"noaddr.test", Options{}, `answer rcode="NOERROR" [10 noaddr-host.noaddr.test [] nodata err="no A or AAAA record"]`},
		{"v6.test", Options{}, `answer rcode="NOERROR" [10 mx.v6.test [::1] answer]`},
		{"v6.test", v4, `answer rcode="NOERROR" [10 mx.v6.test [] nodata err="no A record"]`},
		{"multi.test", Options{}, `answer rcode="NOERROR" [10 mx.multi.test [127.0.1.1 127.0.1.2] answer]`},
		{"multi.test", Options{MaxAddressesPerHost: 1}, `answer rcode="NOERROR" [10 mx.multi.test [127.0.1.1] answer dropped=1]`},
		{"missing.test", Options{}, `nxdomain rcode="NXDOMAIN" []`},
		{"nodata.test", Options{}, `nodata rcode="NOERROR" []`},
		// nsd is authoritative for "test." only and refuses the rest.
		{"outside.invalid", Options{}, `refused rcode="REFUSED" []`},
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
			if got := hostSummary(r.Host(testCtx(t, 10*time.Second), tc.name, Options{})); got != tc.want {
				t.Fatalf("Host(%q): want %s, got %s", tc.name, tc.want, got)
			}
		}
	})

	// A silent first server, then nsd: the answer comes from nsd.
	t.Run("failover to nsd", func(t *testing.T) {
		quiet, _ := silent(t)
		r := newTestResolver(t, 100*time.Millisecond, 1, quiet, env.Resolver)
		d := r.Domain(testCtx(t, 10*time.Second), "good.test", Options{Families: []Family{IPv4}})
		want := `answer rcode="NOERROR" [10 mx1.good.test [127.0.1.1] answer; 20 mx2.good.test [127.0.1.2] answer]`
		if got := summary(d); got != want || d.Server != env.Resolver {
			t.Fatalf("want %s from %s\ngot  %s from %s", want, env.Resolver, got, d.Server)
		}
	})
}
