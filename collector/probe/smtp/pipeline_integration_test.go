package smtp

// PIPELINING (RFC 2920) against the real Postfix of collector/testenv: the
// pipelined dialogue must reach the same verdicts as lock-step. Every
// listener there but mx.nopipe.test advertises PIPELINING (postscreen's
// mx.multiline.test too, once it hands the session to smtpd); mx.nopipe.test
// shows that the option stays lock-step where it is not advertised. Servers
// that misbehave with a pipelined group are fakes (pipeline_fake_test.go).

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

func TestProbePipeliningPostfix(t *testing.T) {
	env := testenv.Require(t)
	env.LogOnFailure(t)

	tests := []struct {
		name   string
		host   string
		opts   func(o *Options, l testenv.Listener)
		want   Reason
		groups int // pipeline steps
	}{
		{name: "STARTTLS, a mailbox, an unknown one and the relay check", host: "mx1.good.test", want: ReasonRcptRejected, groups: 1,
			opts: func(o *Options, _ testenv.Listener) {
				o.Recipients = append(o.Recipients, testenv.MailboxUnknown)
			}},
		{name: "STARTTLS required, all accepted", host: "mx.tls.test", want: ReasonNone, groups: 1,
			opts: func(o *Options, _ testenv.Listener) { o.StartTLS = StartTLSRequired; o.RequireVerifiedTLS = true }},
		{name: "plaintext", host: "mx2.good.test", want: ReasonNone, groups: 1},
		{name: "STARTTLS off", host: "mx1.good.test", want: ReasonNone, groups: 1,
			opts: func(o *Options, _ testenv.Listener) { o.StartTLS = StartTLSOff }},
		{name: "open relay", host: "mx.relay.test", want: ReasonRelayOpen, groups: 1},
		{name: "greylisting", host: "mx.greylist.test", want: ReasonRcptDeferred, groups: 1},
		{name: "postscreen greeting, nothing sent before its final line", host: "mx.multiline.test", want: ReasonNone, groups: 1},
		{name: "STARTTLS refused, plaintext", host: "mx.notls.test", want: ReasonNone, groups: 1},
		{name: "VRFY ends the first group", host: "mx1.good.test", want: ReasonNone, groups: 2,
			opts: func(o *Options, l testenv.Listener) { o.VRFY = "postmaster@" + l.Domain }},
		{name: "slow RCPT: the group is the slowest step", host: "mx.slow.test", want: ReasonNone, groups: 1},
		{name: "PIPELINING not advertised: lock-step", host: "mx.nopipe.test", want: ReasonNone, groups: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := env.Listener(tt.host)
			opts := Options{
				EHLOName:   "probe.mx-exporter.test",
				Recipients: []string{"postmaster@" + l.Domain},
				RelayCheck: testenv.RelayAddress,
				RootCAs:    env.CAPool,
			}
			if tt.opts != nil {
				tt.opts(&opts, l)
			}
			probe := func(pipelining bool) *Result {
				o := opts
				o.Pipelining = pipelining
				ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
				defer cancel()
				return Probe(ctx, tt.host, l.IP, o)
			}
			lock, piped := probe(false), probe(true)

			if piped.Reason != tt.want || lock.Reason != tt.want {
				t.Fatalf("reason pipelined %q (%s), lock-step %q (%s), want %q\n%s", piped.Reason, piped.Detail, lock.Reason, lock.Detail, tt.want, formatTranscript(piped))
			}
			samePipelinedVerdicts(t, lock, piped)
			if n := countSteps(piped, StepPipeline); n != tt.groups {
				t.Fatalf("%d pipeline steps, want %d\n%s", n, tt.groups, formatTranscript(piped))
			}
			if countSteps(lock, StepPipeline) != 0 {
				t.Fatalf("lock-step dialogue has a pipeline step: %q", stepNames(lock))
			}
			if tt.groups == 0 {
				// one command at a time: as many runs as the lock-step dialogue
				checkGrouped(t, piped, commandRuns(lock))
			} else {
				checkGrouped(t, piped, tt.groups)
			}
			// Postfix holds the replies of a group until its last: the
			// 2 s of the slow RCPT come with MAIL's reply, so the group,
			// not a command of it, is named.
			if tt.host == "mx.slow.test" && (piped.SlowestStep != StepPipeline || lock.SlowestStep != StepRcpt) {
				t.Fatalf("slowest step pipelined %q, lock-step %q, want pipeline and rcpt", piped.SlowestStep, lock.SlowestStep)
			}
		})
	}
}

// samePipelinedVerdicts checks that a pipelined dialogue established what
// the lock-step one did: the same steps (the pipeline steps aside) with the
// same reply codes, recipients, relay verdict and findings.
func samePipelinedVerdicts(t *testing.T, lock, piped *Result) {
	t.Helper()
	type stepCode struct {
		name string
		code int
	}
	codes := func(r *Result) []stepCode {
		var out []stepCode
		for _, s := range r.Steps {
			if s.Name != StepPipeline {
				out = append(out, stepCode{s.Name, s.Reply.Code})
			}
		}
		return out
	}
	if a, b := codes(lock), codes(piped); !slices.Equal(a, b) {
		t.Fatalf("steps lock-step %v, pipelined %v\n%s", a, b, formatTranscript(piped))
	}
	type verdict struct {
		addr               string
		code               int
		accepted, deferred bool
	}
	recipients := func(r *Result) []verdict {
		var out []verdict
		for _, rc := range r.Recipients {
			out = append(out, verdict{rc.Address, rc.Reply.Code, rc.Accepted, rc.Deferred})
		}
		return out
	}
	if a, b := recipients(lock), recipients(piped); !slices.Equal(a, b) {
		t.Fatalf("recipients lock-step %v, pipelined %v", a, b)
	}
	if (lock.Relay == nil) != (piped.Relay == nil) || lock.Relay != nil && (lock.Relay.Verdict != piped.Relay.Verdict || lock.Relay.Reply.Code != piped.Relay.Reply.Code) {
		t.Fatalf("relay lock-step %+v, pipelined %+v", lock.Relay, piped.Relay)
	}
	// postscreen delays the greeting of a client it has not seen lately
	// only: whether it does comes before anything is pipelined.
	withoutGreeting := func(fs []Finding) []Finding {
		return slices.DeleteFunc(slices.Clone(fs), func(f Finding) bool { return f == FindingGreetingDelayed })
	}
	if !slices.Equal(withoutGreeting(lock.Findings), withoutGreeting(piped.Findings)) {
		t.Fatalf("findings lock-step %q, pipelined %q", lock.Findings, piped.Findings)
	}
	if lock.Detail != piped.Detail {
		t.Fatalf("detail lock-step %q, pipelined %q", lock.Detail, piped.Detail)
	}
}

func countSteps(r *Result, name string) int {
	n := 0
	for _, s := range r.Steps {
		if s.Name == name {
			n++
		}
	}
	return n
}

// checkGrouped checks in the transcript that, from MAIL on, the commands
// went out in groups: groups runs of sent lines with no reply between the
// commands of one run.
func checkGrouped(t *testing.T, r *Result, groups int) {
	t.Helper()
	if runs := commandRuns(r); runs != groups {
		t.Fatalf("%d runs of commands from MAIL on, want %d\n%s", runs, groups, formatTranscript(r))
	}
}

// commandRuns counts the runs of commands sent, from MAIL on, without a
// reply read in between.
func commandRuns(r *Result) int {
	runs, inRun, started := 0, false, false
	for _, l := range r.Transcript {
		switch l.Dir {
		case Sent:
			started = started || verb(l.Text) == "MAIL"
			if started && !inRun {
				runs++
				inRun = true
			}
		case Received:
			inRun = false
		}
	}
	return runs
}
