package probe

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mx-exporter/mx_exporter/collector/probe/mtasts"
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

// The MTA-STS policy is fetched over HTTPS from addresses DNS gives, as a
// dialogue connects: DialAllowed is asked there too. Against the real test
// servers: nginx serves enforce.sts.test's policy on loopback.
func TestDialAllowedCoversThePolicyFetch(t *testing.T) {
	env := testenv.Require(t)
	s := stsSettings(t, env, mtasts.ModeReport)
	s.DialAllowed = func(a netip.Addr) error { return errors.New(a.String() + " is not for this probe") }
	rep := (&Prober{}).Probe(context.Background(), Target{Domain: "enforce.sts.test"}, s)
	if rep.MTASTS == nil || rep.MTASTS.Policy == nil {
		t.Fatal("no MTA-STS report")
	}
	f := rep.MTASTS.Policy.Fetch
	if f.Err != mtasts.FetchNoAddress || !strings.Contains(f.Detail, "has no address this probe may dial (127.0.4.") || f.Status != 0 {
		t.Fatalf("fetch: err %q status %d detail %q; want no_address, nothing fetched", f.Err, f.Status, f.Detail)
	}

	// Control: without the check the policy is fetched.
	s.DialAllowed = nil
	rep = (&Prober{}).Probe(context.Background(), Target{Domain: "enforce.sts.test"}, s)
	if f := rep.MTASTS.Policy.Fetch; f.Status != 200 {
		t.Fatalf("control: fetch status %d err %q detail %q", f.Status, f.Err, f.Detail)
	}
}
