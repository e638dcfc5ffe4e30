package wiring

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dane"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsbl"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/mtasts"
	"github.com/mx-exporter/mx_exporter/collector/scheduler"
	"github.com/mx-exporter/mx_exporter/collector/store"
	"github.com/mx-exporter/mx_exporter/collector/testenv"
	"github.com/mx-exporter/mx_exporter/collector/testenv/testcert"
	"github.com/mx-exporter/mx_exporter/config"
)

// TestJobsName: a configured target has one name, however the file spells
// it, and the store key, the scheduler, the report and /probe all use it.
func TestJobsName(t *testing.T) {
	cfg, err := config.Parse([]byte(`
modules:
  submission: {port: 587}
targets:
  - domain: Example.COM.
  - host: MX1.Example.NET.:2525
  - host: "[2001:DB8:0::25]:25"
  - host: "[192.0.2.25]"
    module: submission
`), "wiring.yml")
	if err != nil {
		t.Fatal(err)
	}
	settings, err := Settings(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := Jobs(cfg, settings)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name, module string
		target       probe.Target
	}{
		{"example.com", "default", probe.Target{Domain: "example.com"}},
		{"mx1.example.net:2525", "default", probe.Target{Host: "mx1.example.net", Port: 2525}},
		{"[2001:db8::25]:25", "default", probe.Target{Host: "2001:db8::25", Port: 25}},
		{"192.0.2.25", "submission", probe.Target{Host: "192.0.2.25"}},
	}
	if len(jobs) != len(want) {
		t.Fatalf("%d jobs, want %d", len(jobs), len(want))
	}
	for i, w := range want {
		j := jobs[i]
		if j.Name != w.name || j.Target != w.target || j.Target.Name() != w.name || cfg.Targets[i].Name() != w.name ||
			j.Module != w.module || j.Key != store.Key(w.name, w.module) {
			t.Errorf("jobs[%d] = name %q, target %+v (named %q), module %q, config name %q; want %q, %+v, %q",
				i, j.Name, j.Target, j.Target.Name(), j.Module, cfg.Targets[i].Name(), w.name, w.target, w.module)
		}
		if target, err := probe.ParseTarget(w.name); err != nil || (target.Host != "" && target != w.target) {
			t.Errorf("ParseTarget(%q) = %+v, %v; want %+v: /probe would not find the configured target", w.name, target, err, w.target)
		}
	}
}

// TestDANEModes: the config spells the engine's DANE modes on its own (it
// imports no engine package); ModuleSettings converts by value, so the two
// lists must be the same words.
func TestDANEModes(t *testing.T) {
	configModes := []string{config.DANEEnforce, config.DANEReport, config.DANEOff}
	var engineModes []string
	for _, m := range dane.Modes {
		engineModes = append(engineModes, string(m))
	}
	if !slices.Equal(configModes, engineModes) {
		t.Fatalf("config's DANE modes %v, the engine's %v", configModes, engineModes)
	}
}

// TestModuleSettingsDANE: each module's dane key becomes its settings'
// DANE mode, enforce when the module sets none ("" would be off).
func TestModuleSettingsDANE(t *testing.T) {
	cfg, err := config.Parse([]byte(`
modules:
  report: {dane: report}
  off: {dane: off}
  enforce: {dane: enforce}
`), "wiring.yml")
	if err != nil {
		t.Fatal(err)
	}
	settings, err := Settings(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for module, want := range map[string]dane.Mode{
		"default": dane.ModeEnforce,
		"report":  dane.ModeReport,
		"off":     dane.ModeOff,
		"enforce": dane.ModeEnforce,
	} {
		if got := settings[module].DANE; got != want {
			t.Errorf("module %s: DANE %q, want %q", module, got, want)
		}
	}
}

// TestMTASTSModes: the config spells the engine's MTA-STS modes on its own
// (it imports no engine package); ModuleSettings converts by value, so the
// two lists must be the same words.
func TestMTASTSModes(t *testing.T) {
	configModes := []string{config.MTASTSEnforce, config.MTASTSReport, config.MTASTSOff}
	var engineModes []string
	for _, m := range mtasts.Modes {
		engineModes = append(engineModes, string(m))
	}
	if !slices.Equal(configModes, engineModes) {
		t.Fatalf("config's MTA-STS modes %v, the engine's %v", configModes, engineModes)
	}
}

// TestModuleSettingsMTASTS: each module's mta_sts and mta_sts_refresh keys
// become its settings, enforce and one hour when the module sets none (""
// would be off, 0 a fetch at every probe).
func TestModuleSettingsMTASTS(t *testing.T) {
	cfg, err := config.Parse([]byte(`
modules:
  report: {mta_sts: report, mta_sts_refresh: 10m}
  off: {mta_sts: off}
  enforce: {mta_sts: enforce, mta_sts_refresh: 24h}
targets:
  - domain: example.com
    module: report
`), "wiring.yml")
	if err != nil {
		t.Fatal(err)
	}
	settings, err := Settings(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for module, want := range map[string]struct {
		mode    mtasts.Mode
		refresh time.Duration
	}{
		"default": {mtasts.ModeEnforce, time.Hour},
		"report":  {mtasts.ModeReport, 10 * time.Minute},
		"off":     {mtasts.ModeOff, time.Hour},
		"enforce": {mtasts.ModeEnforce, 24 * time.Hour},
	} {
		if got := settings[module]; got.MTASTS != want.mode || got.MTASTSRefresh != want.refresh {
			t.Errorf("module %s: MTASTS %q, refresh %v; want %q, %v", module, got.MTASTS, got.MTASTSRefresh, want.mode, want.refresh)
		}
	}
	jobs, err := Jobs(cfg, settings)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || jobs[0].Settings.MTASTS != mtasts.ModeReport || jobs[0].Settings.MTASTSRefresh != 10*time.Minute {
		t.Fatalf("the job of module report: want MTASTS report, refresh 10m, got %+v", jobs)
	}
}

// TestModuleSettingsPolicyFetchTimeout: a shared policy fetch is bounded
// by the module's timeout, not by the target's, which Jobs puts in
// Timeout for the probe itself.
func TestModuleSettingsPolicyFetchTimeout(t *testing.T) {
	jobs := jobsOf(t, `
modules:
  slow: {timeout: 20s}
targets:
  - domain: example.com
    module: slow
    timeout: 5s
`)
	if len(jobs) != 1 || jobs[0].Settings.Timeout != 5*time.Second || jobs[0].Settings.MTASTSFetchTimeout != 20*time.Second {
		t.Fatalf("jobs %+v: want Timeout 5s (the target's) and MTASTSFetchTimeout 20s (the module's)", jobs)
	}
}

// TestJobsFingerprintMTASTS: a reload that changes a module's MTA-STS keys
// changes its jobs' fingerprints, so that the scheduler runs them with the
// new settings.
func TestJobsFingerprintMTASTS(t *testing.T) {
	fingerprint := func(module string) string {
		t.Helper()
		jobs := jobsOf(t, "modules: {default: "+module+"}\ntargets: [{domain: example.com}]\n")
		return jobs[0].Fingerprint
	}
	base := fingerprint("{}")
	if fingerprint("{mta_sts: enforce, mta_sts_refresh: 1h}") != base {
		t.Errorf("the defaults spelled out changed the fingerprint")
	}
	for _, m := range []string{"{mta_sts: report}", "{mta_sts: off}", "{mta_sts_refresh: 2h}"} {
		if fingerprint(m) == base {
			t.Errorf("module %s: same fingerprint as the defaults", m)
		}
	}
}

// TestResolverValidation: dns.trust_ad makes the resolver believe the AD
// bit once its servers answer validation_check_name with it, and the name
// is the configured one. Against the test environment's real servers: the
// validating unbound, whose only trust anchor is dnssec.test., and nsd,
// which is authoritative and validates nothing.
func TestResolverValidation(t *testing.T) {
	env := testenv.Require(t)
	tests := []struct {
		name string
		dns  string
		want dnsmx.Validation // Err and Checked not compared
	}{
		{"trusted validating resolver", fmt.Sprintf("dns: {resolvers: [%q], trust_ad: true, validation_check_name: DNSSEC.test.}", env.ValidatingResolver),
			dnsmx.Validation{Trusted: true, Validating: true, CheckName: "dnssec.test"}},
		{"trusted resolver that does not validate", fmt.Sprintf("dns: {resolvers: [%q], trust_ad: true, validation_check_name: dnssec.test}", env.Resolver),
			dnsmx.Validation{Trusted: true, Validating: false, CheckName: "dnssec.test"}},
		// Without trust_ad nothing is asked and nothing believed, even
		// of a resolver that validates.
		{"untrusted", fmt.Sprintf("dns: {resolvers: [%q], validation_check_name: dnssec.test}", env.ValidatingResolver),
			dnsmx.Validation{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte(tt.dns), "wiring.yml")
			if err != nil {
				t.Fatal(err)
			}
			r, err := Resolver(cfg.DNS)
			if err != nil {
				t.Fatal(err)
			}
			if servers := r.Servers(); !slices.Equal(servers, cfg.DNS.Resolvers) {
				t.Fatalf("servers %v, want %v", servers, cfg.DNS.Resolvers)
			}
			v := r.Validation(context.Background())
			if v.Trusted != tt.want.Trusted || v.Validating != tt.want.Validating || v.CheckName != tt.want.CheckName {
				t.Fatalf("validation %+v, want trusted %v, validating %v, check name %q",
					v, tt.want.Trusted, tt.want.Validating, tt.want.CheckName)
			}
			if tt.want.Trusted && !tt.want.Validating && v.Err == "" {
				t.Fatalf("validation %+v: not validating, and no word why", v)
			}
		})
	}
}

// TestJobsFingerprintDNSSEC: a reload that turns trust_ad on or changes the
// self-check name changes every job, so that no DANE verdict taken under
// the old trust is kept as the new config's last result.
func TestJobsFingerprintDNSSEC(t *testing.T) {
	fingerprint := func(dns string) string {
		t.Helper()
		jobs := jobsOf(t, dns+"targets: [{domain: example.com}]\n")
		return jobs[0].Fingerprint
	}
	base := fingerprint("dns: {resolvers: [127.0.0.1]}\n")
	for _, dns := range []string{
		"dns: {resolvers: [127.0.0.1], trust_ad: true}\n",
		"dns: {resolvers: [127.0.0.1], validation_check_name: example.com}\n",
		"dns: {resolvers: [127.0.0.1]}\nmodules: {default: {dane: report}}\n",
	} {
		if fingerprint(dns) == base {
			t.Errorf("%q: the job's fingerprint is the one without it", dns)
		}
	}
}

// TestModuleSettingsDetail: each module's pipelining and metrics become its
// settings, off when the module sets none; a change of them is a new job
// (the next probe's report asks what the new config says).
func TestModuleSettingsDetail(t *testing.T) {
	const text = `
modules:
  piped: {pipelining: true}
  detailed: {metrics: {all_extensions: true, enhanced_status: true, all_steps: true}}
  steps: {metrics: {all_steps: true}}
targets:
  - domain: example.com
    module: detailed
`
	cfg, err := config.Parse([]byte(text), "wiring.yml")
	if err != nil {
		t.Fatal(err)
	}
	settings, err := Settings(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for module, want := range map[string]struct {
		pipelining bool
		detail     probe.Detail
	}{
		"default":  {},
		"piped":    {pipelining: true},
		"detailed": {detail: probe.Detail{AllExtensions: true, EnhancedStatus: true, AllSteps: true}},
		"steps":    {detail: probe.Detail{AllSteps: true}},
	} {
		s := settings[module]
		if s.SMTP.Pipelining != want.pipelining || s.Detail != want.detail {
			t.Errorf("module %s: Pipelining %v, Detail %+v; want %v, %+v", module, s.SMTP.Pipelining, s.Detail, want.pipelining, want.detail)
		}
	}
	jobs, err := Jobs(cfg, settings)
	if err != nil {
		t.Fatal(err)
	}
	cfg2, err := config.Parse([]byte(strings.Replace(text, "enhanced_status: true", "enhanced_status: false", 1)), "wiring.yml")
	if err != nil {
		t.Fatal(err)
	}
	settings2, err := Settings(cfg2, nil)
	if err != nil {
		t.Fatal(err)
	}
	jobs2, err := Jobs(cfg2, settings2)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || len(jobs2) != 1 || jobs[0].Fingerprint == jobs2[0].Fingerprint {
		t.Errorf("metrics.enhanced_status changed, the job's fingerprint did not")
	}
}

// TestModuleSettingsReverseDNS: each module's reverse_dns becomes its
// settings, on when the module sets none.
func TestModuleSettingsReverseDNS(t *testing.T) {
	cfg, err := config.Parse([]byte(`
modules:
  quiet: {reverse_dns: false}
  loud: {reverse_dns: true}
targets:
  - domain: example.com
    module: quiet
`), "wiring.yml")
	if err != nil {
		t.Fatal(err)
	}
	settings, err := Settings(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for module, want := range map[string]bool{"default": true, "quiet": false, "loud": true} {
		if got := settings[module].ReverseDNS; got != want {
			t.Errorf("module %s: ReverseDNS %v, want %v", module, got, want)
		}
	}
	jobs, err := Jobs(cfg, settings)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || jobs[0].Settings.ReverseDNS {
		t.Fatalf("the job of module quiet: want ReverseDNS false, got %+v", jobs)
	}
}

// TestSettingsDNSBLZones: the dnsbl section is global, like dns: every
// module gets the same zones, the address zones as KindAddress and the
// domain zones as KindDomain, in config order and normalised as the config
// left them; none configured is none looked up.
func TestSettingsDNSBLZones(t *testing.T) {
	cfg, err := config.Parse([]byte(`
dnsbl:
  zones: [BL.test., zen.example.org]
  domain_zones: [dbl.test]
modules:
  other: {reverse_dns: false}
targets:
  - domain: example.com
    module: other
`), "wiring.yml")
	if err != nil {
		t.Fatal(err)
	}
	settings, err := Settings(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []dnsbl.Zone{
		{Name: "bl.test", Kind: dnsbl.KindAddress},
		{Name: "zen.example.org", Kind: dnsbl.KindAddress},
		{Name: "dbl.test", Kind: dnsbl.KindDomain},
	}
	for _, module := range []string{"default", "other"} {
		if got := settings[module].DNSBLZones; !slices.Equal(got, want) {
			t.Errorf("module %s: DNSBLZones %+v, want %+v", module, got, want)
		}
	}
	jobs, err := Jobs(cfg, settings)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || !slices.Equal(jobs[0].Settings.DNSBLZones, want) {
		t.Fatalf("the job: want DNSBLZones %+v, got %+v", want, jobs)
	}

	none, err := config.Parse([]byte("dnsbl: {cache_ttl: 1h}\n"), "wiring.yml")
	if err != nil {
		t.Fatal(err)
	}
	settings, err = Settings(none, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := settings["default"].DNSBLZones; got != nil {
		t.Fatalf("no zones configured: DNSBLZones %+v, want none", got)
	}
	if got := DNSBLZones(config.DNSBL{DomainZones: []string{"dbl.test"}}); !slices.Equal(got, []dnsbl.Zone{{Name: "dbl.test", Kind: dnsbl.KindDomain}}) {
		t.Fatalf("domain zones only: %+v", got)
	}
}

// TestJobsFingerprintDNSBL: a reload that changes the zones changes every
// job, so that no listing of a zone the new config dropped is kept as a
// job's last result; the cache and health intervals are the daemon's
// checker's, not the jobs', and leave them alone.
func TestJobsFingerprintDNSBL(t *testing.T) {
	fingerprint := func(section string) string {
		t.Helper()
		jobs := jobsOf(t, section+"targets: [{domain: example.com}]\n")
		return jobs[0].Fingerprint
	}
	base := fingerprint("dnsbl: {zones: [bl.test]}\n")
	for _, same := range []string{
		"dnsbl: {zones: [BL.Test.]}\n",
		"dnsbl: {zones: [bl.test], cache_ttl: 1h, health_interval: 2h}\n",
		"dnsbl: {zones: [bl.test], domain_zones: []}\n",
	} {
		if fingerprint(same) != base {
			t.Errorf("%q: the job's fingerprint changed", same)
		}
	}
	for _, other := range []string{
		"",
		"dnsbl: {zones: [bl.test, zen.example.org]}\n",
		"dnsbl: {zones: [zen.example.org]}\n",
		"dnsbl: {domain_zones: [bl.test]}\n",
		"dnsbl: {zones: [bl.test], domain_zones: [dbl.test]}\n",
		"dnsbl: {zones: [bl.test]}\nmodules: {default: {reverse_dns: false}}\n",
	} {
		if fingerprint(other) == base {
			t.Errorf("%q: the job's fingerprint is the one without it", other)
		}
	}
}

// TestDNSBLZoneRules: the config checks zone names with rules of its own
// (it imports no engine package); a zone it accepts must be one dnsbl can
// ask every query and health check in, and the lengths where the two refuse
// must be the same.
func TestDNSBLZoneRules(t *testing.T) {
	names := []string{
		"bl.test", "Zen.Example.ORG.", "abcdefghijklmnopqrstuvwxyz.zen.dq.example.net", "bl", "xn--bcher-kva.example",
		"bad_zone.test", "bl..test", "", ".", "-bl.test", "127.0.0.2",
		nameOfLen(189), nameOfLen(190), nameOfLen(245), nameOfLen(246),
	}
	for _, name := range names {
		for _, kind := range []dnsbl.Kind{dnsbl.KindAddress, dnsbl.KindDomain} {
			canonical, err := config.ParseDNSBLZone(name, kind == dnsbl.KindAddress)
			if err != nil {
				continue
			}
			if engineErr := dnsbl.CheckZone(dnsbl.Zone{Name: canonical, Kind: kind}); engineErr != nil {
				t.Errorf("%s zone %q: the config accepts it as %q, dnsbl refuses it: %v", kind, name, canonical, engineErr)
			}
		}
	}
	for _, tt := range []struct {
		kind    dnsbl.Kind
		longest int
	}{{dnsbl.KindAddress, config.MaxDNSBLAddressZoneLen}, {dnsbl.KindDomain, config.MaxDNSBLDomainZoneLen}} {
		if err := dnsbl.CheckZone(dnsbl.Zone{Name: nameOfLen(tt.longest), Kind: tt.kind}); err != nil {
			t.Errorf("%s zone of %d characters, the config's longest: dnsbl refuses it: %v", tt.kind, tt.longest, err)
		}
		if err := dnsbl.CheckZone(dnsbl.Zone{Name: nameOfLen(tt.longest + 1), Kind: tt.kind}); err == nil {
			t.Errorf("%s zone of %d characters, one more than the config's longest: dnsbl takes it", tt.kind, tt.longest+1)
		}
	}
}

// nameOfLen is a valid host name of n characters: labels of at most 63.
func nameOfLen(n int) string {
	var b strings.Builder
	for rest := n; rest > 0; {
		l := min(63, rest)
		if rest-l == 1 {
			l-- // the dot after it would leave no room for a label
		}
		b.WriteString(strings.Repeat("a", l))
		if rest -= l; rest > 0 {
			b.WriteByte('.')
			rest--
		}
	}
	return b.String()
}

// TestModuleSettingsRootCAsID: the MTA-STS policy cache tells modules'
// trust apart by RootCAsID: the same CA file gives the same identity, in
// two modules and in two config loads; another file, or the same file with
// other content, another; no CA file none (the system roots).
func TestModuleSettingsRootCAsID(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.pem"), filepath.Join(dir, "b.pem")
	writeCA := func(path, name string) {
		t.Helper()
		ca := testcert.New(testcert.Options{CommonName: name, CA: true}, nil)
		if err := os.WriteFile(path, ca.CertPEM(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeCA(a, "CA a")
	writeCA(b, "CA b")
	load := func() map[string]probe.Settings {
		t.Helper()
		cfg, err := config.Parse([]byte(`
modules:
  a1: {tls: {ca_file: a.pem}}
  a2: {tls: {ca_file: a.pem}}
  b: {tls: {ca_file: b.pem}}
`), filepath.Join(dir, "wiring.yml"))
		if err != nil {
			t.Fatal(err)
		}
		settings, err := Settings(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return settings
	}
	first := load()
	id := func(s map[string]probe.Settings, module string) string { return s[module].RootCAsID }
	if id(first, "default") != "" || id(first, "a1") == "" || id(first, "a1") != id(first, "a2") || id(first, "a1") == id(first, "b") {
		t.Fatalf("RootCAsID default %q, a1 %q, a2 %q, b %q; want none, then a1 = a2 != b",
			id(first, "default"), id(first, "a1"), id(first, "a2"), id(first, "b"))
	}
	if again := load(); id(again, "a1") != id(first, "a1") {
		t.Fatalf("RootCAsID of a1 %q after another load, want %q as before", id(again, "a1"), id(first, "a1"))
	}
	writeCA(a, "CA a, renewed")
	if renewed := load(); id(renewed, "a1") == id(first, "a1") {
		t.Fatalf("RootCAsID of a1 %q after a.pem changed, want another than before", id(renewed, "a1"))
	}
}

// jobsOf parses text as a config file and makes its jobs, failing the test
// on any error.
func jobsOf(t *testing.T, text string) []scheduler.Job {
	t.Helper()
	cfg, err := config.Parse([]byte(text), "wiring.yml")
	if err != nil {
		t.Fatal(err)
	}
	settings, err := Settings(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := Jobs(cfg, settings)
	if err != nil {
		t.Fatal(err)
	}
	return jobs
}
