package smtp

import (
	"errors"
	"slices"
	"strings"
	"time"
)

// fail records a failure; the first one is the probe's Reason (outOfStep is
// the one exception).
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

// abort fails on an exchange that left no usable reply, or a reply after
// which nothing more may be asked: out of step, 421, a synchronization
// error, a timeout, a closed connection, a malformed or overlong reply.
// err comes from exchange and is already in plain words.
func (d *dialogue) abort(step string, err error) {
	var (
		oos     *outOfStepError
		ending  *endingReplyError
		tooLong *TooLongError
		proto   *ProtocolError
	)
	switch {
	case errors.As(err, &oos):
		d.markStep(err.Error())
		d.outOfStep(err.Error())
		d.politeQuit(false)
	case errors.As(err, &ending):
		// After a 421 the server only waits to close: a QUIT at most, and
		// whatever fails after it is not the story.
		d.fail(ending.reason, err.Error())
		d.politeQuit(false)
	case errors.As(err, &tooLong):
		d.fail(ReasonReplyTooLong, err.Error())
		// Out of step with the server: say goodbye, expect nothing.
		d.politeQuit(false)
	case errors.As(err, &proto):
		d.fail(ReasonProtocolError, err.Error())
		d.politeQuit(false)
	case d.ctx.Err() != nil || isTimeout(err):
		d.fail(timeoutReason(step), err.Error())
	default:
		d.fail(ReasonConnectionClosed, err.Error())
	}
}

func timeoutReason(step string) Reason {
	if step == StepBanner {
		return ReasonBannerTimeout
	}
	return ReasonTimeout
}

// outOfStep ends a session whose replies no longer match our commands.
// Every reply read so far may have been meant for the command before:
// a "250" read for the relay check may be the real mailbox's. So no verdict
// of the session stands: no recipient is accepted or deferred, the relay
// check is inconclusive, and protocol_error replaces whatever Reason was
// recorded, relay_open included. It is the only place where a later failure
// replaces the first.
func (d *dialogue) outOfStep(detail string) {
	d.withdraw("replies out of step with our commands: no verdict of this session stands")
	d.fail(ReasonProtocolError, detail)
}

// withdraw takes back every verdict of the session and the Reason recorded
// so far, so that the next fail names the failure: out of step, or a
// pipelined group that ended before all its replies were read (any reply
// read so far may belong to another command).
func (d *dialogue) withdraw(why string) {
	for i := range d.res.Recipients {
		d.res.Recipients[i].Accepted, d.res.Recipients[i].Deferred = false, false
	}
	if d.res.Relay != nil {
		d.res.Relay.Verdict = RelayInconclusive
	}
	d.tr.note("%s", why)
	d.res.Reason, d.res.Detail = ReasonNone, ""
}

// findingSet holds findings as bits, by their index in Findings.
type findingSet uint32

// find records f, noting why in the transcript the first time.
func (d *dialogue) find(f Finding, note string) {
	bit := findingSet(1) << slices.Index(Findings, f)
	if d.found&bit == 0 {
		d.tr.note("%s", note)
	}
	d.found |= bit
}

// findings lists what was found, in the order of Findings. Greylisting is
// judged here, from the recipients as they stand at the end, so that an
// out-of-step session (whose deferrals were withdrawn) does not claim it;
// an invalid SIZE too, once it is known which EHLO reply counts.
func (d *dialogue) findings() []Finding {
	for _, r := range d.res.Recipients {
		if r.Deferred && looksGreylisted(r.Reply) {
			d.find(FindingGreylisted, "greylisting: the server defers a configured mailbox, to accept it on a later try")
			break
		}
	}
	if ext := d.res.SizeSource(); ext != nil && ext.SizeInvalid {
		params, _ := ext.Params("SIZE")
		d.find(FindingSizeInvalid, `invalid SIZE value "`+escapeCap([]byte(params), quoteCap)+`": the server declares no usable message size limit`)
	}
	if d.found == 0 {
		return nil
	}
	var out []Finding
	for i, f := range Findings {
		if d.found&(1<<i) != 0 {
			out = append(out, f)
		}
	}
	return out
}

// judgeSlowest finds the step that waited longest for its reply and, when
// it took longer than the threshold, names it (tarpitting, a slow policy
// service, Postfix's in_flow_delay). Steps without a reply are left out (a
// timeout is its own failure), as are connect and the TLS handshake, which
// wait for no reply. The banner counts with the time to its first line: a
// postscreen-style greeting that holds back its final line is a finding of
// its own, not slowness.
func (d *dialogue) judgeSlowest() {
	var (
		name    string
		longest time.Duration
		banners int
		grouped int // command steps of a pipelined group still to skip
	)
	for _, s := range d.res.Steps {
		dur := s.Duration
		switch {
		case grouped > 0:
			grouped--
			continue
		case s.Name == StepConnect, s.Name == StepTLSHandshake:
			continue
		case s.Name == StepBanner:
			dur = d.greetFirst[min(banners, len(d.greetFirst)-1)]
			banners++
		case s.Name == StepPipeline:
			// A server may hold the replies of a group until it has
			// answered all of it (Postfix does): when a reply came does
			// not say which command was slow, so the group is judged
			// whole. Sent lists its commands, whose steps follow.
			grouped = strings.Count(s.Sent, " ") + 1
			if dur > longest {
				name, longest = s.Name, dur
			}
			continue
		}
		if s.Reply.Code != 0 && dur > longest {
			name, longest = s.Name, dur
		}
	}
	if name == "" || longest <= d.opts.SlowStepThreshold {
		return
	}
	d.res.SlowestStep, d.res.SlowestStepDuration = name, longest
	d.find(FindingSlowStep, "slow: the "+name+" step took "+humanDuration(longest)+
		" (more than "+humanDuration(d.opts.SlowStepThreshold)+")")
}

func (s findingSet) has(f Finding) bool { return s&(1<<slices.Index(Findings, f)) != 0 }
