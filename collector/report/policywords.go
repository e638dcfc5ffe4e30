package report

// The words for a domain's published TLS policy, MTA-STS (RFC 8461) and
// TLS-RPT (RFC 8460), shared by the text report and the status pages.

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/printable"
	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/mtasts"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/probe/tlscheck"
	"github.com/mx-exporter/mx_exporter/collector/probe/tlsrpt"
)

// Tone is how a fact should look wherever it is shown: the text report
// colours it, the status pages give it a class.
type Tone int

// The tones.
const (
	TonePlain Tone = iota // a fact that decides nothing
	TonePass              // what was checked holds
	ToneWarn              // worth a look; no sender fails because of it
	ToneFail              // some sender refuses mail
)

// MTASTSTone is how the verdict of a domain's MTA-STS check should look:
// a failure when MTA-STS senders refuse mail (whether or not the module
// fails the probe for it), a warning when senders fail open or would
// refuse under an enforce policy, a pass, or plain when nothing is
// published or the policy says mode none.
func MTASTSTone(r *probe.MTASTSReport) Tone {
	switch {
	case r.Failure:
		return ToneFail
	case r.Status == mtasts.StatusPass:
		return TonePass
	case r.Status == mtasts.StatusNoPolicy, r.Status == mtasts.StatusModeNone:
		return TonePlain
	}
	return ToneWarn
}

// MTASTSWarns reports whether a domain's published TLS policy deserves a
// mark on a page that lists many domains: MTA-STS senders refuse mail, or
// would, or fail open, or the policy or the TLS-RPT record has a defect.
// Either report may be nil.
func MTASTSWarns(m *probe.MTASTSReport, t *probe.TLSRPTReport) bool {
	if m != nil {
		if MTASTSTone(m) >= ToneWarn {
			return true
		}
		if m.Policy != nil && len(m.Policy.Defects) > 0 {
			return true
		}
	}
	return t != nil && TLSRPTTone(t) >= ToneWarn
}

// MTASTSLabel is a domain's MTA-STS verdict as a short label, upper case
// when MTA-STS senders refuse mail, as the text report writes every
// failure.
func MTASTSLabel(r *probe.MTASTSReport) string {
	label := map[mtasts.Status]string{
		mtasts.StatusNoPolicy:        "no policy",
		mtasts.StatusTXTLookupFailed: "TXT lookup failed",
		mtasts.StatusTXTInvalid:      "TXT record invalid",
		mtasts.StatusUnfetchable:     "policy unfetchable",
		mtasts.StatusInvalid:         "policy invalid",
		mtasts.StatusModeNone:        "mode none",
		mtasts.StatusPass:            "pass",
		mtasts.StatusMXUncovered:     "MX not covered",
		mtasts.StatusMXTLSInvalid:    "MX TLS invalid",
	}[r.Status]
	if label == "" {
		label = strings.ReplaceAll(string(r.Status), "_", " ")
	}
	if r.Failure {
		return strings.ToUpper(label)
	}
	return label
}

// MTASTSMeaning says what a status means, for a report that carries no
// detail of its own.
func MTASTSMeaning(s mtasts.Status) string {
	switch s {
	case mtasts.StatusNoPolicy:
		return "no v=STSv1 TXT record: the domain publishes no MTA-STS policy"
	case mtasts.StatusTXTLookupFailed:
		return "the _mta-sts TXT lookup failed"
	case mtasts.StatusTXTInvalid:
		return "the _mta-sts TXT record is not exactly one valid v=STSv1 record"
	case mtasts.StatusUnfetchable:
		return "the TXT record announces a policy, but it could not be fetched"
	case mtasts.StatusInvalid:
		return "the policy was fetched but does not parse as RFC 8461 section 3.2 requires"
	case mtasts.StatusModeNone:
		return "the policy says mode none: MTA-STS is switched off"
	case mtasts.StatusPass:
		return "every MX host is covered by the policy and the TLS of each covered address satisfies it"
	case mtasts.StatusMXUncovered:
		return "an MX host matches no mx pattern of the policy"
	case mtasts.StatusMXTLSInvalid:
		return "a covered MX address does not offer TLS that satisfies the policy"
	}
	return string(s)
}

// MTASTSWords is the verdict in words: its label and why.
func MTASTSWords(r *probe.MTASTSReport) string {
	why := r.Detail
	if why == "" {
		why = MTASTSMeaning(r.Status)
	}
	return MTASTSLabel(r) + ": " + why
}

// MTASTSConsequence is the bottom line of the verdict, under its detail:
// whom MTA-STS senders refuse and whether the probe fails for it, or that
// they would but the policy only tests, or that senders fail open. rep
// gives the MX hosts concerned; "" when the detail says all there is.
func MTASTSConsequence(rep *probe.Report) string {
	r := rep.MTASTS
	if r == nil {
		return ""
	}
	to := ""
	if hosts := RefusedHosts(rep); len(hosts) > 0 {
		to = " to " + strings.Join(hosts, ", ")
	}
	testing := r.Policy != nil && r.Policy.Policy != nil && r.Policy.Policy.Mode == mtasts.PolicyTesting
	switch r.Status {
	case mtasts.StatusMXUncovered, mtasts.StatusMXTLSInvalid:
		switch {
		case r.Failure && r.Mode == mtasts.ModeEnforce:
			return "MTA-STS senders refuse to deliver" + to + ", so the probe fails (mta_sts: enforce)"
		case r.Failure:
			return "MTA-STS senders refuse to deliver" + to + ", but the module only reports it (mta_sts: " + string(r.Mode) + ")"
		case testing:
			return "MTA-STS senders would refuse to deliver" + to + ", but the policy is in testing mode: they deliver, and report the failure to the TLS-RPT address"
		}
	case mtasts.StatusPass:
		if testing {
			return "the policy is in testing mode: senders deliver whatever they find, and report TLS failures to the TLS-RPT address"
		}
	case mtasts.StatusUnfetchable:
		return "new senders fail open: they deliver without MTA-STS; senders that cached the policy keep applying it until its max_age runs out"
	case mtasts.StatusInvalid, mtasts.StatusTXTInvalid:
		return "senders ignore the policy and fail open: they deliver without MTA-STS"
	case mtasts.StatusTXTLookupFailed:
		return "new senders fail open; senders that cached the policy keep applying it"
	}
	return ""
}

// RefusedHosts names the MX hosts that an MTA-STS sender would not
// deliver to under the domain's policy, whatever its mode: those with an
// address that match no mx pattern, and the covered ones with an address
// whose TLS does not satisfy the policy.
func RefusedHosts(rep *probe.Report) []string {
	var out []string
	for i := range rep.Hosts {
		h := &rep.Hosts[i]
		if h.MTASTS == nil || len(h.Addrs) == 0 {
			continue
		}
		if !h.MTASTS.Covered {
			out = append(out, h.Name)
			continue
		}
		for _, s := range h.MTASTS.TLS {
			if TLSRefused(s) {
				out = append(out, h.Name)
				break
			}
		}
	}
	return out
}

// TLSRefused reports whether an MTA-STS sender refuses an address whose
// TLS status is s: neither valid nor left unjudged.
func TLSRefused(s mtasts.TLSStatus) bool {
	return s != mtasts.TLSValid && s != mtasts.TLSNotReached && s != ""
}

// CoverageWords says what the policy makes of one MX host.
func CoverageWords(p *probe.MXPolicy) string {
	if p.Covered {
		return "covered by mx pattern " + p.Pattern
	}
	return "NOT COVERED: the host matches no mx pattern of the policy"
}

// CoverageTone is how the coverage of a host should look; failure is the
// report's: whether MTA-STS senders refuse mail under this policy.
func CoverageTone(p *probe.MXPolicy, failure bool) Tone {
	switch {
	case p.Covered:
		return TonePass
	case failure:
		return ToneFail
	}
	return ToneWarn
}

// TLSStatusWords says whether the TLS of the dialogue r with an address of
// MX host satisfies the policy, with the fact behind the status.
func TLSStatusWords(s mtasts.TLSStatus, r *smtp.Result, host string, asked probe.Asked) string {
	var tl *tlscheck.Info
	if r != nil {
		tl = r.TLS
	}
	switch s {
	case mtasts.TLSValid:
		if tl != nil {
			return "TLS satisfies the policy (" + tl.Version + ", certificate verified for " + tl.ServerName + ")"
		}
		return "TLS satisfies the policy"
	case mtasts.TLSStartTLSMissing:
		return "does not satisfy the policy: STARTTLS not offered"
	case mtasts.TLSStartTLSFailed:
		if r != nil && r.TLSFailure != nil {
			return "does not satisfy the policy: " + TLSFailureWords(r.TLSFailure)
		}
		return "does not satisfy the policy: STARTTLS failed"
	case mtasts.TLSCertInvalid:
		switch {
		case tl != nil && tl.Verified:
			// The module's tls_server_name verified another name.
			return "does not satisfy the policy: the certificate was verified for " + tl.ServerName + " (tls_server_name), not for the MX name " + host
		case tl != nil && tl.VerifyError != "":
			return "does not satisfy the policy: certificate not verified for " + host + ": " + tl.VerifyError
		}
		return "does not satisfy the policy: the certificate does not verify for the MX name"
	case mtasts.TLSVersionTooOld:
		if tl != nil {
			return "does not satisfy the policy: " + tl.Version + ", the policy needs TLS 1.2 or later"
		}
		return "does not satisfy the policy: the policy needs TLS 1.2 or later"
	case mtasts.TLSNotReached:
		if asked.StartTLS == smtp.StartTLSOff {
			return "not judged: the module does not try STARTTLS (starttls: off)"
		}
		return "not judged: the dialogue ended before STARTTLS could be tried"
	}
	return string(s)
}

// TLSStatusTone is how a TLS status should look; failure is the report's.
func TLSStatusTone(s mtasts.TLSStatus, failure bool) Tone {
	switch {
	case s == mtasts.TLSValid:
		return TonePass
	case !TLSRefused(s):
		return TonePlain
	case failure:
		return ToneFail
	}
	return ToneWarn
}

// TXTDefectWords explains a defect of the _mta-sts TXT RRset.
func TXTDefectWords(d mtasts.TXTDefect) string {
	switch d {
	case mtasts.TXTDuplicate:
		return "more than one v=STSv1 record: senders ignore them all"
	case mtasts.TXTNoID:
		return "the record has no id: senders ignore it"
	case mtasts.TXTBadID:
		return "the id is not 1 to 32 letters and digits: senders ignore the record"
	case mtasts.TXTSyntax:
		return "a field is not key=value: senders ignore the record"
	}
	return string(d)
}

// TXTWords says what the _mta-sts TXT RRset holds: the id of a valid
// record, the defect of another, or that there is none.
func TXTWords(l dnsmx.TXTLookup, t mtasts.TXT) string {
	switch {
	case t.Valid:
		return "valid, id " + t.ID
	case t.Records > 0:
		// Not t.Detail: the verdict quotes it, and the records are
		// shown as published.
		return "INVALID (" + string(t.Defect) + "): " + TXTDefectWords(t.Defect)
	}
	return NoRecordWords(l, "v=STSv1")
}

// NoRecordWords says why a TXT lookup gave no record of the version
// named: the name does not exist, holds no TXT record, holds only others,
// or the lookup failed.
func NoRecordWords(l dnsmx.TXTLookup, version string) string {
	switch l.Outcome {
	case dnsmx.OutcomeNXDomain:
		return "no record: " + l.Name + " does not exist (NXDOMAIN)"
	case dnsmx.OutcomeNoData:
		return "no record: " + l.Name + " has no TXT record"
	case dnsmx.OutcomeAnswer:
		return "no " + version + " record among " + count(len(l.Records), "TXT record", "TXT records")
	}
	w := "LOOKUP FAILED: " + strings.ToUpper(string(l.Outcome))
	if l.Err != "" {
		w += ": " + l.Err
	}
	return w
}

// FetchErrorWords explains why a policy fetch brought no policy.
func FetchErrorWords(f *mtasts.Fetch) string {
	switch f.Err {
	case mtasts.FetchNoAddress:
		return "the policy host has no address"
	case mtasts.FetchConnect:
		return "no TCP connection to port 443 of the policy host"
	case mtasts.FetchTLSHandshake:
		return "the TLS handshake with the policy host failed"
	case mtasts.FetchTLSVerify:
		return "the policy host's certificate does not verify"
	case mtasts.FetchHTTP:
		return "the HTTP answer was malformed or cut short"
	case mtasts.FetchRedirect:
		w := fmt.Sprintf("HTTP %d redirect", f.Status)
		if f.Location != "" {
			w += " to " + Printable(f.Location)
		}
		return w + ": senders never follow redirects (RFC 8461 section 3.3)"
	case mtasts.FetchStatus:
		return fmt.Sprintf("HTTP %d: senders accept only 200", f.Status)
	case mtasts.FetchTooLarge:
		return fmt.Sprintf("the body is larger than %d KiB: senders give up on it", mtasts.MaxPolicyBytes>>10)
	case mtasts.FetchTimeout:
		return "no complete answer in time"
	}
	return string(f.Err)
}

// FetchWords says how the policy was fetched: who answered, with what
// status and content type, in how long; or why no policy came of it.
func FetchWords(f *mtasts.Fetch) string {
	var b strings.Builder
	if f.Addr != "" {
		b.WriteString(f.Addr + ": ")
	}
	if f.Err != "" {
		// The engine's detail names the error with what it found; the
		// words here are for a fetch that came without one.
		why := f.Detail
		if why == "" {
			why = FetchErrorWords(f)
		}
		fmt.Fprintf(&b, "FAILED %s: %s, after %s", f.Err, why, ms(f.Duration))
		return b.String()
	}
	fmt.Fprintf(&b, "HTTP %d", f.Status)
	if f.ContentType != "" {
		b.WriteString(", " + Printable(f.ContentType))
	} else {
		b.WriteString(", no content type")
	}
	fmt.Fprintf(&b, ", %s in %s", count(f.Size, "byte", "bytes"), ms(f.Duration))
	return b.String()
}

// PolicyHostWords says what mta-sts.<domain> resolved to.
func PolicyHostWords(h *dnsmx.Host) string {
	if len(h.Addrs) == 0 {
		msg := h.Err
		if msg == "" {
			msg = "no address"
		}
		return h.Name + ": " + msg
	}
	addrs := make([]string, len(h.Addrs))
	for i, a := range h.Addrs {
		addrs[i] = a.String()
	}
	return h.Name + " is " + strings.Join(addrs, ", ")
}

// CertificateWords says whether the policy host's certificate verified and
// when it expires, counted from at (the probe, so that a stored report
// reads the same later).
func CertificateWords(tl *tlscheck.Info, at time.Time) (string, Tone) {
	var b strings.Builder
	tone := TonePass
	if tl.Verified {
		b.WriteString("certificate verified for " + tl.ServerName)
	} else {
		tone = ToneWarn
		b.WriteString("certificate NOT verified for " + tl.ServerName)
		if tl.VerifyError != "" {
			b.WriteString(": " + tl.VerifyError)
		}
	}
	exp := tl.ChainNotAfter
	if exp.IsZero() {
		exp = tl.LeafNotAfter
	}
	switch {
	case exp.IsZero():
	case at.After(exp):
		tone = ToneWarn
		fmt.Fprintf(&b, "; EXPIRED on %s, %s before this probe", exp.UTC().Format("2006-01-02"), days(at.Sub(exp)))
	default:
		left := exp.Sub(at)
		if left < CertWarnDays*24*time.Hour {
			tone = ToneWarn
		}
		fmt.Fprintf(&b, ", expires in %s (%s)", days(left), exp.UTC().Format("2006-01-02"))
	}
	return b.String(), tone
}

// CertWarnDays is when a certificate's remaining lifetime turns into a
// warning: for an MX host, mail soon stops; for a policy host, new
// MTA-STS senders soon fail open.
const CertWarnDays = 14

func days(d time.Duration) string {
	return count(int(d.Hours()/24), "day", "days")
}

// CachedWords says that a policy came from the cache, and how old it is
// at the time of the probe: "cached, fetched 12 min ago".
func CachedWords(st *mtasts.State, at time.Time) string {
	if st.Fetch.Start.IsZero() {
		return "cached"
	}
	return "cached, fetched " + Ago(at.Sub(st.Fetch.Start))
}

// PolicyWords is the parsed policy on one line: mode, max_age in seconds
// and as a duration, and the mx patterns; what could not be read is said.
func PolicyWords(p *mtasts.Policy) string {
	parts := make([]string, 0, 3)
	if p.Mode != "" {
		parts = append(parts, "mode "+string(p.Mode))
	} else {
		parts = append(parts, "mode missing or invalid")
	}
	if p.MaxAge >= 0 {
		parts = append(parts, "max_age "+MaxAgeWords(p.MaxAge))
	} else {
		parts = append(parts, "max_age missing or invalid")
	}
	switch {
	case len(p.MX) > 0:
		parts = append(parts, "mx "+strings.Join(p.MX, ", "))
	case p.Mode != mtasts.PolicyNone:
		parts = append(parts, "no valid mx pattern")
	}
	return strings.Join(parts, ", ")
}

// MaxAgeWords is a max_age in seconds and as a duration: "604800 s (7
// days)".
func MaxAgeWords(s int64) string {
	return strconv.FormatInt(s, 10) + " s (" + durationWords(time.Duration(s)*time.Second) + ")"
}

// durationWords says a duration in its largest whole unit, or to a tenth
// of a day past a few days.
func durationWords(d time.Duration) string {
	day := 24 * time.Hour
	switch {
	case d >= day && d%day == 0:
		return count(int(d/day), "day", "days")
	case d >= 3*day:
		return fmt.Sprintf("%.1f days", d.Hours()/24)
	case d >= time.Hour && d%time.Hour == 0:
		return count(int(d/time.Hour), "hour", "hours")
	case d >= time.Hour:
		return fmt.Sprintf("%.1f hours", d.Hours())
	case d >= time.Minute && d%time.Minute == 0:
		return count(int(d/time.Minute), "minute", "minutes")
	}
	return count(int(d/time.Second), "second", "seconds")
}

// DefectWords explains a defect of a fetched policy. st gives the facts
// some explanations quote (the content type, the mode).
func DefectWords(d mtasts.Defect, st *mtasts.State) string {
	switch d {
	case mtasts.DefectVersionMissing:
		return "no version line: a policy must say version: STSv1"
	case mtasts.DefectVersionInvalid:
		return "the version is not STSv1"
	case mtasts.DefectModeMissing:
		return "no mode line"
	case mtasts.DefectModeInvalid:
		return "the mode is not enforce, testing or none"
	case mtasts.DefectMaxAgeMissing:
		return "no max_age line"
	case mtasts.DefectMaxAgeInvalid:
		return fmt.Sprintf("max_age is not a whole number of seconds up to %d (about a year)", mtasts.MaxAgeLimit)
	case mtasts.DefectMXMissing:
		return "no mx line: a policy in enforce or testing mode must name its MX hosts"
	case mtasts.DefectMXInvalid:
		return "an mx pattern is neither a host name nor a *. wildcard: it is dropped, and senders differ on the rest"
	case mtasts.DefectLineInvalid:
		return `a line is not "key: value": senders reject the whole policy`
	case mtasts.DefectMaxAgeShort:
		return "max_age under a week in enforce mode: RFC 8461 section 3.2 expects weeks, so that a cached policy outlasts an attack on DNS"
	case mtasts.DefectContentType:
		ct := "no content type"
		if st != nil && st.Fetch.ContentType != "" {
			ct = Printable(st.Fetch.ContentType)
		}
		return "served as " + ct + ", not text/plain (RFC 8461 section 3.2): many senders accept it, strict ones ignore the policy"
	case mtasts.DefectChangedUnderID:
		return "the policy changed while the TXT id did not: senders that cached the old policy keep it until its max_age runs out; change the id with every change of the policy"
	}
	return string(d)
}

// DefectSeverity is "fatal" for a defect that makes senders ignore the
// policy, "warning" for the others.
func DefectSeverity(d mtasts.Defect) string {
	if d.Fatal() {
		return "fatal"
	}
	return "warning"
}

// TLSRPTTone is how a domain's TLS-RPT record should look: plain when
// none is published (a fact, not a fault), a warning for a defect.
func TLSRPTTone(r *probe.TLSRPTReport) Tone {
	switch {
	case r.Record.Valid:
		return TonePass
	case r.Record.Records > 0:
		return ToneWarn
	case r.Lookup.Outcome == dnsmx.OutcomeAnswer, r.Lookup.Outcome == dnsmx.OutcomeNoData, r.Lookup.Outcome == dnsmx.OutcomeNXDomain:
		return TonePlain
	}
	return ToneWarn
}

// TLSRPTDefectWords explains a defect of the _smtp._tls TXT RRset.
func TLSRPTDefectWords(d tlsrpt.Defect) string {
	switch d {
	case tlsrpt.DefectDuplicate:
		return "more than one v=TLSRPTv1 record: senders send no reports"
	case tlsrpt.DefectRUAMissing:
		return "no rua field: senders do not know where to send reports"
	case tlsrpt.DefectRUAInvalid:
		return "rua is empty or names a URI that is neither mailto: nor https:"
	case tlsrpt.DefectSyntax:
		return "a field is not key=value: senders ignore the record"
	}
	return string(d)
}

// TLSRPTWords says what the TLS-RPT record holds: where reports go, the
// defect, or that none is published.
func TLSRPTWords(r *probe.TLSRPTReport) string {
	rec := r.Record
	switch {
	case rec.Valid:
		return "valid: reports go to " + strings.Join(rec.RUA, ", ")
	case rec.Records > 0 && rec.Detail != "":
		return "INVALID (" + string(rec.Defect) + "): " + rec.Detail
	case rec.Records > 0:
		return "INVALID (" + string(rec.Defect) + "): " + TLSRPTDefectWords(rec.Defect)
	}
	w := NoRecordWords(r.Lookup, "v=TLSRPTv1")
	if TLSRPTTone(r) == TonePlain {
		w += ": senders send no TLS reports"
	}
	return w
}

// maxPrintable caps a remote string shown whole: a TXT record, a content
// type. The engine caps them too; this is the page's own limit.
const maxPrintable = 300

// Printable makes text that a remote server sent safe to show on one line,
// by the rule of every human rendering (package printable), cut at
// maxPrintable bytes, "…" included.
func Printable(s string) string {
	out, _ := printable.Line([]byte(s), maxPrintable)
	return out
}

// Ago says how long ago something happened, the way people say it.
func Ago(d time.Duration) string {
	switch {
	case d < time.Second:
		return "just now"
	case d < 90*time.Second:
		return fmt.Sprintf("%d s ago", int(d/time.Second))
	case d < 90*time.Minute:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
}
