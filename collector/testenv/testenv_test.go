package testenv

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRequire(t *testing.T) {
	env := Require(t)
	if env.Resolver != "127.0.53.1:53" || env.CAPool == nil || env.Dir == "" {
		t.Fatalf("Require() = %+v, want resolver 127.0.53.1:53, a CA pool and a dir", env)
	}
	if again := Require(t); again != env {
		t.Fatalf("second Require() = %p, want the same *Env %p", again, env)
	}
	if got := env.Listener("mx2.good.test").SizeLimit; got != SizeLimit {
		t.Fatalf("mx2.good.test SizeLimit = %d, want %d", got, SizeLimit)
	}
}

// session is a minimal SMTP client for checking the servers themselves.
type session struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dial(t *testing.T, addr string) *session {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(15 * time.Second))
	return &session{t: t, conn: c, r: bufio.NewReader(c)}
}

func (s *session) reply() (string, []string) {
	s.t.Helper()
	code, lines, err := ReadReply(s.r)
	if err != nil {
		s.t.Fatalf("reading reply: %v (lines %q)", err, lines)
	}
	return code, lines
}

// cmd sends line and checks that the reply starts with want (code and, if given,
// enhanced status code), e.g. "550 5.1.1".
func (s *session) cmd(line, want string) []string {
	s.t.Helper()
	if _, err := fmt.Fprintf(s.conn, "%s\r\n", line); err != nil {
		s.t.Fatalf("send %q: %v", line, err)
	}
	_, lines := s.reply()
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, want) {
		s.t.Fatalf("%s: got %q, want %q", line, lines, want)
	}
	return lines
}

func extensions(ehlo []string) map[string]string {
	ext := map[string]string{}
	for _, l := range ehlo[1:] {
		kw, param, _ := strings.Cut(l[4:], " ")
		ext[kw] = param
	}
	return ext
}

func TestListeners(t *testing.T) {
	env := Require(t)
	env.LogOnFailure(t)
	for _, l := range env.Listeners {
		t.Run(l.Host, func(t *testing.T) {
			t.Parallel()
			s := dial(t, l.Addr)
			code, greeting := s.reply()
			if code != fmt.Sprint(l.Greeting) {
				t.Fatalf("greeting %q, want code %d", greeting, l.Greeting)
			}
			if got := len(greeting) > 1; got != l.Multiline {
				t.Fatalf("greeting %q: multi-line %v, want %v", greeting, got, l.Multiline)
			}
			if l.Greeting != 220 {
				s.cmd("EHLO probe.test", "503 5.7.0")
				s.cmd("MAIL FROM:<>", "503 5.7.0")
				s.cmd("QUIT", "221 2.0.0")
				return
			}
			for _, g := range greeting {
				if host, _, _ := strings.Cut(g[4:], " "); host != l.Host {
					t.Fatalf("greeting line %q: hostname %q, want %q", g, host, l.Host)
				}
			}
			ehlo := s.cmd("EHLO probe.test", "250 ")
			if ehlo[0] != "250-"+l.Host {
				t.Fatalf("EHLO first line %q, want %q", ehlo[0], "250-"+l.Host)
			}
			ext := extensions(ehlo)
			if got, want := ext["SIZE"], fmt.Sprint(l.SizeLimit); got != want {
				t.Fatalf("SIZE %q, want %q (EHLO %q)", got, want, ehlo)
			}
			if _, got := ext["STARTTLS"]; got != l.STARTTLS {
				t.Fatalf("STARTTLS offered %v, want %v (EHLO %q)", got, l.STARTTLS, ehlo)
			}
			if _, ok := ext["ENHANCEDSTATUSCODES"]; !ok {
				t.Fatalf("no ENHANCEDSTATUSCODES in %q", ehlo)
			}
			if _, got := ext["PIPELINING"]; got == l.NoPipelining {
				t.Fatalf("PIPELINING offered %v, want %v (EHLO %q)", got, !l.NoPipelining, ehlo)
			}
			s.cmd("MAIL FROM:<>", "250 2.1.0")
			start := time.Now()
			switch {
			case l.Greylisted:
				s.cmd("RCPT TO:<postmaster@"+l.Domain+">", "450 4.2.0 <postmaster@"+l.Domain+">: Recipient address rejected: Greylisted")
			default:
				s.cmd("RCPT TO:<postmaster@"+l.Domain+">", "250 2.1.5")
			}
			if took := time.Since(start); took < l.RcptDelay || (l.RcptDelay == 0 && took > 500*time.Millisecond) {
				t.Fatalf("RCPT took %v, want %v (+ less than 500ms)", took, l.RcptDelay)
			}
			if l.RcptDelay == 0 { // spare the slow listener's 2 s
				s.cmd("RCPT TO:<nobody@"+l.Domain+">", "550 5.1.1")
			}
			if l.Refuses != "" {
				s.cmd("RCPT TO:<"+l.Refuses+">", "550 5.7.1 <"+l.Refuses+">: Recipient address rejected:")
			}
			start = time.Now()
			if l.OpenRelay {
				s.cmd("RCPT TO:<"+env.RelayAddress+">", "250 2.1.5")
			} else {
				s.cmd("RCPT TO:<"+env.RelayAddress+">", "554 5.7.1")
			}
			if took := time.Since(start); took > 500*time.Millisecond {
				t.Fatalf("relay-check RCPT took %v, want at once", took)
			}
			s.cmd("RSET", "250 2.0.0")
			s.cmd("QUIT", "221 2.0.0")
		})
	}
}

func TestSTARTTLS(t *testing.T) {
	env := Require(t)
	env.LogOnFailure(t)
	for _, l := range env.Listeners {
		if !l.STARTTLS {
			continue
		}
		t.Run(l.Host, func(t *testing.T) {
			t.Parallel()
			s := dial(t, l.Addr)
			s.reply()
			s.cmd("EHLO probe.test", "250 ")
			if l.STARTTLSRefused {
				s.cmd("STARTTLS", "454 4.7.0 TLS not available due to local problem")
				s.cmd("MAIL FROM:<>", "250 2.1.0") // the session goes on in clear
				s.cmd("RCPT TO:<postmaster@"+l.Domain+">", "250 2.1.5")
				s.cmd("QUIT", "221 2.0.0")
				return
			}
			s.cmd("STARTTLS", "220 2.0.0")
			conf := &tls.Config{ServerName: l.Host, RootCAs: env.CAPool}
			if l.CertExpired { // verified below, at a time it was valid
				conf.InsecureSkipVerify = true
			}
			tc := tls.Client(s.conn, conf)
			if err := tc.Handshake(); err != nil {
				t.Fatalf("TLS handshake with %s as %s: %v", l.Addr, l.Host, err)
			}
			certs := tc.ConnectionState().PeerCertificates
			if want := map[bool]int{false: 1, true: 2}[l.FullChain]; len(certs) != want {
				t.Fatalf("%d certificates sent, want %d", len(certs), want)
			}
			if l.FullChain && !env.CAPool.Equal(poolOf(certs[1])) {
				t.Fatalf("second certificate %q is not the test CA", certs[1].Subject)
			}
			if l.CertExpired {
				leaf := certs[0]
				if !leaf.NotAfter.Before(time.Now()) {
					t.Fatalf("certificate valid until %v, want expired", leaf.NotAfter)
				}
				if _, err := leaf.Verify(x509.VerifyOptions{Roots: env.CAPool, DNSName: l.Host}); err == nil {
					t.Fatal("expired certificate verified")
				}
				// Its validity ended before the test CA's began (a fresh CA): check
				// the signature and the name rather than a chain at an earlier time.
				if err := leaf.CheckSignatureFrom(testCA(t, env)); err != nil {
					t.Fatalf("certificate not signed by the test CA: %v", err)
				}
				if err := leaf.VerifyHostname(l.Host); err != nil {
					t.Fatal(err)
				}
			}
			s.conn, s.r = tc, bufio.NewReader(tc)
			ehlo := s.cmd("EHLO probe.test", "250 ")
			if _, ok := extensions(ehlo)["STARTTLS"]; ok {
				t.Fatalf("STARTTLS still offered after STARTTLS: %q", ehlo)
			}
			s.cmd("MAIL FROM:<>", "250 2.1.0")
			s.cmd("RCPT TO:<postmaster@"+l.Domain+">", "250 2.1.5")
			s.cmd("QUIT", "221 2.0.0")
		})
	}
}

func testCA(t *testing.T, env *Env) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(env.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := pem.Decode(b)
	if p == nil {
		t.Fatalf("no PEM in %s", env.CAFile)
	}
	ca, err := x509.ParseCertificate(p.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func poolOf(c *x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c)
	return p
}

func TestDeadIP(t *testing.T) {
	env := Require(t)
	_, err := net.DialTimeout("tcp", net.JoinHostPort(env.DeadIP, "25"), 5*time.Second)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial %s:25: err = %v, want connection refused", env.DeadIP, err)
	}
}

func TestResolver(t *testing.T) {
	env := Require(t)
	r := env.DNSResolver()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	mxs := func(domain string) string {
		t.Helper()
		recs, err := r.LookupMX(ctx, domain+".") // fully qualified: no search list
		if err != nil {
			t.Fatalf("LookupMX(%s): %v", domain, err)
		}
		var out []string
		for _, mx := range recs {
			out = append(out, fmt.Sprintf("%d %s", mx.Pref, mx.Host))
		}
		slices.Sort(out)
		return strings.Join(out, ", ")
	}
	for domain, want := range map[string]string{
		"good.test":      "10 mx1.good.test., 20 mx2.good.test.",
		"partial.test":   "10 dead.partial.test., 20 mx1.good.test.",
		"nullmx.test":    "0 .",
		"cname.test":     "10 alias.cname.test.",
		"noaddr.test":    "10 noaddr-host.noaddr.test.",
		"v6.test":        "10 mx.v6.test.",
		"multi.test":     "10 mx.multi.test.",
		"relay.test":     "10 mx.relay.test.",
		"reject.test":    "10 mx.reject.test.",
		"multiline.test": "10 mx.multiline.test.",
		"tls.test":       "10 mx.tls.test.",
		"greylist.test":  "10 mx.greylist.test.",
		"slow.test":      "10 mx.slow.test.",
		"notls.test":     "10 mx.notls.test.",
		"nopipe.test":    "10 mx.nopipe.test.",
	} {
		if got := mxs(domain); got != want {
			t.Errorf("MX %s = %q, want %q", domain, got, want)
		}
	}
	for host, want := range map[string]string{
		"mx.multi.test":    "127.0.1.1 127.0.1.2",
		"mx.v6.test":       "::1",
		"implicit.test":    "127.0.1.1",
		"alias.cname.test": "127.0.1.1",
		"mx.greylist.test": "127.0.1.8",
		"mx.slow.test":     "127.0.1.9",
		"mx.notls.test":    "127.0.1.10",
		"mx.nopipe.test":   "127.0.1.13",
	} {
		addrs, err := r.LookupHost(ctx, host+".")
		slices.Sort(addrs)
		if got := strings.Join(addrs, " "); err != nil || got != want {
			t.Errorf("LookupHost(%s) = %q, %v; want %q", host, got, err, want)
		}
	}
	if cname, err := r.LookupCNAME(ctx, "alias.cname.test."); err != nil || cname != "mx1.good.test." {
		t.Errorf("LookupCNAME(alias.cname.test) = %q, %v; want mx1.good.test.", cname, err)
	}
	for _, host := range []string{"noaddr-host.noaddr.test", "missing.test"} {
		var dnsErr *net.DNSError
		if _, err := r.LookupHost(ctx, host+"."); !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
			t.Errorf("LookupHost(%s): err = %v, want not found", host, err)
		}
	}
}

// TestRcode tells NXDOMAIN from NODATA, which net.Resolver does not, with raw queries
// over UDP and TCP.
func TestRcode(t *testing.T) {
	env := Require(t)
	const typeMX = 15
	for _, tc := range []struct {
		name    string
		rcode   int // 0 NOERROR, 3 NXDOMAIN
		answers int
	}{
		{"good.test", 0, 2},
		{"nullmx.test", 0, 1},
		{"missing.test", 3, 0},
		{"nodata.test", 0, 0},
		{"implicit.test", 0, 0},
	} {
		for _, network := range []string{"udp", "tcp"} {
			rcode, answers, aa, err := rawQuery(network, env.Resolver, tc.name, typeMX)
			if err != nil {
				t.Fatalf("%s MX over %s: %v", tc.name, network, err)
			}
			if rcode != tc.rcode || answers != tc.answers || !aa {
				t.Errorf("%s MX over %s: rcode %d, %d answers, AA %v; want rcode %d, %d answers, AA",
					tc.name, network, rcode, answers, aa, tc.rcode, tc.answers)
			}
		}
	}
}

// rawQuery sends one DNS query and returns the header's RCODE, ANCOUNT and AA bit.
func rawQuery(network, server, name string, qtype uint16) (rcode, answers int, aa bool, err error) {
	msg := []byte{0x12, 0x34, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0} // id, no RD, QDCOUNT 1
	for _, label := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		msg = append(msg, byte(len(label)))
		msg = append(msg, label...)
	}
	msg = append(msg, 0)
	msg = binary.BigEndian.AppendUint16(msg, qtype)
	msg = binary.BigEndian.AppendUint16(msg, 1) // IN

	c, err := net.DialTimeout(network, server, 5*time.Second)
	if err != nil {
		return 0, 0, false, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	resp := make([]byte, 65535)
	var n int
	if network == "tcp" {
		if _, err = c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(msg))), msg...)); err != nil {
			return 0, 0, false, err
		}
		var l [2]byte
		if _, err = io.ReadFull(c, l[:]); err != nil {
			return 0, 0, false, err
		}
		n, err = io.ReadFull(c, resp[:binary.BigEndian.Uint16(l[:])])
	} else {
		if _, err = c.Write(msg); err != nil {
			return 0, 0, false, err
		}
		n, err = c.Read(resp)
	}
	if err != nil {
		return 0, 0, false, err
	}
	if n < 12 || resp[0] != 0x12 || resp[1] != 0x34 || resp[2]&0x80 == 0 {
		return 0, 0, false, fmt.Errorf("not a response to our query: % x", resp[:min(n, 12)])
	}
	return int(resp[3] & 0x0f), int(binary.BigEndian.Uint16(resp[6:8])), resp[2]&0x04 != 0, nil
}

func TestMaillogTail(t *testing.T) {
	env := Require(t)
	got := env.MaillogTail(3)
	if strings.Count(got, "\n") != 2 || !strings.Contains(got, "postfix") {
		t.Fatalf("MaillogTail(3) = %q, want 3 Postfix log lines", got)
	}
	if pkg := MaillogTail(3); pkg == "" {
		t.Fatalf("package MaillogTail(3) is empty")
	}
}

// TestPostscreenPregreet checks what the postscreen listener does with a client that
// waits for the final greeting line and with one that talks first, and that a test
// finds each in the Postfix log by its client address.
func TestPostscreenPregreet(t *testing.T) {
	env := Require(t)
	env.LogOnFailure(t)
	l := env.Listener("mx.multiline.test")
	log := env.FollowMaillog(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	polite, rude := ClientIP(), ClientIP()
	for polite == rude {
		rude = ClientIP()
	}
	c, err := DialFrom(polite)(ctx, "tcp", l.Addr)
	if err != nil {
		t.Fatalf("dial %s from %s: %v", l.Addr, polite, err)
	}
	s := &session{t: t, conn: c, r: bufio.NewReader(c)}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	start := time.Now()
	if _, greeting := s.reply(); len(greeting) < 2 || time.Since(start) < l.MinGreetWait || time.Since(start) > l.GreetWait+time.Second {
		t.Fatalf("greeting %q after %v, want a multi-line greeting after %v to %v", greeting, time.Since(start), l.MinGreetWait, l.GreetWait)
	}
	s.cmd("EHLO probe.test", "250 ")
	s.cmd("QUIT", "221 2.0.0")

	first, next, err := Pregreet(ctx, l, rude)
	if !strings.HasPrefix(first, "220-"+l.Host+" ") || next != "521 5.5.1 Protocol error" {
		t.Fatalf("pregreet from %s: greeting %q then %q (%v), want \"220-%s ...\" then \"521 5.5.1 Protocol error\"", rude, first, next, err, l.Host)
	}

	log.Await(t, 5*time.Second, "postfix/multiline/smtpd", "disconnect from unknown["+polite.String()+"]")
	log.Await(t, 5*time.Second, "postfix/multiline/postscreen", "DISCONNECT ["+rude.String()+"]:")
	for ip, want := range map[netip.Addr]string{polite: "PASS NEW [", rude: "PREGREET 20 after "} {
		lines := log.Lines(t, "["+ip.String()+"]")
		joined := strings.Join(lines, "\n")
		if !strings.Contains(joined, "CONNECT from ["+ip.String()+"]:") || !strings.Contains(joined, want) {
			t.Fatalf("log lines of %s:\n%s\nwant CONNECT and %q", ip, joined, want)
		}
		if pregreet := strings.Contains(joined, "PREGREET"); pregreet != (ip == rude) {
			t.Fatalf("log lines of %s:\n%s\nPREGREET logged %v, want %v", ip, joined, pregreet, ip == rude)
		}
	}
}
