package dane

import (
	"bytes"
	"crypto/x509"
	"strings"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/dnsname"
)

// maxPath bounds the path search: no sane server sends more intermediates,
// and the bound keeps a hostile chain from costing more than a few checks.
const maxPath = 8

// anchor is a trust anchor for a DANE-TA record: a public key, and the
// subject name when the anchor came as a certificate.
type anchor struct {
	spki []byte
	key  any
	cert *x509.Certificate // nil for a bare key
}

// anchors are the trust anchors a DANE-TA record designates: presented
// certificates the record matches and, for a full (matching type 0) record,
// the certificate or key in the record itself, which RFC 7671 section 5.2.2
// lets the server leave out of the handshake. A digest record whose TA is
// not presented designates nothing the client can use.
func anchors(r TLSA, chain []*x509.Certificate) []anchor {
	var as []anchor
	for _, c := range chain {
		if r.matches(c) {
			as = append(as, anchor{c.RawSubjectPublicKeyInfo, c.PublicKey, c})
		}
	}
	if len(as) > 0 || r.MatchingType != MatchFull {
		return as
	}
	switch r.Selector {
	case SelectorCert:
		if c, err := x509.ParseCertificate(r.Data); err == nil {
			as = append(as, anchor{c.RawSubjectPublicKeyInfo, c.PublicKey, c})
		}
	case SelectorSPKI:
		if k, err := x509.ParsePKIXPublicKey(r.Data); err == nil {
			as = append(as, anchor{r.Data, k, nil})
		}
	}
	return as
}

// matchTA judges a DANE-TA record (RFC 7671 section 5.2, RFC 7672 section
// 3.1.2).
//
// Validity periods: the trust anchor's own is not checked. RFC 7671 section
// 5.2.2 treats a DANE-TA anchor as a public key (it may be published as a
// bare SPKI), and a trust anchor in RFC 5280 path validation (section 6.1.1,
// input d) is a name and a key, with no validity period of its own; a TA
// certificate that has expired still anchors. Every other certificate of the
// path, the leaf and the intermediates, is checked at Options.Now, as PKIX
// path validation does for everything below the anchor: RFC 7672 section
// 3.1.2 treats what lies below a DANE-TA anchor as an ordinary chain (with
// the name checks of section 3.2), and only DANE-EE is exempted from dates
// (RFC 7672 section 3.1.1, RFC 7671 section 5.1). A leaf that is itself the
// TA is an anchor and is not checked either.
//
// Path: from the leaf, through presented certificates whose subject is the
// issuer of the one below and whose signature verifies
// (x509.Certificate.CheckSignatureFrom, which also wants the CA flag and key
// usage of an intermediate), to a certificate whose key is the anchor's or
// whose signature the anchor's key verifies. Certificate policies, name
// constraints, path length and extended key usage are not checked: a
// stricter sender may refuse a chain this package accepts on those grounds.
//
// The second result says that the anchor used is a certificate outside its
// validity period: not a failure by the rule above, but worth a warning,
// because a sender whose X.509 library checks every certificate's dates
// (Go's x509.Verify with the TA as a root does) would fail.
func matchTA(r TLSA, chain []*x509.Certificate, o Options) (TAFailure, bool) {
	if len(chain) == 0 {
		return TANotSent, false
	}
	as := anchors(r, chain)
	if len(as) == 0 {
		return TANotSent, false
	}
	used := pathFrom(chain[0], chain, as, o.Now, true, map[*x509.Certificate]bool{}, 0)
	if used < 0 {
		if pathFrom(chain[0], chain, as, o.Now, false, map[*x509.Certificate]bool{}, 0) >= 0 {
			return TAChainExpired, false
		}
		return TAChainInvalid, false
	}
	if !nameMatches(chain[0], o.Names) {
		return TANameMismatch, false
	}
	ta := as[used].cert
	return TAOK, ta != nil && (o.Now.Before(ta.NotBefore) || o.Now.After(ta.NotAfter))
}

// pathFrom is the index of the anchor a path from c reaches, or -1.
func pathFrom(c *x509.Certificate, chain []*x509.Certificate, as []anchor, now time.Time, checkTime bool, seen map[*x509.Certificate]bool, depth int) int {
	for i, a := range as {
		if bytes.Equal(c.RawSubjectPublicKeyInfo, a.spki) {
			return i // c is the TA
		}
	}
	if checkTime && (now.Before(c.NotBefore) || now.After(c.NotAfter)) {
		return -1
	}
	for i, a := range as {
		if a.cert != nil && !bytes.Equal(c.RawIssuer, a.cert.RawSubject) {
			continue
		}
		if (&x509.Certificate{PublicKey: a.key}).CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil {
			return i
		}
	}
	if depth >= maxPath {
		return -1
	}
	seen[c] = true
	defer delete(seen, c)
	for _, p := range chain {
		if seen[p] || !bytes.Equal(p.RawSubject, c.RawIssuer) || c.CheckSignatureFrom(p) != nil {
			continue
		}
		if i := pathFrom(p, chain, as, now, checkTime, seen, depth+1); i >= 0 {
			return i
		}
	}
	return -1
}

// nameMatches checks the leaf against the reference identifiers as RFC 7672
// section 3.2.3 says: the subjectAltName DNS names when there are any, else
// the subject common name; a "*" that is the whole left-most label matches
// exactly one label. Comparison is case-insensitive and ignores a trailing
// dot (dnsname.Normalize).
func nameMatches(leaf *x509.Certificate, names []string) bool {
	ids := leaf.DNSNames
	if len(ids) == 0 && leaf.Subject.CommonName != "" {
		ids = []string{leaf.Subject.CommonName}
	}
	for _, n := range names {
		n = dnsname.Normalize(n)
		if n == "" {
			continue
		}
		for _, id := range ids {
			if namePattern(dnsname.Normalize(id), n) {
				return true
			}
		}
	}
	return false
}

func namePattern(pattern, name string) bool {
	if pattern == name {
		return true
	}
	rest, ok := strings.CutPrefix(pattern, "*.")
	if !ok || rest == "" {
		return false
	}
	i := strings.IndexByte(name, '.')
	return i > 0 && name[i+1:] == rest
}
