package status

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/store"
)

// escStore holds one address whose server sent ESC sequences and bytes
// that are not UTF-8 in every text the pages show: the banner, the EHLO
// greeting and parameters, a reply, the certificate error. The engine's
// transcript is already escaped; the rest is kept as sent for the JSON.
func escStore() *store.Store {
	h := domainHost("mx.esc.example", 10, "192.0.2.8")
	r := h.Results[0]
	r.Banner.Lines = []string{"mx.esc.example ESMTP \x1b[2J\xff"}
	r.Steps[1].Reply = r.Banner
	r.Steps[2].Reply.Lines = []string{"mx.esc.example \x1b]0;pwned\x07", "X-HOSTILE \x1b[31mred\xfe"}
	r.Extensions = &smtp.Extensions{Greeting: "mx.esc.example \x1b]0;pwned\x07",
		Keywords:       []smtp.Keyword{{Name: "X-HOSTILE", Params: "\x1b[31mred\xfe"}, {Name: "SIZE", Params: "-5"}, {Name: "STARTTLS"}},
		SizeAdvertised: true, SizeInvalid: true}
	r.ExtensionsTLS = nil
	r.TLS.Verified, r.TLS.VerifyError = false, "x509: certificate is valid for evil\x1b[8m\xc0, not mx.esc.example"
	st := store.New()
	st.Put(entry("default", domainReport("esc.example", h)))
	return st
}

// TestPagesShowRemoteTextEscaped: html/template escapes markup, not
// control bytes or invalid UTF-8; every page shows them as \xNN, as the
// text report does, and an invalid SIZE reads as such, not as no limit.
func TestPagesShowRemoteTextEscaped(t *testing.T) {
	srv := serve(t, escStore(), Options{})
	overview := get(t, srv.URL+"/status")
	transcript := get(t, overview.link(t, "transcript", "mx.esc.example"))
	text := get(t, transcript.link(t, "", "report?"))
	for name, p := range map[string]page{"overview": overview, "transcript page": transcript, "text report": text} {
		if p.status != 200 {
			t.Fatalf("%s: status %d", name, p.status)
		}
		if !utf8.ValidString(p.body) {
			t.Errorf("%s carries bytes that are not UTF-8", name)
		}
		if i := strings.IndexFunc(p.body, func(r rune) bool { return (r < ' ' && r != '\n' && r != '\t') || r == 0x7f }); i >= 0 {
			t.Errorf("%s carries a raw control byte near %q", name, p.body[max(0, i-40):min(len(p.body), i+40)])
		}
	}
	for name, want := range map[string][]string{
		"overview":        {`invalid SIZE value`, `&#34;-5&#34;`, `evil\x1b[8m\xc0`},
		"transcript page": {`X-HOSTILE \x1b[31mred\xfe`, `mx.esc.example \x1b]0;pwned\x07`, `ESMTP \x1b[2J\xff`},
		"text report":     {`X-HOSTILE \x1b[31mred\xfe`, `invalid SIZE value "-5"`, `evil\x1b[8m\xc0`},
	} {
		body := map[string]page{"overview": overview, "transcript page": transcript, "text report": text}[name].body
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s lacks %s", name, w)
			}
		}
	}
	if strings.Contains(overview.body, "no fixed limit") {
		t.Errorf("the overview shows an invalid SIZE as no fixed limit")
	}
}
