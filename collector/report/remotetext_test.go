package report

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// The hostile server is testenv.HostileSMTP: ESC sequences, a bell and
// bytes that are not UTF-8 in a well-formed dialogue.
const (
	hostileGreeting = testenv.HostileGreeting
	hostileParams   = testenv.HostileParams
	hostileRcpt     = testenv.HostileRcpt
)

func hostileReport(t *testing.T, sizeParam string) *probe.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r := smtp.Probe(ctx, "mx.hostile.test", "127.0.0.1", smtp.Options{
		Port: testenv.HostileSMTP(t, sizeParam), EHLOName: "probe.test", Recipients: []string{"postmaster@hostile.test"},
		StartTLS: smtp.StartTLSOff,
	})
	if !r.Success || r.Extensions == nil {
		t.Fatalf("dialogue with the hostile fake: success %v, reason %s: %s", r.Success, r.Reason, r.Detail)
	}
	return &probe.Report{
		Target: probe.Target{Domain: "hostile.test"}, Start: r.Start, Duration: r.Duration,
		DNS: &dnsmx.Domain{Name: "hostile.test", Outcome: dnsmx.OutcomeAnswer, Rcode: "NOERROR"},
		Hosts: []probe.HostReport{{
			Host:    dnsmx.Host{Name: "mx.hostile.test", Preference: 10, Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}},
			Results: []*smtp.Result{r},
		}},
	}
}

// unstyled takes the colour rendering's own styles out.
func unstyled(out string) string {
	for _, s := range []safe{colours.sent, colours.ok, colours.warn, colours.bad, colours.note, colours.bold, colours.reset} {
		out = strings.ReplaceAll(out, string(s), "")
	}
	return out
}

// unprintable finds a byte a terminal would act on, or one that is not
// UTF-8, in a rendering without its styles.
func unprintable(out string) (string, bool) {
	if !utf8.ValidString(out) {
		return "invalid UTF-8", true
	}
	if i := strings.IndexFunc(out, func(r rune) bool { return (r < ' ' && r != '\n') || r == 0x7f }); i >= 0 {
		return out[max(0, i-40):min(len(out), i+40)], true
	}
	return "", false
}

// TestTextShowsRemoteTextEscaped: EHLO parameters, replies and the
// transcript of a server that sends ESC sequences and bytes that are not
// UTF-8 reach the text report (the probe command, /probe?debug=true,
// /status/report) as \xNN, with and without colour.
func TestTextShowsRemoteTextEscaped(t *testing.T) {
	rep := hostileReport(t, "abc")
	for _, colour := range []bool{false, true} {
		var buf bytes.Buffer
		if err := WriteText(&buf, rep, colour); err != nil {
			t.Fatal(err)
		}
		out := unstyled(buf.String())
		if at, bad := unprintable(out); bad {
			t.Fatalf("colour %v: remote bytes reach the terminal near %q:\n%q", colour, at, out)
		}
		for _, want := range []string{
			`X-HOSTILE \x1b[31mred\xfe`,                          // the extensions line
			`S: 250-mx.hostile.test \x1b]0;pwned\x07greets \xff`, // the transcript
			`S: 220 mx.hostile.test ESMTP \x1b[2J\xff`,
			`SIZE limit: invalid SIZE value "abc"`,
			`finding:    invalid SIZE value "abc": the server declares no usable message size limit`,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("colour %v: report lacks %s:\n%s", colour, want, out)
			}
		}
	}
}

// TestJSONKeepsRemoteTextExact: the JSON report carries what the server
// sent: control characters as JSON escapes (\u001b), exact; bytes that are
// not UTF-8 as U+FFFD, as encoding/json makes every string valid Unicode
// (README, "Remote text"). Transcript lines are the engine's escaped
// record in every rendering.
func TestJSONKeepsRemoteTextExact(t *testing.T) {
	b, err := json.Marshal(NewDocument(hostileReport(t, "-5")))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.ContainsFunc(b, func(r rune) bool { return r < ' ' || r == 0x7f }) || !utf8.Valid(b) {
		t.Fatalf("JSON carries raw control bytes or invalid UTF-8:\n%q", b)
	}
	var doc Document
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	ext := doc.Hosts[0].Addresses[0].Extensions
	fffd := func(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
	switch {
	case ext == nil:
		t.Fatal("no extensions in the JSON report")
	case ext.Greeting != fffd(hostileGreeting):
		t.Errorf("greeting: got %q, want %q", ext.Greeting, fffd(hostileGreeting))
	case !ext.SizeAdvertised || !ext.SizeInvalid || ext.SizeBytes != 0:
		t.Errorf("SIZE -5: got advertised %v, invalid %v, bytes %d; want true, true, 0", ext.SizeAdvertised, ext.SizeInvalid, ext.SizeBytes)
	case !slices.Contains(doc.Hosts[0].Addresses[0].Findings, smtp.FindingSizeInvalid):
		t.Errorf("findings %v lack size_invalid", doc.Hosts[0].Addresses[0].Findings)
	}
	var params string
	for _, k := range ext.Keywords {
		if k.Name == "X-HOSTILE" {
			params = k.Params
		}
	}
	if params != fffd(hostileParams) {
		t.Errorf("X-HOSTILE parameters: got %q, want %q", params, fffd(hostileParams))
	}
	for _, want := range []string{`\u001b[31mred\ufffd`, `"lines":["ok \u001b[5mblink"]`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("JSON lacks %s (the text as sent, ESC as \\u001b):\n%s", want, b)
		}
	}
}
