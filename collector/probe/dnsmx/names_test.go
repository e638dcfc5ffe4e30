package dnsmx

import (
	"strings"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/testenv/fakedns"
)

// The escape differential of issue 15: a name with a backslash reads as one
// name to a person and an allow-list ("x\.allowed.test" ends in
// allowed.test) and as another to miekg/dns, which packs "\." as a dot
// inside a label and asks "x.allowed" + "test", a name outside the
// allow-list. A fake server is used because it counts every question it
// gets, which is what the test is about: none may arrive. The zone holds
// the name miekg/dns would have asked, so that a question that got through
// would also get an answer.
func TestEscapedNamesAreNeverAsked(t *testing.T) {
	z := &fakedns.Zone{Records: fakedns.Parse(t, `
x\.allowed.test.     MX    10 mx.outside.test.
mx.outside.test.     A     127.0.0.1
x\.allowed.test.     TXT   "v=STSv1; id=1"
x\.allowed.test.     A     127.0.0.1
`)}
	r := newTestResolver(t, time.Second, 1, fakedns.Serve(t, z))
	ctx := testCtx(t, 5*time.Second)

	for _, name := range []string{`x\.allowed.test`, `x\046allowed.test`, `x\.allowed.test.`} {
		if d := r.Domain(ctx, name, Options{}); d.Outcome != OutcomeError || !strings.Contains(d.Err, "backslash") {
			t.Errorf("Domain(%q) = %s, want an error about the backslash", name, summary(d))
		}
		if h := r.Host(ctx, name, Options{}); h.Outcome != OutcomeError || !strings.Contains(h.Err, "backslash") {
			t.Errorf("Host(%q) = %s, want an error about the backslash", name, hostSummary(h))
		}
		if l := r.TXT(ctx, name); l.Outcome != OutcomeError {
			t.Errorf("TXT(%q): outcome %s, want error", name, l.Outcome)
		}
		// A name the resolver builds itself passes the same check.
		if res := r.lookup(ctx, name, 1); res.outcome != OutcomeError || !strings.Contains(res.err, "not asked") {
			t.Errorf("lookup(%q) = %s %q, want not asked", name, res.outcome, res.err)
		}
	}
	// Whitespace is refused, not trimmed into another name.
	for _, name := range []string{" allowed.test", "allowed.test\n", "allowed .test"} {
		if d := r.Domain(ctx, name, Options{}); d.Outcome != OutcomeError {
			t.Errorf("Domain(%q) = %s, want an error", name, summary(d))
		}
	}
	if n := z.Total(""); n != 0 {
		t.Fatalf("%d questions reached the server: %q", n, z.Questions(""))
	}

	// The zone does answer the name when it is asked as what it is: the
	// test would see a question that got through.
	if d := r.Domain(ctx, "mx.outside.test", Options{}); d.Outcome == OutcomeError {
		t.Fatalf("control: %s", summary(d))
	}
	if z.Total("") == 0 {
		t.Fatal("control: the fake server counted no question")
	}
}
