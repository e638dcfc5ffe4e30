package smtp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// goTexts are pieces of Go's error strings that must never reach a person.
var goTexts = []string{
	"use of closed network connection", "i/o timeout", "read tcp", "write tcp", "dial tcp",
	"127.0.0.1:", "->", "EOF", "connection reset by peer", "broken pipe", "remote error",
	"tls:", "x509:", "context deadline exceeded", "context canceled", "deadline exceeded",
}

func checkNoGoText(t *testing.T, what, s string) {
	t.Helper()
	for _, g := range goTexts {
		if strings.Contains(s, g) {
			t.Fatalf("%s %q contains Go text %q", what, s, g)
		}
	}
}

func opErr(op string, err error) error {
	return &net.OpError{
		Op: op, Net: "tcp",
		Source: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000},
		Addr:   &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 25},
		Err:    err,
	}
}

func TestPlainError(t *testing.T) {
	timeout := opErr("read", os.ErrDeadlineExceeded)
	reset := opErr("read", os.NewSyscallError("read", syscall.ECONNRESET))
	pipe := opErr("write", os.NewSyscallError("write", syscall.EPIPE))
	closed := opErr("read", net.ErrClosed)
	cert := pki().signed.Leaf
	tests := []struct {
		name     string
		err      error
		what     string
		waited   time.Duration
		timedOut bool
		want     string
	}{
		{"greeting timeout", timeout, "greeting", 10 * time.Second, false, "no greeting within 10 s"},
		{"greeting timeout, rounded", timeout, "greeting", 9999 * time.Millisecond, false, "no greeting within 10 s"},
		{"EHLO timeout", timeout, "reply to EHLO", 15 * time.Second, false, "no complete reply to EHLO within 15 s"},
		{"short budget", timeout, "reply to EHLO", 299700 * time.Microsecond, false, "no complete reply to EHLO within 300 ms"},
		{"seconds and a tenth", timeout, "reply to MAIL FROM", 2540 * time.Millisecond, false, "no complete reply to MAIL FROM within 2.5 s"},
		{"deadline seen as a closed socket", closed, "reply to EHLO", 10 * time.Second, true, "no complete reply to EHLO within 10 s"},
		{
			"greeting cut by the deadline", &IncompleteLineError{Partial: "220 partial", Err: timeout}, "greeting", 10 * time.Second, false,
			`no complete greeting within 10 s (it sent "220 partial" without a line end)`,
		},
		{"TLS timeout", context.DeadlineExceeded, "TLS handshake", 8 * time.Second, false, "TLS handshake not finished within 8 s"},
		{"connect timeout", opErr("dial", os.ErrDeadlineExceeded), "", 5 * time.Second, false, "no answer within 5 s"},
		{"closed before the greeting", io.EOF, "greeting", time.Second, false, "the server closed the connection before the greeting"},
		{
			"closed in the middle of the greeting", &IncompleteLineError{Partial: "220 mx ready", Err: io.EOF}, "greeting", time.Second, false,
			`the server closed the connection in the middle of the greeting (it sent "220 mx ready" without a line end)`,
		},
		{"closed before the EHLO reply", io.EOF, "reply to EHLO", time.Second, false, "the server closed the connection before the reply to EHLO"},
		{"reset", reset, "reply to RCPT TO:<a@b.test>", time.Second, false, "the server reset the connection before the reply to RCPT TO:<a@b.test>"},
		{"broken pipe", pipe, "reply to QUIT", time.Second, false, "the server closed the connection before the reply to QUIT"},
		{"closed by us", closed, "reply to EHLO", time.Second, false, "the connection was closed before the reply to EHLO"},
		{"EOF in the handshake", io.EOF, "TLS handshake", time.Second, false, "TLS handshake failed: the server closed the connection"},
		{"reset in the handshake", reset, "TLS handshake", time.Second, false, "TLS handshake failed: the server reset the connection"},
		{"refused", opErr("dial", os.NewSyscallError("connect", syscall.ECONNREFUSED)), "", time.Second, false, "connection refused"},
		{"unreachable", opErr("dial", os.NewSyscallError("connect", syscall.ENETUNREACH)), "", time.Second, false, "network unreachable"},
		{"plain words kept", opErr("dial", errors.New("network is unreachable")), "", time.Second, false, "network is unreachable"},
		{"unknown authority", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{Cert: cert}}, "", 0, false, "the certificate is not signed by a trusted authority"},
		{"wrong name", x509.HostnameError{Certificate: cert, Host: "mx.other.test"}, "", 0, false, "the certificate is not valid for mx.other.test"},
		{"expired", x509.CertificateInvalidError{Cert: cert, Reason: x509.Expired}, "", 0, false, "the certificate has expired or is not yet valid"},
		{"old TLS", errors.New("tls: server selected unsupported protocol version 301"), "TLS handshake", 0, false, "TLS handshake failed: no TLS version in common"},
		{"other tls text", errors.New("tls: unexpected message"), "TLS handshake", 0, false, "TLS handshake failed: unexpected message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := plainError(tt.err, tt.what, tt.waited, tt.timedOut)
			if got != tt.want {
				t.Fatalf("plainError(%v) = %q, want %q", tt.err, got, tt.want)
			}
			checkNoGoText(t, "plainError", got)
		})
	}
}

// TestPlainErrorTLS takes the errors from real handshakes on loopback, so
// that a change in how crypto/tls words them shows here.
func TestPlainErrorTLS(t *testing.T) {
	tests := []struct {
		name  string
		serve func(net.Conn)
		want  string
	}{
		{
			name: "no cipher suite in common",
			serve: func(c net.Conn) {
				// An ECDSA certificate with only RSA key-exchange suites,
				// which the client does not offer: the server can pick none
				// and answers with a handshake_failure alert.
				cfg := serverTLS(pki().signed)
				cfg.MaxVersion = tls.VersionTLS12
				cfg.CipherSuites = []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}
				_ = tls.Server(c, cfg).Handshake()
			},
			want: "TLS handshake failed: the server sent alert 'handshake failure' (usually: no cipher suite or TLS version in common)",
		},
		{
			name: "plaintext instead of TLS",
			serve: func(c net.Conn) {
				_, _ = c.Read(make([]byte, 5))
				_, _ = c.Write([]byte("this is not TLS\r\n"))
				_ = c.(*net.TCPConn).CloseWrite()
				_, _ = io.Copy(io.Discard, c)
			},
			want: `TLS handshake failed: the server did not answer in TLS (it sent "this ")`,
		},
		{
			name: "closed at once",
			serve: func(c net.Conn) {
				// Half-close, then drain: a FIN, not the RST that closing
				// with unread data would send.
				_ = c.(*net.TCPConn).CloseWrite()
				_, _ = io.Copy(io.Discard, c)
			},
			want: "TLS handshake failed: the server closed the connection",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkNoLeak(t)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatalf("listen: %v", err)
			}
			defer ln.Close()
			served := make(chan struct{})
			go func() {
				defer close(served)
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
				tt.serve(c)
			}()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			err = tls.Client(c, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10}).Handshake() //nolint:gosec // a test of errors
			c.Close()
			<-served
			if err == nil {
				t.Fatalf("handshake succeeded, want a failure")
			}
			got := plainError(err, "TLS handshake", time.Second, false)
			if got != tt.want {
				t.Fatalf("plainError(%q) = %q, want %q", err, got, tt.want)
			}
			checkNoGoText(t, "plainError", got)
		})
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0 ms", -time.Second: "0 ms", 300 * time.Millisecond: "300 ms", 999600 * time.Microsecond: "1 s",
		time.Second: "1 s", 1500 * time.Millisecond: "1.5 s", 9960 * time.Millisecond: "10 s",
		10 * time.Second: "10 s", 90 * time.Second: "90 s",
		// The connect took a little of a 300 ms budget: still "300 ms".
		299200 * time.Microsecond: "300 ms", 45 * time.Millisecond: "45 ms", 123 * time.Millisecond: "120 ms",
	} {
		if got := humanDuration(d); got != want {
			t.Fatalf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
