package smtp

// DANE in the dialogue against the real Postfix of collector/testenv: what a
// real server can show is tested here, not against a fake. The policies are
// built by hand from the test keys, as the probe engine builds them from the
// signed zone; the DNS side is the engine's, tested there.

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe/dane"
	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// readCert reads the one certificate of a PEM file.
func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

// nextKeyRecord is the DANE-EE SHA2-256 record of the public key of the
// key no server uses yet.
func nextKeyRecord(t *testing.T, path string) dane.TLSA {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	spki, err := x509.MarshalPKIXPublicKey(k.(crypto.Signer).Public())
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(spki)
	return dane.TLSA{Usage: dane.DANEEE, Selector: dane.SelectorSPKI, MatchingType: dane.MatchSHA256, Data: sum[:]}
}

func TestProbeDANEPostfix(t *testing.T) {
	env := testenv.Require(t)
	env.LogOnFailure(t)
	served := readCert(t, filepath.Join(env.Dir, "tls", "server.pem"))
	ca := readCert(t, env.CAFile)
	record := func(u dane.Usage, c *x509.Certificate) dane.TLSA {
		r, err := dane.Record(u, c, dane.SelectorSPKI, dane.MatchSHA256)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	ee, ta, next := record(dane.DANEEE, served), record(dane.DANETA, ca), nextKeyRecord(t, env.NextKeyFile)

	tests := []struct {
		name    string
		host    string // listener
		base    string // TLSA base domain, as the signed zone has it
		records []dane.TLSA
		want    Reason
		status  dane.Status
		steps   []string // the dialogue's steps, when they matter
	}{
		{
			name: "3 1 1 of the served key: pass", host: "mx.tls.test", base: "mx.ee.dnssec.test",
			records: []dane.TLSA{ee}, want: ReasonNone, status: dane.StatusPass,
		},
		{
			name: "current and next key: pass", host: "mx.tls.test", base: "mx.rollover.dnssec.test",
			records: []dane.TLSA{ee, next}, want: ReasonNone, status: dane.StatusPass,
		},
		{
			name: "next key only: mismatch, QUIT inside TLS", host: "mx.tls.test", base: "mx.mismatch.dnssec.test",
			records: []dane.TLSA{next}, want: ReasonDANEMismatch, status: dane.StatusMismatch,
			steps: []string{StepConnect, StepBanner, StepEHLO, StepStartTLS, StepTLSHandshake, StepQuit},
		},
		{
			name: "2 1 1 of the CA, Postfix sends its leaf only: TA not sent", host: "mx.tls.test", base: "mx.ta.dnssec.test",
			records: []dane.TLSA{ta}, want: ReasonDANEMismatch, status: dane.StatusTANotSent,
			steps: []string{StepConnect, StepBanner, StepEHLO, StepStartTLS, StepTLSHandshake, StepQuit},
		},
		{
			name: "no STARTTLS: no envelope in clear", host: "mx2.good.test", base: "mx2.good.test",
			records: []dane.TLSA{ee}, want: ReasonDANEStartTLSMissing, status: dane.StatusStartTLSMissing,
			steps: []string{StepConnect, StepBanner, StepEHLO, StepQuit},
		},
		{
			name: "STARTTLS answered 454: no plaintext", host: "mx.notls.test", base: "mx.notls.dnssec.test",
			records: []dane.TLSA{ee}, want: ReasonStartTLSFailed, status: dane.StatusTLSFailed,
			steps: []string{StepConnect, StepBanner, StepEHLO, StepStartTLS, StepQuit},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := env.Listener(tt.host)
			opts := Options{
				EHLOName:   "probe.mx-exporter.test",
				Recipients: []string{"postmaster@" + l.Domain},
				RelayCheck: env.RelayAddress,
				RootCAs:    env.CAPool,
				DANE: &dane.Policy{
					Mode: dane.ModeEnforce, TLSAName: "_25._tcp." + tt.base, BaseDomain: tt.base,
					Names: []string{tt.base, tt.host}, Records: tt.records,
				},
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()

			r := Probe(ctx, tt.host, l.IP, opts)

			if r.Reason != tt.want {
				t.Fatalf("reason %q (detail %q), want %q\n%s", r.Reason, r.Detail, tt.want, formatTranscript(r))
			}
			if r.DANE == nil || r.DANE.Status != tt.status {
				t.Fatalf("DANE %+v, want %q\n%s", r.DANE, tt.status, formatTranscript(r))
			}
			if tt.steps != nil && !slices.Equal(stepNames(r), tt.steps) {
				t.Fatalf("steps %q, want %q\n%s", stepNames(r), tt.steps, formatTranscript(r))
			}
			if tt.want == ReasonNone && (len(r.Recipients) != 1 || !r.Recipients[0].Accepted || r.TLS == nil || !r.TLS.Verified) {
				t.Fatalf("recipients %+v, TLS %+v: want the whole dialogue inside a verified TLS session\n%s", r.Recipients, r.TLS, formatTranscript(r))
			}
			if q := r.Step(StepQuit); q == nil || q.Reply.Code != 221 {
				t.Fatalf("QUIT %+v, want 221: a DANE sender that stops still says goodbye", q)
			}
		})
	}
}
