package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
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
func WriteText(w io.Writer, rep *probe.Report, colour bool) error {
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

func (t *textWriter) report(rep *probe.Report) {
	p := t.p
	t.printf("%s%s%s\n", p.bold, rep.Target.Name(), p.reset)
	if d := rep.DNS; d != nil {
		t.dns(d, len(rep.Hosts))
	}
	for i := range rep.Hosts {
		t.host(rep, &rep.Hosts[i])
	}
	t.summary(rep)
}

// summary is the last line: the verdict, how many addresses failed and
// whether mail still gets through, which is what the on-call asks first.
func (t *textWriter) summary(rep *probe.Report) {
	p := t.p
	s := summarise(rep)
	name, took := rep.Target.Name(), ms(rep.Duration)
	switch {
	case rep.DNS != nil && rep.DNS.NullMX:
		t.printf("\n%sOK%s %s: null MX, accepts no mail by design (%s)\n", p.ok, p.reset, name, took)
	case rep.DNS != nil && rep.DNS.Outcome != dnsmx.OutcomeAnswer && !rep.DNS.Implicit:
		t.printf("\n%sFAIL%s %s: the MX lookup failed (%s): senders cannot find where to deliver (%s)\n", p.bad, p.reset, name, rep.DNS.Outcome, took)
	case rep.Success():
		t.printf("\n%sOK%s %s: %s passed (%s)\n", p.ok, p.reset, name, count(s.addresses, "address", "addresses"), took)
	case s.through != nil:
		t.printf("\n%sDEGRADED%s %s: %s; delivery works through %s (%s)\n", p.warn, p.reset, name, s.failures(), s.throughName(rep), took)
	case s.addresses == 0:
		t.printf("\n%sFAIL%s %s: no MX host has an address to deliver to (%s)\n", p.bad, p.reset, name, took)
	case s.takesMail:
		t.printf("\n%sFAIL%s %s: %s (%s)\n", p.bad, p.reset, name, s.failures(), took)
	default:
		t.printf("\n%sFAIL%s %s: %s; no address takes mail (%s)\n", p.bad, p.reset, name, s.failures(), took)
	}
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
		t.printf("MX lookup: implicit MX (no MX record): the domain's own address receives its mail (RFC 5321 5.1) (%s%s)\n", ms(d.Duration), from)
	case d.Outcome == dnsmx.OutcomeAnswer:
		t.printf("MX lookup: %d host(s) in %s%s\n", hosts, ms(d.Duration), from)
	default:
		t.printf("MX lookup: %s%s%s: %s (%s%s)\n", p.bad, strings.ToUpper(string(d.Outcome)), p.reset, dnsProblem(d), ms(d.Duration), from)
	}
	if d.NullMXMixed {
		t.printf("  %s%s%s\n", p.warn, NullMXMixedWords, p.reset)
	}
	for _, n := range d.Notes {
		t.printf("  %snote: %s%s\n", p.warn, n, p.reset)
	}
	if d.HostsDropped > 0 {
		t.printf("  %s%d more MX host(s) not probed (max_mx_hosts)%s\n", p.warn, d.HostsDropped, p.reset)
	}
}

func (t *textWriter) host(rep *probe.Report, h *probe.HostReport) {
	p := t.p
	t.printf("\n")
	switch {
	case rep.DNS != nil && rep.DNS.Implicit:
		t.printf("%simplicit MX (no MX record) %s%s", p.bold, h.Name, p.reset)
	case rep.DNS != nil:
		t.printf("%sMX %d %s%s", p.bold, h.Preference, h.Name, p.reset)
	default:
		t.printf("%s%s%s", p.bold, h.Name, p.reset)
	}
	t.printf("\n")
	for _, f := range HostFacts(&h.Host) {
		t.printf("  %s%s%s\n", p.warn, f, p.reset)
	}
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
	if len(r.Transcript) > 0 && !r.Start.IsZero() {
		t.printf("    %stranscript of the probe started %s; times count from that start%s\n", p.note, r.Start.UTC().Format("2006-01-02 15:04:05.000 UTC"), p.reset)
	}
	for _, l := range r.Transcript {
		t.line(l)
	}
	if r.TranscriptTruncated {
		t.printf("    %s… transcript truncated%s\n", p.note, p.reset)
	}
	t.steps(r)
	t.extensions("extensions", r.Extensions)
	t.extensions("extensions after STARTTLS", r.ExtensionsTLS)
	t.tls(r)
	for _, rc := range r.Recipients {
		style, word := p.ok, "accepted"
		switch {
		case rc.Deferred:
			style, word = p.warn, "DEFERRED (try again later: the mailbox is not refused)"
		case !rc.Accepted:
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
	t.findings(r)
	if r.Success {
		t.printf("    verdict:    %sOK%s in %s\n", p.ok, p.reset, ms(r.Duration))
	} else {
		t.printf("    verdict:    %sFAIL %s%s: %s (after %s)\n", p.bad, r.Reason, p.reset, r.Detail, ms(r.Duration))
	}
}

// tls says what TLS the address gave: the session, a failed STARTTLS, or
// none, in the words that matter for mail: does it travel in clear?
func (t *textWriter) tls(r *smtp.Result) {
	p := t.p
	if f := r.TLSFailure; f != nil {
		t.printf("    TLS:        %s%s%s\n", p.bad, TLSFailureWords(f), p.reset)
		if f.Fallback {
			t.printf("                %s%s%s\n", p.warn, FallbackWords(f), p.reset)
		}
	}
	tl := r.TLS
	if tl == nil {
		if r.TLSFailure == nil && r.Extensions != nil && !r.Extensions.Has("STARTTLS") {
			t.printf("    TLS:        %sno TLS: STARTTLS not offered, mail to this address travels in clear%s\n", p.warn, p.reset)
		} else if r.TLSFailure == nil && r.Extensions != nil && r.Success {
			t.printf("    TLS:        not tried (starttls: off)\n")
		}
		return
	}
	t.printf("    TLS:        %s %s", tl.Version, tl.CipherSuite)
	// Days are counted from the probe, not from now: a stored report reads
	// the same later.
	at := r.Start.Add(r.Duration)
	if !tl.ChainNotAfter.IsZero() && !at.After(tl.ChainNotAfter) {
		days := tl.ChainNotAfter.Sub(at).Hours() / 24
		t.printf(", expires %s (%.0f days)", tl.ChainNotAfter.UTC().Format("2006-01-02"), days)
	}
	if tl.Verified {
		t.printf(", %sverified for %s%s\n", p.ok, tl.ServerName, p.reset)
	} else {
		t.printf(", %snot verified: %s%s\n", p.warn, tl.VerifyError, p.reset)
	}
	switch {
	case !tl.ChainNotAfter.IsZero() && at.After(tl.ChainNotAfter):
		t.printf("                %scertificate EXPIRED on %s, %.0f days before this probe%s\n", p.bad,
			tl.ChainNotAfter.UTC().Format("2006-01-02 15:04 UTC"), at.Sub(tl.ChainNotAfter).Hours()/24, p.reset)
	case !tl.LeafNotBefore.IsZero() && at.Before(tl.LeafNotBefore):
		t.printf("                %scertificate NOT YET VALID: valid from %s, %.0f days after this probe%s\n", p.bad,
			tl.LeafNotBefore.UTC().Format("2006-01-02 15:04 UTC"), tl.LeafNotBefore.Sub(at).Hours()/24, p.reset)
	}
}

// findings puts each named fact of the dialogue in words.
func (t *textWriter) findings(r *smtp.Result) {
	for _, f := range r.Findings {
		t.printf("    %sfinding:    %s%s\n", t.p.warn, FindingWords(r, f), t.p.reset)
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
	// In the order the server sent them, as telnet shows them.
	keys := make([]string, 0, len(e.Keywords))
	for _, k := range e.Keywords {
		if k.Params != "" {
			keys = append(keys, k.Name+" "+k.Params)
		} else {
			keys = append(keys, k.Name)
		}
	}
	t.printf("    %-11s %s\n", label+":", strings.Join(keys, ", "))
	switch {
	case !e.SizeAdvertised:
	case e.SizeInvalid:
		params, _ := e.Params("SIZE")
		t.printf("    SIZE limit: %sinvalid SIZE value %q%s: no usable limit\n", t.p.warn, params, t.p.reset)
	case e.Size > 0:
		t.printf("    SIZE limit: %d bytes (%.1f MiB)\n", e.Size, float64(e.Size)/(1<<20))
	default:
		t.printf("    SIZE limit: none declared\n")
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

// deliverySummary counts a report's dialogues for its last line.
type deliverySummary struct {
	addresses, failed int
	noAddress         int               // MX hosts without an address
	through           *probe.HostReport // the most preferred host with an address that passed
	takesMail         bool              // some address accepted the recipients, even if it failed after
}

func summarise(rep *probe.Report) deliverySummary {
	var s deliverySummary
	for i := range rep.Hosts {
		h := &rep.Hosts[i]
		if len(h.Addrs) == 0 {
			s.noAddress++
		}
		for _, res := range h.Results {
			if res == nil {
				continue
			}
			s.addresses++
			if !res.Success {
				s.failed++
			}
			if s.through == nil && res.Success {
				s.through = h
			}
			s.takesMail = s.takesMail || takesMail(res)
		}
	}
	return s
}

// takesMail reports whether the address would take a message: everything
// up to RCPT went as expected. An open relay does, dangerously.
func takesMail(res *smtp.Result) bool {
	return res.Success || res.Reason == smtp.ReasonRelayOpen
}

// failures says what failed: addresses, and MX hosts without one.
func (s deliverySummary) failures() string {
	msg := fmt.Sprintf("%d of %s failed", s.failed, count(s.addresses, "address", "addresses"))
	if s.noAddress > 0 {
		msg += ", " + count(s.noAddress, "MX host has", "MX hosts have") + " no address"
	}
	return msg
}

func (s deliverySummary) throughName(rep *probe.Report) string {
	h := s.through
	switch {
	case rep.DNS == nil:
		return h.Name
	case rep.DNS.Implicit:
		return "the implicit MX " + h.Name
	}
	return fmt.Sprintf("MX %d %s", h.Preference, h.Name)
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
