package mtasts

import (
	"strings"
	"testing"
)

func TestParseTXT(t *testing.T) {
	for _, tc := range []struct {
		name    string
		records []string
		want    TXT // Detail is checked apart
	}{
		{"none", nil, TXT{}},
		{"only other records", []string{"v=spf1 -all", "google-site-verification=x"}, TXT{}},
		{"valid", []string{"v=STSv1; id=enforce1"}, TXT{Records: 1, Valid: true, ID: "enforce1"}},
		{"valid among others", []string{"v=spf1 -all", "v=STSv1; id=20160831085700Z;"}, TXT{Records: 1, Valid: true, ID: "20160831085700Z"}},
		{"no space, final delimiter with space", []string{"v=STSv1;id=a1; "}, TXT{Records: 1, Valid: true, ID: "a1"}},
		{"space before the delimiter", []string{"v=STSv1 ;\tid=a1"}, TXT{Records: 1, Valid: true, ID: "a1"}},
		{"trailing whitespace", []string{"v=STSv1; id=a1  "}, TXT{Records: 1, Valid: true, ID: "a1"}},
		{"extension fields", []string{"v=STSv1; foo.bar_1-x=some:thing; id=a1; z=1"}, TXT{Records: 1, Valid: true, ID: "a1"}},
		{"id of 32", []string{"v=STSv1; id=" + strings.Repeat("a", 32)}, TXT{Records: 1, Valid: true, ID: strings.Repeat("a", 32)}},
		{"other version ignored", []string{"v=STSv10; id=a1", "v=stsv1; id=a1", "V=STSv1; id=a1"}, TXT{}},
		// duptxt.sts.test
		{"duplicate", []string{"v=STSv1; id=dup1", "v=STSv1; id=dup2"}, TXT{Records: 2, Defect: TXTDuplicate}},
		{"duplicate even when one is broken", []string{"v=STSv1; id=dup1", "v=STSv1"}, TXT{Records: 2, Defect: TXTDuplicate}},
		// noid.sts.test
		{"no id", []string{"v=STSv1;"}, TXT{Records: 1, Defect: TXTNoID}},
		{"bare version", []string{"v=STSv1"}, TXT{Records: 1, Defect: TXTNoID}},
		{"id in upper case is an extension", []string{"v=STSv1; ID=a1"}, TXT{Records: 1, Defect: TXTNoID}},
		{"id too long", []string{"v=STSv1; id=" + strings.Repeat("a", 33)}, TXT{Records: 1, Defect: TXTBadID}},
		{"id empty", []string{"v=STSv1; id="}, TXT{Records: 1, Defect: TXTBadID}},
		{"id with a dash", []string{"v=STSv1; id=2024-01-01"}, TXT{Records: 1, Defect: TXTBadID}},
		{"id with a space", []string{"v=STSv1; id=my id"}, TXT{Records: 1, Defect: TXTBadID}},
		// RFC 8461 section 3.2: every field but mx is used as first given,
		// later entries ignored; the grammar allows a repeated sts-id.
		{"id twice, the first counts", []string{"v=STSv1; id=a1; id=a2"}, TXT{Records: 1, Valid: true, ID: "a1"}},
		{"id twice, the second no id but an extension value", []string{"v=STSv1; id=a1; id=2024-01-01"}, TXT{Records: 1, Valid: true, ID: "a1"}},
		{"id twice, the second no field at all", []string{"v=STSv1; id=a1; id=a b"}, TXT{Records: 1, Defect: TXTSyntax}},
		{"id twice, the second empty", []string{"v=STSv1; id=a1; id="}, TXT{Records: 1, Defect: TXTSyntax}},
		{"id twice, the first invalid", []string{"v=STSv1; id=a-1; id=a2"}, TXT{Records: 1, Defect: TXTBadID}},
		{"no delimiter after version", []string{"v=STSv1 id=a1"}, TXT{Records: 1, Defect: TXTSyntax}},
		{"empty field", []string{"v=STSv1;; id=a1"}, TXT{Records: 1, Defect: TXTSyntax}},
		{"field without =", []string{"v=STSv1; id=a1; junk"}, TXT{Records: 1, Defect: TXTSyntax}},
		{"bad key", []string{"v=STSv1; id=a1; _x=1"}, TXT{Records: 1, Defect: TXTSyntax}},
		{"key too long", []string{"v=STSv1; id=a1; " + strings.Repeat("k", 33) + "=1"}, TXT{Records: 1, Defect: TXTSyntax}},
		{"extension value with =", []string{"v=STSv1; id=a1; x=a=b"}, TXT{Records: 1, Defect: TXTSyntax}},
		{"extension value empty", []string{"v=STSv1; id=a1; x="}, TXT{Records: 1, Defect: TXTSyntax}},
		{"extension value with a control byte", []string{"v=STSv1; id=a1; x=a\x01"}, TXT{Records: 1, Defect: TXTSyntax}},
		{"syntax before the id is the first defect", []string{"v=STSv1; junk; id=a b"}, TXT{Records: 1, Defect: TXTSyntax}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseTXT(tc.records)
			detail := got.Detail
			got.Detail = ""
			if got != tc.want {
				t.Fatalf("ParseTXT(%q) = %+v, want %+v", tc.records, got, tc.want)
			}
			if (detail == "") != (tc.want.Defect == "") {
				t.Fatalf("ParseTXT(%q).Detail = %q, want one exactly when there is a defect", tc.records, detail)
			}
		})
	}
}

func TestParseTXTDetailIsSanitisedAndCapped(t *testing.T) {
	hostile := "v=STSv1; id=\x1b[31m" + strings.Repeat("\xff", 5000)
	got := ParseTXT([]string{hostile})
	if got.Defect != TXTBadID {
		t.Fatalf("Defect = %q, want %q", got.Defect, TXTBadID)
	}
	if len(got.Detail) > 3*maxQuoted+200 {
		t.Fatalf("Detail is %d bytes, want it capped near %d", len(got.Detail), maxQuoted)
	}
	for i := 0; i < len(got.Detail); i++ {
		if c := got.Detail[i]; c < 0x20 || c > 0x7e {
			t.Fatalf("Detail %q has byte %#x, want printable ASCII only", got.Detail, c)
		}
	}
}
