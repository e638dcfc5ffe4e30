// Package report renders a probe report for people: a telnet-like text view
// with the transcript of every dialogue, and a JSON document of the same
// facts. The `probe` command, /probe?debug=true and the status page use it.
package report

import (
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dane"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/probe/tlscheck"
)

// Document is the JSON form of a probe.Report. Durations are seconds, as
// everywhere in Prometheus land; times are RFC 3339. Keys are snake_case;
// a key whose fact was not looked at is left out rather than given a zero
// that reads as a finding. DNSSEC states are those of dnsmx.Securities,
// DANE statuses those of dane.Statuses, MTA-STS statuses those of
// mtasts.Statuses, reverse DNS statuses those of rdns.Statuses, name pairs
// those of rdns.Pairs, blocklist errors those of dnsbl.Errors and parities
// those of probe.Parities.
type Document struct {
	Target          string    `json:"target"`
	Kind            string    `json:"kind"` // "domain" or "host"
	Success         bool      `json:"success"`
	Start           time.Time `json:"start"`
	DurationSeconds float64   `json:"duration_seconds"`
	// ResolverValidation is the resolver self-check, present only when
	// dns.trust_ad makes its AD bit count: without it every DNSSEC state
	// is unchecked anyway.
	ResolverValidation *Validation `json:"resolver_validation,omitempty"`
	DNS                *DNS        `json:"dns,omitempty"`
	// MTASTS and TLSRPT are the domain's published TLS policy; absent
	// for a host target and when the module's mta_sts is off.
	MTASTS *MTASTS `json:"mta_sts,omitempty"`
	TLSRPT *TLSRPT `json:"tls_rpt,omitempty"`
	// IPv6MXHosts counts the MX hosts with an IPv6 address among those
	// probed; absent for a host target and when no parity was judged.
	IPv6MXHosts *int   `json:"ipv6_mx_hosts,omitempty"`
	Hosts       []Host `json:"hosts"`
}

// Validation is the resolver self-check behind every DNSSEC state.
type Validation struct {
	Trusted    bool   `json:"trusted"`
	Validating bool   `json:"validating"` // CheckName came back with the AD bit
	CheckName  string `json:"check_name,omitempty"`
	Error      string `json:"error,omitempty"` // why it does not validate
}

// DNS is the MX lookup.
type DNS struct {
	Outcome         dnsmx.Outcome `json:"outcome"`
	Rcode           string        `json:"rcode,omitempty"`
	Error           string        `json:"error,omitempty"`
	Server          string        `json:"server,omitempty"`
	DurationSeconds float64       `json:"duration_seconds"`
	NullMX          bool          `json:"null_mx"`
	NullMXMixed     bool          `json:"null_mx_among_others,omitempty"`
	Implicit        bool          `json:"implicit_mx"`
	HostsDropped    int           `json:"hosts_dropped,omitempty"`
	Notes           []string      `json:"notes,omitempty"`
	// DNSSEC is the state of the MX RRset, or of its denial for an
	// implicit MX.
	DNSSEC dnsmx.Security `json:"dnssec,omitempty"`
}

// Host is one MX host.
type Host struct {
	Name            string        `json:"name"`
	Preference      uint16        `json:"preference"`
	CNAME           string        `json:"cname,omitempty"`
	IPLiteral       bool          `json:"ip_literal,omitempty"`
	Special         []SpecialAddr `json:"special_addresses,omitempty"`
	AddressOutcome  dnsmx.Outcome `json:"address_outcome,omitempty"`
	AddressError    string        `json:"address_error,omitempty"`
	AddrsDropped    int           `json:"addresses_dropped,omitempty"`
	DurationSeconds float64       `json:"address_lookup_seconds"`
	// DNSSEC is the state of the address records taken together.
	DNSSEC dnsmx.Security `json:"dnssec,omitempty"`
	// TLSA is the host's TLSA lookup; absent when none was made (dane
	// off, no validating resolver, addresses not secure).
	TLSA *TLSALookup `json:"tlsa,omitempty"`
	// MTASTS is what the domain's MTA-STS policy says of this host;
	// absent when no valid policy with mx patterns judged it.
	MTASTS *HostMTASTS `json:"mta_sts,omitempty"`
	// DNSBL are the host name's results in the domain blocklists (RFC
	// 5782 section 2.3); absent when none is configured.
	DNSBL []DNSBLResult `json:"dnsbl,omitempty"`
	// IPParity compares the host's IPv4 and IPv6 dialogues, one of
	// probe.Parities; absent for a host without addresses.
	IPParity  probe.Parity `json:"ip_parity,omitempty"`
	Addresses []Address    `json:"addresses"`
}

// TLSALookup is the TLSA RRset of an MX host, as DNS gave it. Each
// address's dane object judges it against that address's chain.
type TLSALookup struct {
	Name            string         `json:"name"` // the owner the records came from, after CNAMEs
	BaseDomain      string         `json:"base_domain"`
	Outcome         dnsmx.Outcome  `json:"outcome"`
	Rcode           string         `json:"rcode,omitempty"`
	Security        dnsmx.Security `json:"security"`
	Error           string         `json:"error,omitempty"`
	DurationSeconds float64        `json:"duration_seconds"`
	// Records carry class (usable, unusable, malformed), not outcome.
	Records []TLSARecord `json:"records,omitempty"`
	// RecordsDropped counts the records past the cap of one RRset, which
	// are neither listed nor judged.
	RecordsDropped int `json:"records_dropped,omitempty"`
}

// TLSARecord is one TLSA record. Under a host's tlsa lookup it carries its
// class; under an address's dane object, what the chain made of it.
type TLSARecord struct {
	Usage        dane.Usage        `json:"usage"`
	Selector     dane.Selector     `json:"selector"`
	MatchingType dane.MatchingType `json:"matching_type"`
	Data         string            `json:"data"` // upper-case hex, as in a zone file
	Class        string            `json:"class,omitempty"`
	// Outcome is matched, not_matched, malformed or unusable.
	Outcome string `json:"outcome,omitempty"`
	Error   string `json:"error,omitempty"` // why it is malformed
	// TAFailure says why a DANE-TA record did not match: ta_not_sent,
	// chain_invalid, chain_expired or name_mismatch.
	TAFailure string `json:"ta_failure,omitempty"`
	// TAExpired: matched through a trust anchor certificate outside its
	// validity period, which DANE does not check; worth a warning.
	TAExpired bool `json:"ta_expired,omitempty"`
}

// DANE is the DANE outcome of one address.
type DANE struct {
	Mode   dane.Mode   `json:"mode"`
	Status dane.Status `json:"status"`
	// Failure: a DANE-validating sender defers mail. It fails the probe
	// only in mode enforce.
	Failure    bool   `json:"failure"`
	Detail     string `json:"detail,omitempty"`
	TLSAName   string `json:"tlsa_name,omitempty"`
	BaseDomain string `json:"base_domain,omitempty"`
	// Records, DigestDisagreement and the rollover keys are present only
	// when a presented chain was judged, the rollover keys only when some
	// record is usable.
	Records            []TLSARecord `json:"records,omitempty"`
	DigestDisagreement []string     `json:"digest_disagreement,omitempty"` // usage and selector, "3 1"
	RolloverReady      *bool        `json:"rollover_ready,omitempty"`
	RolloverReason     string       `json:"rollover_reason,omitempty"`
}

// SpecialAddr is an address in a special-purpose range.
type SpecialAddr struct {
	IP    string `json:"ip"`
	Range string `json:"range"`
}

// TLSFailure is a STARTTLS that was attempted and failed.
type TLSFailure struct {
	Stage    smtp.TLSFailureStage `json:"stage"`
	Reply    *Reply               `json:"reply,omitempty"`
	Cause    string               `json:"cause"`
	Fallback bool                 `json:"plaintext_fallback"`
}

// Address is one dialogue.
type Address struct {
	IP              string          `json:"ip"`
	Port            int             `json:"port"`
	Success         bool            `json:"success"`
	Reason          smtp.Reason     `json:"reason,omitempty"`
	Detail          string          `json:"detail,omitempty"`
	DurationSeconds float64         `json:"duration_seconds"`
	BannerHostname  string          `json:"banner_hostname,omitempty"`
	GreetingFirst   float64         `json:"greeting_first_line_seconds,omitempty"`
	Findings        []smtp.Finding  `json:"findings,omitempty"`
	SlowestStep     *Slowest        `json:"slowest_step,omitempty"`
	UsedHELO        bool            `json:"used_helo,omitempty"`
	Steps           []Step          `json:"steps"`
	Extensions      *Extensions     `json:"extensions,omitempty"`
	ExtensionsTLS   *Extensions     `json:"extensions_tls,omitempty"`
	TLS             *tlscheck.Info  `json:"tls,omitempty"`
	TLSFailure      *TLSFailure     `json:"tls_failure,omitempty"`
	DANE            *DANE           `json:"dane,omitempty"` // absent when the module does not look at DANE
	Recipients      []Recipient     `json:"recipients,omitempty"`
	Relay           *Relay          `json:"relay_check,omitempty"`
	VRFY            *Reply          `json:"vrfy,omitempty"`
	Transcript      []TranscriptRow `json:"transcript"`
	Truncated       bool            `json:"transcript_truncated,omitempty"`
	// Reverse is the address's reverse DNS (absent when reverse_dns is
	// off), Names the comparison of the names it goes by (absent when
	// the dialogue gave none), DNSBL its results in the address
	// blocklists (absent when none is configured).
	Reverse *Reverse      `json:"reverse,omitempty"`
	Names   *Names        `json:"names,omitempty"`
	DNSBL   []DNSBLResult `json:"dnsbl,omitempty"`
}

// Slowest is the step behind a slow_step finding.
type Slowest struct {
	Name            string  `json:"name"`
	DurationSeconds float64 `json:"duration_seconds"`
}

// Step is one command and its reply.
type Step struct {
	Name            string  `json:"name"`
	Sent            string  `json:"sent,omitempty"`
	Reply           *Reply  `json:"reply,omitempty"`
	DurationSeconds float64 `json:"duration_seconds"`
	Error           string  `json:"error,omitempty"`
}

// Reply is an SMTP reply.
type Reply struct {
	Code     int      `json:"code"`
	Enhanced string   `json:"enhanced,omitempty"`
	Lines    []string `json:"lines"`
}

// Extensions is an EHLO reply.
type Extensions struct {
	Greeting       string    `json:"greeting"`
	Keywords       []Keyword `json:"keywords"` // in the order the server sent them
	SizeAdvertised bool      `json:"size_advertised"`
	SizeBytes      int64     `json:"size_bytes"`
	SizeInvalid    bool      `json:"size_invalid,omitempty"`
	Auth           []string  `json:"auth,omitempty"`
}

// Keyword is one EHLO keyword with its parameters as sent.
type Keyword struct {
	Name   string `json:"name"`
	Params string `json:"params,omitempty"`
}

// Has reports whether keyword was advertised.
func (e *Extensions) Has(keyword string) bool {
	for _, k := range e.Keywords {
		if k.Name == keyword {
			return true
		}
	}
	return false
}

// Recipient is one RCPT TO of a configured mailbox.
type Recipient struct {
	Address  string `json:"address"`
	Accepted bool   `json:"accepted"`
	Deferred bool   `json:"deferred,omitempty"`
	Reply    *Reply `json:"reply,omitempty"`
}

// Relay is the relay check.
type Relay struct {
	Address string            `json:"address"`
	Verdict smtp.RelayVerdict `json:"verdict"`
	Reply   *Reply            `json:"reply,omitempty"`
}

// TranscriptRow is one line of the dialogue; Dir is "C" (sent), "S"
// (received) or "*" (a note of ours).
type TranscriptRow struct {
	AtSeconds float64 `json:"at_seconds"`
	Dir       string  `json:"dir"`
	Text      string  `json:"text"`
}

// NewDocument converts a report.
func NewDocument(rep *probe.Report) Document {
	doc := Document{
		Target:          rep.Target.Name(),
		Kind:            "host",
		Success:         rep.Success(),
		Start:           rep.Start,
		DurationSeconds: rep.Duration.Seconds(),
		Hosts:           make([]Host, 0, len(rep.Hosts)),
	}
	if v := rep.Validation; v.Trusted {
		doc.ResolverValidation = &Validation{Trusted: v.Trusted, Validating: v.Validating, CheckName: v.CheckName, Error: v.Err}
	}
	if d := rep.DNS; d != nil {
		doc.Kind = "domain"
		doc.DNS = &DNS{
			Outcome: d.Outcome, Rcode: d.Rcode, Error: d.Err, Server: d.Server,
			DurationSeconds: d.Duration.Seconds(), NullMX: d.NullMX, NullMXMixed: d.NullMXMixed, Implicit: d.Implicit,
			HostsDropped: d.HostsDropped, Notes: d.Notes, DNSSEC: d.MXSecurity,
		}
	}
	doc.MTASTS, doc.TLSRPT = newMTASTS(rep), newTLSRPT(rep.TLSRPT)
	doc.IPv6MXHosts = ipv6Hosts(rep)
	for i := range rep.Hosts {
		h := &rep.Hosts[i]
		host := Host{
			Name: h.Name, Preference: h.Preference, CNAME: h.CNAME, IPLiteral: h.IPLiteral,
			AddressOutcome: h.Outcome, AddressError: h.Err, AddrsDropped: h.AddrsDropped,
			DurationSeconds: h.Duration.Seconds(), DNSSEC: h.Security, TLSA: newTLSALookup(h.TLSA), MTASTS: newHostMTASTS(h),
			Addresses: make([]Address, 0, len(h.Results)),
		}
		for _, sp := range h.Special {
			host.Special = append(host.Special, SpecialAddr{IP: sp.Addr.String(), Range: sp.Range})
		}
		for _, res := range h.Results {
			if res != nil {
				host.Addresses = append(host.Addresses, newAddress(res))
			}
		}
		addIdentity(&host, h)
		doc.Hosts = append(doc.Hosts, host)
	}
	return doc
}

func newAddress(r *smtp.Result) Address {
	a := Address{
		IP: r.Addr, Port: r.Port, Success: r.Success, Reason: r.Reason, Detail: r.Detail,
		DurationSeconds: r.Duration.Seconds(), BannerHostname: r.BannerHostname, UsedHELO: r.UsedHELO,
		Extensions: newExtensions(r.Extensions), ExtensionsTLS: newExtensions(r.ExtensionsTLS),
		TLS: r.TLS, VRFY: newReply(r.VRFY), Truncated: r.TranscriptTruncated,
		GreetingFirst: r.GreetingFirstLine.Seconds(), Findings: r.Findings,
		Steps:      make([]Step, 0, len(r.Steps)),
		Transcript: make([]TranscriptRow, 0, len(r.Transcript)),
	}
	for i := range r.Steps {
		s := &r.Steps[i]
		a.Steps = append(a.Steps, Step{
			Name: s.Name, Sent: s.Sent, Reply: newReply(&s.Reply),
			DurationSeconds: s.Duration.Seconds(), Error: s.Err,
		})
	}
	if r.SlowestStep != "" {
		a.SlowestStep = &Slowest{Name: r.SlowestStep, DurationSeconds: r.SlowestStepDuration.Seconds()}
	}
	if f := r.TLSFailure; f != nil {
		a.TLSFailure = &TLSFailure{Stage: f.Stage, Reply: newReply(&f.Reply), Cause: f.Cause, Fallback: f.Fallback}
	}
	a.DANE = newDANE(r.DANE)
	for i := range r.Recipients {
		rc := &r.Recipients[i]
		a.Recipients = append(a.Recipients, Recipient{Address: rc.Address, Accepted: rc.Accepted, Deferred: rc.Deferred, Reply: newReply(&rc.Reply)})
	}
	if r.Relay != nil {
		a.Relay = &Relay{Address: r.Relay.Address, Verdict: r.Relay.Verdict, Reply: newReply(&r.Relay.Reply)}
	}
	for _, l := range r.Transcript {
		a.Transcript = append(a.Transcript, TranscriptRow{AtSeconds: l.At.Seconds(), Dir: string(rune(l.Dir)), Text: l.Text})
	}
	return a
}

func newTLSALookup(l *dnsmx.TLSALookup) *TLSALookup {
	if l == nil {
		return nil
	}
	out := &TLSALookup{
		Name: l.Name, BaseDomain: l.BaseDomain, Outcome: l.Outcome, Rcode: l.Rcode, Security: l.Security,
		Error: l.Err, DurationSeconds: l.Duration.Seconds(), RecordsDropped: l.RecordsDropped,
	}
	for _, r := range l.Records {
		rec := newTLSARecord(r)
		rec.Class = r.Class().String()
		if err := r.Validate(); err != nil {
			rec.Error = err.Error()
		}
		out.Records = append(out.Records, rec)
	}
	return out
}

func newTLSARecord(r dane.TLSA) TLSARecord {
	return TLSARecord{Usage: r.Usage, Selector: r.Selector, MatchingType: r.MatchingType, Data: TLSAData(r)}
}

func newDANE(c *dane.Check) *DANE {
	if c == nil {
		return nil
	}
	d := &DANE{
		Mode: c.Mode, Status: c.Status, Failure: c.Status.Failure(), Detail: c.Detail,
		TLSAName: c.TLSAName, BaseDomain: c.BaseDomain,
	}
	res := c.Result
	if res == nil {
		return d
	}
	for _, rr := range res.Records {
		rec := newTLSARecord(rr.Record)
		rec.Outcome = rr.Outcome.String()
		if rr.Err != nil {
			rec.Error = rr.Err.Error()
		}
		if rr.TA != dane.TAOK {
			rec.TAFailure = rr.TA.String()
		}
		rec.TAExpired = rr.TAExpired
		d.Records = append(d.Records, rec)
	}
	d.DigestDisagreement = res.DigestDisagreement
	// Rollover is about usable records; without any, there is nothing to
	// roll over (as in the metrics, which leave mx_dane_rollover_ready out).
	if usable, _ := res.Counts(); usable > 0 {
		ready := res.Rollover.Ready
		d.RolloverReady, d.RolloverReason = &ready, res.Rollover.Reason
	}
	return d
}

func newReply(r *smtp.Reply) *Reply {
	if r == nil || r.Code == 0 {
		return nil
	}
	return &Reply{Code: r.Code, Enhanced: r.Enhanced, Lines: r.Lines}
}

func newExtensions(e *smtp.Extensions) *Extensions {
	if e == nil {
		return nil
	}
	keywords := make([]Keyword, len(e.Keywords))
	for i, k := range e.Keywords {
		keywords[i] = Keyword(k)
	}
	return &Extensions{
		Greeting: e.Greeting, Keywords: keywords, SizeAdvertised: e.SizeAdvertised,
		SizeBytes: e.Size, SizeInvalid: e.SizeInvalid, Auth: e.Auth,
	}
}
