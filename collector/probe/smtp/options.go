package smtp

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/dnsname"
	"github.com/mx-exporter/mx_exporter/collector/probe/dane"
)

// StartTLS says whether the dialogue upgrades to TLS.
type StartTLS string

// StartTLS modes.
const (
	StartTLSOff           StartTLS = "off"
	StartTLSOpportunistic StartTLS = "opportunistic"
	StartTLSRequired      StartTLS = "required"
)

// Options say what to send and what to expect. The deadline comes from the
// context given to Probe.
type Options struct {
	Port       int      // default 25
	EHLOName   string   // required
	MailFrom   string   // "" sends the null reverse path MAIL FROM:<>
	Recipients []string // RCPT TO each; all must be accepted
	RelayCheck string   // outside address that must be refused; "" skips it
	VRFY       string   // address to VRFY; "" skips it

	StartTLS StartTLS // default opportunistic

	// RootCAs verify the certificate after STARTTLS; nil uses the system pool.
	RootCAs *x509.CertPool
	// TLSServerName is the name the certificate must be valid for; "" uses the host name.
	TLSServerName string
	// RequireVerifiedTLS fails the probe when the certificate does not verify.
	RequireVerifiedTLS bool

	// DANE is what DNS says about DANE for this host (set by the probe
	// engine per MX host; nil, or mode off or "", means no DANE check and
	// a nil Result.DANE). When DANE applies (Policy.Applies), STARTTLS is
	// mandatory whatever StartTLS says (a DANE sender never falls back to
	// plaintext), the SNI is the TLSA base domain, and the presented chain
	// is judged against the records. In enforce mode a failure fails the
	// dialogue as a DANE sender would stop: dane_starttls_missing before
	// any envelope, starttls_failed with no plaintext retry, dane_mismatch
	// with a QUIT right after the handshake. In report mode everything is
	// recorded in Result.DANE and STARTTLS failures keep the behaviour of
	// StartTLS (off counting as opportunistic).
	//
	// A status DNS decided (Policy.Status) changes nothing in the dialogue:
	// STARTTLS is tried as StartTLS says, with the usual SNI. In enforce
	// mode tlsa_bogus and tlsa_lookup_failed then fail the dialogue at its
	// end, unless it failed for another reason first. Records that are all
	// unusable are judged against the chain when there is one, for the
	// report, and never fail anything.
	DANE *dane.Policy

	// Pipelining sends MAIL, every RCPT, the relay RCPT, RSET and QUIT as
	// one group (RFC 2920) when the server advertises PIPELINING in its
	// last EHLO reply, then reads and checks every reply in order; the
	// group's time is the step StepPipeline. Never before the greeting or
	// without the keyword: the dialogue stays lock-step then.
	Pipelining bool

	// SlowStepThreshold: a step whose reply takes longer while the dialogue
	// still completes is reported as FindingSlowStep. Zero means
	// DefaultSlowStepThreshold.
	SlowStepThreshold time.Duration

	// DialContext opens the connection; nil uses a net.Dialer. Tests use it
	// to knock from a chosen source address.
	DialContext func(ctx context.Context, network, address string) (net.Conn, error)
}

// Defaults for zero Options fields, applied by Probe.
const (
	DefaultPort              = 25
	DefaultSlowStepThreshold = time.Second
	// GreetingDelay is how much later than its first line the final line
	// of a multi-line greeting must come to be FindingGreetingDelayed.
	GreetingDelay = 250 * time.Millisecond
	// DefaultTimeout bounds a Probe whose context has no deadline: a silent
	// server must never hold a probe slot for ever.
	DefaultTimeout = 30 * time.Second
)

// Caps that bound what a hostile server can make a dialogue read or keep.
const (
	DefaultMaxLineBytes         = 2048 // one reply line with its CRLF, well above RFC 5321's minimum
	DefaultMaxReplyLines        = 100  // lines of one reply
	DefaultMaxTranscriptLines   = 200  // lines of the transcript kept
	DefaultMaxTranscriptLineLen = 512  // longer transcript lines are cut
)

// withDefaults fills in zero fields.
func (o Options) withDefaults() Options {
	if o.Port == 0 {
		o.Port = DefaultPort
	}
	if o.StartTLS == "" {
		o.StartTLS = StartTLSOpportunistic
	}
	if o.SlowStepThreshold <= 0 {
		o.SlowStepThreshold = DefaultSlowStepThreshold
	}
	return o
}

// Validate reports options that cannot make a well-formed dialogue. What
// goes into a command (the EHLO name, the addresses, the VRFY argument) must
// meet the SMTP-safety rules of dnsname, the ones the config checks at load:
// above all, nothing may carry a line break that would smuggle in a command
// of its own. Probe checks them too, and refuses to connect.
func (o Options) Validate() error {
	if err := dnsname.CheckEHLO(o.EHLOName); err != nil {
		return fmt.Errorf("EHLO name: %w, got %q", err, o.EHLOName)
	}
	if o.Port < 0 || o.Port > 65535 {
		return fmt.Errorf("port %d out of range", o.Port)
	}
	switch o.StartTLS {
	case "", StartTLSOff, StartTLSOpportunistic, StartTLSRequired:
	default:
		return fmt.Errorf("unknown starttls mode %q", o.StartTLS)
	}
	if o.MailFrom != "" { // "" is the null sender
		if err := dnsname.CheckMailbox(o.MailFrom); err != nil {
			return fmt.Errorf("mail_from: %w, got %q", err, o.MailFrom)
		}
	}
	for _, r := range o.Recipients {
		if err := dnsname.CheckMailbox(r); err != nil {
			return fmt.Errorf("recipient: %w, got %q", err, r)
		}
	}
	if o.RelayCheck != "" {
		if err := dnsname.CheckMailbox(o.RelayCheck); err != nil {
			return fmt.Errorf("relay_check: %w, got %q", err, o.RelayCheck)
		}
	}
	if o.VRFY != "" {
		if err := dnsname.CheckVRFY(o.VRFY); err != nil {
			return fmt.Errorf("vrfy: %w, got %q", err, o.VRFY)
		}
	}
	if o.DANE != nil && o.DANE.Mode != "" && !slices.Contains(dane.Modes, o.DANE.Mode) {
		return fmt.Errorf("unknown dane mode %q", o.DANE.Mode)
	}
	if o.TLSServerName != "" && !dnsname.Valid(o.TLSServerName) {
		return fmt.Errorf("tls server name: must be a host name, got %q", o.TLSServerName)
	}
	return nil
}

// fullDialogueSteps is the number of steps a dialogue that runs to the end
// records: connect, banner, EHLO, the three of STARTTLS, MAIL, each RCPT,
// the relay check, VRFY, RSET and QUIT, and the pipelined groups. A HELO
// fallback adds one.
func (o Options) fullDialogueSteps() int {
	n := 3 + 1 + len(o.Recipients) + 2 // connect, banner, EHLO; MAIL; RCPTs; RSET, QUIT
	if o.StartTLS != StartTLSOff || activePolicy(o.DANE).Applies() {
		n += 3 // STARTTLS, handshake, EHLO again
	}
	if o.RelayCheck != "" {
		n++
	}
	if o.VRFY != "" {
		n++
	}
	if o.Pipelining {
		n++ // the group's step
		if o.VRFY != "" {
			n++ // VRFY ends a group: RSET and QUIT are a second one
		}
	}
	return n
}
