package smtp

// Tests of issue 9: verdicts that never lie. Servers that answer out of
// step, refuse or break STARTTLS, greylist, tarpit, hide behind a Cisco ASA,
// close with 421, or are no SMTP server at all.
//
// These run against fakes on purpose: a real Postfix cannot be made to send
// a reply nobody asked for, mask its own banner as a middlebox does, answer
// STARTTLS with plaintext or speak SSH on port 25. What Postfix can show
// (postscreen's greeting, a 450 from check_recipient_access, a refused
// STARTTLS) is tested again against the real server by the integration
// tests.

import (
	"context"
	"crypto/tls"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// immediate is how soon a verdict that needs no waiting must come, with a
// 10 s timeout: well under a second.
const immediate = 500 * time.Millisecond

// defaultEHLO is the fake's EHLO reply without TLS, for fakes that add to it.
const defaultEHLO = "250-mx.fake.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n"

// lateReplyFake sends one reply nobody asked for, in its own write after the
// EHLO reply, once the probe has sent MAIL. From then on it answers each
// command only when the next one arrives, as a server whose replies are one
// late: nothing is ever buffered when the probe sends, so only the late
// check (a 250 to QUIT) can tell.
func lateReplyFake(s *fakeSession) {
	s.reply("220 mx.fake.test ESMTP")
	if _, ok := s.read(); !ok { // EHLO
		return
	}
	s.send(defaultEHLO)
	line, ok := s.read() // MAIL: the probe has read the EHLO reply and moved on
	if !ok {
		return
	}
	s.reply("250 2.1.0 late")
	held := fakeAnswer(line)
	for {
		line, ok := s.read()
		if !ok {
			return
		}
		s.send(held)
		held = fakeAnswer(line)
	}
}

// fakeAnswer is the well-behaved reply to line, for fakes that hold replies.
func fakeAnswer(line string) string {
	switch verb(line) {
	case "MAIL":
		return "250 2.1.0 Ok\r\n"
	case "RCPT":
		if strings.Contains(line, relayAddr) {
			return "554 5.7.1 Relay access denied\r\n"
		}
		return "250 2.1.5 Ok\r\n"
	case "RSET":
		return "250 2.0.0 Ok\r\n"
	case "QUIT":
		return "221 2.0.0 Bye\r\n"
	}
	return "502 5.5.2 Error: command not recognized\r\n"
}

// ehloInTLS answers EHLO with STARTTLS before TLS and with tlsReply inside.
func ehloInTLS(tlsReply string) func(*fakeSession) bool {
	return func(s *fakeSession) bool {
		if _, inTLS := s.conn.(*tls.Conn); inTLS {
			s.send(tlsReply)
		} else {
			s.reply("250-mx.fake.test", "250-STARTTLS", "250 8BITMIME")
		}
		return true
	}
}

// slowReply answers after a pause, modelling a tarpit or a slow policy check.
func slowReply(pause time.Duration, reply string) func(*fakeSession) bool {
	return func(s *fakeSession) bool {
		time.Sleep(pause)
		s.send(reply)
		return true
	}
}

// closeAfter sends reply and ends the session, as a server that says 421
// and hangs up does.
func closeAfter(reply string) func(*fakeSession) bool {
	return func(s *fakeSession) bool { s.send(reply); return false }
}

// noCipherInCommon is a server TLS config that can agree on nothing with
// our client: an ECDSA certificate with RSA key-exchange suites only.
func noCipherInCommon() *tls.Config {
	cfg := serverTLS(pki().signed)
	cfg.MaxVersion = tls.VersionTLS12
	cfg.CipherSuites = []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}
	return cfg
}

type verdictCase struct {
	name    string
	fake    fakeSMTP
	handle  func(*fakeSession) // replaces fake when set
	opts    func(*Options)
	timeout time.Duration // default 10 s
	// within bounds the time to verdict: by default timeout + 100 ms with a
	// timeout set, else immediate (no case with the 10 s default waits).
	within   time.Duration
	want     Reason
	detail   string   // exact Detail; "" for a success
	notes    []string // transcript notes that must appear, each as a prefix
	findings []Finding
	// outOfStep: the session went out of step; no accepted recipient and
	// no open relay may come out, whatever the replies said.
	outOfStep bool
	check     func(t *testing.T, r *Result, f *fakeServer)
}

func runVerdictCases(t *testing.T, tests []verdictCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkNoLeak(t)
			handle := tt.handle
			if handle == nil {
				handle = tt.fake.serve
			}
			f := startFake(t, handle)
			opts := baseOptions(f.port())
			opts.RootCAs = pki().roots
			if tt.opts != nil {
				tt.opts(&opts)
			}
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 10 * time.Second
			}
			within := tt.within
			switch {
			case within != 0:
			case tt.timeout != 0:
				within = timeout + 100*time.Millisecond
			default:
				within = immediate
			}
			ctx, cancel := context.WithTimeout(t.Context(), timeout)
			defer cancel()

			began := time.Now()
			r := Probe(ctx, "mx.tls.test", "127.0.0.1", opts)
			took := time.Since(began)

			if r.Reason != tt.want || r.Success != (tt.want == ReasonNone) {
				t.Fatalf("reason %q success %v (detail %q), want %q\ntranscript:\n%s", r.Reason, r.Success, r.Detail, tt.want, formatTranscript(r))
			}
			if (tt.detail != "" || tt.want == ReasonNone) && r.Detail != tt.detail {
				t.Fatalf("detail\n %q\nwant\n %q\ntranscript:\n%s", r.Detail, tt.detail, formatTranscript(r))
			}
			for _, n := range tt.notes {
				if !slices.ContainsFunc(r.Transcript, func(l Line) bool { return l.Dir == Note && strings.HasPrefix(l.Text, n) }) {
					t.Fatalf("transcript lacks the note %q:\n%s", n, formatTranscript(r))
				}
			}
			if !slices.Equal(r.Findings, tt.findings) {
				t.Fatalf("findings %q, want %q\ntranscript:\n%s", r.Findings, tt.findings, formatTranscript(r))
			}
			if took > within {
				t.Fatalf("verdict after %v, want within %v", took, within)
			}
			if tt.outOfStep {
				checkNoFalseVerdict(t, r)
			}
			checkPlainWords(t, r)
			if tt.check != nil {
				tt.check(t, r, f)
			}
		})
	}
}

// checkNoFalseVerdict: an out-of-step session yields no accepted recipient,
// no deferral and no open relay, only a protocol error.
func checkNoFalseVerdict(t *testing.T, r *Result) {
	t.Helper()
	if r.Reason != ReasonProtocolError {
		t.Fatalf("reason %q, want protocol_error for an out-of-step session", r.Reason)
	}
	for _, rc := range r.Recipients {
		if rc.Accepted || rc.Deferred {
			t.Fatalf("recipient %+v judged in an out-of-step session", rc)
		}
	}
	if r.Relay != nil && r.Relay.Verdict != RelayInconclusive {
		t.Fatalf("relay %+v, want inconclusive in an out-of-step session", r.Relay)
	}
}

// checkPlainWords: nothing a person reads carries Go's error texts.
func checkPlainWords(t *testing.T, r *Result) {
	t.Helper()
	checkNoGoText(t, "detail", r.Detail)
	if r.TLSFailure != nil {
		checkNoGoText(t, "TLS failure cause", r.TLSFailure.Cause)
	}
	for _, s := range r.Steps {
		checkNoGoText(t, "step "+s.Name+" error", s.Err)
	}
	for _, l := range r.Transcript {
		if l.Dir == Note && !strings.HasPrefix(l.Text, "connected to ") {
			checkNoGoText(t, "transcript note", l.Text)
		}
	}
}

func TestProbeOutOfStep(t *testing.T) {
	runVerdictCases(t, []verdictCase{
		{
			name:      "extra reply in the same write as the EHLO reply",
			fake:      fakeSMTP{replies: withReplies(map[string]string{"EHLO": defaultEHLO + "250 extra\r\n"})},
			want:      ReasonProtocolError,
			detail:    `unsolicited reply before MAIL FROM: "250 extra"`,
			outOfStep: true,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				f.settled()
				if got := sentVerbs(f); !slices.Equal(got, []string{"EHLO", "QUIT"}) {
					t.Fatalf("server got %q, want EHLO and a QUIT, no MAIL", got)
				}
				if s := r.Step(StepEHLO); s == nil || s.Err != r.Detail {
					t.Fatalf("EHLO step %+v, want the unsolicited reply named in its error", s)
				}
				if r.Step(StepMail) != nil {
					t.Fatalf("steps %q, want no MAIL step: it was never sent", stepNames(r))
				}
			},
		},
		{
			name:      "extra reply with the banner",
			fake:      fakeSMTP{banner: "220 mx.fake.test ESMTP\r\n250 extra\r\n", replies: relayRefused},
			want:      ReasonProtocolError,
			detail:    `unsolicited reply before EHLO: "250 extra"`,
			outOfStep: true,
			check: func(t *testing.T, _ *Result, f *fakeServer) {
				f.settled()
				if got := sentVerbs(f); !slices.Equal(got, []string{"QUIT"}) {
					t.Fatalf("server got %q, want only a QUIT", got)
				}
			},
		},
		{
			name: "reply pushed before MAIL, inside TLS",
			fake: fakeSMTP{tls: serverTLS(pki().signed), replies: relayRefused, on: map[string]func(*fakeSession) bool{
				"EHLO": ehloInTLS("250-mx.fake.test\r\n250 8BITMIME\r\n250 2.0.0 pushed\r\n"),
			}},
			want:      ReasonProtocolError,
			detail:    `unsolicited reply before MAIL FROM: "250 2.0.0 pushed"`,
			outOfStep: true,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if r.TLS == nil || r.ExtensionsTLS == nil {
					t.Fatalf("TLS %+v, extensions in TLS %+v: want the session in TLS", r.TLS, r.ExtensionsTLS)
				}
				f.settled()
				if slices.Contains(sentVerbs(f), "MAIL") {
					t.Fatalf("server got %q, want no MAIL", f.Commands())
				}
			},
		},
		{
			name:      "extra reply after RCPT",
			fake:      fakeSMTP{replies: withReplies(map[string]string{"RCPT TO:<postmaster@fake.test>": "250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"})},
			want:      ReasonProtocolError,
			detail:    `unsolicited reply before RCPT TO:<relay@outside.test>: "250 2.1.5 Ok"`,
			outOfStep: true,
			check: func(t *testing.T, r *Result, _ *fakeServer) {
				if len(r.Recipients) != 1 || r.Recipients[0].Reply.Code != 250 {
					t.Fatalf("recipients %+v, want the one 250 recorded, not accepted", r.Recipients)
				}
				if r.Relay != nil || r.Step(StepRelay) != nil {
					t.Fatalf("relay %+v, want no relay check sent", r.Relay)
				}
			},
		},
		{
			name:      "open relay with an extra reply: relay_open does not stand",
			fake:      fakeSMTP{replies: map[string]string{"RCPT TO:<" + relayAddr + ">": "250 2.1.5 Ok\r\n250 extra\r\n"}},
			want:      ReasonProtocolError,
			detail:    `unsolicited reply before RSET: "250 extra"`,
			outOfStep: true,
			check: func(t *testing.T, r *Result, _ *fakeServer) {
				if r.Relay == nil || r.Relay.Reply.Code != 250 {
					t.Fatalf("relay %+v, want its 250 recorded and judged inconclusive", r.Relay)
				}
				if !hasTranscript(r, Note, "relay_open: ") || !hasTranscript(r, Note, "no verdict of this session stands") {
					t.Fatalf("transcript lacks the withdrawn relay_open:\n%s", formatTranscript(r))
				}
			},
		},
		{
			name:      "late reply in its own write: caught at QUIT",
			handle:    lateReplyFake,
			want:      ReasonProtocolError,
			detail:    "replies out of step: QUIT was answered 250 2.0.0 Ok, a reply meant for an earlier command",
			outOfStep: true,
			check: func(t *testing.T, r *Result, _ *fakeServer) {
				// The shifted replies made the relay check look open, and
				// the mailbox accepted; neither may survive.
				if r.Relay == nil || r.Relay.Reply.Code != 250 || len(r.Recipients) != 1 || r.Recipients[0].Reply.Code != 250 {
					t.Fatalf("relay %+v, recipients %+v: want both answered 250 (shifted)", r.Relay, r.Recipients)
				}
				if q := r.Step(StepQuit); q == nil || q.Reply.Code != 250 || q.Err != r.Detail {
					t.Fatalf("QUIT step %+v, want the 250 and the detail as its error", q)
				}
			},
		},
		{
			name:      "refused MAIL with an extra reply: the polite QUIT finds it",
			fake:      fakeSMTP{replies: map[string]string{"MAIL": "553 5.7.1 sender refused\r\n250 extra\r\n"}},
			want:      ReasonProtocolError,
			detail:    `unsolicited reply before QUIT: "250 extra"`,
			outOfStep: true,
		},
	})
}

// TestProbeOutOfStepAnyTiming: however late the extra reply comes, the
// session ends as a protocol error with no verdict, caught early or late.
func TestProbeOutOfStepAnyTiming(t *testing.T) {
	for _, pause := range []time.Duration{0, time.Millisecond, 5 * time.Millisecond, 20 * time.Millisecond} {
		t.Run(pause.String(), func(t *testing.T) {
			for range 5 {
				runVerdictCases(t, []verdictCase{{
					name: "extra reply after EHLO",
					fake: fakeSMTP{replies: relayRefused, on: map[string]func(*fakeSession) bool{
						"EHLO": func(s *fakeSession) bool {
							s.send(defaultEHLO)
							time.Sleep(pause) // spaces the writes: the extra reply comes late
							s.reply("250 late")
							return true
						},
					}},
					want:      ReasonProtocolError,
					outOfStep: true,
				}})
			}
		})
	}
}

func TestProbeTLSFallback(t *testing.T) {
	starttlsEHLO := "250-mx.fake.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME\r\n"
	retrySteps := []string{StepConnect, StepBanner, StepEHLO, StepMail, StepRcpt, StepRelay, StepRSET, StepQuit}
	// checkRetried checks a plaintext retry after a failed handshake; the
	// bytes-after-220 case never starts one, so has no handshake step.
	checkRetried := func(cause string, handshake bool) func(t *testing.T, r *Result, f *fakeServer) {
		plainSteps := []string{StepConnect, StepBanner, StepEHLO, StepStartTLS}
		if handshake {
			plainSteps = append(plainSteps, StepTLSHandshake)
		}
		plainSteps = append(plainSteps, retrySteps...)
		firstMail := len(plainSteps) - 5
		return func(t *testing.T, r *Result, f *fakeServer) {
			want := &TLSFailure{Stage: TLSHandshake, Reply: r.Step(StepStartTLS).Reply, Cause: cause, Fallback: true}
			if r.TLSFailure == nil || !reflect.DeepEqual(*r.TLSFailure, *want) {
				t.Fatalf("TLS failure %+v, want %+v", r.TLSFailure, want)
			}
			if want.Reply.Code != 220 {
				t.Fatalf("STARTTLS answered %+v, want the 220 kept with the failure", want.Reply)
			}
			if got := stepNames(r); !slices.Equal(got, plainSteps) {
				t.Fatalf("steps %q, want %q", got, plainSteps)
			}
			// Consumers take the first step of each name: the connect of
			// the session where TLS was tried, the MAIL of the retry.
			if r.Step(StepConnect) != &r.Steps[0] || r.Step(StepMail) != &r.Steps[firstMail] {
				t.Fatalf("Step() does not return the first step of each name")
			}
			if hs := r.Step(StepTLSHandshake); handshake && hs.Err != cause {
				t.Fatalf("handshake step error %q, want %q", hs.Err, cause)
			}
			if len(r.Recipients) != 1 || !r.Recipients[0].Accepted || r.Relay == nil || r.Relay.Verdict != RelayRefused {
				t.Fatalf("recipients %+v, relay %+v: want both measured in the plaintext retry", r.Recipients, r.Relay)
			}
			if r.TLS != nil || r.ExtensionsTLS != nil || !r.Extensions.Has("STARTTLS") {
				t.Fatalf("TLS %+v, TLS extensions %+v, extensions %+v: want no TLS, the first EHLO's extensions", r.TLS, r.ExtensionsTLS, r.Extensions)
			}
			if !hasTranscript(r, Note, clearNote) || !hasTranscript(r, Note, "reconnecting without STARTTLS") {
				t.Fatalf("transcript lacks the clear-text or the reconnect note:\n%s", formatTranscript(r))
			}
			f.settled()
			if got := sentVerbs(f); !slices.Equal(got, []string{"EHLO", "STARTTLS", "EHLO", "MAIL", "RCPT", "RCPT", "RSET", "QUIT"}) {
				t.Fatalf("server got %q, want STARTTLS once, then a plaintext dialogue", got)
			}
		}
	}
	garbage := func(s *fakeSession) bool {
		s.reply("220 2.0.0 go ahead")
		// Wait for the ClientHello, so the garbage reaches the handshake.
		if _, err := io.ReadFull(s.r, make([]byte, 5)); err != nil {
			return false
		}
		s.send("this is not TLS at all\r\n")
		_, _ = io.Copy(io.Discard, s.r)
		return false
	}
	runVerdictCases(t, []verdictCase{
		{
			name: "454 to STARTTLS: on in plaintext, same session",
			fake: fakeSMTP{ehlo: starttlsEHLO, replies: withReplies(map[string]string{"STARTTLS": "454 4.7.0 TLS not available due to local problem\r\n"})},
			want: ReasonNone,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				want := TLSFailure{Stage: TLSRefused, Reply: r.Step(StepStartTLS).Reply, Cause: "454 4.7.0 TLS not available due to local problem", Fallback: true}
				if r.TLSFailure == nil || !reflect.DeepEqual(*r.TLSFailure, want) || want.Reply.Code != 454 {
					t.Fatalf("TLS failure %+v, want %+v", r.TLSFailure, want)
				}
				wantSteps := []string{StepConnect, StepBanner, StepEHLO, StepStartTLS, StepMail, StepRcpt, StepRelay, StepRSET, StepQuit}
				if got := stepNames(r); !slices.Equal(got, wantSteps) {
					t.Fatalf("steps %q, want %q", got, wantSteps)
				}
				if !r.Recipients[0].Accepted || r.Relay.Verdict != RelayRefused || !r.Extensions.Has("PIPELINING") {
					t.Fatalf("recipients %+v relay %+v extensions %+v: want the dialogue measured on the first EHLO", r.Recipients, r.Relay, r.Extensions)
				}
				if !hasTranscript(r, Note, clearNote) {
					t.Fatalf("transcript lacks %q:\n%s", clearNote, formatTranscript(r))
				}
				if got := sentVerbs(f); !slices.Equal(got, []string{"EHLO", "STARTTLS", "MAIL", "RCPT", "RCPT", "RSET", "QUIT"}) {
					t.Fatalf("server got %q, want no second EHLO and no reconnect", got)
				}
			},
		},
		{
			name: "502 to STARTTLS: on in plaintext",
			fake: fakeSMTP{ehlo: starttlsEHLO, replies: withReplies(map[string]string{"STARTTLS": "502 5.5.1 not here\r\n"})},
			want: ReasonNone,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if r.TLSFailure == nil || r.TLSFailure.Stage != TLSRefused || r.TLSFailure.Reply.Code != 502 || !r.TLSFailure.Fallback {
					t.Fatalf("TLS failure %+v, want refused with 502 and fallback", r.TLSFailure)
				}
			},
		},
		{
			name:  "garbage instead of a handshake: plaintext retry",
			fake:  fakeSMTP{ehlo: starttlsEHLO, replies: relayRefused, on: map[string]func(*fakeSession) bool{"STARTTLS": garbage}},
			want:  ReasonNone,
			check: checkRetried(`TLS handshake failed: the server did not answer in TLS (it sent "this ")`, true),
		},
		{
			name:  "no cipher suite in common: plaintext retry",
			fake:  fakeSMTP{tls: noCipherInCommon(), ehlo: starttlsEHLO, replies: relayRefused},
			want:  ReasonNone,
			check: checkRetried("TLS handshake failed: the server sent alert 'handshake failure' (usually: no cipher suite or TLS version in common)", true),
		},
		{
			name:  "bytes after the 220 to STARTTLS: plaintext retry",
			fake:  fakeSMTP{ehlo: starttlsEHLO, replies: withReplies(map[string]string{"STARTTLS": "220 go ahead\r\n250 injected\r\n"})},
			want:  ReasonNone,
			check: checkRetried("the server sent 14 bytes after its 220 to STARTTLS, before the TLS handshake (a command-injection risk)", false),
		},
		{
			name:   "no cipher suite in common, required",
			fake:   fakeSMTP{tls: noCipherInCommon(), ehlo: starttlsEHLO, replies: relayRefused},
			opts:   func(o *Options) { o.StartTLS = StartTLSRequired },
			want:   ReasonStartTLSFailed,
			detail: "TLS handshake failed: the server sent alert 'handshake failure' (usually: no cipher suite or TLS version in common)",
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if r.TLSFailure == nil || r.TLSFailure.Fallback || r.TLSFailure.Cause != r.Detail {
					t.Fatalf("TLS failure %+v, want the cause without fallback", r.TLSFailure)
				}
				f.settled()
				if got := sentVerbs(f); !slices.Equal(got, []string{"EHLO", "STARTTLS"}) {
					t.Fatalf("server got %q, want no retry in required mode", got)
				}
			},
		},
		{
			name:   "STARTTLS refused, required",
			fake:   fakeSMTP{ehlo: starttlsEHLO, replies: withReplies(map[string]string{"STARTTLS": "454 4.7.0 TLS not available\r\n"})},
			opts:   func(o *Options) { o.StartTLS = StartTLSRequired },
			want:   ReasonStartTLSFailed,
			detail: "STARTTLS refused: 454 4.7.0 TLS not available",
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if r.TLSFailure == nil || r.TLSFailure.Stage != TLSRefused || r.TLSFailure.Fallback {
					t.Fatalf("TLS failure %+v, want refused without fallback", r.TLSFailure)
				}
			},
		},
		{
			name: "handshake timeout stays a timeout",
			fake: fakeSMTP{ehlo: starttlsEHLO, on: map[string]func(*fakeSession) bool{
				"STARTTLS": func(s *fakeSession) bool { s.reply("220 go ahead"); s.waitClose(); return false },
			}},
			timeout: 300 * time.Millisecond,
			want:    ReasonTimeout,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if !strings.HasPrefix(r.Detail, "TLS handshake not finished within ") || !strings.HasSuffix(r.Detail, " ms") {
					t.Fatalf("detail %q, want the handshake not finished within the budget", r.Detail)
				}
				if r.TLSFailure == nil || r.TLSFailure.Fallback || r.Step(StepMail) != nil {
					t.Fatalf("TLS failure %+v, steps %q: want no retry once the deadline is spent", r.TLSFailure, stepNames(r))
				}
			},
		},
	})
}

func TestProbeNamedVerdicts(t *testing.T) {
	pregreet := new(atomic.Bool)
	postscreen := func(s *fakeSession) {
		s.send("220-mx.fake.test ESMTP greeting follows\r\n")
		// Hold back the final line while listening, as postscreen does:
		// any byte from the probe now is pregreet traffic.
		_ = s.conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if n, _ := s.conn.Read(make([]byte, 1)); n > 0 {
			pregreet.Store(true)
		}
		_ = s.conn.SetReadDeadline(time.Time{})
		fakeSMTP{banner: "220 mx.fake.test ESMTP\r\n", replies: relayRefused}.serve(s)
	}
	masked := "220 " + strings.Repeat("*", 30) + "2***0*0" + strings.Repeat("*", 20) + "\r\n"
	maskedEHLO := "250-mx.fake.test\r\n250-PIPELINING\r\n250-XXXXXXXA\r\n250-XXXA\r\n250 8BITMIME\r\n"
	closing := "421 4.7.0 mx.fake.test Error: too many connections from 127.0.0.1\r\n"
	closingDetail := func(at string) string {
		return "421 4.7.0 mx.fake.test Error: too many connections from 127.0.0.1 " + at +
			": the server is closing the channel (too many connections, rate limit or shutdown)"
	}
	checkSent := func(want ...string) func(t *testing.T, r *Result, f *fakeServer) {
		return func(t *testing.T, _ *Result, f *fakeServer) {
			f.settled()
			if got := sentVerbs(f); !slices.Equal(got, want) {
				t.Fatalf("server got %q, want %q", got, want)
			}
		}
	}
	runVerdictCases(t, []verdictCase{
		{
			name:     "postscreen-style greeting: nothing sent before the final line",
			handle:   postscreen,
			opts:     func(o *Options) { o.SlowStepThreshold = 100 * time.Millisecond },
			want:     ReasonNone,
			notes:    []string{"the greeting's final line came "},
			findings: []Finding{FindingGreetingDelayed},
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if pregreet.Load() {
					t.Fatalf("the probe sent before the final greeting line")
				}
				b := r.Step(StepBanner)
				// The fake's 300 ms start at its accept, a little before
				// the probe's clock does: 250 ms leave that margin.
				if r.GreetingFirstLine <= 0 || r.GreetingFirstLine > 100*time.Millisecond || b.Duration < 250*time.Millisecond {
					t.Fatalf("first line after %v, banner step %v: want the first at once, the final after about 300 ms", r.GreetingFirstLine, b.Duration)
				}
				// The banner is judged by its first line: no slow_step.
				if r.SlowestStep != "" {
					t.Fatalf("slowest step %q (%v), want none", r.SlowestStep, r.SlowestStepDuration)
				}
			},
		},
		{
			name: "multi-line greeting at once: no finding",
			fake: fakeSMTP{banner: "220-mx.fake.test ESMTP\r\n220 mx.fake.test ESMTP\r\n", replies: relayRefused},
			want: ReasonNone,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if r.GreetingFirstLine <= 0 || r.GreetingFirstLine > r.Step(StepBanner).Duration {
					t.Fatalf("first line after %v, banner %v: want 0 < first <= final", r.GreetingFirstLine, r.Step(StepBanner).Duration)
				}
			},
		},
		{
			name:     "greylisting 450 4.2.0",
			fake:     fakeSMTP{replies: withReplies(map[string]string{"RCPT TO:<postmaster@fake.test>": "450 4.2.0 <postmaster@fake.test>: Recipient address rejected: Greylisted\r\n"})},
			want:     ReasonRcptDeferred,
			detail:   "RCPT TO:<postmaster@fake.test> deferred by greylisting (try again later): 450 4.2.0 <postmaster@fake.test>: Recipient address rejected: Greylisted",
			findings: []Finding{FindingGreylisted},
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if rc := r.Recipients[0]; rc.Accepted || !rc.Deferred {
					t.Fatalf("recipient %+v, want deferred", rc)
				}
				if r.Relay == nil || r.Relay.Verdict != RelayRefused {
					t.Fatalf("relay %+v, want still measured", r.Relay)
				}
			},
		},
		{
			name:     "greylisting by its words",
			fake:     fakeSMTP{replies: withReplies(map[string]string{"RCPT TO:<postmaster@fake.test>": "451 Greylisted, please try again later\r\n"})},
			want:     ReasonRcptDeferred,
			detail:   "RCPT TO:<postmaster@fake.test> deferred by greylisting (try again later): 451 Greylisted, please try again later",
			notes:    []string{"greylisting: the server defers a configured mailbox"},
			findings: []Finding{FindingGreylisted},
		},
		{
			name:   "4xx that is no greylisting: deferred, no finding",
			fake:   fakeSMTP{replies: withReplies(map[string]string{"RCPT TO:<postmaster@fake.test>": "452 4.2.2 Mailbox full\r\n"})},
			want:   ReasonRcptDeferred,
			detail: "RCPT TO:<postmaster@fake.test> deferred (try again later): 452 4.2.2 Mailbox full",
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if !r.Recipients[0].Deferred {
					t.Fatalf("recipient %+v, want deferred", r.Recipients[0])
				}
			},
		},
		{
			name: "refused, then greylisted: the refusal is the reason",
			fake: fakeSMTP{replies: withReplies(map[string]string{
				"RCPT TO:<nobody@fake.test>":     "550 5.1.1 unknown\r\n",
				"RCPT TO:<postmaster@fake.test>": "450 4.2.0 greylisted\r\n",
			})},
			opts:     func(o *Options) { o.Recipients = []string{"nobody@fake.test", "postmaster@fake.test"} },
			want:     ReasonRcptRejected,
			detail:   "RCPT TO:<nobody@fake.test> not accepted: 550 5.1.1 unknown",
			findings: []Finding{FindingGreylisted},
		},
		{
			name:     "slow MAIL: named, the dialogue succeeds",
			fake:     fakeSMTP{replies: relayRefused, on: map[string]func(*fakeSession) bool{"MAIL": slowReply(150*time.Millisecond, "250 2.1.0 Ok\r\n")}},
			opts:     func(o *Options) { o.SlowStepThreshold = 100 * time.Millisecond },
			want:     ReasonNone,
			notes:    []string{"slow: the mail step took "},
			findings: []Finding{FindingSlowStep},
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if r.SlowestStep != StepMail || r.SlowestStepDuration < 150*time.Millisecond {
					t.Fatalf("slowest %q %v, want mail at 150 ms or more", r.SlowestStep, r.SlowestStepDuration)
				}
			},
		},
		{
			name: "slow MAIL, then a refused recipient: both named",
			fake: fakeSMTP{replies: withReplies(map[string]string{"RCPT TO:<postmaster@fake.test>": "550 5.1.1 unknown\r\n"}),
				on: map[string]func(*fakeSession) bool{"MAIL": slowReply(150*time.Millisecond, "250 2.1.0 Ok\r\n")}},
			opts:     func(o *Options) { o.SlowStepThreshold = 100 * time.Millisecond },
			want:     ReasonRcptRejected,
			detail:   "RCPT TO:<postmaster@fake.test> not accepted: 550 5.1.1 unknown",
			findings: []Finding{FindingSlowStep},
		},
		{
			name: "no step over the threshold: nothing named",
			fake: fakeSMTP{replies: relayRefused},
			want: ReasonNone,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if r.SlowestStep != "" || r.SlowestStepDuration != 0 {
					t.Fatalf("slowest %q %v, want none", r.SlowestStep, r.SlowestStepDuration)
				}
			},
		},
		{
			name:     "masked greeting (Cisco ASA)",
			fake:     fakeSMTP{banner: masked, replies: relayRefused},
			want:     ReasonNone,
			notes:    []string{"a middlebox rewrites the session: the greeting is masked with asterisks (Cisco ASA/PIX ESMTP inspection)"},
			findings: []Finding{FindingMiddleboxBanner},
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if r.BannerHostname != "" || !hasTranscript(r, Note, "middlebox rewrites the session") {
					t.Fatalf("hostname %q, transcript:\n%s\nwant no hostname and the middlebox named", r.BannerHostname, formatTranscript(r))
				}
			},
		},
		{
			name: "masked EHLO keywords and STARTTLS stripped",
			fake: fakeSMTP{ehlo: maskedEHLO, replies: relayRefused},
			want: ReasonNone,
			notes: []string{
				"a middlebox rewrites the session: EHLO keywords are masked (XXXXXXXA style)",
				"a middlebox rewrites the session: a masked keyword stands where STARTTLS should be",
			},
			findings: []Finding{FindingMiddleboxEHLO, FindingMiddleboxSTARTTLS},
			check: func(t *testing.T, r *Result, f *fakeServer) {
				want := []Keyword{{"PIPELINING", ""}, {"8BITMIME", ""}}
				if !slices.Equal(r.Extensions.Keywords, want) {
					t.Fatalf("keywords %+v, want %+v: masked keywords are no extensions", r.Extensions.Keywords, want)
				}
			},
		},
		{
			name:     "masked STARTTLS, required",
			fake:     fakeSMTP{ehlo: maskedEHLO, replies: relayRefused},
			opts:     func(o *Options) { o.StartTLS = StartTLSRequired },
			want:     ReasonStartTLSMissing,
			detail:   "STARTTLS is required but the server does not advertise it (a middlebox masked it)",
			findings: []Finding{FindingMiddleboxEHLO, FindingMiddleboxSTARTTLS},
		},
		{
			name: "masked AUTH next to STARTTLS: EHLO masked only",
			fake: fakeSMTP{tls: serverTLS(pki().signed), replies: relayRefused,
				ehlo: "250-mx.fake.test\r\n250-XXXA\r\n250-STARTTLS\r\n250 8BITMIME\r\n"},
			want:     ReasonNone,
			findings: []Finding{FindingMiddleboxEHLO},
		},
		{
			name:   "421 greeting",
			fake:   fakeSMTP{banner: closing},
			want:   ReasonServiceClosing,
			detail: closingDetail("in the greeting"),
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if r.Banner.Code != 421 {
					t.Fatalf("banner %+v, want the 421 kept", r.Banner)
				}
				checkSent("QUIT")(t, r, f)
			},
		},
		{
			name:   "421 to MAIL: no RSET",
			fake:   fakeSMTP{replies: map[string]string{"MAIL": closing}},
			want:   ReasonServiceClosing,
			detail: closingDetail("at MAIL"),
			check:  checkSent("EHLO", "MAIL", "QUIT"),
		},
		{
			name:   "421 to RCPT, then hang-up: no RSET, no I/O error as the reason",
			fake:   fakeSMTP{replies: relayRefused, on: map[string]func(*fakeSession) bool{"RCPT": closeAfter(closing)}},
			want:   ReasonServiceClosing,
			detail: closingDetail("at RCPT"),
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if len(r.Recipients) != 1 || r.Recipients[0].Reply.Code != 421 || r.Recipients[0].Accepted || r.Recipients[0].Deferred {
					t.Fatalf("recipients %+v, want the 421 neither accepted nor deferred", r.Recipients)
				}
				if r.Relay != nil {
					t.Fatalf("relay %+v, want no relay check after a 421", r.Relay)
				}
				f.settled()
				if slices.Contains(sentVerbs(f), "RSET") {
					t.Fatalf("server got %q, want no RSET", f.Commands())
				}
			},
		},
		{
			name:   "421 to the relay check",
			fake:   fakeSMTP{replies: map[string]string{"RCPT TO:<" + relayAddr + ">": closing}},
			want:   ReasonServiceClosing,
			detail: closingDetail("at RCPT"),
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if r.Relay == nil || r.Relay.Verdict != RelayInconclusive || !r.Recipients[0].Accepted {
					t.Fatalf("relay %+v, recipients %+v: want the relay inconclusive, the mailbox accepted", r.Relay, r.Recipients)
				}
			},
		},
		{
			name:   "421 to RSET",
			fake:   fakeSMTP{replies: withReplies(map[string]string{"RSET": closing})},
			want:   ReasonServiceClosing,
			detail: closingDetail("at RSET"),
		},
		{
			name:   "421 to STARTTLS",
			fake:   fakeSMTP{ehlo: "250-mx\r\n250 STARTTLS\r\n", replies: map[string]string{"STARTTLS": closing}},
			want:   ReasonServiceClosing,
			detail: closingDetail("at STARTTLS"),
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if r.TLSFailure != nil {
					t.Fatalf("TLS failure %+v, want none: the 421 ends everything", r.TLSFailure)
				}
			},
		},
		{
			name:   "synchronization error at EHLO",
			fake:   fakeSMTP{replies: map[string]string{"EHLO": "554 5.5.0 Error: SMTP protocol synchronization\r\n"}},
			want:   ReasonSyncError,
			detail: "554 5.5.0 Error: SMTP protocol synchronization at EHLO: the server reports a protocol synchronization error (it saw a command before its turn)",
			check:  checkSent("EHLO", "QUIT"),
		},
		{
			name:   "synchronization error at MAIL",
			fake:   fakeSMTP{replies: map[string]string{"MAIL": "554 5.5.0 Error: SMTP protocol synchronization\r\n"}},
			want:   ReasonSyncError,
			detail: "554 5.5.0 Error: SMTP protocol synchronization at MAIL: the server reports a protocol synchronization error (it saw a command before its turn)",
		},
		{
			name:   "SSH on port 25",
			handle: func(s *fakeSession) { s.send("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"); s.waitClose() },
			want:   ReasonProtocolError,
			detail: `not an SMTP server: it greets with "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"`,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				checkSent()(t, r, f)
				if !hasTranscript(r, Received, "SSH-2.0-OpenSSH_9.2p1") {
					t.Fatalf("transcript lacks what the server sent:\n%s", formatTranscript(r))
				}
			},
		},
		{
			name:   "SSH without a line end",
			handle: func(s *fakeSession) { s.send("SSH-2.0-OpenSSH_9.2p1"); s.waitClose() },
			want:   ReasonProtocolError,
			detail: `not an SMTP server: it greets with "SSH-2.0-OpenSSH_9.2p1"`,
		},
		{
			name:   "HTTP on port 25",
			handle: func(s *fakeSession) { s.send("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"); s.waitClose() },
			want:   ReasonProtocolError,
			detail: `not an SMTP server: it greets with "HTTP/1.1 400 Bad Request"`,
		},
		{
			name:   "binary junk",
			handle: func(s *fakeSession) { s.send("\x16\x03\x01\x00\xa5\x01"); s.waitClose() },
			want:   ReasonProtocolError,
			detail: `not an SMTP server: it greets with "\x16\x03\x01\x00\xa5\x01"`,
		},
		{
			name:   "HTTP in reply to EHLO",
			fake:   fakeSMTP{replies: map[string]string{"EHLO": "HTTP/1.1 400 Bad Request\r\n"}},
			want:   ReasonProtocolError,
			detail: `reply to EHLO is not an SMTP reply: "HTTP/1.1 400 Bad Request"`,
		},
	})
}

// TestProbePlainWords: the failures that used to quote Go's errors.
func TestProbePlainWords(t *testing.T) {
	runVerdictCases(t, []verdictCase{
		{
			name:    "no greeting",
			handle:  func(s *fakeSession) { s.waitClose() },
			timeout: 300 * time.Millisecond,
			want:    ReasonBannerTimeout,
			detail:  "no greeting within 300 ms",
		},
		{
			name:    "greeting cut by the deadline",
			handle:  func(s *fakeSession) { s.send("220 mx.fake.test re"); s.waitClose() },
			timeout: 300 * time.Millisecond,
			want:    ReasonBannerTimeout,
			detail:  `no complete greeting within 300 ms (it sent "220 mx.fake.test re" without a line end)`,
		},
		{
			name:    "no reply to EHLO",
			fake:    fakeSMTP{replies: map[string]string{"EHLO": silence}},
			timeout: 300 * time.Millisecond,
			want:    ReasonTimeout,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if !strings.HasPrefix(r.Detail, "no complete reply to EHLO within ") || r.Step(StepEHLO).Err != r.Detail {
					t.Fatalf("detail %q, EHLO step %+v: want no complete reply to EHLO within the budget, in both", r.Detail, r.Step(StepEHLO))
				}
			},
		},
		{
			name:   "closed before the greeting",
			handle: func(_ *fakeSession) {},
			want:   ReasonConnectionClosed,
			detail: "the server closed the connection before the greeting",
		},
		{
			name:   "closed instead of replying to RCPT",
			fake:   fakeSMTP{on: map[string]func(*fakeSession) bool{"RCPT": func(*fakeSession) bool { return false }}},
			want:   ReasonConnectionClosed,
			detail: "the server closed the connection before the reply to RCPT TO:<postmaster@fake.test>",
		},
		{
			name: "reset instead of replying to MAIL",
			fake: fakeSMTP{on: map[string]func(*fakeSession) bool{"MAIL": func(s *fakeSession) bool {
				_ = s.conn.(interface{ SetLinger(int) error }).SetLinger(0) // close with RST
				return false
			}}},
			want:   ReasonConnectionClosed,
			detail: "the server reset the connection before the reply to MAIL FROM",
		},
	})
}
