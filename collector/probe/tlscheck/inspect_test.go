package tlscheck

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/testenv/testcert"
)

// chain makes a CA and a leaf for mx.tls.test valid from notBefore to
// notAfter; the CA outlives the leaf unless caNotAfter says otherwise.
func chain(t *testing.T, notBefore, notAfter, caNotAfter time.Time) (ca, leaf *x509.Certificate) {
	t.Helper()
	c := testcert.New(testcert.Options{CommonName: "Test CA", CA: true, NotBefore: notBefore, NotAfter: caNotAfter}, nil)
	l := testcert.New(testcert.Options{CommonName: "mx.tls.test", DNSNames: []string{"mx.tls.test"}, NotBefore: notBefore, NotAfter: notAfter}, c)
	return c.Cert, l.Cert
}

func TestInspect(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	ca, leaf := chain(t, now.Add(-time.Hour), now.Add(24*time.Hour), now.Add(48*time.Hour))
	shortCA, shortLeaf := chain(t, now.Add(-time.Hour), now.Add(24*time.Hour), now.Add(2*time.Hour))
	pool := func(c *x509.Certificate) *x509.CertPool {
		p := x509.NewCertPool()
		p.AddCert(c)
		return p
	}
	tests := []struct {
		name         string
		certs        []*x509.Certificate
		serverName   string
		roots        *x509.CertPool
		at           time.Time
		wantVerified bool
		wantErr      string
		wantChainEnd time.Time
	}{
		{name: "verified", certs: []*x509.Certificate{leaf}, serverName: "mx.tls.test", roots: pool(ca), at: now, wantVerified: true, wantChainEnd: leaf.NotAfter},
		{name: "chain ends with the CA", certs: []*x509.Certificate{shortLeaf}, serverName: "mx.tls.test", roots: pool(shortCA), at: now, wantVerified: true, wantChainEnd: shortCA.NotAfter},
		{name: "unknown authority", certs: []*x509.Certificate{leaf}, serverName: "mx.tls.test", roots: x509.NewCertPool(), at: now, wantErr: "unknown authority", wantChainEnd: leaf.NotAfter},
		{name: "wrong name", certs: []*x509.Certificate{leaf}, serverName: "mx.other.test", roots: pool(ca), at: now, wantErr: "not valid for mx.other.test (names: mx.tls.test)", wantChainEnd: leaf.NotAfter},
		{name: "expired", certs: []*x509.Certificate{leaf}, serverName: "mx.tls.test", roots: pool(ca), at: now.Add(30 * time.Hour), wantErr: "expired", wantChainEnd: leaf.NotAfter},
		{name: "no certificate", serverName: "mx.tls.test", at: now, wantErr: "no certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := tls.ConnectionState{Version: tls.VersionTLS13, CipherSuite: tls.TLS_AES_128_GCM_SHA256, PeerCertificates: tt.certs}
			info := Inspect(state, tt.serverName, tt.roots, tt.at)
			if info.Verified != tt.wantVerified || !strings.Contains(info.VerifyError, tt.wantErr) || (tt.wantErr == "") != (info.VerifyError == "") {
				t.Fatalf("verified %v (%q), want %v (%q)", info.Verified, info.VerifyError, tt.wantVerified, tt.wantErr)
			}
			if info.Version != "TLS 1.3" || info.CipherSuite != "TLS_AES_128_GCM_SHA256" || info.ServerName != tt.serverName {
				t.Fatalf("info %+v, want TLS 1.3, TLS_AES_128_GCM_SHA256, %s", info, tt.serverName)
			}
			if !info.ChainNotAfter.Equal(tt.wantChainEnd) {
				t.Fatalf("chain not after %v, want %v", info.ChainNotAfter, tt.wantChainEnd)
			}
		})
	}
}

// TestDescribeSaysNoLibraryText: whatever x509 returns, the reader gets
// plain words, never "x509: ..." or Go type names.
func TestDescribeSaysNoLibraryText(t *testing.T) {
	cert := &x509.Certificate{DNSNames: []string{"a.test", "b.test"}}
	errs := []error{
		x509.UnknownAuthorityError{Cert: cert},
		x509.HostnameError{Certificate: cert, Host: "mx.test"},
		x509.ConstraintViolationError{},
		errors.New("x509: something the library adds one day"),
	}
	for r := x509.NotAuthorizedToSign; r <= x509.NoValidChains; r++ {
		errs = append(errs, x509.CertificateInvalidError{Cert: cert, Reason: r, Detail: "detail"})
	}
	for _, err := range errs {
		got := describe(err)
		if got == "" || strings.Contains(got, "x509") || strings.Contains(got, "Error") {
			t.Errorf("describe(%v) = %q: want plain words", err, got)
		}
	}
}
