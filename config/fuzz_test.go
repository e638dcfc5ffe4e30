package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mx-exporter/mx_exporter/collector/dnsname"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
)

// FuzzParse checks that no input panics, that every failure is an Errors of
// well-formed *Error, and that every accepted config keeps the invariants
// the rest of the exporter relies on.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("modules:\n  a: &a {port: 26}\n  b: {<<: *a, port: 27}\n  c: {<<: [*a, *a]}\ntargets: [{host: x}, *a]\n"))
	f.Add([]byte("x: &a [*a]\n"))
	f.Add([]byte("dns: {trust_ad: true, validation_check_name: Dnssec.Test.}\nmodules: {default: {dane: report}, b: {dane: off}}\n"))
	f.Add([]byte("dns: {trust_ad: on, validation_check_name: ..}\nmodules: {default: {dane: [enforce]}}\n"))
	f.Add([]byte("modules: {default: {mta_sts: report, mta_sts_refresh: 24h}, b: {mta_sts: off, mta_sts_refresh: 1m}}\n"))
	f.Add([]byte("modules: {default: {mta_sts: yes, mta_sts_refresh: 59s}, b: {mta_sts_refresh: 1}}\n"))
	f.Add([]byte("dnsbl: {zones: [Zen.Example.ORG., bl.test], domain_zones: [dbl.test.], cache_ttl: 24h, health_interval: 1m}\nmodules: {default: {reverse_dns: false}, b: {reverse_dns: ~}}\n"))
	f.Add([]byte("dnsbl: {zones: [bl.test, BL.test, 127.0.0.2, \"\"], domain_zones: [bl.test, [x]], cache_ttl: 59s, health_interval: 1}\nmodules: {default: {reverse_dns: yes}}\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		const file = "testdata/fuzz.yml" // so that "ca_file: ca.pem" resolves
		c, err := Parse(data, file)
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %#v is not a non-empty Errors", err)
			}
			for i, e := range es {
				if e == nil || e.File != file || e.Line < 0 || e.Msg == "" {
					t.Fatalf("malformed error %#v", e)
				}
				if i > 0 && es[i-1].Line > e.Line {
					t.Fatalf("errors not sorted by line: %v", err)
				}
			}
			_ = err.Error()
			return
		}
		if _, ok := c.Module(""); !ok {
			t.Fatal("no default module")
		}
		for name, m := range c.Modules {
			if m == nil || m.Port < 1 || m.Timeout <= 0 || m.Timeout > m.Interval || len(m.AddressFamilies) == 0 || m.SlowStepThreshold <= 0 {
				t.Fatalf("module %q accepted with %+v", name, m)
			}
			if m.DANE != DANEEnforce && m.DANE != DANEReport && m.DANE != DANEOff {
				t.Fatalf("module %q accepted with dane %q", name, m.DANE)
			}
			if m.MTASTS != MTASTSEnforce && m.MTASTS != MTASTSReport && m.MTASTS != MTASTSOff {
				t.Fatalf("module %q accepted with mta_sts %q", name, m.MTASTS)
			}
			if m.MTASTSRefresh < MinMTASTSRefresh || m.MTASTSRefresh > MaxMTASTSRefresh {
				t.Fatalf("module %q accepted with mta_sts_refresh %v", name, m.MTASTSRefresh)
			}
		}
		for i, tg := range c.Targets {
			if tg == nil || (tg.Domain == "") == (tg.Host == "") {
				t.Fatalf("targets[%d] accepted with %+v", i, tg)
			}
			if _, ok := c.Modules[tg.Module]; !ok {
				t.Fatalf("targets[%d] accepted with unknown module %q", i, tg.Module)
			}
			if c.TargetTimeout(tg) > c.TargetInterval(tg) {
				t.Fatalf("targets[%d] accepted with timeout %v > interval %v", i, c.TargetTimeout(tg), c.TargetInterval(tg))
			}
			if tg.Host != "" {
				// The name config gives a host target is the one the
				// probe engine gives it (dnsname.JoinHostPort).
				h, p := tg.HostPort()
				if h == "" || dnsname.JoinHostPort(h, p) != tg.Name() {
					t.Fatalf("targets[%d] accepted with host %q, which splits into %q, %d", i, tg.Host, h, p)
				}
			}
		}
		// The self-check name is kept in its canonical form, which the
		// probe command's flag check takes as it is.
		if n := c.DNS.ValidationCheckName; n != "." {
			if again, err := ParseValidationCheckName(n); err != nil || again != n || !dnsname.Valid(n) {
				t.Fatalf("validation_check_name %q accepted, not canonical: %q, %v", n, again, err)
			}
		}
		// Blocklist zones are canonical (ParseDNSBLZone takes them as they
		// are), each is one kind once (its name labels its series), an
		// address zone leaves room for the 32 nibble labels of an IPv6
		// query and a domain zone for its health entry.
		seen := map[string]bool{}
		for _, list := range []struct {
			zones     []string
			addresses bool
		}{{c.DNSBL.Zones, true}, {c.DNSBL.DomainZones, false}} {
			for _, z := range list.zones {
				if again, err := ParseDNSBLZone(z, list.addresses); err != nil || again != z || seen[z] {
					t.Fatalf("dnsbl zone %q accepted: not canonical (%q, %v) or listed twice", z, again, err)
				}
				seen[z] = true
				if list.addresses && !dnsname.Valid(strings.Repeat("f.", 32)+z) {
					t.Fatalf("address zone %q accepted, but an IPv6 query in it is no DNS name", z)
				}
				if !list.addresses && !dnsname.Valid("invalid."+z) {
					t.Fatalf("domain zone %q accepted, but its health check asks no DNS name", z)
				}
			}
		}
		if d := c.DNSBL; d.CacheTTL < MinDNSBLCacheTTL || d.CacheTTL > MaxDNSBLCacheTTL || d.HealthInterval < MinDNSBLHealthInterval || d.HealthInterval > MaxDNSBLHealthInterval {
			t.Fatalf("dnsbl accepted with cache_ttl %v, health_interval %v", d.CacheTTL, d.HealthInterval)
		}
		// What the config accepts, the daemon's resolver must take.
		for _, r := range c.DNS.Resolvers {
			if _, err := dnsmx.ParseServer(r); err != nil {
				t.Fatalf("resolver %q accepted, but the resolver refuses it: %v", r, err)
			}
		}
	})
}
