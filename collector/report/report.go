// Package report renders a probe report for people: a telnet-like text view
// with the transcript of every dialogue, and a JSON document of the same
// facts. The `probe` command, /probe?debug=true and the status page use it.
package report

import (
	"time"

	"github.com/mx-exporter/mx_exporter/collector/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/prober"
	"github.com/mx-exporter/mx_exporter/collector/smtp"
	"github.com/mx-exporter/mx_exporter/collector/tlscheck"
)

// Document is the JSON form of a prober.Report. Durations are seconds, as
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
	Implicit        bool          `json:"implicit_mx"`
	HostsDropped    int           `json:"hosts_dropped,omitempty"`
	Notes           []string      `json:"notes,omitempty"`
}

// Host is one MX host.
type Host struct {
	Name            string        `json:"name"`
	Preference      uint16        `json:"preference"`
	CNAME           string        `json:"cname,omitempty"`
	AddressOutcome  dnsmx.Outcome `json:"address_outcome,omitempty"`
	AddressError    string        `json:"address_error,omitempty"`
	AddrsDropped    int           `json:"addresses_dropped,omitempty"`
	DurationSeconds float64       `json:"address_lookup_seconds"`
	Addresses       []Address     `json:"addresses"`
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
	UsedHELO        bool            `json:"used_helo,omitempty"`
	Steps           []Step          `json:"steps"`
	Extensions      *Extensions     `json:"extensions,omitempty"`
	ExtensionsTLS   *Extensions     `json:"extensions_tls,omitempty"`
	TLS             *tlscheck.Info  `json:"tls,omitempty"`
	Recipients      []Recipient     `json:"recipients,omitempty"`
	Relay           *Relay          `json:"relay_check,omitempty"`
	VRFY            *Reply          `json:"vrfy,omitempty"`
	Transcript      []TranscriptRow `json:"transcript"`
	Truncated       bool            `json:"transcript_truncated,omitempty"`
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
	Greeting       string            `json:"greeting"`
	Keywords       map[string]string `json:"keywords"`
	SizeAdvertised bool              `json:"size_advertised"`
	SizeBytes      int64             `json:"size_bytes"`
	Auth           []string          `json:"auth,omitempty"`
}

// Recipient is one RCPT TO of a configured mailbox.
type Recipient struct {
	Address  string `json:"address"`
	Accepted bool   `json:"accepted"`
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
func NewDocument(rep *prober.Report) Document {
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
			DurationSeconds: d.Duration.Seconds(), NullMX: d.NullMX, Implicit: d.Implicit,
			HostsDropped: d.HostsDropped, Notes: d.Notes,
		}
	}
	for _, h := range rep.Hosts {
		host := Host{
			Name: h.Name, Preference: h.Preference, CNAME: h.CNAME,
			AddressOutcome: h.Outcome, AddressError: h.Err, AddrsDropped: h.AddrsDropped,
			DurationSeconds: h.Duration.Seconds(),
			Addresses:       make([]Address, 0, len(h.Results)),
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
	for i := range r.Recipients {
		rc := &r.Recipients[i]
		a.Recipients = append(a.Recipients, Recipient{Address: rc.Address, Accepted: rc.Accepted, Reply: newReply(&rc.Reply)})
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
	keywords := make(map[string]string, len(e.Keywords))
	for _, k := range e.Keywords {
		keywords[k.Name] = k.Params
	}
	return &Extensions{
		Greeting: e.Greeting, Keywords: keywords, SizeAdvertised: e.SizeAdvertised,
		SizeBytes: e.Size, Auth: e.Auth,
	}
}
