package dnsmx

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe/dane"
	"github.com/mx-exporter/mx_exporter/collector/testenv"
	"github.com/mx-exporter/mx_exporter/collector/testenv/fakedns"
)

// TestIntegrationNSD resolves every scenario of the test zone against the
// real authoritative server of the test environment (nsd on 127.0.53.1,
// zone "test.", see .ci/testenv.d/test.zone).
func TestIntegrationNSD(t *testing.T) {
	env := testenv.Require(t)
	r := newTestResolver(t, 2*time.Second, 2, env.Resolver)
	// Every address of the test zone is on loopback. Most rows ask as a lab
	// would, without the special-address finding; the rows with Options{}
	// show that it is reported when not turned off.
	lab := Options{IgnoreSpecialAddresses: true}
	v4 := Options{Families: []Family{IPv4}, IgnoreSpecialAddresses: true}
	const refused = `err="A lookup: REFUSED from 127.0.53.1:53"`
	tests := []struct {
		domain string
		opts   Options
		want   string
	}{
		{"good.test", lab, `answer rcode="NOERROR" [10 mx1.good.test [127.0.1.1] answer; 20 mx2.good.test [127.0.1.2] answer]`},
		{"Good.Test.", lab, `answer rcode="NOERROR" [10 mx1.good.test [127.0.1.1] answer; 20 mx2.good.test [127.0.1.2] answer]`},
		{"good.test", Options{MaxMXHosts: 1, IgnoreSpecialAddresses: true}, `answer rcode="NOERROR" dropped=1 [10 mx1.good.test [127.0.1.1] answer]`},
		{"relay.test", lab, `answer rcode="NOERROR" [10 mx.relay.test [127.0.1.3] answer]`},
		{"reject.test", lab, `answer rcode="NOERROR" [10 mx.reject.test [127.0.1.4] answer]`},
		{"partial.test", lab, `answer rcode="NOERROR" [10 dead.partial.test [127.0.1.250] answer; 20 mx1.good.test [127.0.1.1] answer]`},
		{"nullmx.test", lab, `answer rcode="NOERROR" nullmx []`},
		{"implicit.test", lab, `nodata rcode="NOERROR" implicit [0 implicit.test [127.0.1.1] answer]`},
		{"multiline.test", lab, `answer rcode="NOERROR" [10 mx.multiline.test [127.0.1.6] answer]`},
		{"tls.test", lab, `answer rcode="NOERROR" [10 mx.tls.test [127.0.1.7] answer]`},
		{"cname.test", lab, `answer rcode="NOERROR" [10 alias.cname.test [127.0.1.1] answer cname=mx1.good.test]`},
		{"noaddr.test", lab, `answer rcode="NOERROR" [10 noaddr-host.noaddr.test [] nodata err="no A or AAAA record"]`},
		{"v6.test", lab, `answer rcode="NOERROR" [10 mx.v6.test [::1] answer]`},
		{"v6.test", v4, `answer rcode="NOERROR" [10 mx.v6.test [] nodata err="no A record"]`},
		{"multi.test", lab, `answer rcode="NOERROR" [10 mx.multi.test [127.0.1.1 127.0.1.2] answer]`},
		{"multi.test", Options{MaxAddressesPerHost: 1, IgnoreSpecialAddresses: true}, `answer rcode="NOERROR" [10 mx.multi.test [127.0.1.1] answer dropped=1]`},
		{"missing.test", lab, `nxdomain rcode="NXDOMAIN" []`},
		{"nodata.test", lab, `nodata rcode="NOERROR" []`},
		// nsd is authoritative for "test." only and refuses the rest.
		{"outside.invalid", lab, `refused rcode="REFUSED" []`},
		// "MX 0 ." among other records: flagged, ignored, no note.
		{"mixednull.test", lab, `answer rcode="NOERROR" nullmx-mixed [10 mx1.good.test [127.0.1.1] answer]`},
		// An IP address as the MX exchange is looked up as a name, which
		// nsd refuses here (a resolver would say NXDOMAIN): no address,
		// nothing to dial, although the name spells a working listener.
		{"literal.test", lab, `answer rcode="NOERROR" [10 127.0.1.1 [] refused ip-literal ` + refused + `]`},
		{"literal6.test", lab, `answer rcode="NOERROR" [10 ::1 [] refused ip-literal ` + refused + `]`},
		// The special-address finding, on by default.
		{"good.test", Options{}, `answer rcode="NOERROR" [10 mx1.good.test [127.0.1.1] answer special=[{127.0.1.1 loopback}]; ` +
			`20 mx2.good.test [127.0.1.2] answer special=[{127.0.1.2 loopback}]]`},
		{"v6.test", Options{}, `answer rcode="NOERROR" [10 mx.v6.test [::1] answer special=[{::1 loopback}]]`},
		{"implicit.test", Options{}, `nodata rcode="NOERROR" implicit [0 implicit.test [127.0.1.1] answer special=[{127.0.1.1 loopback}]]`},
		// Only the addresses kept are described.
		{"multi.test", Options{MaxAddressesPerHost: 1}, `answer rcode="NOERROR" [10 mx.multi.test [127.0.1.1] answer dropped=1 special=[{127.0.1.1 loopback}]]`},
	}
	for _, tc := range tests {
		t.Run(tc.domain, func(t *testing.T) {
			d := r.Domain(testCtx(t, 10*time.Second), tc.domain, tc.opts)
			if got := summary(d); got != tc.want {
				t.Fatalf("Domain(%q, %+v)\nwant %s\ngot  %s (err %q, notes %q)", tc.domain, tc.opts, tc.want, got, d.Err, d.Notes)
			}
			if d.Server != env.Resolver {
				t.Fatalf("Server: want %s, got %q", env.Resolver, d.Server)
			}
			if len(d.Notes) != 0 {
				t.Fatalf("notes: want none, got %q", d.Notes)
			}
		})
	}

	t.Run("hosts", func(t *testing.T) {
		for _, tc := range []struct{ name, want string }{
			{"mx1.good.test", "0 mx1.good.test [127.0.1.1] answer"},
			{"alias.cname.test.", "0 alias.cname.test [127.0.1.1] answer cname=mx1.good.test"},
			{"mx.v6.test", "0 mx.v6.test [::1] answer"},
			{"nowhere.good.test", `0 nowhere.good.test [] nxdomain err="NXDOMAIN"`},
			{"127.0.1.1", "0 127.0.1.1 [127.0.1.1] answer"},
		} {
			if got := hostSummary(r.Host(testCtx(t, 10*time.Second), tc.name, lab)); got != tc.want {
				t.Fatalf("Host(%q): want %s, got %s", tc.name, tc.want, got)
			}
		}
		// A host target given as an address is described like any host.
		want := "0 127.0.1.1 [127.0.1.1] answer special=[{127.0.1.1 loopback}]"
		if got := hostSummary(r.Host(testCtx(t, 10*time.Second), "127.0.1.1", Options{})); got != want {
			t.Fatalf("Host(127.0.1.1) without IgnoreSpecialAddresses: want %s, got %s", want, got)
		}
	})

	// A silent first server, then nsd: the answer comes from nsd.
	t.Run("failover to nsd", func(t *testing.T) {
		quiet, _ := fakedns.Silent(t)
		r := newTestResolver(t, 100*time.Millisecond, 1, quiet, env.Resolver)
		d := r.Domain(testCtx(t, 10*time.Second), "good.test", v4)
		want := `answer rcode="NOERROR" [10 mx1.good.test [127.0.1.1] answer; 20 mx2.good.test [127.0.1.2] answer]`
		if got := summary(d); got != want || d.Server != env.Resolver {
			t.Fatalf("want %s from %s\ngot  %s from %s", want, env.Resolver, got, d.Server)
		}
	})
}

// TestIntegrationDNSSEC asks the validating unbound of the test environment
// (127.0.53.2, trust anchor dnssec.test., see .ci/testenv.d/dnssec.test.zone)
// what a DANE sender asks: the DNSSEC state of MX and address records, and
// the TLSA RRsets of the DANE scenarios.
func TestIntegrationDNSSEC(t *testing.T) {
	env := testenv.Require(t)
	r := newTestResolver(t, 2*time.Second, 2, env.ValidatingResolver)
	r.EnableValidation("dnssec.test.")
	lab := Options{IgnoreSpecialAddresses: true}

	t.Run("self-check", func(t *testing.T) {
		if v := r.Validation(testCtx(t, 10*time.Second)); !v.Trusted || !v.Validating || v.Err != "" || v.CheckName != "dnssec.test" {
			t.Fatalf("unbound: %+v", v)
		}
		// nsd is authoritative: it never sets AD.
		n := newTestResolver(t, 2*time.Second, 2, env.Resolver)
		n.EnableValidation("dnssec.test.")
		v := n.Validation(testCtx(t, 10*time.Second))
		want := "resolver " + env.Resolver + " answered dnssec.test SOA without the AD bit: it does not validate"
		if !v.Trusted || v.Validating || v.Err != want || !v.Changed {
			t.Fatalf("nsd: want Err %q, got %+v", want, v)
		}
	})

	t.Run("domains", func(t *testing.T) {
		for _, tc := range []struct{ domain, want string }{
			{"ee.dnssec.test", "answer mx=secure [mx.ee.dnssec.test answer secure]"},
			{"secure.dnssec.test", "answer mx=secure [mx.secure.dnssec.test answer secure]"},
			{"missing.dnssec.test", "nxdomain mx=secure"},
			{"good.test", "answer mx=insecure [mx1.good.test answer insecure] [mx2.good.test answer insecure]"},
			{"unsigned.test", "answer mx=insecure [mx.unsigned.test answer insecure]"},
			{"implicit.test", "nodata mx=insecure [implicit.test answer insecure]"},
		} {
			d := r.Domain(testCtx(t, 10*time.Second), tc.domain, lab)
			if got := secSummary(d); got != tc.want {
				t.Errorf("Domain(%s): want %s, got %s (err %q)", tc.domain, tc.want, got, d.Err)
			}
		}
		// The same answers, the AD bit not trusted: nothing is known.
		u := newTestResolver(t, 2*time.Second, 2, env.ValidatingResolver)
		d := u.Domain(testCtx(t, 10*time.Second), "ee.dnssec.test", lab)
		if got, want := secSummary(d), "answer mx=unchecked [mx.ee.dnssec.test answer unchecked]"; got != want {
			t.Errorf("without EnableValidation: want %s, got %s", want, got)
		}
		if v := u.Validation(testCtx(t, 10*time.Second)); v != (Validation{}) {
			t.Errorf("without EnableValidation: Validation %+v", v)
		}
	})

	tlsa := func(t *testing.T, host string) TLSALookup {
		t.Helper()
		h := r.Host(testCtx(t, 10*time.Second), host, lab)
		if h.Outcome != OutcomeAnswer {
			t.Fatalf("Host(%s): %s %q", host, h.Outcome, h.Err)
		}
		return r.TLSA(testCtx(t, 10*time.Second), h, 25)
	}
	// Every 3 1 1 record of the zones is of the served key: the one of
	// the unsigned zone, which is not DANE, serves as the reference.
	ref := tlsa(t, "mx.unsigned.test")
	if ref.Outcome != OutcomeAnswer || ref.Security != SecurityInsecure || len(ref.Records) != 1 {
		t.Fatalf("mx.unsigned.test: want 1 record, insecure; got %s", tlsaSummary(ref))
	}
	served := ref.Records[0]
	if served.Usage != dane.DANEEE || served.Selector != dane.SelectorSPKI || served.MatchingType != dane.MatchSHA256 || len(served.Data) != 32 {
		t.Fatalf("mx.unsigned.test: want 3 1 1 with 32 bytes, got %+v", served)
	}

	t.Run("TLSA", func(t *testing.T) {
		for _, tc := range []struct{ host, want string }{
			{"mx.ee.dnssec.test", "answer secure base=mx.ee.dnssec.test name=_25._tcp.mx.ee.dnssec.test [3 1 1 32 bytes]"},
			{"mx.rollover.dnssec.test", "answer secure base=mx.rollover.dnssec.test name=_25._tcp.mx.rollover.dnssec.test [3 1 1 32 bytes] [3 1 1 32 bytes]"},
			{"mx.ta.dnssec.test", "answer secure base=mx.ta.dnssec.test name=_25._tcp.mx.ta.dnssec.test [2 1 1 32 bytes]"},
			{"mx.pkix.dnssec.test", "answer secure base=mx.pkix.dnssec.test name=_25._tcp.mx.pkix.dnssec.test [1 1 1 32 bytes]"},
			// No TLSA in a signed zone: a secure denial.
			{"mx.secure.dnssec.test", "nxdomain secure base=mx.secure.dnssec.test name=_25._tcp.mx.secure.dnssec.test"},
			// The RRSIG of the TLSA RRset is tampered with.
			{"mx.bogus.dnssec.test", "servfail bogus base=mx.bogus.dnssec.test name=_25._tcp.mx.bogus.dnssec.test"},
			{"mx.unsigned.test", "answer insecure base=mx.unsigned.test name=_25._tcp.mx.unsigned.test [3 1 1 32 bytes]"},
		} {
			l := tlsa(t, tc.host)
			if got := tlsaSummary(l); got != tc.want {
				t.Errorf("TLSA(%s):\nwant %s\ngot  %s (err %q)", tc.host, tc.want, got, l.Err)
			}
			if l.Security == SecurityBogus && !strings.Contains(l.Err, "DNSSEC validation failed (bogus)") {
				t.Errorf("TLSA(%s): err %q", tc.host, l.Err)
			}
		}
		if l := tlsa(t, "mx.ee.dnssec.test"); len(l.Records) != 1 || !bytes.Equal(l.Records[0].Data, served.Data) {
			t.Errorf("mx.ee.dnssec.test: want the served key's digest, got %s", tlsaSummary(l))
		}
	})
}

// TestIntegrationDNSSECAliases covers the CNAME scenarios of the signed zone
// (RFC 7671 section 7, RFC 7672 section 2.2.2) and the RRsets other than
// TLSA whose signatures are tampered with.
func TestIntegrationDNSSECAliases(t *testing.T) {
	env := testenv.Require(t)
	r := newTestResolver(t, 2*time.Second, 2, env.ValidatingResolver)
	r.EnableValidation("dnssec.test.")
	lab := Options{IgnoreSpecialAddresses: true}
	ee := "answer secure base=mx.ee.dnssec.test name=_25._tcp.mx.ee.dnssec.test [3 1 1 32 bytes]"

	for _, tc := range []struct{ domain, dns, tlsa string }{
		// The TLSA name is an alias of mx.ee's: the records come from
		// there, the base domain stays the MX host.
		{"cnametlsa.dnssec.test", "answer mx=secure [mx.cnametlsa.dnssec.test answer secure]",
			"answer secure base=mx.cnametlsa.dnssec.test name=_25._tcp.mx.ee.dnssec.test [3 1 1 32 bytes]"},
		// The MX host is an alias of mx.ee, securely: mx.ee is the base
		// domain, its TLSA RRset the one used.
		{"alias.dnssec.test", "answer mx=secure [mx.alias.dnssec.test answer secure]", ee},
		// The MX RRset's signature is tampered with: SERVFAIL, told bogus.
		{"bogusmx.dnssec.test", "servfail mx=bogus", ""},
		// The MX host's A RRset's: the host is bogus, the MX secure.
		{"bogusaddr.dnssec.test", "answer mx=secure [mx.bogusaddr.dnssec.test [] servfail bogus]", ""},
	} {
		t.Run(tc.domain, func(t *testing.T) {
			ctx := testCtx(t, 10*time.Second)
			d := r.Domain(ctx, tc.domain, lab)
			if got := secSummary(d); got != tc.dns {
				t.Fatalf("Domain: want %s, got %s (err %q)", tc.dns, got, d.Err)
			}
			if d.MXSecurity == SecurityBogus && !strings.Contains(d.Err, "DNSSEC validation failed (bogus)") {
				t.Fatalf("Domain: err %q", d.Err)
			}
			if tc.tlsa == "" {
				return
			}
			if l := r.TLSA(ctx, d.Hosts[0], 25); tlsaSummary(l) != tc.tlsa {
				t.Fatalf("TLSA:\nwant %s\ngot  %s (err %q)", tc.tlsa, tlsaSummary(l), l.Err)
			}
		})
	}
	h := r.Host(testCtx(t, 10*time.Second), "mx.bogusaddr.dnssec.test", lab)
	if h.Security != SecurityBogus || !strings.Contains(h.Err, "A lookup: SERVFAIL from "+env.ValidatingResolver+"; DNSSEC validation failed (bogus)") {
		t.Errorf("Host(mx.bogusaddr.dnssec.test): %s, %s", hostSummary(h), h.Security)
	}
	if h := r.Host(testCtx(t, 10*time.Second), "mx.alias.dnssec.test", lab); h.CNAME != "mx.ee.dnssec.test" {
		t.Errorf("Host(mx.alias.dnssec.test): %s", hostSummary(h))
	}
}

// TestIntegrationTXT asks nsd, and through the validating unbound, for the
// _mta-sts and _smtp._tls records of the MTA-STS scenarios of the test zone
// (<d>.sts.test, see .ci/testenv.d/test.zone).
func TestIntegrationTXT(t *testing.T) {
	env := testenv.Require(t)
	r := newTestResolver(t, 2*time.Second, 2, env.Resolver)
	for _, tc := range []struct{ name, want string }{
		{"_mta-sts.enforce.sts.test", `answer rcode="NOERROR" name=_mta-sts.enforce.sts.test ["v=STSv1; id=enforce1"]`},
		{"_MTA-STS.Enforce.STS.test.", `answer rcode="NOERROR" name=_mta-sts.enforce.sts.test ["v=STSv1; id=enforce1"]`},
		{"_mta-sts.noid.sts.test", `answer rcode="NOERROR" name=_mta-sts.noid.sts.test ["v=STSv1;"]`},
		// Two records: both kept; nsd may send them in any order.
		{"_mta-sts.duptxt.sts.test", `answer rcode="NOERROR" name=_mta-sts.duptxt.sts.test ["v=STSv1; id=dup1" "v=STSv1; id=dup2"]`},
		// RFC 8461 section 3.1: the record may be an alias.
		{"_mta-sts.cnametxt.sts.test", `answer rcode="NOERROR" name=_mta-sts.cnametxt.sts.test cname=_mta-sts.enforce.sts.test ["v=STSv1; id=enforce1"]`},
		// No MTA-STS: the domain exists, _mta-sts under it does not.
		{"_mta-sts.nosts.sts.test", `nxdomain rcode="NXDOMAIN" name=_mta-sts.nosts.sts.test []`},
		// The policy host has an address and no TXT.
		{"mta-sts.enforce.sts.test", `nodata rcode="NOERROR" name=mta-sts.enforce.sts.test []`},
		{"_smtp._tls.enforce.sts.test", `answer rcode="NOERROR" name=_smtp._tls.enforce.sts.test ["v=TLSRPTv1; rua=mailto:tlsrpt@good.test"]`},
		{"_smtp._tls.uncovered.sts.test", `answer rcode="NOERROR" name=_smtp._tls.uncovered.sts.test ["v=TLSRPTv1"]`},
		{"_smtp._tls.testing.sts.test", `answer rcode="NOERROR" name=_smtp._tls.testing.sts.test ` +
			`["v=TLSRPTv1; rua=mailto:tlsrpt2@good.test" "v=TLSRPTv1; rua=mailto:tlsrpt@good.test"]`},
		{"_smtp._tls.nosts.sts.test", `nxdomain rcode="NXDOMAIN" name=_smtp._tls.nosts.sts.test []`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := r.TXT(testCtx(t, 10*time.Second), tc.name)
			slices.Sort(l.Records)
			if got := txtSummary(l); got != tc.want {
				t.Fatalf("TXT(%q)\nwant %s\ngot  %s (err %q)", tc.name, tc.want, got, l.Err)
			}
			if l.Security != SecurityUnchecked {
				t.Fatalf("TXT(%q): want security unchecked without trust_ad, got %s", tc.name, l.Security)
			}
		})
	}

	// Through a validating resolver trusted for its AD bit: the test zone
	// is not signed, so the records are insecure.
	t.Run("validating", func(t *testing.T) {
		v := newTestResolver(t, 2*time.Second, 2, env.ValidatingResolver)
		v.EnableValidation("dnssec.test.")
		l := v.TXT(testCtx(t, 10*time.Second), "_mta-sts.cnametxt.sts.test")
		want := `answer rcode="NOERROR" name=_mta-sts.cnametxt.sts.test cname=_mta-sts.enforce.sts.test ["v=STSv1; id=enforce1"]`
		if got := txtSummary(l); got != want || l.Security != SecurityInsecure {
			t.Fatalf("want %s insecure\ngot  %s %s (err %q)", want, got, l.Security, l.Err)
		}
	})
}
