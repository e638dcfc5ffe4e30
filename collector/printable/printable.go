// Package printable is the one rule by which text that a remote server
// controls (reply lines, EHLO parameters, TXT records, policy text, names in
// certificates) is shown to a person: printable UTF-8 stays as it is; a
// control byte, a byte of invalid UTF-8 and each byte of a rune that is not
// printable (U+202E, U+2028…) become \xNN with two lower-case hex digits.
// Nothing a server sends can then move a terminal's cursor, retitle its
// window, or hide itself in a page, and what it sent stays readable.
//
// The probe engine escapes transcript lines with it as it records them;
// the text report escapes every string it prints; the /status pages pass
// their whole output through Text. JSON renderings do not use it: they
// carry the values as they came (see README, "Remote text").
//
// It imports nothing of the project: the engine and the people side share it.
package printable

import (
	"math"
	"unicode"
	"unicode/utf8"
)

const (
	hexDigits = "0123456789abcdef"
	ellipsis  = "…"
)

// Line returns b as one printable line of at most maxLen bytes, "…"
// included, and whether it had to be shortened. It never splits an escape
// or a rune.
func Line(b []byte, maxLen int) (s string, cut bool) {
	out := make([]byte, 0, min(len(b), maxLen))
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		var piece []byte
		if escaped(r, size) {
			esc := [4]byte{'\\', 'x', hexDigits[b[i]>>4], hexDigits[b[i]&0xf]}
			piece = esc[:]
			size = 1
		} else {
			piece = b[i : i+size]
		}
		if len(out)+len(piece) > maxLen {
			// Make room for the ellipsis without splitting an escape or a rune.
			for len(out)+len(ellipsis) > maxLen && len(out) > 0 {
				out = trimLastPiece(out)
			}
			if len(out)+len(ellipsis) <= maxLen {
				out = append(out, ellipsis...)
			}
			return string(out), true
		}
		out = append(out, piece...)
		i += size
	}
	return string(out), false
}

// String is Line without a length cap, for text the engine has capped
// already. Text that needs no escape is returned as it is, without a copy.
func String(s string) string {
	if isPrintable(s) {
		return s
	}
	out, _ := Line([]byte(s), math.MaxInt)
	return out
}

// Text applies the rule to a document of several lines that we wrote and
// remote text fills in (an HTML page): newlines and tabs, which are ours,
// stay; every other byte the rule escapes becomes \xNN.
func Text(b []byte) []byte {
	var out []byte // nil until the first escape: most pages need none
	for i := 0; i < len(b); {
		// ASCII, most of any page, without decoding (README, "/status").
		if c := b[i]; c < utf8.RuneSelf && (c >= ' ' && c != 0x7f || c == '\n' || c == '\t') {
			if out != nil {
				out = append(out, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if !escaped(r, size) {
			if out != nil {
				out = append(out, b[i:i+size]...)
			}
			i += size
			continue
		}
		if out == nil {
			out = make([]byte, i, len(b)+64)
			copy(out, b[:i])
		}
		out = append(out, '\\', 'x', hexDigits[b[i]>>4], hexDigits[b[i]&0xf])
		i++
	}
	if out == nil {
		return b
	}
	return out
}

// escaped is the rule: r, of size bytes, is shown as \xNN per byte.
func escaped(r rune, size int) bool {
	return (r == utf8.RuneError && size <= 1) || !unicode.IsPrint(r)
}

func isPrintable(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if escaped(r, size) {
			return false
		}
		i += size
	}
	return true
}

// trimLastPiece drops the last rune or \xNN escape of an escaped line.
func trimLastPiece(b []byte) []byte {
	if n := len(b); n >= 4 && b[n-4] == '\\' && b[n-3] == 'x' {
		return b[:n-4]
	}
	_, size := utf8.DecodeLastRune(b)
	return b[:len(b)-size]
}
