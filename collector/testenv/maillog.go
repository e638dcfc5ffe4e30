package testenv

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"
)

// ClientIP returns a loopback address for a test's client side, picked at random in
// 127.100.0.1-127.199.255.254, where nothing listens. Postfix logs the client address
// of every connection, so a test that dials from its own address can find its own
// connections in the log, even while other tests (or other test processes) talk to
// the same listener.
func ClientIP() netip.Addr {
	return netip.AddrFrom4([4]byte{127, byte(100 + rand.IntN(100)), byte(rand.IntN(256)), byte(1 + rand.IntN(254))})
}

// DialFrom returns a dial function (the signature of smtp.Options.DialContext) whose
// connections come from ip.
func DialFrom(ip netip.Addr) func(ctx context.Context, network, address string) (net.Conn, error) {
	d := &net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, 0))}
	return d.DialContext
}

// Maillog reads what Postfix logged after FollowMaillog was called.
type Maillog struct {
	path  string
	start int64
}

// FollowMaillog marks the current end of the Postfix log: the Maillog's methods see
// only the lines written after it.
func (e *Env) FollowMaillog(t testing.TB) *Maillog {
	t.Helper()
	fi, err := os.Stat(e.MaillogFile)
	if err != nil {
		t.Fatalf("testenv: Postfix log: %v", err)
	}
	return &Maillog{path: e.MaillogFile, start: fi.Size()}
}

// read returns the complete lines written since the start.
func (m *Maillog) read() ([]string, error) {
	f, err := os.Open(m.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	start := m.start
	if fi, err := f.Stat(); err == nil && fi.Size() < start {
		start = 0 // the log was truncated: everything in it is new
	}
	b, err := io.ReadAll(io.NewSectionReader(f, start, 1<<62))
	if err != nil {
		return nil, err
	}
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	} else {
		return nil, nil // no complete line yet
	}
	return strings.Split(string(b), "\n"), nil
}

// Lines returns the lines written since FollowMaillog that contain s.
func (m *Maillog) Lines(t testing.TB, s string) []string {
	t.Helper()
	lines, err := m.read()
	if err != nil {
		t.Fatalf("testenv: reading the Postfix log: %v", err)
	}
	var out []string
	for _, l := range lines {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}

// Await waits until Postfix has logged a line that contains every one of substrs
// (postlogd writes the log a moment after the event) and returns it. It fails the
// test when no such line came within timeout.
func (m *Maillog) Await(t testing.TB, timeout time.Duration, substrs ...string) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		lines, err := m.read()
		if err != nil {
			t.Fatalf("testenv: reading the Postfix log: %v", err)
		}
	next:
		for _, l := range lines {
			for _, s := range substrs {
				if !strings.Contains(l, s) {
					continue next
				}
			}
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("testenv: no line with %q in the Postfix log within %v; lines since the test began:\n%s",
				substrs, timeout, lastLines(lines, 40))
		}
		time.Sleep(20 * time.Millisecond) // polling a file another process writes
	}
}

func lastLines(lines []string, n int) string {
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if len(lines) == 0 {
		return "(none)"
	}
	return strings.Join(lines, "\n")
}

// Pregreet talks out of turn to a postscreen listener, as a spam bot does: it connects
// from ip, reads the first line of the greeting and sends "EHLO pregreet.test" at once,
// before the final line. It returns the first greeting line and the next line the
// server sent ("521 5.5.1 Protocol error" from postscreen_greet_action = drop).
func Pregreet(ctx context.Context, l Listener, from netip.Addr) (first, next string, err error) {
	c, err := DialFrom(from)(ctx, "tcp", l.Addr)
	if err != nil {
		return "", "", err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	r := bufio.NewReader(io.LimitReader(c, 64<<10))
	if first, err = r.ReadString('\n'); err != nil {
		return first, "", fmt.Errorf("greeting: %w", err)
	}
	if _, err = c.Write([]byte("EHLO pregreet.test\r\n")); err != nil {
		return first, "", err
	}
	next, err = r.ReadString('\n')
	return strings.TrimRight(first, "\r\n"), strings.TrimRight(next, "\r\n"), err
}
