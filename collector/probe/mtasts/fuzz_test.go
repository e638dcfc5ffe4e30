package mtasts

import (
	"slices"
	"strings"
	"testing"
)

func FuzzParseTXT(f *testing.F) {
	for _, seed := range []string{
		"v=STSv1; id=enforce1", "v=STSv1;", "v=STSv1", "v=STSv1; id=a1; id=a2", "v=STSv1 ;id=x; ext=1;",
		"v=STSv10; id=x", "v=STSv1; id=" + strings.Repeat("z", 40), "v=STSv1;;", "v=STSv1; \xff=\x00",
	} {
		f.Add(seed, "", false)
		f.Add(seed, "v=STSv1; id=dup2", true)
	}
	f.Fuzz(func(t *testing.T, a, b string, two bool) {
		records := []string{a}
		if two {
			records = append(records, b)
		}
		got := ParseTXT(records)
		want := 0
		for _, r := range records {
			if strings.HasPrefix(r, "v=STSv1") {
				if len(r) == 7 || r[7] == ';' || r[7] == ' ' || r[7] == '\t' {
					want++
				}
			}
		}
		if got.Records != want {
			t.Fatalf("ParseTXT(%q).Records = %d, want %d", records, got.Records, want)
		}
		switch {
		case got.Records == 0:
			if got.Valid || got.Defect != "" || got.Detail != "" || got.ID != "" {
				t.Fatalf("ParseTXT(%q) = %+v, want nothing for no record", records, got)
			}
		case got.Valid:
			if got.Records != 1 || got.Defect != "" || got.Detail != "" || !validID(got.ID) {
				t.Fatalf("ParseTXT(%q) = %+v, valid with a defect or a bad id", records, got)
			}
		default:
			if got.Defect == "" || got.Detail == "" || got.ID != "" || !slices.Contains(TXTDefects, got.Defect) {
				t.Fatalf("ParseTXT(%q) = %+v, invalid without a known defect and a detail", records, got)
			}
		}
		checkDetail(t, got.Detail)
	})
}

// checkDetail fails when a Detail carries other bytes than printable ASCII
// or grows with the remote text.
func checkDetail(t *testing.T, detail string) {
	t.Helper()
	if len(detail) > 1500 {
		t.Fatalf("Detail of %d bytes, want it capped: %q", len(detail), detail)
	}
	for i := 0; i < len(detail); i++ {
		if c := detail[i]; c < 0x20 || c > 0x7e {
			t.Fatalf("Detail %q has byte %#x, want printable ASCII only", detail, c)
		}
	}
}

func FuzzParsePolicy(f *testing.F) {
	for _, seed := range []string{
		validEnforce,
		"version: STSv1\r\nmode: testing\r\nmx: *.good.test\r\nmax_age: 86400",
		"version: STSv1\nmode: none\nmax_age: 86400\n",
		"version: STSv1\nmode: enforcing\nmax_age: 604800\nmx: mx1.good.test\nthis is not a key value line\n",
		"version: STSv1\nmode: enforce\nmx: mx1.good.test\nmax_age: 99999999\n",
		"version: STSv1\nmode: enforce\nmx: MX.\u212aelvin.test.\nmx: *.*.x\nmax_age: 0000000001\n\n\n",
		"<html></html>", "", "\n", "a:\tb \t\r\nc: \xff\x00",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, defects := ParsePolicy(body)
		// Each defect once, in the order of Defects, none of the caller's.
		last := -1
		fatal := false
		for _, d := range defects {
			i := slices.Index(Defects, d)
			if i <= last {
				t.Fatalf("defects %v: %q unknown, repeated or out of order", defects, d)
			}
			last = i
			if d == DefectContentType || d == DefectChangedUnderID {
				t.Fatalf("defects %v: %q is the caller's", defects, d)
			}
			fatal = fatal || d.Fatal()
		}
		if p.Version != "" && p.Version != "STSv1" {
			t.Fatalf("Version %q, want STSv1 or nothing", p.Version)
		}
		if p.Mode != "" && !slices.Contains(PolicyModes, p.Mode) {
			t.Fatalf("Mode %q, want a known mode or nothing", p.Mode)
		}
		if p.MaxAge < -1 || p.MaxAge > MaxAgeLimit {
			t.Fatalf("MaxAge %d, want -1 or 0..%d", p.MaxAge, MaxAgeLimit)
		}
		if len(p.MX) > MaxMXPatterns {
			t.Fatalf("%d patterns kept, want at most %d", len(p.MX), MaxMXPatterns)
		}
		for i, pattern := range p.MX {
			if norm, ok := mxPattern(pattern); !ok || norm != pattern {
				t.Fatalf("pattern %q is not a valid pattern in canonical form", pattern)
			}
			if slices.Contains(p.MX[:i], pattern) {
				t.Fatalf("pattern %q kept twice", pattern)
			}
			if host := strings.TrimPrefix(pattern, "*."); host == pattern && !Match(pattern, host) {
				t.Fatalf("pattern %q does not match itself", pattern)
			} else if host != pattern && !Match(pattern, "x."+host) {
				t.Fatalf("pattern %q does not match x.%s", pattern, host)
			}
		}
		if !fatal && (p.Version != "STSv1" || p.Mode == "" || p.MaxAge < 0 || len(p.MX) == 0 && p.Mode != PolicyNone) {
			t.Fatalf("ParsePolicy(%q) = %+v with defects %v: usable without the required fields", body, p, defects)
		}
	})
}
