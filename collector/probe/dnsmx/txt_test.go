package dnsmx

// The TXT shapes nsd serves are asked of it in integration_test.go; the
// fakes here bring what it will not: SERVFAIL, an alias answered alone, a
// secure and a bogus answer, RRsets past the caps.

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mx-exporter/mx_exporter/collector/testenv/fakedns"
)

const txtRecords1 = `
_mta-sts.one.fake.      TXT   "v=STSv1; id=one1"
_mta-sts.split.fake.    TXT   "v=STSv1; " "id=" "split1"
_mta-sts.two.fake.      TXT   "v=STSv1; id=a1"
_mta-sts.two.fake.      TXT   "v=STSv1; id=b2"
_mta-sts.alias.fake.    CNAME _mta-sts.one.fake.
_mta-sts.escaped.fake.  TXT   "say \"hi\"; back\\slash; tab\009; high\255"
_mta-sts.empty.fake.    TXT   ""
_mta-sts.mixed.fake.    TXT   "v=STSv1; id=mixed1"
_mta-sts.mixed.fake.    A     127.0.2.1
nodata.fake.            A     127.0.2.1
_smtp._tls.one.fake.    TXT   "v=TLSRPTv1; rua=mailto:tlsrpt@one.fake"
`

// txtSummary renders what the tests compare of a TXTLookup.
func txtSummary(l TXTLookup) string {
	s := fmt.Sprintf("%s rcode=%q name=%s", l.Outcome, l.Rcode, l.Name)
	if l.CNAME != "" {
		s += " cname=" + l.CNAME
	}
	s += fmt.Sprintf(" %q", l.Records)
	if l.RecordsDropped > 0 {
		s += fmt.Sprintf(" dropped=%d", l.RecordsDropped)
	}
	if l.RecordsTruncated > 0 {
		s += fmt.Sprintf(" truncated=%d", l.RecordsTruncated)
	}
	return s
}

func TestTXTFake(t *testing.T) {
	tests := []struct {
		name, ask, want string
		sec             Security
	}{
		{"one record", "_mta-sts.one.fake", `answer rcode="NOERROR" name=_mta-sts.one.fake ["v=STSv1; id=one1"]`, SecurityUnchecked},
		{"name normalised", " _MTA-STS.One.Fake. ", `answer rcode="NOERROR" name=_mta-sts.one.fake ["v=STSv1; id=one1"]`, SecurityUnchecked},
		// RFC 8461 section 3.1: the strings of one record are joined
		// without anything between them.
		{"strings concatenated", "_mta-sts.split.fake", `answer rcode="NOERROR" name=_mta-sts.split.fake ["v=STSv1; id=split1"]`, SecurityUnchecked},
		{"two records in answer order", "_mta-sts.two.fake", `answer rcode="NOERROR" name=_mta-sts.two.fake ["v=STSv1; id=a1" "v=STSv1; id=b2"]`, SecurityUnchecked},
		{"alias", "_mta-sts.alias.fake", `answer rcode="NOERROR" name=_mta-sts.alias.fake cname=_mta-sts.one.fake ["v=STSv1; id=one1"]`, SecurityUnchecked},
		// The bytes published, not their presentation form.
		{"escapes undone", "_mta-sts.escaped.fake", `answer rcode="NOERROR" name=_mta-sts.escaped.fake ["say \"hi\"; back\\slash; tab\t; high\xff"]`, SecurityUnchecked},
		{"empty string", "_mta-sts.empty.fake", `answer rcode="NOERROR" name=_mta-sts.empty.fake [""]`, SecurityUnchecked},
		{"other types ignored", "_mta-sts.mixed.fake", `answer rcode="NOERROR" name=_mta-sts.mixed.fake ["v=STSv1; id=mixed1"]`, SecurityUnchecked},
		{"TLS-RPT name", "_smtp._tls.one.fake", `answer rcode="NOERROR" name=_smtp._tls.one.fake ["v=TLSRPTv1; rua=mailto:tlsrpt@one.fake"]`, SecurityUnchecked},
		{"nxdomain", "_mta-sts.missing.fake", `nxdomain rcode="NXDOMAIN" name=_mta-sts.missing.fake []`, SecurityUnchecked},
		{"nodata", "nodata.fake", `nodata rcode="NOERROR" name=nodata.fake []`, SecurityUnchecked},
		// Refused before asking.
		{"empty name", "  ", `error rcode="" name= []`, SecurityUnchecked},
		{"not a name", "_mta-sts.bad..fake", `error rcode="" name=_mta-sts.bad..fake []`, SecurityUnchecked},
		{"not ASCII", "_mta-sts.bücher.fake", `error rcode="" name=_mta-sts.bücher.fake []`, SecurityUnchecked},
		{"too long", "_mta-sts." + strings.Repeat("a.", 124) + "fake", `error rcode="" name=_mta-sts.` + strings.Repeat("a.", 124) + `fake []`, SecurityUnchecked},
	}
	for _, noChase := range []bool{false, true} {
		z := &fakedns.Zone{Records: fakedns.Parse(t, txtRecords1), NoChase: noChase}
		r := newTestResolver(t, time.Second, 1, fakedns.Serve(t, z))
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%s/nochase=%v", tc.name, noChase), func(t *testing.T) {
				before := z.Total("udp TXT ")
				l := r.TXT(testCtx(t, 10*time.Second), tc.ask)
				if got := txtSummary(l); got != tc.want {
					t.Fatalf("TXT(%q)\nwant %s\ngot  %s (err %q)", tc.ask, tc.want, got, l.Err)
				}
				if l.Security != tc.sec {
					t.Fatalf("TXT(%q): want security %s, got %s", tc.ask, tc.sec, l.Security)
				}
				asked := z.Total("udp TXT ") - before
				switch l.Outcome {
				case OutcomeError:
					if asked != 0 || l.Err == "" {
						t.Fatalf("refused name: want no query and an error, got %d queries, err %q", asked, l.Err)
					}
				case OutcomeAnswer, OutcomeNoData:
					if l.Err != "" {
						t.Fatalf("want no error, got %q", l.Err)
					}
				default:
					if l.Err == "" {
						t.Fatalf("outcome %s without an error in words", l.Outcome)
					}
				}
				if l.Outcome != OutcomeError && l.Duration <= 0 {
					t.Fatalf("want a duration, got %v", l.Duration)
				}
			})
		}
	}
}

// TestTXTFailures: what a sender sees as a temporary failure (RFC 8461
// section 3.1 leaves the cached policy in force) must stay distinct from
// "no record".
func TestTXTFailures(t *testing.T) {
	t.Run("servfail", func(t *testing.T) {
		r := newTestResolver(t, time.Second, 1, fakedns.Serve(t, &fakedns.Zone{Rcode: dns.RcodeServerFailure}))
		l := r.TXT(testCtx(t, 10*time.Second), "_mta-sts.one.fake")
		if l.Outcome != OutcomeServFail || l.Rcode != "SERVFAIL" || !strings.Contains(l.Err, "SERVFAIL") || len(l.Records) != 0 {
			t.Fatalf("want servfail, rcode SERVFAIL, no records, got %s (err %q)", txtSummary(l), l.Err)
		}
	})
	t.Run("refused", func(t *testing.T) {
		r := newTestResolver(t, time.Second, 1, fakedns.Serve(t, &fakedns.Zone{Rcode: dns.RcodeRefused}))
		if l := r.TXT(testCtx(t, 10*time.Second), "_mta-sts.one.fake"); l.Outcome != OutcomeRefused {
			t.Fatalf("want refused, got %s (err %q)", txtSummary(l), l.Err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		quiet, _ := fakedns.Silent(t)
		r := newTestResolver(t, 50*time.Millisecond, 1, quiet)
		if l := r.TXT(testCtx(t, 10*time.Second), "_mta-sts.one.fake"); l.Outcome != OutcomeTimeout || l.Err == "" {
			t.Fatalf("want timeout with an error, got %s (err %q)", txtSummary(l), l.Err)
		}
	})
	t.Run("CNAME loop", func(t *testing.T) {
		z := &fakedns.Zone{Records: fakedns.Parse(t, "_mta-sts.loop.fake. CNAME a.loop.fake.\na.loop.fake. CNAME _mta-sts.loop.fake.\n")}
		r := newTestResolver(t, time.Second, 1, fakedns.Serve(t, z))
		if l := r.TXT(testCtx(t, 10*time.Second), "_mta-sts.loop.fake"); l.Outcome != OutcomeError || !strings.Contains(l.Err, "CNAME loop") {
			t.Fatalf("want error CNAME loop, got %s (err %q)", txtSummary(l), l.Err)
		}
	})
}

// TestTXTSecurity: the DNSSEC state is that of the lookup, as for every
// other record type.
func TestTXTSecurity(t *testing.T) {
	extra := `
_mta-sts.sig.fake.      TXT "v=STSv1; id=sig1"
_mta-sts.bad.sig.fake.  TXT "v=STSv1; id=bad1"
_mta-sts.plain.fake.    TXT "v=STSv1; id=plain1"
`
	z := newSecZone(t, extra)
	z.Bogus("_mta-sts.bad.sig.fake.")
	r := trusted(t, "", fakedns.Serve(t, z))
	for _, tc := range []struct {
		ask     string
		outcome Outcome
		sec     Security
	}{
		{"_mta-sts.sig.fake", OutcomeAnswer, SecuritySecure},
		{"_mta-sts.plain.fake", OutcomeAnswer, SecurityInsecure},
		{"_mta-sts.nothing.sig.fake", OutcomeNXDomain, SecuritySecure},
		{"_mta-sts.bad.sig.fake", OutcomeServFail, SecurityBogus},
		{"bad..name", OutcomeError, SecurityUnknown},
	} {
		l := r.TXT(testCtx(t, 10*time.Second), tc.ask)
		if l.Outcome != tc.outcome || l.Security != tc.sec {
			t.Fatalf("TXT(%q): want %s %s, got %s %s (err %q)", tc.ask, tc.outcome, tc.sec, l.Outcome, l.Security, l.Err)
		}
	}
}

// TestTXTCaps: an RRset past maxTXTRecords is cut and the cut counted; a
// record past maxTXTBytes is kept with its first bytes and counted, so that
// a published record never looks absent. The long one comes over TCP (the
// reply is over the UDP size), which the fake serves after TC.
func TestTXTCaps(t *testing.T) {
	var b strings.Builder
	for i := range maxTXTRecords + 4 {
		fmt.Fprintf(&b, "_mta-sts.many.fake. TXT \"v=STSv1; id=n%d\"\n", i)
	}
	chunk := strings.Repeat("x", 255)
	b.WriteString(`_mta-sts.long.fake. TXT "v=STSv1; id=long1; "`)
	for range maxTXTBytes/255 + 2 {
		b.WriteString(` "` + chunk + `"`)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "_mta-sts.long.fake. TXT \"v=STSv1; id=short1\"\n")
	// Exactly the cap: kept whole.
	exact := "v=STSv1; id=exact1; " + strings.Repeat("y", maxTXTBytes-len("v=STSv1; id=exact1; "))
	b.WriteString(`_mta-sts.exact.fake. TXT`)
	for s := exact; s != ""; {
		n := min(255, len(s))
		b.WriteString(` "` + s[:n] + `"`)
		s = s[n:]
	}
	b.WriteString("\n")
	z := &fakedns.Zone{Records: fakedns.Parse(t, b.String())}
	r := newTestResolver(t, time.Second, 1, fakedns.Serve(t, z))

	l := r.TXT(testCtx(t, 10*time.Second), "_mta-sts.many.fake")
	if l.Outcome != OutcomeAnswer || len(l.Records) != maxTXTRecords || l.RecordsDropped != 4 || l.RecordsTruncated != 0 {
		t.Fatalf("many: want %d records, 4 dropped, got %s (err %q)", maxTXTRecords, txtSummary(l), l.Err)
	}
	if l.Records[0] != "v=STSv1; id=n0" || l.Records[maxTXTRecords-1] != fmt.Sprintf("v=STSv1; id=n%d", maxTXTRecords-1) {
		t.Fatalf("many: want the first %d in answer order, got %q … %q", maxTXTRecords, l.Records[0], l.Records[maxTXTRecords-1])
	}

	l = r.TXT(testCtx(t, 10*time.Second), "_mta-sts.long.fake")
	if l.Outcome != OutcomeAnswer || len(l.Records) != 2 || l.RecordsDropped != 0 || l.RecordsTruncated != 1 {
		t.Fatalf("long: want 2 records, 1 truncated, got %s (err %q)", txtSummary(l), l.Err)
	}
	if got := l.Records[0]; len(got) != maxTXTBytes || !strings.HasPrefix(got, "v=STSv1; id=long1; xxx") {
		t.Fatalf("long: want the first %d bytes, got %d bytes starting %q", maxTXTBytes, len(got), got[:min(len(got), 30)])
	}
	if l.Records[1] != "v=STSv1; id=short1" {
		t.Fatalf("long: the short record: got %q", l.Records[1])
	}
	if n := z.Count("tcp TXT _mta-sts.long.fake."); n != 1 {
		t.Fatalf("long: want the reply over TCP after TC, got %d TCP queries", n)
	}

	l = r.TXT(testCtx(t, 10*time.Second), "_mta-sts.exact.fake")
	if l.Outcome != OutcomeAnswer || len(l.Records) != 1 || l.Records[0] != exact || l.RecordsTruncated != 0 {
		t.Fatalf("exact: want the record whole, got %s (err %q)", txtSummary(l), l.Err)
	}
}

// TestUnescapeTXT: every byte string that can travel in a character-string
// comes back as sent after miekg/dns has given it its presentation form.
func TestUnescapeTXT(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{`a\"b`, `a"b`},
		{`a\\b`, `a\b`},
		{`\009x`, "\tx"},
		{`\255`, "\xff"},
		{`\000`, "\x00"},
		{`end\`, `end\`},
		{`\25`, `25`},
		{`\999`, `\999`},
	} {
		if got := unescapeTXT(tc.in); got != tc.want {
			t.Fatalf("unescapeTXT(%q): want %q, got %q", tc.in, tc.want, got)
		}
	}
}

// wireTXT unpacks a TXT record whose one character-string is s, the way a
// reply off the wire is read.
func wireTXT(t testing.TB, s []byte) *dns.TXT {
	t.Helper()
	rdata := append([]byte{byte(len(s))}, s...)
	rr, _, err := dns.UnpackRRWithHeader(dns.RR_Header{Name: "x.fake.", Rrtype: dns.TypeTXT, Class: dns.ClassINET,
		Rdlength: uint16(len(rdata))}, rdata, 0)
	if err != nil {
		t.Fatalf("unpack %q: %v", s, err)
	}
	return rr.(*dns.TXT)
}

func FuzzUnescapeTXT(f *testing.F) {
	for _, s := range []string{"", "v=STSv1; id=a1", `"\`, "\x00\t\xff", `\123`, "\\\"\\"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		if len(s) > 255 {
			s = s[:255]
		}
		rr := wireTXT(t, s)
		if len(rr.Txt) != 1 {
			t.Fatalf("%q: want one string, got %q", s, rr.Txt)
		}
		if got := unescapeTXT(rr.Txt[0]); got != string(s) {
			t.Fatalf("sent %q, presented %q, read back %q", s, rr.Txt[0], got)
		}
	})
}
