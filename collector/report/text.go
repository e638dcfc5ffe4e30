package report

import (
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/printable"
	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dane"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
)

// ANSI styles; empty when colour is off.
type palette struct {
	sent, ok, warn, bad, note, bold, reset safe
}

// safe is text of ours that printf writes as it is: the palette's ANSI
// sequences, and strings whose remote parts were already made printable.
// Every other string printf is given goes through printable.String, so
// that what a server sent (EHLO parameters, reply text, TXT records, policy
// text, names in certificates, PTR names) cannot drive the terminal.
type safe string

var (
	colours = palette{sent: "\x1b[36m", ok: "\x1b[32m", warn: "\x1b[33m", bad: "\x1b[31m", note: "\x1b[2m", bold: "\x1b[1m", reset: "\x1b[0m"}
	plain   palette
)

// WriteText writes the report as a person reads it at 3 a.m.: the MX
// lookup, the domain's MTA-STS and TLS-RPT, then for every host and address
// the transcript with C: for what we sent and S: for what the server
// answered, the step times, the extensions, TLS, recipients, relay check
// and a one-line verdict.
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
	// resolverSaid: the report said at the top why DNSSEC is not checked.
	resolverSaid bool
}

func (t *textWriter) printf(format string, args ...any) {
	if t.err != nil {
		return
	}
	for i, a := range args {
		args[i] = shown(a)
	}
	_, t.err = fmt.Fprintf(t.w, format, args...)
}

// shown is an argument of printf as a person may see it: strings (of any
// string type) and errors made printable, safe text and everything else
// (numbers, addresses, times) as they are.
func shown(a any) any {
	switch v := a.(type) {
	case safe:
		return string(v)
	case string:
		return printable.String(v)
	case error:
		return printable.String(v.Error())
	case fmt.Stringer:
		if reflect.ValueOf(v).Kind() == reflect.String {
			return printable.String(v.String())
		}
		return v
	}
	if v := reflect.ValueOf(a); v.Kind() == reflect.String {
		return printable.String(v.String())
	}
	return a
}

func (t *textWriter) report(rep *probe.Report) {
	p := t.p
	t.printf("%s%s%s\n", p.bold, rep.Target.Name(), p.reset)
	if resolverDoubtful(rep) {
		t.printf("%s%s%s\n", p.warn, ResolverWords(rep.Validation), p.reset)
		t.resolverSaid = true
	}
	t.unhealthyZones(rep)
	if d := rep.DNS; d != nil {
		t.dns(d, len(rep.Hosts))
	}
	t.mtaSTS(rep)
	t.tlsRPT(rep)
	for i := range rep.Hosts {
		t.host(rep, &rep.Hosts[i])
	}
	t.ipv6(rep)
	t.summary(rep)
}

// summary is the last line: the verdict, how many addresses failed and
// whether mail still gets through, which is what the on-call asks first;
// then listings, a missing FCrDNS and IPv6 gaps, which fail nothing.
func (t *textWriter) summary(rep *probe.Report) {
	p := t.p
	s := summarise(rep)
	id := t.identityNote(rep)
	name, took := rep.Target.Name(), ms(rep.Duration)
	switch {
	case rep.DNS != nil && rep.DNS.NullMX:
		t.printf("\n%sOK%s %s: null MX, accepts no mail by design (%s)\n", p.ok, p.reset, name, took)
	case rep.DNS != nil && rep.DNS.Outcome != dnsmx.OutcomeAnswer && !rep.DNS.Implicit:
		t.printf("\n%sFAIL%s %s: the MX lookup failed (%s): senders cannot find where to deliver (%s)\n", p.bad, p.reset, name, rep.DNS.Outcome, took)
	case rep.Success():
		reported := ""
		if s.daneReported > 0 {
			reported = fmt.Sprintf("; DANE fails on %d of them, which the module only reports (dane: report)", s.daneReported)
		}
		t.printf("\n%sOK%s %s: %s passed%s%s%s (%s)\n", p.ok, p.reset, name, count(s.addresses, "address", "addresses"), reported, policyNote(rep), id, took)
	case s.through != nil:
		t.printf("\n%sDEGRADED%s %s: %s; delivery works through %s%s%s (%s)\n", p.warn, p.reset, name, s.failures(), s.throughName(rep), policyNote(rep), id, took)
	case s.addresses == 0:
		t.printf("\n%sFAIL%s %s: no MX host has an address to deliver to (%s)\n", p.bad, p.reset, name, took)
	case s.policy() > 0 && s.policy() == s.failed && s.daneTookMail+s.mtaSTSTookMail == s.policy():
		t.printf("\n%sFAIL%s %s: %s; mail from %s senders stops, other senders still deliver%s (%s)\n", p.bad, p.reset, name, s.failures(), s.policySenders(), id, took)
	case s.policy() > 0:
		t.printf("\n%sFAIL%s %s: %s; mail from %s senders stops%s (%s)\n", p.bad, p.reset, name, s.failures(), s.policySenders(), id, took)
	case s.takesMail:
		t.printf("\n%sFAIL%s %s: %s%s (%s)\n", p.bad, p.reset, name, s.failures(), id, took)
	default:
		t.printf("\n%sFAIL%s %s: %s; no address takes mail%s (%s)\n", p.bad, p.reset, name, s.failures(), id, took)
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
	what := "MX records"
	if d.Implicit {
		what = "the denial of MX records"
	}
	t.security(what, d.MXSecurity)
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
	t.security("address records", h.Security)
	t.hostMTASTS(rep, h)
	t.hostListings(rep, h)
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
			t.address(rep, h, res)
		}
	}
}

func (t *textWriter) address(rep *probe.Report, h *probe.HostReport, r *smtp.Result) {
	p := t.p
	t.printf("\n  %s%s port %d%s%s\n", p.bold, r.Addr, r.Port, p.reset, t.reverseLabel(h, r))
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
	t.dane(h, r)
	t.addressMTASTS(rep, h, r)
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
	t.identity(rep, h, r)
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

// resolverDoubtful reports whether the report must say that its DNSSEC
// states are not known: the module looks at DANE, or the resolver is
// trusted, and it does not validate. A target given as an IP address asks
// no DNS at all, so nothing is missing.
func resolverDoubtful(rep *probe.Report) bool {
	if rep.Target.IsAddr() || rep.Validation.Validating {
		return false
	}
	return rep.Asked.DANE != "" || rep.Validation.Trusted
}

// security says the DNSSEC state of the records named by what, when it is
// known.
func (t *textWriter) security(what string, s dnsmx.Security) {
	w := SecurityWords(what, s)
	if w == "" {
		return
	}
	t.printf("  DNSSEC: %s%s%s\n", t.securityStyle(s), w, t.p.reset)
}

// securityStyle is the colour of a DNSSEC state.
func (t *textWriter) securityStyle(s dnsmx.Security) safe {
	switch s {
	case dnsmx.SecuritySecure:
		return t.p.ok
	case dnsmx.SecurityBogus:
		return t.p.bad
	case dnsmx.SecurityUnknown:
		return t.p.warn
	}
	return ""
}

// dane is the address's DANE block: the verdict and what it means for the
// probe, the TLSA name when it is not the host's own, one line per record,
// and the digest and rollover warnings.
func (t *textWriter) dane(h *probe.HostReport, r *smtp.Result) {
	c := r.DANE
	if c == nil {
		return
	}
	p := t.p
	if c.Status == dane.StatusNotChecked && t.resolverSaid {
		// Why was said once at the top; every address repeating it
		// would bury the rest.
		t.printf("    DANE:       %s (see the DNSSEC line at the top)\n", DANELabel(c.Status))
		return
	}
	var style safe
	switch {
	case c.Status.Failure():
		style = p.bad
	case c.Status == dane.StatusPass:
		style = p.ok
	}
	t.printf("    DANE:       %s%s%s\n", style, DANEWords(c), p.reset)
	if w := DANEConsequence(c); w != "" {
		t.printf("                %s%s%s\n", style, w, p.reset)
	}
	if w := TLSANameWords(c, h.Name, r.Port); w != "" {
		t.printf("                %s\n", w)
	}
	if w := TLSASecurityWords(h.TLSA); w != "" {
		t.printf("                DNSSEC: %s%s%s\n", t.securityStyle(h.TLSA.Security), w, p.reset)
	}
	if res := c.Result; res != nil {
		for _, rr := range res.Records {
			t.tlsaRecord(rr.Record, recordStyle(p, rr, c.Status), RecordWords(rr))
		}
		t.droppedRecords(h)
		for _, pair := range res.DigestDisagreement {
			t.printf("                %s%s%s\n", p.warn, DigestDisagreementWords(pair), p.reset)
		}
		if usable, _ := res.Counts(); usable > 0 {
			rollover := p.ok
			if !res.Rollover.Ready {
				rollover = p.warn
			}
			t.printf("                rollover: %s%s%s\n", rollover, RolloverWords(res.Rollover), p.reset)
		}
	} else if l := h.TLSA; l != nil && l.Security == dnsmx.SecuritySecure {
		// No chain was judged (no TLS session): the records DNS gave
		// still show what a DANE sender expects.
		for _, rec := range l.Records {
			var style safe
			if rec.Class() != dane.ClassUsable {
				style = p.warn
			}
			t.tlsaRecord(rec, style, RecordClassWords(rec))
		}
		t.droppedRecords(h)
	}
	if c.Status == dane.StatusPass && r.TLS != nil && !r.TLS.ChainNotAfter.IsZero() && r.Start.Add(r.Duration).After(r.TLS.ChainNotAfter) {
		t.printf("                %s%s%s\n", p.warn, DANEExpiredWords, p.reset)
	}
}

func (t *textWriter) droppedRecords(h *probe.HostReport) {
	if h.TLSA != nil && h.TLSA.RecordsDropped > 0 {
		t.printf("                %s%s%s\n", t.p.warn, DroppedRecordsWords(h.TLSA.RecordsDropped), t.p.reset)
	}
}

func (t *textWriter) tlsaRecord(rec dane.TLSA, style safe, words string) {
	t.printf("                %-24s %-22s %s%s%s\n", TLSAShort(rec), TLSAParams(rec), style, words, t.p.reset)
}

// recordStyle colours a record's outcome. A record that does not match is
// bad only when nothing did: beside a match it is the next key, published
// ahead.
func recordStyle(p palette, rr dane.RecordResult, s dane.Status) safe {
	switch rr.Outcome {
	case dane.Matched:
		if rr.TAExpired {
			return p.warn
		}
		return p.ok
	case dane.NotMatched:
		if s.Failure() {
			return p.bad
		}
		return ""
	}
	return p.warn
}

// findings puts each named fact of the dialogue in words.
func (t *textWriter) findings(r *smtp.Result) {
	for _, f := range r.Findings {
		t.printf("    %sfinding:    %s%s\n", t.p.warn, FindingWords(r, f), t.p.reset)
	}
}

func (t *textWriter) line(l smtp.Line) {
	p := t.p
	var prefix string
	var style safe
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
		t.printf("    SIZE limit: %sinvalid SIZE value \"%s\"%s: no usable limit\n", t.p.warn, params, t.p.reset)
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
	// dane counts the failures of DANE (the module enforces it), and
	// daneTookMail those of them whose recipients were all accepted all
	// the same; daneReported the addresses that passed although DANE
	// failed, because the module only reports it.
	dane, daneTookMail, daneReported int
	// mtaSTS counts the failures of MTA-STS (the module enforces it),
	// and mtaSTSTookMail those whose recipients were all accepted.
	mtaSTS, mtaSTSTookMail int
}

// policy counts the failures that only senders applying a policy (DANE,
// MTA-STS) meet.
func (s deliverySummary) policy() int { return s.dane + s.mtaSTS }

// policySenders names the senders the policy failures stop.
func (s deliverySummary) policySenders() string {
	switch {
	case s.dane > 0 && s.mtaSTS > 0:
		return "DANE and MTA-STS"
	case s.mtaSTS > 0:
		return "MTA-STS"
	}
	return "DANE"
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
			switch {
			case daneFailed(res):
				s.dane++
				if acceptedAll(res) {
					s.daneTookMail++
				}
			case res.Success && res.DANE != nil && res.DANE.Status.Failure():
				s.daneReported++
			case mtaSTSFailed(res):
				s.mtaSTS++
				if acceptedAll(res) {
					s.mtaSTSTookMail++
				}
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

// daneFailed reports whether the dialogue failed for DANE: the module
// enforces it, and the failure reason is DANE's (a DANE failure found after
// another failure leaves that one as the reason, and is not counted here).
func daneFailed(res *smtp.Result) bool {
	if res.Success || !res.DANE.Failed() {
		return false
	}
	switch res.Reason {
	case smtp.ReasonDANEMismatch, smtp.ReasonDANETLSABogus, smtp.ReasonDANETLSALookupFailed, smtp.ReasonDANEStartTLSMissing:
		return true
	case smtp.ReasonStartTLSFailed:
		return res.DANE.Status == dane.StatusTLSFailed
	}
	return false
}

// mtaSTSFailed reports whether the dialogue failed for MTA-STS: the
// module enforces it and the failure reason is MTA-STS's (one found after
// another failure leaves that one as the reason, and is not counted here).
func mtaSTSFailed(res *smtp.Result) bool {
	return !res.Success && (res.Reason == smtp.ReasonMTASTSUncovered || res.Reason == smtp.ReasonMTASTSTLSInvalid)
}

// acceptedAll reports whether every configured mailbox was accepted: a
// sender that does not look at DANE delivers.
func acceptedAll(res *smtp.Result) bool {
	if len(res.Recipients) == 0 {
		return false
	}
	for _, rc := range res.Recipients {
		if !rc.Accepted {
			return false
		}
	}
	return true
}

// failures says what failed: addresses, and MX hosts without one.
func (s deliverySummary) failures() string {
	msg := fmt.Sprintf("%d of %s failed", s.failed, count(s.addresses, "address", "addresses"))
	switch {
	case s.dane > 0 && s.dane == s.failed:
		msg += " DANE"
	case s.mtaSTS > 0 && s.mtaSTS == s.failed:
		msg += " MTA-STS"
	case s.dane > 0 && s.mtaSTS > 0:
		msg += fmt.Sprintf(", %d of them DANE, %d MTA-STS", s.dane, s.mtaSTS)
	case s.dane > 0:
		msg += fmt.Sprintf(", %d of them DANE", s.dane)
	case s.mtaSTS > 0:
		msg += fmt.Sprintf(", %d of them MTA-STS", s.mtaSTS)
	}
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
