package txtfields

import (
	"reflect"
	"strings"
	"testing"
)

func TestSelectTagged(t *testing.T) {
	records := []string{"v=STSv1; id=a", "v=STSv10; id=b", "v=stsv1; id=c", "v=STSv1", "v=STSv1\t;id=d", "v=STSv1 ", " v=STSv1; id=e", "v=spf1 -all"}
	want := []string{"v=STSv1; id=a", "v=STSv1", "v=STSv1\t;id=d", "v=STSv1 "}
	if got := selectTagged(records, "v=STSv1"); !reflect.DeepEqual(got, want) {
		t.Fatalf("selectTagged = %q, want %q", got, want)
	}
	if got := selectTagged(nil, "v=STSv1"); got != nil {
		t.Fatalf("selectTagged(nil) = %q, want nil", got)
	}
}

func TestSplit(t *testing.T) {
	const tag = "v=TLSRPTv1"
	for _, tc := range []struct {
		name   string
		rest   string // what follows the tag
		fields []Field
		err    string
	}{
		{"bare tag", "", nil, ""},
		{"tag and WSP", " \t", nil, ""},
		{"one delimiter", " ; ", nil, ""},
		{"fields, final delimiter", "; a=1 ;\tb.c-d_e=x:y;", []Field{{"a", "1", "a=1"}, {"b.c-d_e", "x:y", "b.c-d_e=x:y"}}, ""},
		{"no space", ";rua=x", []Field{{"rua", "x", "rua=x"}}, ""},
		{"trailing WSP", "; a=1  ", []Field{{"a", "1", "a=1"}}, ""},
		{"values are the caller's", "; a=x y; b=", []Field{{"a", "x y", "a=x y"}, {"b", "", "b="}}, ""},
		{"no delimiter after the tag", " a=1", nil, `v=TLSRPTv1 is not followed by ";"`},
		{"empty field", "; a=1;; b=2", []Field{{"a", "1", "a=1"}}, `an empty field between two ";"`},
		{"two final delimiters", "; a=1;;", []Field{{"a", "1", "a=1"}}, `an empty field between two ";"`},
		{"no =", "; a=1; junk; b=2", []Field{{"a", "1", "a=1"}}, `field "junk" is not key=value`},
		{"bad name", "; _a=1", nil, `field name "_a" is not letters, digits, "_", "-" and "." (at most 32)`},
		{"name too long", "; " + strings.Repeat("n", 33) + "=1", nil, "field name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fields, err := split(tc.rest, tag)
			if !reflect.DeepEqual(fields, tc.fields) {
				t.Fatalf("fields = %+v, want %+v", fields, tc.fields)
			}
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("err = %v, want none", err)
			case tc.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.err)):
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
		})
	}
}

type defect string

func TestParse(t *testing.T) {
	const tag = "v=STSv1"
	judged := 0
	judge := func(fields []Field, err error) (defect, string) {
		judged++
		if err != nil {
			return "syntax", err.Error()
		}
		if len(fields) == 0 {
			return "missing", "no fields"
		}
		return "", ""
	}
	for _, tc := range []struct {
		name    string
		records []string
		n       int
		defect  defect
		detail  string
		judged  int
	}{
		{"none", []string{"v=spf1 -all", "v=STSv10; id=a"}, 0, "", "", 0},
		{"one, good", []string{"v=spf1 -all", "v=STSv1; id=a"}, 1, "", "", 1},
		{"one, judged bad", []string{"v=STSv1"}, 1, "missing", `no fields in "v=STSv1"`, 1},
		{"one, not fields", []string{"v=STSv1 id=a"}, 1, "syntax", `v=STSv1 is not followed by ";" in "v=STSv1 id=a"`, 1},
		{"three", []string{"v=STSv1; id=a", "v=STSv1; id=b", "v=STSv1"}, 3, "dup",
			`3 TXT records start with v=STSv1 (the first two: "v=STSv1; id=a", "v=STSv1; id=b")`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			judged = 0
			n, d, detail := Parse(tc.records, tag, defect("dup"), judge)
			if n != tc.n || d != tc.defect || detail != tc.detail || judged != tc.judged {
				t.Fatalf("Parse = %d, %q, %q, judged %d times; want %d, %q, %q, %d", n, d, detail, judged, tc.n, tc.defect, tc.detail, tc.judged)
			}
		})
	}
}

func TestCheckExtension(t *testing.T) {
	for value, ok := range map[string]bool{
		"1": true, "some:thing/!~": true, "%x21-3A": true,
		"": false, "a b": false, "a=b": false, "a\x01": false, "a\x7f": false, "\xc3\xa9": false,
	} {
		err := Field{Name: "x", Value: value, text: "x=" + value}.CheckExtension()
		if (err == nil) != ok {
			t.Errorf("value %q: CheckExtension = %v, want valid %v", value, err, ok)
		}
	}
}

func TestValidName(t *testing.T) {
	for name, ok := range map[string]bool{
		"id": true, "rua": true, "max_age": true, "1x": true, "a.b-c_d": true, strings.Repeat("k", 32): true,
		"": false, "_a": false, "-a": false, ".a": false, "a b": false, "a:": false, strings.Repeat("k", 33): false, "\xc3\xa9": false,
	} {
		if ValidName(name) != ok {
			t.Errorf("ValidName(%q) = %v, want %v", name, !ok, ok)
		}
	}
}

func TestQuote(t *testing.T) {
	if got, want := Quote("a\x1b[31m\xffb\"c"), `"a?[31m?b\"c"`; got != want {
		t.Fatalf("Quote = %s, want %s", got, want)
	}
	long := Quote(strings.Repeat("x", 5000))
	if len(long) != MaxQuoted+len(`"..."`) || !strings.HasSuffix(long, `..."`) {
		t.Fatalf("Quote of 5000 bytes is %d bytes, want it cut at %d and marked", len(long), MaxQuoted)
	}
	if got := Sanitize("abcdef", 3); got != "abc..." {
		t.Fatalf("Sanitize = %q, want \"abc...\"", got)
	}
	if got := Sanitize("abc", 3); got != "abc" {
		t.Fatalf("Sanitize = %q, want \"abc\" uncut", got)
	}
}
