package smtp

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// plainError says what err means in the words of a mail admin, for
// Result.Detail, TLSFailure.Cause, Step.Err and the transcript. No Go
// implementation text gets through ("use of closed network connection",
// "i/o timeout", "read tcp 127.0.0.1:…->…:", "EOF", "remote error: tls:
// …"): the reader knows SMTP, not the net package.
//
// what is what we waited for: "greeting", "reply to EHLO", "TLS handshake",
// or "" for anything else (a connect). waited is how long we were willing
// to wait for it; timedOut says the probe's deadline ended the wait (the
// caller knows: a deadline can also surface as a closed connection).
func plainError(err error, what string, waited time.Duration, timedOut bool) string {
	var partial string
	if inc := (*IncompleteLineError)(nil); errors.As(err, &inc) {
		partial = ` (it sent "` + inc.Partial + `" without a line end)`
	}
	if timedOut || isTimeout(err) {
		within := " within " + humanDuration(waited)
		switch what {
		case "TLS handshake":
			return "TLS handshake not finished" + within
		case "":
			return "no answer" + within
		case "greeting":
			if partial == "" {
				return "no greeting" + within
			}
		}
		return "no complete " + what + within + partial
	}
	cause := plainCause(err)
	switch {
	case what == "TLS handshake":
		return "TLS handshake failed: " + cause
	case what == "":
		return cause
	case partial != "":
		return cause + " in the middle of the " + what + partial
	}
	return cause + " before the " + what
}

// plainCause names what happened to the connection, without saying what we
// were waiting for.
func plainCause(err error) string {
	var (
		op      *net.OpError
		record  tls.RecordHeaderError
		unknown x509.UnknownAuthorityError
		invalid x509.CertificateInvalidError
		host    x509.HostnameError
	)
	switch {
	case err == nil:
		return "no error"
	case errors.As(err, &op) && op.Op == "remote error":
		// A TLS alert the server sent; Go renders it "remote error: tls: bad
		// certificate". The alert names are the RFC 8446 6.2 ones.
		alert := strings.TrimPrefix(op.Err.Error(), "tls: ")
		return "the server sent alert '" + alert + "'" + alertHint(alert)
	case errors.As(err, &record):
		return `the server did not answer in TLS (it sent "` + escapeCap(record.RecordHeader[:], 16) + `")`
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.EPIPE):
		return "the server closed the connection"
	case errors.Is(err, syscall.ECONNRESET):
		return "the server reset the connection"
	case errors.Is(err, syscall.ECONNABORTED):
		return "the connection was aborted"
	case errors.Is(err, net.ErrClosed):
		return "the connection was closed"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ENETUNREACH):
		return "network unreachable"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "host unreachable"
	case errors.As(err, &unknown):
		return "the certificate is not signed by a trusted authority"
	case errors.As(err, &host):
		return "the certificate is not valid for " + escapeCap([]byte(host.Host), quoteCap)
	case errors.As(err, &invalid):
		return certificateInvalid(invalid)
	case isTimeout(err):
		return "no answer in time"
	}
	return goTextToWords(innermost(err).Error())
}

// alertHint says what an alert most often means in an SMTP server's
// handshake.
func alertHint(alert string) string {
	switch alert {
	case "handshake failure":
		return " (usually: no cipher suite or TLS version in common)"
	case "protocol version not supported":
		return " (no TLS version in common)"
	case "unrecognized name":
		return " (it has no certificate for the name we asked for)"
	}
	return ""
}

func certificateInvalid(e x509.CertificateInvalidError) string {
	switch e.Reason {
	case x509.Expired:
		return "the certificate has expired or is not yet valid"
	case x509.NameConstraintsWithoutSANs, x509.CANotAuthorizedForThisName, x509.UnconstrainedName:
		return "the certificate's issuer may not sign for this name"
	case x509.IncompatibleUsage:
		return "the certificate is not for TLS servers"
	}
	return "the certificate chain is not valid"
}

// innermost unwraps err to the error at the bottom of its chain, where the
// Go packages put the words that mean something ("network is unreachable")
// and above it the address and operation ("dial tcp 192.0.2.1:25: ").
func innermost(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// goTextToWords trims the package prefixes Go errors carry.
func goTextToWords(s string) string {
	for _, p := range []string{"remote error: ", "tls: ", "x509: "} {
		s = strings.TrimPrefix(s, p)
	}
	switch {
	case strings.Contains(s, "unsupported protocol version"), strings.Contains(s, "no supported versions"):
		return "no TLS version in common"
	case strings.Contains(s, "no cipher suite"):
		return "no cipher suite in common"
	case strings.Contains(s, "timeout"):
		return "no answer in time"
	}
	return escapeCap([]byte(s), detailCap)
}

// humanDuration writes a wait as an admin says it, to two significant
// figures: "45 ms", "300 ms", "2.5 s", "10 s". The wait is what was left of
// the deadline when the step began, so the time the connect took does not
// turn a 300 ms budget into "299 ms".
func humanDuration(d time.Duration) string {
	if d = max(d, 0).Round(time.Millisecond); d < 100*time.Millisecond {
		return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
	}
	if d = d.Round(10 * time.Millisecond); d < time.Second {
		return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
	}
	if d = d.Round(100 * time.Millisecond); d < 10*time.Second {
		return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " s"
	}
	return strconv.FormatInt(int64(d.Round(time.Second)/time.Second), 10) + " s"
}
