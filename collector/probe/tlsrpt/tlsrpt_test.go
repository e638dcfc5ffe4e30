package tlsrpt

import (
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name    string
		records []string
		want    Record // Detail is checked apart
	}{
		{"none", nil, Record{}},
		{"others ignored", []string{"v=spf1 -all", "v=TLSRPTv10; rua=mailto:a@b.test", "v=tlsrptv1; rua=mailto:a@b.test"}, Record{}},
		// enforce.sts.test
		{"mailto", []string{"v=TLSRPTv1; rua=mailto:tlsrpt@good.test"},
			Record{Records: 1, Valid: true, RUA: []string{"mailto:tlsrpt@good.test"}}},
		// wildcard.sts.test
		{"https", []string{"v=TLSRPTv1; rua=https://tlsrpt.good.test/v1"},
			Record{Records: 1, Valid: true, RUA: []string{"https://tlsrpt.good.test/v1"}}},
		{"two URIs, spaces, final delimiter, extension", []string{"v=TLSRPTv1 ;rua=mailto:a@b.test , HTTPS://r.test:8443/x?y=1;x-ext=v; "},
			Record{Records: 1, Valid: true, RUA: []string{"mailto:a@b.test", "HTTPS://r.test:8443/x?y=1"}}},
		{"mailto with hfields and encoding", []string{"v=TLSRPTv1; rua=mailto:tls%2Brpt@b.test?subject=x"},
			Record{Records: 1, Valid: true, RUA: []string{"mailto:tls%2Brpt@b.test?subject=x"}}},
		// testing.sts.test
		{"duplicate", []string{"v=TLSRPTv1; rua=mailto:a@b.test", "v=TLSRPTv1; rua=mailto:c@b.test"}, Record{Records: 2, Defect: DefectDuplicate}},
		// uncovered.sts.test
		{"no rua", []string{"v=TLSRPTv1"}, Record{Records: 1, Defect: DefectRUAMissing}},
		{"no rua, delimiter", []string{"v=TLSRPTv1;"}, Record{Records: 1, Defect: DefectRUAMissing}},
		{"rua in upper case is an extension", []string{"v=TLSRPTv1; RUA=mailto:a@b.test"}, Record{Records: 1, Defect: DefectRUAMissing}},
		// none.sts.test
		{"ftp", []string{"v=TLSRPTv1; rua=ftp://tlsrpt.good.test/"}, Record{Records: 1, Defect: DefectRUAInvalid}},
		{"http", []string{"v=TLSRPTv1; rua=http://tlsrpt.good.test/"}, Record{Records: 1, Defect: DefectRUAInvalid}},
		{"empty rua", []string{"v=TLSRPTv1; rua="}, Record{Records: 1, Defect: DefectRUAInvalid}},
		{"empty URI in the list", []string{"v=TLSRPTv1; rua=mailto:a@b.test,"}, Record{Records: 1, Defect: DefectRUAInvalid}},
		{"mailto without address", []string{"v=TLSRPTv1; rua=mailto:"}, Record{Records: 1, Defect: DefectRUAInvalid}},
		{"mailto without domain", []string{"v=TLSRPTv1; rua=mailto:tlsrpt@"}, Record{Records: 1, Defect: DefectRUAInvalid}},
		{"mailto without local part", []string{"v=TLSRPTv1; rua=mailto:@b.test"}, Record{Records: 1, Defect: DefectRUAInvalid}},
		{"bare address", []string{"v=TLSRPTv1; rua=tlsrpt@b.test"}, Record{Records: 1, Defect: DefectRUAInvalid}},
		{"https without host", []string{"v=TLSRPTv1; rua=https:///x"}, Record{Records: 1, Defect: DefectRUAInvalid}},
		{"URI with a space", []string{"v=TLSRPTv1; rua=https://a.test/x y"}, Record{Records: 1, Defect: DefectRUAInvalid}},
		// RFC 8460 section 3: tlsrpt-uri = URI (RFC 3986), with "!" (and ","
		// and ";") encoded; tlsrpt-rua = %s"rua=" tlsrpt-uri, no WSP
		// between.
		{"encoded specials", []string{"v=TLSRPTv1; rua=mailto:a%21b%2Cc%3B@b.test,https://r.test/a%2cb?x=%3B&y=(1)*'~$"},
			Record{Records: 1, Valid: true, RUA: []string{"mailto:a%21b%2Cc%3B@b.test", "https://r.test/a%2cb?x=%3B&y=(1)*'~$"}}},
		{"unencoded !", []string{"v=TLSRPTv1; rua=mailto:tlsrpt@b.test!10m"}, Record{Records: 1, Defect: DefectRUAInvalid}},
		{"unencoded ! in an https path", []string{"v=TLSRPTv1; rua=https://r.test/!x"}, Record{Records: 1, Defect: DefectRUAInvalid}},
		{"character no URI holds", []string{"v=TLSRPTv1; rua=https://r.test/a|b"}, Record{Records: 1, Defect: DefectRUAInvalid}},
		{"character no URI holds, mailto", []string{"v=TLSRPTv1; rua=mailto:a\"b@r.test"}, Record{Records: 1, Defect: DefectRUAInvalid}},
		{"bad percent escape", []string{"v=TLSRPTv1; rua=mailto:a%zz@b.test"}, Record{Records: 1, Defect: DefectRUAInvalid}},
		{"percent at the end", []string{"v=TLSRPTv1; rua=https://r.test/a%2"}, Record{Records: 1, Defect: DefectRUAInvalid}},
		{"space after rua=", []string{"v=TLSRPTv1; rua= mailto:a@b.test"}, Record{Records: 1, Defect: DefectRUAInvalid}},
		{"tab after rua=", []string{"v=TLSRPTv1; rua=\tmailto:a@b.test"}, Record{Records: 1, Defect: DefectRUAInvalid}},
		// RFC 8460 section 3: tlsrpt-record = tlsrpt-version
		// 1*(field-delim tlsrpt-field) and a tlsrpt-field may be a
		// tlsrpt-rua, so a second rua field is grammatical; senders may
		// deliver to each URI.
		{"rua twice", []string{"v=TLSRPTv1; rua=mailto:a@b.test; x=1; rua=mailto:c@b.test,https://r.test/"},
			Record{Records: 1, Valid: true, RUA: []string{"mailto:a@b.test", "mailto:c@b.test", "https://r.test/"}}},
		{"rua twice, the second invalid", []string{"v=TLSRPTv1; rua=mailto:a@b.test; rua=ftp://r.test/"}, Record{Records: 1, Defect: DefectRUAInvalid}},
		{"rua twice, the second empty", []string{"v=TLSRPTv1; rua=mailto:a@b.test; rua="}, Record{Records: 1, Defect: DefectRUAInvalid}},
		{"no delimiter after version", []string{"v=TLSRPTv1 rua=mailto:a@b.test"}, Record{Records: 1, Defect: DefectSyntax}},
		{"field without =", []string{"v=TLSRPTv1; rua=mailto:a@b.test; junk"}, Record{Records: 1, Defect: DefectSyntax}},
		{"empty field", []string{"v=TLSRPTv1;; rua=mailto:a@b.test"}, Record{Records: 1, Defect: DefectSyntax}},
		{"bad extension value", []string{"v=TLSRPTv1; rua=mailto:a@b.test; x=a b"}, Record{Records: 1, Defect: DefectSyntax}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Parse(tc.records)
			if got.Records != tc.want.Records || got.Valid != tc.want.Valid || got.Defect != tc.want.Defect || !slices.Equal(got.RUA, tc.want.RUA) {
				t.Fatalf("Parse(%q) = %+v, want %+v", tc.records, got, tc.want)
			}
			if (got.Detail == "") != (tc.want.Defect == "") {
				t.Fatalf("Parse(%q).Detail = %q, want one exactly when there is a defect", tc.records, got.Detail)
			}
		})
	}
}

func TestParseCaps(t *testing.T) {
	long := "https://r.test/" + strings.Repeat("a", 1000)
	uris := []string{long}
	for range 30 {
		uris = append(uris, "mailto:a@b.test")
	}
	got := Parse([]string{"v=TLSRPTv1; rua=" + strings.Join(uris, ",")})
	if !got.Valid {
		t.Fatalf("Parse of %d valid URIs: %+v, want valid", len(uris), got)
	}
	if len(got.RUA) != MaxRUA {
		t.Fatalf("kept %d URIs, want %d", len(got.RUA), MaxRUA)
	}
	if len(got.RUA[0]) != MaxURIBytes+len("...") || !strings.HasSuffix(got.RUA[0], "...") {
		t.Fatalf("long URI kept as %d bytes %q, want cut at %d and marked", len(got.RUA[0]), got.RUA[0], MaxURIBytes)
	}
	bad := Parse([]string{"v=TLSRPTv1; rua=ftp://\x1b[31m" + strings.Repeat("\xfe", 3000)})
	if bad.Defect != DefectRUAInvalid || len(bad.Detail) > 4*maxQuoted+200 {
		t.Fatalf("hostile record: %+v, want rua_invalid with a capped detail", bad)
	}
	for i := 0; i < len(bad.Detail); i++ {
		if c := bad.Detail[i]; c < 0x20 || c > 0x7e {
			t.Fatalf("Detail %q has byte %#x, want printable ASCII only", bad.Detail, c)
		}
	}
}
