package status

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dane"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/probe/tlscheck"
	"github.com/mx-exporter/mx_exporter/collector/report"
	"github.com/mx-exporter/mx_exporter/collector/store"
)

// Style classes of the templates: they colour a fact.
const (
	good    = "good"
	bad     = "bad"
	warn    = "warn"
	neutral = "neutral"
)

// overviewPage is the status page.
type overviewPage struct {
	layout
	Targets        []targetView // those of this page
	Failing        []targetLink // every failing target, for the summary's links (capped)
	FailingMore    int          // failing targets left out of Failing
	AddrsTotal     int
	AddrsFailing   int
	TargetsTotal   int
	TargetsFailing int
	FailingOnly    bool // the healthy targets are left out
	// Resolver says whether DNSSEC states can be believed: the self-check
	// of the trusted resolver, or that none is trusted while targets ask
	// for DANE. Text "" when DNSSEC concerns no target.
	Resolver fact
	// Policy counts the domains whose MTA-STS fails or warns; Text ""
	// when none does.
	Policy fact
	// Identity counts the targets with a blocklist listing and the
	// domains with an IPv6 gap; Text "" when there are none.
	Identity fact

	// Paging: targets First to Last (1-based) of Listed are on page Page of
	// Pages; Prev and Next are links, "" at either end.
	Page, Pages         int
	First, Last, Listed int
	Prev, Next          string
}

// targetLink is a link to a target's section, wherever its page is.
type targetLink struct {
	Name, Module, Link string
}

// targetView is one configured target.
type targetView struct {
	Anchor   string // id of its section
	Name     string
	Module   string
	Kind     string // "domain" or "host"
	NullMX   bool   // nothing to probe, by the domain's own choice
	OK       bool
	Ago      string // "12 s ago"
	Taken    string // RFC 3339, UTC
	Duration string
	DNS      fact
	DNSSEC   fact // of the MX records; Text "" when not known
	DANE     bool // the module looks at DANE: the table has its column
	// MTASTS and TLSRPT are the domain's published TLS policy, nil for a
	// host target or a module with mta_sts off; PolicyMark is the badge
	// of a domain whose MTA-STS fails or warns (Text "" otherwise).
	MTASTS     *mtastsView
	TLSRPT     *tlsrptView
	PolicyMark fact
	// Marks are the badges of a listing or an IPv6 gap (identityMarks);
	// IPv6 is the domain's IPv6 parity, nil when none was judged.
	Marks  []fact
	IPv6   *ipv6View
	Notes  []string
	Rows   []rowView
	Report string // relative link to the text report
	JSON   string // relative link to the JSON report
}

// fact is a piece of text and how it should look.
type fact struct {
	Text  string
	Class string
}

// rowView is one address of one MX host, or an MX host without address.
type rowView struct {
	MX         string
	Preference string // "" for a host target
	IP         string
	Port       int
	OK         bool
	Result     string // "OK", "FAIL" or "NO ADDRESS"
	Reason     string
	Detail     string
	Duration   string
	Steps      []stepView
	Banner     []string // "220 mx.example ESMTP", one per line
	Size       fact
	SizeBytes  string // "12345678 bytes", "" when there is no limit
	TLS        []fact
	Findings   []fact // named facts that are not failures: greylisting, a slow step, a middlebox
	Relay      fact
	DNSSEC     fact      // of the MX host's addresses; Text "" when not known
	DANE       *daneView // nil when the module does not look at DANE
	// MTASTS is the MX host's coverage by the domain's policy, MTASTSTLS
	// whether this address's TLS satisfies it; Text "" when no policy
	// judged them.
	MTASTS    fact
	MTASTSTLS fact
	// Who is the address's reverse DNS, names and blocklist results.
	Who        identityRow
	Transcript string // relative link, "" when there is no dialogue
}

// daneView is the DANE outcome of one address.
type daneView struct {
	Status      string // as in mx_dane_verdict_info: "pass", "mismatch"…
	Label       string // in words, upper case for a failure
	Class       string
	Detail      string
	Consequence string // what a failure means for the probe; "" for none
	TLSA        string // the TLSA name and base domain, when they are not the host's own
	// DNSSEC is the state of the TLSA RRset or its denial: only a secure
	// one is DANE (RFC 7672 section 2.2). Text "" when no lookup was made.
	DNSSEC   fact
	Records  []recordView
	Notes    []fact // digest disagreement, a pass on an expired certificate
	Rollover fact   // Text "" when no record is usable or no chain was judged
}

// recordView is one TLSA record and what became of it.
type recordView struct {
	Short  string // "3 1 1 ABABABABABABABAB…"
	Params string // "DANE-EE SPKI SHA2-256"
	Data   string // the whole data, for a tooltip
	Words  string // "matched", "malformed: …"
	Class  string
}

type stepView struct {
	Name     string
	Duration string // milliseconds, without the unit
	Failed   bool
	Title    string // the reply or the error, for a tooltip
}

// buildOverview makes page pageNo (1-based; past the end: the last) of the
// overview with size targets per page. Views, the costly part, are built
// for that page's targets only; the summary counts every target.
func buildOverview(entries []*store.Entry, now time.Time, sub string, failingOnly bool, pageNo, size int) overviewPage {
	sortEntries(entries) // failing first: they fill the first pages
	page := overviewPage{FailingOnly: failingOnly, TargetsTotal: len(entries)}
	page.Resolver = resolverFact(entries)
	page.Policy = policySummary(entries)
	page.Identity = identitySummary(entries)
	for _, e := range entries {
		total, bad := countRows(e.Report)
		page.AddrsTotal += total
		page.AddrsFailing += bad
		if failing(e.Report) {
			page.TargetsFailing++
		}
	}
	listed := entries
	if failingOnly {
		listed = entries[:page.TargetsFailing] // sorted: the failing ones
	}
	page.Listed = len(listed)
	page.Pages = max(1, (len(listed)+size-1)/size)
	page.Page = min(pageNo, page.Pages)
	lo := (page.Page - 1) * size
	hi := min(lo+size, len(listed))
	page.First, page.Last = min(lo+1, hi), hi
	for _, e := range listed[lo:hi] {
		page.Targets = append(page.Targets, newTargetView(e, now, sub))
	}

	query := func(n int) string {
		v := url.Values{}
		if failingOnly {
			v.Set("show", "failing")
		}
		if n > 1 {
			v.Set("page", strconv.Itoa(n))
		}
		return "?" + v.Encode()
	}
	if page.Page > 1 {
		page.Prev = query(page.Page - 1)
	}
	if page.Page < page.Pages {
		page.Next = query(page.Page + 1)
	}
	for i, e := range entries[:page.TargetsFailing] {
		if len(page.Failing) == size {
			page.FailingMore = page.TargetsFailing - i
			break
		}
		link := "#" + anchor(e)
		if p := i/size + 1; p != page.Page {
			link = query(p) + link
		}
		page.Failing = append(page.Failing, targetLink{Name: e.Target, Module: e.Module, Link: link})
	}
	return page
}

// resolverFact says whether the DNSSEC states of the reports can be
// believed: the newest self-check of a trusted resolver, or, when no
// resolver is trusted, that DANE is not checked for the targets that ask.
func resolverFact(entries []*store.Entry) fact {
	var newest *dnsmx.Validation
	asked := false
	for _, e := range entries {
		if e.Report == nil || e.Report.Target.IsAddr() {
			continue
		}
		asked = asked || e.Report.Asked.DANE != ""
		if v := &e.Report.Validation; v.Trusted && (newest == nil || v.Checked.After(newest.Checked)) {
			newest = v
		}
	}
	switch {
	case newest != nil && newest.Validating:
		return fact{report.ResolverWords(*newest), good}
	case newest != nil:
		return fact{report.ResolverWords(*newest), bad}
	case asked:
		return fact{report.ResolverWords(dnsmx.Validation{}), warn}
	}
	return fact{}
}

// countRows counts the address rows newTargetView would make of rep, and
// how many of them fail, without making them.
func countRows(rep *probe.Report) (total, bad int) {
	if rep == nil {
		return 0, 0
	}
	for _, h := range rep.Hosts {
		if len(h.Addrs) == 0 {
			total, bad = total+1, bad+1
			continue
		}
		for _, res := range h.Results {
			if res == nil {
				continue
			}
			total++
			if !res.Success {
				bad++
			}
		}
	}
	return total, bad
}

// anchor is the id of a target's section.
func anchor(e *store.Entry) string { return "target-" + e.Target + "-" + e.Module }

func newTargetView(e *store.Entry, now time.Time, sub string) targetView {
	rep := e.Report
	t := targetView{
		Anchor: anchor(e),
		Name:   e.Target, Module: e.Module, Kind: "host",
		OK:     !failing(rep),
		Ago:    ago(now.Sub(e.Taken)),
		Taken:  e.Taken.UTC().Format(time.RFC3339),
		Report: sub + "report?" + targetQuery(e),
		JSON:   sub + "report.json?" + targetQuery(e),
	}
	if rep == nil {
		t.DNS = fact{"no report", bad}
		return t
	}
	t.Duration = ms(rep.Duration)
	if rep.DNS != nil {
		t.Kind = "domain"
		t.DNS = dnsFact(rep.DNS, len(rep.Hosts))
		what := "MX records"
		if rep.DNS.Implicit {
			what = "the denial of MX records"
		}
		t.DNSSEC = securityFact(what, rep.DNS.MXSecurity)
		t.NullMX = rep.DNS.NullMX
		t.Notes = slices.Clone(rep.DNS.Notes)
		if rep.DNS.NullMXMixed {
			t.Notes = append(t.Notes, report.NullMXMixedWords)
		}
		if n := rep.DNS.HostsDropped; n > 0 {
			t.Notes = append(t.Notes, fmt.Sprintf("%d more MX host(s) not probed (max_mx_hosts)", n))
		}
	} else {
		t.DNS = fact{"host target: no MX lookup", neutral}
	}
	t.DANE = rep.Asked.DANE != ""
	t.MTASTS, t.TLSRPT, t.PolicyMark = newMTASTSView(rep), newTLSRPTView(rep.TLSRPT), policyMark(rep)
	t.Marks, t.IPv6 = identityMarks(rep), newIPv6View(rep)
	t.Notes = append(t.Notes, unhealthyNotes(rep)...)
	for i := range rep.Hosts {
		h := &rep.Hosts[i]
		pref := ""
		if rep.DNS != nil {
			pref = strconv.Itoa(int(h.Preference))
		}
		t.Notes = append(t.Notes, report.HostFacts(&h.Host)...)
		if h.AddrsDropped > 0 {
			t.Notes = append(t.Notes, fmt.Sprintf("%s: %d more address(es) not probed (max_addresses_per_host)", h.Name, h.AddrsDropped))
		}
		if len(h.Addrs) == 0 {
			detail := h.Err
			if detail == "" {
				detail = "no address"
			}
			t.Rows = append(t.Rows, rowView{MX: h.Name, Preference: pref, Result: "NO ADDRESS",
				Reason: "address lookup: " + string(h.Outcome), Detail: detail})
			continue
		}
		for _, res := range h.Results {
			if res == nil {
				continue
			}
			row := newRow(res, now)
			row.MX, row.Preference = h.Name, pref
			row.DNSSEC = securityFact("addresses", h.Security)
			row.DANE = newDANEView(h, res)
			row.MTASTS, row.MTASTSTLS = hostMTASTSFact(rep, h), addressMTASTSFact(rep, h, res)
			row.Who = newIdentityRow(rep, h, res)
			row.Transcript = sub + "transcript?" + addressQuery(e, h.Name, res.Addr)
			t.Rows = append(t.Rows, row)
		}
	}
	return t
}

// dnsFact says in words what the MX lookup found.
func dnsFact(d *dnsmx.Domain, hosts int) fact {
	took := " (" + ms(d.Duration) + ")"
	switch {
	case d.NullMX:
		return fact{"null MX (RFC 7505): " + d.Name + " accepts no mail; nothing to probe" + took, neutral}
	case d.Implicit:
		return fact{"implicit MX: no MX record, the domain's own address receives its mail (RFC 5321 5.1)" + took, warn}
	case d.Outcome == dnsmx.OutcomeAnswer:
		return fact{fmt.Sprintf("%d MX host(s)%s", hosts, took), good}
	case d.Outcome == dnsmx.OutcomeNXDomain:
		return fact{"NXDOMAIN: " + d.Name + " does not exist, mail to it bounces" + took, bad}
	case d.Outcome == dnsmx.OutcomeNoData:
		return fact{"no MX and no address record: " + d.Name + " cannot receive mail" + took, bad}
	}
	msg := "MX lookup failed: " + strings.ToUpper(string(d.Outcome))
	if d.Err != "" {
		msg += ": " + d.Err
	}
	return fact{msg + took, bad}
}

func newRow(r *smtp.Result, now time.Time) rowView {
	row := rowView{
		IP: r.Addr, Port: r.Port, OK: r.Success, Result: "OK",
		Reason: string(r.Reason), Detail: r.Detail, Duration: ms(r.Duration),
	}
	if !r.Success {
		row.Result = "FAIL"
	}
	for _, s := range r.Steps {
		sv := stepView{Name: s.Name, Duration: fmt.Sprintf("%.1f", float64(s.Duration.Microseconds())/1000), Failed: s.Err != ""}
		switch {
		case s.Err != "":
			sv.Title = s.Err
		case s.Reply.Code != 0:
			sv.Title = replyLine(s.Reply)
		}
		row.Steps = append(row.Steps, sv)
	}
	if r.Banner.Code != 0 {
		code := strconv.Itoa(r.Banner.Code)
		if r.Banner.Enhanced != "" {
			code += " " + r.Banner.Enhanced
		}
		lines := r.Banner.Lines
		if len(lines) == 0 {
			lines = []string{""}
		}
		for _, l := range lines {
			row.Banner = append(row.Banner, strings.TrimSpace(code+" "+l))
		}
	}
	row.Size, row.SizeBytes = sizeFact(r)
	row.TLS = tlsFacts(r.Extensions != nil, r.Extensions.Has("STARTTLS"), r.TLS, now)
	row.TLS = append(row.TLS, tlsFailureFacts(r)...)
	row.Findings = findingFacts(r)
	row.Relay = relayFact(smtp.RelayNotChecked, "", "")
	if r.Relay != nil {
		row.Relay = relayFact(r.Relay.Verdict, r.Relay.Address, replyCode(r.Relay.Reply))
	}
	return row
}

// securityFact is a DNSSEC state in words; Text "" when nothing is known.
func securityFact(what string, s dnsmx.Security) fact {
	return fact{report.SecurityWords(what, s), securityClass(s)}
}

// tlsaSecurityFact is the DNSSEC state of a TLSA lookup in the words of the
// text report; Text "" when l is nil or its state is not known.
func tlsaSecurityFact(l *dnsmx.TLSALookup) fact {
	w := report.TLSASecurityWords(l)
	if w == "" {
		return fact{}
	}
	return fact{w, securityClass(l.Security)}
}

// securityClass colours a DNSSEC state as the text report does.
func securityClass(s dnsmx.Security) string {
	switch s {
	case dnsmx.SecuritySecure:
		return good
	case dnsmx.SecurityBogus:
		return bad
	case dnsmx.SecurityUnknown:
		return warn
	}
	return neutral
}

// newDANEView is the DANE outcome of the dialogue r with an address of h:
// the verdict, the records as judged against the presented chain (or as
// DNS gave them when no chain was judged) and the rollover readiness.
func newDANEView(h *probe.HostReport, r *smtp.Result) *daneView {
	c := r.DANE
	if c == nil {
		return nil
	}
	v := &daneView{
		Status: string(c.Status), Label: report.DANELabel(c.Status), Class: neutral,
		Detail: c.Detail, Consequence: report.DANEConsequence(c),
	}
	if v.Detail == "" {
		v.Detail = report.DANEMeaning(c.Status)
	}
	switch {
	case c.Status.Failure():
		v.Class = bad
	case c.Status == dane.StatusPass:
		v.Class = good
	}
	v.TLSA = report.TLSANameWords(c, h.Name, r.Port)
	v.DNSSEC = tlsaSecurityFact(h.TLSA)
	record := func(rec dane.TLSA, words, class string) {
		v.Records = append(v.Records, recordView{
			Short: report.TLSAShort(rec), Params: report.TLSAParams(rec), Data: report.TLSAData(rec), Words: words, Class: class,
		})
	}
	if res := c.Result; res != nil {
		for _, rr := range res.Records {
			record(rr.Record, report.RecordWords(rr), recordClass(rr, c.Status))
		}
		for _, pair := range res.DigestDisagreement {
			v.Notes = append(v.Notes, fact{report.DigestDisagreementWords(pair), warn})
		}
		v.Notes = append(v.Notes, droppedFacts(h)...)
		if usable, _ := res.Counts(); usable > 0 {
			v.Rollover = fact{"rollover " + report.RolloverWords(res.Rollover), good}
			if !res.Rollover.Ready {
				v.Rollover.Class = warn
			}
		}
	} else if l := h.TLSA; l != nil && l.Security == dnsmx.SecuritySecure {
		for _, rec := range l.Records {
			class := neutral
			if rec.Class() != dane.ClassUsable {
				class = warn
			}
			record(rec, report.RecordClassWords(rec), class)
		}
		v.Notes = append(v.Notes, droppedFacts(h)...)
	}
	if c.Status == dane.StatusPass && r.TLS != nil && !r.TLS.ChainNotAfter.IsZero() && r.Start.Add(r.Duration).After(r.TLS.ChainNotAfter) {
		v.Notes = append(v.Notes, fact{report.DANEExpiredWords, warn})
	}
	return v
}

// droppedFacts says that h's TLSA RRset was longer than the probe judges.
func droppedFacts(h *probe.HostReport) []fact {
	if h.TLSA == nil || h.TLSA.RecordsDropped == 0 {
		return nil
	}
	return []fact{{report.DroppedRecordsWords(h.TLSA.RecordsDropped), warn}}
}

// recordClass colours a record's outcome. A record that does not match is
// bad only when the verdict is a failure: beside a match it is the next
// key, published ahead.
func recordClass(rr dane.RecordResult, s dane.Status) string {
	switch rr.Outcome {
	case dane.Matched:
		if rr.TAExpired {
			return warn
		}
		return good
	case dane.NotMatched:
		if s.Failure() {
			return bad
		}
		return neutral
	}
	return warn
}

// sizeFact is the advertised SIZE of the EHLO reply the metric takes it
// from (smtp.Result.SizeSource: after STARTTLS when that reply advertised
// it), with the exact byte count apart.
func sizeFact(r *smtp.Result) (fact, string) {
	ext := r.SizeSource()
	switch {
	case r.Extensions == nil && r.ExtensionsTLS == nil:
		return fact{"—", neutral}, ""
	case ext == nil:
		return fact{"not advertised", neutral}, ""
	case ext.SizeInvalid:
		// Not "no fixed limit": the server declared something, and
		// senders cannot tell what. The value as sent goes beneath.
		params, _ := ext.Params("SIZE")
		return fact{"invalid SIZE value", warn}, `"` + params + `"`
	case ext.Size == 0:
		return fact{"no fixed limit", neutral}, ""
	}
	return fact{mib(ext.Size), neutral}, strconv.FormatInt(ext.Size, 10) + " bytes"
}

// tlsFacts describes STARTTLS and the TLS session. ehlo tells whether an
// EHLO reply was read (else nothing is known of STARTTLS); info is nil when
// no handshake happened.
func tlsFacts(ehlo, offered bool, info *tlscheck.Info, now time.Time) []fact {
	var out []fact
	switch {
	case !ehlo:
	case offered:
		out = append(out, fact{"STARTTLS offered", good})
	default:
		out = append(out, fact{"no STARTTLS", warn})
	}
	if info == nil {
		if offered {
			out = append(out, fact{"not used", neutral})
		}
		return out
	}
	out = append(out, fact{strings.TrimSpace(info.Version + " " + info.CipherSuite), neutral})
	if exp := expiry(info); !exp.IsZero() {
		days := int(math.Floor(exp.Sub(now).Hours() / 24))
		class := good
		switch {
		case days < 0:
			class = bad
		case days < report.CertWarnDays:
			class = warn
		}
		text := fmt.Sprintf("certificate expires %s (%d days left)", exp.UTC().Format("2006-01-02"), days)
		if days < 0 {
			text = fmt.Sprintf("certificate EXPIRED %s (%d days ago)", exp.UTC().Format("2006-01-02"), -days)
		}
		out = append(out, fact{text, class})
	}
	if info.Verified {
		out = append(out, fact{"verified for " + info.ServerName, good})
	} else {
		out = append(out, fact{"not verified: " + info.VerifyError, warn})
	}
	return out
}

// expiry is the day TLS to the host breaks: the chain's earliest expiry,
// else the leaf's.
func expiry(t *tlscheck.Info) time.Time {
	if !t.ChainNotAfter.IsZero() {
		return t.ChainNotAfter
	}
	return t.LeafNotAfter
}

// relayFact describes the relay check; code is its reply code.
func relayFact(verdict smtp.RelayVerdict, address, code string) fact {
	switch verdict {
	case smtp.RelayNotChecked:
		return fact{"not checked", neutral}
	case smtp.RelayRefused:
		return fact{"refused (" + code + "): no open relay", good}
	case smtp.RelayOpen:
		return fact{"OPEN RELAY: " + address + " accepted (" + code + ")", bad}
	}
	return fact{"inconclusive (" + code + ")", warn}
}

// transcriptPage is one address's last dialogue.
type transcriptPage struct {
	layout
	Target   string
	Module   string
	Kind     string
	Ago      string
	Taken    string
	Host     report.Host
	Addr     report.Address
	Lines    []lineView
	Steps    []stepRow
	Ext      []extView
	JSON     string // relative links
	Report   string
	Verdict  fact
	TLS      []fact
	Relay    fact // Text "" when the module has no relay check
	Recips   []fact
	Findings []fact
	DNSSEC   fact      // of the MX host's addresses; Text "" when not known
	DANE     *daneView // nil when the module does not look at DANE
	// MTASTS is what the domain's policy says of the MX host and of this
	// address's TLS; empty when no policy judged them.
	MTASTS []fact
	// Who is the address's reverse DNS, names and blocklist results.
	Who identityRow
}

type lineView struct {
	At    string // "   1.4ms"
	Dir   string // "C:", "S:" or "*"
	Class string // "c", "s", "s4", "s5", "note"
	Text  string
}

type stepRow struct {
	Name     string
	Sent     string
	Reply    string // code and first line
	More     string // "+10 more line(s)"
	Duration string
	Error    string
}

type extView struct {
	Label    string
	Keywords []string
}

func newTranscriptPage(e *store.Entry, doc report.Document, now time.Time, q url.Values) transcriptPage {
	host, addr := doc.Hosts[0], doc.Hosts[0].Addresses[0]
	p := transcriptPage{
		Target: e.Target, Module: e.Module, Kind: doc.Kind,
		Ago:   ago(now.Sub(e.Taken)),
		Taken: e.Taken.UTC().Format(time.RFC3339),
		Host:  host, Addr: addr,
		JSON:   "transcript.json?" + q.Encode(),
		Report: "report?" + targetQuery(e),
	}
	if addr.Success {
		p.Verdict = fact{"OK in " + seconds(addr.DurationSeconds), good}
	} else {
		p.Verdict = fact{"FAIL " + string(addr.Reason) + ": " + addr.Detail + " (after " + seconds(addr.DurationSeconds) + ")", bad}
	}
	for _, l := range addr.Transcript {
		lv := lineView{At: fmt.Sprintf("%8.1fms", l.AtSeconds*1000), Text: l.Text}
		switch l.Dir {
		case string(rune(smtp.Sent)):
			lv.Dir, lv.Class = "C:", "c"
		case string(rune(smtp.Received)):
			lv.Dir, lv.Class = "S:", "s"
			switch {
			case strings.HasPrefix(l.Text, "4"):
				lv.Class = "s4"
			case strings.HasPrefix(l.Text, "5"):
				lv.Class = "s5"
			}
		default:
			lv.Dir, lv.Class = "* ", "note"
		}
		p.Lines = append(p.Lines, lv)
	}
	for _, s := range addr.Steps {
		sr := stepRow{Name: s.Name, Sent: s.Sent, Duration: seconds(s.DurationSeconds), Error: s.Error}
		if r := s.Reply; r != nil {
			// The first line: the transcript above has them all.
			sr.Reply = replyCode(smtp.Reply{Code: r.Code, Enhanced: r.Enhanced})
			if len(r.Lines) > 0 {
				sr.Reply += " " + r.Lines[0]
			}
			if n := len(r.Lines) - 1; n > 0 {
				sr.More = fmt.Sprintf("+%d more line(s)", n)
			}
		}
		p.Steps = append(p.Steps, sr)
	}
	for _, x := range []struct {
		label string
		ext   *report.Extensions
	}{{"EHLO", addr.Extensions}, {"EHLO after STARTTLS", addr.ExtensionsTLS}} {
		if x.ext == nil {
			continue
		}
		kw := make([]string, 0, len(x.ext.Keywords))
		for _, k := range x.ext.Keywords { // in the order the server sent them
			if k.Params != "" {
				kw = append(kw, k.Name+" "+k.Params)
			} else {
				kw = append(kw, k.Name)
			}
		}
		p.Ext = append(p.Ext, extView{Label: x.label + " (" + x.ext.Greeting + ")", Keywords: kw})
	}
	if ext := addr.Extensions; ext != nil {
		p.TLS = tlsFacts(true, ext.Has("STARTTLS"), addr.TLS, now)
	} else {
		p.TLS = tlsFacts(false, false, addr.TLS, now)
	}
	p.DNSSEC = securityFact("addresses", host.DNSSEC)
	if h := findHost(e.Report, host.Name); h != nil {
		if res := findResult(h, addr.IP); res != nil {
			p.TLS = append(p.TLS, tlsFailureFacts(res)...)
			p.Findings = findingFacts(res)
			p.DANE = newDANEView(h, res)
			p.Who = newIdentityRow(e.Report, h, res)
			for _, f := range []fact{hostMTASTSFact(e.Report, h), addressMTASTSFact(e.Report, h, res)} {
				if f.Text != "" {
					p.MTASTS = append(p.MTASTS, f)
				}
			}
		}
	}
	if rl := addr.Relay; rl != nil {
		code := "no reply"
		if rl.Reply != nil {
			code = replyCode(smtp.Reply{Code: rl.Reply.Code, Enhanced: rl.Reply.Enhanced})
		}
		p.Relay = relayFact(rl.Verdict, rl.Address, code)
	}
	for _, rc := range addr.Recipients {
		f := fact{rc.Address + " accepted", good}
		switch {
		case rc.Deferred:
			f = fact{rc.Address + " DEFERRED (try again later)", warn}
		case !rc.Accepted:
			f = fact{rc.Address + " NOT accepted", bad}
		}
		if rc.Reply != nil {
			f.Text += " (" + docReply(rc.Reply) + ")"
		}
		p.Recips = append(p.Recips, f)
	}
	return p
}

// tlsFailureFacts says how an attempted STARTTLS failed and, after a
// plaintext fallback, that mail would travel in clear.
func tlsFailureFacts(r *smtp.Result) []fact {
	f := r.TLSFailure
	if f == nil {
		return nil
	}
	out := []fact{{report.TLSFailureWords(f), bad}}
	if f.Fallback {
		out = append(out, fact{report.FallbackWords(f), warn})
	}
	return out
}

// findingFacts puts the findings of a dialogue in words.
func findingFacts(r *smtp.Result) []fact {
	out := make([]fact, 0, len(r.Findings))
	for _, f := range r.Findings {
		out = append(out, fact{report.FindingWords(r, f), warn})
	}
	return out
}

// findHost is MX host mx of rep, or nil.
func findHost(rep *probe.Report, mx string) *probe.HostReport {
	if rep == nil {
		return nil
	}
	for i := range rep.Hosts {
		if rep.Hosts[i].Name == mx {
			return &rep.Hosts[i]
		}
	}
	return nil
}

// findResult is h's dialogue with ip, or nil.
func findResult(h *probe.HostReport, ip string) *smtp.Result {
	for _, res := range h.Results {
		if res != nil && res.Addr == ip {
			return res
		}
	}
	return nil
}

func docReply(r *report.Reply) string {
	return replyLine(smtp.Reply{Code: r.Code, Enhanced: r.Enhanced, Lines: r.Lines})
}

// replyLine is a reply as one line: "250 2.1.5 Ok".
func replyLine(r smtp.Reply) string {
	s := replyCode(r)
	if len(r.Lines) > 0 {
		s += " " + strings.Join(r.Lines, " / ")
	}
	return s
}

func replyCode(r smtp.Reply) string {
	if r.Code == 0 {
		return "no reply"
	}
	if r.Enhanced != "" {
		return fmt.Sprintf("%d %s", r.Code, r.Enhanced)
	}
	return strconv.Itoa(r.Code)
}

// ago says how long ago something happened, the way people say it.
func ago(d time.Duration) string { return report.Ago(d) }

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
}

func seconds(s float64) string {
	return fmt.Sprintf("%.1f ms", s*1000)
}

func mib(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
