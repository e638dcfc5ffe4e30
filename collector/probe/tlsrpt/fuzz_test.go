package tlsrpt

import (
	"slices"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"v=TLSRPTv1; rua=mailto:tlsrpt@good.test", "v=TLSRPTv1; rua=https://tlsrpt.good.test/v1", "v=TLSRPTv1",
		"v=TLSRPTv1; rua=ftp://tlsrpt.good.test/", "v=TLSRPTv1;rua=mailto:a@b.test , https://x.test;x=1;",
		"v=TLSRPTv1; rua=" + strings.Repeat("mailto:a@b.test,", 20) + "https://[::1]:8/", "v=TLSRPTv1; rua=mailto:%40@x", "v=TLSRPTv1; \xff",
	} {
		f.Add(seed, "", false)
		f.Add(seed, "v=TLSRPTv1; rua=mailto:c@d.test", true)
	}
	f.Fuzz(func(t *testing.T, a, b string, two bool) {
		records := []string{a}
		if two {
			records = append(records, b)
		}
		got := Parse(records)
		switch {
		case got.Records == 0:
			if got.Valid || got.Defect != "" || got.Detail != "" || got.RUA != nil {
				t.Fatalf("Parse(%q) = %+v, want nothing for no record", records, got)
			}
		case got.Valid:
			if got.Records != 1 || got.Defect != "" || got.Detail != "" || len(got.RUA) == 0 || len(got.RUA) > MaxRUA {
				t.Fatalf("Parse(%q) = %+v, valid with a defect or without report URIs", records, got)
			}
		default:
			if got.Defect == "" || got.Detail == "" || got.RUA != nil || !slices.Contains(Defects, got.Defect) {
				t.Fatalf("Parse(%q) = %+v, invalid without a known defect and a detail", records, got)
			}
		}
		for _, u := range got.RUA {
			if len(u) > MaxURIBytes+len("...") {
				t.Fatalf("URI of %d bytes kept, want at most %d", len(u), MaxURIBytes)
			}
			printable(t, u)
			if !strings.HasPrefix(strings.ToLower(u), "mailto:") && !strings.HasPrefix(strings.ToLower(u), "https:") {
				t.Fatalf("URI %q kept, want mailto: or https: only", u)
			}
		}
		if len(got.Detail) > 1500 {
			t.Fatalf("Detail of %d bytes, want it capped", len(got.Detail))
		}
		printable(t, got.Detail)
	})
}

func printable(t *testing.T, s string) {
	t.Helper()
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			t.Fatalf("%q has byte %#x, want printable ASCII only", s, c)
		}
	}
}
