package testenv

import (
	"bufio"
	"crypto"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// validating asks the validating unbound, with DO set and CD as given.
func validating(t *testing.T, env *Env, name string, qtype uint16, cd bool) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.SetEdns0(1232, true)
	m.CheckingDisabled = cd
	c := &dns.Client{Timeout: 5 * time.Second}
	r, _, err := c.Exchange(m, env.ValidatingResolver)
	if err != nil {
		t.Fatalf("%s %s (CD %v) @%s: %v", name, dns.TypeToString[qtype], cd, env.ValidatingResolver, err)
	}
	return r
}

// tlsa returns the TLSA records of the answer as "usage selector type hexdata".
func tlsa(r *dns.Msg) []string {
	var out []string
	for _, rr := range r.Answer {
		if t, ok := rr.(*dns.TLSA); ok {
			out = append(out, fmt.Sprintf("%d %d %d %s", t.Usage, t.Selector, t.MatchingType, strings.ToLower(t.Certificate)))
		}
	}
	return out
}

func spkiHash(spki []byte) string {
	h := sha256.Sum256(spki)
	return hex.EncodeToString(h[:])
}

// servedCertificate does EHLO and STARTTLS on addr, and returns the leaf certificate
// the server presents (not verified: DANE-EE does not need it to be).
func servedCertificate(t *testing.T, addr string) *x509.Certificate {
	t.Helper()
	s := dial(t, addr)
	s.reply()
	s.cmd("EHLO probe.test", "250 ")
	s.cmd("STARTTLS", "220 2.0.0")
	tc := tls.Client(s.conn, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		t.Fatalf("TLS handshake with %s: %v", addr, err)
	}
	s.conn, s.r = tc, bufio.NewReader(tc)
	s.cmd("QUIT", "221 2.0.0")
	return tc.ConnectionState().PeerCertificates[0]
}

func TestValidatingResolver(t *testing.T) {
	env := Require(t)
	if env.ValidatingResolver != "127.0.53.2:53" {
		t.Fatalf("ValidatingResolver = %q", env.ValidatingResolver)
	}
	for _, tc := range []struct {
		name  string
		qtype uint16
		cd    bool
		rcode int
		ad    bool
		data  bool
	}{
		{"ee.dnssec.test", dns.TypeMX, false, dns.RcodeSuccess, true, true},
		{"mx.ee.dnssec.test", dns.TypeA, false, dns.RcodeSuccess, true, true},
		{"_25._tcp.mx.ee.dnssec.test", dns.TypeTLSA, false, dns.RcodeSuccess, true, true},
		{"_25._tcp.mx.secure.dnssec.test", dns.TypeTLSA, false, dns.RcodeNameError, true, false},
		{"_25._tcp.mx.bogus.dnssec.test", dns.TypeTLSA, false, dns.RcodeServerFailure, false, false},
		{"_25._tcp.mx.bogus.dnssec.test", dns.TypeTLSA, true, dns.RcodeSuccess, false, true},
		{"_25._tcp.mx.unsigned.test", dns.TypeTLSA, false, dns.RcodeSuccess, false, true},
		{"good.test", dns.TypeMX, false, dns.RcodeSuccess, false, true},
	} {
		r := validating(t, env, tc.name, tc.qtype, tc.cd)
		if r.Rcode != tc.rcode || r.AuthenticatedData != tc.ad || (len(r.Answer) > 0) != tc.data {
			t.Errorf("%s %s (CD %v): rcode %s, AD %v, %d answers; want %s, AD %v, data %v",
				tc.name, dns.TypeToString[tc.qtype], tc.cd, dns.RcodeToString[r.Rcode], r.AuthenticatedData,
				len(r.Answer), dns.RcodeToString[tc.rcode], tc.ad, tc.data)
		}
	}
}

func TestTLSAData(t *testing.T) {
	env := Require(t)
	served := servedCertificate(t, env.Listener("mx.tls.test").Addr)
	ee := spkiHash(served.RawSubjectPublicKeyInfo)

	caPEM, err := os.ReadFile(env.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(caPEM)
	ca, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := os.ReadFile(env.NextKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := pem.Decode(keyPEM)
	nk, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	nextSPKI, err := x509.MarshalPKIXPublicKey(nk.(crypto.Signer).Public())
	if err != nil {
		t.Fatal(err)
	}
	next := spkiHash(nextSPKI)
	if next == ee {
		t.Fatal("the next key is the served key")
	}

	for host, want := range map[string][]string{
		"mx.ee.dnssec.test":       {"3 1 1 " + ee},
		"mx.rollover.dnssec.test": {"3 1 1 " + ee, "3 1 1 " + next},
		"mx.mismatch.dnssec.test": {"3 1 1 " + next},
		"mx.ta.dnssec.test":       {"2 1 1 " + spkiHash(ca.RawSubjectPublicKeyInfo)},
		"mx.pkix.dnssec.test":     {"1 1 1 " + ee},
		"mx.notls.dnssec.test":    {"3 1 1 " + ee},
		"mx.unsigned.test":        {"3 1 1 " + ee},
	} {
		r := validating(t, env, "_25._tcp."+host, dns.TypeTLSA, false)
		got := tlsa(r)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("_25._tcp.%s TLSA = %q, want %q", host, got, want)
		}
	}
	// The bogus RRset holds the right data: only its signature is broken.
	if got := tlsa(validating(t, env, "_25._tcp.mx.bogus.dnssec.test", dns.TypeTLSA, true)); len(got) != 1 || got[0] != "3 1 1 "+ee {
		t.Errorf("_25._tcp.mx.bogus.dnssec.test TLSA (CD) = %q, want 3 1 1 %s", got, ee)
	}
	// Every DANE MX name is in the served certificate, for DANE-TA and PKIX checks.
	for _, host := range []string{"mx.ee.dnssec.test", "mx.ta.dnssec.test", "mx.unsigned.test", "mx.tls.test", "mx1.good.test"} {
		if err := served.VerifyHostname(host); err != nil {
			t.Errorf("served certificate: %v", err)
		}
	}
	if _, err := served.Verify(x509.VerifyOptions{Roots: env.CAPool, DNSName: "mx.ta.dnssec.test"}); err != nil {
		t.Errorf("served certificate does not chain to the test CA: %v", err)
	}
}
