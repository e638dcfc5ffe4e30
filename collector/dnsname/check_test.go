package dnsname

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestCheckHost(t *testing.T) {
	tests := []struct{ in, err string }{
		{"mx1.example.com", ""},
		{strings.Repeat("a.", 126) + "a", ""}, // 253 octets
		{"", "is empty"},
		{strings.Repeat("a.", 127) + "a", "is 255 octets long; a host name has at most 253"},
		{strings.Repeat("a", 64) + ".test", "has a label of 64 octets; a label has at most 63"},
		{`x\.allowed.test`, `contains a backslash`},
		{`x\046allowed.test`, `contains a backslash`},
		{" mx.test", "contains whitespace"},
		{"mx.test\n", "contains whitespace"},
		{"mx\u00a0.test", "contains whitespace"},
		{"bücher.test", "is not ASCII"},
		{"a..test", "has an empty label"},
		{"-a.test", `has the label "-a", which begins or ends with a hyphen`},
		{"a_b.test", `contains '_'`},
		{"a*b.test", `contains '*'`},
	}
	for _, tt := range tests {
		err := CheckHost(tt.in)
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("CheckHost(%q) = %v, want nil", tt.in, err)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("CheckHost(%q) = %v, want an error with %q", tt.in, err, tt.err)
		}
		if (err == nil) != Valid(tt.in) {
			t.Errorf("CheckHost(%q) and Valid disagree", tt.in)
		}
	}
}

func TestCheckQueryName(t *testing.T) {
	tests := []struct{ in, err string }{
		{".", ""},
		{"mx1.example.com.", ""},
		{"mx1.example.com", ""},
		{"_25._tcp.mx1.example.com.", ""},
		{"_mta-sts.example.com.", ""},
		{"4.3.2.1.in-addr.arpa.", ""},
		{"1.0/25.2.0.192.in-addr.arpa.", ""}, // RFC 2317 classless delegation
		{strings.Repeat("a.", 126) + "a.", ""},
		{"", "empty name"},
		{"..", "empty label"},
		{strings.Repeat("a.", 127) + "a.", "name of 255 octets"},
		{strings.Repeat("a", 64) + ".test.", "label of 64 octets"},
		{`x\.allowed.test.`, "backslash"},
		{`x\046allowed.test.`, "backslash"},
		{" mx.test.", `contains ' '`},
		{"mx.test\t.", `contains '\t'`},
		{"mx\x00.test.", `contains '\x00'`},
		{"bücher.test.", "not ASCII"},
	}
	for _, tt := range tests {
		err := CheckQueryName(tt.in)
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("CheckQueryName(%q) = %v, want nil", tt.in, err)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("CheckQueryName(%q) = %v, want an error with %q", tt.in, err, tt.err)
		}
	}
}

func TestSplitTarget(t *testing.T) {
	tests := []struct {
		in   string
		host string
		port int
		err  string
	}{
		{in: "allowed.test", host: "allowed.test"},
		{in: "MX.Allowed.Test.:2525", host: "mx.allowed.test", port: 2525},
		{in: "[::1]:25", host: "::1", port: 25},
		{in: "127.0.0.1", host: "127.0.0.1"},
		{in: "[192.0.2.1]:25", host: "192.0.2.1", port: 25},
		{in: strings.Repeat("a.", 126) + "a.:65535", host: strings.Repeat("a.", 126) + "a", port: 65535},

		{in: `x\.allowed.test`, err: "contains a backslash"},
		{in: `x\.allowed.test:25`, err: "contains a backslash"},
		{in: "[ ::1]:25", err: "contains whitespace"},
		{in: " allowed.test", err: "contains whitespace"},
		{in: "allowed.test ", err: "contains whitespace"},
		{in: "allowed.test\r\n", err: "contains whitespace"},
		{in: "allowed .test", err: "contains whitespace"},
		{in: "[fe80::1%eth0]:25", err: "names an IPv6 zone (%eth0)"},
		{in: "fe80::1%eth0", err: "names an IPv6 zone"},
		{in: "127.1", err: "neither an IP address nor a host name"},
		{in: "0x7f.1:25", err: "neither an IP address nor a host name"},
		{in: "123", err: "neither an IP address nor a host name"},
		{in: strings.Repeat("a.", 127) + "a", err: "the host is 255 octets long; a host name has at most 253"},
		{in: strings.Repeat("a", 64) + ".test", err: "has a label of 64 octets"},
		{in: strings.Repeat("a", 900_000), err: "is 900000 bytes long; a target is a host name of at most 253 octets"},
		{in: "a_b.test", err: `contains '_'`},
	}
	for _, tt := range tests {
		host, port, err := SplitTarget(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("SplitTarget(%.40q) = %q, %d, %v; want an error with %q", tt.in, host, port, err, tt.err)
			}
			if err != nil && len(err.Error()) > 300 {
				t.Errorf("SplitTarget(%.40q): an error of %d bytes; it must not echo the whole input", tt.in, len(err.Error()))
			}
			continue
		}
		if err != nil || host != tt.host || port != tt.port {
			t.Errorf("SplitTarget(%q) = %q, %d, %v; want %q, %d", tt.in, host, port, err, tt.host, tt.port)
		}
	}
}

// wireLabels packs name into a DNS question as miekg/dns does for the
// resolver and reads the labels back from the wire, unescaped.
func wireLabels(t *testing.T, name string) []string {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), dns.TypeMX)
	wire, err := q.Pack()
	if err != nil {
		t.Fatalf("packing %q: %v", name, err)
	}
	var labels []string
	for off := 12; wire[off] != 0; off += 1 + int(wire[off]) {
		labels = append(labels, string(wire[off+1:off+1+int(wire[off])]))
	}
	return labels
}

// FuzzSplitTarget holds the property the allow-list relies on: a target
// SplitTarget accepts is a name the resolver asks label for label as it was
// read, or an address; and the check before the query accepts it.
func FuzzSplitTarget(f *testing.F) {
	for _, s := range []string{"allowed.test", `x\.allowed.test`, "[ ::1]:25", "mx.allowed.test:25", "[::1]:25",
		"127.0.0.1", `x\046allowed.test`, "A.B.", "fe80::1%lo", "127.1", "a.b.c:0025"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		host, port, err := SplitTarget(s)
		if err != nil {
			return
		}
		if port < 0 || port > 65535 {
			t.Fatalf("SplitTarget(%q): port %d", s, port)
		}
		if a, err := netip.ParseAddr(host); err == nil {
			if a.Zone() != "" || a.String() != host {
				t.Fatalf("SplitTarget(%q): address %q not canonical", s, host)
			}
			return
		}
		if !Valid(host) || host != Normalize(host) {
			t.Fatalf("SplitTarget(%q) = %q: not a canonical host name", s, host)
		}
		if err := CheckQueryName(host); err != nil {
			t.Fatalf("SplitTarget(%q) = %q, which CheckQueryName refuses: %v", s, host, err)
		}
		if got, want := wireLabels(t, host), strings.Split(host, "."); !slices.Equal(got, want) {
			t.Fatalf("SplitTarget(%q) = %q, asked as labels %q", s, host, got)
		}
	})
}

// FuzzCheckQueryName: a name CheckQueryName accepts goes on the wire as the
// labels it reads.
func FuzzCheckQueryName(f *testing.F) {
	for _, s := range []string{".", "a.b.", `x\.a.test.`, "_25._tcp.mx.test.", "1.0/25.2.0.192.in-addr.arpa.", `a\000.b`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if CheckQueryName(s) != nil || s == "." {
			return
		}
		if got, want := wireLabels(t, s), strings.Split(strings.TrimSuffix(s, "."), "."); !slices.Equal(got, want) {
			t.Fatalf("CheckQueryName accepted %q, asked as labels %q", s, got)
		}
	})
}
