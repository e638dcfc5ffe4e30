package config

import (
	"strings"
	"testing"
)

// wrongTypedTargets is a config whose targets list has n items of the
// wrong type (scalars where mappings belong): n decode errors, and n
// targets left at their defaults for the validator.
func wrongTypedTargets(n int) []byte {
	var b strings.Builder
	b.WriteString("targets:\n")
	for range n {
		b.WriteString("  - 5\n")
	}
	return []byte(b.String())
}

// BenchmarkLoadErrors parses a flood of wrong-typed list items. Before the
// failed-path index each validator error scanned every decode error.
func BenchmarkLoadErrors(b *testing.B) {
	data := wrongTypedTargets(100_000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data, "flood.yml"); err == nil {
			b.Fatal("no error")
		}
	}
}
