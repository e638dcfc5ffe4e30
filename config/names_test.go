package config

import (
	"strings"
	"testing"
)

// Targets in the config are read as /probe reads them (dnsname.SplitTarget):
// what either accepts is a plain host name or an IP address.
func TestTargetNames(t *testing.T) {
	long := strings.Repeat("a.", 127) + "test"
	for in, want := range map[string]string{
		`host: 'x\.allowed.test:25'`:                   `targets[0].host: must be "host", "host:port", an IP address or "[ipv6]:port", got "x\\.allowed.test:25": the host contains a backslash`,
		`host: "[ ::1]:25"`:                            `targets[0].host: "[ ::1]:25" contains whitespace`,
		`host: "[fe80::1%eth0]:25"`:                    `targets[0].host: "[fe80::1%eth0]:25" names an IPv6 zone (%eth0)`,
		`host: "127.1:25"`:                             `targets[0].host: "127.1:25" is neither an IP address nor a host name`,
		`domain: 'x\.allowed.test'`:                    `targets[0].domain: must be a DNS name like example.com, got "x\\.allowed.test": it contains a backslash`,
		`domain: "127.1"`:                              `targets[0].domain: must be a DNS name like example.com, got "127.1": its last label is all digits`,
		`domain: "a.test\t"`:                           `targets[0].domain: must be a DNS name like example.com, got "a.test\t": it contains whitespace`,
		"domain: " + long:                              `targets[0].domain: must be a DNS name like example.com, got "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.": it is 258 octets long; a host name has at most 253`,
		"host: " + long + ":25":                        `targets[0].host: is 261 bytes long; a target is a host name of at most 253 octets`,
		"domain: " + strings.Repeat("a", 64) + ".test": `has a label of 64 octets; a label has at most 63`,
	} {
		_, err := Parse([]byte("targets:\n  - "+in+"\n"), "names.yml")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v\nwant an error with %s", in, err, want)
		}
	}
}

func TestResolvedAddresses(t *testing.T) {
	for in, want := range map[string]string{
		"":                                   ResolvedPublic,
		"    resolved_addresses: public\n":   ResolvedPublic,
		"    resolved_addresses: networks\n": ResolvedNetworks,
		"    resolved_addresses: any\n":      ResolvedAny,
	} {
		c, err := Parse([]byte("probe_endpoint:\n  allow:\n    domains: [example.org]\n"+in), "resolved.yml")
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if got := c.ProbeEndpoint.Allow.ResolvedAddresses; got != want {
			t.Errorf("%q: resolved_addresses %q, want %q", in, got, want)
		}
	}
	_, err := Parse([]byte("probe_endpoint:\n  allow:\n    resolved_addresses: private\n"), "resolved.yml")
	if want := `resolved.yml:3: probe_endpoint.allow.resolved_addresses: must be public, networks or any, got "private"`; err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}
