// Package smtp runs the SMTP dialogue a mail admin would type by hand against
// one address of one MX host, and returns what happened as plain data: every
// step with its reply, its enhanced status code and its duration, the
// advertised extensions, the TLS facts and a capped transcript.
//
// It knows nothing of Prometheus and never sends DATA.
package smtp

import (
	"time"

	"github.com/mx-exporter/mx_exporter/collector/tlscheck"
)

// Reason is why a dialogue failed. The set is fixed and documented in the
// README, so it can be a metric label and an alert condition.
type Reason string

// The failure reasons. A successful probe has the empty Reason.
const (
	ReasonNone             Reason = ""
	ReasonConnectRefused   Reason = "connect_refused"      // TCP RST: nothing listens
	ReasonConnectTimeout   Reason = "connect_timeout"      // no SYN-ACK before the deadline
	ReasonConnectError     Reason = "connect_error"        // any other dial error (unreachable network…)
	ReasonBannerTimeout    Reason = "banner_timeout"       // connected, but no complete greeting in time
	ReasonBannerRejected   Reason = "banner_rejected"      // greeting was not 220 (554, 421…)
	ReasonEHLORejected     Reason = "ehlo_rejected"        // both EHLO and HELO refused
	ReasonStartTLSMissing  Reason = "starttls_unavailable" // module requires STARTTLS, server does not offer it
	ReasonStartTLSFailed   Reason = "starttls_failed"      // STARTTLS refused, or the TLS handshake failed
	ReasonTLSVerifyFailed  Reason = "tls_verify_failed"    // module requires a verified certificate, it did not verify
	ReasonMailRejected     Reason = "mail_rejected"        // MAIL FROM refused
	ReasonRcptRejected     Reason = "rcpt_rejected"        // a configured mailbox was not accepted
	ReasonRelayOpen        Reason = "relay_open"           // the relay-check recipient was accepted
	ReasonProtocolError    Reason = "protocol_error"       // malformed reply: bad code, mixed codes, bad continuation
	ReasonReplyTooLong     Reason = "reply_too_long"       // a line or a reply exceeded its cap
	ReasonTimeout          Reason = "timeout"              // the probe deadline passed after the greeting
	ReasonConnectionClosed Reason = "connection_closed"    // the server closed the connection mid-dialogue
)

// Reasons lists every failure reason, for documentation and for exporting a
// complete, bounded set of label values.
var Reasons = []Reason{
	ReasonConnectRefused, ReasonConnectTimeout, ReasonConnectError,
	ReasonBannerTimeout, ReasonBannerRejected, ReasonEHLORejected,
	ReasonStartTLSMissing, ReasonStartTLSFailed, ReasonTLSVerifyFailed,
	ReasonMailRejected, ReasonRcptRejected, ReasonRelayOpen,
	ReasonProtocolError, ReasonReplyTooLong, ReasonTimeout, ReasonConnectionClosed,
}

// Step names, used as the `step` label of step durations and as the
// `command` label of reply codes.
const (
	StepConnect      = "connect"
	StepBanner       = "banner"
	StepEHLO         = "ehlo"
	StepHELO         = "helo"
	StepStartTLS     = "starttls"
	StepTLSHandshake = "tls_handshake"
	StepEHLOTLS      = "ehlo_tls" // EHLO repeated inside TLS
	StepMail         = "mail"
	StepRcpt         = "rcpt"
	StepRelay        = "relay"
	StepVRFY         = "vrfy"
	StepRSET         = "rset"
	StepQuit         = "quit"
)

// Reply is one complete SMTP reply (RFC 5321 section 4.2).
type Reply struct {
	Code     int      // basic three-digit code; 0 when no reply was read
	Enhanced string   // RFC 3463 enhanced status code such as "2.1.5", "" when absent
	Lines    []string // text of each line, without the code, separator and enhanced code
}

// Step is one command of the dialogue (or the connect and TLS handshake,
// which have no reply).
type Step struct {
	Name     string        // one of the Step* constants
	Sent     string        // the command line as sent, "" for connect/banner/handshake
	Reply    Reply         // Code 0 when the step has no reply or none came
	Duration time.Duration // from sending the command to reading the whole reply
	Err      string        // what went wrong at this step, "" if nothing did
}

// Recipient is the outcome of RCPT TO for one configured mailbox.
type Recipient struct {
	Address  string
	Reply    Reply
	Accepted bool // 2xx
}

// RelayVerdict is the outcome of the relay check.
type RelayVerdict string

// Relay verdicts: refused (5xx, the gateway is no open relay), open (2xx),
// inconclusive (4xx or no reply: try again later).
const (
	RelayNotChecked   RelayVerdict = ""
	RelayRefused      RelayVerdict = "refused"
	RelayOpen         RelayVerdict = "open"
	RelayInconclusive RelayVerdict = "inconclusive"
)

// Relay is the relay-check RCPT and its verdict.
type Relay struct {
	Address string
	Reply   Reply
	Verdict RelayVerdict
}

// Direction tells transcript lines apart.
type Direction byte

// Transcript directions.
const (
	Sent     Direction = 'C' // client (us) to server
	Received Direction = 'S' // server to us
	Note     Direction = '*' // our own annotation: connect, TLS, errors
)

// Line is one transcript line, with its offset from the start of the probe.
type Line struct {
	At   time.Duration
	Dir  Direction
	Text string
}

// Result is everything one dialogue with one address established.
type Result struct {
	Host string // MX host name (or the host of a direct target)
	Addr string // IP address (no port)
	Port int

	Start    time.Time
	Duration time.Duration

	Success bool
	Reason  Reason // ReasonNone when Success
	Detail  string // human explanation of the failure, may quote the server

	Steps []Step // in the order they ran

	Banner         Reply
	BannerHostname string // first word of the greeting when it is a valid host name, capped

	UsedHELO      bool        // EHLO refused, HELO accepted
	Extensions    *Extensions // from EHLO before TLS; nil when EHLO was not accepted
	ExtensionsTLS *Extensions // from EHLO inside TLS; nil when no TLS session

	TLS *tlscheck.Info // nil when STARTTLS was not attempted

	Recipients []Recipient
	Relay      *Relay
	VRFY       *Reply

	Transcript          []Line
	TranscriptTruncated bool
}

// Step returns the first step with the given name, or nil.
func (r *Result) Step(name string) *Step {
	for i := range r.Steps {
		if r.Steps[i].Name == name {
			return &r.Steps[i]
		}
	}
	return nil
}
