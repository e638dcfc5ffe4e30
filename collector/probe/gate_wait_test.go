package probe_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/scheduler"
)

// closedPort is a loopback port where nothing listens: a dialogue that
// started there would end connect_refused at once.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// TestDialogueThatNeverGotItsTurnIsNotStarted: while another probe holds the
// address for longer than the probe's timeout, the dialogue ends
// not_started, not "timeout" (what it was before: the gateway was blamed
// for mx_exporter's own queue), and nothing is dialled.
func TestDialogueThatNeverGotItsTurnIsNotStarted(t *testing.T) {
	gate := scheduler.NewAddressGate()
	release, err := gate.Acquire(context.Background(), "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	defer release()

	p := &probe.Prober{Gate: gate.OnDemand()}
	rep := p.Probe(context.Background(), probe.Target{Host: "127.0.0.1", Port: closedPort(t)},
		probe.Settings{Timeout: 200 * time.Millisecond})
	res := rep.Hosts[0].Results[0]
	if res.Reason != smtp.ReasonNotStarted {
		t.Fatalf("reason %q (%s), want %q", res.Reason, res.Detail, smtp.ReasonNotStarted)
	}
	if !strings.Contains(res.Detail, "deadline passed after it waited") {
		t.Fatalf("detail %q does not say that the deadline passed while it waited", res.Detail)
	}
	if len(res.Transcript) != 0 || len(res.Steps) != 0 {
		t.Fatalf("a dialogue that was not started has steps %v and transcript %v", res.Steps, res.Transcript)
	}
}

// TestDialogueThatWaitedSaysSo: a dialogue that got its turn late and then
// ran out of time says how long it waited before it connected, so that the
// wait is not silently counted as the server's. The server is a loopback
// listener that accepts and never greets (a fake: the test Postfix cannot
// be told to stay silent).
func TestDialogueThatWaitedSaysSo(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()

	gate := scheduler.NewAddressGate()
	release, err := gate.Acquire(context.Background(), "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	const held = 300 * time.Millisecond
	timer := time.AfterFunc(held, release)
	defer timer.Stop()

	p := &probe.Prober{Gate: gate.OnDemand()}
	rep := p.Probe(context.Background(), probe.Target{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port},
		probe.Settings{Timeout: 800 * time.Millisecond, SMTP: smtp.Options{EHLOName: "probe.example.net"}})
	res := rep.Hosts[0].Results[0]
	if res.Reason != smtp.ReasonBannerTimeout {
		t.Fatalf("reason %q (%s), want %q", res.Reason, res.Detail, smtp.ReasonBannerTimeout)
	}
	if !strings.Contains(res.Detail, "for its turn at the address before it connected") {
		t.Fatalf("detail %q does not say that the dialogue waited for the address", res.Detail)
	}
}

// lateGate hands the address over just as the probe's deadline passes: the
// race a gate cannot rule out (a fake, to make the race certain).
type lateGate struct{ released bool }

func (g *lateGate) Acquire(ctx context.Context, _ string) (func(), error) {
	<-ctx.Done()
	return func() { g.released = true }, nil
}

// TestTurnAtTheDeadlineIsNotStarted: a dialogue whose turn comes as the
// deadline passes does not dial (it used to, and ended connect_timeout),
// and gives its turn back.
func TestTurnAtTheDeadlineIsNotStarted(t *testing.T) {
	gate := &lateGate{}
	p := &probe.Prober{Gate: gate}
	rep := p.Probe(context.Background(), probe.Target{Host: "127.0.0.1", Port: closedPort(t)},
		probe.Settings{Timeout: 100 * time.Millisecond, SMTP: smtp.Options{EHLOName: "probe.example.net"}})
	res := rep.Hosts[0].Results[0]
	if res.Reason != smtp.ReasonNotStarted {
		t.Fatalf("reason %q (%s), want %q", res.Reason, res.Detail, smtp.ReasonNotStarted)
	}
	if !gate.released {
		t.Fatal("the turn was not given back")
	}
}
