package smtp

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/dnsname"
	"github.com/mx-exporter/mx_exporter/collector/probe/dane"
)

// politeQuitTimeout bounds the QUIT we send after a failure: good manners,
// never worth holding the probe for.
const politeQuitTimeout = time.Second

// Probe runs the dialogue with one address of host: connect, banner, EHLO
// (HELO when EHLO is refused), STARTTLS and EHLO again when offered, MAIL
// FROM, RCPT TO each recipient, RCPT TO the relay-check address, VRFY, RSET,
// QUIT. It never sends DATA. Unless opts.Pipelining is set and the server
// advertises PIPELINING (see pipeline.go), each command waits for the reply
// to the one before, and a server that sends more than was asked for ends
// the dialogue as out of step.
//
// In opportunistic STARTTLS mode, a refused STARTTLS is recorded and the
// dialogue goes on in plaintext; a failed TLS handshake is recorded and the
// dialogue starts again once, on a new connection, without STARTTLS (as a
// sending MTA at TLS security level "may" does).
//
// With opts.DANE, the dialogue also does what a DANE-validating sender does
// (see Options.DANE) and records the address's DANE outcome in Result.DANE.
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
	policy := activePolicy(opts.DANE)
	d := &dialogue{
		ctx:         ctx,
		deadline:    deadline,
		opts:        opts,
		dane:        policy,
		daneApplies: policy.Applies(),
		res: &Result{
			Host: host, Addr: addr, Port: opts.Port, Start: start,
			// The result is kept until the next probe: room for exactly
			// the steps of a full dialogue, not append's doubling.
			Steps: make([]Step, 0, opts.fullDialogueSteps()),
		},
		tr: newTranscript(start, DefaultMaxTranscriptLines, DefaultMaxTranscriptLineLen),
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

	// dane is the DANE policy the dialogue applies, nil when the module
	// does not look at DANE; daneApplies: it has usable secure records.
	dane        *dane.Policy
	daneApplies bool

	sessions   int  // connections opened: 1, or 2 after a plaintext retry
	plainRetry bool // the TLS handshake failed in opportunistic mode: start again without STARTTLS

	raw       net.Conn  // the TCP connection
	connected time.Time // when it was established: the banner wait starts there
	conn      net.Conn  // raw, or the TLS session over it
	rd        *ReplyReader
	w         *bufio.Writer

	// When the first and the last line of the reply being read arrived.
	firstLine, lastLine time.Time
	// greetFirst is, per session, the time from connect to the first line
	// of the greeting: what a slow banner is judged by.
	greetFirst [2]time.Duration
	found      findingSet

	// pipeOffered: the session's last EHLO reply (inside TLS once TLS is
	// up) advertised PIPELINING. pipe is the pipelined transaction under
	// way, nil in lock-step.
	pipeOffered bool
	pipe        *pipeline
}

func (d *dialogue) run() {
	d.daneStart()
	d.session(true)
	if d.plainRetry {
		d.tr.note("reconnecting without STARTTLS, as a sending MTA at TLS security level \"may\" would")
		d.session(false)
	}
	d.daneFinish()
	d.judgeSlowest()
	d.res.Findings = d.findings()
}

// session runs the dialogue over one connection; tryTLS is false for the
// plaintext retry after a failed handshake.
func (d *dialogue) session(tryTLS bool) {
	d.sessions++
	if !d.connect() {
		return
	}
	raw := d.raw
	defer raw.Close()
	// Cancelling the context must end a blocked read now, not at the
	// deadline. Closing the socket does that and, unlike moving the
	// deadline into the past, no later SetDeadline can undo it. stop keeps
	// the callback (and its goroutine) from outliving the session.
	stop := context.AfterFunc(d.ctx, func() { raw.Close() })
	defer stop()

	d.attach(raw)
	d.pipeOffered, d.pipe = false, nil
	if !d.greet() || !d.hello() || (tryTLS && !d.startTLS()) {
		return
	}
	d.pipe = d.newPipeline()
	defer func() { d.pipe = nil }()
	if d.transaction() {
		d.quit()
	}
}

func (d *dialogue) connect() bool {
	dial := d.opts.DialContext
	if dial == nil {
		// TCP keep-alive would never fire within one dialogue, and
		// turning it on costs four setsockopt calls per connection.
		nd := net.Dialer{KeepAlive: -1}
		dial = nd.DialContext
	}
	target := net.JoinHostPort(d.res.Addr, strconv.Itoa(d.opts.Port))
	start := time.Now()
	conn, err := dial(d.ctx, "tcp", target)
	st := Step{Name: StepConnect, Duration: time.Since(start)}
	if err != nil {
		cancelled := errors.Is(d.ctx.Err(), context.Canceled)
		st.Err = plainError(err, "", d.deadline.Sub(start), d.ctx.Err() != nil)
		if cancelled {
			st.Err = "probe cancelled"
		}
		d.res.Steps = append(d.res.Steps, st)
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			d.fail(ReasonConnectRefused, "nothing listens on "+target+" (connection refused)")
		case cancelled:
			d.fail(ReasonConnectTimeout, "probe cancelled while connecting to "+target)
		case d.ctx.Err() != nil || isTimeout(err):
			d.fail(ReasonConnectTimeout, "no answer from "+target+" within "+humanDuration(d.deadline.Sub(start)))
		default:
			d.fail(ReasonConnectError, "connect to "+target+": "+st.Err)
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
	d.rd = NewReplyReader(c, DefaultMaxLineBytes, DefaultMaxReplyLines)
	d.rd.Trace = d.traceLine
	d.w = bufio.NewWriter(c)
}

// traceLine records a received line in the transcript and when it came.
func (d *dialogue) traceLine(line []byte) {
	now := time.Now()
	if d.firstLine.IsZero() {
		d.firstLine = now
	}
	d.lastLine = now
	d.tr.add(Received, line)
}

func (d *dialogue) greet() bool {
	rep, err := d.exchange(StepBanner, "")
	if !d.firstLine.IsZero() {
		first := d.firstLine.Sub(d.connected)
		d.greetFirst[min(d.sessions, 2)-1] = first
		if d.sessions == 1 {
			d.res.GreetingFirstLine = first
		}
	}
	if rep.Code != 0 {
		d.judgeGreeting(rep)
	}
	if err != nil {
		var proto *ProtocolError
		if errors.As(err, &proto) && proto.NotSMTP {
			// Whatever answers does not speak SMTP: a QUIT means nothing to it.
			d.fail(ReasonProtocolError, err.Error())
			return false
		}
		d.abort(StepBanner, err)
		return false
	}
	if rep.Code != 220 {
		// RFC 5321 3.1: after a 554 greeting the client should still QUIT.
		d.reject(ReasonBannerRejected, "server refused the session: "+rep.String())
		return false
	}
	return true
}

// judgeGreeting keeps the greeting of the first session and names what it
// shows: a postscreen-style delay, a middlebox's mask.
func (d *dialogue) judgeGreeting(rep Reply) {
	if d.sessions == 1 {
		d.res.Banner = rep
		d.res.BannerHostname = bannerHostname(rep)
	}
	if late := d.lastLine.Sub(d.firstLine); len(rep.Lines) > 1 && late >= GreetingDelay {
		d.find(FindingGreetingDelayed, "the greeting's final line came "+humanDuration(late)+
			" after its first (a postscreen-style pregreet test); nothing was sent before it")
	}
	if maskedGreeting(rep) {
		d.find(FindingMiddleboxBanner, "a middlebox rewrites the session: the greeting is masked with asterisks (Cisco ASA/PIX ESMTP inspection)")
	}
}

func (d *dialogue) hello() bool {
	name := d.opts.EHLOName
	rep, err := d.exchange(StepEHLO, "EHLO "+name)
	if err != nil {
		d.abort(StepEHLO, err)
		return false
	}
	if rep.Class() == 2 {
		// After a plaintext retry, the first session's EHLO stands: it is
		// the one that advertised STARTTLS. Whether to pipeline is this
		// session's own EHLO's say.
		ext := sharedExtensions.parse(rep)
		if d.res.Extensions == nil {
			d.res.Extensions = ext
		}
		d.pipeOffered = ext.Has("PIPELINING")
		d.judgeEHLO(rep)
		return true
	}
	if rep.Class() != 5 { // 4xx: HELO would fare no better
		d.reject(ReasonEHLORejected, "EHLO refused: "+rep.String())
		return false
	}
	d.markStep("EHLO refused: " + rep.String())
	rep, err = d.exchange(StepHELO, "HELO "+name)
	if err != nil {
		d.abort(StepHELO, err)
		return false
	}
	if rep.Class() != 2 {
		d.reject(ReasonEHLORejected, "EHLO and HELO refused: "+rep.String())
		return false
	}
	if d.res.Extensions == nil {
		d.res.UsedHELO = true
	}
	return true
}

// judgeEHLO names a middlebox from an EHLO reply before TLS: inside TLS no
// middlebox can rewrite anything, so only this reply carries its signs.
func (d *dialogue) judgeEHLO(rep Reply) {
	masked, stripped := maskedEHLO(rep)
	if masked {
		d.find(FindingMiddleboxEHLO, "a middlebox rewrites the session: EHLO keywords are masked (XXXXXXXA style)")
	}
	if stripped {
		d.find(FindingMiddleboxSTARTTLS, "a middlebox rewrites the session: a masked keyword stands where STARTTLS should be")
	}
}

// transaction runs MAIL, the RCPTs, the relay check, VRFY and RSET. A
// refused or deferred recipient does not end it: the admin should see every
// recipient and the relay verdict in one probe; the first failure is the
// Reason.
func (d *dialogue) transaction() bool {
	rep, err := d.exchange(StepMail, "MAIL FROM:<"+d.opts.MailFrom+">")
	if err != nil {
		d.abort(StepMail, err)
		return false
	}
	if rep.Class() != 2 {
		d.reject(ReasonMailRejected, "MAIL FROM:<"+d.opts.MailFrom+"> refused: "+rep.String())
		return false
	}

	for _, addr := range d.opts.Recipients {
		if !d.recipient(addr) {
			return false
		}
	}
	if addr := d.opts.RelayCheck; addr != "" && !d.relayCheck(addr) {
		return false
	}

	if v := d.opts.VRFY; v != "" {
		// Whatever VRFY answers (252 "cannot verify" is the usual) is
		// recorded, never judged.
		rep, err := d.exchange(StepVRFY, "VRFY "+v)
		if err != nil {
			d.abort(StepVRFY, err)
			return false
		}
		d.res.VRFY = &rep
	}

	rep, err = d.exchange(StepRSET, "RSET")
	if err != nil {
		d.abort(StepRSET, err)
		return false
	}
	if rep.Class() != 2 {
		d.markStep("RSET refused: " + rep.String())
	}
	return true
}

// recipient runs RCPT TO for one configured mailbox: 2xx accepted, 4xx
// deferred (greylisting, a full queue: try again later), anything else
// refused. It reports whether the dialogue can go on.
func (d *dialogue) recipient(addr string) bool {
	cmd := "RCPT TO:<" + addr + ">"
	rep, err := d.exchange(StepRcpt, cmd)
	if rep.Code != 0 { // a 421 has a reply too: neither accepted nor deferred
		d.res.Recipients = append(d.res.Recipients, Recipient{
			Address: addr, Reply: rep,
			Accepted: err == nil && rep.Class() == 2,
			Deferred: err == nil && rep.Class() == 4,
		})
	}
	if err != nil {
		d.abort(StepRcpt, err)
		return false
	}
	switch rep.Class() {
	case 2:
	case 4:
		if looksGreylisted(rep) {
			d.markStep("recipient deferred: greylisting")
			d.fail(ReasonRcptDeferred, cmd+" deferred by greylisting (try again later): "+rep.String())
		} else {
			d.markStep("recipient deferred")
			d.fail(ReasonRcptDeferred, cmd+" deferred (try again later): "+rep.String())
		}
	default:
		d.markStep("recipient not accepted")
		d.fail(ReasonRcptRejected, cmd+" not accepted: "+rep.String())
	}
	return true
}

// relayCheck runs RCPT TO for the outside address: refused (5xx) is the
// good outcome, accepted (2xx) an open relay, anything else inconclusive.
func (d *dialogue) relayCheck(addr string) bool {
	cmd := "RCPT TO:<" + addr + ">"
	rep, err := d.exchange(StepRelay, cmd)
	if err != nil && isOutOfStep(err) {
		d.abort(StepRelay, err) // not sent: no relay check to report
		return false
	}
	relay := &Relay{Address: addr, Reply: rep, Verdict: RelayInconclusive}
	d.res.Relay = relay
	if err != nil {
		// No verdict, and the connection is gone (or closing): the
		// failure is the probe's, not an open relay.
		d.abort(StepRelay, err)
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
	return true
}

// quit ends a dialogue that went through. A failed QUIT is recorded in its
// step but fails nothing: everything we came for was established. Only a
// 2xx other than 221 changes the verdict: it is the reply to an earlier
// command, so every reply was read one command late.
func (d *dialogue) quit() {
	rep, err := d.exchange(StepQuit, "QUIT")
	d.judgeQuit(rep, err)
	d.checkGroupEnd()
}

func (d *dialogue) judgeQuit(rep Reply, err error) {
	switch {
	case err != nil && isOutOfStep(err):
		d.markStep(err.Error())
		d.outOfStep(err.Error())
		d.sendQuit()
	case err != nil:
		d.tr.note("QUIT: %s", err.Error())
	case rep.Class() == 2 && rep.Code != 221:
		msg := "replies out of step: QUIT was answered " + rep.String() + ", a reply meant for an earlier command"
		d.markStep(msg)
		d.outOfStep(msg)
	case rep.Code != 221:
		d.markStep("expected 221, got " + rep.String())
		d.tr.note("QUIT answered %s", rep.String())
	}
}

// exchange sends line ("" to only read, for the banner) and reads the whole
// reply, recording a Step timed from the write to the end of the reply.
//
// Lock-step, each command is flushed and answered before the next one,
// which keeps each step's duration its own and lets us tell a reply nobody
// asked for: anything buffered when we are about to send means the server
// is out of step, and the command is not sent. In a pipelined transaction
// (d.pipe set) the command was, or is now, sent with its group: see
// pipedExchange.
//
// The error says in plain words what went wrong; it is also the step's Err.
// A 421 or a synchronization error comes with its reply.
func (d *dialogue) exchange(name, line string) (Reply, error) {
	if d.pipe != nil && line != "" {
		return d.pipedExchange(name, line)
	}
	if line != "" && d.rd.Buffered() > 0 {
		return Reply{}, d.unsolicited(line)
	}
	st := Step{Name: name, Sent: intern(line)}
	start := time.Now()
	if line == "" {
		start = d.connected
	}
	d.firstLine, d.lastLine = time.Time{}, time.Time{}
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
	switch {
	case err != nil:
		err = d.explain(line, start, err)
	case name != StepQuit:
		err = endingReply(line, rep)
	}
	if err != nil {
		st.Err = err.Error()
	}
	d.res.Steps = append(d.res.Steps, st)
	return rep, err
}

// arm sets the deadline of the next read and write.
func (d *dialogue) arm() error { return d.conn.SetDeadline(d.deadline) }

// unsolicited describes the bytes buffered before we sent line.
func (d *dialogue) unsolicited(line string) error {
	return &outOfStepError{msg: "unsolicited reply before " + commandLabel(line) + `: "` + firstLineQuote(d.rd.Unread(DefaultMaxLineBytes)) + `"`}
}

// firstLineQuote is the first line of b, escaped and capped for a Detail.
func firstLineQuote(b []byte) string {
	if i := strings.IndexByte(string(b), '\n'); i >= 0 {
		b = b[:i]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return escapeCap(b, quoteCap)
}

// explain turns a failed exchange into a stepError in plain words.
func (d *dialogue) explain(line string, start time.Time, err error) error {
	what := "greeting"
	if line != "" {
		what = "reply to " + commandLabel(line)
	}
	var (
		tooLong *TooLongError
		proto   *ProtocolError
		msg     string
	)
	switch {
	case errors.As(err, &tooLong):
		msg = what + " too long: " + tooLong.Error()
	case errors.As(err, &proto) && proto.NotSMTP && line == "":
		msg = `not an SMTP server: it greets with "` + proto.Line + `"`
	case errors.As(err, &proto) && proto.NotSMTP:
		msg = what + ` is not an SMTP reply: "` + proto.Line + `"`
	case errors.As(err, &proto):
		msg = what + ": " + proto.Error()
	case errors.Is(d.ctx.Err(), context.Canceled):
		msg = "probe cancelled waiting for the " + what
	default:
		msg = plainError(err, what, d.deadline.Sub(start), d.ctx.Err() != nil)
	}
	return &stepError{msg: msg, err: err}
}

// commandLabel names a command line for a Detail: the verb, "MAIL FROM",
// or the whole RCPT line (which recipient matters).
func commandLabel(line string) string {
	switch v := commandVerb(line); v {
	case "MAIL":
		return "MAIL FROM"
	case "RCPT":
		return line
	default:
		return v
	}
}

// commandVerb is the command's first word, upper-cased, without a ":" part.
func commandVerb(line string) string {
	v, _, _ := strings.Cut(strings.ToUpper(line), " ")
	v, _, _ = strings.Cut(v, ":")
	return v
}

// endingReply is the error for a reply that ends the dialogue at whatever
// step it comes: 421 (the server closes the channel) and a protocol
// synchronization error. nil for any other reply.
func endingReply(line string, rep Reply) error {
	switch {
	case rep.Code == 421:
		return &endingReplyError{reason: ReasonServiceClosing, msg: shortReply(rep) + " " + replyAt(line) +
			": the server is closing the channel (too many connections, rate limit or shutdown)"}
	case isSyncError(rep):
		return &endingReplyError{reason: ReasonSyncError, msg: shortReply(rep) + " " + replyAt(line) +
			": the server reports a protocol synchronization error (it saw a command before its turn)"}
	}
	return nil
}

// replyAt says where a reply came: "in the greeting", "at RCPT".
func replyAt(line string) string {
	if line == "" {
		return "in the greeting"
	}
	return "at " + commandVerb(line)
}

// shortReply is a reply quoted short enough that our explanation after it
// fits in a Detail.
func shortReply(r Reply) string {
	s := strconv.Itoa(r.Code)
	if r.Enhanced != "" {
		s += " " + r.Enhanced
	}
	if len(r.Lines) > 0 && r.Lines[0] != "" {
		s += " " + escapeCap([]byte(r.Lines[0]), quoteCap)
	}
	return s
}

// stepError is an exchange that gave no usable reply, in plain words. It
// unwraps to the cause, which decides the Reason.
type stepError struct {
	msg string
	err error
}

func (e *stepError) Error() string { return e.msg }
func (e *stepError) Unwrap() error { return e.err }

// outOfStepError is data from the server that no command of ours asked for.
type outOfStepError struct{ msg string }

func (e *outOfStepError) Error() string { return e.msg }

func isOutOfStep(err error) bool {
	var oos *outOfStepError
	return errors.As(err, &oos)
}

// endingReplyError is a well-formed reply after which the server expects
// nothing more of us (421), or says it cannot follow us (synchronization).
type endingReplyError struct {
	reason Reason
	msg    string
}

func (e *endingReplyError) Error() string { return e.msg }

// markStep notes what went wrong at the last step.
func (d *dialogue) markStep(msg string) {
	if n := len(d.res.Steps); n > 0 && d.res.Steps[n-1].Err == "" {
		d.res.Steps[n-1].Err = msg
	}
}

// sendQuit writes QUIT without waiting for the answer. In a pipelined
// transaction QUIT ends the group: it was sent already, or is never sent
// when the group broke before it (the connection is closed then).
func (d *dialogue) sendQuit() {
	if d.pipe != nil && d.pipe.sent == len(d.pipe.cmds) {
		return
	}
	if d.arm() == nil {
		d.tr.add(Sent, []byte("QUIT"))
		if _, err := d.w.WriteString("QUIT\r\n"); err == nil {
			_ = d.w.Flush()
		}
	}
}

// politeQuit sends QUIT after a failure, with a short deadline of its own
// (never past the probe's), and reads the answer only when wait is set and
// the stream is in step. It changes no Reason, unless the answer shows the
// replies were out of step.
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
	if wait && d.pipe != nil {
		d.drain()
		return
	}
	if wait {
		rep, err := d.exchange(StepQuit, "QUIT")
		d.judgeQuit(rep, err)
		return
	}
	d.sendQuit()
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
	return dnsname.GreetingHostname(r.Lines[0])
}
