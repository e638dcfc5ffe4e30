package smtp

import (
	"fmt"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/printable"
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
	s, cut := printable.Line(text, t.maxLen)
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

// escapeCap quotes server text in errors and details, by the rule the
// transcript and every human rendering use (package printable).
func escapeCap(b []byte, maxLen int) string {
	s, _ := printable.Line(b, maxLen)
	return s
}
