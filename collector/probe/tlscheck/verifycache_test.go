package tlscheck

import (
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"
	"time"
)

// TestVerifyCache: a chain that verified is not verified again while the
// time stays inside its certificates' validity; outside it, for another
// name, other roots or other certificates, it is, and failures are not kept.
func TestVerifyCache(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	ca, leaf := chain(t, now.Add(-time.Hour), now.Add(24*time.Hour), now.Add(48*time.Hour))
	_, otherLeaf := chain(t, now.Add(-time.Hour), now.Add(24*time.Hour), now.Add(48*time.Hour))
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	state := func(certs ...*x509.Certificate) tls.ConnectionState {
		return tls.ConnectionState{Version: tls.VersionTLS13, PeerCertificates: certs}
	}
	key := keyOf([]*x509.Certificate{leaf}, "mx.tls.test", roots)
	if _, ok := cachedVerify(key, now); ok {
		t.Fatal("a verification is kept before any was made")
	}

	if info := Inspect(state(leaf), "mx.tls.test", roots, now); !info.Verified {
		t.Fatalf("first inspection: %q, want verified", info.VerifyError)
	}
	if end, ok := cachedVerify(key, now.Add(time.Hour)); !ok || !end.Equal(leaf.NotAfter) {
		t.Fatalf("kept verification: %v %v, want one ending %v", end, ok, leaf.NotAfter)
	}
	if info := Inspect(state(leaf), "mx.tls.test", roots, now.Add(time.Hour)); !info.Verified || !info.ChainNotAfter.Equal(leaf.NotAfter) {
		t.Fatalf("second inspection: verified %v (%q), chain end %v; want verified until %v", info.Verified, info.VerifyError, info.ChainNotAfter, leaf.NotAfter)
	}

	for _, tc := range []struct {
		name       string
		certs      []*x509.Certificate
		serverName string
		roots      *x509.CertPool
		at         time.Time
		wantErr    string
	}{
		{"past the leaf's expiry", []*x509.Certificate{leaf}, "mx.tls.test", roots, now.Add(30 * time.Hour), "expired"},
		{"before the leaf's start", []*x509.Certificate{leaf}, "mx.tls.test", roots, now.Add(-2 * time.Hour), "not yet valid"},
		{"another name", []*x509.Certificate{leaf}, "mx.other.test", roots, now, "not valid for mx.other.test"},
		{"other roots", []*x509.Certificate{leaf}, "mx.tls.test", x509.NewCertPool(), now, "unknown authority"},
		{"another leaf of another CA", []*x509.Certificate{otherLeaf}, "mx.tls.test", roots, now, "unknown authority"},
		{"the leaf with an intermediate after it", []*x509.Certificate{leaf, otherLeaf}, "mx.tls.test", x509.NewCertPool(), now, "unknown authority"},
	} {
		info := Inspect(state(tc.certs...), tc.serverName, tc.roots, tc.at)
		if info.Verified || !strings.Contains(info.VerifyError, tc.wantErr) {
			t.Fatalf("%s: verified %v (%q), want %q", tc.name, info.Verified, info.VerifyError, tc.wantErr)
		}
		if k := keyOf(tc.certs, tc.serverName, tc.roots); k == key {
			continue // the success kept above, outside its time
		} else if _, ok := cachedVerify(k, now); ok {
			t.Fatalf("%s: a failure was kept", tc.name)
		}
	}
	if k := keyOf([]*x509.Certificate{leaf, otherLeaf}, "mx.tls.test", roots); k == key {
		t.Fatal("an intermediate does not change the key")
	}
}
