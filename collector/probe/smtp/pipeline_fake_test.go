package smtp

// PIPELINING against fakes, for what a real Postfix cannot be made to do:
// drop a reply inside a group, add one, answer 421 or hang up in the middle
// of a group, refuse MAIL, advertise PIPELINING before TLS but not inside
// it, or not advertise it at all (every listener of collector/testenv does).
// The same verdicts against the real Postfix: pipeline_integration_test.go.

import (
	"context"
	"crypto/tls"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// groupFake greets, answers EHLO with ehlo (raw), then answers each command
// with edit(n, line, the well-behaved reply), n counting the commands after
// EHLO from 0: edit returns the raw bytes to send ("" sends nothing) and
// whether to go on. It records, for each command, whether more of the
// client's bytes had arrived behind it: a pipelined group, not lock-step.
type groupFake struct {
	ehlo string // default defaultEHLO (PIPELINING advertised)
	edit func(n int, line, reply string) (string, bool)

	mu     sync.Mutex
	behind []bool
}

func (g *groupFake) serve(s *fakeSession) {
	s.reply("220 mx.fake.test ESMTP")
	if _, ok := s.read(); !ok { // EHLO
		return
	}
	ehlo := g.ehlo
	if ehlo == "" {
		ehlo = defaultEHLO
	}
	s.send(ehlo)
	for n := 0; ; n++ {
		line, ok := s.read()
		if !ok {
			return
		}
		g.mu.Lock()
		g.behind = append(g.behind, s.r.Buffered() > 0)
		g.mu.Unlock()
		reply, goOn := fakeAnswer(line), verb(line) != "QUIT"
		if verb(line) == "VRFY" {
			reply = "252 2.0.0 Cannot VRFY\r\n"
		}
		if g.edit != nil {
			reply, goOn = g.edit(n, line, reply)
		}
		if reply != "" {
			s.send(reply)
		}
		if !goOn {
			return
		}
	}
}

// grouped reports, per command after EHLO, whether more came behind it.
func (g *groupFake) grouped() []bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.behind)
}

func TestProbePipeliningFake(t *testing.T) {
	const noPipelining = "250-mx.fake.test\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n"
	tests := []struct {
		name string
		ehlo string                                         // the fake's EHLO reply; "" advertises PIPELINING
		edit func(n int, line, reply string) (string, bool) // see groupFake
		opts func(*Options)
		want Reason
		// outOfStep: no verdict may stand (checkNoFalseVerdict).
		outOfStep bool
		steps     []string // step names, when they matter
		check     func(t *testing.T, r *Result, g *groupFake)
	}{
		{
			name: "one group, every reply in order", want: ReasonNone,
			steps: []string{StepConnect, StepBanner, StepEHLO, StepPipeline, StepMail, StepRcpt, StepRelay, StepRSET, StepQuit},
			check: func(t *testing.T, r *Result, g *groupFake) {
				if b := g.grouped(); len(b) != 5 || !b[0] {
					t.Fatalf("MAIL came alone (%v): not a group", b)
				}
				if r.Relay == nil || r.Relay.Verdict != RelayRefused || len(r.Recipients) != 1 || !r.Recipients[0].Accepted {
					t.Fatalf("recipients %+v, relay %+v", r.Recipients, r.Relay)
				}
				if p := r.Step(StepPipeline); p.Sent != "MAIL RCPT RCPT RSET QUIT" || p.Duration <= 0 {
					t.Fatalf("pipeline step %+v", p)
				}
			},
		},
		{
			name: "PIPELINING not advertised: one command at a time", ehlo: noPipelining, want: ReasonNone,
			steps: []string{StepConnect, StepBanner, StepEHLO, StepMail, StepRcpt, StepRelay, StepRSET, StepQuit},
			check: func(t *testing.T, r *Result, g *groupFake) {
				if b := g.grouped(); slices.Contains(b, true) || len(b) != 5 {
					t.Fatalf("a command came with more behind it (%v): pipelined without PIPELINING", b)
				}
				if !hasTranscript(r, Note, "PIPELINING not advertised") {
					t.Fatalf("no note that PIPELINING was not advertised\n%s", formatTranscript(r))
				}
			},
		},
		{
			name: "EHLO refused, HELO accepted: no keyword, no group", ehlo: "502 5.5.2 Error: command not recognized\r\n", want: ReasonNone,
			edit: func(_ int, line, reply string) (string, bool) {
				if verb(line) == "HELO" {
					return "250 mx.fake.test\r\n", true
				}
				return reply, verb(line) != "QUIT"
			},
			steps: []string{StepConnect, StepBanner, StepEHLO, StepHELO, StepMail, StepRcpt, StepRelay, StepRSET, StepQuit},
			check: func(t *testing.T, _ *Result, g *groupFake) {
				if b := g.grouped(); slices.Contains(b, true) {
					t.Fatalf("a command came with more behind it (%v): pipelined after HELO", b)
				}
			},
		},
		{
			// Shifted, RCPT would read the relay check's 554 and the relay
			// check RSET's 250: an open relay that is not.
			name: "reply to RCPT dropped", want: ReasonProtocolError, outOfStep: true,
			edit: func(n int, _, reply string) (string, bool) {
				if n == 1 {
					return "", true
				}
				return reply, n < 4
			},
		},
		{
			name: "reply to MAIL sent twice", want: ReasonProtocolError, outOfStep: true,
			edit: func(n int, _, reply string) (string, bool) {
				if n == 0 {
					return reply + reply, true
				}
				return reply, n < 4
			},
		},
		{
			name: "a reply after QUIT's", want: ReasonProtocolError, outOfStep: true,
			edit: func(n int, _, reply string) (string, bool) {
				if n == 4 {
					return reply + "250 2.0.0 Ok\r\n", false
				}
				return reply, true
			},
			check: func(t *testing.T, r *Result, _ *groupFake) {
				if !strings.Contains(r.Detail, "after the QUIT reply") {
					t.Fatalf("detail %q", r.Detail)
				}
			},
		},
		{
			name: "421 at the second RCPT: the first one's 250 is withdrawn", want: ReasonServiceClosing,
			opts: func(o *Options) { o.Recipients = append(o.Recipients, "abuse@fake.test") },
			edit: func(n int, _, reply string) (string, bool) {
				if n == 2 {
					return "421 4.7.0 mx.fake.test Error: too many errors\r\n", false
				}
				return reply, true
			},
			check: func(t *testing.T, r *Result, _ *groupFake) {
				for _, rc := range r.Recipients {
					if rc.Accepted || rc.Deferred {
						t.Fatalf("recipient %+v judged in a group cut short", rc)
					}
				}
				if r.Relay != nil {
					t.Fatalf("relay %+v: its RCPT was never answered", r.Relay)
				}
			},
		},
		{
			name: "connection closed after MAIL's reply", want: ReasonProtocolError, outOfStep: true,
			edit: func(_ int, _, reply string) (string, bool) { return reply, false },
		},
		{
			name: "MAIL refused: the 503s that follow are not recipient verdicts", want: ReasonMailRejected,
			edit: func(n int, line, reply string) (string, bool) {
				switch verb(line) {
				case "MAIL":
					return "553 5.7.1 <probe@probe.test>: Sender address rejected\r\n", true
				case "RCPT":
					return "503 5.5.1 Error: need MAIL command\r\n", true
				}
				return reply, n < 4
			},
			steps: []string{StepConnect, StepBanner, StepEHLO, StepPipeline, StepMail, StepRcpt, StepRelay, StepRSET, StepQuit},
			check: func(t *testing.T, r *Result, _ *groupFake) {
				if len(r.Recipients) != 0 || r.Relay != nil {
					t.Fatalf("recipients %+v, relay %+v: nothing may be judged after a refused MAIL", r.Recipients, r.Relay)
				}
				if s := r.Step(StepRcpt); s.Reply.Code != 503 || !strings.Contains(s.Err, "not judged") {
					t.Fatalf("rcpt step %+v", s)
				}
				if q := r.Step(StepQuit); q.Reply.Code != 221 {
					t.Fatalf("quit step %+v", q)
				}
				if !strings.HasPrefix(r.Detail, "MAIL FROM:<probe@probe.test> refused: 553") {
					t.Fatalf("detail %q", r.Detail)
				}
			},
		},
		{
			name: "MAIL refused, then a reply missing", want: ReasonProtocolError, outOfStep: true,
			edit: func(_ int, line, _ string) (string, bool) {
				if verb(line) == "MAIL" {
					return "553 5.7.1 Sender address rejected\r\n", true
				}
				return "503 5.5.1 Error: need MAIL command\r\n", false
			},
		},
		{
			name: "VRFY ends its group: RSET and QUIT are a second", want: ReasonNone,
			opts: func(o *Options) { o.VRFY = "postmaster@fake.test" },
			steps: []string{StepConnect, StepBanner, StepEHLO, StepPipeline, StepMail, StepRcpt, StepRelay, StepVRFY,
				StepPipeline, StepRSET, StepQuit},
			check: func(t *testing.T, r *Result, g *groupFake) {
				if b := g.grouped(); !slices.Equal(b, []bool{true, true, true, false, true, false}) {
					t.Fatalf("commands with more behind them %v: VRFY must end its group", b)
				}
				if r.VRFY == nil || r.VRFY.Code != 252 {
					t.Fatalf("VRFY %+v", r.VRFY)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkNoLeak(t)
			g := &groupFake{ehlo: tt.ehlo, edit: tt.edit}
			f := startFake(t, g.serve)
			opts := baseOptions(f.port())
			opts.Pipelining = true
			if tt.opts != nil {
				tt.opts(&opts)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()

			r := Probe(ctx, "mx.fake.test", "127.0.0.1", opts)

			if r.Reason != tt.want {
				t.Fatalf("reason %q (%s), want %q\n%s", r.Reason, r.Detail, tt.want, formatTranscript(r))
			}
			if r.Duration > immediate {
				t.Fatalf("verdict after %v: a pipelined group must not wait for the deadline\n%s", r.Duration, formatTranscript(r))
			}
			if tt.outOfStep {
				checkNoFalseVerdict(t, r)
			}
			checkPlainWords(t, r)
			if tt.steps != nil && !slices.Equal(stepNames(r), tt.steps) {
				t.Fatalf("steps %q, want %q\n%s", stepNames(r), tt.steps, formatTranscript(r))
			}
			if tt.check != nil {
				tt.check(t, r, g)
			}
		})
	}
}

// TestProbePipeliningLastEHLO: only the EHLO inside TLS counts (RFC 3207
// 4.2: nothing from before the handshake). A real Postfix advertises the
// same keywords on both sides of STARTTLS.
func TestProbePipeliningLastEHLO(t *testing.T) {
	for _, tt := range []struct {
		name           string
		before, inside bool // PIPELINING advertised before TLS, inside it
		wantGroups     int
	}{
		{name: "before TLS only: lock-step", before: true, wantGroups: 0},
		{name: "inside TLS only: pipelined", inside: true, wantGroups: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			checkNoLeak(t)
			ehlo := func(pipelining bool, more ...string) string {
				lines := []string{"250-mx.fake.test"}
				if pipelining {
					lines = append(lines, "250-PIPELINING")
				}
				lines = append(lines, more...)
				lines = append(lines, "250 8BITMIME")
				return strings.Join(lines, "\r\n") + "\r\n"
			}
			fake := fakeSMTP{
				tls:     serverTLS(pki().signed),
				replies: withReplies(nil),
				on:      map[string]func(*fakeSession) bool{"EHLO": ehloBothSides(ehlo(tt.before, "250-STARTTLS"), ehlo(tt.inside))},
			}
			f := startFake(t, fake.serve)
			opts := baseOptions(f.port())
			opts.Pipelining = true
			opts.RootCAs = pki().roots
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()

			r := Probe(ctx, "mx.tls.test", "127.0.0.1", opts)

			if r.Reason != ReasonNone || r.TLS == nil {
				t.Fatalf("reason %q (%s), TLS %+v\n%s", r.Reason, r.Detail, r.TLS, formatTranscript(r))
			}
			if n := countSteps(r, StepPipeline); n != tt.wantGroups {
				t.Fatalf("%d pipeline steps, want %d\n%s", n, tt.wantGroups, formatTranscript(r))
			}
			runs := tt.wantGroups
			if runs == 0 {
				runs = 5 // MAIL, RCPT, relay RCPT, RSET, QUIT one at a time
			}
			checkGrouped(t, r, runs)
		})
	}
}

// ehloBothSides answers EHLO with before (raw) outside TLS, inside in it.
func ehloBothSides(before, inside string) func(*fakeSession) bool {
	return func(s *fakeSession) bool {
		if _, inTLS := s.conn.(*tls.Conn); inTLS {
			s.send(inside)
		} else {
			s.send(before)
		}
		return true
	}
}

// TestProbePipeliningOutOfStep: the out-of-step servers of TestProbeOutOfStep,
// and an extra reply however late it comes, met with a pipelined group:
// protocol_error and no verdict, never a shifted one.
func TestProbePipeliningOutOfStep(t *testing.T) {
	pipelined := func(o *Options) { o.Pipelining = true }
	cases := []verdictCase{
		{name: "extra reply in the same write as the EHLO reply",
			fake: fakeSMTP{replies: withReplies(map[string]string{"EHLO": defaultEHLO + "250 extra\r\n"})}},
		{name: "extra reply after RCPT",
			fake: fakeSMTP{replies: withReplies(map[string]string{"RCPT TO:<postmaster@fake.test>": "250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"})}},
		{name: "open relay with an extra reply",
			fake: fakeSMTP{replies: map[string]string{"RCPT TO:<" + relayAddr + ">": "250 2.1.5 Ok\r\n250 extra\r\n"}}},
		{name: "late reply in its own write", handle: lateReplyFake},
		{name: "refused MAIL with an extra reply",
			fake: fakeSMTP{replies: map[string]string{"MAIL": "553 5.7.1 sender refused\r\n250 extra\r\n"}}},
	}
	for _, pause := range []time.Duration{0, time.Millisecond, 5 * time.Millisecond, 20 * time.Millisecond} {
		cases = append(cases, verdictCase{
			name: "extra reply " + pause.String() + " after the EHLO reply",
			fake: fakeSMTP{replies: relayRefused, on: map[string]func(*fakeSession) bool{
				"EHLO": func(s *fakeSession) bool {
					s.send(defaultEHLO)
					time.Sleep(pause) // before, with or after the group
					s.reply("250 late")
					return true
				},
			}},
		})
	}
	for i := range cases {
		cases[i].opts, cases[i].want, cases[i].outOfStep = pipelined, ReasonProtocolError, true
	}
	runVerdictCases(t, cases)
}
