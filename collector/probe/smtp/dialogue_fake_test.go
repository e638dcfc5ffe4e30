package smtp

// Dialogue tests against the scripted fake of fake_server_test.go. Fakes are
// ONLY for what a real Postfix cannot be made to do; the ordinary paths are
// covered again by the Postfix integration tests.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

const relayAddr = "relay@outside.test"

func baseOptions(port int) Options {
	return Options{
		Port:       port,
		EHLOName:   "probe.test",
		MailFrom:   "probe@probe.test",
		Recipients: []string{"postmaster@fake.test"},
		RelayCheck: relayAddr,
	}
}

// relayRefused is what a sane server answers the relay check.
var relayRefused = map[string]string{"RCPT TO:<" + relayAddr + ">": "554 5.7.1 <" + relayAddr + ">: Relay access denied\r\n"}

func withReplies(extra map[string]string) map[string]string {
	m := map[string]string{}
	for k, v := range relayRefused {
		m[k] = v
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func stepNames(r *Result) []string {
	var names []string
	for _, s := range r.Steps {
		names = append(names, s.Name)
	}
	return names
}

func hasTranscript(r *Result, dir Direction, substr string) bool {
	for _, l := range r.Transcript {
		if l.Dir == dir && strings.Contains(l.Text, substr) {
			return true
		}
	}
	return false
}

func sentVerbs(f *fakeServer) []string {
	var vs []string
	for _, c := range f.Commands() {
		vs = append(vs, verb(c))
	}
	return vs
}

func TestProbeFake(t *testing.T) {
	tests := []struct {
		name    string
		fake    fakeSMTP
		handle  func(*fakeSession) // replaces fake when set
		opts    func(*Options)
		timeout time.Duration // default 5s
		want    Reason
		check   func(t *testing.T, r *Result, f *fakeServer)
	}{
		{
			name: "happy path without TLS",
			fake: fakeSMTP{replies: relayRefused},
			want: ReasonNone,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				want := []string{StepConnect, StepBanner, StepEHLO, StepMail, StepRcpt, StepRelay, StepRSET, StepQuit}
				if got := stepNames(r); !slices.Equal(got, want) {
					t.Fatalf("steps = %q, want %q", got, want)
				}
				if r.BannerHostname != "mx.fake.test" || r.Banner.Code != 220 {
					t.Fatalf("banner %+v hostname %q, want 220 and mx.fake.test", r.Banner, r.BannerHostname)
				}
				if !r.Extensions.Has("PIPELINING") || r.Extensions.Size != 10240000 || r.ExtensionsTLS != nil || r.TLS != nil {
					t.Fatalf("extensions %+v, TLS ext %+v, TLS %+v: want PIPELINING, SIZE 10240000, no TLS", r.Extensions, r.ExtensionsTLS, r.TLS)
				}
				if len(r.Recipients) != 1 || !r.Recipients[0].Accepted || r.Recipients[0].Reply.Enhanced != "2.1.5" {
					t.Fatalf("recipients = %+v, want one accepted with 2.1.5", r.Recipients)
				}
				if r.Relay == nil || r.Relay.Verdict != RelayRefused || r.Relay.Reply.Code != 554 {
					t.Fatalf("relay = %+v, want refused with 554", r.Relay)
				}
				if r.VRFY != nil {
					t.Fatalf("VRFY = %+v without VRFY configured", r.VRFY)
				}
				if !hasTranscript(r, Sent, "EHLO probe.test") || !hasTranscript(r, Received, "221 2.0.0 Bye") || !hasTranscript(r, Note, "connected to 127.0.0.1:") {
					t.Fatalf("transcript lacks EHLO, 221 or the connect note: %+v", r.Transcript)
				}
				for i, s := range r.Steps {
					if s.Err != "" || s.Duration <= 0 {
						t.Fatalf("step %d %+v: want no error and a duration", i, s)
					}
				}
				want = []string{"EHLO probe.test", "MAIL FROM:<probe@probe.test>", "RCPT TO:<postmaster@fake.test>", "RCPT TO:<" + relayAddr + ">", "RSET", "QUIT"}
				if got := f.Commands(); !slices.Equal(got, want) {
					t.Fatalf("server got %q, want %q", got, want)
				}
			},
		},
		{
			name: "multi-line banner",
			fake: fakeSMTP{banner: "220-mx.multiline.test ESMTP\r\n220-wait for it\r\n220 mx.multiline.test ESMTP\r\n", replies: relayRefused},
			want: ReasonNone,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if len(r.Banner.Lines) != 3 || r.BannerHostname != "mx.multiline.test" {
					t.Fatalf("banner %+v hostname %q, want 3 lines and mx.multiline.test", r.Banner, r.BannerHostname)
				}
			},
		},
		{
			name: "banner hostname not a host name",
			fake: fakeSMTP{banner: "220 [127.0.0.1] hi\r\n", replies: relayRefused},
			want: ReasonNone,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if r.BannerHostname != "" {
					t.Fatalf("hostname %q, want none", r.BannerHostname)
				}
			},
		},
		{
			name:    "banner never comes",
			handle:  func(s *fakeSession) { s.waitClose() },
			timeout: 300 * time.Millisecond,
			want:    ReasonBannerTimeout,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if r.Duration > 300*time.Millisecond+time.Second {
					t.Fatalf("probe took %v with a 300ms timeout", r.Duration)
				}
				if len(f.Commands()) != 0 {
					t.Fatalf("server got %q, want nothing (no QUIT after a timeout)", f.Commands())
				}
			},
		},
		{
			name: "endless banner line",
			handle: func(s *fakeSession) {
				chunk := []byte(strings.Repeat("a", 4096))
				s.send("220 ")
				for {
					if _, err := s.conn.Write(chunk); err != nil {
						return
					}
				}
			},
			want: ReasonReplyTooLong,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if !strings.Contains(r.Detail, "2048 bytes") {
					t.Fatalf("detail %q, want the 2048-byte cap named", r.Detail)
				}
			},
		},
		{
			// A greeting of as many lines as a reply may have, then an
			// EHLO reply of more: the transcript outgrows its cap too.
			name: "too many reply lines",
			fake: fakeSMTP{
				banner: strings.Repeat("220-mx.fake.test\r\n", DefaultMaxReplyLines-1) + "220 mx.fake.test ESMTP\r\n",
				ehlo:   "250-mx\r\n" + strings.Repeat("250-X-FILLER\r\n", 150) + "250 DSN\r\n",
			},
			want: ReasonReplyTooLong,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if !strings.Contains(r.Detail, "100 lines") {
					t.Fatalf("detail %q, want the 100-line cap named", r.Detail)
				}
				if !r.TranscriptTruncated || len(r.Transcript) != DefaultMaxTranscriptLines {
					t.Fatalf("transcript of %d lines, truncated %v: want %d, truncated", len(r.Transcript), r.TranscriptTruncated, DefaultMaxTranscriptLines)
				}
				// The end, where the error is, survives the cap.
				if last := r.Transcript[len(r.Transcript)-1]; last.Dir != Sent || last.Text != "QUIT" {
					t.Fatalf("last transcript line %+v, want the QUIT after the error\n%s", last, formatTranscript(r))
				}
				if !hasTranscript(r, Note, "reply_too_long") || !hasTranscript(r, Note, "transcript lines left out") {
					t.Fatalf("transcript lacks the error or the omission note\n%s", formatTranscript(r))
				}
			},
		},
		{
			name:   "banner without CRLF then close",
			handle: func(s *fakeSession) { s.send("220 mx.fake.test ready") },
			want:   ReasonConnectionClosed,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				want := `the server closed the connection in the middle of the greeting (it sent "220 mx.fake.test ready" without a line end)`
				if r.Banner.Code != 0 || r.Detail != want {
					t.Fatalf("banner %+v, detail %q: want no banner and %q", r.Banner, r.Detail, want)
				}
			},
		},
		{
			name: "EHLO reply without CRLF then close",
			fake: fakeSMTP{on: map[string]func(*fakeSession) bool{
				"EHLO": func(s *fakeSession) bool { s.send("250-mx\r\n250 DSN"); return false },
			}},
			want: ReasonConnectionClosed,
		},
		{
			name:   "connection closed after banner",
			handle: func(s *fakeSession) { s.reply("220 mx.fake.test ESMTP") },
			want:   ReasonConnectionClosed,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if !strings.Contains(r.Detail, "EHLO") {
					t.Fatalf("detail %q, want EHLO named", r.Detail)
				}
			},
		},
		{
			name:    "silence after EHLO",
			fake:    fakeSMTP{replies: map[string]string{"EHLO": silence}},
			timeout: 300 * time.Millisecond,
			want:    ReasonTimeout,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if s := r.Step(StepEHLO); s == nil || s.Err == "" || s.Reply.Code != 0 {
					t.Fatalf("EHLO step %+v, want an error and no reply", s)
				}
				if r.Duration > 300*time.Millisecond+time.Second {
					t.Fatalf("probe took %v with a 300ms timeout", r.Duration)
				}
			},
		},
		{
			name: "mixed codes",
			fake: fakeSMTP{replies: map[string]string{"EHLO": "250-mx.fake.test\r\n251 odd\r\n"}},
			want: ReasonProtocolError,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if !hasTranscript(r, Received, "251 odd") {
					t.Fatalf("transcript lacks the offending line: %+v", r.Transcript)
				}
			},
		},
		{
			name: "banner rejected",
			fake: fakeSMTP{banner: "554 5.7.1 mx.fake.test go away\r\n"},
			want: ReasonBannerRejected,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if got := sentVerbs(f); !slices.Equal(got, []string{"QUIT"}) {
					t.Fatalf("server got %q, want only a polite QUIT", got)
				}
				if r.Banner.Code != 554 || r.Banner.Enhanced != "5.7.1" || !strings.Contains(r.Detail, "554 5.7.1") {
					t.Fatalf("banner %+v detail %q, want 554 5.7.1 quoted", r.Banner, r.Detail)
				}
				if q := r.Step(StepQuit); q == nil || q.Reply.Code != 221 {
					t.Fatalf("quit step %+v, want 221", q)
				}
			},
		},
		{
			name: "EHLO refused, HELO accepted",
			fake: fakeSMTP{replies: withReplies(map[string]string{"EHLO": "502 5.5.2 no EHLO here\r\n"})},
			want: ReasonNone,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if !r.UsedHELO || r.Extensions != nil || r.Step(StepHELO) == nil {
					t.Fatalf("UsedHELO %v, extensions %+v, steps %q: want HELO used, no extensions", r.UsedHELO, r.Extensions, stepNames(r))
				}
			},
		},
		{
			name: "EHLO and HELO refused",
			fake: fakeSMTP{replies: map[string]string{"EHLO": "502 no\r\n", "HELO": "550 5.7.1 nope\r\n"}},
			want: ReasonEHLORejected,
			check: func(t *testing.T, _ *Result, f *fakeServer) {
				if got := sentVerbs(f); !slices.Equal(got, []string{"EHLO", "HELO", "QUIT"}) {
					t.Fatalf("server got %q", got)
				}
			},
		},
		{
			// 421 ends the session at any step (issue 9): service_closing,
			// no longer ehlo_rejected.
			name: "421 to EHLO: no HELO",
			fake: fakeSMTP{replies: map[string]string{"EHLO": "421 4.3.2 shutting down\r\n"}},
			want: ReasonServiceClosing,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				f.settled()
				if got := sentVerbs(f); !slices.Equal(got, []string{"EHLO", "QUIT"}) {
					t.Fatalf("server got %q", got)
				}
			},
		},
		{
			name: "STARTTLS required, not advertised",
			fake: fakeSMTP{},
			opts: func(o *Options) { o.StartTLS = StartTLSRequired },
			want: ReasonStartTLSMissing,
		},
		{
			// Opportunistic mode goes on in plaintext after a refusal
			// (issue 9, see TestProbeTLSFallback); required mode fails.
			name: "STARTTLS refused, required",
			fake: fakeSMTP{ehlo: "250-mx\r\n250 STARTTLS\r\n", replies: map[string]string{"STARTTLS": "454 4.7.0 TLS not available\r\n"}},
			opts: func(o *Options) { o.StartTLS = StartTLSRequired },
			want: ReasonStartTLSFailed,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if got := sentVerbs(f); !slices.Equal(got, []string{"EHLO", "STARTTLS", "QUIT"}) {
					t.Fatalf("server got %q", got)
				}
			},
		},
		{
			name: "plaintext in the same packet as the 220 to STARTTLS, required",
			fake: fakeSMTP{ehlo: "250-mx\r\n250 STARTTLS\r\n", replies: map[string]string{"STARTTLS": "220 go ahead\r\n250 injected\r\n"}},
			opts: func(o *Options) { o.StartTLS = StartTLSRequired },
			want: ReasonStartTLSFailed,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if r.TLSFailure == nil || r.TLSFailure.Stage != TLSHandshake || r.TLSFailure.Fallback {
					t.Fatalf("TLS failure %+v, want a handshake failure without fallback", r.TLSFailure)
				}
				if got := sentVerbs(f); !slices.Equal(got, []string{"EHLO", "STARTTLS"}) {
					t.Fatalf("server got %q, want nothing after STARTTLS", got)
				}
			},
		},
		{
			name: "garbage instead of a TLS handshake, required",
			opts: func(o *Options) { o.StartTLS = StartTLSRequired },
			fake: fakeSMTP{ehlo: "250-mx\r\n250 STARTTLS\r\n", on: map[string]func(*fakeSession) bool{
				"STARTTLS": func(s *fakeSession) bool {
					s.reply("220 go ahead")
					// Wait for the ClientHello, so the garbage reaches the handshake.
					if _, err := io.ReadFull(s.r, make([]byte, 5)); err != nil {
						return false
					}
					s.send("this is not TLS at all\r\n")
					_, _ = io.Copy(io.Discard, s.r)
					return false
				},
			}},
			want: ReasonStartTLSFailed,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				want := `TLS handshake failed: the server did not answer in TLS (it sent "this ")`
				if s := r.Step(StepTLSHandshake); s == nil || s.Err != want || r.Detail != want {
					t.Fatalf("handshake step %+v, detail %q: want %q for both", s, r.Detail, want)
				}
				if r.TLSFailure == nil || r.TLSFailure.Cause != want || r.TLSFailure.Fallback {
					t.Fatalf("TLS failure %+v, want %q without fallback", r.TLSFailure, want)
				}
			},
		},
		{
			name: "STARTTLS off: not sent though advertised",
			fake: fakeSMTP{ehlo: "250-mx\r\n250 STARTTLS\r\n", replies: relayRefused},
			opts: func(o *Options) { o.StartTLS = StartTLSOff },
			want: ReasonNone,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if slices.Contains(sentVerbs(f), "STARTTLS") || r.TLS != nil {
					t.Fatalf("server got %q, TLS %+v: want no STARTTLS", f.Commands(), r.TLS)
				}
			},
		},
		{
			name: "MAIL refused",
			fake: fakeSMTP{replies: map[string]string{"MAIL": "553 5.7.1 sender refused\r\n"}},
			want: ReasonMailRejected,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if got := sentVerbs(f); !slices.Equal(got, []string{"EHLO", "MAIL", "QUIT"}) {
					t.Fatalf("server got %q, want no RCPT after a refused MAIL", got)
				}
			},
		},
		{
			name: "null sender",
			fake: fakeSMTP{replies: relayRefused},
			opts: func(o *Options) { o.MailFrom = "" },
			want: ReasonNone,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if !slices.Contains(f.Commands(), "MAIL FROM:<>") {
					t.Fatalf("server got %q, want MAIL FROM:<>", f.Commands())
				}
			},
		},
		{
			name: "second recipient refused: the dialogue goes on",
			fake: fakeSMTP{replies: withReplies(map[string]string{"RCPT TO:<nobody@fake.test>": "550 5.1.1 <nobody@fake.test>: Recipient address rejected\r\n"})},
			opts: func(o *Options) {
				o.Recipients = []string{"postmaster@fake.test", "nobody@fake.test", "abuse@fake.test"}
			},
			want: ReasonRcptRejected,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if len(r.Recipients) != 3 || !r.Recipients[0].Accepted || r.Recipients[1].Accepted || !r.Recipients[2].Accepted {
					t.Fatalf("recipients %+v, want accepted, refused, accepted", r.Recipients)
				}
				if r.Relay == nil || r.Relay.Verdict != RelayRefused {
					t.Fatalf("relay %+v, want checked and refused", r.Relay)
				}
				if !strings.Contains(r.Detail, "nobody@fake.test") || !strings.Contains(r.Detail, "550 5.1.1") {
					t.Fatalf("detail %q, want the refused recipient and its reply", r.Detail)
				}
				if got := sentVerbs(f); !slices.Equal(got, []string{"EHLO", "MAIL", "RCPT", "RCPT", "RCPT", "RCPT", "RSET", "QUIT"}) {
					t.Fatalf("server got %q", got)
				}
			},
		},
		{
			// A 4xx is a deferral now (issue 9), no longer rcpt_rejected;
			// TestProbeNamedVerdicts covers greylisting in detail.
			name: "greylisted recipient",
			fake: fakeSMTP{replies: withReplies(map[string]string{"RCPT TO:<postmaster@fake.test>": "450 4.2.0 greylisted\r\n"})},
			want: ReasonRcptDeferred,
		},
		{
			name: "refused recipient and open relay: the first failure wins",
			fake: fakeSMTP{replies: map[string]string{"RCPT TO:<postmaster@fake.test>": "550 5.1.1 unknown\r\n"}},
			want: ReasonRcptRejected,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if r.Relay == nil || r.Relay.Verdict != RelayOpen {
					t.Fatalf("relay %+v, want open", r.Relay)
				}
			},
		},
		{
			name: "4xx on the relay check: inconclusive",
			fake: fakeSMTP{replies: map[string]string{"RCPT TO:<" + relayAddr + ">": "450 4.7.1 try again later\r\n"}},
			want: ReasonNone,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if r.Relay == nil || r.Relay.Verdict != RelayInconclusive || r.Relay.Reply.Code != 450 {
					t.Fatalf("relay %+v, want inconclusive with 450", r.Relay)
				}
			},
		},
		{
			name: "2xx on the relay check: open relay",
			fake: fakeSMTP{},
			want: ReasonRelayOpen,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if r.Relay == nil || r.Relay.Verdict != RelayOpen {
					t.Fatalf("relay %+v, want open", r.Relay)
				}
				if got := sentVerbs(f); !slices.Equal(got[len(got)-2:], []string{"RSET", "QUIT"}) {
					t.Fatalf("server got %q, want RSET and QUIT at the end", got)
				}
			},
		},
		{
			name: "relay check skipped",
			fake: fakeSMTP{},
			opts: func(o *Options) { o.RelayCheck = "" },
			want: ReasonNone,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if r.Relay != nil || r.Step(StepRelay) != nil {
					t.Fatalf("relay %+v, want none", r.Relay)
				}
			},
		},
		{
			name: "VRFY recorded",
			fake: fakeSMTP{replies: relayRefused},
			opts: func(o *Options) { o.VRFY = "postmaster" },
			want: ReasonNone,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if r.VRFY == nil || r.VRFY.Code != 252 || !slices.Contains(f.Commands(), "VRFY postmaster") {
					t.Fatalf("VRFY %+v, server got %q: want 252 to VRFY postmaster", r.VRFY, f.Commands())
				}
			},
		},
		{
			name: "VRFY refused is no failure",
			fake: fakeSMTP{replies: withReplies(map[string]string{"VRFY": "502 5.5.1 VRFY disabled\r\n"})},
			opts: func(o *Options) { o.VRFY = "postmaster" },
			want: ReasonNone,
		},
		{
			name: "QUIT not answered with 221",
			fake: fakeSMTP{replies: withReplies(map[string]string{"QUIT": "500 what\r\n"})},
			want: ReasonNone,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if q := r.Step(StepQuit); q == nil || q.Err == "" || q.Reply.Code != 500 {
					t.Fatalf("quit step %+v, want the 500 recorded as an error", q)
				}
			},
		},
		{
			name: "connection closed on QUIT",
			fake: fakeSMTP{replies: relayRefused, on: map[string]func(*fakeSession) bool{
				"QUIT": func(*fakeSession) bool { return false },
			}},
			want: ReasonNone,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if q := r.Step(StepQuit); q == nil || q.Err == "" {
					t.Fatalf("quit step %+v, want an error recorded", q)
				}
			},
		},
		{
			name: "control bytes escaped in the transcript",
			fake: fakeSMTP{banner: "220 mx.fake.test \x1b[31mred\x00\xff\r\n", replies: relayRefused},
			want: ReasonNone,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if !hasTranscript(r, Received, `220 mx.fake.test \x1b[31mred\x00\xff`) {
					t.Fatalf("transcript %+v, want the banner escaped", r.Transcript)
				}
			},
		},
		{
			name: "invalid options: nothing is sent",
			fake: fakeSMTP{},
			opts: func(o *Options) { o.Recipients = []string{"a@b>\r\nDATA"} },
			want: ReasonConnectError,
			check: func(t *testing.T, r *Result, f *fakeServer) {
				if len(r.Steps) != 0 || !strings.Contains(r.Detail, "invalid options") {
					t.Fatalf("steps %q detail %q, want no step and the options blamed", stepNames(r), r.Detail)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkNoLeak(t)
			handle := tt.handle
			if handle == nil {
				handle = tt.fake.serve
			}
			f := startFake(t, handle)
			opts := baseOptions(f.port())
			if tt.opts != nil {
				tt.opts(&opts)
			}
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			ctx, cancel := context.WithTimeout(t.Context(), timeout)
			defer cancel()

			r := Probe(ctx, "mx.fake.test", "127.0.0.1", opts)

			if r.Reason != tt.want || r.Success != (tt.want == ReasonNone) {
				t.Fatalf("reason %q success %v (detail %q), want %q\ntranscript:\n%s", r.Reason, r.Success, r.Detail, tt.want, formatTranscript(r))
			}
			if r.Success != (r.Detail == "") {
				t.Fatalf("success %v with detail %q", r.Success, r.Detail)
			}
			checkPlainWords(t, r)
			if tt.check != nil {
				tt.check(t, r, f)
			}
		})
	}
}

func formatTranscript(r *Result) string {
	var b strings.Builder
	for _, l := range r.Transcript {
		fmt.Fprintf(&b, "%8v %c %s\n", l.At.Round(time.Microsecond), l.Dir, l.Text)
	}
	return b.String()
}

func TestProbeSTARTTLS(t *testing.T) {
	p := pki()
	tests := []struct {
		name         string
		selfSigned   bool // serve a self-signed certificate instead of the CA-signed one
		host         string
		opts         func(*Options)
		want         Reason
		wantVerified bool
		wantVerifyIn string // part of VerifyError when not verified
	}{
		{name: "verified with the test CA", host: "mx.tls.test", want: ReasonNone, wantVerified: true},
		{name: "host name with trailing dot and upper case", host: "MX.tls.test.", want: ReasonNone, wantVerified: true},
		{name: "IP address as the name", host: "", want: ReasonNone, wantVerified: true},
		{name: "wrong host name", host: "mx.other.test", want: ReasonNone, wantVerifyIn: "not valid for mx.other.test"},
		{
			name: "TLSServerName overrides the host", host: "mx.other.test", want: ReasonNone, wantVerified: true,
			opts: func(o *Options) { o.TLSServerName = "mx.tls.test" },
		},
		{name: "self-signed: reported, no failure", selfSigned: true, host: "mx.tls.test", want: ReasonNone, wantVerifyIn: "unknown authority"},
		{
			name: "self-signed with RequireVerifiedTLS", selfSigned: true, host: "mx.tls.test", want: ReasonTLSVerifyFailed,
			wantVerifyIn: "unknown authority", opts: func(o *Options) { o.RequireVerifiedTLS = true },
		},
		{
			name: "verified with RequireVerifiedTLS and required STARTTLS", host: "mx.tls.test", want: ReasonNone, wantVerified: true,
			opts: func(o *Options) { o.RequireVerifiedTLS, o.StartTLS = true, StartTLSRequired },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkNoLeak(t)
			cert := p.signed
			if tt.selfSigned {
				cert = p.selfSigned
			}
			f := startFake(t, fakeSMTP{tls: serverTLS(cert), replies: relayRefused}.serve)
			opts := baseOptions(f.port())
			opts.RootCAs = p.roots
			if tt.opts != nil {
				tt.opts(&opts)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()

			r := Probe(ctx, tt.host, "127.0.0.1", opts)

			if r.Reason != tt.want {
				t.Fatalf("reason %q (detail %q), want %q\ntranscript:\n%s", r.Reason, r.Detail, tt.want, formatTranscript(r))
			}
			if r.TLS == nil {
				t.Fatalf("no TLS info\ntranscript:\n%s", formatTranscript(r))
			}
			if r.TLS.Verified != tt.wantVerified || !strings.Contains(r.TLS.VerifyError, tt.wantVerifyIn) {
				t.Fatalf("verified %v (%q), want %v (%q)", r.TLS.Verified, r.TLS.VerifyError, tt.wantVerified, tt.wantVerifyIn)
			}
			if r.TLS.Version != "TLS 1.3" || r.TLS.CipherSuite == "" || r.TLS.LeafSubject != "CN=mx.tls.test" {
				t.Fatalf("TLS info %+v, want TLS 1.3, a cipher and the leaf", r.TLS)
			}
			if hs := r.Step(StepTLSHandshake); hs == nil || hs.Duration <= 0 || hs.Err != "" {
				t.Fatalf("handshake step %+v, want a duration and no error", hs)
			}
			if st := r.Step(StepStartTLS); st == nil || st.Reply.Code != 220 {
				t.Fatalf("STARTTLS step %+v, want 220", st)
			}
			if !hasTranscript(r, Note, "TLS 1.3 ") {
				t.Fatalf("transcript lacks the TLS note:\n%s", formatTranscript(r))
			}
			if tt.want != ReasonNone {
				if got := sentVerbs(f); !slices.Equal(got, []string{"EHLO", "STARTTLS", "QUIT"}) {
					t.Fatalf("server got %q, want a QUIT inside TLS after the failure", got)
				}
				return
			}
			if r.ExtensionsTLS == nil || r.ExtensionsTLS.Has("STARTTLS") || !slices.Equal(r.ExtensionsTLS.Auth, []string{"PLAIN", "LOGIN"}) {
				t.Fatalf("extensions in TLS %+v, want AUTH PLAIN LOGIN and no STARTTLS", r.ExtensionsTLS)
			}
			want := []string{StepConnect, StepBanner, StepEHLO, StepStartTLS, StepTLSHandshake, StepEHLOTLS, StepMail, StepRcpt, StepRelay, StepRSET, StepQuit}
			if got := stepNames(r); !slices.Equal(got, want) {
				t.Fatalf("steps %q, want %q", got, want)
			}
		})
	}
}

func TestProbeConnectRefused(t *testing.T) {
	// A loopback port that was just closed: nothing listens there.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	r := Probe(ctx, "mx.fake.test", "127.0.0.1", baseOptions(port))
	if r.Reason != ReasonConnectRefused || len(r.Steps) != 1 || r.Steps[0].Err == "" {
		t.Fatalf("reason %q steps %+v, want connect_refused with a failed connect step", r.Reason, r.Steps)
	}
}

func TestProbeConnectTimeout(t *testing.T) {
	// No loopback address drops SYNs, so a dialer stands in for one.
	blackhole := func(ctx context.Context, _, _ string) (net.Conn, error) {
		<-ctx.Done()
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: ctx.Err()}
	}
	opts := baseOptions(25)
	opts.DialContext = blackhole
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	r := Probe(ctx, "mx.fake.test", "127.0.0.1", opts)
	if r.Reason != ReasonConnectTimeout {
		t.Fatalf("reason %q (detail %q), want connect_timeout", r.Reason, r.Detail)
	}
}

func TestProbeConnectError(t *testing.T) {
	opts := baseOptions(25)
	opts.DialContext = func(context.Context, string, string) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("network is unreachable")}
	}
	r := Probe(t.Context(), "mx.fake.test", "127.0.0.1", opts)
	if r.Reason != ReasonConnectError || !strings.Contains(r.Detail, "unreachable") {
		t.Fatalf("reason %q (detail %q), want connect_error quoting the error", r.Reason, r.Detail)
	}
}

func TestProbeCancelled(t *testing.T) {
	checkNoLeak(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cancelled := make(chan time.Time, 1)
	f := startFake(t, fakeSMTP{on: map[string]func(*fakeSession) bool{
		// Cancel while the probe waits for the EHLO reply, then stay silent.
		"EHLO": func(s *fakeSession) bool {
			cancelled <- time.Now()
			cancel()
			s.waitClose()
			return false
		},
	}}.serve)

	r := Probe(ctx, "mx.fake.test", "127.0.0.1", baseOptions(f.port()))

	var cancelledAt time.Time
	select {
	case cancelledAt = <-cancelled:
	default:
		t.Fatalf("probe returned (reason %q, detail %q) before the fake got EHLO", r.Reason, r.Detail)
	}
	if took := time.Since(cancelledAt); took > time.Second {
		t.Fatalf("probe returned %v after cancel, want promptly", took)
	}
	if r.Reason != ReasonTimeout || !strings.Contains(r.Detail, "cancelled") {
		t.Fatalf("reason %q (detail %q), want timeout, cancelled", r.Reason, r.Detail)
	}
}

func TestProbeIPv6(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	ln.Close()
	for _, addr := range []string{"::1", "[::1]"} {
		t.Run(addr, func(t *testing.T) {
			f := startFakeOn(t, "[::1]:0", fakeSMTP{replies: relayRefused}.serve)
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			r := Probe(ctx, "mx.fake.test", addr, baseOptions(f.port()))
			if !r.Success || r.Addr != "::1" || !hasTranscript(r, Note, "connected to [::1]:") {
				t.Fatalf("success %v reason %q addr %q, want success at ::1\n%s", r.Success, r.Reason, r.Addr, formatTranscript(r))
			}
		})
	}
}

func TestProbeNoDeadline(t *testing.T) {
	f := startFake(t, fakeSMTP{replies: relayRefused}.serve)
	r := Probe(context.Background(), "mx.fake.test", "127.0.0.1", baseOptions(f.port()))
	if !r.Success {
		t.Fatalf("reason %q (detail %q), want success", r.Reason, r.Detail)
	}
}

func BenchmarkProbe(b *testing.B) {
	p := pki()
	for _, bc := range []struct {
		name string
		fake fakeSMTP
	}{
		{"plain", fakeSMTP{replies: relayRefused}},
		{"starttls", fakeSMTP{tls: serverTLS(p.signed), replies: relayRefused}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := startFake(b, bc.fake.serve)
			opts := baseOptions(f.port())
			opts.RootCAs = p.roots
			b.ReportAllocs()
			for b.Loop() {
				ctx, cancel := context.WithTimeout(b.Context(), 5*time.Second)
				r := Probe(ctx, "mx.tls.test", "127.0.0.1", opts)
				cancel()
				if !r.Success {
					b.Fatalf("reason %q (detail %q)", r.Reason, r.Detail)
				}
			}
		})
	}
}
