package main

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// TestProbeCommandEscapesRemoteText: `mx_exporter probe` prints what a
// hostile server sent as \xNN, never raw to the terminal, and tells its
// invalid SIZE from "no limit"; --json keeps the text as sent, ESC as
// \u001b.
func TestProbeCommandEscapesRemoteText(t *testing.T) {
	env := testenv.Require(t)
	addr := "127.0.0.1:" + strconv.Itoa(testenv.HostileSMTP(t, "-5"))
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
