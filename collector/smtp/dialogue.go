package smtp

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/dnsname"
	"github.com/mx-exporter/mx_exporter/collector/tlscheck"
)

// politeQuitTimeout bounds the QUIT we send after a failure: good manners,
// never worth holding the probe for.
const politeQuitTimeout = time.Second

// Probe runs the dialogue with one address of host: connect, banner, EHLO
// (HELO when EHLO is refused), STARTTLS and EHLO again when offered, MAIL
// FROM, RCPT TO each recipient, RCPT TO the relay-check address, VRFY, RSET,
// QUIT. It never sends DATA.
//
// addr is an IP address (IPv6 with or without brackets); host is the name
// the certificate is checked against unless opts.TLSServerName is set. The
// context's deadline bounds every read and write (DefaultTimeout when it has
// none), and cancelling it aborts the dialogue at once.
//
// Probe always returns a Result; Success is false with a Reason when the
// dialogue did not meet expectations. Invalid options (see Validate) are
// reported as connect_error without connecting.
func Probe(ctx context.Context, host, addr string, opts Options) *Result {
	start := time.Now()
	opts = opts.withDefaults()
	if len(addr) > 2 && addr[0] == '[' && addr[len(addr)-1] == ']' {
		addr = addr[1 : len(addr)-1]
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	deadline, _ := ctx.Deadline()
	d := &dialogue{
		ctx:      ctx,
		deadline: deadline,
		opts:     opts,
		res: &Result{
			Host: host, Addr: addr, Port: opts.Port, Start: start,
			// The result is kept until the next probe: room for exactly
			// the steps of a full dialogue, not append's doubling.
			Steps: make([]Step, 0, opts.fullDialogueSteps()),
		},
		tr: newTranscript(start, opts.MaxTranscriptLines, opts.MaxTranscriptLineLen),
	}
	if err := opts.Validate(); err != nil {
		d.fail(ReasonConnectError, "invalid options: "+err.Error())
	} else {
		d.run()
	}
	res := d.res
	res.Success = res.Reason == ReasonNone
	res.Transcript, res.TranscriptTruncated = d.tr.lines()
	res.Duration = time.Since(start)
	return res
}

// dialogue is the state of one Probe.
type dialogue struct {
	ctx      context.Context
	deadline time.Time // of every read and write
	opts     Options
	res      *Result
	tr       *transcript

	raw       net.Conn  // the TCP connection
	connected time.Time // when it was established: the banner wait starts there
	conn      net.Conn  // raw, or the TLS session over it
	rd        *ReplyReader
	w         *bufio.Writer
}

func (d *dialogue) run() {
	if !d.connect() {
		return
	}
	defer d.raw.Close()
	// Cancelling the context must end a blocked read now, not at the
	// deadline. Closing the socket does that and, unlike moving the
	// deadline into the past, no later SetDeadline can undo it. stop keeps
	// the callback (and its goroutine) from outliving the probe.
	stop := context.AfterFunc(d.ctx, func() { d.raw.Close() })
	defer stop()

	d.attach(d.raw)
	if d.greet() && d.hello() && d.startTLS() && d.transaction() {
		d.quit()
	}
}

func (d *dialogue) connect() bool {
	dial := d.opts.DialContext
	if dial == nil {
		var nd net.Dialer
		dial = nd.DialContext
	}
	target := net.JoinHostPort(d.res.Addr, strconv.Itoa(d.opts.Port))
	start := time.Now()
	conn, err := dial(d.ctx, "tcp", target)
	st := Step{Name: StepConnect, Duration: time.Since(start)}
	if err != nil {
		st.Err = err.Error()
		d.res.Steps = append(d.res.Steps, st)
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			d.fail(ReasonConnectRefused, "nothing listens on "+target+" (connection refused)")
		case errors.Is(d.ctx.Err(), context.Canceled):
			d.fail(ReasonConnectTimeout, "probe cancelled while connecting to "+target)
		case d.ctx.Err() != nil || isTimeout(err):
			d.fail(ReasonConnectTimeout, "no answer from "+target+" before the deadline")
		default:
			d.fail(ReasonConnectError, fmt.Sprintf("connect to %s: %v", target, err))
		}
		return false
	}
	d.res.Steps = append(d.res.Steps, st)
	d.raw, d.connected = conn, time.Now()
	d.tr.note("connected to %s from %s", conn.RemoteAddr(), conn.LocalAddr())
	return true
}

// attach reads and writes over c from now on: the TCP connection, then the
// TLS session. Anything buffered from the old one is dropped with it.
func (d *dialogue) attach(c net.Conn) {
	d.conn = c
	d.rd = NewReplyReader(c, d.opts.MaxLineBytes, d.opts.MaxReplyLines)
	d.rd.Trace = func(line []byte) { d.tr.add(Received, line) }
	d.w = bufio.NewWriter(c)
}

func (d *dialogue) greet() bool {
	rep, err := d.exchange(StepBanner, "")
	if err != nil {
		d.abort(StepBanner, "the banner", err)
		return false
	}
	d.res.Banner = rep
	d.res.BannerHostname = bannerHostname(rep)
	if rep.Code != 220 {
		// RFC 5321 3.1: after a 554 greeting the client should still QUIT.
		d.reject(ReasonBannerRejected, "server refused the session: "+rep.String())
		return false
	}
	return true
}

func (d *dialogue) hello() bool {
	name := d.opts.EHLOName
	rep, err := d.exchange(StepEHLO, "EHLO "+name)
	if err != nil {
		d.abort(StepEHLO, "EHLO", err)
		return false
	}
	if rep.Class() == 2 {
		d.res.Extensions = sharedExtensions.parse(rep)
		return true
	}
	if rep.Class() != 5 { // 421 and friends: HELO would fare no better
		d.reject(ReasonEHLORejected, "EHLO refused: "+rep.String())
		return false
	}
	d.markStep("EHLO refused: " + rep.String())
	rep, err = d.exchange(StepHELO, "HELO "+name)
	if err != nil {
		d.abort(StepHELO, "HELO", err)
		return false
	}
	if rep.Class() != 2 {
		d.reject(ReasonEHLORejected, "EHLO and HELO refused: "+rep.String())
		return false
	}
	d.res.UsedHELO = true
	return true
}

func (d *dialogue) startTLS() bool {
	if d.opts.StartTLS == StartTLSOff {
		return true
	}
	if !d.res.Extensions.Has("STARTTLS") {
		if d.opts.StartTLS == StartTLSRequired {
			d.reject(ReasonStartTLSMissing, "STARTTLS is required but the server does not advertise it")
			return false
		}
		return true
	}
	rep, err := d.exchange(StepStartTLS, "STARTTLS")
	if err != nil {
		d.abort(StepStartTLS, "STARTTLS", err)
		return false
	}
	if rep.Code != 220 {
		d.reject(ReasonStartTLSFailed, "STARTTLS refused: "+rep.String())
		return false
	}
	if n := d.rd.Buffered(); n > 0 {
		// No QUIT from here on: the server expects a ClientHello, and
		// plaintext would only add to the confusion.
		d.markStep("unprotected data after 220")
		d.fail(ReasonStartTLSFailed, fmt.Sprintf("server sent %d bytes after its 220 to STARTTLS, before the TLS handshake", n))
		return false
	}

	name := d.tlsName()
	// SMTP delivers over TLS whatever the certificate (RFC 3207 4.1), so
	// the handshake does not verify; tlscheck verifies afterwards and turns
	// the outcome into a fact. TLS 1.0 is allowed so that an old server is
	// reported as such rather than as a failed handshake.
	cfg := &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10} //nolint:gosec // verified by tlscheck
	if net.ParseIP(name) == nil {
		cfg.ServerName = name
	}
	tc := tls.Client(d.raw, cfg)
	d.arm()
	start := time.Now()
	err = tc.HandshakeContext(d.ctx)
	st := Step{Name: StepTLSHandshake, Duration: time.Since(start)}
	if err != nil {
		st.Err = err.Error()
		d.res.Steps = append(d.res.Steps, st)
		// No QUIT: the session is neither plaintext nor TLS any more.
		if d.ctx.Err() != nil || isTimeout(err) {
			d.fail(ReasonTimeout, "TLS handshake not finished before the deadline: "+err.Error())
		} else {
			d.fail(ReasonStartTLSFailed, "TLS handshake failed: "+err.Error())
		}
		return false
	}
	d.res.Steps = append(d.res.Steps, st)

	state := tc.ConnectionState()
	info := tlscheck.Inspect(state, name, d.opts.RootCAs, time.Now())
	d.res.TLS = info
	if info.Verified {
		d.tr.note("%s %s, certificate verified for %s", info.Version, info.CipherSuite, name)
	} else {
		d.tr.note("%s %s, certificate not verified for %s: %s", info.Version, info.CipherSuite, name, info.VerifyError)
	}
	d.attach(tc)
	if d.opts.RequireVerifiedTLS && !info.Verified {
		// The handshake itself went through: its step stays clean, the
		// why is in TLS.VerifyError.
		d.fail(ReasonTLSVerifyFailed, fmt.Sprintf("certificate not verified for %s: %s", name, info.VerifyError))
		d.politeQuit(true)
		return false
	}

	rep, err = d.exchange(StepEHLOTLS, "EHLO "+d.opts.EHLOName)
	if err != nil {
		d.abort(StepEHLOTLS, "EHLO", err)
		return false
	}
	if rep.Class() != 2 {
		d.reject(ReasonEHLORejected, "EHLO after STARTTLS refused: "+rep.String())
		return false
	}
	d.res.ExtensionsTLS = sharedExtensions.parse(rep)
	return true
}

// tlsName is the name the certificate must be valid for.
func (d *dialogue) tlsName() string {
	if d.opts.TLSServerName != "" {
		return d.opts.TLSServerName
	}
	if h := strings.TrimSuffix(strings.ToLower(d.res.Host), "."); h != "" {
		return h
	}
	return d.res.Addr
}

// transaction runs MAIL, the RCPTs, the relay check, VRFY and RSET. A
// refused recipient does not end it: the admin should see every recipient
// and the relay verdict in one probe; the first failure is the Reason.
func (d *dialogue) transaction() bool {
	rep, err := d.exchange(StepMail, "MAIL FROM:<"+d.opts.MailFrom+">")
	if err != nil {
		d.abort(StepMail, "MAIL FROM", err)
		return false
	}
	if rep.Class() != 2 {
		d.reject(ReasonMailRejected, "MAIL FROM:<"+d.opts.MailFrom+"> refused: "+rep.String())
		return false
	}

	for _, addr := range d.opts.Recipients {
		cmd := "RCPT TO:<" + addr + ">"
		rep, err := d.exchange(StepRcpt, cmd)
		if err != nil {
			d.abort(StepRcpt, cmd, err)
			return false
		}
		ok := rep.Class() == 2
		d.res.Recipients = append(d.res.Recipients, Recipient{Address: addr, Reply: rep, Accepted: ok})
		if !ok {
			d.markStep("recipient not accepted")
			d.fail(ReasonRcptRejected, cmd+" not accepted: "+rep.String())
		}
	}

	if addr := d.opts.RelayCheck; addr != "" {
		cmd := "RCPT TO:<" + addr + ">"
		rep, err := d.exchange(StepRelay, cmd)
		relay := &Relay{Address: addr, Reply: rep, Verdict: RelayInconclusive}
		d.res.Relay = relay
		if err != nil {
			// No verdict, and the connection is gone: the transport
			// error is the probe's failure, not an open relay.
			d.abort(StepRelay, cmd, err)
			return false
		}
		switch rep.Class() {
		case 2:
			relay.Verdict = RelayOpen
			d.markStep("relay-check recipient accepted")
			d.fail(ReasonRelayOpen, "relay-check recipient "+cmd+" accepted: "+rep.String())
		case 5:
			relay.Verdict = RelayRefused
		default:
			d.tr.note("relay check inconclusive: %s", rep.String())
		}
	}

	if v := d.opts.VRFY; v != "" {
		// Whatever VRFY answers (252 "cannot verify" is the usual) is
		// recorded, never judged.
		rep, err := d.exchange(StepVRFY, "VRFY "+v)
		if err != nil {
			d.abort(StepVRFY, "VRFY", err)
			return false
		}
		d.res.VRFY = &rep
	}

	rep, err = d.exchange(StepRSET, "RSET")
	if err != nil {
		d.abort(StepRSET, "RSET", err)
		return false
	}
	if rep.Class() != 2 {
		d.markStep("RSET refused: " + rep.String())
	}
	return true
}

// quit ends a dialogue that went through. A failed QUIT is recorded in its
// step but fails nothing: everything we came for was established.
func (d *dialogue) quit() {
	rep, err := d.exchange(StepQuit, "QUIT")
	switch {
	case err != nil:
		d.tr.note("QUIT: %v", err)
	case rep.Code != 221:
		d.markStep("expected 221, got " + rep.String())
		d.tr.note("QUIT answered %s", rep.String())
	}
}

// exchange sends line ("" to only read, for the banner) and reads the whole
// reply, recording a Step timed from the write to the end of the reply.
//
// Each command is flushed and answered before the next one: no PIPELINING
// (RFC 2920) yet, which keeps each step's duration its own.
func (d *dialogue) exchange(name, line string) (Reply, error) {
	st := Step{Name: name, Sent: intern(line)}
	start := time.Now()
	if line == "" {
		start = d.connected
	}
	err := d.arm()
	if err == nil && line != "" {
		d.tr.add(Sent, []byte(line))
		_, err = d.w.WriteString(line + "\r\n")
		if err == nil {
			err = d.w.Flush()
		}
	}
	var rep Reply
	if err == nil {
		rep, err = d.rd.ReadReply()
	}
	st.Duration = time.Since(start)
	st.Reply = rep
	if err != nil {
		st.Err = err.Error()
	}
	d.res.Steps = append(d.res.Steps, st)
	return rep, err
}

// arm sets the deadline of the next read and write.
func (d *dialogue) arm() error { return d.conn.SetDeadline(d.deadline) }

// markStep notes what went wrong at the last step.
func (d *dialogue) markStep(msg string) {
	if n := len(d.res.Steps); n > 0 && d.res.Steps[n-1].Err == "" {
		d.res.Steps[n-1].Err = msg
	}
}

// fail records a failure; the first one is the probe's Reason.
func (d *dialogue) fail(r Reason, detail string) {
	d.tr.note("%s: %s", r, detail)
	if d.res.Reason != ReasonNone {
		return
	}
	d.res.Reason = r
	d.res.Detail = escapeCap([]byte(detail), detailCap)
}

// reject fails on a well-formed reply we did not want. The connection is in
// step, so we say goodbye properly.
func (d *dialogue) reject(r Reason, detail string) {
	d.markStep(detail)
	d.fail(r, detail)
	d.politeQuit(true)
}

// abort fails on an error that left no usable reply: a timeout, a closed
// connection, a malformed or overlong reply. what names the command (or
// "the banner") for the detail.
func (d *dialogue) abort(step, what string, err error) {
	var (
		tooLong *TooLongError
		proto   *ProtocolError
	)
	switch {
	case errors.As(err, &tooLong):
		d.fail(ReasonReplyTooLong, "reply to "+what+" too long: "+err.Error())
		// Out of step with the server: say goodbye, expect nothing.
		d.politeQuit(false)
	case errors.As(err, &proto):
		d.fail(ReasonProtocolError, "reply to "+what+": "+err.Error())
		d.politeQuit(false)
	case errors.Is(d.ctx.Err(), context.Canceled):
		d.fail(timeoutReason(step), "probe cancelled waiting for the reply to "+what)
	case d.ctx.Err() != nil || isTimeout(err):
		d.fail(timeoutReason(step), "no complete reply to "+what+" before the deadline")
	default:
		d.fail(ReasonConnectionClosed, "connection closed waiting for the reply to "+what+": "+err.Error())
	}
}

func timeoutReason(step string) Reason {
	if step == StepBanner {
		return ReasonBannerTimeout
	}
	return ReasonTimeout
}

// politeQuit sends QUIT after a failure, with a short deadline of its own
// (never past the probe's), and reads the answer only when wait is set and
// the stream is in step. It changes no Reason.
func (d *dialogue) politeQuit(wait bool) {
	dl := time.Now().Add(politeQuitTimeout)
	if dl.After(d.deadline) {
		dl = d.deadline
	}
	if d.ctx.Err() != nil || !time.Now().Before(dl) {
		return
	}
	saved := d.deadline
	d.deadline = dl
	defer func() { d.deadline = saved }()
	if wait {
		if _, err := d.exchange(StepQuit, "QUIT"); err != nil {
			d.tr.note("QUIT: %v", err)
		}
		return
	}
	if d.arm() == nil {
		d.tr.add(Sent, []byte("QUIT"))
		if _, err := d.w.WriteString("QUIT\r\n"); err == nil {
			_ = d.w.Flush()
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() ||
		errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded)
}

// bannerHostname is the first word of the greeting when it is a valid DNS
// host name, lower-cased without a trailing dot; else "". It becomes a
// metric label, so nothing else gets through.
func bannerHostname(r Reply) string {
	if len(r.Lines) == 0 {
		return ""
	}
	word, _, _ := strings.Cut(r.Lines[0], " ")
	word = strings.TrimSuffix(word, ".")
	if !dnsname.Valid(word) {
		return ""
	}
	return strings.ToLower(word)
}
