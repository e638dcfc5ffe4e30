package report

import (
	"fmt"
	"strings"
	"time"

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
	}
	return string(f)
}

func stepDuration(r *smtp.Result, name string) time.Duration {
	if s := r.Step(name); s != nil {
		return s.Duration
	}
	return 0
}
