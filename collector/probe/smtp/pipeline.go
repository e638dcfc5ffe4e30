package smtp

import (
	"errors"
	"slices"
	"strings"
	"time"
)

// A pipelined transaction (RFC 2920, Options.Pipelining).
//
// When the session's last EHLO reply advertises PIPELINING, MAIL, every
// RCPT, the relay-check RCPT, RSET and QUIT go out in one write, and the
// replies are read in order. transaction and quit run unchanged: their
// exchanges take the next reply of the group instead of sending, so every
// reply is judged as in lock-step (the same steps, codes, verdicts and
// reasons). What differs is what an incomplete group means:
//
//   - A missing reply (the connection closed, the deadline passed) or an
//     extra one (QUIT answered with anything but its own reply, or bytes
//     left after the QUIT reply) says the replies may be shifted: the
//     session is out of step, protocol_error, and no verdict stands.
//   - A 421, a synchronization error, a malformed or overlong reply before
//     the verdicts' replies were all read ends the group with its own
//     Reason, and withdraws every verdict too: with replies unread, nothing
//     proves the ones read were the answers to our commands.
//   - After a refused MAIL (mail_rejected, as in lock-step), the replies
//     still due (Postfix answers 503 to each RCPT) are read into their
//     steps, marked as not judged: no Recipient and no Relay come of them.
//     QUIT's is judged as a lock-step goodbye is.
//
// VRFY may only end a group (RFC 2920 3.1): with Options.VRFY the group is
// MAIL … VRFY, and RSET, QUIT follow as a second group, each with its own
// pipeline step.
//
// Pipelining starts only after the greeting and an EHLO that advertised it
// (postscreen and Postfix 3.9+ drop a client that talks before its turn):
// MAIL is the first command that can be grouped.

// pipeline is the state of a pipelined transaction.
type pipeline struct {
	cmds []pipeCmd
	sent int // commands written
	read int // replies read
	// verdictEnd is the index of the last command of the group that holds
	// the RCPTs: until its reply is read, a broken group withdraws them.
	verdictEnd int
	draining   bool // reading the replies still due after a refused MAIL

	step  int       // index in Steps of the current group's pipeline step
	start time.Time // when the current group was written
	last  time.Time // when the last reply was read (start before the first)
}

// pipeCmd is one command of a pipelined transaction.
type pipeCmd struct {
	step, line string
	ends       bool // last of its group
}

// newPipeline returns the pipelined transaction of this session, or nil to
// stay lock-step.
func (d *dialogue) newPipeline() *pipeline {
	if !d.opts.Pipelining {
		return nil
	}
	if !d.pipeOffered {
		d.tr.note("PIPELINING not advertised: one command at a time")
		return nil
	}
	o := d.opts
	cmds := make([]pipeCmd, 0, len(o.Recipients)+5)
	cmds = append(cmds, pipeCmd{step: StepMail, line: "MAIL FROM:<" + o.MailFrom + ">"})
	for _, r := range o.Recipients {
		cmds = append(cmds, pipeCmd{step: StepRcpt, line: "RCPT TO:<" + r + ">"})
	}
	if o.RelayCheck != "" {
		cmds = append(cmds, pipeCmd{step: StepRelay, line: "RCPT TO:<" + o.RelayCheck + ">"})
	}
	if o.VRFY != "" {
		cmds = append(cmds, pipeCmd{step: StepVRFY, line: "VRFY " + o.VRFY, ends: true})
	}
	cmds = append(cmds, pipeCmd{step: StepRSET, line: "RSET"}, pipeCmd{step: StepQuit, line: "QUIT", ends: true})
	p := &pipeline{cmds: cmds}
	// The first group holds every RCPT: it ends at VRFY, or at QUIT.
	p.verdictEnd = slices.IndexFunc(cmds, func(c pipeCmd) bool { return c.ends })
	d.tr.note("PIPELINING advertised: the transaction goes as one group (RFC 2920)")
	return p
}

// pipedExchange is exchange in a pipelined transaction: it writes the next
// group when all replies of the one before were read, then reads the reply
// to line. A step's Duration runs from the previous reply of its group (or
// the group's write, for the first) to its own: the wait it added, so that
// the steps of a group add up to its pipeline step and a slow command is
// still named as the slowest.
func (d *dialogue) pipedExchange(name, line string) (Reply, error) {
	p := d.pipe
	if p.read == len(p.cmds) || p.cmds[p.read].line != line {
		// Our own bug: a command the group does not hold next cannot be
		// matched with a reply.
		return Reply{}, &outOfStepError{msg: "internal error: " + commandLabel(line) + " is not the next command of the pipelined group"}
	}
	if p.read == p.sent {
		if d.rd.Buffered() > 0 {
			return Reply{}, d.unsolicited(line)
		}
		if err := d.sendGroup(); err != nil {
			err = d.explain(line, p.start, err)
			d.res.Steps = append(d.res.Steps, Step{Name: name, Sent: intern(line), Duration: time.Since(p.start), Err: err.Error()})
			return Reply{}, err
		}
	}
	i := p.read
	p.read++
	st := Step{Name: name, Sent: intern(line)}
	since := p.last
	d.firstLine, d.lastLine = time.Time{}, time.Time{}
	err := d.arm()
	var rep Reply
	if err == nil {
		rep, err = d.rd.ReadReply()
	}
	now := time.Now()
	st.Duration, st.Reply, p.last = now.Sub(since), rep, now
	d.res.Steps[p.step].Duration = now.Sub(p.start)
	var (
		tooLong *TooLongError
		proto   *ProtocolError
	)
	switch {
	case err != nil && (errors.As(err, &tooLong) || errors.As(err, &proto)):
		err = d.explain(line, since, err)
	case err != nil:
		err = &outOfStepError{msg: "pipelined group cut short: " + d.explain(line, p.start, err).Error()}
	case name != StepQuit:
		err = endingReply(line, rep)
	}
	if err != nil {
		st.Err = err.Error()
	}
	d.res.Steps = append(d.res.Steps, st)
	if err != nil && !isOutOfStep(err) && !p.draining && i <= p.verdictEnd {
		d.withdraw("the pipelined group ended before all its replies were read: no verdict of this session stands")
	}
	return rep, err
}

// sendGroup writes the commands of the next group in one write and opens
// its pipeline step.
func (d *dialogue) sendGroup() error {
	p := d.pipe
	end := p.sent
	for !p.cmds[end].ends {
		end++
	}
	end++
	verbs := make([]string, 0, end-p.sent)
	for _, c := range p.cmds[p.sent:end] {
		verbs = append(verbs, commandVerb(c.line))
	}
	p.step = len(d.res.Steps)
	d.res.Steps = append(d.res.Steps, Step{Name: StepPipeline, Sent: intern(strings.Join(verbs, " "))})
	p.start = time.Now()
	p.last = p.start
	group := p.cmds[p.sent:end]
	p.sent = end
	if err := d.arm(); err != nil {
		return err
	}
	for _, c := range group {
		d.tr.add(Sent, []byte(c.line))
		if _, err := d.w.WriteString(c.line + "\r\n"); err != nil {
			return err
		}
	}
	return d.w.Flush()
}

// drain reads the replies still due after a refused MAIL, then judges
// QUIT's as politeQuit does (sending it first when a VRFY group kept it
// back). A missing or extra reply is still out of step.
func (d *dialogue) drain() {
	p := d.pipe
	p.draining = true
	for p.read < p.sent {
		c := p.cmds[p.read]
		rep, err := d.exchange(c.step, c.line)
		if c.step == StepQuit {
			d.judgeQuit(rep, err)
			d.checkGroupEnd()
			return
		}
		if err != nil {
			if isOutOfStep(err) {
				d.outOfStep(err.Error())
			} else {
				d.tr.note("after the failure: %s", err.Error())
			}
			return
		}
		d.markStep("not judged: the transaction had already failed")
	}
	d.pipe = nil
	rep, err := d.exchange(StepQuit, "QUIT")
	d.judgeQuit(rep, err)
}

// checkGroupEnd fails a pipelined transaction whose QUIT reply came with
// more behind it: a reply no command asked for, so the ones read may be
// shifted. (Bytes that arrive in a later segment, after the QUIT reply was
// read, are not seen: the same limit as lock-step's check before a send.)
func (d *dialogue) checkGroupEnd() {
	if d.pipe == nil || d.res.Reason == ReasonProtocolError || d.rd.Buffered() == 0 {
		return
	}
	msg := `reply after the QUIT reply that no command of the pipelined group asked for: "` +
		firstLineQuote(d.rd.Unread(DefaultMaxLineBytes)) + `"`
	d.markStep(msg)
	d.outOfStep(msg)
}
