package mtasts

import (
	"slices"
	"strings"
	"testing"
)

const validEnforce = "version: STSv1\nmode: enforce\nmx: mx1.good.test\nmx: mx.tls.test\nmax_age: 604800\n"

func TestParsePolicy(t *testing.T) {
	for _, tc := range []struct {
		name    string
		body    string
		want    Policy
		defects []Defect
	}{
		{"enforce", validEnforce,
			Policy{Version: "STSv1", Mode: PolicyEnforce, MaxAge: 604800, MX: []string{"mx1.good.test", "mx.tls.test"}}, nil},
		{"CRLF, no final line end", "version: STSv1\r\nmode: testing\r\nmx: *.good.test\r\nmax_age: 86400",
			Policy{Version: "STSv1", Mode: PolicyTesting, MaxAge: 86400, MX: []string{"*.good.test"}}, nil},
		{"mixed line ends, tabs after the colon, trailing WSP", "version:\tSTSv1 \nmode:  enforce\t\r\nmx:mx1.good.test\nmax_age: 1209600\r\n",
			Policy{Version: "STSv1", Mode: PolicyEnforce, MaxAge: 1209600, MX: []string{"mx1.good.test"}}, nil},
		{"empty lines at the end tolerated", validEnforce + "\n\r\n",
			Policy{Version: "STSv1", Mode: PolicyEnforce, MaxAge: 604800, MX: []string{"mx1.good.test", "mx.tls.test"}}, nil},
		{"mx normalised and deduplicated", "version: STSv1\nmode: enforce\nmx: MX1.Good.Test.\nmx: mx1.good.test\nmax_age: 604800\n",
			Policy{Version: "STSv1", Mode: PolicyEnforce, MaxAge: 604800, MX: []string{"mx1.good.test"}}, nil},
		{"unknown keys ignored", "version: STSv1\nmode: enforce\nfoo.bar_1-x: anything, ünïcode: ok\nMode: none\nmx: a.test\nmax_age: 604800\n",
			Policy{Version: "STSv1", Mode: PolicyEnforce, MaxAge: 604800, MX: []string{"a.test"}}, nil},
		{"first value wins", "version: STSv1\nmode: testing\nmode: enforce\nmode: garbage\nmax_age: 86400\nmax_age: x\nversion: STSv2\nmx: a.test\n",
			Policy{Version: "STSv1", Mode: PolicyTesting, MaxAge: 86400, MX: []string{"a.test"}}, nil},
		// none.sts.test
		{"none without mx", "version: STSv1\nmode: none\nmax_age: 86400\n",
			Policy{Version: "STSv1", Mode: PolicyNone, MaxAge: 86400}, nil},
		{"max_age 0 and the limit", "version: STSv1\nmode: testing\nmx: a.test\nmax_age: 0000000000\n",
			Policy{Version: "STSv1", Mode: PolicyTesting, MaxAge: 0, MX: []string{"a.test"}}, nil},
		{"max_age at the limit", "version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 31557600\n",
			Policy{Version: "STSv1", Mode: PolicyEnforce, MaxAge: 31557600, MX: []string{"a.test"}}, nil},
		// syntax.sts.test
		{"syntax scenario", "version: STSv1\nmode: enforcing\nmax_age: 604800\nmx: mx1.good.test\nthis is not a key value line\n",
			Policy{Version: "STSv1", MaxAge: 604800, MX: []string{"mx1.good.test"}},
			[]Defect{DefectModeInvalid, DefectLineInvalid}},
		// maxage.sts.test
		{"max_age too large", "version: STSv1\nmode: enforce\nmx: mx1.good.test\nmax_age: 99999999\n",
			Policy{Version: "STSv1", Mode: PolicyEnforce, MaxAge: -1, MX: []string{"mx1.good.test"}},
			[]Defect{DefectMaxAgeInvalid}},
		{"max_age of 11 digits", "version: STSv1\nmode: testing\nmx: a.test\nmax_age: 00000000001\n",
			Policy{Version: "STSv1", Mode: PolicyTesting, MaxAge: -1, MX: []string{"a.test"}}, []Defect{DefectMaxAgeInvalid}},
		{"max_age signed", "version: STSv1\nmode: testing\nmx: a.test\nmax_age: +86400\n",
			Policy{Version: "STSv1", Mode: PolicyTesting, MaxAge: -1, MX: []string{"a.test"}}, []Defect{DefectMaxAgeInvalid}},
		{"max_age short in enforce", "version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 86400\n",
			Policy{Version: "STSv1", Mode: PolicyEnforce, MaxAge: 86400, MX: []string{"a.test"}}, []Defect{DefectMaxAgeShort}},
		{"empty body", "",
			Policy{MaxAge: -1}, []Defect{DefectVersionMissing, DefectModeMissing, DefectMaxAgeMissing, DefectMXMissing}},
		{"version invalid", "version: STSv2\nmode: none\nmax_age: 1\n",
			Policy{Mode: PolicyNone, MaxAge: 1}, []Defect{DefectVersionInvalid}},
		{"version in lower case", "version: stsv1\nmode: none\nmax_age: 1\n",
			Policy{Mode: PolicyNone, MaxAge: 1}, []Defect{DefectVersionInvalid}},
		{"empty value of a known key", "version: STSv1\nmode:\nmax_age: 1\n",
			Policy{Version: "STSv1", MaxAge: 1}, []Defect{DefectModeInvalid, DefectMXMissing}},
		{"mx invalid and dropped", "version: STSv1\nmode: enforce\nmx: a.test\nmx: *.*.test\nmx: a_b.test\nmx: *\nmx: mx.\u212aelvin.test\nmax_age: 604800\n",
			Policy{Version: "STSv1", Mode: PolicyEnforce, MaxAge: 604800, MX: []string{"a.test"}}, []Defect{DefectMXInvalid}},
		{"only invalid mx", "version: STSv1\nmode: testing\nmx: -bad.test\nmax_age: 604800\n",
			Policy{Version: "STSv1", Mode: PolicyTesting, MaxAge: 604800}, []Defect{DefectMXInvalid}},
		{"leading whitespace", validEnforce + " foo: bar\n",
			Policy{Version: "STSv1", Mode: PolicyEnforce, MaxAge: 604800, MX: []string{"mx1.good.test", "mx.tls.test"}}, []Defect{DefectLineInvalid}},
		{"space before the colon", "version: STSv1\nmode : enforce\nmx: a.test\nmax_age: 604800\n",
			Policy{Version: "STSv1", MaxAge: 604800, MX: []string{"a.test"}}, []Defect{DefectModeMissing, DefectLineInvalid}},
		{"empty line in the middle", "version: STSv1\n\nmode: enforce\nmx: a.test\nmax_age: 604800\n",
			Policy{Version: "STSv1", Mode: PolicyEnforce, MaxAge: 604800, MX: []string{"a.test"}}, []Defect{DefectLineInvalid}},
		{"unknown key without value", validEnforce + "foo:\n",
			Policy{Version: "STSv1", Mode: PolicyEnforce, MaxAge: 604800, MX: []string{"mx1.good.test", "mx.tls.test"}}, []Defect{DefectLineInvalid}},
		{"unknown key with a control byte", validEnforce + "foo: a\x01b\n",
			Policy{Version: "STSv1", Mode: PolicyEnforce, MaxAge: 604800, MX: []string{"mx1.good.test", "mx.tls.test"}}, []Defect{DefectLineInvalid}},
		{"unknown key with invalid UTF-8", validEnforce + "foo: \xff\n",
			Policy{Version: "STSv1", Mode: PolicyEnforce, MaxAge: 604800, MX: []string{"mx1.good.test", "mx.tls.test"}}, []Defect{DefectLineInvalid}},
		{"bare CR inside a line", "version: STSv1\rmode: enforce\nmx: a.test\nmax_age: 604800\n",
			Policy{MaxAge: 604800, MX: []string{"a.test"}}, []Defect{DefectVersionInvalid, DefectModeMissing}},
		{"html", "<html><body>Not here</body></html>\n",
			Policy{MaxAge: -1}, []Defect{DefectVersionMissing, DefectModeMissing, DefectMaxAgeMissing, DefectMXMissing, DefectLineInvalid}},
		{"each defect once", "a\nb\nmx: -\nmx: -\n",
			Policy{MaxAge: -1}, []Defect{DefectVersionMissing, DefectModeMissing, DefectMaxAgeMissing, DefectMXInvalid, DefectLineInvalid}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, defects := ParsePolicy([]byte(tc.body))
			if got.Version != tc.want.Version || got.Mode != tc.want.Mode || got.MaxAge != tc.want.MaxAge || !slices.Equal(got.MX, tc.want.MX) {
				t.Fatalf("ParsePolicy(%q) = %+v, want %+v", tc.body, got, tc.want)
			}
			if !slices.Equal(defects, tc.defects) {
				t.Fatalf("ParsePolicy(%q) defects = %v, want %v", tc.body, defects, tc.defects)
			}
		})
	}
}

func TestParsePolicyCapsPatterns(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: STSv1\nmode: enforce\nmax_age: 604800\n")
	for i := range 5000 {
		b.WriteString("mx: h")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(".n")
		b.WriteString(string(rune('a' + i%26)))
		b.WriteString(string(rune('a' + i/26%26)))
		b.WriteString(string(rune('a' + i/676%26)))
		b.WriteString(".test\n")
	}
	p, defects := ParsePolicy([]byte(b.String()))
	if len(p.MX) != MaxMXPatterns {
		t.Fatalf("kept %d patterns, want the cap %d", len(p.MX), MaxMXPatterns)
	}
	if defects != nil {
		t.Fatalf("defects = %v, want none", defects)
	}
}

func TestDefectFatal(t *testing.T) {
	warnings := []Defect{DefectMaxAgeShort, DefectContentType, DefectChangedUnderID}
	for _, d := range Defects {
		if want := !slices.Contains(warnings, d); d.Fatal() != want {
			t.Fatalf("%s.Fatal() = %v, want %v", d, d.Fatal(), want)
		}
	}
	if Defect("unheard_of").Fatal() {
		t.Fatalf("an unknown defect is fatal, want a warning")
	}
}
