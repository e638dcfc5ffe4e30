// Package tlscheck turns a finished TLS handshake into the facts a mail admin
// asks about: protocol version, cipher, the leaf certificate and whether the
// chain verifies for the MX host name.
//
// SMTP clients handshake without verification (RFC 3207 section 4.1: most
// MTAs deliver over TLS whatever the certificate), so the dialogue handshakes
// with InsecureSkipVerify and this package verifies afterwards, turning a
// self-signed or expired certificate into a reported fact rather than a
// failed connection.
package tlscheck

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"
	"unique"
)

// Info describes one TLS session.
type Info struct {
	Version     string `json:"version"`      // "TLS 1.3"
	CipherSuite string `json:"cipher_suite"` // IANA name, e.g. "TLS_AES_128_GCM_SHA256"
	ServerName  string `json:"server_name"`  // name the chain was verified against

	LeafSubject   string    `json:"leaf_subject"`
	LeafIssuer    string    `json:"leaf_issuer"`
	LeafDNSNames  []string  `json:"leaf_dns_names"`
	LeafNotBefore time.Time `json:"leaf_not_before"`
	LeafNotAfter  time.Time `json:"leaf_not_after"`
	// ChainNotAfter is the earliest expiry of any certificate in the
	// verified chain (or of the presented certificates when it does not
	// verify): the day TLS to this host breaks.
	ChainNotAfter time.Time `json:"chain_not_after"`

	Verified    bool   `json:"verified"`
	VerifyError string `json:"verify_error,omitempty"` // why the chain did not verify, "" when Verified
}

// Inspect verifies the peer certificates of state for serverName against
// roots (nil: the system pool) at time now.
func Inspect(state tls.ConnectionState, serverName string, roots *x509.CertPool, now time.Time) *Info {
	info := &Info{
		Version:     tls.VersionName(state.Version),
		CipherSuite: tls.CipherSuiteName(state.CipherSuite),
		ServerName:  serverName,
	}
	certs := state.PeerCertificates
	if len(certs) == 0 {
		info.VerifyError = "server presented no certificate"
		return info
	}
	leaf := certs[0]
	// The store keeps this until the next probe, and a certificate is
	// usually seen on many addresses: keep one copy of each name.
	info.LeafSubject = unique.Make(leaf.Subject.String()).Value()
	info.LeafIssuer = unique.Make(leaf.Issuer.String()).Value()
	info.LeafDNSNames = make([]string, len(leaf.DNSNames))
	for i, name := range leaf.DNSNames {
		info.LeafDNSNames[i] = unique.Make(name).Value()
	}
	info.LeafNotBefore = leaf.NotBefore
	info.LeafNotAfter = leaf.NotAfter
	info.ChainNotAfter = earliestExpiry(certs)

	key := keyOf(certs, serverName, roots)
	if notAfter, ok := cachedVerify(key, now); ok {
		info.Verified, info.ChainNotAfter = true, notAfter
		return info
	}
	intermediates := x509.NewCertPool()
	for _, c := range certs[1:] {
		intermediates.AddCert(c)
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		DNSName:       serverName,
		Roots:         roots,
		Intermediates: intermediates,
		CurrentTime:   now,
	})
	if err != nil {
		info.VerifyError = unique.Make(describe(err)).Value()
		return info
	}
	info.Verified = true
	if len(chains) > 0 {
		info.ChainNotAfter = earliestExpiry(chains[0])
		keepVerified(key, chains[0])
	}
	return info
}

func earliestExpiry(certs []*x509.Certificate) time.Time {
	var earliest time.Time
	for _, c := range certs {
		if earliest.IsZero() || c.NotAfter.Before(earliest) {
			earliest = c.NotAfter
		}
	}
	return earliest
}

// describe puts x509's errors in the words an on-call reader needs; none of
// the library's own text ("x509: ...") reaches a person.
func describe(err error) string {
	var unknown x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var constraints x509.ConstraintViolationError
	switch {
	case errors.As(err, &unknown):
		return "certificate signed by unknown authority"
	case errors.As(err, &hostname):
		names := hostname.Certificate.DNSNames
		if len(names) > 5 {
			names = append(names[:5:5], "…")
		}
		return fmt.Sprintf("certificate is not valid for %s (names: %s)", hostname.Host, strings.Join(names, ", "))
	case errors.As(err, &invalid):
		return invalidReason(invalid.Reason)
	case errors.As(err, &constraints):
		return "a certificate of the chain is not allowed to sign others"
	}
	return "certificate chain does not verify"
}

func invalidReason(r x509.InvalidReason) string {
	switch r {
	case x509.Expired:
		return "certificate has expired or is not yet valid"
	case x509.NotAuthorizedToSign:
		return "the chain has a certificate that is not allowed to sign others"
	case x509.CANotAuthorizedForThisName, x509.CANotAuthorizedForExtKeyUsage:
		return "the issuing CA may not issue this certificate (name or key usage constraints)"
	case x509.TooManyIntermediates:
		return "the chain has too many intermediate certificates"
	case x509.IncompatibleUsage:
		return "certificate is not for server authentication (extended key usage)"
	case x509.NameMismatch:
		return "issuer and subject names of the chain do not match"
	case x509.NameConstraintsWithoutSANs, x509.UnconstrainedName:
		return "certificate names break the issuing CA's name constraints"
	case x509.TooManyConstraints:
		return "the chain has too many name constraints to check"
	}
	return "certificate is invalid"
}
