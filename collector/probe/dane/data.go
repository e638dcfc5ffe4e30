package dane

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"fmt"
)

// Data is the certificate association data a record with this selector and
// matching type carries for cert (RFC 6698 section 2.1.2 and 2.1.3): the DER
// of the whole certificate or of its SubjectPublicKeyInfo, as is or hashed.
// Test environments use it to publish records for their certificates.
func Data(cert *x509.Certificate, s Selector, m MatchingType) ([]byte, error) {
	if cert == nil {
		return nil, fmt.Errorf("tlsa data: no certificate")
	}
	var b []byte
	switch s {
	case SelectorCert:
		b = cert.Raw
	case SelectorSPKI:
		b = cert.RawSubjectPublicKeyInfo
	default:
		return nil, fmt.Errorf("tlsa data: %w %d", ErrUnknownSelector, s)
	}
	switch m {
	case MatchFull:
		return bytes.Clone(b), nil
	case MatchSHA256:
		d := sha256.Sum256(b)
		return d[:], nil
	case MatchSHA512:
		d := sha512.Sum512(b)
		return d[:], nil
	}
	return nil, fmt.Errorf("tlsa data: %w %d", ErrUnknownMatchingType, m)
}

// Record is the TLSA record of the given parameters for cert.
func Record(u Usage, cert *x509.Certificate, s Selector, m MatchingType) (TLSA, error) {
	d, err := Data(cert, s, m)
	if err != nil {
		return TLSA{}, err
	}
	return TLSA{u, s, m, d}, nil
}

// matches says whether the record's data is that of cert, whatever the usage.
// The record must be well formed.
func (r TLSA) matches(cert *x509.Certificate) bool {
	d, err := Data(cert, r.Selector, r.MatchingType)
	return err == nil && bytes.Equal(d, r.Data)
}
