package testenv

import (
	"fmt"
	"strings"
	"time"
)

// Module is one module of a test config (see Env.Config). Zero fields take
// the defaults.
type Module struct {
	Name       string        // "default" when empty
	Recipients []string      // RCPT TO mailboxes; default [MailboxOK]
	Interval   time.Duration // default 2s
	Timeout    time.Duration // default 2s
}

// Config renders an mx_exporter config file that probes these test servers:
// the test nsd as the only resolver and, in each module, the EHLO name
// probe.mx-exporter.test, the recipients, RelayAddress as the relay check,
// the test CA as tls.ca_file, and ignore_special_addresses (every test
// server is on loopback, which a real MX must not be). No modules means one
// default module. rest, the targets: or probe_endpoint: sections, is
// appended as it is. Every test that writes such a config uses this one, so
// that a change of the config format or of the test servers is made here.
func (e *Env) Config(modules []Module, rest string) string {
	return e.config(fmt.Sprintf("dns:\n  resolvers: [%q]\n", e.Resolver), modules, rest)
}

// ValidatingConfig is Config with the validating unbound as the only
// resolver, trusted (dns.trust_ad) and self-checked on the signed zone
// dnssec.test, so that DNSSEC states and DANE verdicts are judged as a
// deployment with a local validating resolver would judge them. unbound
// asks nsd for every name under test., so every scenario of Config
// resolves through it as well.
func (e *Env) ValidatingConfig(modules []Module, rest string) string {
	return e.config(fmt.Sprintf("dns:\n  resolvers: [%q]\n  trust_ad: true\n  validation_check_name: dnssec.test\n", e.ValidatingResolver), modules, rest)
}

func (e *Env) config(dns string, modules []Module, rest string) string {
	if len(modules) == 0 {
		modules = []Module{{}}
	}
	var b strings.Builder
	b.WriteString(dns)
	b.WriteString("modules:\n")
	for _, m := range modules {
		if m.Name == "" {
			m.Name = "default"
		}
		if len(m.Recipients) == 0 {
			m.Recipients = []string{e.MailboxOK}
		}
		if m.Interval == 0 {
			m.Interval = 2 * time.Second
		}
		if m.Timeout == 0 {
			m.Timeout = 2 * time.Second
		}
		quoted := make([]string, len(m.Recipients))
		for i, r := range m.Recipients {
			quoted[i] = fmt.Sprintf("%q", r)
		}
		fmt.Fprintf(&b, "  %s:\n", m.Name)
		fmt.Fprintf(&b, "    ehlo: probe.mx-exporter.test\n")
		fmt.Fprintf(&b, "    interval: %s\n", m.Interval)
		fmt.Fprintf(&b, "    timeout: %s\n", m.Timeout)
		fmt.Fprintf(&b, "    recipients: [%s]\n", strings.Join(quoted, ", "))
		fmt.Fprintf(&b, "    relay_check: %q\n", e.RelayAddress)
		fmt.Fprintf(&b, "    ignore_special_addresses: true\n")
		fmt.Fprintf(&b, "    tls:\n      ca_file: %q\n", e.CAFile)
	}
	b.WriteString(rest)
	return b.String()
}
