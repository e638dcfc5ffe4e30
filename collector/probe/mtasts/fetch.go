package mtasts

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe/tlscheck"
	"github.com/mx-exporter/mx_exporter/collector/probe/txtfields"
)

const (
	// policyPort is where the policy is served: https, no other port
	// (RFC 8461 section 3.3).
	policyPort = 443
	// policyPath is the well-known path of the policy (section 3.2).
	policyPath = "/.well-known/mta-sts.txt"
	// defaultFetchTimeout bounds a fetch whose context has no deadline:
	// section 3.3 suggests a minute.
	defaultFetchTimeout = time.Minute
	// maxHeaderBytes bounds the response header a policy server may send.
	maxHeaderBytes = 16 << 10
	// maxContentType caps the Content-Type kept in Fetch.
	maxContentType = 128
	// userAgent says who asks, for the policy server's logs.
	userAgent = "mx_exporter (MTA-STS policy check)"
)

// PolicyHost is the one host a domain's policy is served from (RFC 8461
// section 3.2: no fallback to a parent domain).
func PolicyHost(domain string) string { return "mta-sts." + domain }

// PolicyURL is where a domain's policy is (RFC 8461 section 3.2).
func PolicyURL(domain string) string { return "https://" + PolicyHost(domain) + policyPath }

// FetchPolicy fetches https://mta-sts.<domain>/.well-known/mta-sts.txt as
// RFC 8461 section 3.3 says (SNI and certificate for mta-sts.<domain>, no
// redirect followed, only 200, body capped at MaxPolicyBytes, no proxy from
// the environment, within ctx's deadline) and parses it. The State's ID is
// left for the caller.
//
// The addresses are tried in order until one accepts the TCP connection;
// the TLS handshake and the request then go to that one. The certificate is
// inspected (tlscheck.Inspect, against opts.RootCAs) before the handshake
// is allowed to finish, so that its facts are kept even when it does not
// verify; a certificate that does not verify ends the fetch
// (FetchTLSVerify), as it does for a sender. TLS 1.2 is the least version
// offered. Without a deadline in ctx the fetch takes at most a minute.
// Nothing is left behind: the connection is closed before FetchPolicy
// returns, whatever happened.
func FetchPolicy(ctx context.Context, opts FetchOptions) State {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	began := time.Now() // for the Duration, on the monotonic clock
	host := PolicyHost(opts.Domain)
	f := &fetcher{opts: opts, host: host, now: now}
	st := State{Fetch: Fetch{URL: PolicyURL(opts.Domain), Start: now()}}
	body, ok := f.get(ctx, &st.Fetch)
	st.Fetch.Addr, st.Fetch.TLS = f.result()
	st.Fetch.Duration = time.Since(began)
	if !ok {
		return st
	}
	policy, defects := ParsePolicy(body)
	if !plainText(st.Fetch.ContentType) {
		defects = append(defects, DefectContentType)
	}
	st.Policy, st.Defects, st.Digest = &policy, defects, sha256.Sum256(body)
	st.Valid = !hasFatal(defects)
	return st
}

// hasFatal reports whether any of the defects is fatal.
func hasFatal(defects []Defect) bool {
	for _, d := range defects {
		if d.Fatal() {
			return true
		}
	}
	return false
}

// plainText reports whether a Content-Type is text/plain as section 3.2
// asks, with no charset or a charset of UTF-8 or US-ASCII.
func plainText(contentType string) bool {
	media, params, err := mime.ParseMediaType(contentType)
	if err != nil || media != "text/plain" {
		return false
	}
	switch cs, ok := params["charset"]; {
	case !ok:
		return true
	default:
		cs = strings.ToLower(cs)
		return cs == "utf-8" || cs == "us-ascii"
	}
}

// fetcher is one policy fetch: its options and what its connection saw.
// The dial and handshake run in the HTTP transport's goroutine, hence the
// lock on what they record.
type fetcher struct {
	opts FetchOptions
	host string
	now  func() time.Time

	mu   sync.Mutex
	addr string         // the address tried last
	tls  *tlscheck.Info // the certificate's facts, once inspected
}

func (f *fetcher) result() (string, *tlscheck.Info) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addr, f.tls
}

// The errors the dial returns, to tell the failure's stage apart through the
// HTTP client's wrapping.
type (
	connectError   struct{ err error }
	handshakeError struct{ err error }
	verifyError    struct{ why string }
)

func (e *connectError) Error() string   { return e.err.Error() }
func (e *connectError) Unwrap() error   { return e.err }
func (e *handshakeError) Error() string { return e.err.Error() }
func (e *handshakeError) Unwrap() error { return e.err }
func (e *verifyError) Error() string    { return "certificate does not verify: " + e.why }

// get makes the request and fills f's fields; it returns the body when a 200
// with at most MaxPolicyBytes came.
func (f *fetcher) get(ctx context.Context, out *Fetch) ([]byte, bool) {
	if len(f.opts.Addrs) == 0 {
		out.Err, out.Detail = FetchNoAddress, f.host+" has no address"
		return nil, false
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultFetchTimeout)
		defer cancel()
	}
	transport := &http.Transport{
		Proxy:             nil, // never a proxy from the environment
		DisableKeepAlives: true,
		// The dial ignores the context the transport hands it, which
		// outlives the request (net/http lets dials finish for later
		// requests): this transport serves one request, bounded by ctx.
		DialTLSContext: func(_ context.Context, _, _ string) (net.Conn, error) {
			return f.dialTLS(ctx)
		},
		MaxResponseHeaderBytes: maxHeaderBytes,
		DisableCompression:     true, // Size is the bytes sent, and no gzip bomb
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{
		Transport: transport,
		// Section 3.3: senders must not follow redirects.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, out.URL, nil)
	if err != nil { // only a domain that is no host name gets here
		out.Err, out.Detail = FetchHTTP, "no request could be made for "+txtfields.Quote(out.URL)
		return nil, false
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := client.Do(req)
	if err != nil {
		out.Err, out.Detail = f.describe(ctx, err)
		return nil, false
	}
	defer resp.Body.Close()
	out.Status = resp.StatusCode
	out.ContentType = txtfields.Sanitize(resp.Header.Get("Content-Type"), maxContentType)
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		out.Location = txtfields.Sanitize(resp.Header.Get("Location"), maxQuoted)
		out.Err = FetchRedirect
		out.Detail = fmt.Sprintf("%s answered %d redirecting to %q: senders do not follow redirects", f.host, resp.StatusCode, out.Location)
		return nil, false
	case resp.StatusCode != http.StatusOK:
		out.Err = FetchStatus
		out.Detail = fmt.Sprintf("%s answered %d, not 200", f.host, resp.StatusCode)
		return nil, false
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxPolicyBytes+1))
	out.Size = len(body)
	if err != nil {
		out.Err, out.Detail = f.describe(ctx, err)
		return nil, false
	}
	if len(body) > MaxPolicyBytes {
		out.Err = FetchTooLarge
		out.Detail = fmt.Sprintf("the policy is longer than %d bytes: senders refuse it", MaxPolicyBytes)
		return nil, false
	}
	return body, true
}

// dialTLS connects to the first address that accepts, then handshakes.
func (f *fetcher) dialTLS(ctx context.Context) (net.Conn, error) {
	dial := f.opts.DialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	port := f.opts.Port
	if port == 0 {
		port = policyPort
	}
	var conn net.Conn
	var errs []string
	var last error
	for _, a := range f.opts.Addrs {
		addr := netip.AddrPortFrom(a.Unmap(), port).String()
		f.mu.Lock()
		f.addr = addr
		f.mu.Unlock()
		c, err := dial(ctx, "tcp", addr)
		if err == nil {
			conn = c
			break
		}
		last = err
		errs = append(errs, addr+": "+connectWords(err))
		if ctx.Err() != nil {
			break
		}
	}
	if conn == nil {
		return nil, &connectError{fmt.Errorf("%s: %w", strings.Join(errs, "; "), last)}
	}
	cfg := &tls.Config{
		ServerName: f.host,
		MinVersion: tls.VersionTLS12,
		// Verified below, in VerifyConnection, so that the facts of a
		// certificate that fails are kept for the report.
		InsecureSkipVerify: true, //nolint:gosec // verified in VerifyConnection
		VerifyConnection: func(cs tls.ConnectionState) error {
			info := tlscheck.Inspect(cs, f.host, f.opts.RootCAs, f.now())
			f.mu.Lock()
			f.tls = info
			f.mu.Unlock()
			if !info.Verified {
				return &verifyError{why: info.VerifyError}
			}
			return nil
		},
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = conn.Close()
		var v *verifyError
		if errors.As(err, &v) {
			return nil, v
		}
		return nil, &handshakeError{err}
	}
	return tc, nil
}

// describe names a failed request or body read: the context's deadline
// first (whatever stage it cut), then the stage the dial recorded, then a
// malformed or cut HTTP answer.
func (f *fetcher) describe(ctx context.Context, err error) (FetchError, string) {
	var (
		connect   *connectError
		handshake *handshakeError
		verify    *verifyError
	)
	switch {
	case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded):
		return FetchTimeout, "no complete answer from " + f.host + " before the probe's deadline"
	case errors.As(err, &connect):
		return FetchConnect, "no TCP connection to " + f.host + ": " + connect.Error()
	case errors.As(err, &verify):
		return FetchTLSVerify, "the certificate of " + f.host + " does not verify: " + verify.why
	case errors.As(err, &handshake):
		return FetchTLSHandshake, "the TLS handshake with " + f.host + " failed: " + handshakeWords(handshake.err)
	}
	return FetchHTTP, "no valid HTTP answer from " + f.host + " (the connection closed or the answer is malformed)"
}

// connectWords says why a TCP connection failed, in the words of the
// common cases.
func connectWords(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "unreachable"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "timed out"
	}
	return "failed"
}

// handshakeWords says why a handshake failed without quoting the TLS
// library.
func handshakeWords(err error) string {
	var header tls.RecordHeaderError
	var op *net.OpError
	switch {
	case errors.As(err, &header):
		return "the server does not speak TLS"
	case errors.As(err, &op) && op.Op == "remote error":
		// The alert the server sent, e.g. "tls: handshake failure".
		return "the server refused it (" + txtfields.Sanitize(op.Err.Error(), 64) + ")"
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
		return "the server closed the connection"
	}
	return "no common protocol version or cipher, or a malformed handshake"
}
