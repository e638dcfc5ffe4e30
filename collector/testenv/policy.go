package testenv

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// The MTA-STS policy hosts (nginx, HTTPS on port 443; see the package comment).
const (
	// PolicyHostAddr serves every mta-sts.<d>.sts.test but two, with a certificate of
	// the test CA for all their names.
	PolicyHostAddr = "127.0.4.1"
	// PolicyExpiredAddr serves mta-sts.expiredhost.sts.test with an expired
	// certificate of the test CA.
	PolicyExpiredAddr = "127.0.4.2"
	// PolicyWrongNameAddr serves mta-sts.wrongname.sts.test with a certificate of the
	// test CA for www.wrongname.sts.test only.
	PolicyWrongNameAddr = "127.0.4.3"
	// PolicyPort is the port of every policy host (RFC 8461 section 3.3: HTTPS).
	PolicyPort = "443"
	// PolicyPath is the only path the policy hosts serve.
	PolicyPath = "/.well-known/mta-sts.txt"
	// BigPolicySize is the size of big.sts.test's policy: over the 64 KiB a sender
	// reads at most.
	BigPolicySize = 70 << 10
)

// PolicyClient returns an HTTP client that sends every request to addr (e.g.
// PolicyHostAddr+":443") whatever the URL's host, verifies the server for the URL's
// host against the test CA, and follows no redirect: for tests that talk to the
// policy hosts directly, without DNS.
func (e *Env) PolicyClient(addr string) *http.Client {
	return policyClient(e.CAPool, addr)
}

func policyClient(pool *x509.CertPool, addr string) *http.Client {
	var d net.Dialer
	return &http.Client{
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, addr)
			},
			TLSClientConfig:   &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			DisableKeepAlives: true,
			Proxy:             nil, // never a proxy from the environment: loopback only
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// checkPolicyHost fetches enforce.sts.test's policy from PolicyHostAddr, verified by
// the test CA of dir: 200, text/plain, an STSv1 policy. checkPolicyHostAt asks addr.
func checkPolicyHost(ctx context.Context, dir string) error {
	return checkPolicyHostAt(ctx, dir, net.JoinHostPort(PolicyHostAddr, PolicyPort))
}

func checkPolicyHostAt(ctx context.Context, dir, addr string) error {
	const url = "https://mta-sts.enforce.sts.test" + PolicyPath
	err := func() error {
		caFile := filepath.Join(dir, "tls", "ca.pem")
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("no certificate in %s", caFile)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := policyClient(pool, addr).Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
		if err != nil {
			return err
		}
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != "text/plain" ||
			!strings.HasPrefix(string(body), "version: STSv1\n") {
			return fmt.Errorf("status %d, Content-Type %q, body %.40q", resp.StatusCode, ct, body)
		}
		return nil
	}()
	if err != nil {
		return fmt.Errorf("HTTPS %s: %s: %w", addr, url, err)
	}
	return nil
}
