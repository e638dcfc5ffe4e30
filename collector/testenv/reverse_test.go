package testenv

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// askDNS sends one question to server (recursion desired, as a stub resolver asks) and
// returns the answer, failing the test on a transport error.
func askDNS(t *testing.T, server, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	c := &dns.Client{Timeout: 5 * time.Second}
	r, _, err := c.Exchange(m, server)
	if err != nil {
		t.Fatalf("%s %s @%s: %v", name, dns.TypeToString[qtype], server, err)
	}
	return r
}

// rdata returns the data of the answer's records of qtype, sorted: addresses,
// PTR names, TXT strings joined.
func rdata(r *dns.Msg, qtype uint16) []string {
	var out []string
	for _, rr := range r.Answer {
		if rr.Header().Rrtype != qtype {
			continue
		}
		switch v := rr.(type) {
		case *dns.A:
			out = append(out, v.A.String())
		case *dns.AAAA:
			out = append(out, v.AAAA.String())
		case *dns.PTR:
			out = append(out, v.Ptr)
		case *dns.TXT:
			out = append(out, strings.Join(v.Txt, ""))
		case *dns.MX:
			out = append(out, v.Mx)
		}
	}
	slices.Sort(out)
	return out
}

// servers are the two resolvers every record must be answered by.
func servers(env *Env) map[string]string {
	return map[string]string{"nsd": env.Resolver, "unbound": env.ValidatingResolver}
}

// addressType is the forward record type of ip's family.
func addressType(ip netip.Addr) uint16 {
	if ip.Is4() {
		return dns.TypeA
	}
	return dns.TypeAAAA
}

// TestReverseZoneNames checks the zone names against an independent computation of
// the reverse names (miekg/dns), so that a mistyped nibble shows here.
func TestReverseZoneNames(t *testing.T) {
	for _, tc := range []struct{ zone, addr string }{
		{ReverseZoneIPv4, "127.0.1.0"},
		{ReverseZoneIPv6, "::1"},
	} {
		rev, err := dns.ReverseAddr(tc.addr)
		if err != nil {
			t.Fatal(err)
		}
		if tc.addr == "127.0.1.0" {
			rev = strings.TrimPrefix(rev, "0.")
		}
		if rev != tc.zone {
			t.Fatalf("zone of %s = %q, want %q", tc.addr, tc.zone, rev)
		}
	}
}

// TestReverseDNS asks nsd and unbound for the PTR of every address of PTRs and for
// the forward records of its name, and checks the status those answers make.
func TestReverseDNS(t *testing.T) {
	env := Require(t)
	for label, server := range servers(env) {
		for _, p := range PTRs() {
			t.Run(label+"/"+p.IP, func(t *testing.T) {
				t.Parallel()
				rev, err := dns.ReverseAddr(p.IP)
				if err != nil {
					t.Fatal(err)
				}
				r := askDNS(t, server, rev, dns.TypePTR)
				got := rdata(r, dns.TypePTR)
				if p.Name == "" {
					if r.Rcode != dns.RcodeNameError || len(got) != 0 {
						t.Fatalf("%s PTR: rcode %s, %q; want NXDOMAIN", rev, dns.RcodeToString[r.Rcode], got)
					}
					if p.Status != "no_ptr" {
						t.Fatalf("status %q, want no_ptr", p.Status)
					}
					return
				}
				if r.Rcode != dns.RcodeSuccess || !slices.Equal(got, []string{p.Name}) {
					t.Fatalf("%s PTR: rcode %s, %q; want NOERROR, [%s]", rev, dns.RcodeToString[r.Rcode], got, p.Name)
				}
				ip := netip.MustParseAddr(p.IP)
				f := askDNS(t, server, p.Name, addressType(ip))
				fwd := rdata(f, addressType(ip))
				if f.Rcode != dns.RcodeSuccess || !slices.Equal(fwd, p.Forward) {
					t.Fatalf("%s %s: rcode %s, %q; want NOERROR, %q", p.Name, dns.TypeToString[addressType(ip)], dns.RcodeToString[f.Rcode], fwd, p.Forward)
				}
				status := "not_confirmed"
				if slices.Contains(fwd, p.IP) {
					status = "confirmed"
				}
				if status != p.Status {
					t.Fatalf("%s: the answers make %s, the table says %s", p.IP, status, p.Status)
				}
			})
		}
	}
}

// TestReverseOthers checks what is outside the table: nsd has no PTR for the rest of
// 127.0.1.0/24, and unbound still answers 127.0.0.1 itself (so nothing under
// 127.in-addr.arpa. is asked of the root servers) but no longer ::1.
func TestReverseOthers(t *testing.T) {
	env := Require(t)
	for label, server := range servers(env) {
		for _, ip := range []string{"127.0.1.5", DeadIP} {
			rev, _ := dns.ReverseAddr(ip)
			if r := askDNS(t, server, rev, dns.TypePTR); r.Rcode != dns.RcodeNameError {
				t.Fatalf("%s: %s PTR: rcode %s, %q; want NXDOMAIN", label, rev, dns.RcodeToString[r.Rcode], rdata(r, dns.TypePTR))
			}
		}
		r := askDNS(t, server, ReverseZoneIPv6, dns.TypePTR)
		if got := rdata(r, dns.TypePTR); slices.Contains(got, "localhost.") {
			t.Fatalf("%s: ::1 PTR %q, want mx.v6.test. and not localhost.", label, got)
		}
	}
	r := askDNS(t, env.ValidatingResolver, "1.0.0.127.in-addr.arpa.", dns.TypePTR)
	if got := rdata(r, dns.TypePTR); !slices.Equal(got, []string{"localhost."}) {
		t.Fatalf("unbound: 127.0.0.1 PTR rcode %s, %q; want [localhost.] (its built-in zone)", dns.RcodeToString[r.Rcode], got)
	}
	// ptronly.other.test exists (a TXT), without address of either family: NODATA.
	for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
		if r := askDNS(t, env.Resolver, "ptronly.other.test", qtype); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 {
			t.Fatalf("ptronly.other.test %s: rcode %s, %d answers; want NOERROR without data", dns.TypeToString[qtype], dns.RcodeToString[r.Rcode], len(r.Answer))
		}
	}
}

// blocklistName computes the query name of subject in zone (RFC 5782 sections 2.1,
// 2.3, 2.4) independently of the table: an IPv4 address's octets reversed, an IPv6
// one's 32 nibbles reversed (an IPv4-mapped one too: it is asked as IPv6), a host
// name as it is, then the zone.
func blocklistName(t *testing.T, zone, subject string) string {
	t.Helper()
	ip, err := netip.ParseAddr(subject)
	if err != nil {
		return subject + "." + zone + "."
	}
	var labels []string
	if ip.Is4() {
		for _, b := range ip.As4() {
			labels = append([]string{fmt.Sprint(b)}, labels...)
		}
	} else {
		for _, b := range ip.As16() {
			labels = append([]string{fmt.Sprintf("%x", b&0xf), fmt.Sprintf("%x", b>>4)}, labels...) // least significant nibble first
		}
	}
	return strings.Join(labels, ".") + "." + zone + "."
}

// TestBlocklists asks both resolvers for the A and TXT records of every listing, and
// for subjects that must not be listed.
func TestBlocklists(t *testing.T) {
	env := Require(t)
	for label, server := range servers(env) {
		for _, l := range Listings() {
			t.Run(label+"/"+l.Query, func(t *testing.T) {
				t.Parallel()
				if want := blocklistName(t, l.Zone, l.Subject); l.Query != want {
					t.Fatalf("query name of %s in %s = %q, want %q", l.Subject, l.Zone, l.Query, want)
				}
				r := askDNS(t, server, l.Query, dns.TypeA)
				if got := rdata(r, dns.TypeA); r.Rcode != dns.RcodeSuccess || !slices.Equal(got, []string{l.A}) {
					t.Fatalf("%s A: rcode %s, %q; want [%s]", l.Query, dns.RcodeToString[r.Rcode], got, l.A)
				}
				var want []string
				if l.TXT != "" {
					want = []string{l.TXT}
				}
				r = askDNS(t, server, l.Query, dns.TypeTXT)
				if got := rdata(r, dns.TypeTXT); r.Rcode != dns.RcodeSuccess || !slices.Equal(got, want) {
					t.Fatalf("%s TXT: rcode %s, %q; want %q", l.Query, dns.RcodeToString[r.Rcode], got, want)
				}
				a := netip.MustParseAddr(l.A)
				verdict, why := "listed", ""
				switch {
				case !netip.MustParsePrefix("127.0.0.0/8").Contains(a):
					verdict, why = "error", "answer_invalid"
				case netip.MustParsePrefix("127.255.255.0/24").Contains(a):
					verdict, why = "error", "query_refused"
				}
				if verdict != l.Verdict || why != l.Error {
					t.Fatalf("%s: A %s makes %s %s, the table says %s %s", l.Query, l.A, verdict, why, l.Verdict, l.Error)
				}
			})
		}
		t.Run(label+"/not listed", func(t *testing.T) {
			t.Parallel()
			for _, l := range env.Listeners {
				if slices.ContainsFunc(Listings(), func(x Listing) bool { return x.Zone == BlocklistZone && x.Subject == l.IP }) {
					continue
				}
				q := blocklistName(t, BlocklistZone, l.IP)
				if r := askDNS(t, server, q, dns.TypeA); r.Rcode != dns.RcodeNameError {
					t.Fatalf("%s A: rcode %s, %q; want NXDOMAIN", q, dns.RcodeToString[r.Rcode], rdata(r, dns.TypeA))
				}
			}
			for _, q := range []string{
				blocklistName(t, BlocklistZone, "127.0.0.1"), // RFC 5782 section 5: never listed
				blocklistName(t, BlocklistZone, "::ffff:127.0.0.1"),
				blocklistName(t, DomainBlocklistZone, "invalid"),
				blocklistName(t, DomainBlocklistZone, "mx1.good.test"),
			} {
				if r := askDNS(t, server, q, dns.TypeA); r.Rcode != dns.RcodeNameError {
					t.Fatalf("%s A: rcode %s, %q; want NXDOMAIN", q, dns.RcodeToString[r.Rcode], rdata(r, dns.TypeA))
				}
			}
		})
		t.Run(label+"/wildcard", func(t *testing.T) {
			t.Parallel()
			for _, subject := range []string{"127.0.0.1", "127.0.0.2", "127.0.1.1", "::1", "::ffff:127.0.0.2"} {
				q := blocklistName(t, BrokenBlocklistZone, subject)
				if r := askDNS(t, server, q, dns.TypeA); r.Rcode != dns.RcodeSuccess || !slices.Equal(rdata(r, dns.TypeA), []string{"127.0.0.2"}) {
					t.Fatalf("%s A: rcode %s, %q; want [127.0.0.2]", q, dns.RcodeToString[r.Rcode], rdata(r, dns.TypeA))
				}
			}
		})
	}
}

// TestParityDNS checks the MX and addresses of every parity scenario through both
// resolvers.
func TestParityDNS(t *testing.T) {
	env := Require(t)
	for label, server := range servers(env) {
		for _, p := range ParityDomains() {
			if r := askDNS(t, server, p.Domain, dns.TypeMX); !slices.Contains(rdata(r, dns.TypeMX), p.MX+".") {
				t.Fatalf("%s: %s MX %q, want %s among them", label, p.Domain, rdata(r, dns.TypeMX), p.MX)
			}
			var got []string
			for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
				got = append(got, rdata(askDNS(t, server, p.MX, qtype), qtype)...)
			}
			if !slices.Equal(got, p.IPs) {
				t.Fatalf("%s: %s A and AAAA %q, want %q", label, p.MX, got, p.IPs)
			}
			var v4, v6 bool
			for _, ip := range p.IPs {
				v4 = v4 || netip.MustParseAddr(ip).Is4()
				v6 = v6 || netip.MustParseAddr(ip).Is6()
			}
			if want := map[[2]bool][]string{
				{true, true}:  {"both_pass", "ipv6_failing", "ipv4_failing", "both_failing"},
				{true, false}: {"ipv4_only"},
				{false, true}: {"ipv6_only"},
			}[[2]bool{v4, v6}]; !slices.Contains(want, p.Parity) {
				t.Fatalf("%s: addresses %q cannot make parity %s", p.MX, p.IPs, p.Parity)
			}
		}
	}
}

// TestParityRCPT has an SMTP dialogue with every address of every parity scenario:
// RCPT of its mailbox is refused (550 5.7.1) exactly where the table says, and the
// parity follows from which families accept it.
func TestParityRCPT(t *testing.T) {
	env := Require(t)
	env.LogOnFailure(t)
	for _, p := range ParityDomains() {
		t.Run(p.MX, func(t *testing.T) {
			t.Parallel()
			pass := map[bool]bool{} // by "is IPv4"
			for _, ip := range p.IPs {
				s := dial(t, net.JoinHostPort(ip, "25"))
				s.reply()
				s.cmd("EHLO probe.test", "250 ")
				s.cmd("MAIL FROM:<>", "250 2.1.0")
				refused := slices.Contains(p.Refused, ip)
				if refused {
					s.cmd("RCPT TO:<"+p.Mailbox+">", "550 5.7.1 <"+p.Mailbox+">: Recipient address rejected:")
				} else {
					s.cmd("RCPT TO:<"+p.Mailbox+">", "250 2.1.5")
				}
				s.cmd("QUIT", "221 2.0.0")
				is4 := netip.MustParseAddr(ip).Is4()
				pass[is4] = pass[is4] || !refused
			}
			_, has4 := pass[true]
			_, has6 := pass[false]
			var parity string
			switch {
			case !has6:
				parity = "ipv4_only"
			case !has4:
				parity = "ipv6_only"
			case pass[true] && pass[false]:
				parity = "both_pass"
			case pass[true]:
				parity = "ipv6_failing"
			case pass[false]:
				parity = "ipv4_failing"
			default:
				parity = "both_failing"
			}
			if parity != p.Parity {
				t.Fatalf("%s: the dialogues make %s, the table says %s", p.MX, parity, p.Parity)
			}
		})
	}
}
