package probe

import "testing"

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in   string
		want Target
		name string
	}{
		{"example.com", Target{Domain: "example.com"}, "example.com"},
		{"Example.COM.", Target{Domain: "example.com"}, "example.com"},
		{"mx1.example.com:2525", Target{Host: "mx1.example.com", Port: 2525}, "mx1.example.com:2525"},
		{"MX1.Example.com:25", Target{Host: "mx1.example.com", Port: 25}, "mx1.example.com:25"},
		{"192.0.2.1", Target{Host: "192.0.2.1"}, "192.0.2.1"},
		{"[192.0.2.1]", Target{Host: "192.0.2.1"}, "192.0.2.1"},
		{"192.0.2.1:25", Target{Host: "192.0.2.1", Port: 25}, "192.0.2.1:25"},
		{"2001:DB8::1", Target{Host: "2001:db8::1"}, "2001:db8::1"},
		{"[2001:db8::1]", Target{Host: "2001:db8::1"}, "2001:db8::1"},
		{"[2001:db8::1]:25", Target{Host: "2001:db8::1", Port: 25}, "[2001:db8::1]:25"},
	}
	for _, tt := range tests {
		got, err := ParseTarget(tt.in)
		if err != nil || got != tt.want || got.Name() != tt.name {
			t.Errorf("ParseTarget(%q) = %+v (name %q), %v; want %+v (name %q)", tt.in, got, got.Name(), err, tt.want, tt.name)
		}
	}
	for in, want := range map[string]string{
		"":                 `target: must be "host", "host:port", an IP address or "[ipv6]:port", got ""`,
		"mx_1.example.com": `target: must be "host", "host:port", an IP address or "[ipv6]:port", got "mx_1.example.com": the host contains '_': a host name has only letters, digits, hyphens and dots`,
		`x\.allowed.test`:  `target: must be "host", "host:port", an IP address or "[ipv6]:port", got "x\\.allowed.test": the host contains a backslash: DNS escapes such as \. or \046 are not part of a host name`,
		"[ ::1]:25":        `target: "[ ::1]:25" contains whitespace`,
		"mx:0":             `target: port must be a number from 1 to 65535, got "0" in "mx:0"`,
		"mx:99999":         `target: port must be a number from 1 to 65535, got "99999" in "mx:99999"`,
		"mx:smtp":          `target: port must be a number from 1 to 65535, got "smtp" in "mx:smtp"`,
	} {
		if got, err := ParseTarget(in); err == nil || err.Error() != want {
			t.Errorf("ParseTarget(%q) = %+v, %v; want error %s", in, got, err, want)
		}
	}
}
