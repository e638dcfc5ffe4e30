package testenv

import (
	"bufio"
	"net"
	"strings"
	"testing"
)

// What HostileSMTP sends, as it sends it: ESC sequences that would clear
// the screen, retitle the terminal or colour it, a bell, and bytes that are
// not UTF-8.
const (
	HostileBanner   = "mx.hostile.test ESMTP \x1b[2J\xff"
	HostileGreeting = "mx.hostile.test \x1b]0;pwned\x07greets \xff"
	HostileParams   = "\x1b[31mred\xfe"
	HostileRcpt     = "2.1.5 ok \x1b[5mblink"
)

// HostileSMTP serves, on a loopback port it returns, well-formed SMTP
// dialogues whose text is hostile: the 220 banner HostileBanner, an EHLO
// reply greeting with HostileGreeting and advertising X-HOSTILE
// HostileParams, SIZE sizeParam and PIPELINING, HostileRcpt to every RCPT,
// 250 to anything else and 221 to QUIT. A fake, because no real MTA can be
// made to send such text; it stops with the test.
func HostileSMTP(t testing.TB, sizeParam string) int {
	t.Helper()
	return FakeSMTP(t, func(c net.Conn) { serveHostile(c, sizeParam) })
}

// FakeSMTP serves each connection to a loopback port it returns with
// serve, which need not close it, until the test ends: for servers that
// do what no real MTA can be made to do.
func FakeSMTP(t testing.TB, serve func(net.Conn)) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				serve(c)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func serveHostile(c net.Conn, sizeParam string) {
	defer c.Close()
	send := func(lines ...string) { _, _ = c.Write([]byte(strings.Join(lines, "\r\n") + "\r\n")) }
	send("220 " + HostileBanner)
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		switch strings.ToUpper(strings.Fields(line + " x")[0]) {
		case "EHLO":
			send("250-"+HostileGreeting, "250-X-HOSTILE "+HostileParams, "250-SIZE "+sizeParam, "250 PIPELINING")
		case "RCPT":
			send("250 " + HostileRcpt)
		case "QUIT":
			send("221 2.0.0 bye")
			return
		default:
			send("250 2.0.0 ok")
		}
	}
}
