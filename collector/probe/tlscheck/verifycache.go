package tlscheck

import (
	"crypto/sha256"
	"crypto/x509"
	"sync"
	"time"
)

// Verifying a chain costs an RSA or ECDSA signature check per link, a
// good share of a STARTTLS dialogue's CPU, and the same certificate is seen
// again at every probe and, behind a hosted MX farm, on thousands of
// addresses. Whether a chain verifies is a function of the presented
// certificates, the name, the roots and the time alone, and the time
// matters only through the validity periods of the chain's certificates:
// a chain that verified stays verified while the time is inside all of
// them. So successes are kept, with that window, and a presented chain is
// verified again as soon as the time leaves it; failures are not kept.

// verifyKey names one verification: the presented certificates (leaf and
// intermediates, in order), the name and the root pool (nil: the system's).
type verifyKey struct {
	certs      [sha256.Size]byte
	serverName string
	roots      *x509.CertPool
}

// verified is a kept success: the chain found and the time it holds for.
type verified struct {
	notBefore, notAfter time.Time
}

// verifyCacheMax bounds the kept verifications; when full it starts over.
const verifyCacheMax = 4096

var verifyCache = struct {
	sync.Mutex
	m map[verifyKey]verified
}{m: make(map[verifyKey]verified)}

func keyOf(certs []*x509.Certificate, serverName string, roots *x509.CertPool) verifyKey {
	h := sha256.New()
	for _, c := range certs {
		// The length first: certificates cannot run into one another.
		n := len(c.Raw)
		h.Write([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
		h.Write(c.Raw)
	}
	k := verifyKey{serverName: serverName, roots: roots}
	h.Sum(k.certs[:0])
	return k
}

// cachedVerify returns the earliest expiry of a kept chain for key that
// holds at now.
func cachedVerify(key verifyKey, now time.Time) (time.Time, bool) {
	verifyCache.Lock()
	v, ok := verifyCache.m[key]
	verifyCache.Unlock()
	if !ok || now.Before(v.notBefore) || now.After(v.notAfter) {
		return time.Time{}, false
	}
	return v.notAfter, true
}

// keepVerified keeps chain, which verified, for key.
func keepVerified(key verifyKey, chain []*x509.Certificate) {
	var v verified
	for _, c := range chain {
		if v.notBefore.IsZero() || c.NotBefore.After(v.notBefore) {
			v.notBefore = c.NotBefore
		}
		if v.notAfter.IsZero() || c.NotAfter.Before(v.notAfter) {
			v.notAfter = c.NotAfter
		}
	}
	verifyCache.Lock()
	defer verifyCache.Unlock()
	if len(verifyCache.m) >= verifyCacheMax {
		clear(verifyCache.m)
	}
	verifyCache.m[key] = v
}
