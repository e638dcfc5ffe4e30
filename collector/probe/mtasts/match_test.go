package mtasts

import "testing"

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, host string
		want          bool
	}{
		{"mx.example.com", "mx.example.com", true},
		{"mx.example.com", "MX.Example.COM.", true},
		{"MX.example.com.", "mx.example.com", true},
		{"mx.example.com", "mx2.example.com", false},
		{"mx.example.com", "example.com", false},
		{"*.example.com", "mx.example.com", true},
		{"*.example.com", "MX.EXAMPLE.COM.", true},
		{"*.example.com", "a.b.example.com", false},
		{"*.example.com", "example.com", false},
		{"*.example.com", ".example.com", false},
		{"*.example.com", "mx.example.org", false},
		{"*.example.com", "mxexample.com", false},
		{"*.", "mx.", false},
		{"*", "mx", false},
		{"", "", false},
		{"mx.\u212aexample.com", "mx.kexample.com", false},
		{"*.\u212aexample.com", "mx.kexample.com", false},
	} {
		if got := Match(tc.pattern, tc.host); got != tc.want {
			t.Fatalf("Match(%q, %q) = %v, want %v", tc.pattern, tc.host, got, tc.want)
		}
	}
}

func TestCovering(t *testing.T) {
	p := Policy{MX: []string{"mx1.good.test", "*.good.test", "*.tls.test"}}
	for _, tc := range []struct {
		host, pattern string
		ok            bool
	}{
		{"mx1.good.test", "mx1.good.test", true},
		{"mx2.good.test", "*.good.test", true},
		{"mx.tls.test", "*.tls.test", true},
		{"a.mx.tls.test", "", false},
		{"good.test", "", false},
	} {
		pattern, ok := p.Covering(tc.host)
		if pattern != tc.pattern || ok != tc.ok {
			t.Fatalf("Covering(%q) = %q, %v, want %q, %v", tc.host, pattern, ok, tc.pattern, tc.ok)
		}
	}
	if _, ok := (Policy{}).Covering("mx.test"); ok {
		t.Fatalf("a policy without patterns covers mx.test, want nothing covered")
	}
}
