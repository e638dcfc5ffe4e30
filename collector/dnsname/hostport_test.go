package dnsname

import (
	"strings"
	"testing"
)

func TestSplitHostPort(t *testing.T) {
	tests := []struct {
		in   string
		host string
		port int
		err  string
	}{
		{in: "mx1.example.com", host: "mx1.example.com"},
		{in: "MX1.Example.COM.", host: "mx1.example.com"},
		{in: "mx1.example.com:2525", host: "mx1.example.com", port: 2525},
		{in: "MX1.Example.COM.:587", host: "mx1.example.com", port: 587},
		{in: "localhost:25", host: "localhost", port: 25},
		{in: "192.0.2.1", host: "192.0.2.1"},
		{in: "192.0.2.1:25", host: "192.0.2.1", port: 25},
		{in: "[192.0.2.1]", host: "192.0.2.1"},
		{in: "[192.0.2.1]:25", host: "192.0.2.1", port: 25},
		{in: "2001:DB8::1", host: "2001:db8::1"},
		{in: "[2001:DB8::1]", host: "2001:db8::1"},
		{in: "[2001:db8::25]:25", host: "2001:db8::25", port: 25},
		{in: "[2001:db8:0::25]:0025", host: "2001:db8::25", port: 25},
		{in: "fe80::1%eth0", host: "fe80::1%eth0"},
		{in: "[fe80::1%eth0]:53", host: "fe80::1%eth0", port: 53},

		{in: "", err: `must be "host", "host:port", an IP address or "[ipv6]:port", got ""`},
		{in: ".", err: `must be "host"`},
		{in: ":25", err: `must be "host"`},
		{in: "mx_1.example.com", err: `must be "host"`},
		{in: "mx_1.example.com:25", err: `must be "host"`},
		{in: " mx1.example.com", err: `must be "host"`},
		{in: "bücher.example", err: `must be "host"`},
		{in: "2001:db8::zz", err: `must be "host", "host:port", an IP address or "[ipv6]:port", got "2001:db8::zz"`},
		{in: "[2001:db8::zz]", err: `must be "host"`},
		{in: "[mx1.example.com]", err: `must be "host"`},
		{in: "mx1.example.com:smtp", err: `port must be a number from 1 to 65535, got "smtp" in "mx1.example.com:smtp"`},
		{in: "mx1.example.com:0", err: `port must be a number from 1 to 65535, got "0" in "mx1.example.com:0"`},
		{in: "mx1.example.com:99999", err: `port must be a number from 1 to 65535, got "99999"`},
		{in: "mx1.example.com:+25", err: `port must be a number from 1 to 65535, got "+25"`},
		{in: "mx1.example.com:-25", err: `port must be a number from 1 to 65535, got "-25"`},
		{in: "mx1.example.com:", err: `port must be a number from 1 to 65535, got ""`},
	}
	for _, tt := range tests {
		host, port, err := SplitHostPort(tt.in)
		if tt.err != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
				t.Errorf("SplitHostPort(%q) = %q, %d, %v; want an error starting %q", tt.in, host, port, err, tt.err)
			}
			continue
		}
		if err != nil || host != tt.host || port != tt.port {
			t.Errorf("SplitHostPort(%q) = %q, %d, %v; want %q, %d", tt.in, host, port, err, tt.host, tt.port)
		}
	}
}

func TestJoinHostPort(t *testing.T) {
	for _, tt := range []struct {
		host string
		port int
		want string
	}{
		{"mx1.example.com", 0, "mx1.example.com"},
		{"mx1.example.com", 587, "mx1.example.com:587"},
		{"192.0.2.1", 0, "192.0.2.1"},
		{"192.0.2.1", 25, "192.0.2.1:25"},
		{"2001:db8::1", 0, "2001:db8::1"},
		{"2001:db8::1", 25, "[2001:db8::1]:25"},
	} {
		if got := JoinHostPort(tt.host, tt.port); got != tt.want {
			t.Errorf("JoinHostPort(%q, %d) = %q, want %q", tt.host, tt.port, got, tt.want)
		}
	}
}

// FuzzSplitHostPort checks that what SplitHostPort accepts has one
// canonical name: JoinHostPort spells it, and reading that spelling again
// gives the same host and port.
func FuzzSplitHostPort(f *testing.F) {
	for _, s := range []string{"mx1.example.com", "MX.Example.COM.:587", "192.0.2.1", "[192.0.2.1]:25",
		"2001:db8::1", "[2001:DB8::1]", "[2001:db8::25]:25", "[fe80::1%eth0]:53", "host:+25", ":25", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		host, port, err := SplitHostPort(s)
		if err != nil {
			return
		}
		if host == "" || port < 0 || port > 65535 {
			t.Fatalf("SplitHostPort(%q) = %q, %d", s, host, port)
		}
		name := JoinHostPort(host, port)
		h2, p2, err := SplitHostPort(name)
		if err != nil || h2 != host || p2 != port {
			t.Fatalf("SplitHostPort(%q) = %q, %d; its name %q reads back as %q, %d, %v", s, host, port, name, h2, p2, err)
		}
	})
}
