package ondemand

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/testenv"
	"github.com/mx-exporter/mx_exporter/config"
)

func TestDialAllowed(t *testing.T) {
	const base = `
targets:
  - domain: configured.test
probe_endpoint:
  allow:
    domains: [allowed.test]
    hosts: ["mx*.allowed.test"]
    networks: [10.1.0.0/16, "2001:db8::/32"]
`
	type check struct {
		addr string
		want string // "" when dialled, else a part of the refusal
	}
	tests := []struct {
		resolved string
		target   string
		checks   []check // nil: no check at all, every address is dialled
	}{
		{"", "allowed.test", []check{
			{"192.0.2.1", "special-purpose address (documentation)"},
			{"8.8.8.8", ""},
			{"2a00:1450::1", ""},
			{"127.0.0.1", "127.0.0.1 is a special-purpose address (loopback) outside probe_endpoint.allow.networks (resolved_addresses: public)"},
			{"::1", "(loopback)"},
			{"10.0.0.1", "(private)"},
			{"10.1.2.3", ""}, // private, but listed
			{"::ffff:10.1.2.3", ""},
			{"::ffff:127.0.0.1", "(ipv4_mapped)"},
			{"169.254.169.254", "(link_local)"},
			{"2001:db8::25", ""},
		}},
		{"", "mx1.allowed.test:25", []check{{"127.0.0.1", "(loopback)"}, {"8.8.8.8", ""}}},
		{"networks", "allowed.test", []check{
			{"8.8.8.8", "8.8.8.8 is outside probe_endpoint.allow.networks (resolved_addresses: networks)"},
			{"127.0.0.1", "outside probe_endpoint.allow.networks"},
			{"10.1.2.3", ""},
		}},
		{"any", "allowed.test", nil},
		{"", "configured.test", nil}, // the operator named it
		{"", "10.1.2.3:25", nil},     // an address: Check judged it
	}
	for _, tt := range tests {
		text := base
		if tt.resolved != "" {
			text += "    resolved_addresses: " + tt.resolved + "\n"
		}
		cfg, err := config.Parse([]byte(text), "resolved.yml")
		if err != nil {
			t.Fatal(err)
		}
		a := NewAllowlist(cfg)
		target, err := probe.ParseTarget(tt.target)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Check(target, 25); err != nil {
			t.Fatalf("%s: %v", tt.target, err)
		}
		allowed := a.DialAllowed(target)
		if tt.checks == nil {
			if allowed != nil {
				t.Errorf("%s %s: want no address check", tt.resolved, tt.target)
			}
			continue
		}
		if allowed == nil {
			t.Fatalf("%s %s: no address check", tt.resolved, tt.target)
		}
		for _, c := range tt.checks {
			err := allowed(netip.MustParseAddr(c.addr))
			switch {
			case c.want == "" && err != nil:
				t.Errorf("%s %s: %s refused: %v", tt.resolved, tt.target, c.addr, err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("%s %s: %s: got %v, want a refusal with %q", tt.resolved, tt.target, c.addr, err, c.want)
			}
		}
	}
}

// By default /probe does not dial the loopback address an allowed
// domain's MX record points at, and says why; listed in allow.networks, the
// address is dialled. Against the real test servers: relay.test's MX is
// mx.relay.test, 127.0.1.3.
func TestProbeDialsResolvedAddressesAsConfigured(t *testing.T) {
	env := testenv.Require(t)
	const modules = `modules:
  default:
    ehlo: probe.mx-exporter.test
    timeout: 5s
probe_endpoint:
  allow:
    domains: [relay.test]
`
	refused := newHandler(t, env, modules)
	code, body := get(t, refused, "target=relay.test", nil)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	for _, want := range []string{
		`mx_probe_failure_info{domain="relay.test",ip="127.0.1.3",mx="mx.relay.test",reason="address_not_allowed"} 1`,
		`mx_target_success{domain="relay.test"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Fatalf("default: the answer lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(body, `mx_smtp_reply_code{command="banner",domain="relay.test",ip="127.0.1.3",mx="mx.relay.test"} 220`) {
		t.Fatalf("default: a dialogue took place:\n%s", body)
	}
	_, debug := get(t, refused, "target=relay.test&debug=true", nil)
	if want := "not dialled: 127.0.1.3 is a special-purpose address (loopback) outside probe_endpoint.allow.networks"; !strings.Contains(debug, want) {
		t.Fatalf("debug answer lacks %q:\n%s", want, debug)
	}

	dialled := newHandler(t, env, modules+"    networks: [127.0.1.0/24]\n")
	code, body = get(t, dialled, "target=relay.test", nil)
	if code != http.StatusOK || !strings.Contains(body, `mx_smtp_reply_code{command="banner",domain="relay.test",ip="127.0.1.3",mx="mx.relay.test"} 220`) {
		t.Fatalf("with the network listed: status %d, want a dialogue:\n%s", code, body)
	}
	if strings.Contains(body, "address_not_allowed") {
		t.Fatalf("with the network listed, the address was refused:\n%s", body)
	}
}
