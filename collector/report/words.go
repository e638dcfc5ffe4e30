package report

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe/dane"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
)

// The words for facts that both the text report and the status pages show,
// written once.

// NullMXMixedWords says what a null MX among other MX records means.
const NullMXMixedWords = `null MX ("MX 0 .") among other MX records: RFC 7505 section 3 forbids it; ignored, the other hosts are probed`

// HostFacts are the DNS facts of an MX host that are not failures: an alias,
// an IP literal, addresses senders on the internet cannot reach.
func HostFacts(h *dnsmx.Host) []string {
	var out []string
	if h.CNAME != "" {
		out = append(out, fmt.Sprintf("MX %s is an alias of %s: an MX must not point at a CNAME (RFC 2181 10.3)", h.Name, h.CNAME))
	}
	if h.IPLiteral {
		out = append(out, fmt.Sprintf("MX %s names an IP address, which RFC 5321 5.1 does not allow: most senders look it up as a host name and fail", h.Name))
	}
	for _, sp := range h.Special {
		out = append(out, fmt.Sprintf("%s is in a special-purpose range (%s): senders on the internet cannot reach it", sp.Addr, strings.ReplaceAll(sp.Range, "_", "-")))
	}
	return out
}

// TLSFailureWords says how STARTTLS failed.
func TLSFailureWords(f *smtp.TLSFailure) string {
	if f.Stage == smtp.TLSHandshake {
		return "TLS handshake failed: " + f.Cause
	}
	return "STARTTLS refused: " + f.Cause
}

// FallbackWords says what a plaintext fallback means for mail.
func FallbackWords(f *smtp.TLSFailure) string {
	if f.Stage == smtp.TLSHandshake {
		return "TLS failed, mail would travel in clear (the dialogue went on in plaintext on a new connection)"
	}
	return "TLS failed, mail would travel in clear (the dialogue went on in plaintext)"
}

// FindingWords puts a finding of r in words.
func FindingWords(r *smtp.Result, f smtp.Finding) string {
	switch f {
	case smtp.FindingGreetingDelayed:
		return fmt.Sprintf("greeting delayed: first line after %s, final line after %s (postscreen-style; nothing was sent before it)",
			ms(r.GreetingFirstLine), ms(stepDuration(r, smtp.StepBanner)))
	case smtp.FindingGreylisted:
		return "greylisted: the mailbox was deferred with a temporary failure; senders retry later, the probe counts it as not met"
	case smtp.FindingSlowStep:
		return fmt.Sprintf("slow: %s took %s (tarpitting or an overloaded server)", r.SlowestStep, ms(r.SlowestStepDuration))
	case smtp.FindingMiddleboxBanner:
		return "middlebox rewrites the session: the greeting is masked with asterisks (Cisco ESMTP inspection style)"
	case smtp.FindingMiddleboxEHLO:
		return "middlebox rewrites the session: EHLO keywords are masked as XXXX"
	case smtp.FindingMiddleboxSTARTTLS:
		return "middlebox rewrites the session: STARTTLS was removed from the EHLO reply"
	case smtp.FindingSizeInvalid:
		var params string
		if ext := r.SizeSource(); ext != nil {
			params, _ = ext.Params("SIZE")
		}
		return `invalid SIZE value "` + Printable(params) + `": the server declares no usable message size limit (RFC 1870 wants a byte count), which is not the same as declaring none`
	}
	return string(f)
}

func stepDuration(r *smtp.Result, name string) time.Duration {
	if s := r.Step(name); s != nil {
		return s.Duration
	}
	return 0
}

// SecurityWords says what the DNSSEC state of the records named by what
// ("MX records", "address records") means; "" when nothing is known
// (unchecked, or no resolver asked), which is said once for the whole
// report instead (ResolverWords).
func SecurityWords(what string, s dnsmx.Security) string {
	switch s {
	case dnsmx.SecuritySecure:
		return what + " secure (DNSSEC-validated)"
	case dnsmx.SecurityInsecure:
		return what + " insecure (not DNSSEC-signed)"
	case dnsmx.SecurityBogus:
		return what + " BOGUS: DNSSEC validation failed, validating resolvers answer SERVFAIL"
	case dnsmx.SecurityUnknown:
		return what + ": DNSSEC state unknown, the lookup failed"
	}
	return ""
}

// TLSASecurityWords says whether the TLSA RRset of l, or its denial, was
// DNSSEC-validated: only a secure one is DANE (RFC 7672 section 2.2), so a
// reader of the DANE block needs it said. "" when l is nil or its state is
// not known.
func TLSASecurityWords(l *dnsmx.TLSALookup) string {
	if l == nil {
		return ""
	}
	what := "TLSA records"
	if l.Outcome == dnsmx.OutcomeNoData || l.Outcome == dnsmx.OutcomeNXDomain {
		what = "the denial of TLSA records"
	}
	return SecurityWords(what, l.Security)
}

// ResolverWords says whether the DNSSEC states of a report can be
// believed: whether the resolver is trusted, and whether it passed its
// self-check.
func ResolverWords(v dnsmx.Validation) string {
	switch {
	case !v.Trusted:
		return "DNSSEC not checked: no validating resolver (dns.trust_ad is off, so the AD bit is not believed)"
	case v.Validating:
		return "the resolver validates DNSSEC: its self-check of " + checkName(v) + " came back with the AD bit"
	case v.Err != "":
		return "DNSSEC not checked: the resolver does not validate (self-check of " + checkName(v) + "): " + v.Err
	}
	return "DNSSEC not checked: the resolver does not validate (self-check of " + checkName(v) + ")"
}

func checkName(v dnsmx.Validation) string {
	if v.CheckName == "" {
		return "."
	}
	return v.CheckName
}

// DANELabel is a DANE status as a short label: upper case for the
// statuses that make DANE senders defer mail, as the text report writes
// every failure.
func DANELabel(s dane.Status) string {
	switch s {
	case dane.StatusPass:
		return "pass"
	case dane.StatusNotChecked:
		return "not checked"
	case dane.StatusInsecure:
		return "insecure"
	case dane.StatusNoTLSA:
		return "no TLSA"
	case dane.StatusNoUsableRecords:
		return "no usable records"
	case dane.StatusNotReached:
		return "not reached"
	case dane.StatusTANotSent:
		return "TRUST ANCHOR NOT SENT"
	case dane.StatusTLSABogus:
		return "TLSA BOGUS"
	}
	return strings.ToUpper(strings.ReplaceAll(string(s), "_", " "))
}

// DANEMeaning says what a status means, for a check that carries no
// detail of its own.
func DANEMeaning(s dane.Status) string {
	switch s {
	case dane.StatusNotChecked:
		return "no trusted validating resolver"
	case dane.StatusInsecure:
		return "the host's address records or its TLSA records are not DNSSEC-secure"
	case dane.StatusNoTLSA:
		return "no TLSA records (secure denial): no DANE"
	case dane.StatusNoUsableRecords:
		return "no TLSA record is usable on port 25: TLS without authentication"
	case dane.StatusPass:
		return "a usable TLSA record matches the presented chain"
	case dane.StatusMismatch:
		return "usable TLSA records exist and none matches the presented chain"
	case dane.StatusTANotSent:
		return "the server does not send the trust anchor certificate its DANE-TA records name"
	case dane.StatusDigestMismatch:
		return "a SHA2-256 record matches but the SHA2-512 records of the same usage and selector do not"
	case dane.StatusTLSABogus:
		return "the TLSA records failed DNSSEC validation"
	case dane.StatusTLSALookupFailed:
		return "the TLSA lookup failed"
	case dane.StatusStartTLSMissing:
		return "usable TLSA records, but the server does not offer STARTTLS"
	case dane.StatusTLSFailed:
		return "usable TLSA records, but no TLS session came of STARTTLS"
	case dane.StatusNotReached:
		return "the dialogue ended before STARTTLS"
	}
	return string(s)
}

// DANEWords is the verdict of a check in words: its label and why.
func DANEWords(c *dane.Check) string {
	why := c.Detail
	if why == "" {
		why = DANEMeaning(c.Status)
	}
	return DANELabel(c.Status) + ": " + why
}

// DANEConsequence says what a DANE failure means for the probe, in the
// words of the dialogue's transcript note; "" when the status is no
// failure.
func DANEConsequence(c *dane.Check) string {
	switch {
	case !c.Status.Failure():
		return ""
	case c.Mode == dane.ModeEnforce:
		return "a DANE sender defers mail, so the probe fails (dane: enforce)"
	}
	return "a DANE sender defers mail, but the module only reports it (dane: " + string(c.Mode) + ")"
}

// TLSANameWords names where a check's TLSA records came from, when that is
// not the MX host's own name (port and host): a secure alias of the host,
// or a TLSA name that is itself an alias. "" otherwise.
func TLSANameWords(c *dane.Check, host string, port int) string {
	own := fmt.Sprintf("_%d._tcp.%s", port, host)
	name := c.TLSAName != "" && c.TLSAName != own
	base := c.BaseDomain != "" && c.BaseDomain != host
	switch {
	case name && base:
		return "TLSA records of " + c.TLSAName + ", TLSA base domain " + c.BaseDomain
	case name:
		return "TLSA records of " + c.TLSAName
	case base:
		return "TLSA base domain " + c.BaseDomain
	}
	return ""
}

// DANEExpiredWords explains a DANE pass on an expired certificate: DANE-EE
// looks at neither dates nor names (RFC 7671 section 5.1), so both facts
// stand side by side.
const DANEExpiredWords = "the certificate has expired, but DANE-EE records ignore its dates: DANE senders still deliver"

// TLSAParams names a record's usage, selector and matching type with the
// acronyms of RFC 7218: "DANE-EE SPKI SHA2-256".
func TLSAParams(r dane.TLSA) string {
	usage := map[dane.Usage]string{dane.PKIXTA: "PKIX-TA", dane.PKIXEE: "PKIX-EE", dane.DANETA: "DANE-TA", dane.DANEEE: "DANE-EE"}[r.Usage]
	if usage == "" {
		usage = fmt.Sprintf("usage %d", r.Usage)
	}
	selector := map[dane.Selector]string{dane.SelectorCert: "Cert", dane.SelectorSPKI: "SPKI"}[r.Selector]
	if selector == "" {
		selector = fmt.Sprintf("selector %d", r.Selector)
	}
	matching := map[dane.MatchingType]string{dane.MatchFull: "Full", dane.MatchSHA256: "SHA2-256", dane.MatchSHA512: "SHA2-512"}[r.MatchingType]
	if matching == "" {
		matching = fmt.Sprintf("matching type %d", r.MatchingType)
	}
	return usage + " " + selector + " " + matching
}

// tlsaDataShown is how many hex digits of a record's data a line shows:
// enough to tell two records apart at a glance, short enough for one line.
const tlsaDataShown = 16

// TLSAData is a record's data in upper-case hex, as a zone file holds it.
func TLSAData(r dane.TLSA) string {
	return strings.ToUpper(hex.EncodeToString(r.Data))
}

// TLSAShort is a record in presentation form with its data cut short:
// "3 1 1 ABABABABABABABAB…".
func TLSAShort(r dane.TLSA) string {
	data := TLSAData(r)
	if len(data) > tlsaDataShown {
		data = data[:tlsaDataShown] + "…"
	}
	if data == "" {
		data = "(no data)"
	}
	return fmt.Sprintf("%d %d %d %s", r.Usage, r.Selector, r.MatchingType, data)
}

// RecordWords says what became of one record judged against the chain.
func RecordWords(rr dane.RecordResult) string {
	switch rr.Outcome {
	case dane.Matched:
		if rr.TAExpired {
			return "matched, but the trust anchor certificate is outside its validity period"
		}
		return "matched"
	case dane.NotMatched:
		if w := taFailureWords(rr.TA); w != "" {
			return "not matched: " + w
		}
		return "not matched"
	case dane.Malformed:
		if rr.Err != nil {
			return "malformed: " + rr.Err.Error()
		}
		return "malformed"
	case dane.Unusable:
		return "unusable on port 25 (PKIX usages are not DANE for SMTP)"
	}
	return rr.Outcome.String()
}

// RecordClassWords says what a record can be, before any chain is judged.
func RecordClassWords(r dane.TLSA) string {
	switch r.Class() {
	case dane.ClassMalformed:
		return "malformed: " + r.Validate().Error()
	case dane.ClassUnusable:
		return "unusable on port 25 (PKIX usages are not DANE for SMTP)"
	}
	return "usable, not judged: no certificate chain was presented"
}

func taFailureWords(f dane.TAFailure) string {
	switch f {
	case dane.TANotSent:
		return "the trust anchor it names was not sent (or it is the next one, published ahead)"
	case dane.TAChainInvalid:
		return "no valid chain from the leaf to the trust anchor"
	case dane.TAChainExpired:
		return "the chain to the trust anchor holds an expired certificate"
	case dane.TANameMismatch:
		return "the leaf certificate carries neither the base domain nor the MX host name"
	}
	return ""
}

// DroppedRecordsWords says that a TLSA RRset was longer than the probe
// judges; the records past the cap are neither listed nor judged.
func DroppedRecordsWords(n int) string {
	return fmt.Sprintf("%d more TLSA records past the cap of one RRset: not judged", n)
}

// DigestDisagreementWords says that the two digests of one usage and
// selector ("3 1") disagree.
func DigestDisagreementWords(pair string) string {
	return "the SHA2-256 and SHA2-512 records of " + pair + " disagree: only one of them matches, both should (RFC 7671 section 9)"
}

// RolloverWords says whether the host is ready for its next key or trust
// anchor (RFC 7671 section 8).
func RolloverWords(r dane.Rollover) string {
	if r.Ready {
		return "ready: each published usage, selector and matching type matches the current chain, and a record for the next key or trust anchor is published"
	}
	if r.Reason == "" {
		return "NOT ready"
	}
	return "NOT ready: " + r.Reason
}
