// Package testcert makes X.509 certificates for tests, in-process: a CA, the
// certificates it signs, and self-signed ones, each with a fresh ECDSA P-256
// key. The probe's TLS tests, the daemon's --web.config.file test and any
// test that needs a certificate the test servers' CA did not sign use it.
//
// It is test infrastructure, as collector/testenv is. design.md puts test
// infrastructure under an internal/ folder; it stays under collector/testenv
// instead because Go's internal/ rule would keep it from the tests that need
// it: a package under collector/internal/ may be imported only from within
// collector/, not from cmd/mx_exporter or deploy/. Only tests import it.
package testcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"time"
)

// Options says what a certificate is for. Zero times take the defaults: valid
// from an hour ago until a day from now.
type Options struct {
	CommonName string
	DNSNames   []string
	IPs        []net.IP
	NotBefore  time.Time
	NotAfter   time.Time
	// CA makes a certificate that may sign others (basic constraints CA:TRUE,
	// key usage certSign). Without it, a server certificate (digitalSignature,
	// extended key usage serverAuth).
	CA bool
}

// Cert is a certificate with its private key.
type Cert struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// New makes a certificate signed by issuer, or self-signed when issuer is nil.
// It panics on an error, which valid options and a fresh key cannot cause: a
// panic here is a bug in the test, and the test fails with its stack. (A
// testing.TB would not do: some tests make their certificates once, in a
// sync.OnceValue shared by several tests.)
func New(o Options, issuer *Cert) *Cert {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic("testcert: key: " + err.Error())
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic("testcert: serial: " + err.Error())
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: o.CommonName},
		DNSNames:     o.DNSNames,
		IPAddresses:  o.IPs,
		NotBefore:    o.NotBefore,
		NotAfter:     o.NotAfter,
	}
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = now.Add(-time.Hour)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = now.Add(24 * time.Hour)
	}
	if o.CA {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	parent, signer := tmpl, key
	if issuer != nil {
		parent, signer = issuer.Cert, issuer.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		panic("testcert: certificate: " + err.Error())
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic("testcert: parse: " + err.Error())
	}
	return &Cert{Cert: cert, Key: key}
}

// TLS is the certificate for tls.Config.Certificates.
func (c *Cert) TLS() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{c.Cert.Raw}, PrivateKey: c.Key, Leaf: c.Cert}
}

// Pool is a pool holding this certificate alone, for tls.Config.RootCAs.
func (c *Cert) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.Cert)
	return p
}

// CertPEM is the certificate in PEM, as a cert_file or ca_file holds it.
func (c *Cert) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw})
}

// KeyPEM is the private key in PEM, as a key_file holds it.
func (c *Cert) KeyPEM() []byte {
	der, err := x509.MarshalECPrivateKey(c.Key)
	if err != nil {
		panic("testcert: key: " + err.Error())
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
}
