package dnsbl

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// TestIntegration looks the test environment's addresses and MX host names
// up in its blocklist zones (.ci/testenv.d/test.zone: bl.test, brokenbl.test
// and dbl.test), through the authoritative nsd and through the validating
// unbound that recurses to it, as a deployment's local resolver would.
func TestIntegration(t *testing.T) {
	env := testenv.Require(t)
	bl, broken, dbl := Zone{"bl.test", KindAddress}, Zone{"brokenbl.test", KindAddress}, Zone{"dbl.test", KindDomain}
	zones := []Zone{bl, broken, dbl}
	const brokenDetail = "not asked: brokenbl.test lists 127.0.0.1, which no list may: it answers everything " +
		"(a wildcard, or a resolver rewriting NXDOMAIN); its answers are not trusted"
	// CheckZones has just checked brokenbl.test: its results come from
	// that check, "cached".
	addrTests := []struct {
		addr string
		want []string // bl.test, brokenbl.test
	}{
		{"127.0.1.3", []string{`bl.test 3.1.0.127.bl.test listed [127.0.0.4] reason="127.0.1.3 listed: open relay (test listing)"`,
			"brokenbl.test 3.1.0.127.brokenbl.test error zone_unhealthy cached"}},
		{"127.0.1.1", []string{"bl.test 1.1.0.127.bl.test not_listed", "brokenbl.test 1.1.0.127.brokenbl.test error zone_unhealthy cached"}},
		{"127.0.1.2", []string{"bl.test 2.1.0.127.bl.test not_listed", "brokenbl.test 2.1.0.127.brokenbl.test error zone_unhealthy cached"}},
		{"127.0.1.8", []string{"bl.test 8.1.0.127.bl.test error query_refused [127.255.255.254]",
			"brokenbl.test 8.1.0.127.brokenbl.test error zone_unhealthy cached"}},
		{"127.0.1.9", []string{"bl.test 9.1.0.127.bl.test error answer_invalid", "brokenbl.test 9.1.0.127.brokenbl.test error zone_unhealthy cached"}},
		{"::1", []string{`bl.test 1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.bl.test listed [127.0.0.3] reason="::1 listed (IPv6 test listing)"`,
			"brokenbl.test 1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.brokenbl.test error zone_unhealthy cached"}},
	}
	nameTests := []struct{ name, want string }{
		{"mx.relay.test", `dbl.test mx.relay.test.dbl.test listed [127.0.1.2] reason="mx.relay.test listed (test listing)"`},
		{"mx1.good.test", "dbl.test mx1.good.test.dbl.test not_listed"},
	}
	for _, server := range []string{env.Resolver, env.ValidatingResolver} {
		t.Run(server, func(t *testing.T) {
			r := newTestResolver(t, 2*time.Second, server)
			c := NewChecker(DefaultCacheTTL, DefaultHealthInterval)
			c.CheckZones(testCtx(t, 10*time.Second), r, zones)
			wantZones(t, c, "bl.test address healthy", "brokenbl.test address unhealthy", "dbl.test domain healthy")
			for _, h := range c.Zones() {
				if h.Zone == broken && h.Detail != strings.TrimPrefix(brokenDetail, "not asked: ") {
					t.Fatalf("brokenbl.test health detail\nwant %q\ngot  %q", strings.TrimPrefix(brokenDetail, "not asked: "), h.Detail)
				}
			}
			for _, tc := range addrTests {
				res := c.CheckAddr(testCtx(t, 10*time.Second), r, zones, netip.MustParseAddr(tc.addr))
				var got []string
				for _, x := range res {
					got = append(got, summary(x))
					if x.Subject != tc.addr {
						t.Fatalf("%s: result for subject %q", tc.addr, x.Subject)
					}
					if x.Zone == broken.Name && x.Detail != brokenDetail {
						t.Fatalf("%s in brokenbl.test: detail\nwant %q\ngot  %q", tc.addr, brokenDetail, x.Detail)
					}
				}
				if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
					t.Fatalf("CheckAddr(%s)\nwant %q\ngot  %q", tc.addr, tc.want, got)
				}
			}
			for _, tc := range nameTests {
				res := c.CheckName(testCtx(t, 10*time.Second), r, zones, tc.name)
				if len(res) != 1 || summary(res[0]) != tc.want {
					t.Fatalf("CheckName(%s)\nwant %s\ngot  %+v", tc.name, tc.want, res)
				}
			}
			// Asked again: every answer from the cache.
			res := c.CheckAddr(testCtx(t, 10*time.Second), r, zones, netip.MustParseAddr("127.0.1.3"))
			if len(res) != 2 || !res[0].Cached || !res[1].Cached {
				t.Fatalf("CheckAddr(127.0.1.3) again: want both results cached, got %+v", res)
			}
		})
	}
}
