package config

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/dnsname"
)

func builtinModule() *Module {
	m := &Module{}
	m.setDefaults()
	return m
}

func TestLoadGood(t *testing.T) {
	c, err := Load("testdata/good.yml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	plain := builtinModule()
	plain.StartTLS = StartTLSOff
	plain.DANE = DANEOff
	plain.MTASTS = MTASTSOff
	plain.MTASTSRefresh = time.Minute
	plain.AddressFamilies = []string{IPv6, IPv4}
	want := &Config{
		File:          "testdata/good.yml",
		TargetsListed: true,
		DNS: DNS{
			Resolvers:           []string{"192.0.2.53", "198.51.100.53:5353", "[2001:db8::53]:53"},
			Timeout:             3 * time.Second,
			Attempts:            3,
			TrustAD:             true,
			ValidationCheckName: "dnssec.example.org", // lower-cased, trailing dot gone
		},
		DNSBL: DNSBL{
			Zones:          []string{"zen.example.org", "bl.example.net"}, // lower-cased, trailing dot gone
			DomainZones:    []string{"dbl.example.org"},
			CacheTTL:       time.Hour,
			HealthInterval: 30 * time.Minute,
		},
		Modules: map[string]*Module{
			"default": {
				Port:       2525,
				Timeout:    20 * time.Second,
				Interval:   2 * time.Minute,
				EHLO:       "probe.example.org",
				MailFrom:   "probe@example.org",
				Recipients: []string{"postmaster@example.com", "abuse@example.com"},
				RelayCheck: "relay-test@example.net",
				VRFY:       "postmaster",
				StartTLS:   StartTLSRequired,
				DANE:       DANEReport,
				MTASTS:     MTASTSReport,
				// Hours, not seconds: how long a fetched policy is used.
				MTASTSRefresh: 6 * time.Hour,
				ReverseDNS:    false,
				TLS: TLS{
					CAFile:          filepath.Join("testdata", "ca.pem"), // relative to the config file
					ServerName:      "mx.example.com",
					RequireVerified: true,
				},
				AddressFamilies:        []string{IPv4},
				MaxMXHosts:             3,
				MaxAddressesPerHost:    2,
				SlowStepThreshold:      2500 * time.Millisecond,
				IgnoreSpecialAddresses: true,
				Pipelining:             true,
				Metrics:                Metrics{AllExtensions: true, EnhancedStatus: true, AllSteps: true},
			},
			"plain": plain,
		},
		Targets: []*Target{
			{Domain: "example.com", Module: "default"}, // lower-cased, trailing dot gone
			{Domain: "example.org", Module: "plain", Interval: 5 * time.Minute, Timeout: 30 * time.Second},
			{Host: "mx1.example.net:587", Module: "default"},
			{Host: "[2001:db8::25]:25", Module: "default"},
			{Host: "192.0.2.25", Module: "default"},
		},
		ProbeEndpoint: ProbeEndpoint{Allow: ProbeAllow{
			Domains:  []string{"example.org", "example.net"}, // lower-cased, trailing dot gone
			Hosts:    []string{"mx*.example.com"},
			Networks: []string{"192.0.2.0/24", "2001:db8::/32"},
			Ports:    []int{587},

			ResolvedAddresses: ResolvedPublic, // the default
		}},
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("Load(good.yml):\n got %s\nwant %s", dump(c), dump(want))
	}

	pool, id, err := c.Modules["default"].LoadRootCAs()
	if err != nil || pool == nil || id == "" {
		t.Errorf("LoadRootCAs() = %v, %q, %v; want a pool and its id", pool, id, err)
	}
	if pool, id, err := plain.LoadRootCAs(); pool != nil || id != "" || err != nil {
		t.Errorf("LoadRootCAs() without ca_file = %v, %q, %v; want nil, \"\", nil (system roots)", pool, id, err)
	}
	for i, want := range []struct {
		host string
		port int
	}{{"", 0}, {"", 0}, {"mx1.example.net", 587}, {"2001:db8::25", 25}, {"192.0.2.25", 0}} {
		if host, port := c.Targets[i].HostPort(); host != want.host || port != want.port {
			t.Errorf("targets[%d].HostPort() = %q, %d; want %q, %d", i, host, port, want.host, want.port)
		}
	}
}

// dump shows what the pointers in a Config point to.
func dump(c *Config) string {
	s := fmt.Sprintf("DNS %+v\n     DNSBL %+v", c.DNS, c.DNSBL)
	for name, m := range c.Modules {
		s += fmt.Sprintf("\n     module %s %+v", name, *m)
	}
	for _, t := range c.Targets {
		s += fmt.Sprintf("\n     target %+v", *t)
	}
	return s
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load("testdata/defaults.yml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	// trust_ad off: the AD bit of resolvers nobody vouched for means
	// nothing, and DANE is "not checked" until the file says otherwise.
	wantDNS := DNS{Timeout: DefaultDNSTimeout, Attempts: DefaultDNSAttempts, ValidationCheckName: "."}
	if !reflect.DeepEqual(c.DNS, wantDNS) {
		t.Errorf("DNS = %+v, want %+v", c.DNS, wantDNS)
	}
	// No blocklist: many refuse public resolvers, some need a key.
	wantDNSBL := DNSBL{CacheTTL: 15 * time.Minute, HealthInterval: time.Hour}
	if !reflect.DeepEqual(c.DNSBL, wantDNSBL) {
		t.Errorf("DNSBL = %+v, want %+v", c.DNSBL, wantDNSBL)
	}
	m, ok := c.Module("")
	if !ok || len(c.Modules) != 1 {
		t.Fatalf("modules = %v, want only the built-in default", c.Modules)
	}
	want := &Module{
		Port:                25,
		Timeout:             15 * time.Second,
		Interval:            time.Minute,
		EHLO:                DefaultEHLO(),
		StartTLS:            StartTLSOpportunistic,
		DANE:                DANEEnforce,
		MTASTS:              MTASTSEnforce,
		MTASTSRefresh:       time.Hour,
		ReverseDNS:          true,
		AddressFamilies:     []string{IPv4, IPv6},
		MaxMXHosts:          10,
		MaxAddressesPerHost: 4,
		SlowStepThreshold:   time.Second,
		// IgnoreSpecialAddresses false: special-purpose addresses of MX
		// hosts are reported unless a module turns it off.
		// Pipelining false: lock-step shows the command a server stalls on.
		// Metrics zero: the default series, within the series budget.
	}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("default module = %+v, want %+v", m, want)
	}
	tg := c.Targets[0]
	if tg.Module != DefaultModuleName || c.TargetTimeout(tg) != DefaultTimeout || c.TargetInterval(tg) != DefaultInterval {
		t.Errorf("target = %+v, timeout %v, interval %v; want module default, 15s, 1m", tg, c.TargetTimeout(tg), c.TargetInterval(tg))
	}
	if !dnsname.Valid(want.EHLO) {
		t.Errorf("DefaultEHLO() = %q, not a valid host name", want.EHLO)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, in := range []string{"", "\n", "# nothing yet\n", "---\n", "~\n", "--- # comment\n...\n"} {
		c, err := Parse([]byte(in), "mx.yml")
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		if len(c.Targets) != 0 || !reflect.DeepEqual(c.Modules, map[string]*Module{"default": builtinModule()}) ||
			c.DNS.Timeout != DefaultDNSTimeout || c.DNS.Attempts != DefaultDNSAttempts ||
			c.DNS.TrustAD || c.DNS.ValidationCheckName != DefaultValidationCheckName {
			t.Errorf("Parse(%q) = %+v, want the defaults", in, c)
		}
	}
}

func TestParseOverrides(t *testing.T) {
	const in = `
modules:
  default:          # replaces the built-in one, keeping defaults for what it leaves out
    port: 587
  slow:
    timeout: 50s
    interval: 5m
  nulls:            # a null value is the default, like an absent key
    port: ~
    address_families:
  empty:
dns:
  timeout: 1s       # attempts keeps its default
targets:
  - domain: example.com
    module: slow
    timeout: 1m     # within the module's 5m interval
  - domain: example.org
    interval: 2m
  - host: mx.example.com
    module: ""      # "" is the default module
  - domain: example.net
    module: empty
`
	c, err := Parse([]byte(in), "mx.yml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	def := builtinModule()
	def.Port = 587
	slow := builtinModule()
	slow.Timeout, slow.Interval = 50*time.Second, 5*time.Minute
	want := map[string]*Module{"default": def, "slow": slow, "nulls": builtinModule(), "empty": builtinModule()}
	if !reflect.DeepEqual(c.Modules, want) {
		t.Errorf("modules:\n got %s\nwant %s", dump(c), dump(&Config{Modules: want}))
	}
	if c.DNS.Timeout != time.Second || c.DNS.Attempts != DefaultDNSAttempts {
		t.Errorf("DNS = %+v", c.DNS)
	}
	for i, want := range []struct {
		module            string
		timeout, interval time.Duration
	}{
		{"slow", time.Minute, 5 * time.Minute},
		{"default", 15 * time.Second, 2 * time.Minute},
		{"default", 15 * time.Second, time.Minute},
		{"empty", 15 * time.Second, time.Minute},
	} {
		tg := c.Targets[i]
		if tg.Module != want.module || c.TargetTimeout(tg) != want.timeout || c.TargetInterval(tg) != want.interval {
			t.Errorf("targets[%d]: module %q, timeout %v, interval %v; want %q, %v, %v",
				i, tg.Module, c.TargetTimeout(tg), c.TargetInterval(tg), want.module, want.timeout, want.interval)
		}
	}
	if m, ok := c.Module(""); !ok || m != c.Modules["default"] {
		t.Errorf(`Module("") = %v, %v; want the default module`, m, ok)
	}
	if _, ok := c.Module("nope"); ok {
		t.Errorf(`Module("nope") found a module`)
	}
}

// Merge keys let modules share settings; keys written in the mapping win.
func TestParseMerge(t *testing.T) {
	const in = `
modules:
  base: &base
    port: 2525
    starttls: required
  other: &other
    max_mx_hosts: 2
    port: 26
  strict:
    <<: [*base, *other]
    starttls: "off"
`
	c, err := Parse([]byte(in), "mx.yml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	m := c.Modules["strict"]
	if m.Port != 2525 || m.StartTLS != StartTLSOff || m.MaxMXHosts != 2 {
		t.Errorf("strict = %+v; want port 2525 (first merge wins), starttls off (explicit wins), max_mx_hosts 2", m)
	}
}

// TestParseDNSSEC: the keys that say whether DNSSEC answers are believed
// and how the resolvers prove that they validate, and each module's DANE
// mode.
func TestParseDNSSEC(t *testing.T) {
	tests := []struct {
		in        string
		trustAD   bool
		checkName string
		dane      string
	}{
		{"dns: {trust_ad: true}\n", true, ".", DANEEnforce},
		{"dns: {trust_ad: false, validation_check_name: .}\n", false, ".", DANEEnforce},
		{"dns: {trust_ad: true, validation_check_name: ~}\n", true, ".", DANEEnforce}, // null is the default
		{"dns: {trust_ad: true, validation_check_name: Dnssec.Test.}\n", true, "dnssec.test", DANEEnforce},
		{"dns: {validation_check_name: xn--bcher-kva.example}\n", false, "xn--bcher-kva.example", DANEEnforce},
		{"modules: {default: {dane: enforce}}\n", false, ".", DANEEnforce},
		{"modules: {default: {dane: report}}\n", false, ".", DANEReport},
		{"modules: {default: {dane: off}}\n", false, ".", DANEOff}, // a string in YAML 1.2
		{"modules: {default: {dane: \"off\"}}\n", false, ".", DANEOff},
		{"modules: {default: {dane: ~}}\n", false, ".", DANEEnforce},
	}
	for _, tt := range tests {
		c, err := Parse([]byte(tt.in), "mx.yml")
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if c.DNS.TrustAD != tt.trustAD || c.DNS.ValidationCheckName != tt.checkName || c.Modules["default"].DANE != tt.dane {
			t.Errorf("Parse(%q): trust_ad %v, validation_check_name %q, dane %q; want %v, %q, %q",
				tt.in, c.DNS.TrustAD, c.DNS.ValidationCheckName, c.Modules["default"].DANE, tt.trustAD, tt.checkName, tt.dane)
		}
	}
}

// TestParseMTASTS: each module's MTA-STS mode and policy refresh, and the
// bounds of the refresh (inclusive).
func TestParseMTASTS(t *testing.T) {
	tests := []struct {
		in      string
		mode    string
		refresh time.Duration
	}{
		{"modules: {default: {}}\n", MTASTSEnforce, time.Hour},
		{"modules: {default: {mta_sts: enforce}}\n", MTASTSEnforce, time.Hour},
		{"modules: {default: {mta_sts: report}}\n", MTASTSReport, time.Hour},
		{"modules: {default: {mta_sts: off}}\n", MTASTSOff, time.Hour}, // a string in YAML 1.2
		{"modules: {default: {mta_sts: \"off\"}}\n", MTASTSOff, time.Hour},
		{"modules: {default: {mta_sts: ~, mta_sts_refresh: ~}}\n", MTASTSEnforce, time.Hour}, // null is the default
		{"modules: {default: {mta_sts_refresh: 1m}}\n", MTASTSEnforce, time.Minute},
		{"modules: {default: {mta_sts_refresh: 90m}}\n", MTASTSEnforce, 90 * time.Minute},
		{"modules: {default: {mta_sts_refresh: 24h}}\n", MTASTSEnforce, 24 * time.Hour},
		// Another module keeps the defaults.
		{"modules: {default: {mta_sts: off}, b: {mta_sts_refresh: 2h}}\n", MTASTSOff, time.Hour},
	}
	for _, tt := range tests {
		c, err := Parse([]byte(tt.in), "mx.yml")
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		m := c.Modules["default"]
		if m.MTASTS != tt.mode || m.MTASTSRefresh != tt.refresh {
			t.Errorf("Parse(%q): mta_sts %q, mta_sts_refresh %v; want %q, %v", tt.in, m.MTASTS, m.MTASTSRefresh, tt.mode, tt.refresh)
		}
	}
	c, err := Parse([]byte("modules: {b: {mta_sts_refresh: 2h}}\n"), "mx.yml")
	if err != nil || c.Modules["b"].MTASTSRefresh != 2*time.Hour || c.Modules["b"].MTASTS != MTASTSEnforce {
		t.Errorf("module b: want mta_sts enforce, refresh 2h; got %+v, %v", c.Modules["b"], err)
	}
	for in, want := range map[string]string{
		"modules: {default: {mta_sts_refresh: 59s}}\n":   `mx.yml:1: modules.default.mta_sts_refresh: must be between 1m and 24h, got 59s`,
		"modules: {default: {mta_sts_refresh: 24h1s}}\n": `mx.yml:1: modules.default.mta_sts_refresh: must be between 1m and 24h, got 24h0m1s`,
		"modules: {default: {mta_sts_refresh: 0s}}\n":    `mx.yml:1: modules.default.mta_sts_refresh: must be between 1m and 24h, got 0s`,
		"modules: {default: {mta_sts_refresh: -1h}}\n":   `mx.yml:1: modules.default.mta_sts_refresh: must be between 1m and 24h, got -1h`,
		"modules: {default: {mta_sts: [enforce]}}\n":     `mx.yml:1: modules.default.mta_sts: must be a string, got a list`,
		"modules: {default: {mta_sts: Enforce}}\n":       `mx.yml:1: modules.default.mta_sts: must be one of enforce, report, off, got "Enforce"`,
		"modules: {default: {mta-sts: enforce}}\n":       `mx.yml:1: modules.default.mta-sts: unknown key (did you mean "mta_sts"?)`,
	} {
		if _, err := Parse([]byte(in), "mx.yml"); err == nil || err.Error() != want {
			t.Errorf("Parse(%q): want error %s, got %v", in, want, err)
		}
	}
}

// TestParseDNSBL: the blocklist zones, normalised, their cache and health
// intervals and their bounds (inclusive), and each module's reverse_dns.
func TestParseDNSBL(t *testing.T) {
	tests := []struct {
		in                   string
		zones, domainZones   []string
		cacheTTL, health     time.Duration
		reverseDNS, reverseB bool
	}{
		{"", nil, nil, 15 * time.Minute, time.Hour, true, true},
		{"dnsbl: ~\nmodules: {default: {reverse_dns: ~}}\n", nil, nil, 15 * time.Minute, time.Hour, true, true}, // null is the default
		{"dnsbl: {zones: [], domain_zones: []}\n", []string{}, []string{}, 15 * time.Minute, time.Hour, true, true},
		{"dnsbl: {zones: [Zen.Example.ORG., bl.test], domain_zones: [DBL.test]}\n",
			[]string{"zen.example.org", "bl.test"}, []string{"dbl.test"}, 15 * time.Minute, time.Hour, true, true},
		// A key in the zone name, as Spamhaus DQS has it: one more label.
		{"dnsbl: {zones: [abcdefghijklmnopqrstuvwxyz.zen.dq.example.net]}\n",
			[]string{"abcdefghijklmnopqrstuvwxyz.zen.dq.example.net"}, nil, 15 * time.Minute, time.Hour, true, true},
		// One label is a zone too (a lab's).
		{"dnsbl: {zones: [bl], domain_zones: [dbl]}\n", []string{"bl"}, []string{"dbl"}, 15 * time.Minute, time.Hour, true, true},
		{"dnsbl: {cache_ttl: 1m, health_interval: 24h}\n", nil, nil, time.Minute, 24 * time.Hour, true, true},
		{"dnsbl: {cache_ttl: 24h, health_interval: 1m}\n", nil, nil, 24 * time.Hour, time.Minute, true, true},
		{"modules: {default: {reverse_dns: false}, b: {}}\n", nil, nil, 15 * time.Minute, time.Hour, false, true},
		{"modules: {default: {reverse_dns: true}, b: {reverse_dns: false}}\n", nil, nil, 15 * time.Minute, time.Hour, true, false},
	}
	for _, tt := range tests {
		c, err := Parse([]byte(tt.in), "mx.yml")
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		d := c.DNSBL
		if !reflect.DeepEqual(d.Zones, tt.zones) || !reflect.DeepEqual(d.DomainZones, tt.domainZones) || d.CacheTTL != tt.cacheTTL || d.HealthInterval != tt.health {
			t.Errorf("Parse(%q): dnsbl %+v; want zones %q, domain_zones %q, cache_ttl %v, health_interval %v", tt.in, d, tt.zones, tt.domainZones, tt.cacheTTL, tt.health)
		}
		if got := c.Modules["default"].ReverseDNS; got != tt.reverseDNS {
			t.Errorf("Parse(%q): module default reverse_dns %v, want %v", tt.in, got, tt.reverseDNS)
		}
		if b, ok := c.Modules["b"]; ok && b.ReverseDNS != tt.reverseB {
			t.Errorf("Parse(%q): module b reverse_dns %v, want %v", tt.in, b.ReverseDNS, tt.reverseB)
		}
	}
	longest := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 61) // 189
	for in, want := range map[string]string{
		"dnsbl: {zones: [bl.test, \"\"]}\n":                    `mx.yml:1: dnsbl.zones[1]: must be a DNS zone name like bl.example.org, got ""`,
		"dnsbl: {zones: [bl.test, ~]}\n":                       `mx.yml:1: dnsbl.zones[1]: must be a DNS zone name like bl.example.org, got ""`,
		"dnsbl: {zones: [.]}\n":                                `mx.yml:1: dnsbl.zones[0]: must be a DNS zone name like bl.example.org, got "."`,
		"dnsbl: {zones: [bl..test]}\n":                         `mx.yml:1: dnsbl.zones[0]: must be a DNS zone name like bl.example.org, got "bl..test"`,
		"dnsbl: {domain_zones: [\"*.dbl.test\"]}\n":            `mx.yml:1: dnsbl.domain_zones[0]: must be a DNS zone name like bl.example.org, got "*.dbl.test"`,
		"dnsbl: {domain_zones: [\"::1\"]}\n":                   `mx.yml:1: dnsbl.domain_zones[0]: must be a DNS zone name like bl.example.org, got "::1"`,
		"dnsbl: {zones: [192.0.2.53]}\n":                       `mx.yml:1: dnsbl.zones[0]: must be the name of a blocklist zone like bl.example.org, got the IP address "192.0.2.53" (resolvers are dns.resolvers)`,
		"dnsbl: {zones: [" + longest + "x]}\n":                 `mx.yml:1: dnsbl.zones[0]: must be at most 189 characters, so that an IPv6 query (64 characters of address labels before the zone) is a DNS name, got 190`,
		"dnsbl: {zones: [bl.test, dbl.test, BL.TEST]}\n":       `mx.yml:1: dnsbl.zones[2]: duplicate of dnsbl.zones[0]`,
		"dnsbl: {domain_zones: [dbl.test, dbl.test.]}\n":       `mx.yml:1: dnsbl.domain_zones[1]: duplicate of dnsbl.domain_zones[0]`,
		"dnsbl: {zones: [bl.test], domain_zones: [Bl.Test]}\n": `mx.yml:1: dnsbl.domain_zones[0]: "bl.test" is an address zone too (dnsbl.zones[0]); a zone lists addresses or host names, not both (its name labels its series)`,
		"dnsbl: {zones: [{name: bl.test}]}\n":                  `mx.yml:1: dnsbl.zones[0]: must be a string, got a mapping`,
		"dnsbl: {cache_ttl: 59s}\n":                            `mx.yml:1: dnsbl.cache_ttl: must be between 1m and 24h, got 59s`,
		"dnsbl: {cache_ttl: 0s}\n":                             `mx.yml:1: dnsbl.cache_ttl: must be between 1m and 24h, got 0s`,
		"dnsbl: {health_interval: 24h1s}\n":                    `mx.yml:1: dnsbl.health_interval: must be between 1m and 24h, got 24h0m1s`,
		"dnsbl: {health_interval: -1h}\n":                      `mx.yml:1: dnsbl.health_interval: must be between 1m and 24h, got -1h`,
		"dnsbl: [bl.test]\n":                                   `mx.yml:1: dnsbl: must be a mapping, got a list`,
		"modules: {default: {reverse_dns: 1}}\n":               `mx.yml:1: modules.default.reverse_dns: must be true or false, got "1"`,
		"modules: {default: {reverse-dns: true}}\n":            `mx.yml:1: modules.default.reverse-dns: unknown key (did you mean "reverse_dns"?)`,
	} {
		if _, err := Parse([]byte(in), "mx.yml"); err == nil || err.Error() != want {
			t.Errorf("Parse(%q):\n got %v\nwant %s", in, err, want)
		}
	}
	// The longest zones pass: 189 characters for an address zone, 245 for
	// a domain zone (its health entry "invalid" comes before it).
	longestDomain := longest + "." + strings.Repeat("d", 55)
	if _, err := Parse([]byte("dnsbl: {zones: ["+longest+"], domain_zones: ["+longestDomain+"]}\n"), "mx.yml"); err != nil || len(longestDomain) != 245 {
		t.Errorf("a %d-character address zone and a %d-character domain zone: %v", len(longest), len(longestDomain), err)
	}
	want := `mx.yml:1: dnsbl.domain_zones[0]: must be at most 245 characters, so that its health check ("invalid" before the zone) is a DNS name, got 246`
	if _, err := Parse([]byte("dnsbl: {domain_zones: ["+longestDomain+"x]}\n"), "mx.yml"); err == nil || err.Error() != want {
		t.Errorf("a 246-character domain zone:\n got %v\nwant %s", err, want)
	}
}

// TestParseDNSBLZone: the probe command checks its flags with the function
// the config's keys use, so the two accept the same zones, in the same
// canonical form.
func TestParseDNSBLZone(t *testing.T) {
	for _, tt := range []struct {
		in        string
		addresses bool
		want      string
	}{
		{"Zen.Example.ORG.", true, "zen.example.org"},
		{"dbl.example.org", false, "dbl.example.org"},
		{"xn--bcher-kva.example", false, "xn--bcher-kva.example"},
	} {
		if got, err := ParseDNSBLZone(tt.in, tt.addresses); err != nil || got != tt.want {
			t.Errorf("ParseDNSBLZone(%q, %v) = %q, %v; want %q", tt.in, tt.addresses, got, err, tt.want)
		}
	}
	for in, want := range map[string]string{
		"bl_test.example": `must be a DNS zone name like bl.example.org, got "bl_test.example"`,
		"bücher.example":  `must be a DNS zone name in ASCII, got "bücher.example" (write internationalised names as xn--… A-labels)`,
		"127.0.0.1":       `must be the name of a blocklist zone like bl.example.org, got the IP address "127.0.0.1" (resolvers are dns.resolvers)`,
	} {
		if _, err := ParseDNSBLZone(in, true); err == nil || err.Error() != want {
			t.Errorf("ParseDNSBLZone(%q):\n got %v\nwant %s", in, err, want)
		}
	}
}

// TestParseValidationCheckName: the probe command checks its flag with the
// function the config key uses, so the two accept the same names.
func TestParseValidationCheckName(t *testing.T) {
	for in, want := range map[string]string{
		".":            ".",
		"Example.COM.": "example.com",
		"dnssec.test":  "dnssec.test",
		"com":          "com",
	} {
		if got, err := ParseValidationCheckName(in); got != want || err != nil {
			t.Errorf("ParseValidationCheckName(%q) = %q, %v; want %q, nil", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"":            `must be a DNS name like example.com, or "." for the root zone, got ""`,
		"..":          `must be a DNS name like example.com, or "." for the root zone, got ".."`,
		" .":          `must be a DNS name like example.com, or "." for the root zone, got " ."`,
		"_tcp.test":   `must be a DNS name like example.com, or "." for the root zone, got "_tcp.test"`,
		"2001:db8::1": `must be a DNS name like example.com, or "." for the root zone, got "2001:db8::1"`,
		"192.0.2.1.":  `must be the name of a signed zone like example.com, or "." for the root zone, got the IP address "192.0.2.1."`,
		"ñ.example":   `must be a DNS name in ASCII, got "ñ.example" (write internationalised names as xn--… A-labels)`,
	} {
		if got, err := ParseValidationCheckName(in); err == nil || err.Error() != want {
			t.Errorf("ParseValidationCheckName(%q) = %q, %v; want error %s", in, got, err, want)
		}
	}
}

// One bad file per error, with the exact message: the messages are the
// user interface of the config, and changing one should be deliberate.
func TestLoadBad(t *testing.T) {
	bad := map[string]string{
		"bad_bool.yml":                       `bad_bool.yml:4: modules.default.tls.require_verified: must be true or false, got "yes"`,
		"bad_ca_broken.yml":                  `bad_ca_broken.yml:4: modules.default.tls.ca_file: testdata/broken_cert.pem: certificate 1: x509: malformed certificate`,
		"bad_ca_missing.yml":                 `bad_ca_missing.yml:4: modules.default.tls.ca_file: open testdata/missing.pem: no such file or directory`,
		"bad_ca_not_pem.yml":                 `bad_ca_not_pem.yml:4: modules.default.tls.ca_file: testdata/not_a_cert.pem: no PEM certificates found`,
		"bad_dane.yml":                       `bad_dane.yml:3: modules.default.dane: must be one of enforce, report, off, got "strict"`,
		"bad_dane_bool.yml":                  `bad_dane_bool.yml:3: modules.default.dane: must be one of enforce, report, off, got "false"`,
		"bad_mta_sts.yml":                    `bad_mta_sts.yml:3: modules.default.mta_sts: must be one of enforce, report, off, got "strict"`,
		"bad_mta_sts_bool.yml":               `bad_mta_sts_bool.yml:3: modules.default.mta_sts: must be one of enforce, report, off, got "false"`,
		"bad_mta_sts_refresh_short.yml":      `bad_mta_sts_refresh_short.yml:3: modules.default.mta_sts_refresh: must be between 1m and 24h, got 30s`,
		"bad_mta_sts_refresh_long.yml":       `bad_mta_sts_refresh_long.yml:3: modules.default.mta_sts_refresh: must be between 1m and 24h, got 168h`,
		"bad_mta_sts_refresh_number.yml":     `bad_mta_sts_refresh_number.yml:3: modules.default.mta_sts_refresh: invalid duration "3600" (use Go durations like 10s, 1m30s)`,
		"bad_dnsbl_cache_ttl_number.yml":     `bad_dnsbl_cache_ttl_number.yml:2: dnsbl.cache_ttl: invalid duration "900" (use Go durations like 10s, 1m30s)`,
		"bad_dnsbl_cache_ttl_short.yml":      `bad_dnsbl_cache_ttl_short.yml:2: dnsbl.cache_ttl: must be between 1m and 24h, got 30s`,
		"bad_dnsbl_health_interval_long.yml": `bad_dnsbl_health_interval_long.yml:2: dnsbl.health_interval: must be between 1m and 24h, got 48h`,
		"bad_dnsbl_key.yml":                  `bad_dnsbl_key.yml:2: dnsbl.zone: unknown key (did you mean "zones"?)`,
		"bad_dnsbl_zone.yml":                 `bad_dnsbl_zone.yml:4: dnsbl.zones[1]: must be a DNS zone name like bl.example.org, got "bad_zone.example.org"`,
		"bad_dnsbl_zone_both.yml":            `bad_dnsbl_zone_both.yml:6: dnsbl.domain_zones[0]: "bl.example.org" is an address zone too (dnsbl.zones[1]); a zone lists addresses or host names, not both (its name labels its series)`,
		"bad_dnsbl_zone_duplicate.yml":       `bad_dnsbl_zone_duplicate.yml:4: dnsbl.zones[1]: duplicate of dnsbl.zones[0]`,
		"bad_dnsbl_zone_idn.yml":             `bad_dnsbl_zone_idn.yml:3: dnsbl.domain_zones[0]: must be a DNS zone name in ASCII, got "dbl.bücher.example" (write internationalised names as xn--… A-labels)`,
		"bad_dnsbl_zone_ip.yml":              `bad_dnsbl_zone_ip.yml:3: dnsbl.zones[0]: must be the name of a blocklist zone like bl.example.org, got the IP address "127.0.0.2" (resolvers are dns.resolvers)`,
		"bad_dnsbl_zone_long.yml":            `bad_dnsbl_zone_long.yml:3: dnsbl.zones[0]: must be at most 189 characters, so that an IPv6 query (64 characters of address labels before the zone) is a DNS name, got 196`,
		"bad_dnsbl_zones_type.yml":           `bad_dnsbl_zones_type.yml:2: dnsbl.zones: must be a list, got "zen.example.org"`,
		"bad_reverse_dns.yml":                `bad_reverse_dns.yml:3: modules.default.reverse_dns: must be true or false, got "no"`,
		"bad_pipelining.yml":                 `bad_pipelining.yml:3: modules.default.pipelining: must be true or false, got "yes"`,
		"bad_metrics_bool.yml":               `bad_metrics_bool.yml:5: modules.default.metrics.enhanced_status: must be true or false, got "1"`,
		"bad_metrics_key.yml":                `bad_metrics_key.yml:4: modules.default.metrics.extensions: unknown key`,
		"bad_metrics_type.yml":               `bad_metrics_type.yml:3: modules.default.metrics: must be a mapping, got "all"`,
		"bad_dns_attempts.yml":               `bad_dns_attempts.yml:2: dns.attempts: must be at least 1, got 0`,
		"bad_dns_check_name.yml":             `bad_dns_check_name.yml:3: dns.validation_check_name: must be a DNS name like example.com, or "." for the root zone, got "dnssec..example"`,
		"bad_dns_check_name_empty.yml":       `bad_dns_check_name_empty.yml:3: dns.validation_check_name: must be a DNS name like example.com, or "." for the root zone, got ""`,
		"bad_dns_check_name_idn.yml":         `bad_dns_check_name_idn.yml:3: dns.validation_check_name: must be a DNS name in ASCII, got "bücher.example" (write internationalised names as xn--… A-labels)`,
		"bad_dns_check_name_ip.yml":          `bad_dns_check_name_ip.yml:3: dns.validation_check_name: must be the name of a signed zone like example.com, or "." for the root zone, got the IP address "127.0.0.1"`,
		"bad_dns_timeout.yml":                `bad_dns_timeout.yml:2: dns.timeout: must be positive, got -1s`,
		"bad_domain.yml":                     `bad_domain.yml:2: targets[0].domain: must be a DNS name like example.com, got "exa mple.com": it contains whitespace`,
		"bad_domain_idn.yml":                 `bad_domain_idn.yml:2: targets[0].domain: must be a DNS name in ASCII, got "bücher.example" (write internationalised names as xn--… A-labels)`,
		"bad_domain_ip.yml":                  `bad_domain_ip.yml:2: targets[0].domain: "192.0.2.1" is an IP address; use host to probe an address`,
		"bad_duplicate_key.yml":              `bad_duplicate_key.yml:5: modules.default.port: duplicate key (first on line 3)`,
		"bad_duplicate_module.yml":           `bad_duplicate_module.yml:4: modules.a: duplicate key (first on line 2)`,
		"bad_duration.yml":                   `bad_duration.yml:3: modules.default.timeout: invalid duration "10 seconds" (use Go durations like 10s, 1m30s)`,
		"bad_duration_list.yml":              `bad_duration_list.yml:3: modules.default.interval: must be a duration like 10s or 1m30s, got a list`,
		"bad_duration_number.yml":            `bad_duration_number.yml:3: modules.default.interval: invalid duration "60" (use Go durations like 10s, 1m30s)`,
		"bad_ehlo.yml":                       `bad_ehlo.yml:3: modules.default.ehlo: must be a host name or an address literal like [192.0.2.1] or [IPv6:2001:db8::1], got "mail_1.example.com"`,
		"bad_ehlo_v6.yml":                    `bad_ehlo_v6.yml:3: modules.default.ehlo: must be a host name or an address literal like [192.0.2.1] or [IPv6:2001:db8::1], got "[2001:db8::1]"`,
		"bad_families_duplicate.yml":         `bad_families_duplicate.yml:3: modules.default.address_families[1]: ipv6 is listed twice`,
		"bad_families_empty.yml":             `bad_families_empty.yml:3: modules.default.address_families: must list ipv4, ipv6 or both`,
		"bad_families_unknown.yml":           `bad_families_unknown.yml:3: modules.default.address_families[1]: must be ipv4 or ipv6, got "ipx"`,
		"bad_ignore_special.yml":             `bad_ignore_special.yml:4: modules.default.ignore_special_addresses: must be true or false, got "on"`,
		"bad_host.yml":                       `bad_host.yml:2: targets[0].host: port must be a number from 1 to 65535, got "smtp" in "mx.example.com:smtp"`,
		"bad_host_port.yml":                  `bad_host_port.yml:2: targets[0].host: port must be a number from 1 to 65535, got "0" in "mx.example.com:0"`,
		"bad_host_v6.yml":                    `bad_host_v6.yml:2: targets[0].host: must be "host", "host:port", an IP address or "[ipv6]:port", got "2001:db8::zz"`,
		"bad_interval_short.yml":             `bad_interval_short.yml:3: modules.default.interval: must be at least 1s, got 500ms`,
		"bad_interval_timeout.yml":           `bad_interval_timeout.yml:3: modules.default.interval: 10s is shorter than the timeout 15s`,
		"bad_key_type.yml":                   `bad_key_type.yml:3: modules.default: keys must be strings, got a list`,
		"bad_list_type.yml":                  `bad_list_type.yml:3: modules.default.recipients: must be a list, got "postmaster@example.com"`,
		"bad_mail_from.yml":                  `bad_mail_from.yml:3: modules.default.mail_from: must be an address like postmaster@example.com without <> (leave it empty for the null sender), got "<>"`,
		"bad_mail_from_domain.yml":           `bad_mail_from_domain.yml:3: modules.default.mail_from: must be an address like postmaster@example.com (leave it empty for the null sender), got "probe@"`,
		"bad_mapping_type.yml":               `bad_mapping_type.yml:2: modules.default: must be a mapping, got "smtp"`,
		"bad_max_addresses.yml":              `bad_max_addresses.yml:3: modules.default.max_addresses_per_host: must be at least 1, got -1`,
		"bad_max_mx_hosts.yml":               `bad_max_mx_hosts.yml:3: modules.default.max_mx_hosts: must be at least 1, got 0`,
		"bad_merge.yml":                      `bad_merge.yml:3: modules.default: merge (<<) needs a mapping or a list of mappings, got "5"`,
		"bad_merge_self.yml":                 `bad_merge_self.yml:2: modules.default: merge (<<) includes the mapping itself`,
		"bad_module_blank.yml":               `bad_module_blank.yml:2: modules." ": module name must not be blank`,
		"bad_module_unknown.yml":             `bad_module_unknown.yml:6: targets[0].module: unknown module "strct" (did you mean "strict"?); known modules: default, strict`,
		"bad_modules_type.yml":               `bad_modules_type.yml:1: modules: must be a mapping, got a list`,
		"bad_port_quoted.yml":                `bad_port_quoted.yml:3: modules.default.port: must be an integer, got "25"`,
		"bad_port_range.yml":                 `bad_port_range.yml:3: modules.default.port: must be between 1 and 65535, got 70000`,
		"bad_port_type.yml":                  `bad_port_type.yml:3: modules.default.port: must be an integer, got "abc"`,
		"bad_recipient.yml":                  `bad_recipient.yml:5: modules.default.recipients[1]: must be an address like postmaster@example.com, got "postmaster"`,
		"bad_recipient_duplicate.yml":        `bad_recipient_duplicate.yml:6: modules.default.recipients[2]: duplicate of recipients[0]`,
		"bad_relay_check.yml":                `bad_relay_check.yml:3: modules.default.relay_check: must be an address like postmaster@example.com without spaces, got "relay test@example.net"`,
		"bad_resolver.yml":                   `bad_resolver.yml:4: dns.resolvers[1]: must be "host", "host:port", an IP address or "[ipv6]:port", got "ns_1.example.net": the host contains '_': a host name has only letters, digits, hyphens and dots`,
		"bad_probe_host.yml":                 `bad_probe_host.yml:3: probe_endpoint.allow.hosts[0]: must be a host name, with * for any part of a label, got "mx[.example.com"`,
		"bad_probe_key.yml":                  `bad_probe_key.yml:2: probe_endpoint.alow: unknown key (did you mean "allow"?)`,
		"bad_probe_network.yml":              `bad_probe_network.yml:3: probe_endpoint.allow.networks[0]: must be a CIDR prefix such as 192.0.2.0/24 or 2001:db8::/32, got "192.0.2.0/33"`,
		"bad_probe_port.yml":                 `bad_probe_port.yml:3: probe_endpoint.allow.ports[0]: must be a port from 1 to 65535, got 0`,
		"bad_resolver_name.yml":              `bad_resolver_name.yml:4: dns.resolvers[1]: must be an IP address, optionally with a port (192.0.2.53, [2001:db8::53]:53), got "ns1.example.net"`,
		"bad_resolver_port.yml":              `bad_resolver_port.yml:2: dns.resolvers[0]: port must be a number from 1 to 65535, got "99999" in "192.0.2.53:99999"`,
		"bad_root_list.yml":                  `bad_root_list.yml:1: must be a mapping, got a list`,
		"bad_server_name.yml":                `bad_server_name.yml:4: modules.default.tls.server_name: must be a host name, got "*.example.com"`,
		"bad_slow_step.yml":                  `bad_slow_step.yml:3: modules.default.slow_step_threshold: must be positive, got 0s`,
		"bad_slow_step_number.yml":           `bad_slow_step_number.yml:3: modules.default.slow_step_threshold: invalid duration "500" (use Go durations like 10s, 1m30s)`,
		"bad_starttls.yml":                   `bad_starttls.yml:3: modules.default.starttls: must be one of off, opportunistic, required, got "sometimes"`,
		"bad_starttls_bool.yml":              `bad_starttls_bool.yml:3: modules.default.starttls: must be one of off, opportunistic, required, got "false"`,
		"bad_string_type.yml":                `bad_string_type.yml:3: modules.default.ehlo: must be a string, got a mapping`,
		"bad_syntax.yml":                     `bad_syntax.yml:2: invalid YAML: did not find expected ',' or ']'`,
		"bad_target_both.yml":                `bad_target_both.yml:2: targets[0]: has both domain and host; a target is one or the other`,
		"bad_target_duplicate.yml":           `bad_target_duplicate.yml:4: targets[2]: same domain "example.com" as targets[0]; a target is probed by one module (its name labels its series)`,
		"bad_target_duplicate_host.yml":      `bad_target_duplicate_host.yml:3: targets[1]: same host "2001:db8::25" as targets[0]; a target is probed by one module (its name labels its series)`,
		"bad_target_empty.yml":               `bad_target_empty.yml:2: targets[0]: needs a domain (to look up its MX hosts) or a host (to probe directly)`,
		"bad_target_interval.yml":            `bad_target_interval.yml:3: targets[0].interval: 10s is shorter than the timeout 15s of module "default"`,
		"bad_target_interval_short.yml":      `bad_target_interval_short.yml:3: targets[0].interval: must be at least 1s, got 100ms`,
		"bad_target_null.yml":                `bad_target_null.yml:2: targets[0]: needs a domain (to look up its MX hosts) or a host (to probe directly)`,
		"bad_target_timeout.yml":             `bad_target_timeout.yml:3: targets[0].timeout: 1m30s is longer than the interval 1m of module "default"`,
		"bad_target_timeout_interval.yml":    `bad_target_timeout_interval.yml:4: targets[0].timeout: 40s is longer than the interval 30s`,
		"bad_target_timeout_zero.yml":        `bad_target_timeout_zero.yml:3: targets[0].timeout: must be positive, got 0s (leave it out to use the module's)`,
		"bad_targets_type.yml":               `bad_targets_type.yml:2: targets: must be a list, got a mapping`,
		"bad_timeout_interval.yml":           `bad_timeout_interval.yml:3: modules.default.timeout: 1m30s is longer than the interval 1m`,
		"bad_timeout_zero.yml":               `bad_timeout_zero.yml:3: modules.default.timeout: must be positive, got 0s`,
		"bad_trust_ad.yml":                   `bad_trust_ad.yml:3: dns.trust_ad: must be true or false, got "yes"`,
		"bad_two_documents.yml":              `bad_two_documents.yml:3: a second YAML document; the config is a single document`,
		"bad_unknown_anchor.yml":             `bad_unknown_anchor.yml:2: invalid YAML: unknown anchor 'base' referenced`,
		"bad_unknown_key.yml":                `bad_unknown_key.yml:3: targets[1].domian: unknown key (did you mean "domain"?)`,
		"bad_unknown_key_far.yml":            `bad_unknown_key_far.yml:3: modules.default.colour: unknown key`,
		"bad_unknown_key_top.yml":            `bad_unknown_key_top.yml:1: target: unknown key (did you mean "targets"?)`,
		"bad_vrfy.yml":                       `bad_vrfy.yml:3: modules.default.vrfy: must be a user name or an address like postmaster@example.com, got "post master"`,
	}
	for file, want := range bad {
		t.Run(file, func(t *testing.T) {
			path := filepath.Join("testdata", file)
			c, err := Load(path)
			if err == nil {
				t.Fatalf("Load(%s) = %+v, want error %s", file, c, want)
			}
			if got := err.Error(); got != "testdata/"+want {
				t.Fatalf("Load(%s):\n got %s\nwant testdata/%s", file, got, want)
			}
			var e *Error
			if !errors.As(err, &e) || e.File != path || e.Line < 1 {
				t.Fatalf("Load(%s): error %#v is not an *Error naming the file and a line", file, err)
			}
		})
	}
	// Every bad file is in the table: a new one without its message fails here.
	files, _ := filepath.Glob("testdata/bad_*.yml")
	if len(files) != len(bad) {
		t.Errorf("%d bad_*.yml files in testdata, the table has %d", len(files), len(bad))
	}
}

func TestParseReportsAllErrors(t *testing.T) {
	const in = `targets:
  - domain: example.com
    module: nope
  - domian: example.org
modules:
  default:
    helo: probe.example.org
    port: 0
    starttls: sometimes
    recipients: [a@example.com, b]
    timeout: soon
dns:
  attempts: 0
`
	_, err := Parse([]byte(in), "mx.yml")
	// Sorted by line. No follow-on error for targets[1] (it has no domain
	// because of the typo) or for the timeout (it stays the default).
	want := strings.Join([]string{
		`mx.yml:3: targets[0].module: unknown module "nope"; known modules: default`,
		`mx.yml:4: targets[1].domian: unknown key (did you mean "domain"?)`,
		`mx.yml:7: modules.default.helo: unknown key (did you mean "ehlo"?)`,
		`mx.yml:8: modules.default.port: must be between 1 and 65535, got 0`,
		`mx.yml:9: modules.default.starttls: must be one of off, opportunistic, required, got "sometimes"`,
		`mx.yml:10: modules.default.recipients[1]: must be an address like postmaster@example.com, got "b"`,
		`mx.yml:11: modules.default.timeout: invalid duration "soon" (use Go durations like 10s, 1m30s)`,
		`mx.yml:13: dns.attempts: must be at least 1, got 0`,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Fatalf("Parse:\n got %v\nwant %s", err, want)
	}
	var es Errors
	if !errors.As(err, &es) || len(es) != 8 || es[2].Path != "modules.default.helo" || es[2].Line != 7 {
		t.Fatalf("Parse: error %#v, want Errors with the fields set", err)
	}
}

func TestParseSyntaxErrorLines(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"targets:\n  - domain: \xffexample.com\n", "mx.yml:2: invalid YAML: invalid leading UTF-8 octet"},
		{"\tfoo", "mx.yml: invalid YAML: found character that cannot start any token"},
		{"a: 1\nb: *x\n", "mx.yml:2: invalid YAML: unknown anchor 'x' referenced"},
		{"targets: []\n---\n", "mx.yml:2: a second YAML document; the config is a single document"},
	} {
		_, err := Parse([]byte(tc.in), "mx.yml")
		if err == nil || err.Error() != tc.want {
			t.Errorf("Parse(%q):\n got %v\nwant %s", tc.in, err, tc.want)
		}
	}
}

func TestParseNormalises(t *testing.T) {
	const in = `
modules:
  default:
    starttls: off      # plain "off" is a string in YAML 1.2
    ehlo: "[IPv6:2001:db8::1]"
    vrfy: postmaster@example.com
targets:
  - host: "[2001:DB8::1]"
  - host: MX.Example.COM.
  - domain: xn--bcher-kva.example
  - host: "[192.0.2.1]"      # an address literal as mail people write it
  - host: "[2001:db8:0::1]:25"
`
	c, err := Parse([]byte(in), "")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if m := c.Modules["default"]; m.StartTLS != StartTLSOff {
		t.Errorf("starttls = %q, want off", m.StartTLS)
	}
	for i, want := range []string{"2001:db8::1", "mx.example.com", "xn--bcher-kva.example", "192.0.2.1", "[2001:db8::1]:25"} {
		if got := c.Targets[i].Name(); got != want {
			t.Errorf("targets[%d].Name() = %q, want %q", i, got, want)
		}
	}
}

func TestErrorFormat(t *testing.T) {
	for _, tc := range []struct {
		e    Error
		want string
	}{
		{Error{File: "mx.yml", Line: 12, Path: "modules.x.port", Msg: "bad"}, "mx.yml:12: modules.x.port: bad"},
		{Error{File: "mx.yml", Line: 3, Msg: "bad"}, "mx.yml:3: bad"},
		{Error{File: "mx.yml", Msg: "bad"}, "mx.yml: bad"},
		{Error{Line: 1, Path: "targets[0]", Msg: "bad"}, "<config>:1: targets[0]: bad"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%#v.Error() = %q, want %q", tc.e, got, tc.want)
		}
	}
	// Module names are the user's: quote the ones that would blur the path.
	_, err := Parse([]byte("modules:\n  a.b:\n    port: 0\n"), "mx.yml")
	if want := `mx.yml:3: modules."a.b".port: must be between 1 and 65535, got 0`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/does-not-exist.yml")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
}

func TestSuggest(t *testing.T) {
	keys := []string{"port", "timeout", "interval", "ehlo", "domain", "max_mx_hosts"}
	for in, want := range map[string]string{
		"domian":     ` (did you mean "domain"?)`,
		"timout":     ` (did you mean "timeout"?)`,
		"Port":       ` (did you mean "port"?)`,
		"helo":       ` (did you mean "ehlo"?)`,
		"max_mxhost": ` (did you mean "max_mx_hosts"?)`,
		"colour":     "",
		"pt":         "",
		"hosts":      "",
	} {
		if got := suggest(in, keys); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}
