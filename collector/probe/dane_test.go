package probe

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe/dane"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/testenv"
	"github.com/mx-exporter/mx_exporter/collector/testenv/fakedns"
)

// TestDecide: what DNS alone decides of a TLSA lookup (RFC 7672 section
// 2.2), and the records handed to the dialogues otherwise.
func TestDecide(t *testing.T) {
	rec := dane.TLSA{Usage: dane.DANEEE, Selector: dane.SelectorSPKI, MatchingType: dane.MatchSHA256, Data: bytes.Repeat([]byte{0xab}, 32)}
	const host, owner = "mx.example.test", "_25._tcp.mx.example.test"
	for _, tc := range []struct {
		name   string
		lookup dnsmx.TLSALookup
		status dane.Status
		detail string // a part of Detail
		judged bool   // Records handed over to be matched
	}{
		{"secure records", dnsmx.TLSALookup{Outcome: dnsmx.OutcomeAnswer, Security: dnsmx.SecuritySecure, Records: []dane.TLSA{rec}},
			"", "", true},
		// A sender ignores an insecure RRset (RFC 7672 section 2.2.2):
		// its records are not judged, whatever they say.
		{"insecure records", dnsmx.TLSALookup{Outcome: dnsmx.OutcomeAnswer, Security: dnsmx.SecurityInsecure, Records: []dane.TLSA{rec}},
			dane.StatusInsecure, "answered without DNSSEC validation (insecure): DANE does not apply", false},
		{"insecure denial", dnsmx.TLSALookup{Outcome: dnsmx.OutcomeNXDomain, Security: dnsmx.SecurityInsecure},
			dane.StatusInsecure, "(insecure)", false},
		{"secure denial", dnsmx.TLSALookup{Outcome: dnsmx.OutcomeNXDomain, Security: dnsmx.SecuritySecure},
			dane.StatusNoTLSA, "secure denial", false},
		{"secure nodata", dnsmx.TLSALookup{Outcome: dnsmx.OutcomeNoData, Security: dnsmx.SecuritySecure},
			dane.StatusNoTLSA, "no TLSA records", false},
		{"bogus", dnsmx.TLSALookup{Outcome: dnsmx.OutcomeServFail, Security: dnsmx.SecurityBogus, Err: "SERVFAIL from 127.0.53.2:53; DNSSEC validation failed (bogus)"},
			dane.StatusTLSABogus, "DNSSEC validation failed (bogus)", false},
		// A SERVFAIL that the CD bit does not cure is no proof of bad
		// signatures, but a DANE sender defers all the same.
		{"servfail", dnsmx.TLSALookup{Outcome: dnsmx.OutcomeServFail, Security: dnsmx.SecurityUnknown, Err: "SERVFAIL from 127.0.53.2:53"},
			dane.StatusTLSALookupFailed, "failed: SERVFAIL from 127.0.53.2:53: DANE senders defer mail", false},
		{"timeout", dnsmx.TLSALookup{Outcome: dnsmx.OutcomeTimeout, Security: dnsmx.SecurityUnknown, Err: "no reply from 127.0.53.2:53 (timeout)"},
			dane.StatusTLSALookupFailed, "(timeout)", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := tc.lookup
			l.BaseDomain, l.Name = host, owner
			p := &dane.Policy{Mode: dane.ModeEnforce, BaseDomain: host}
			decide(p, host, l)
			if p.Status != tc.status || !strings.Contains(p.Detail, tc.detail) {
				t.Fatalf("status %q detail %q; want %q with %q", p.Status, p.Detail, tc.status, tc.detail)
			}
			if p.TLSAName != owner {
				t.Errorf("TLSA name %q, want %q", p.TLSAName, owner)
			}
			if judged := len(p.Records) > 0; judged != tc.judged {
				t.Errorf("records handed over: %v, want %v", judged, tc.judged)
			}
			if tc.judged && (len(p.Names) != 1 || p.Names[0] != host) {
				t.Errorf("reference names %v, want [%s]", p.Names, host)
			}
		})
	}
}

// logLines are the lines of buf that say msg.
func logLines(buf *testenv.LockedBuffer, msg string) int {
	return strings.Count(buf.String(), "msg=\""+msg+"\"")
}

// TestValidationLoggedOnce: a trusted resolver that fails its self-check is
// logged once, not by every probe that reads the check, and once again
// when it validates again. The domain has a null MX: nothing is dialled.
func TestValidationLoggedOnce(t *testing.T) {
	const (
		warn = "resolver does not validate DNSSEC: DANE is not checked"
		info = "resolver validates DNSSEC: DANE is checked"
	)
	z := &fakedns.Zone{Records: fakedns.Parse(t, `
sig.fake.        SOA ns.sig.fake. hostmaster.sig.fake. 1 3600 600 86400 60
nullmx.sig.fake. MX  0 .
`), Signed: []string{"sig.fake."}}
	z.NoAD.Store(true)
	srv := fakedns.Serve(t, z)

	// The bubble's clock lets the failed check's retry interval pass at
	// once; the fake server stays outside it.
	synctest.Test(t, func(t *testing.T) {
		var buf testenv.LockedBuffer
		p := &Prober{Logger: slog.New(slog.NewTextHandler(&buf, nil))}
		r, err := dnsmx.NewResolver([]string{srv}, time.Second, 1)
		if err != nil {
			t.Fatal(err)
		}
		r.EnableValidation("sig.fake.")
		s := Settings{Resolver: r, Timeout: 10 * time.Second, DANE: dane.ModeEnforce}
		probes := func() {
			var wg sync.WaitGroup
			for range 5 {
				wg.Go(func() {
					if rep := p.Probe(context.Background(), Target{Domain: "nullmx.sig.fake"}, s); !rep.DNS.NullMX {
						t.Errorf("MX lookup %+v, want a null MX", rep.DNS)
					}
				})
			}
			wg.Wait()
			for range 3 {
				p.Probe(context.Background(), Target{Domain: "nullmx.sig.fake"}, s)
			}
		}

		probes()
		if w, i := logLines(&buf, warn), logLines(&buf, info); w != 1 || i != 0 {
			t.Fatalf("not validating, 8 probes: %d warnings, %d infos, want 1 and 0; log:\n%s", w, i, buf.String())
		}
		z.NoAD.Store(false)
		// Past the retry interval of a failed check, within the refresh
		// of a passed one.
		time.Sleep(time.Minute)
		probes()
		if w, i := logLines(&buf, warn), logLines(&buf, info); w != 1 || i != 1 {
			t.Fatalf("validating again, 8 more probes: %d warnings, %d infos in all, want 1 and 1; log:\n%s", w, i, buf.String())
		}
		z.NoAD.Store(true)
		time.Sleep(10 * time.Minute)
		probes()
		if w, i := logLines(&buf, warn), logLines(&buf, info); w != 2 || i != 1 {
			t.Fatalf("failing again, 8 more probes: %d warnings, %d infos in all, want 2 and 1; log:\n%s", w, i, buf.String())
		}
	})
}
