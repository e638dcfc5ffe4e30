package smtp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unique"
)

// ReplyReader reads SMTP replies (RFC 5321 section 4.2) from a connection
// controlled by a stranger, so it believes nothing it has not checked:
//
//   - a line is complete only with its LF (CRLF, or a bare LF, leniently);
//     bytes cut short by EOF or a deadline are an error, never a line;
//   - every line of a reply carries the same three-digit code, 200 to 599;
//   - a line longer than the line cap, or a reply of more lines than the
//     reply cap, is an error, and the reader never buffers more than the
//     line cap to find that out;
//   - a line whose first bytes cannot begin a reply ("SSH-2.0-…", "HTTP/1.1",
//     binary) is an error as soon as those bytes arrive, not at its line end
//     or the deadline: an SSH daemon on port 25 never sends a line end we
//     would wait for.
//
// net/textproto accepts both a cut line and a change of code in the middle
// of a multi-line reply; that is why this reader exists.
type ReplyReader struct {
	br       *bufio.Reader
	maxLine  int
	maxLines int

	// Trace, when set, sees every complete line as received, without its
	// line ending, before it is checked: a malformed line still reaches the
	// transcript. The slice is only valid during the call.
	Trace func(line []byte)
}

// NewReplyReader reads replies from r. maxLineBytes caps one line including
// its CRLF (RFC 5321 4.5.3.1.5 allows 512); maxReplyLines caps the lines of
// one reply. Values below 1 use DefaultMaxLineBytes and DefaultMaxReplyLines.
func NewReplyReader(r io.Reader, maxLineBytes, maxReplyLines int) *ReplyReader {
	if maxLineBytes < 1 {
		maxLineBytes = DefaultMaxLineBytes
	}
	if maxReplyLines < 1 {
		maxReplyLines = DefaultMaxReplyLines
	}
	return &ReplyReader{
		// ReadSlice fails with ErrBufferFull rather than growing the buffer,
		// which is what bounds memory against an endless line.
		br:       bufio.NewReaderSize(r, maxLineBytes),
		maxLine:  maxLineBytes,
		maxLines: maxReplyLines,
	}
}

// Buffered is how many bytes were read from the connection but not yet
// consumed. After the 220 to STARTTLS it must be 0: anything the server sent
// before our ClientHello was not protected by TLS (a command-injection
// attempt, CVE-2011-0411 style) and must not be read as part of the session.
func (rr *ReplyReader) Buffered() int { return rr.br.Buffered() }

// Unread returns up to n of the buffered bytes without consuming them, to
// quote what the server sent out of turn. The slice is only valid until the
// next read.
func (rr *ReplyReader) Unread(n int) []byte {
	b, _ := rr.br.Peek(min(n, rr.br.Buffered()))
	return b
}

// ProtocolError is a reply that breaks RFC 5321 4.2 syntax.
type ProtocolError struct {
	Problem string // what is wrong
	Line    string // the offending line, escaped and capped
	// NotSMTP is set when the line's first bytes cannot begin an SMTP
	// reply at all: whatever answers is not an SMTP server (or not yet).
	NotSMTP bool
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("malformed reply: %s: %q", e.Problem, e.Line)
}

// TooLongError is a line longer than the line cap or a reply of more lines
// than the reply cap.
type TooLongError struct {
	TooManyLines bool   // the reply cap was hit, not the line cap
	Limit        int    // the cap that was hit (bytes or lines)
	Prefix       string // start of the overlong line, escaped and capped
}

func (e *TooLongError) Error() string {
	if e.TooManyLines {
		return fmt.Sprintf("reply longer than %d lines", e.Limit)
	}
	return fmt.Sprintf("reply line longer than %d bytes: %q…", e.Limit, e.Prefix)
}

// IncompleteLineError is data that EOF or a deadline cut before its line
// ending. It unwraps to the cause, so errors.Is(err, io.EOF) and a net.Error
// timeout still classify it.
type IncompleteLineError struct {
	Partial string // what came, escaped and capped
	Err     error
}

func (e *IncompleteLineError) Error() string {
	return fmt.Sprintf("incomplete reply line %q: %v", e.Partial, e.Err)
}

func (e *IncompleteLineError) Unwrap() error { return e.Err }

// quoteCap bounds how much of a bad line an error carries.
const quoteCap = 80

// ReadReply reads one complete reply. On error the Reply is zero: a partial
// reply is no reply (the lines already read went to Trace). I/O errors are
// returned as they came (wrapped in IncompleteLineError when they cut a line).
func (rr *ReplyReader) ReadReply() (Reply, error) {
	var (
		code  string
		lines []string
	)
	for {
		line, err := rr.readLine()
		if err != nil {
			return Reply{}, err
		}
		c, final, text, err := splitLine(line)
		if err != nil {
			return Reply{}, err
		}
		if code == "" {
			code = c
		} else if c != code {
			return Reply{}, &ProtocolError{
				Problem: fmt.Sprintf("code %s in the middle of a %s reply", c, code),
				Line:    escapeCap(line, quoteCap),
			}
		}
		lines = append(lines, text)
		if final {
			break
		}
		if len(lines) >= rr.maxLines {
			return Reply{}, &TooLongError{TooManyLines: true, Limit: rr.maxLines}
		}
	}
	if cap(lines) > len(lines) {
		lines = slices.Clone(lines) // a multi-line reply is kept: drop append's spare room
	}
	rep := Reply{Code: int(code[0]-'0')*100 + int(code[1]-'0')*10 + int(code[2]-'0'), Lines: lines}
	rep.Enhanced = intern(stripEnhanced(rep.Lines, code[0]))
	for i, l := range rep.Lines {
		rep.Lines[i] = intern(l)
	}
	return rep, nil
}

// intern returns the one shared copy of s. The store keeps the last result
// of every address, and across addresses most reply text repeats ("2.1.5
// Ok", "PIPELINING", the banner of a gateway that serves many domains):
// interning keeps each distinct text once (see BenchmarkResultFootprint).
// The unique package holds its copies weakly, so text nothing refers to any
// more (a banner with a timestamp in it) is still collected.
func intern(s string) string {
	if s == "" {
		return ""
	}
	return unique.Make(s).Value()
}

// readLine returns one line without its line ending.
func (rr *ReplyReader) readLine() ([]byte, error) {
	if err := rr.checkStart(); err != nil {
		return nil, err
	}
	line, err := rr.br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, &TooLongError{Limit: rr.maxLine, Prefix: escapeCap(line, quoteCap)}
	case err != nil && len(line) > 0:
		return nil, &IncompleteLineError{Partial: escapeCap(line, quoteCap), Err: err}
	case err != nil:
		return nil, err
	}
	// bufio's minimum buffer is 16 bytes; a smaller cap is checked here.
	if len(line) > rr.maxLine {
		return nil, &TooLongError{Limit: rr.maxLine, Prefix: escapeCap(line, quoteCap)}
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if rr.Trace != nil {
		rr.Trace(line)
	}
	return line, nil
}

// checkStart waits for the first byte of the next line and judges it with
// whatever else has arrived, up to the four bytes that decide (see
// replyStart), before waiting for the line end. An I/O error with nothing
// read is returned as it came, as ReadSlice would have.
func (rr *ReplyReader) checkStart() error {
	if _, err := rr.br.Peek(1); err != nil {
		return err
	}
	if head := rr.Unread(4); replyStart(head) {
		return nil
	}
	seen := rr.Unread(rr.maxLine)
	if i := bytes.IndexByte(seen, '\n'); i >= 0 {
		seen = seen[:i]
	}
	seen = bytes.TrimSuffix(seen, []byte{'\r'})
	if rr.Trace != nil {
		rr.Trace(seen)
	}
	return &ProtocolError{Problem: "not an SMTP reply", Line: escapeCap(seen, quoteCap), NotSMTP: true}
}

// splitLine parses "250-text", "250 text" or a bare "250".
func splitLine(line []byte) (code string, final bool, text string, err error) {
	if len(line) < 3 || line[0] < '2' || line[0] > '5' || !isDigit(line[1]) || !isDigit(line[2]) {
		return "", false, "", &ProtocolError{Problem: "no reply code 200-599", Line: escapeCap(line, quoteCap)}
	}
	code = string(line[:3])
	if len(line) == 3 {
		return code, true, "", nil
	}
	switch line[3] {
	case ' ':
		final = true
	case '-':
	default:
		return "", false, "", &ProtocolError{Problem: "reply code not followed by space or hyphen", Line: escapeCap(line, quoteCap)}
	}
	return code, final, string(line[4:]), nil
}

// stripEnhanced finds an RFC 3463 enhanced status code at the start of the
// first line, of the same class as the basic code, and removes it from every
// line that repeats it (RFC 2034 puts it on each line). Without one on the
// first line nothing is stripped: EHLO keyword lines stay intact.
func stripEnhanced(lines []string, class byte) string {
	if len(lines) == 0 {
		return ""
	}
	enh, _, ok := cutEnhanced(lines[0])
	if !ok || enh[0] != class {
		return ""
	}
	for i, l := range lines {
		if e, rest, ok := cutEnhanced(l); ok && e == enh {
			lines[i] = rest
		}
	}
	return enh
}

// cutEnhanced splits "5.1.1 text" into "5.1.1" and "text". The code is
// class "." subject "." detail, class 2, 4 or 5, subject and detail one to
// three digits, followed by a space or the end of the line.
func cutEnhanced(s string) (code, rest string, ok bool) {
	end := strings.IndexByte(s, ' ')
	if end < 0 {
		end = len(s)
	}
	code = s[:end]
	if len(code) < 5 || (code[0] != '2' && code[0] != '4' && code[0] != '5') || code[1] != '.' {
		return "", "", false
	}
	subject, detail, found := strings.Cut(code[2:], ".")
	if !found || !digits(subject, 1, 3) || !digits(detail, 1, 3) {
		return "", "", false
	}
	if end < len(s) {
		rest = s[end+1:]
	}
	return code, rest, true
}

func digits(s string, minLen, maxLen int) bool {
	if len(s) < minLen || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

// String renders the reply as an admin reads it: code, enhanced code and the
// first line, with a count of the lines left out. Server text is escaped.
func (r Reply) String() string {
	if r.Code == 0 {
		return "no reply"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d", r.Code)
	if r.Enhanced != "" {
		b.WriteString(" " + r.Enhanced)
	}
	if len(r.Lines) > 0 && r.Lines[0] != "" {
		b.WriteString(" " + escapeCap([]byte(r.Lines[0]), detailCap))
	}
	if len(r.Lines) > 1 {
		fmt.Fprintf(&b, " (+%d lines)", len(r.Lines)-1)
	}
	return b.String()
}

// Class is the first digit of the code: 2 success, 4 transient, 5 permanent;
// 0 when no reply was read.
func (r Reply) Class() int { return r.Code / 100 }
