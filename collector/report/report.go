// Package report renders a probe report for people: a telnet-like text view
// with the transcript of every dialogue, and a JSON document of the same
// facts. The `probe` command, /probe?debug=true and the status page use it.
package report

import (
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/probe/tlscheck"
)

// Document is the JSON form of a probe.Report. Durations are seconds, as
// everywhere in Prometheus land; times are RFC 3339.
type Document struct {
	Target          string    `json:"target"`
	Kind            string    `json:"kind"` // "domain" or "host"
	Success         bool      `json:"success"`
	Start           time.Time `json:"start"`
	DurationSeconds float64   `json:"duration_seconds"`
	DNS             *DNS      `json:"dns,omitempty"`
	Hosts           []Host    `json:"hosts"`
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
	Addresses       []Address     `json:"addresses"`
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
	Recipients      []Recipient     `json:"recipients,omitempty"`
	Relay           *Relay          `json:"relay_check,omitempty"`
	VRFY            *Reply          `json:"vrfy,omitempty"`
	Transcript      []TranscriptRow `json:"transcript"`
	Truncated       bool            `json:"transcript_truncated,omitempty"`
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
	if d := rep.DNS; d != nil {
		doc.Kind = "domain"
		doc.DNS = &DNS{
			Outcome: d.Outcome, Rcode: d.Rcode, Error: d.Err, Server: d.Server,
			DurationSeconds: d.Duration.Seconds(), NullMX: d.NullMX, NullMXMixed: d.NullMXMixed, Implicit: d.Implicit,
			HostsDropped: d.HostsDropped, Notes: d.Notes,
		}
	}
	for _, h := range rep.Hosts {
		host := Host{
			Name: h.Name, Preference: h.Preference, CNAME: h.CNAME, IPLiteral: h.IPLiteral,
			AddressOutcome: h.Outcome, AddressError: h.Err, AddrsDropped: h.AddrsDropped,
			DurationSeconds: h.Duration.Seconds(),
			Addresses:       make([]Address, 0, len(h.Results)),
		}
		for _, sp := range h.Special {
			host.Special = append(host.Special, SpecialAddr{IP: sp.Addr.String(), Range: sp.Range})
		}
		for _, res := range h.Results {
			if res != nil {
				host.Addresses = append(host.Addresses, newAddress(res))
			}
		}
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
