package main

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// hostileSMTP serves, on a loopback port, a well-formed dialogue whose text
// carries ESC sequences, a bell and bytes that are not UTF-8, with an
// invalid SIZE. A fake: no real MTA can be made to send them.
func hostileSMTP(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				send := func(lines ...string) { c.Write([]byte(strings.Join(lines, "\r\n") + "\r\n")) }
				send("220 mx.hostile.test ESMTP \x1b[2J\xff")
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					switch strings.ToUpper(strings.Fields(line + " x")[0]) {
					case "EHLO":
						send("250-mx.hostile.test \x1b]0;pwned\x07", "250-X-HOSTILE \x1b[31mred\xfe", "250-SIZE -5", "250 PIPELINING")
					case "QUIT":
						send("221 2.0.0 bye")
						return
					default:
						send("250 2.0.0 ok \x1b[5m")
					}
				}
			}()
		}
	}()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// TestProbeCommandEscapesRemoteText: `mx_exporter probe` prints what a
// hostile server sent as \xNN, never raw to the terminal, and tells its
// invalid SIZE from "no limit"; --json keeps the text as sent, ESC as
// \u001b.
func TestProbeCommandEscapesRemoteText(t *testing.T) {
	env := testenv.Require(t)
	addr := hostileSMTP(t)
	code, out, errOut := runProbe(t, env, "--starttls=off", "--color=never", addr)
	if code != exitOK {
		t.Fatalf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitOK, out, errOut)
	}
	if !utf8.ValidString(out) || strings.ContainsFunc(out, func(r rune) bool { return (r < ' ' && r != '\n') || r == 0x7f }) {
		t.Fatalf("remote bytes reach the terminal:\n%q", out)
	}
	for _, want := range []string{
		`S: 220 mx.hostile.test ESMTP \x1b[2J\xff`,
		`X-HOSTILE \x1b[31mred\xfe`,
		`SIZE limit: invalid SIZE value "-5"`,
		`finding:    invalid SIZE value "-5"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %s:\n%s", want, out)
		}
	}
	code, out, errOut = runProbe(t, env, "--starttls=off", "--json", addr)
	if code != exitOK {
		t.Fatalf("--json: exit status %d, want %d\nstderr:\n%s", code, exitOK, errOut)
	}
	for _, want := range []string{`"params": "\u001b[31mred\ufffd"`, `"size_invalid": true`, `"size_invalid"`} {
		if !strings.Contains(out, want) {
			t.Errorf("--json lacks %s:\n%s", want, out)
		}
	}
}
