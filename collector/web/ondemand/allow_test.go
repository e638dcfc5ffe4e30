package ondemand

import (
	"testing"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/config"
)

func TestAllowlist(t *testing.T) {
	cfg, err := config.Parse([]byte(`
targets:
  - domain: good.test
  - host: 127.0.1.2:2525
  - host: "[2001:DB8:0::25]:2525"
probe_endpoint:
  allow:
    domains: [example.org]
    hosts: ["mx*.example.net"]
    networks: [192.0.2.0/24, "2001:db8::/32"]
    ports: [587]
`), "allow.yml")
	if err != nil {
		t.Fatal(err)
	}
	a := NewAllowlist(cfg)
	tests := []struct {
		target string
		ok     bool
	}{
		{"good.test", true},             // configured
		{"other.test", false},           // not configured, no suffix
		{"127.0.1.2:2525", true},        // configured host with its port
		{"127.0.1.2:26", false},         // configured host, other port
		{"example.org", true},           // allowed domain
		{"lists.example.org", true},     // subdomain of an allowed domain
		{"badexample.org", false},       // suffix, but not at a label boundary
		{"mx1.example.net:25", true},    // host pattern, module port
		{"mx1.example.net:587", true},   // host pattern, allowed port
		{"mx1.example.net:22", false},   // host pattern, port not allowed
		{"a.mx1.example.net:25", false}, // * does not span a dot
		{"192.0.2.7:25", true},          // in an allowed network
		{"192.0.2.7", true},
		{"198.51.100.7:25", false}, // outside every network
		{"[2001:db8::25]:25", true},
		{"[::1]:25", false},
		{"127.0.0.1:25", false}, // loopback is not allowed unless listed
		// One name per target: however either side spells it.
		{"GOOD.test.", true},
		{"[2001:db8::25]:2525", true},
		{"[2001:db8:0:0::25]:2525", true},
		{"MX1.Example.NET.:25", true},
	}
	for _, tt := range tests {
		target, err := probe.ParseTarget(tt.target)
		if err != nil {
			t.Fatalf("ParseTarget(%q): %v", tt.target, err)
		}
		err = a.Check(target, 25)
		if (err == nil) != tt.ok {
			t.Errorf("Check(%q) = %v, want allowed=%v", tt.target, err, tt.ok)
		}
	}
}

func TestDefaultAllowsOnlyConfiguredTargets(t *testing.T) {
	cfg, err := config.Parse([]byte("targets:\n  - domain: good.test\n"), "default.yml")
	if err != nil {
		t.Fatal(err)
	}
	a := NewAllowlist(cfg)
	for _, s := range []string{"relay.test", "127.0.1.1:25", "127.0.1.1", "[::1]:25", "localhost:25"} {
		target, err := probe.ParseTarget(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Check(target, 25); err == nil {
			t.Errorf("Check(%q) allowed a target that is not configured", s)
		}
	}
}
