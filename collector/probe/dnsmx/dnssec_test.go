package dnsmx

// The tests of this file run against fakedns.Zone playing a validating
// resolver (see its package for why fakes): AD per zone, SERVFAIL with and without
// data under CD, timeouts, a slow or flipping self-check. The real unbound
// is asked in integration_test.go.

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mx-exporter/mx_exporter/collector/probe/dane"
	"github.com/mx-exporter/mx_exporter/collector/testenv/fakedns"
)

// A SHA-256 worth of association data, and a record of it.
var (
	digest32 = strings.Repeat("ab", 32)
	tlsa311  = "3 1 1 " + digest32
)

// secRecords: "sig.fake." is signed (AD), "plain.fake." is not. Names in
// bogusNames fail validation; those in brokenNames fail with CD too (names,
// or a type and a name: see fakedns.Zone.Fail for the form).
var secRecords = `
sig.fake.                       SOA   ns.sig.fake. hostmaster.sig.fake. 1 3600 600 86400 60
sig.fake.                       MX    10 mx.sig.fake.
mx.sig.fake.                    A     127.0.2.1
mx.sig.fake.                    AAAA  ::1
_25._tcp.mx.sig.fake.           TLSA  ` + tlsa311 + `
implicit.sig.fake.              A     127.0.2.2
badmx.sig.fake.                 MX    10 mx.sig.fake.
deadmx.sig.fake.                MX    10 mx.sig.fake.
mixed.sig.fake.                 MX    10 badaaaa.sig.fake.
mixed.sig.fake.                 MX    20 deadaaaa.sig.fake.
badaaaa.sig.fake.               A     127.0.2.3
badaaaa.sig.fake.               AAAA  ::1
deadaaaa.sig.fake.              A     127.0.2.4
deadaaaa.sig.fake.              AAAA  ::1
toplain.sig.fake.               MX    10 alias.sig.fake.
alias.sig.fake.                 CNAME mx.plain.fake.
tosig.sig.fake.                 MX    10 alias2.sig.fake.
alias2.sig.fake.                CNAME mx.sig.fake.
plain.fake.                     MX    10 mx.plain.fake.
mx.plain.fake.                  A     127.0.2.5
_25._tcp.mx.plain.fake.         TLSA  ` + tlsa311 + `
_25._tcp.bad.sig.fake.          TLSA  ` + tlsa311 + `
_25._tcp.dead.sig.fake.         TLSA  ` + tlsa311 + `
bad.sig.fake.                   A     127.0.2.6
dead.sig.fake.                  A     127.0.2.6
odd.sig.fake.                   A     127.0.2.7
_25._tcp.odd.sig.fake.          TLSA  3 1 1 abcdef
_25._tcp.odd.sig.fake.          TLSA  7 1 1 ` + digest32 + `
_25._tcp.odd.sig.fake.          TLSA  3 1 2 ` + digest32 + `
_25._tcp.shared.sig.fake.       CNAME _25._tcp.mx.sig.fake.
_25._tcp.target.sig.fake.       TLSA  2 1 1 ` + digest32 + `
_25._tcp.plaintarget.plain.fake. TLSA ` + tlsa311 + `
_25._tcp.origin.sig.fake.       TLSA  ` + tlsa311 + `
_465._tcp.mx.sig.fake.          TLSA  3 0 1 ` + digest32 + `
`

var (
	bogusNames  = []string{"badmx.sig.fake.", "bad.sig.fake.", "_25._tcp.bad.sig.fake.", "AAAA badaaaa.sig.fake."}
	brokenNames = []string{"deadmx.sig.fake.", "_25._tcp.dead.sig.fake.", "AAAA deadaaaa.sig.fake."}
)

// newSecZone is a fake validating resolver for secRecords.
func newSecZone(t testing.TB, extra string) *fakedns.Zone {
	z := &fakedns.Zone{Records: fakedns.Parse(t, secRecords+extra), Signed: []string{"sig.fake."}}
	for _, n := range bogusNames {
		z.Bogus(n)
	}
	for _, n := range brokenNames {
		z.Fail(n, dns.RcodeServerFailure)
	}
	return z
}

// trusted returns a resolver of servers that trusts their AD bit.
func trusted(t testing.TB, check string, servers ...string) *Resolver {
	r := newTestResolver(t, time.Second, 1, servers...)
	r.EnableValidation(check)
	return r
}

// secSummary renders the DNSSEC side of a Domain.
func secSummary(d *Domain) string {
	s := fmt.Sprintf("%s mx=%s", d.Outcome, d.MXSecurity)
	for _, h := range d.Hosts {
		if h.Outcome == OutcomeAnswer {
			s += fmt.Sprintf(" [%s %s %s]", h.Name, h.Outcome, h.Security)
			continue
		}
		s += fmt.Sprintf(" [%s %v %s %s]", h.Name, h.Addrs, h.Outcome, h.Security)
	}
	return s
}

func TestSecurityFake(t *testing.T) {
	z := newSecZone(t, "")
	srv := fakedns.Serve(t, z)
	r := trusted(t, "sig.fake", srv)
	for _, tc := range []struct{ domain, want, err string }{
		{"sig.fake", "answer mx=secure [mx.sig.fake answer secure]", ""},
		{"plain.fake", "answer mx=insecure [mx.plain.fake answer insecure]", ""},
		// A secure denial is secure, an insecure one insecure.
		{"missing.sig.fake", "nxdomain mx=secure", ""},
		{"missing.plain.fake", "nxdomain mx=insecure", ""},
		// The implicit MX: MXSecurity is the state of the MX denial.
		{"implicit.sig.fake", "nodata mx=secure [implicit.sig.fake answer secure]", ""},
		// SERVFAIL that CD turns into data is bogus; the outcome stays
		// servfail, as a sender sees it.
		{"badmx.sig.fake", "servfail mx=bogus", "DNSSEC validation failed (bogus)"},
		{"deadmx.sig.fake", "servfail mx=unknown", ""},
		// One family bogus, one failing with CD too: the host is bogus or
		// unknown, though its A records are secure.
		{"mixed.sig.fake", "answer mx=secure [badaaaa.sig.fake [127.0.2.3] servfail bogus] [deadaaaa.sig.fake [127.0.2.4] servfail unknown]", ""},
		// A chain is secure only when every step is.
		{"toplain.sig.fake", "answer mx=secure [alias.sig.fake answer insecure]", ""},
		{"tosig.sig.fake", "answer mx=secure [alias2.sig.fake answer secure]", ""},
	} {
		d := r.Domain(testCtx(t, 10*time.Second), tc.domain, Options{IgnoreSpecialAddresses: true})
		if got := secSummary(d); got != tc.want {
			t.Errorf("Domain(%s): want %s, got %s (err %q)", tc.domain, tc.want, got, d.Err)
		}
		if tc.err != "" && !strings.Contains(d.Err, tc.err) {
			t.Errorf("Domain(%s): err %q does not say %q", tc.domain, d.Err, tc.err)
		}
	}
	want := "SERVFAIL from " + srv + "; DNSSEC validation failed (bogus): asked again with checking disabled (CD), " + srv + " answers NOERROR"
	if d := r.Domain(testCtx(t, 10*time.Second), "badmx.sig.fake", Options{}); d.Err != want {
		t.Errorf("bogus MX err:\nwant %q\ngot  %q", want, d.Err)
	}
	if got := z.Count("cd MX deadmx.sig.fake."); got != 1 {
		t.Errorf("CD queries for a SERVFAIL: want 1, got %d", got)
	}
	if got := z.Count("nodo"); got != 0 {
		t.Errorf("%d queries without the DO bit", got)
	}
}

// TestSecurityFakeCNAMEAcrossQueries: a server that answers the alias only
// makes the resolver ask for the target; the state is that of both replies.
func TestSecurityFakeCNAMEAcrossQueries(t *testing.T) {
	z := newSecZone(t, "")
	z.NoChase = true
	r := trusted(t, "", fakedns.Serve(t, z))
	d := r.Domain(testCtx(t, 10*time.Second), "toplain.sig.fake", Options{IgnoreSpecialAddresses: true})
	if got, want := secSummary(d), "answer mx=secure [alias.sig.fake answer insecure]"; got != want {
		t.Fatalf("want %s, got %s", want, got)
	}
	if d.Hosts[0].CNAME != "mx.plain.fake" || z.Count("udp A mx.plain.fake.") != 1 {
		t.Fatalf("the target was not asked on its own: cname %q, %d queries", d.Hosts[0].CNAME, z.Count("udp A mx.plain.fake."))
	}
	d = r.Domain(testCtx(t, 10*time.Second), "tosig.sig.fake", Options{IgnoreSpecialAddresses: true})
	if got, want := secSummary(d), "answer mx=secure [alias2.sig.fake answer secure]"; got != want {
		t.Fatalf("want %s, got %s", want, got)
	}
}

// TestSecurityUnchecked: without EnableValidation the AD bit means nothing,
// and a SERVFAIL is not asked again with CD.
func TestSecurityUnchecked(t *testing.T) {
	z := newSecZone(t, "")
	r := newTestResolver(t, time.Second, 1, fakedns.Serve(t, z))
	for domain, want := range map[string]string{
		"sig.fake":       "answer mx=unchecked [mx.sig.fake answer unchecked]",
		"plain.fake":     "answer mx=unchecked [mx.plain.fake answer unchecked]",
		"badmx.sig.fake": "servfail mx=unchecked",
		"no name..fake":  "error mx=unchecked",
	} {
		if got := secSummary(r.Domain(testCtx(t, 10*time.Second), domain, Options{IgnoreSpecialAddresses: true})); got != want {
			t.Errorf("Domain(%s): want %s, got %s", domain, want, got)
		}
	}
	if l := r.TLSA(testCtx(t, 10*time.Second), Host{Name: "mx.sig.fake"}, 25); l.Security != SecurityUnchecked || len(l.Records) != 1 {
		t.Errorf("TLSA: want 1 record, unchecked; got %d, %s", len(l.Records), l.Security)
	}
	if got := z.Total("cd "); got != 0 {
		t.Errorf("%d CD queries without EnableValidation", got)
	}
	if got := z.Count("nodo"); got != 0 {
		t.Errorf("%d queries without the DO bit", got)
	}
}

// TestSecurityAfterFailedCheck: while the self-check fails, a missing AD bit
// is no evidence of an unsigned zone nor a SERVFAIL of a bogus one: every
// state is unchecked, and no CD query is sent. A passed check brings the
// states back.
func TestSecurityAfterFailedCheck(t *testing.T) {
	z := newSecZone(t, "")
	r := trusted(t, "sig.fake", fakedns.Serve(t, z))
	r.valRetry = 0
	ctx := testCtx(t, 10*time.Second)
	z.NoAD.Store(true)
	if v := r.Validation(ctx); v.Validating {
		t.Fatalf("self-check passed without AD: %+v", v)
	}
	for domain, want := range map[string]string{
		"sig.fake":       "answer mx=unchecked [mx.sig.fake answer unchecked]",
		"plain.fake":     "answer mx=unchecked [mx.plain.fake answer unchecked]",
		"badmx.sig.fake": "servfail mx=unchecked",
		"no name..fake":  "error mx=unchecked",
	} {
		if got := secSummary(r.Domain(ctx, domain, Options{IgnoreSpecialAddresses: true})); got != want {
			t.Errorf("Domain(%s): want %s, got %s", domain, want, got)
		}
	}
	if h := r.Host(ctx, "mx.sig.fake", Options{IgnoreSpecialAddresses: true}); h.Security != SecurityUnchecked {
		t.Errorf("Host: want unchecked, got %s", h.Security)
	}
	if l := r.TLSA(ctx, Host{Name: "bad.sig.fake"}, 25); l.Security != SecurityUnchecked {
		t.Errorf("TLSA: want unchecked, got %s", l.Security)
	}
	if got := z.Total("cd "); got != 0 {
		t.Errorf("%d CD queries while the self-check fails", got)
	}

	z.NoAD.Store(false)
	if v := r.Validation(ctx); !v.Validating {
		t.Fatalf("self-check failed with AD back: %+v", v)
	}
	if got, want := secSummary(r.Domain(ctx, "sig.fake", Options{IgnoreSpecialAddresses: true})), "answer mx=secure [mx.sig.fake answer secure]"; got != want {
		t.Errorf("after a passed check: want %s, got %s", want, got)
	}
}

// TestSecurityFailures: no answer at all is unknown, never insecure.
func TestSecurityFailures(t *testing.T) {
	quiet, _ := fakedns.Silent(t)
	refusing := fakedns.Serve(t, &fakedns.Zone{Rcode: dns.RcodeRefused})
	for name, srv := range map[string]string{"timeout": quiet, "refused": refusing} {
		t.Run(name, func(t *testing.T) {
			r := newTestResolver(t, 100*time.Millisecond, 1, srv)
			r.EnableValidation("")
			d := r.Domain(testCtx(t, 10*time.Second), "sig.fake", Options{})
			if d.Outcome != Outcome(name) || d.MXSecurity != SecurityUnknown {
				t.Fatalf("want %s, unknown; got %s, %s", name, d.Outcome, d.MXSecurity)
			}
			l := r.TLSA(testCtx(t, 10*time.Second), Host{Name: "mx.sig.fake"}, 25)
			if l.Outcome != Outcome(name) || l.Security != SecurityUnknown {
				t.Fatalf("TLSA: want %s, unknown; got %s, %s", name, l.Outcome, l.Security)
			}
		})
	}
}

// TestAdditionalSectionNotTrusted: with the AD bit trusted, MX host addresses
// come from A and AAAA queries of their own, as the additional section of
// the MX reply carries no DNSSEC state.
func TestAdditionalSectionNotTrusted(t *testing.T) {
	z := newSecZone(t, "")
	z.Additional = true
	r := trusted(t, "", fakedns.Serve(t, z))
	d := r.Domain(testCtx(t, 10*time.Second), "sig.fake", Options{IgnoreSpecialAddresses: true})
	if got, want := secSummary(d), "answer mx=secure [mx.sig.fake answer secure]"; got != want {
		t.Fatalf("want %s, got %s", want, got)
	}
	if a, aaaa := z.Count("udp A mx.sig.fake."), z.Count("udp AAAA mx.sig.fake."); a != 1 || aaaa != 1 {
		t.Fatalf("want one A and one AAAA query, got %d and %d", a, aaaa)
	}
}

// tlsaSummary renders what the TLSA tests compare.
func tlsaSummary(l TLSALookup) string {
	s := fmt.Sprintf("%s %s base=%s name=%s", l.Outcome, l.Security, l.BaseDomain, l.Name)
	for _, rec := range l.Records {
		s += fmt.Sprintf(" [%d %d %d %d bytes]", rec.Usage, rec.Selector, rec.MatchingType, len(rec.Data))
	}
	if l.RecordsDropped > 0 {
		s += fmt.Sprintf(" dropped=%d", l.RecordsDropped)
	}
	return s
}

func TestTLSAFake(t *testing.T) {
	z := newSecZone(t, "")
	srv := fakedns.Serve(t, z)
	r := trusted(t, "", srv)
	secure := SecuritySecure
	tests := []struct {
		name string
		host Host
		port int
		want string
	}{
		{"secure", Host{Name: "mx.sig.fake"}, 25, "answer secure base=mx.sig.fake name=_25._tcp.mx.sig.fake [3 1 1 32 bytes]"},
		{"name as given", Host{Name: " MX.Sig.Fake. "}, 25, "answer secure base=mx.sig.fake name=_25._tcp.mx.sig.fake [3 1 1 32 bytes]"},
		{"other port", Host{Name: "mx.sig.fake"}, 465, "answer secure base=mx.sig.fake name=_465._tcp.mx.sig.fake [3 0 1 32 bytes]"},
		{"insecure", Host{Name: "mx.plain.fake"}, 25, "answer insecure base=mx.plain.fake name=_25._tcp.mx.plain.fake [3 1 1 32 bytes]"},
		{"secure denial", Host{Name: "implicit.sig.fake"}, 25, "nxdomain secure base=implicit.sig.fake name=_25._tcp.implicit.sig.fake"},
		{"bogus", Host{Name: "bad.sig.fake"}, 25, "servfail bogus base=bad.sig.fake name=_25._tcp.bad.sig.fake"},
		{"failed with CD too", Host{Name: "dead.sig.fake"}, 25, "servfail unknown base=dead.sig.fake name=_25._tcp.dead.sig.fake"},
		// Malformed records are the dane package's to judge: all kept.
		{"malformed kept", Host{Name: "odd.sig.fake"}, 25, "answer secure base=odd.sig.fake name=_25._tcp.odd.sig.fake [3 1 1 3 bytes] [7 1 1 32 bytes] [3 1 2 32 bytes]"},
		// A CNAME at the TLSA name is followed; Name is where the records are.
		{"TLSA alias", Host{Name: "shared.sig.fake"}, 25, "answer secure base=shared.sig.fake name=_25._tcp.mx.sig.fake [3 1 1 32 bytes]"},
		// A secure host CNAME: the target is the base domain when it has
		// records (RFC 7671 section 7)...
		{"secure CNAME, records at target", Host{Name: "origin.sig.fake", CNAME: "target.sig.fake", Security: secure}, 25,
			"answer secure base=target.sig.fake name=_25._tcp.target.sig.fake [2 1 1 32 bytes]"},
		// ... else the name the MX record gave: after a secure denial,
		{"secure CNAME, denial at target", Host{Name: "origin.sig.fake", CNAME: "nothing.sig.fake", Security: secure}, 25,
			"answer secure base=origin.sig.fake name=_25._tcp.origin.sig.fake [3 1 1 32 bytes]"},
		// after records without AD, which a sender would not use,
		{"secure CNAME, insecure records at target", Host{Name: "origin.sig.fake", CNAME: "plaintarget.plain.fake", Security: secure}, 25,
			"answer secure base=origin.sig.fake name=_25._tcp.origin.sig.fake [3 1 1 32 bytes]"},
		// and always when the chain is not secure.
		{"insecure CNAME", Host{Name: "origin.sig.fake", CNAME: "target.sig.fake", Security: SecurityInsecure}, 25,
			"answer secure base=origin.sig.fake name=_25._tcp.origin.sig.fake [3 1 1 32 bytes]"},
		// A failed lookup at the target is the result: senders defer there.
		{"secure CNAME, bogus target", Host{Name: "origin.sig.fake", CNAME: "bad.sig.fake", Security: secure}, 25,
			"servfail bogus base=bad.sig.fake name=_25._tcp.bad.sig.fake"},
		{"secure CNAME, failing target", Host{Name: "origin.sig.fake", CNAME: "dead.sig.fake", Security: secure}, 25,
			"servfail unknown base=dead.sig.fake name=_25._tcp.dead.sig.fake"},
		// Refused before asking.
		{"port 0", Host{Name: "mx.sig.fake"}, 0, "error unknown base=mx.sig.fake name="},
		{"port too big", Host{Name: "mx.sig.fake"}, 65536, "error unknown base=mx.sig.fake name="},
		{"address", Host{Name: "127.0.2.1"}, 25, "error unknown base=127.0.2.1 name="},
		{"empty", Host{}, 25, "error unknown base= name="},
		{"too long", Host{Name: strings.Repeat("a.", 124) + "fake"}, 25, "error unknown base=" + strings.Repeat("a.", 124) + "fake name="},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := z.Total("udp TLSA ")
			l := r.TLSA(testCtx(t, 10*time.Second), tc.host, tc.port)
			if got := tlsaSummary(l); got != tc.want {
				t.Fatalf("want %s\ngot  %s (err %q)", tc.want, got, l.Err)
			}
			asked := z.Total("udp TLSA ") - before
			switch {
			case l.Outcome == OutcomeError && (asked != 0 || l.Err == ""):
				t.Fatalf("refused input: %d queries, err %q", asked, l.Err)
			case l.Security == SecurityBogus && !strings.Contains(l.Err, "DNSSEC validation failed (bogus)"):
				t.Fatalf("bogus: err %q", l.Err)
			case tc.host.Security == SecurityInsecure && asked != 1:
				t.Fatalf("insecure CNAME: the target was asked (%d queries)", asked)
			}
		})
	}
	if got := z.Count("nodo"); got != 0 {
		t.Errorf("%d queries without the DO bit", got)
	}
}

// TestTLSARecordsCapped: an RRset larger than any real one is cut at
// maxTLSARecords, and the cut is counted.
func TestTLSARecordsCapped(t *testing.T) {
	var b strings.Builder
	for i := range maxTLSARecords + 8 {
		fmt.Fprintf(&b, "_25._tcp.many.sig.fake. TLSA 3 1 1 %064x\n", i)
	}
	r := trusted(t, "", fakedns.Serve(t, newSecZone(t, b.String())))
	l := r.TLSA(testCtx(t, 10*time.Second), Host{Name: "many.sig.fake"}, 25)
	if l.Outcome != OutcomeAnswer || len(l.Records) != maxTLSARecords || l.RecordsDropped != 8 {
		t.Fatalf("want %d records and 8 dropped, got %s: %d records, %d dropped (err %q)",
			maxTLSARecords, l.Outcome, len(l.Records), l.RecordsDropped, l.Err)
	}
	if want, _ := hex.DecodeString(fmt.Sprintf("%064x", 0)); string(l.Records[0].Data) != string(want) {
		t.Fatalf("first record: %x", l.Records[0].Data)
	}
}

func TestValidationFake(t *testing.T) {
	t.Run("not trusted", func(t *testing.T) {
		z := newSecZone(t, "")
		r := newTestResolver(t, time.Second, 1, fakedns.Serve(t, z))
		if v := r.Validation(testCtx(t, 10*time.Second)); v != (Validation{}) {
			t.Fatalf("want Validation{}, got %+v", v)
		}
		if n := z.Total(""); n != 0 {
			t.Fatalf("%d queries", n)
		}
	})

	t.Run("validating, cached", func(t *testing.T) {
		z := newSecZone(t, "")
		r := trusted(t, "Sig.Fake.", fakedns.Serve(t, z))
		v := r.Validation(testCtx(t, 10*time.Second))
		if !v.Trusted || !v.Validating || v.Err != "" || v.CheckName != "sig.fake" || !v.Changed || v.Checked.IsZero() {
			t.Fatalf("first check: %+v", v)
		}
		again := r.Validation(testCtx(t, 10*time.Second))
		if !again.Validating || again.Changed || !again.Checked.Equal(v.Checked) {
			t.Fatalf("second check: %+v", again)
		}
		if n := z.Count("udp SOA sig.fake."); n != 1 {
			t.Fatalf("want 1 SOA query, got %d", n)
		}
	})

	t.Run("root by default", func(t *testing.T) {
		z := &fakedns.Zone{Records: fakedns.Parse(t, ". SOA a.root. nstld. 1 1800 900 604800 86400"), Signed: []string{"."}}
		r := trusted(t, "", fakedns.Serve(t, z))
		if v := r.Validation(testCtx(t, 10*time.Second)); !v.Validating || v.CheckName != "." {
			t.Fatalf("%+v", v)
		}
	})

	t.Run("no AD", func(t *testing.T) {
		srv := fakedns.Serve(t, newSecZone(t, ""))
		r := trusted(t, "plain.fake", srv)
		v := r.Validation(testCtx(t, 10*time.Second))
		want := "resolver " + srv + " answered plain.fake SOA without the AD bit: it does not validate"
		if !v.Trusted || v.Validating || v.Err != want || !v.Changed {
			t.Fatalf("want Err %q, got %+v", want, v)
		}
	})

	t.Run("bad name", func(t *testing.T) {
		z := newSecZone(t, "")
		r := trusted(t, "no..name", fakedns.Serve(t, z))
		v := r.Validation(testCtx(t, 10*time.Second))
		if v.Validating || !strings.HasPrefix(v.Err, "self-check name: ") || z.Total("") != 0 {
			t.Fatalf("%+v after %d queries", v, z.Total(""))
		}
	})

	t.Run("every server must validate", func(t *testing.T) {
		good := fakedns.Serve(t, newSecZone(t, ""))
		plain := newSecZone(t, "")
		plain.NoAD.Store(true)
		bad := fakedns.Serve(t, plain)
		quiet, _ := fakedns.Silent(t)
		r := newTestResolver(t, 100*time.Millisecond, 1, good, bad, quiet)
		r.EnableValidation("sig.fake")
		v := r.Validation(testCtx(t, 10*time.Second))
		want := "resolver " + bad + " answered sig.fake SOA without the AD bit: it does not validate; " +
			"sig.fake SOA: no reply from " + quiet + " (timeout)"
		if v.Validating || v.Err != want {
			t.Fatalf("want Err %q, got %+v", want, v)
		}
	})

	t.Run("flips and retries", func(t *testing.T) {
		z := newSecZone(t, "")
		r := trusted(t, "sig.fake", fakedns.Serve(t, z))
		// A failed check is retried at once, a passed one stands.
		r.valRefresh, r.valRetry = time.Hour, 0
		ctx := testCtx(t, 10*time.Second)
		z.NoAD.Store(true)
		for i, want := range []struct{ validating, changed bool }{
			{false, true},  // the first check
			{false, false}, // retried, same answer
			{true, true},   // AD back: flipped
			{true, false},  // from cache
		} {
			if i == 2 {
				z.NoAD.Store(false)
			}
			if v := r.Validation(ctx); v.Validating != want.validating || v.Changed != want.changed {
				t.Fatalf("check %d: want validating %v changed %v, got %+v", i, want.validating, want.changed, v)
			}
		}
		if n := z.Count("udp SOA sig.fake."); n != 3 {
			t.Fatalf("want 3 SOA queries, got %d", n)
		}
	})

	// Many probes at once: one query, one Changed. Run with -race.
	t.Run("single flight", func(t *testing.T) {
		z := newSecZone(t, "")
		z.Delay = 200 * time.Millisecond
		r := trusted(t, "sig.fake", fakedns.Serve(t, z))
		const probes = 50
		var wg sync.WaitGroup
		results := make([]Validation, probes)
		for i := range probes {
			wg.Go(func() { results[i] = r.Validation(testCtx(t, 10*time.Second)) })
		}
		wg.Wait()
		changed := 0
		for _, v := range results {
			if !v.Validating {
				t.Fatalf("not validating: %+v", v)
			}
			if v.Changed {
				changed++
			}
		}
		if changed != 1 {
			t.Fatalf("Changed handed to %d probes, want 1", changed)
		}
		if n := z.Count("udp SOA sig.fake."); n != 1 {
			t.Fatalf("want 1 SOA query, got %d", n)
		}
	})

	// A probe whose deadline comes first does not wait for the check,
	// nor cut it short for the others.
	t.Run("deadline before the check ends", func(t *testing.T) {
		z := newSecZone(t, "")
		z.Delay = 300 * time.Millisecond
		r := trusted(t, "sig.fake", fakedns.Serve(t, z))
		short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		v := r.Validation(short)
		if v.Validating || !v.Trusted || !strings.Contains(v.Err, "did not finish") || v.Changed {
			t.Fatalf("short deadline: %+v", v)
		}
		v = r.Validation(testCtx(t, 10*time.Second))
		if !v.Validating || !v.Changed {
			t.Fatalf("after: %+v", v)
		}
		if n := z.Count("udp SOA sig.fake."); n != 1 {
			t.Fatalf("want 1 SOA query, got %d", n)
		}
	})
}

// FuzzTLSARecords feeds arbitrary replies to the path a TLSA answer takes:
// unpacked by miekg/dns, CNAMEs followed, records converted and capped.
// Whatever the server sends, the result stays within the caps.
func FuzzTLSARecords(f *testing.F) {
	name := "_25._tcp.mx.sig.fake."
	seed := func(records string) {
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeTLSA)
		m.Response = true
		for line := range strings.Lines(records) {
			rr, err := dns.NewRR(line)
			if err != nil {
				f.Fatal(err)
			}
			m.Answer = append(m.Answer, rr)
		}
		raw, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	seed(name + " TLSA " + tlsa311 + "\n")
	seed(name + " CNAME _25._tcp.other.fake.\n_25._tcp.other.fake. TLSA 2 0 0 3082\n")
	seed(name + " TLSA 255 255 255 00\n" + name + " TLSA 3 1 1 ab\n")
	f.Fuzz(func(t *testing.T, raw []byte) {
		m := new(dns.Msg)
		if m.Unpack(raw) != nil {
			return
		}
		recs, _, err := follow(m.Answer, name, dns.TypeTLSA, map[string]bool{name: true})
		if err != nil {
			return
		}
		var in []*dns.TLSA
		for _, rr := range recs {
			if t, ok := rr.(*dns.TLSA); ok {
				in = append(in, t)
			}
		}
		out, dropped := tlsaRecords(recs)
		if len(out) > maxTLSARecords || len(out)+dropped != len(in) {
			t.Fatalf("%d records in, %d kept, %d dropped", len(in), len(out), dropped)
		}
		for i, rec := range out {
			if rec.Usage != dane.Usage(in[i].Usage) || hex.EncodeToString(rec.Data) != strings.ToLower(in[i].Certificate) {
				t.Fatalf("record %d: %+v from %v", i, rec, in[i])
			}
		}
	})
}
