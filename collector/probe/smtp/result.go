// Package smtp runs the SMTP dialogue a mail admin would type by hand against
// one address of one MX host, and returns what happened as plain data: every
// step with its reply, its enhanced status code and its duration, the
// advertised extensions, the TLS facts and a capped transcript.
//
// It knows nothing of Prometheus and never sends DATA.
package smtp

import (
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe/dane"
	"github.com/mx-exporter/mx_exporter/collector/probe/tlscheck"
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
	ReasonRcptRejected     Reason = "rcpt_rejected"        // a configured mailbox was refused (5xx)
	ReasonRcptDeferred     Reason = "rcpt_deferred"        // a configured mailbox got a 4xx (greylisting, try again later): deferred, not refused
	ReasonRelayOpen        Reason = "relay_open"           // the relay-check recipient was accepted
	ReasonProtocolError    Reason = "protocol_error"       // malformed reply: bad code, mixed codes, bad continuation
	ReasonReplyTooLong     Reason = "reply_too_long"       // a line or a reply exceeded its cap
	ReasonTimeout          Reason = "timeout"              // the probe deadline passed after the greeting
	ReasonConnectionClosed Reason = "connection_closed"    // the server closed the connection mid-dialogue
	ReasonServiceClosing   Reason = "service_closing"      // 421 at any step: too many connections, rate limit, shutting down
	ReasonSyncError        Reason = "sync_error"           // 554 5.5.0 protocol synchronization: the server saw a command before its turn
	// ReasonNotStarted: the dialogue never began because the probe's
	// deadline passed (or it was cancelled) while it waited for its turn at
	// the address or for a slot. Nothing was sent: the time went by in
	// mx_exporter's own queue, not at the server.
	ReasonNotStarted Reason = "not_started"
	// ReasonAddressNotAllowed: the address was not dialled because the
	// probe's settings refuse it (Settings.DialAllowed: /probe's
	// probe_endpoint.allow.resolved_addresses). Nothing was sent; the
	// address is what DNS gave, not a server that failed.
	ReasonAddressNotAllowed Reason = "address_not_allowed"
	// The DANE reasons (module dane: enforce): a DANE-validating sender
	// defers mail. Result.DANE says which status and why.
	ReasonDANEMismatch         Reason = "dane_mismatch"           // no usable TLSA record matches the presented chain (mismatch, TA not sent, digest mismatch)
	ReasonDANETLSABogus        Reason = "dane_tlsa_bogus"         // the TLSA RRset failed DNSSEC validation
	ReasonDANETLSALookupFailed Reason = "dane_tlsa_lookup_failed" // the TLSA lookup failed (SERVFAIL that is not bogus, timeout)
	ReasonDANEStartTLSMissing  Reason = "dane_starttls_missing"   // usable TLSA records, but no STARTTLS offered
	// The MTA-STS reasons (module mta_sts: enforce, policy mode enforce):
	// an MTA-STS sender refuses to deliver. The probe engine sets them
	// after the dialogue, from the domain's policy; Report.MTASTS says why.
	ReasonMTASTSUncovered  Reason = "mta_sts_mx_uncovered" // the MX host matches no mx pattern of the policy
	ReasonMTASTSTLSInvalid Reason = "mta_sts_tls_invalid"  // a covered MX address without STARTTLS, TLS 1.2 or a certificate that verifies for the MX name
)

// Reasons lists every failure reason, for documentation and for exporting a
// complete, bounded set of label values.
var Reasons = []Reason{
	ReasonConnectRefused, ReasonConnectTimeout, ReasonConnectError,
	ReasonBannerTimeout, ReasonBannerRejected, ReasonEHLORejected,
	ReasonStartTLSMissing, ReasonStartTLSFailed, ReasonTLSVerifyFailed,
	ReasonMailRejected, ReasonRcptRejected, ReasonRcptDeferred, ReasonRelayOpen,
	ReasonProtocolError, ReasonReplyTooLong, ReasonTimeout, ReasonConnectionClosed,
	ReasonServiceClosing, ReasonSyncError, ReasonNotStarted, ReasonAddressNotAllowed,
	ReasonDANEMismatch, ReasonDANETLSABogus, ReasonDANETLSALookupFailed, ReasonDANEStartTLSMissing,
	ReasonMTASTSUncovered, ReasonMTASTSTLSInvalid,
}

// Finding is a named fact about a dialogue that is not by itself a failure:
// something stands in front of the gateway or slows it down. The set is
// fixed and documented in the README, so it can be a metric label.
type Finding string

// The findings, in the order they are reported.
const (
	// FindingGreetingDelayed: the greeting came as a "220-" line at once and
	// its final "220 " line at least GreetingDelay later (postscreen's
	// pregreet test). Nothing is sent before the final line.
	FindingGreetingDelayed Finding = "greeting_delayed"
	// FindingGreylisted: a configured mailbox was deferred (4xx) with the
	// words or codes of greylisting ("greylisted", "try again later", 4.2.0,
	// 4.7.1). The probe fails as rcpt_deferred; this names why.
	FindingGreylisted Finding = "greylisted"
	// FindingSlowStep: a step waited longer than Options.SlowStepThreshold
	// for its reply (tarpitting, a slow policy check), whether or not the
	// dialogue failed later; Result.SlowestStep names it.
	FindingSlowStep Finding = "slow_step"
	// FindingMiddleboxBanner: the greeting text is masked with asterisks, as
	// Cisco ASA/PIX ESMTP inspection writes it.
	FindingMiddleboxBanner Finding = "middlebox_banner_masked"
	// FindingMiddleboxEHLO: EHLO keywords replaced by "XXXXXXXA"-style text.
	FindingMiddleboxEHLO Finding = "middlebox_ehlo_masked"
	// FindingMiddleboxSTARTTLS: a masked keyword of STARTTLS's length where
	// STARTTLS is missing: a middlebox removed it.
	FindingMiddleboxSTARTTLS Finding = "middlebox_starttls_stripped"
	// FindingSizeInvalid: the EHLO reply the size limit is taken from
	// (Result.SizeSource) advertised SIZE with a parameter that is no byte
	// count ("SIZE -5", "SIZE abc", beyond int64): senders learn no usable
	// limit, which is not the same as the server declaring none.
	FindingSizeInvalid Finding = "size_invalid"
)

// Findings lists every finding, for documentation and for exporting a
// bounded set of label values.
var Findings = []Finding{
	FindingGreetingDelayed, FindingGreylisted, FindingSlowStep,
	FindingMiddleboxBanner, FindingMiddleboxEHLO, FindingMiddleboxSTARTTLS,
	FindingSizeInvalid,
}

// TLSFailureStage tells where an attempted STARTTLS failed.
type TLSFailureStage string

// TLS failure stages.
const (
	TLSRefused   TLSFailureStage = "refused"   // 4xx/5xx reply to STARTTLS
	TLSHandshake TLSFailureStage = "handshake" // the TLS handshake failed (or sent data before it)
)

// TLSFailure is a STARTTLS that was offered and attempted but gave no TLS
// session. In opportunistic mode the dialogue goes on in plaintext, as a
// sending MTA at security level "may" would: in the same session after a
// refusal, on a new connection without STARTTLS after a failed handshake.
// Either way, mail to the address would travel in clear.
type TLSFailure struct {
	Stage TLSFailureStage
	Reply Reply  // the reply to STARTTLS; its 220 for a failed handshake
	Cause string // plain words: "454 4.7.0 TLS not available", "TLS handshake failed: the server sent alert 'handshake failure' (…)"
	// Fallback is true when the dialogue went on in plaintext.
	Fallback bool
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
	// StepPipeline is a pipelined group (Options.Pipelining): from
	// sending it to reading its last reply; Sent lists its verbs. It comes
	// before the steps of its commands, which keep their own reply codes
	// and, as Duration, the wait each added after the reply before it.
	StepPipeline = "pipeline"
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
	Name  string // one of the Step* constants
	Sent  string // the command line as sent, "" for connect/banner/handshake
	Reply Reply  // Code 0 when the step has no reply or none came
	// Duration runs from sending the command to reading its whole reply;
	// in a pipelined group, from the previous reply of the group (or the
	// group's write) to this one.
	Duration time.Duration
	Err      string // what went wrong at this step, "" if nothing did
}

// Recipient is the outcome of RCPT TO for one configured mailbox.
type Recipient struct {
	Address  string
	Reply    Reply
	Accepted bool // 2xx
	Deferred bool // 4xx: try again later (greylisting, a full queue); neither accepted nor refused
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

	// Steps in the order they ran. After a failed TLS handshake in
	// opportunistic mode the dialogue reconnects once without STARTTLS, and
	// the steps of that second session follow under the same names
	// (connect, banner, ehlo, mail, …). A consumer that keeps one step per
	// name takes the first (as Step does): connect, banner and ehlo are then
	// those of the session where TLS was tried, starttls and tls_handshake
	// exist only there, and the transaction steps only in the retry.
	Steps []Step

	// Banner and BannerHostname are from the first session's greeting.
	Banner         Reply
	BannerHostname string // first word of the greeting when it is a valid host name, capped
	// GreetingFirstLine is the time from connect to the first line of the
	// greeting; the banner step's Duration is to its final line. They differ
	// for a postscreen-style greeting ("220-" at once, "220 " seconds later).
	GreetingFirstLine time.Duration

	UsedHELO bool // EHLO refused, HELO accepted
	// Extensions are from the EHLO before TLS (of the first session, after
	// a plaintext retry); nil when EHLO was not accepted.
	Extensions    *Extensions
	ExtensionsTLS *Extensions // from EHLO inside TLS; nil when no TLS session

	TLS        *tlscheck.Info // nil when no TLS session was established
	TLSFailure *TLSFailure    // nil unless STARTTLS was attempted and failed
	// DANE is the address's DANE outcome; nil when the module's dane is off
	// or Options.DANE was nil.
	DANE *dane.Check

	// Recipients and Relay are the verdicts of the transaction. When the
	// session went out of step (Reason protocol_error), none stands: no
	// recipient is Accepted or Deferred, and Relay.Verdict is inconclusive.
	// Relay is nil when the relay-check RCPT was not sent.
	Recipients []Recipient
	Relay      *Relay
	VRFY       *Reply

	// Findings are the named facts of the dialogue, each once, in the
	// order of Findings.
	Findings []Finding
	// SlowestStep is the name of the step that took longest, with its
	// duration, when FindingSlowStep is among Findings ("" otherwise). For
	// the banner, the time to its first line counts (see GreetingFirstLine).
	// A pipelined group is judged whole, as "pipeline": a server may hold
	// a group's replies until its last (Postfix does), so when a reply
	// came does not say which command was slow.
	SlowestStep         string
	SlowestStepDuration time.Duration

	Transcript          []Line
	TranscriptTruncated bool
}

// HasFinding reports whether f is among the result's findings.
func (r *Result) HasFinding(f Finding) bool {
	for _, x := range r.Findings {
		if x == f {
			return true
		}
	}
	return false
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
