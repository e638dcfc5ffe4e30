package smtp

// A scripted SMTP server for the dialogue tests.
//
// Fakes are ONLY for what a real Postfix cannot be made to do: stay silent,
// send an endless line, mix reply codes, cut a line, answer STARTTLS with
// plaintext, accept a relay. Everything a real server can show is tested
// against the Postfix of the integration tests.

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/testenv/testcert"
)

// fakeServer accepts on a loopback port and runs handle for each connection.
type fakeServer struct {
	t      testing.TB
	ln     net.Listener
	handle func(*fakeSession)
	wg     sync.WaitGroup
	active sync.WaitGroup // sessions whose handler has not returned

	mu       sync.Mutex
	conns    []net.Conn
	commands []string // every command line received, in order
}

// startFake listens on 127.0.0.1:0 and stops, and checks that no DATA was
// ever received, when the test ends.
func startFake(t testing.TB, handle func(*fakeSession)) *fakeServer {
	return startFakeOn(t, "127.0.0.1:0", handle)
}

func startFakeOn(t testing.TB, address string, handle func(*fakeSession)) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", address)
	if err != nil {
		t.Fatalf("listen on %s: %v", address, err)
	}
	s := &fakeServer{t: t, ln: ln, handle: handle}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.close)
	return s
}

func (s *fakeServer) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, c)
		s.mu.Unlock()
		s.wg.Add(1)
		s.active.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.active.Done()
			defer c.Close()
			s.handle(&fakeSession{srv: s, conn: c, r: bufio.NewReader(c)})
		}()
	}
}

func (s *fakeServer) close() {
	s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	for _, c := range s.Commands() {
		if verb(c) == "DATA" {
			s.t.Errorf("the probe sent DATA; commands: %q", s.Commands())
		}
	}
}

// settled waits until every session so far has ended by itself (the probe
// closed its side), so that Commands includes what was sent without waiting
// for a reply, such as the QUIT after a 421.
func (s *fakeServer) settled() {
	done := make(chan struct{})
	go func() { s.active.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.t.Fatalf("fake sessions still running 5 s after the probe returned; commands: %q", s.Commands())
	}
}

// port is the port the fake listens on.
func (s *fakeServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Commands returns the command lines received so far.
func (s *fakeServer) Commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.commands...)
}

// fakeSession is one connection to the fake.
type fakeSession struct {
	srv  *fakeServer
	conn net.Conn
	r    *bufio.Reader
}

// send writes raw bytes; errors only mean the probe has gone.
func (s *fakeSession) send(raw string) { _, _ = s.conn.Write([]byte(raw)) }

// reply sends each line with CRLF, in one write.
func (s *fakeSession) reply(lines ...string) { s.send(strings.Join(lines, "\r\n") + "\r\n") }

// read returns the next command line, recorded; false when the probe is gone.
func (s *fakeSession) read() (string, bool) {
	line, err := s.r.ReadString('\n')
	if err != nil {
		return "", false
	}
	line = strings.TrimRight(line, "\r\n")
	s.srv.mu.Lock()
	s.srv.commands = append(s.srv.commands, line)
	s.srv.mu.Unlock()
	return line, true
}

// waitClose reads (and records) until the probe closes the connection.
func (s *fakeSession) waitClose() {
	for {
		if _, ok := s.read(); !ok {
			return
		}
	}
}

func verb(line string) string {
	v, _, _ := strings.Cut(strings.ToUpper(line), " ")
	v, _, _ = strings.Cut(v, ":")
	return v
}

// silence is a reply that is never sent: the fake reads on as if it had not
// heard, so the probe waits for its deadline.
const silence = "\x00silence"

// fakeSMTP is a small, well-behaved SMTP server whose replies can be
// replaced: replies maps a whole command line, or else its verb, to the raw
// reply ("" entries are not allowed; use silence); on maps a verb to a
// handler that takes over (return false to end the session).
type fakeSMTP struct {
	banner  string // raw; default a 220
	ehlo    string // raw EHLO reply before TLS; default advertises STARTTLS when tls is set
	tls     *tls.Config
	replies map[string]string
	on      map[string]func(*fakeSession) bool
}

func (f fakeSMTP) serve(s *fakeSession) {
	if f.banner == "" {
		f.banner = "220 mx.fake.test ESMTP fake\r\n"
	}
	s.send(f.banner)
	inTLS := false
	for {
		line, ok := s.read()
		if !ok {
			return
		}
		v := verb(line)
		if h := f.on[v]; h != nil {
			if !h(s) {
				return
			}
			continue
		}
		r, ok := f.replies[line]
		if !ok {
			r, ok = f.replies[v]
		}
		if ok {
			if r != silence {
				s.send(r)
			}
			continue
		}
		switch v {
		case "EHLO":
			switch {
			case inTLS:
				s.reply("250-mx.fake.test", "250-PIPELINING", "250-SIZE 10240000", "250-AUTH PLAIN LOGIN", "250 8BITMIME")
			case f.ehlo != "":
				s.send(f.ehlo)
			case f.tls != nil:
				s.reply("250-mx.fake.test", "250-PIPELINING", "250-SIZE 10240000", "250-STARTTLS", "250 8BITMIME")
			default:
				s.reply("250-mx.fake.test", "250-PIPELINING", "250-SIZE 10240000", "250 8BITMIME")
			}
		case "HELO":
			s.reply("250 mx.fake.test")
		case "STARTTLS":
			if f.tls == nil || inTLS {
				s.reply("502 5.5.1 no")
				continue
			}
			s.reply("220 2.0.0 Ready to start TLS")
			tc := tls.Server(s.conn, f.tls)
			if tc.Handshake() != nil {
				return
			}
			s.conn, s.r, inTLS = tc, bufio.NewReader(tc), true
		case "MAIL":
			s.reply("250 2.1.0 Ok")
		case "RCPT":
			s.reply("250 2.1.5 Ok")
		case "VRFY":
			s.reply("252 2.0.0 Cannot VRFY")
		case "RSET":
			s.reply("250 2.0.0 Ok")
		case "QUIT":
			s.reply("221 2.0.0 Bye")
			return
		default:
			s.reply("502 5.5.2 Error: command not recognized")
		}
	}
}

// testPKI holds certificates made in-process for the STARTTLS tests.
type testPKI struct {
	roots      *x509.CertPool
	signed     tls.Certificate // by the test CA, for mx.tls.test and 127.0.0.1
	selfSigned tls.Certificate // for mx.tls.test
}

var pki = sync.OnceValue(func() *testPKI {
	leaf := testcert.Options{
		CommonName: "mx.tls.test",
		DNSNames:   []string{"mx.tls.test"},
		IPs:        []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	ca := testcert.New(testcert.Options{CommonName: "mx_exporter test CA", CA: true, NotAfter: time.Now().Add(48 * time.Hour)}, nil)
	return &testPKI{
		roots:      ca.Pool(),
		signed:     testcert.New(leaf, ca).TLS(),
		selfSigned: testcert.New(leaf, nil).TLS(),
	}
})

func serverTLS(cert tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
}

// checkNoLeak fails the test if goroutines started during it outlive it.
// Register it before starting the fake: cleanups run last-in first-out, so
// it then runs after the fake has stopped.
func checkNoLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		// Goroutines take a moment to exit after their work is done; poll
		// with a bound rather than sleep a guess.
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<16)
				n := runtime.Stack(buf, true)
				t.Fatalf("goroutines: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:n])
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}
