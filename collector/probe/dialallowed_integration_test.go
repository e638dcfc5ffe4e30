package probe

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// An address Settings.DialAllowed refuses is never connected to: the test
// listens on the address the test zone gives mx1.good.test (a real DNS
// answer from the test resolver), on a port of its own, and counts the
// connections it accepts.
func TestDialAllowedKeepsRefusedAddressesUndialled(t *testing.T) {
	env := testenv.Require(t)
	l, err := net.Listen("tcp", "127.0.1.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var accepted atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	target := Target{Host: "mx1.good.test", Port: port}

	s := testSettings(t, env, "good.test")
	var asked []netip.Addr
	s.DialAllowed = func(a netip.Addr) error {
		asked = append(asked, a)
		return errors.New(a.String() + " is not for this probe")
	}
	rep := (&Prober{}).Probe(context.Background(), target, s)
	res := only(t, rep)
	if res.Reason != smtp.ReasonAddressNotAllowed || res.Detail != "not dialled: 127.0.1.1 is not for this probe" {
		t.Fatalf("result: reason %q detail %q; want address_not_allowed saying why", res.Reason, res.Detail)
	}
	if rep.Success() {
		t.Fatal("a probe whose only address was not dialled succeeded")
	}
	if len(asked) != 1 || asked[0] != netip.MustParseAddr("127.0.1.1") {
		t.Fatalf("DialAllowed asked for %v, want [127.0.1.1]", asked)
	}
	if n := accepted.Load(); n != 0 {
		t.Fatalf("%d connections to the refused address", n)
	}

	// Control: the same probe without the check connects.
	s.DialAllowed = nil
	res = only(t, (&Prober{}).Probe(context.Background(), target, s))
	if n := accepted.Load(); n == 0 || res.Reason == smtp.ReasonAddressNotAllowed {
		t.Fatalf("control: %d connections, reason %q", n, res.Reason)
	}
}
