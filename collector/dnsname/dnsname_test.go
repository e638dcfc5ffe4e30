package dnsname

import (
	"strings"
	"testing"
)

func TestValid(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"mx1.example.com", true},
		{"MX1.Example.COM", true},
		{"localhost", true},
		{"a-b.c", true},
		{strings.Repeat("a", 63) + ".test", true},
		{strings.Repeat("a", 64) + ".test", false},
		{strings.Repeat("a.", 126) + "a", true}, // 253 bytes
		{strings.Repeat("a.", 127) + "a", false},
		{"", false},
		{"example.com.", false},
		{"-mx.example.com", false},
		{"mx-.example.com", false},
		{"mx..example.com", false},
		{"mx_1.example.com", false},
		{"mx1.example.com evil", false},
		{"m\u00e9l.example", false},
		{"<script>", false},
	}
	for _, tt := range tests {
		if got := Valid(tt.in); got != tt.want {
			t.Errorf("Valid(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"mx1.example.com":   "mx1.example.com",
		"MX1.Example.COM.":  "mx1.example.com",
		"example.com..":     "example.com.", // one dot: a name has at most one root
		".":                 "",
		"":                  "",
		"2001:DB8::1":       "2001:db8::1",
		"Bücher.Example":    "bücher.example",
		"mx1.example.com. ": "mx1.example.com. ", // spaces are the caller's to trim
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEqualFoldASCII(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"", "", true},
		{"mx.example.com", "MX.Example.COM", true},
		{"STARTTLS", "starttls", true},
		{"a-1_.", "A-1_.", true},
		{"mx.example.com", "mx.example.co", false},
		{"mx.example.com", "mx.example.con", false},
		{"\u212aelvin", "kelvin", false}, // the Kelvin sign folds to k in Unicode only
		{"\u212aelvin", "Kelvin", false},
		{"[", "{", false}, // 0x5b and 0x7b differ by the case bit but are no letters
		{"@", "`", false},
	} {
		if got := EqualFoldASCII(tc.a, tc.b); got != tc.want {
			t.Errorf("EqualFoldASCII(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
		if got := EqualFoldASCII(tc.b, tc.a); got != tc.want {
			t.Errorf("EqualFoldASCII(%q, %q) = %v, want %v", tc.b, tc.a, got, tc.want)
		}
	}
}
