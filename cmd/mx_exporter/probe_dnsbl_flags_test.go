package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/mx-exporter/mx_exporter/collector/probe/dnsbl"
	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// TestProbeCommandDNSBLFlags: --dnsbl.zone and --dnsbl.domain-zone replace
// the config's lists, each only when given, normalised as the config
// normalises them; --[no-]reverse-dns overrides the module's reverse_dns;
// the checker the probe gets keeps the config's cache_ttl and
// health_interval. Nothing is probed: prepare asks no server.
func TestProbeCommandDNSBLFlags(t *testing.T) {
	dir := t.TempDir()
	lab := filepath.Join(dir, "lab.yml")
	labConfig := "dnsbl:\n  zones: [bl.test, zen.example.org]\n  domain_zones: [dbl.test]\n  cache_ttl: 1h\n  health_interval: 2h\n" +
		"modules:\n  default: {}\n  quiet:\n    reverse_dns: false\n"
	if err := os.WriteFile(lab, []byte(labConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	resolver := "--resolver=" + testenv.ResolverAddr
	addr := func(names ...string) []dnsbl.Zone {
		var zs []dnsbl.Zone
		for _, n := range names {
			zs = append(zs, dnsbl.Zone{Name: n, Kind: dnsbl.KindAddress})
		}
		return zs
	}
	domain := func(names ...string) []dnsbl.Zone {
		var zs []dnsbl.Zone
		for _, n := range names {
			zs = append(zs, dnsbl.Zone{Name: n, Kind: dnsbl.KindDomain})
		}
		return zs
	}
	tests := []struct {
		name       string
		args       []string
		zones      []dnsbl.Zone
		reverseDNS bool
		cacheTTL   time.Duration
		health     time.Duration
	}{
		// None by default: no list is asked unless someone names it.
		{"built-in default", nil, nil, true, 15 * time.Minute, time.Hour},
		{"no reverse DNS", []string{"--no-reverse-dns"}, nil, false, 15 * time.Minute, time.Hour},
		{"reverse DNS", []string{"--reverse-dns"}, nil, true, 15 * time.Minute, time.Hour},
		{"one zone", []string{"--dnsbl.zone=bl.test"}, addr("bl.test"), true, 15 * time.Minute, time.Hour},
		{"zones repeated, normalised", []string{"--dnsbl.zone", "BL.Test.", "--dnsbl.zone=brokenbl.test", "--dnsbl.domain-zone=DBL.test"},
			append(addr("bl.test", "brokenbl.test"), domain("dbl.test")...), true, 15 * time.Minute, time.Hour},
		{"domain zone only", []string{"--dnsbl.domain-zone=dbl.test"}, domain("dbl.test"), true, 15 * time.Minute, time.Hour},
		{"config", []string{"--config.file=" + lab}, append(addr("bl.test", "zen.example.org"), domain("dbl.test")...), true, time.Hour, 2 * time.Hour},
		{"other module of the config", []string{"--config.file=" + lab, "--module=quiet"}, append(addr("bl.test", "zen.example.org"), domain("dbl.test")...), false, time.Hour, 2 * time.Hour},
		{"reverse DNS over the module", []string{"--config.file=" + lab, "--module=quiet", "--reverse-dns"}, append(addr("bl.test", "zen.example.org"), domain("dbl.test")...), true, time.Hour, 2 * time.Hour},
		// A zone flag replaces its own list and leaves the other alone.
		{"zone over config", []string{"--config.file=" + lab, "--dnsbl.zone=brokenbl.test"}, append(addr("brokenbl.test"), domain("dbl.test")...), true, time.Hour, 2 * time.Hour},
		{"domain zone over config", []string{"--config.file=" + lab, "--dnsbl.domain-zone=other.test"}, append(addr("bl.test", "zen.example.org"), domain("other.test")...), true, time.Hour, 2 * time.Hour},
		// Other flags leave them alone.
		{"mta-sts flag", []string{"--config.file=" + lab, "--mta-sts=off"}, append(addr("bl.test", "zen.example.org"), domain("dbl.test")...), true, time.Hour, 2 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := kingpin.New("mx_exporter", "")
			c := addProbeCommand(app)
			args := append(append([]string{"probe", resolver}, tt.args...), "relay.test")
			if _, err := app.Parse(args); err != nil {
				t.Fatalf("parse %q: %v", args, err)
			}
			_, s, err := c.prepare()
			if err != nil {
				t.Fatalf("prepare %q: %v", args, err)
			}
			if !slices.Equal(s.DNSBLZones, tt.zones) || s.ReverseDNS != tt.reverseDNS {
				t.Fatalf("%q: DNSBLZones %+v, ReverseDNS %v; want %+v, %v", tt.args, s.DNSBLZones, s.ReverseDNS, tt.zones, tt.reverseDNS)
			}
			if c.blocklists.CacheTTL != tt.cacheTTL || c.blocklists.HealthInterval != tt.health {
				t.Fatalf("%q: the checker's cache_ttl %v, health_interval %v; want %v, %v", tt.args, c.blocklists.CacheTTL, c.blocklists.HealthInterval, tt.cacheTTL, tt.health)
			}
		})
	}
}

// TestProbeCommandDNSBLUsage: a bad zone flag is a usage error before
// anything is asked, with the config's words; --help documents the flags,
// and why no list is asked by default.
func TestProbeCommandDNSBLUsage(t *testing.T) {
	dir := t.TempDir()
	lab := filepath.Join(dir, "lab.yml")
	if err := os.WriteFile(lab, []byte("dnsbl:\n  zones: [bl.test]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte("dnsbl:\n  health_interval: 30s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 62) // 190
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"not a DNS name", []string{"--dnsbl.zone=bl_test.example"}, `--dnsbl.zone: must be a DNS zone name like bl.example.org, got "bl_test.example"`},
		{"empty", []string{"--dnsbl.zone="}, `--dnsbl.zone: must be a DNS zone name like bl.example.org, got ""`},
		{"an IP address", []string{"--dnsbl.domain-zone=127.0.0.2"}, `--dnsbl.domain-zone: must be the name of a blocklist zone like bl.example.org, got the IP address "127.0.0.2"`},
		{"not ASCII", []string{"--dnsbl.zone=bl.bücher.example"}, `--dnsbl.zone: must be a DNS zone name in ASCII, got "bl.bücher.example"`},
		{"too long for IPv6 queries", []string{"--dnsbl.zone=" + long}, "--dnsbl.zone: must be at most 189 characters"},
		{"given twice", []string{"--dnsbl.zone=bl.test", "--dnsbl.zone=BL.test."}, `--dnsbl.zone: "bl.test" is given twice`},
		{"both kinds", []string{"--dnsbl.zone=bl.test", "--dnsbl.domain-zone=bl.test"}, `--dnsbl.domain-zone: "bl.test" is an address zone too`},
		{"both kinds, one from the config", []string{"--config.file=" + lab, "--dnsbl.domain-zone=bl.test"}, `--dnsbl.domain-zone: "bl.test" is an address zone too (--dnsbl.zone or the config's dnsbl.zones)`},
		{"interval out of bounds in config", []string{"--config.file=" + bad}, bad + ":2: dnsbl.health_interval: must be between 1m and 24h, got 30s"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append(append([]string{"probe"}, tt.args...), "relay.test")
			code := run(context.Background(), args, &stdout, &stderr)
			if code != exitUsage {
				t.Fatalf("exit status %d, want %d (usage)\nstderr: %s", code, exitUsage, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Fatalf("stderr lacks %q:\n%s", tt.want, stderr.String())
			}
		})
	}

	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"probe", "--help"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("probe --help: exit status %d\nstderr: %s", code, stderr.String())
	}
	help := strings.Join(strings.Fields(stdout.String()), " ")
	for _, want := range []string{
		"--[no-]reverse-dns", "forward-confirmed reverse DNS", "never a failure",
		"--dnsbl.zone=ZONE ...", "--dnsbl.domain-zone=ZONE ...", "repeatable; replaces the config's dnsbl.zones",
		"None by default", "refuse queries through public resolvers", "127.255.255.x", "need a key in the zone name", "--resolver",
	} {
		if !strings.Contains(help, want) {
			t.Errorf("probe --help lacks %q:\n%s", want, stdout.String())
		}
	}
}

// TestProbeCommandBlocklists: the probe command, without a daemon, looks
// the probed addresses and MX host names up in the zones its flags name,
// through a checker of its own that checks each zone's health first: an
// unhealthy zone's answers are not trusted, and a listing is never a
// failure. Against the test environment's blocklists.
func TestProbeCommandBlocklists(t *testing.T) {
	env := testenv.Require(t)
	relay := []string{"--rcpt=postmaster@relay.test", "--relay-rcpt=" + env.RelayAddress}
	code, out, errOut := runProbe(t, env, append(relay,
		"--dnsbl.zone="+testenv.BlocklistZone, "--dnsbl.zone="+testenv.BrokenBlocklistZone,
		"--dnsbl.domain-zone="+testenv.DomainBlocklistZone, "relay.test")...)
	if code != exitFailure { // the open relay fails it, not the listings
		t.Fatalf("exit status %d, want %d (the open relay)\nstdout:\n%s\nstderr:\n%s", code, exitFailure, out, errOut)
	}
	for _, want := range []string{
		"LISTED in " + testenv.BlocklistZone,
		"127.0.1.3 listed: open relay (test listing)",
		"blocklist " + testenv.BrokenBlocklistZone + " is UNHEALTHY",
		"LISTED in " + testenv.DomainBlocklistZone,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "FAIL relay_open") || strings.Contains(out, "FAIL dnsbl") {
		t.Errorf("want the open relay as the only failure:\n%s", out)
	}

	// Without a zone flag nothing is asked of any list; --no-reverse-dns
	// asks no PTR either.
	code, out, errOut = runProbe(t, env, "--no-reverse-dns", "good.test")
	if code != exitOK {
		t.Fatalf("good.test: exit status %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, unwanted := range []string{testenv.BlocklistZone, "listed", "PTR"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("good.test without zones or reverse DNS: the report mentions %q:\n%s", unwanted, out)
		}
	}
}
