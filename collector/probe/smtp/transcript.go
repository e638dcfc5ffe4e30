package smtp

import (
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"
)

// detailCap bounds Result.Detail and the server text quoted in it.
const detailCap = 200

// transcript keeps the first lines of a dialogue and, once the cap is hit,
// its last few: the end of a dialogue (the error) matters more than the
// middle of a hostile 100-line reply.
type transcript struct {
	start  time.Time
	maxLen int

	head    []Line
	headCap int
	tail    []Line // ring buffer once full
	tailCap int
	next    int // oldest tail line once the ring is full
	dropped int
	cut     bool // some line was shortened
}

func newTranscript(start time.Time, maxLines, maxLen int) *transcript {
	t := &transcript{start: start, maxLen: maxLen, headCap: maxLines}
	// Keep a quarter for the tail and one line to say what was left out.
	if maxLines >= 8 {
		t.tailCap = maxLines / 4
		t.headCap = maxLines - t.tailCap - 1
	}
	return t
}

func (t *transcript) add(dir Direction, text []byte) {
	s, cut := escapeLine(text, t.maxLen)
	t.cut = t.cut || cut
	if dir != Note { // our notes carry ports and times: they rarely repeat
		s = intern(s)
	}
	l := Line{At: time.Since(t.start), Dir: dir, Text: s}
	switch {
	case len(t.head) < t.headCap:
		t.head = append(t.head, l)
	case len(t.tail) < t.tailCap:
		t.tail = append(t.tail, l)
	case t.tailCap > 0:
		t.tail[t.next] = l
		t.next = (t.next + 1) % t.tailCap
		t.dropped++
	default:
		t.dropped++
	}
}

func (t *transcript) note(format string, args ...any) {
	t.add(Note, []byte(fmt.Sprintf(format, args...)))
}

// lines returns the kept lines in order and whether anything was dropped
// or shortened.
func (t *transcript) lines() ([]Line, bool) {
	out := make([]Line, 0, len(t.head)+len(t.tail)+1)
	out = append(out, t.head...)
	if t.dropped > 0 && t.tailCap > 0 {
		at := t.tail[t.next].At
		out = append(out, Line{At: at, Dir: Note, Text: fmt.Sprintf("%d transcript lines left out", t.dropped)})
	}
	out = append(out, t.tail[t.next:]...)
	out = append(out, t.tail[:t.next]...)
	return out, t.dropped > 0 || t.cut
}

// escapeLine makes server-controlled bytes safe to print on one line:
// printable UTF-8 stays, everything else (control bytes, invalid UTF-8)
// becomes \xNN. The result is at most maxLen bytes, "…" included, and cut
// reports whether it had to be shortened.
func escapeLine(b []byte, maxLen int) (s string, cut bool) {
	const ellipsis = "…"
	out := make([]byte, 0, min(len(b), maxLen))
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		var piece []byte
		switch {
		case r == utf8.RuneError && size <= 1, !unicode.IsPrint(r):
			esc := [4]byte{'\\', 'x', hexDigits[b[i]>>4], hexDigits[b[i]&0xf]}
			piece = esc[:]
			size = 1
		default:
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

const hexDigits = "0123456789abcdef"

// trimLastPiece drops the last rune or \xNN escape of an escaped line.
func trimLastPiece(b []byte) []byte {
	if n := len(b); n >= 4 && b[n-4] == '\\' && b[n-3] == 'x' {
		return b[:n-4]
	}
	_, size := utf8.DecodeLastRune(b)
	return b[:len(b)-size]
}

// escapeCap is escapeLine for quoting in errors and details.
func escapeCap(b []byte, maxLen int) string {
	s, _ := escapeLine(b, maxLen)
	return s
}
