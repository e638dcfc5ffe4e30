package rdns

import (
	"fmt"
	"slices"
	"testing"
)

func TestCompareNames(t *testing.T) {
	tests := []struct {
		name       string
		mx         string
		ptr        []string
		banner     string
		ehlo       string
		mismatches []Pair
		detail     string
	}{
		{"all agree", "mx1.good.test", []string{"mx1.good.test"}, "mx1.good.test", "mx1.good.test",
			nil, "banner, EHLO, MX and PTR agree on mx1.good.test"},
		// Case and the trailing dot of a fully qualified name are no
		// difference (RFC 4343).
		{"case and trailing dots", "MX1.Good.Test.", []string{"mx1.GOOD.test."}, "Mx1.Good.Test", "mx1.good.test.",
			nil, "banner, EHLO, MX and PTR agree on mx1.good.test"},
		// The relay.test scenario: the greeting and the MX name say one
		// thing, the PTR another; grouped rather than said per pair.
		{"banner and MX against PTR", "mx.relay.test", []string{"mail.other.test"}, "mx.relay.test", "",
			[]Pair{PairBannerPTR, PairPTRMX}, "banner and MX say mx.relay.test, PTR says mail.other.test"},
		{"banner against PTR and MX", "mail.other.test", []string{"mail.other.test"}, "mx.relay.test", "",
			[]Pair{PairBannerPTR, PairBannerMX}, "banner says mx.relay.test, MX and PTR say mail.other.test"},
		{"MX against banner and PTR", "mx.relay.test", []string{"mail.other.test"}, "mail.other.test", "",
			[]Pair{PairBannerMX, PairPTRMX}, "banner and PTR say mail.other.test, MX says mx.relay.test"},
		{"all differ", "mx.a.test", []string{"ptr.b.test"}, "banner.c.test", "ehlo.d.test",
			[]Pair{PairBannerPTR, PairBannerMX, PairPTRMX, PairEHLOBanner},
			"banner says banner.c.test, EHLO says ehlo.d.test, MX says mx.a.test, PTR says ptr.b.test"},
		{"EHLO against banner only", "mx1.good.test", []string{"mx1.good.test"}, "mx1.good.test", "other.good.test",
			[]Pair{PairEHLOBanner}, "banner says mx1.good.test, EHLO says other.good.test"},
		// A name agrees with the PTR names when it is one of them.
		{"one of several PTR names", "mx.multi.test", []string{"www.multi.test", "MX.multi.test"}, "mx.multi.test", "",
			nil, "banner, MX and PTR agree on mx.multi.test"},
		{"none of several PTR names", "mx.multi.test", []string{"www.multi.test", "web.multi.test"}, "mx.multi.test", "",
			[]Pair{PairBannerPTR, PairPTRMX}, "banner and MX say mx.multi.test, PTR says www.multi.test and web.multi.test"},
		{"PTR names repeated", "mx.multi.test", []string{"www.multi.test", "WWW.multi.test."}, "", "",
			[]Pair{PairPTRMX}, "MX says mx.multi.test, PTR says www.multi.test"},
		// Pairs are compared only when both sides are present.
		{"no PTR", "mx.relay.test", nil, "mx.relay.test", "", nil, "banner and MX agree on mx.relay.test"},
		{"no PTR, banner differs", "mx.relay.test", nil, "other.relay.test", "",
			[]Pair{PairBannerMX}, "banner says other.relay.test, MX says mx.relay.test"},
		{"no banner", "mx1.good.test", []string{"mx1.good.test"}, "", "", nil, "MX and PTR agree on mx1.good.test"},
		{"no banner, PTR differs", "mx1.good.test", []string{"mail.other.test"}, "", "",
			[]Pair{PairPTRMX}, "MX says mx1.good.test, PTR says mail.other.test"},
		// An IP target has no MX name.
		{"no MX", "", []string{"mail.other.test"}, "mx.relay.test", "",
			[]Pair{PairBannerPTR}, "banner says mx.relay.test, PTR says mail.other.test"},
		{"no MX, agree", "", []string{"mail.other.test"}, "mail.other.test", "", nil, "banner and PTR agree on mail.other.test"},
		// EHLO is compared with the greeting only.
		{"EHLO without banner", "mx1.good.test", nil, "", "other.test", nil, ""},
		{"EHLO without banner, PTR", "mx1.good.test", []string{"mx1.good.test"}, "", "other.test", nil, "MX and PTR agree on mx1.good.test"},
		{"nothing to compare", "mx1.good.test", nil, "", "", nil, ""},
		{"nothing at all", "", nil, "", "", nil, ""},
		// Names that are not host names are remote text: treated as missing.
		{"banner not a host name", "mx1.good.test", []string{"mx1.good.test"}, "mx1.good.test\x1b[31m", "", nil, "MX and PTR agree on mx1.good.test"},
		{"invalid PTR names", "mx1.good.test", []string{"bad_name.test", "", "."}, "mx1.good.test", "", nil, "banner and MX agree on mx1.good.test"},
		{"IP literal banner", "mx1.good.test", nil, "[127.0.0.1]", "", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := CompareNames(tc.mx, tc.ptr, tc.banner, tc.ehlo)
			if !slices.Equal(n.Mismatches, tc.mismatches) || n.Agree != (len(tc.mismatches) == 0) {
				t.Fatalf("CompareNames(%q, %q, %q, %q)\nwant mismatches %v agree=%v\ngot  %v agree=%v",
					tc.mx, tc.ptr, tc.banner, tc.ehlo, tc.mismatches, len(tc.mismatches) == 0, n.Mismatches, n.Agree)
			}
			if n.Detail != tc.detail {
				t.Fatalf("CompareNames(%q, %q, %q, %q)\nwant detail %q\ngot         %q", tc.mx, tc.ptr, tc.banner, tc.ehlo, tc.detail, n.Detail)
			}
		})
	}
}

// TestCompareNamesKeepsNormalised: the names of the result are the one
// form of each (lower case, no trailing dot), valid host names only.
func TestCompareNamesKeepsNormalised(t *testing.T) {
	n := CompareNames("MX.Relay.Test.", []string{"Mail.Other.Test.", "bad_name.test", "mail.other.test"}, " MX.relay.test ", "Bad Name")
	got := fmt.Sprintf("mx=%q ptr=%q banner=%q ehlo=%q", n.MX, n.PTR, n.Banner, n.EHLO)
	if want := `mx="mx.relay.test" ptr=["mail.other.test"] banner="mx.relay.test" ehlo=""`; got != want {
		t.Fatalf("want %s\ngot  %s", want, got)
	}
}

// TestComparePairs: every pair, alone, agreeing and disagreeing, in the
// order of Pairs.
func TestComparePairs(t *testing.T) {
	for _, p := range Pairs {
		var mx, banner, ehlo string
		var ptr []string
		switch p {
		case PairBannerPTR:
			banner, ptr = "a.test", []string{"b.test"}
		case PairBannerMX:
			banner, mx = "a.test", "b.test"
		case PairPTRMX:
			mx, ptr = "a.test", []string{"b.test"}
		case PairEHLOBanner:
			ehlo, banner = "a.test", "b.test"
		}
		if n := CompareNames(mx, ptr, banner, ehlo); !slices.Equal(n.Mismatches, []Pair{p}) || n.Agree {
			t.Fatalf("%s disagreeing alone: want mismatches [%s], got %v agree=%v", p, p, n.Mismatches, n.Agree)
		}
		// The same names made to agree.
		same := func(s string) string {
			if s == "" {
				return ""
			}
			return "a.test"
		}
		if ptr != nil {
			ptr = []string{"a.test"}
		}
		if n := CompareNames(same(mx), ptr, same(banner), same(ehlo)); len(n.Mismatches) != 0 || !n.Agree {
			t.Fatalf("%s agreeing alone: want no mismatch, got %v agree=%v", p, n.Mismatches, n.Agree)
		}
	}
}
