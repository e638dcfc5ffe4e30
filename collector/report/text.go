package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/prober"
	"github.com/mx-exporter/mx_exporter/collector/smtp"
)

// ANSI styles; empty when colour is off.
type palette struct {
	sent, ok, warn, bad, note, bold, reset string
}

var (
	colours = palette{sent: "\x1b[36m", ok: "\x1b[32m", warn: "\x1b[33m", bad: "\x1b[31m", note: "\x1b[2m", bold: "\x1b[1m", reset: "\x1b[0m"}
	plain   palette
)

// WriteText writes the report as a person reads it at 3 a.m.: the MX
// lookup, then for every host and address the transcript with C: for what
// we sent and S: for what the server answered, the step times, the
// extensions, TLS, recipients, relay check and a one-line verdict.
func WriteText(w io.Writer, rep *prober.Report, colour bool) error {
	p := plain
	if colour {
		p = colours
	}
	tw := &textWriter{w: w, p: p}
	tw.report(rep)
	return tw.err
}

type textWriter struct {
	w   io.Writer
	p   palette
	err error
}

func (t *textWriter) printf(format string, args ...any) {
	if t.err != nil {
		return
	}
	_, t.err = fmt.Fprintf(t.w, format, args...)
}

func (t *textWriter) report(rep *prober.Report) {
	p := t.p
	t.printf("%s%s%s\n", p.bold, rep.Target.Name(), p.reset)
	if d := rep.DNS; d != nil {
		t.dns(d, len(rep.Hosts))
	}
	for i := range rep.Hosts {
		t.host(rep, &rep.Hosts[i])
	}
	verdict, style := "OK", p.ok
	if !rep.Success() {
		verdict, style = "FAIL", p.bad
	}
	t.printf("\n%s%s%s %s in %s\n", style, verdict, p.reset, rep.Target.Name(), ms(rep.Duration))
}

func (t *textWriter) dns(d *dnsmx.Domain, hosts int) {
	p := t.p
	from := ""
	if d.Server != "" {
		from = " from " + d.Server
	}
	switch {
	case d.NullMX:
		t.printf("MX lookup: null MX (RFC 7505): %s accepts no mail; nothing to probe (%s%s)\n", d.Name, ms(d.Duration), from)
	case d.Implicit:
		t.printf("MX lookup: no MX record; the domain's own address is its implicit MX (RFC 5321 5.1) (%s%s)\n", ms(d.Duration), from)
	case d.Outcome == dnsmx.OutcomeAnswer:
		t.printf("MX lookup: %d host(s) in %s%s\n", hosts, ms(d.Duration), from)
	default:
		t.printf("MX lookup: %s%s%s: %s (%s%s)\n", p.bad, strings.ToUpper(string(d.Outcome)), p.reset, dnsProblem(d), ms(d.Duration), from)
	}
	for _, n := range d.Notes {
		t.printf("  %snote: %s%s\n", p.warn, n, p.reset)
	}
	if d.HostsDropped > 0 {
		t.printf("  %s%d more MX host(s) not probed (max_mx_hosts)%s\n", p.warn, d.HostsDropped, p.reset)
	}
}

func (t *textWriter) host(rep *prober.Report, h *prober.HostReport) {
	p := t.p
	t.printf("\n")
	if rep.DNS != nil {
		t.printf("%sMX %d %s%s", p.bold, h.Preference, h.Name, p.reset)
	} else {
		t.printf("%s%s%s", p.bold, h.Name, p.reset)
	}
	if h.CNAME != "" {
		t.printf("  %s(alias of %s: an MX must not point at a CNAME, RFC 2181 10.3)%s", p.warn, h.CNAME, p.reset)
	}
	t.printf("\n")
	if len(h.Addrs) == 0 {
		msg := h.Err
		if msg == "" {
			msg = "no address"
		}
		t.printf("  %saddress lookup: %s%s\n", p.bad, msg, p.reset)
		return
	}
	if h.AddrsDropped > 0 {
		t.printf("  %s%d more address(es) not probed (max_addresses_per_host)%s\n", p.warn, h.AddrsDropped, p.reset)
	}
	for _, res := range h.Results {
		if res != nil {
			t.address(res)
		}
	}
}

func (t *textWriter) address(r *smtp.Result) {
	p := t.p
	t.printf("\n  %s%s port %d%s\n", p.bold, r.Addr, r.Port, p.reset)
	for _, l := range r.Transcript {
		t.line(l)
	}
	if r.TranscriptTruncated {
		t.printf("    %s… transcript truncated%s\n", p.note, p.reset)
	}
	t.steps(r)
	t.extensions("extensions", r.Extensions)
	t.extensions("extensions after STARTTLS", r.ExtensionsTLS)
	if r.TLS != nil {
		tl := r.TLS
		t.printf("    TLS:        %s %s", tl.Version, tl.CipherSuite)
		if !tl.LeafNotAfter.IsZero() {
			// Days counted from the probe, not from now: a stored report
			// reads the same later.
			days := tl.ChainNotAfter.Sub(r.Start.Add(r.Duration)).Hours() / 24
			t.printf(", expires %s (%.0f days)", tl.ChainNotAfter.UTC().Format("2006-01-02"), days)
		}
		if tl.Verified {
			t.printf(", %sverified for %s%s\n", p.ok, tl.ServerName, p.reset)
		} else {
			t.printf(", %snot verified: %s%s\n", p.warn, tl.VerifyError, p.reset)
		}
	}
	for _, rc := range r.Recipients {
		style, word := p.ok, "accepted"
		if !rc.Accepted {
			style, word = p.bad, "NOT accepted"
		}
		t.printf("    recipient:  %s %s %s%s%s\n", rc.Address, replyCode(rc.Reply), style, word, p.reset)
	}
	if rl := r.Relay; rl != nil {
		switch rl.Verdict {
		case smtp.RelayRefused:
			t.printf("    relay:      %s %s %srefused: no open relay%s\n", rl.Address, replyCode(rl.Reply), p.ok, p.reset)
		case smtp.RelayOpen:
			t.printf("    relay:      %s %s %sACCEPTED: OPEN RELAY%s\n", rl.Address, replyCode(rl.Reply), p.bad, p.reset)
		default:
			t.printf("    relay:      %s %s %sinconclusive (temporary failure or no reply)%s\n", rl.Address, replyCode(rl.Reply), p.warn, p.reset)
		}
	}
	if r.Success {
		t.printf("    verdict:    %sOK%s in %s\n", p.ok, p.reset, ms(r.Duration))
	} else {
		t.printf("    verdict:    %sFAIL %s%s: %s (after %s)\n", p.bad, r.Reason, p.reset, r.Detail, ms(r.Duration))
	}
}

func (t *textWriter) line(l smtp.Line) {
	p := t.p
	var prefix, style string
	switch l.Dir {
	case smtp.Sent:
		prefix, style = "C:", p.sent
	case smtp.Received:
		prefix, style = "S:", p.ok
		switch {
		case strings.HasPrefix(l.Text, "4"):
			style = p.warn
		case strings.HasPrefix(l.Text, "5"):
			style = p.bad
		}
	default:
		prefix, style = "* ", p.note
	}
	t.printf("    %s%8.1fms%s %s%s %s%s\n", p.note, float64(l.At.Microseconds())/1000, p.reset, style, prefix, l.Text, p.reset)
}

func (t *textWriter) steps(r *smtp.Result) {
	if len(r.Steps) == 0 {
		return
	}
	parts := make([]string, 0, len(r.Steps))
	for _, s := range r.Steps {
		part := s.Name + " " + ms(s.Duration)
		if s.Reply.Code != 0 {
			part += " (" + replyCode(s.Reply) + ")"
		}
		parts = append(parts, part)
	}
	t.printf("    steps:      %s\n", strings.Join(parts, ", "))
}

func (t *textWriter) extensions(label string, e *smtp.Extensions) {
	if e == nil {
		return
	}
	keys := make([]string, 0, len(e.Keywords))
	for _, k := range e.Keywords {
		if k.Params != "" {
			keys = append(keys, k.Name+" "+k.Params)
		} else {
			keys = append(keys, k.Name)
		}
	}
	sort.Strings(keys)
	t.printf("    %-11s %s\n", label+":", strings.Join(keys, ", "))
	if e.SizeAdvertised {
		if e.Size > 0 {
			t.printf("    SIZE limit: %d bytes (%.1f MiB)\n", e.Size, float64(e.Size)/(1<<20))
		} else {
			t.printf("    SIZE limit: none declared\n")
		}
	}
}

// dnsProblem says what a failed MX lookup means for mail.
func dnsProblem(d *dnsmx.Domain) string {
	switch d.Outcome {
	case dnsmx.OutcomeNXDomain:
		return d.Name + " does not exist: mail to it bounces"
	case dnsmx.OutcomeNoData:
		return "no MX record and no address record: " + d.Name + " cannot receive mail"
	}
	if d.Err != "" {
		return d.Err
	}
	return string(d.Outcome)
}

func replyCode(r smtp.Reply) string {
	if r.Code == 0 {
		return "no reply"
	}
	if r.Enhanced != "" {
		return fmt.Sprintf("%d %s", r.Code, r.Enhanced)
	}
	return fmt.Sprintf("%d", r.Code)
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
}
