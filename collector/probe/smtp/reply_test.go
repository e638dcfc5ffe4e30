package smtp

import (
	"errors"
	"io"
	"net"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// errKind names the typed errors of ReadReply for table tests.
func errKind(err error) string {
	var (
		tooLong    *TooLongError
		proto      *ProtocolError
		incomplete *IncompleteLineError
	)
	switch {
	case err == nil:
		return ""
	case errors.As(err, &tooLong) && tooLong.TooManyLines:
		return "too many lines"
	case errors.As(err, &tooLong):
		return "line too long"
	case errors.As(err, &proto):
		return "protocol"
	case errors.As(err, &incomplete):
		return "incomplete"
	case errors.Is(err, io.EOF):
		return "eof"
	}
	return "other: " + err.Error()
}

func TestReadReply(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		maxLine  int
		maxLines int
		want     Reply
		wantErr  string
	}{
		{name: "single line", in: "250 OK\r\n", want: Reply{Code: 250, Lines: []string{"OK"}}},
		{name: "bare LF accepted", in: "250 OK\n", want: Reply{Code: 250, Lines: []string{"OK"}}},
		{name: "bare code", in: "250\r\n", want: Reply{Code: 250, Lines: []string{""}}},
		{name: "code and space only", in: "221 \r\n", want: Reply{Code: 221, Lines: []string{""}}},
		{
			name: "multi-line banner (postscreen)",
			in:   "220-mx.multiline.test ESMTP\r\n220-please wait\r\n220 mx.multiline.test ESMTP Postfix\r\n",
			want: Reply{Code: 220, Lines: []string{"mx.multiline.test ESMTP", "please wait", "mx.multiline.test ESMTP Postfix"}},
		},
		{name: "empty continuation", in: "250-\r\n250 done\r\n", want: Reply{Code: 250, Lines: []string{"", "done"}}},
		{name: "text keeps inner CR", in: "250 a\rb\r\n", want: Reply{Code: 250, Lines: []string{"a\rb"}}},
		{name: "5xx", in: "554 5.7.1 go away\r\n", want: Reply{Code: 554, Enhanced: "5.7.1", Lines: []string{"go away"}}},
		{
			name: "enhanced code on every line stripped",
			in:   "550-5.1.1 no such user\r\n550 5.1.1 see docs\r\n",
			want: Reply{Code: 550, Enhanced: "5.1.1", Lines: []string{"no such user", "see docs"}},
		},
		{
			name: "enhanced code only on first line",
			in:   "550-5.1.1 no such user\r\n550 see docs\r\n",
			want: Reply{Code: 550, Enhanced: "5.1.1", Lines: []string{"no such user", "see docs"}},
		},
		{
			name: "other enhanced code on later line kept",
			in:   "550-5.1.1 no such user\r\n550 5.7.1 also this\r\n",
			want: Reply{Code: 550, Enhanced: "5.1.1", Lines: []string{"no such user", "5.7.1 also this"}},
		},
		{name: "enhanced three-digit parts", in: "250 2.123.456 ok\r\n", want: Reply{Code: 250, Enhanced: "2.123.456", Lines: []string{"ok"}}},
		{name: "enhanced alone", in: "250 2.0.0\r\n", want: Reply{Code: 250, Enhanced: "2.0.0", Lines: []string{""}}},
		{name: "enhanced class mismatch", in: "550 2.1.1 odd\r\n", want: Reply{Code: 550, Lines: []string{"2.1.1 odd"}}},
		{name: "enhanced bad class", in: "250 3.1.1 odd\r\n", want: Reply{Code: 250, Lines: []string{"3.1.1 odd"}}},
		{name: "enhanced four-digit subject", in: "250 2.1234.1 odd\r\n", want: Reply{Code: 250, Lines: []string{"2.1234.1 odd"}}},
		{name: "enhanced missing detail", in: "250 2.1 odd\r\n", want: Reply{Code: 250, Lines: []string{"2.1 odd"}}},
		{name: "enhanced trailing dot", in: "250 2.1.5. odd\r\n", want: Reply{Code: 250, Lines: []string{"2.1.5. odd"}}},
		{name: "enhanced glued to text", in: "250 2.1.5ok\r\n", want: Reply{Code: 250, Lines: []string{"2.1.5ok"}}},
		{name: "EHLO lines not stripped", in: "250-mx\r\n250 2.0.0 x\r\n", want: Reply{Code: 250, Lines: []string{"mx", "2.0.0 x"}}},

		{name: "mixed codes", in: "250-first\r\n251 second\r\n", wantErr: "protocol"},
		{name: "mixed codes in banner", in: "220-hello\r\n554 no\r\n", wantErr: "protocol"},
		{name: "code 199", in: "199 hm\r\n", wantErr: "protocol"},
		{name: "code 600", in: "600 hm\r\n", wantErr: "protocol"},
		{name: "1xx", in: "150 hm\r\n", wantErr: "protocol"},
		{name: "letters", in: "OK fine\r\n", wantErr: "protocol"},
		{name: "two digits", in: "25\r\n", wantErr: "protocol"},
		{name: "bad separator", in: "250+x\r\n", wantErr: "protocol"},
		{name: "four digits", in: "2500 x\r\n", wantErr: "protocol"},
		{name: "empty line", in: "\r\n", wantErr: "protocol"},
		{name: "leading space", in: " 250 x\r\n", wantErr: "protocol"},

		{name: "nothing", in: "", wantErr: "eof"},
		{name: "no CRLF at EOF", in: "250 OK", wantErr: "incomplete"},
		{name: "CR but no LF at EOF", in: "250 OK\r", wantErr: "incomplete"},
		{name: "continuation then EOF", in: "250-one\r\n", wantErr: "eof"},
		{name: "continuation then partial", in: "250-one\r\n250 tw", wantErr: "incomplete"},

		{name: "line at cap", in: "250 " + strings.Repeat("a", 26) + "\r\n", maxLine: 32, want: Reply{Code: 250, Lines: []string{strings.Repeat("a", 26)}}},
		{name: "line over cap", in: "250 " + strings.Repeat("a", 27) + "\r\n", maxLine: 32, wantErr: "line too long"},
		{name: "endless line", in: "250 " + strings.Repeat("a", 10000), maxLine: 64, wantErr: "line too long"},
		{name: "cap below bufio minimum", in: "250 abcdef\r\n", maxLine: 8, wantErr: "line too long"},
		{name: "lines at cap", in: "250-a\r\n250-b\r\n250 c\r\n", maxLines: 3, want: Reply{Code: 250, Lines: []string{"a", "b", "c"}}},
		{name: "lines over cap", in: "250-a\r\n250-b\r\n250-c\r\n250 d\r\n", maxLines: 3, wantErr: "too many lines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rr := NewReplyReader(strings.NewReader(tt.in), tt.maxLine, tt.maxLines)
			got, err := rr.ReadReply()
			if kind := errKind(err); kind != tt.wantErr {
				t.Fatalf("ReadReply(%q) error = %v (%q), want %q", tt.in, err, kind, tt.wantErr)
			}
			if err != nil {
				if !reflect.DeepEqual(got, Reply{}) {
					t.Fatalf("ReadReply(%q) with error returned %+v, want the zero Reply", tt.in, got)
				}
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ReadReply(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestReadReplySequence(t *testing.T) {
	rr := NewReplyReader(strings.NewReader("250-a\r\n250 b\r\n354 go\r\n221 bye\r\n"), 0, 0)
	var traced []string
	rr.Trace = func(l []byte) { traced = append(traced, string(l)) }
	var codes []int
	for {
		r, err := rr.ReadReply()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("ReadReply: %v", err)
		}
		codes = append(codes, r.Code)
	}
	if want := []int{250, 354, 221}; !reflect.DeepEqual(codes, want) {
		t.Fatalf("codes = %v, want %v", codes, want)
	}
	if want := []string{"250-a", "250 b", "354 go", "221 bye"}; !reflect.DeepEqual(traced, want) {
		t.Fatalf("traced = %q, want %q", traced, want)
	}
}

// endless is an io.Reader of 'a' bytes for ever, counting what was read.
type endless struct{ n int }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	e.n += len(p)
	return len(p), nil
}

func TestReadReplyBoundsMemory(t *testing.T) {
	for _, maxLine := range []int{1, 16, 512, 2048} {
		src := &endless{}
		rr := NewReplyReader(io.MultiReader(strings.NewReader("250 "), src), maxLine, 0)
		_, err := rr.ReadReply()
		if errKind(err) != "line too long" {
			t.Fatalf("maxLine %d: error = %v, want a line too long", maxLine, err)
		}
		if limit := max(maxLine, 16); src.n > limit {
			t.Fatalf("maxLine %d: read %d bytes of an endless line, want at most %d", maxLine, src.n, limit)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// cutReader returns its data, then a deadline error.
type cutReader struct{ data string }

func (c *cutReader) Read(p []byte) (int, error) {
	if c.data == "" {
		return 0, timeoutErr{}
	}
	n := copy(p, c.data)
	c.data = c.data[n:]
	return n, nil
}

func TestReadReplyDeadlineCutsLine(t *testing.T) {
	rr := NewReplyReader(&cutReader{data: "220-mx ready\r\n220 partial"}, 0, 0)
	_, err := rr.ReadReply()
	var incomplete *IncompleteLineError
	if !errors.As(err, &incomplete) || incomplete.Partial != "220 partial" {
		t.Fatalf("error = %v, want an incomplete line \"220 partial\"", err)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("error = %v, want it to unwrap to a timeout", err)
	}
}

func TestReplyString(t *testing.T) {
	tests := []struct {
		r    Reply
		want string
	}{
		{Reply{}, "no reply"},
		{Reply{Code: 250, Lines: []string{""}}, "250"},
		{Reply{Code: 550, Enhanced: "5.1.1", Lines: []string{"no\x00such", "x"}}, `550 5.1.1 no\x00such (+1 lines)`},
	}
	for _, tt := range tests {
		if got := tt.r.String(); got != tt.want {
			t.Fatalf("%+v.String() = %q, want %q", tt.r, got, tt.want)
		}
	}
}

func FuzzReadReply(f *testing.F) {
	for _, s := range []string{
		"250 OK\r\n",
		"220-a\r\n220-b\r\n220 c\r\n",
		"250-a\r\n251 b\r\n",
		"550-5.1.1 x\r\n550 5.1.1 y\r\n",
		"250 2.1.5\r\n250\n",
		"250 OK",
		"250-\r\n250-\r\n250-\r\n250-\r\n250 \r\n",
		strings.Repeat("x", 100),
		"\xff\xfe\r\n",
	} {
		f.Add([]byte(s), uint8(32), uint8(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, maxLine, maxLines uint8) {
		ml, mls := int(maxLine%64)+1, int(maxLines%8)+1
		rr := NewReplyReader(strings.NewReader(string(data)), ml, mls)
		for range 100 {
			r, err := rr.ReadReply()
			if err != nil {
				if r.Code != 0 || r.Lines != nil || r.Enhanced != "" {
					t.Fatalf("error %v with non-zero reply %+v", err, r)
				}
				return
			}
			if r.Code < 200 || r.Code > 599 {
				t.Fatalf("code %d out of range", r.Code)
			}
			if len(r.Lines) == 0 || len(r.Lines) > mls {
				t.Fatalf("%d lines, cap %d", len(r.Lines), mls)
			}
			for _, l := range r.Lines {
				if len(l) > ml {
					t.Fatalf("line of %d bytes, cap %d", len(l), ml)
				}
			}
			if r.Enhanced != "" {
				if _, rest, ok := cutEnhanced(r.Enhanced); !ok || rest != "" || int(r.Enhanced[0]-'0') != r.Class() {
					t.Fatalf("enhanced code %q invalid for %d", r.Enhanced, r.Code)
				}
			}
		}
	})
}

// TestReadReplyNotSMTP: a line that cannot begin a reply fails as soon as
// its first bytes arrive, whether or not a line end follows: an SSH daemon
// sends its banner and then waits for us, for ever.
func TestReadReplyNotSMTP(t *testing.T) {
	tests := []struct {
		name, in, wantLine string
	}{
		{"SSH without line end", "SSH-2.0-OpenSSH_9.2p1", "SSH-2.0-OpenSSH_9.2p1"},
		{"SSH with CRLF", "SSH-2.0-OpenSSH_9.2p1\r\nmore", "SSH-2.0-OpenSSH_9.2p1"},
		{"HTTP", "HTTP/1.1 400 Bad Request\r\n", "HTTP/1.1 400 Bad Request"},
		{"binary", "\x16\x03\x01\x00", `\x16\x03\x01\x00`},
		{"three digits and junk", "2200", "2200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			defer pw.Close()
			go func() { _, _ = pw.Write([]byte(tt.in)) }() // and never a close: the reader must not wait for one
			rr := NewReplyReader(pr, 0, 0)
			var traced []string
			rr.Trace = func(l []byte) { traced = append(traced, string(l)) }
			done := make(chan error, 1)
			go func() { _, err := rr.ReadReply(); done <- err }()
			var err error
			select {
			case err = <-done:
			case <-time.After(5 * time.Second):
				pw.Close()
				t.Fatalf("ReadReply(%q) still waiting after 5 s, want an error at once", tt.in)
			}
			var proto *ProtocolError
			if !errors.As(err, &proto) || !proto.NotSMTP || proto.Line != tt.wantLine {
				t.Fatalf("ReadReply(%q) error = %v, want a not-SMTP ProtocolError quoting %q", tt.in, err, tt.wantLine)
			}
			if len(traced) != 1 || traced[0] != strings.TrimSuffix(strings.SplitN(tt.in, "\n", 2)[0], "\r") {
				t.Fatalf("traced %q, want the offending bytes once", traced)
			}
		})
	}
}

// TestReadReplyStartInPieces: a reply whose code arrives a byte at a time
// is judged on what has come, never refused early.
func TestReadReplyStartInPieces(t *testing.T) {
	rr := NewReplyReader(iotest.OneByteReader(strings.NewReader("220-mx\r\n220 ok\r\n")), 0, 0)
	r, err := rr.ReadReply()
	if err != nil || r.Code != 220 || len(r.Lines) != 2 {
		t.Fatalf("ReadReply = %+v, %v; want a two-line 220", r, err)
	}
}

func TestUnread(t *testing.T) {
	rr := NewReplyReader(strings.NewReader("250 a\r\n250 extra\r\n"), 0, 0)
	if _, err := rr.ReadReply(); err != nil {
		t.Fatalf("ReadReply: %v", err)
	}
	if got := string(rr.Unread(4)); got != "250 " {
		t.Fatalf("Unread(4) = %q, want %q", got, "250 ")
	}
	if got := string(rr.Unread(100)); got != "250 extra\r\n" {
		t.Fatalf("Unread(100) = %q, want the whole extra reply", got)
	}
	if r, err := rr.ReadReply(); err != nil || r.Lines[0] != "extra" {
		t.Fatalf("ReadReply after Unread = %+v, %v; want the extra reply, unconsumed by Unread", r, err)
	}
}
