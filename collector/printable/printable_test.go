package printable

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLine(t *testing.T) {
	tests := []struct {
		in      string
		maxLen  int
		want    string
		wantCut bool
	}{
		{"250 OK", 100, "250 OK", false},
		{"a\x00b\x7fc\td", 100, `a\x00b\x7fc\x09d`, false},
		{"caf\xc3\xa9 ok", 100, "café ok", false},
		{"bad \xff\xfe utf8", 100, `bad \xff\xfe utf8`, false},
		{"bidi \u202e override", 100, `bidi \xe2\x80\xae override`, false},
		{"\x1b[2J\x1b]0;t\x07", 100, `\x1b[2J\x1b]0;t\x07`, false},
		{"abcdefghij", 10, "abcdefghij", false},
		{"abcdefghijk", 10, "abcdefg…", true},
		{"abcdef\x00\x00", 10, `abcdef…`, true},
		{"ééééé", 8, "éé…", true},
		{"abc", 2, "", true},
		{"", 5, "", false},
	}
	for _, tt := range tests {
		got, cut := Line([]byte(tt.in), tt.maxLen)
		if got != tt.want || cut != tt.wantCut {
			t.Fatalf("Line(%q, %d) = %q, %v; want %q, %v", tt.in, tt.maxLen, got, cut, tt.want, tt.wantCut)
		}
		if tt.wantCut {
			continue
		}
		if got := String(tt.in); got != tt.want {
			t.Fatalf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStringKeepsPrintableTextWithoutCopy(t *testing.T) {
	s := strings.Repeat("mx.example.test ESMTP é ", 10)
	if got := testing.AllocsPerRun(10, func() { _ = String(s) }); got != 0 {
		t.Fatalf("String of printable text: %v allocations, want 0", got)
	}
}

// TestText: a page keeps its own newlines and tabs; everything else the rule
// escapes is escaped as Line escapes it.
func TestText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<p>\n\tok</p>\n", "<p>\n\tok</p>\n"},
		{"<td>250 \x1b[31mred\x1b[0m</td>\n", `<td>250 \x1b[31mred\x1b[0m</td>` + "\n"},
		{"<td>\xff\xfe\r\u202e</td>", `<td>\xff\xfe\x0d\xe2\x80\xae</td>`},
	}
	for _, tt := range tests {
		if got := string(Text([]byte(tt.in))); got != tt.want {
			t.Fatalf("Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzLine(f *testing.F) {
	f.Add([]byte("250 OK\x00\xff é"), uint16(8))
	f.Fuzz(func(t *testing.T, b []byte, maxLen uint16) {
		s, _ := Line(b, int(maxLen))
		if len(s) > int(maxLen) || !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			t.Fatalf("Line(%q, %d) = %q", b, maxLen, s)
		}
		page := Text(b)
		if !utf8.Valid(page) || strings.ContainsFunc(string(page), func(r rune) bool { return (r < ' ' && r != '\n' && r != '\t') || r == 0x7f }) {
			t.Fatalf("Text(%q) = %q", b, page)
		}
		// One rule: where a page holds no newline or tab, it is String's.
		if !bytes.ContainsAny(b, "\n\t") && string(page) != String(string(b)) {
			t.Fatalf("Text(%q) = %q, String gives %q", b, page, String(string(b)))
		}
	})
}

// BenchmarkTextPage: the pass every /status page takes, over a page of the
// size of the overview's first page (README, "/status").
func BenchmarkTextPage(b *testing.B) {
	row := []byte("<tr><td class=\"banner\"><code>220 mx1.example.test ESMTP Postfix é</code></td>\n\t<td>10 MiB</td></tr>\n")
	page := bytes.Repeat(row, 900<<10/len(row))
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		_ = Text(page)
	}
}
