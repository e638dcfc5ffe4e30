package testenv

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/testenv/testcert"
	"github.com/mx-exporter/mx_exporter/config"
)

// TestConfigLoads: what Config renders is a config the daemon loads, with
// the test servers' facts in every module.
func TestConfigLoads(t *testing.T) {
	caFile := filepath.Join(t.TempDir(), "a dir", "ca.pem")
	if err := os.MkdirAll(filepath.Dir(caFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(caFile, testcert.New(testcert.Options{CommonName: "test CA", CA: true}, nil).CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	env := &Env{Resolver: ResolverAddr, CAFile: caFile, MailboxOK: MailboxOK, RelayAddress: RelayAddress}
	text := env.Config([]Module{
		{},
		{Name: "patient", Recipients: []string{"postmaster@relay.test", "x@good.test"}, Interval: 6 * time.Second, Timeout: 5 * time.Second},
	}, "targets:\n  - domain: good.test\n  - domain: relay.test\n    module: patient\n")
	cfg, err := config.Parse([]byte(text), "rendered")
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if !slices.Equal(cfg.DNS.Resolvers, []string{ResolverAddr}) || len(cfg.Targets) != 2 || len(cfg.Modules) != 2 {
		t.Fatalf("resolvers %v, %d targets, %d modules\n%s", cfg.DNS.Resolvers, len(cfg.Targets), len(cfg.Modules), text)
	}
	for name, want := range map[string]struct {
		recipients        []string
		interval, timeout time.Duration
	}{
		"default": {[]string{MailboxOK}, 2 * time.Second, 2 * time.Second},
		"patient": {[]string{"postmaster@relay.test", "x@good.test"}, 6 * time.Second, 5 * time.Second},
	} {
		m := cfg.Modules[name]
		if m == nil {
			t.Fatalf("no module %s\n%s", name, text)
		}
		if !slices.Equal(m.Recipients, want.recipients) || m.Interval != want.interval || m.Timeout != want.timeout {
			t.Errorf("%s: recipients %v, interval %v, timeout %v; want %v, %v, %v", name, m.Recipients, m.Interval, m.Timeout, want.recipients, want.interval, want.timeout)
		}
		if m.RelayCheck != RelayAddress || m.TLS.CAFile != env.CAFile || !m.IgnoreSpecialAddresses || m.EHLO != "probe.mx-exporter.test" {
			t.Errorf("%s: relay_check %q, ca_file %q, ignore_special_addresses %v, ehlo %q", name, m.RelayCheck, m.TLS.CAFile, m.IgnoreSpecialAddresses, m.EHLO)
		}
	}
}
