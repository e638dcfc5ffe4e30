package testcert

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"testing"
	"time"
)

func TestSignedCertificateVerifies(t *testing.T) {
	ca := New(Options{CommonName: "test CA", CA: true}, nil)
	leaf := New(Options{CommonName: "mx.tls.test", DNSNames: []string{"mx.tls.test"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}, ca)
	for _, name := range []string{"mx.tls.test", "127.0.0.1"} {
		if _, err := leaf.Cert.Verify(x509.VerifyOptions{DNSName: name, Roots: ca.Pool()}); err != nil {
			t.Errorf("verify for %s: %v", name, err)
		}
	}
	if _, err := leaf.Cert.Verify(x509.VerifyOptions{DNSName: "mx.tls.test", Roots: New(Options{CA: true}, nil).Pool()}); err == nil {
		t.Errorf("verified against another CA")
	}
	if leaf.Cert.IsCA || !ca.Cert.IsCA {
		t.Errorf("IsCA: leaf %v, CA %v", leaf.Cert.IsCA, ca.Cert.IsCA)
	}
}

func TestSelfSignedCertificateServesTLS(t *testing.T) {
	c := New(Options{CommonName: "self", IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, CA: true}, nil)
	pair, err := tls.X509KeyPair(c.CertPEM(), c.KeyPEM())
	if err != nil {
		t.Fatalf("PEM files do not load: %v", err)
	}
	if _, err := c.Cert.Verify(x509.VerifyOptions{DNSName: "127.0.0.1", Roots: c.Pool()}); err != nil {
		t.Errorf("a self-signed certificate does not verify against itself: %v", err)
	}
	if got := c.TLS(); got.Leaf != c.Cert || len(pair.Certificate) != 1 {
		t.Errorf("TLS() does not carry the certificate")
	}
}

func TestValidity(t *testing.T) {
	from := time.Now().Add(-48 * time.Hour).Truncate(time.Second)
	until := time.Now().Add(-24 * time.Hour).Truncate(time.Second)
	c := New(Options{CommonName: "expired", NotBefore: from, NotAfter: until}, nil)
	if !c.Cert.NotBefore.Equal(from) || !c.Cert.NotAfter.Equal(until) {
		t.Errorf("validity %v to %v, want %v to %v", c.Cert.NotBefore, c.Cert.NotAfter, from, until)
	}
	d := New(Options{CommonName: "default"}, nil)
	if now := time.Now(); d.Cert.NotBefore.After(now) || d.Cert.NotAfter.Before(now.Add(time.Hour)) {
		t.Errorf("default validity %v to %v does not cover the next hour", d.Cert.NotBefore, d.Cert.NotAfter)
	}
}
