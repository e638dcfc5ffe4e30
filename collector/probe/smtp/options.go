package smtp

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
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

	// SlowStepThreshold: a step whose reply takes longer while the dialogue
	// still completes is reported as FindingSlowStep. Default 1 s.
	SlowStepThreshold time.Duration

	// Caps that bound what a hostile server can make us read or keep.
	MaxLineBytes         int // one reply line, default 2048 (RFC 5321 allows 512)
	MaxReplyLines        int // lines of one reply, default 100
	MaxTranscriptLines   int // default 200
	MaxTranscriptLineLen int // longer transcript lines are cut, default 512

	// DialContext opens the connection; nil uses a net.Dialer.
	DialContext func(ctx context.Context, network, address string) (net.Conn, error)
}

// Defaults for zero Options fields, applied by Probe.
const (
	DefaultPort                 = 25
	DefaultMaxLineBytes         = 2048
	DefaultMaxReplyLines        = 100
	DefaultMaxTranscriptLines   = 200
	DefaultMaxTranscriptLineLen = 512
	DefaultSlowStepThreshold    = time.Second
	// GreetingDelay is how much later than its first line the final line
	// of a multi-line greeting must come to be FindingGreetingDelayed.
	GreetingDelay = 250 * time.Millisecond
	// DefaultTimeout bounds a Probe whose context has no deadline: a silent
	// server must never hold a probe slot for ever.
	DefaultTimeout = 30 * time.Second
)

// withDefaults fills in zero fields.
func (o Options) withDefaults() Options {
	if o.Port == 0 {
		o.Port = DefaultPort
	}
	if o.StartTLS == "" {
		o.StartTLS = StartTLSOpportunistic
	}
	if o.MaxLineBytes <= 0 {
		o.MaxLineBytes = DefaultMaxLineBytes
	}
	if o.MaxReplyLines <= 0 {
		o.MaxReplyLines = DefaultMaxReplyLines
	}
	if o.MaxTranscriptLines <= 0 {
		o.MaxTranscriptLines = DefaultMaxTranscriptLines
	}
	if o.SlowStepThreshold <= 0 {
		o.SlowStepThreshold = DefaultSlowStepThreshold
	}
	if o.MaxTranscriptLineLen <= 0 {
		o.MaxTranscriptLineLen = DefaultMaxTranscriptLineLen
	}
	return o
}

// Validate reports options that cannot make a well-formed dialogue. Above
// all, no string that goes into a command may carry a line break: a
// recipient "a@b>\r\nDATA" would otherwise make the probe send DATA.
// Config validation should call it; Probe does too, and refuses to connect.
func (o Options) Validate() error {
	if o.EHLOName == "" {
		return errors.New("EHLO name is empty")
	}
	if strings.ContainsFunc(o.EHLOName, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Errorf("EHLO name %q contains blanks or control characters", o.EHLOName)
	}
	if o.Port < 0 || o.Port > 65535 {
		return fmt.Errorf("port %d out of range", o.Port)
	}
	switch o.StartTLS {
	case "", StartTLSOff, StartTLSOpportunistic, StartTLSRequired:
	default:
		return fmt.Errorf("unknown starttls mode %q", o.StartTLS)
	}
	check := func(what, s string, mayBeEmpty bool) error {
		switch {
		case s == "" && !mayBeEmpty:
			return fmt.Errorf("%s is empty", what)
		case strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f || r == '<' || r == '>' }):
			return fmt.Errorf("%s %q contains angle brackets or control characters", what, s)
		}
		return nil
	}
	if err := check("mail_from", o.MailFrom, true); err != nil {
		return err
	}
	for _, r := range o.Recipients {
		if err := check("recipient", r, false); err != nil {
			return err
		}
	}
	if err := check("relay_check", o.RelayCheck, true); err != nil {
		return err
	}
	if err := check("vrfy", o.VRFY, true); err != nil {
		return err
	}
	return check("tls server name", o.TLSServerName, true)
}

// fullDialogueSteps is the number of steps a dialogue that runs to the end
// records: connect, banner, EHLO, the three of STARTTLS, MAIL, each RCPT,
// the relay check, VRFY, RSET and QUIT. A HELO fallback adds one.
func (o Options) fullDialogueSteps() int {
	n := 3 + 1 + len(o.Recipients) + 2 // connect, banner, EHLO; MAIL; RCPTs; RSET, QUIT
	if o.StartTLS != StartTLSOff {
		n += 3 // STARTTLS, handshake, EHLO again
	}
	if o.RelayCheck != "" {
		n++
	}
	if o.VRFY != "" {
		n++
	}
	return n
}
