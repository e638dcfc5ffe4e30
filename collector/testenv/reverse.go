package testenv

import (
	"context"
	"fmt"
	"time"

	"github.com/miekg/dns"
)

// Reverse DNS, blocklists and IPv6 parity (issue 13). The records are in
// .ci/testenv.d/reverse-127.0.1.zone, reverse-ipv6-loopback.zone and test.zone;
// nsd serves them and the validating unbound answers them too (insecure: no AD).
const (
	// ReverseZoneIPv4 is nsd's reverse zone of 127.0.1.0/24 (RFC 1035 section 3.5).
	// unbound, which answers the rest of 127.in-addr.arpa. itself (127.0.0.1 is
	// "localhost."), asks nsd for it.
	ReverseZoneIPv4 = "1.0.127.in-addr.arpa."
	// ReverseZoneIPv6 is nsd's zone of the reverse name of ::1 (RFC 3596 section
	// 2.5), whose built-in answer "localhost." unbound is told to forget.
	ReverseZoneIPv6 = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa."

	// BlocklistZone is a healthy address blocklist (RFC 5782 sections 2.1, 2.4,
	// 5): it lists 127.0.0.2 and ::ffff:127.0.0.2 (test entries), not 127.0.0.1;
	// see Blocklist for what it answers for the listeners' addresses.
	BlocklistZone = "bl.test"
	// BrokenBlocklistZone lists every address (a wildcard, A 127.0.0.2),
	// 127.0.0.1 too: unhealthy.
	BrokenBlocklistZone = "brokenbl.test"
	// DomainBlocklistZone is a healthy domain blocklist (RFC 5782 sections 2.3,
	// 5): "test" listed, "invalid" not; it lists mx.relay.test.
	DomainBlocklistZone = "dbl.test"

	// The IPv6 parity domains: each has one MX host with A and AAAA ::1 (mx.v6.test's
	// listener); see Parity.
	DualStackDomain   = "dual.test"     // mx.dual.test, 127.0.1.1 and ::1: both accept MailboxOK
	IPv6FailingDomain = "v6broken.test" // mx.v6broken.test, 127.0.1.1 and ::1
	IPv4FailingDomain = "v4broken.test" // mx.v4broken.test, 127.0.1.2 and ::1
	// MailboxIPv6Failing: RCPT 250 2.1.5 at 127.0.1.1, "550 5.7.1" at [::1].
	MailboxIPv6Failing = "postmaster@v6broken.test"
	// MailboxIPv4Failing: RCPT "550 5.7.1" at 127.0.1.2, 250 2.1.5 at [::1].
	MailboxIPv4Failing = "postmaster@v4broken.test"
)

// PTR is the reverse DNS of one address: its PTR name and what that name resolves
// to in the address's family.
type PTR struct {
	IP      string   // "127.0.1.3" or "::1"
	Name    string   // the PTR target, fully qualified; "" when none (NXDOMAIN)
	Forward []string // Name's A (IPv4) or AAAA (IPv6) records; none when NOERROR without data
	// Status is the rdns status a lookup must give (rdns.Status): "confirmed",
	// "not_confirmed" or "no_ptr".
	Status string
}

// The reverse DNS of the listeners' addresses, in the order of the addresses. The
// others of 127.0.1.0/24 (127.0.1.5, DeadIP) have no PTR either.
var ptrs = []PTR{
	{IP: "127.0.1.1", Name: "mx1.good.test.", Forward: []string{"127.0.1.1"}, Status: "confirmed"},
	{IP: "127.0.1.2", Name: "mx2.good.test.", Forward: []string{"127.0.1.2"}, Status: "confirmed"},
	// mx.relay.test's listener: its banner and its MX say mx.relay.test.
	{IP: "127.0.1.3", Name: "mail.other.test.", Forward: []string{"127.0.1.3"}, Status: "confirmed"},
	{IP: "127.0.1.4", Name: "mx.reject.test.", Forward: []string{"127.0.1.4"}, Status: "confirmed"},
	{IP: "127.0.1.6", Name: "mx.multiline.test.", Forward: []string{"127.0.1.6"}, Status: "confirmed"},
	{IP: "127.0.1.7", Name: "mx.tls.test.", Forward: []string{"127.0.1.7"}, Status: "confirmed"},
	// mx.greylist.test's listener: the PTR name has no A/AAAA (NOERROR, a TXT only).
	{IP: "127.0.1.8", Name: "ptronly.other.test.", Status: "not_confirmed"},
	// mx.slow.test's listener: NXDOMAIN.
	{IP: "127.0.1.9", Status: "no_ptr"},
	// mx.notls.test's listener: the PTR name resolves to another address.
	{IP: "127.0.1.10", Name: "wrongaddr.other.test.", Forward: []string{"127.0.1.99"}, Status: "not_confirmed"},
	{IP: "127.0.1.11", Name: "mx.chain.test.", Forward: []string{"127.0.1.11"}, Status: "confirmed"},
	{IP: "127.0.1.12", Name: "mx.expired.test.", Forward: []string{"127.0.1.12"}, Status: "confirmed"},
	{IP: "127.0.1.13", Name: "mx.nopipe.test.", Forward: []string{"127.0.1.13"}, Status: "confirmed"},
	{IP: "::1", Name: "mx.v6.test.", Forward: []string{"::1"}, Status: "confirmed"},
}

// PTRs returns the reverse DNS of every listener's address.
func PTRs() []PTR { return append([]PTR(nil), ptrs...) }

// Listing is what a blocklist zone answers for one subject.
type Listing struct {
	Zone    string // BlocklistZone, BrokenBlocklistZone or DomainBlocklistZone
	Subject string // the address or host name asked about: "127.0.1.3", "::1", "mx.relay.test"
	Query   string // the name asked, fully qualified: "3.1.0.127.bl.test."
	A       string // the A record
	TXT     string // the TXT record; "" when none
	// Verdict is what dnsbl must make of it (dnsbl.Verdict): "listed" or "error";
	// Error the dnsbl.Error of an "error".
	Verdict, Error string
}

// The blocklist records of BlocklistZone and DomainBlocklistZone. Every other
// subject is NXDOMAIN in them (not listed); BrokenBlocklistZone answers A 127.0.0.2
// for every name under it.
var listings = []Listing{
	{Zone: BlocklistZone, Subject: "127.0.0.2", Query: "2.0.0.127.bl.test.", A: "127.0.0.2", TXT: "test entry", Verdict: "listed"},
	{Zone: BlocklistZone, Subject: "::ffff:127.0.0.2", Query: "2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.bl.test.", A: "127.0.0.2", Verdict: "listed"},
	{Zone: BlocklistZone, Subject: "127.0.1.3", Query: "3.1.0.127.bl.test.", A: "127.0.0.4", TXT: "127.0.1.3 listed: open relay (test listing)", Verdict: "listed"},
	{Zone: BlocklistZone, Subject: "127.0.1.8", Query: "8.1.0.127.bl.test.", A: "127.255.255.254", Verdict: "error", Error: "query_refused"},
	{Zone: BlocklistZone, Subject: "127.0.1.9", Query: "9.1.0.127.bl.test.", A: "192.0.2.9", Verdict: "error", Error: "answer_invalid"},
	{Zone: BlocklistZone, Subject: "::1", Query: "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.bl.test.", A: "127.0.0.3", TXT: "::1 listed (IPv6 test listing)", Verdict: "listed"},
	{Zone: DomainBlocklistZone, Subject: "test", Query: "test.dbl.test.", A: "127.0.0.2", Verdict: "listed"},
	{Zone: DomainBlocklistZone, Subject: "mx.relay.test", Query: "mx.relay.test.dbl.test.", A: "127.0.1.2", TXT: "mx.relay.test listed (test listing)", Verdict: "listed"},
}

// Listings returns the records of the blocklist zones.
func Listings() []Listing { return append([]Listing(nil), listings...) }

// ParityDomain is an IPv6 parity scenario: a domain, one of its MX hosts (parity is
// per MX host) and what that host's addresses answer to RCPT of Mailbox.
type ParityDomain struct {
	Domain  string
	MX      string   // the MX host
	IPs     []string // the MX host's addresses, IPv4 first
	Mailbox string   // the recipient a module probes with
	Refused []string // the addresses that refuse Mailbox with "550 5.7.1"; the others accept it
	Parity  string   // what probe.Parity must be
}

var parityDomains = []ParityDomain{
	{Domain: DualStackDomain, MX: "mx.dual.test", IPs: []string{"127.0.1.1", "::1"}, Mailbox: MailboxOK, Parity: "both_pass"},
	{Domain: IPv6FailingDomain, MX: "mx.v6broken.test", IPs: []string{"127.0.1.1", "::1"}, Mailbox: MailboxIPv6Failing, Refused: []string{"::1"}, Parity: "ipv6_failing"},
	{Domain: IPv4FailingDomain, MX: "mx.v4broken.test", IPs: []string{"127.0.1.2", "::1"}, Mailbox: MailboxIPv4Failing, Refused: []string{"127.0.1.2"}, Parity: "ipv4_failing"},
	{Domain: "good.test", MX: "mx1.good.test", IPs: []string{"127.0.1.1"}, Mailbox: MailboxOK, Parity: "ipv4_only"},
	{Domain: "good.test", MX: "mx2.good.test", IPs: []string{"127.0.1.2"}, Mailbox: MailboxOK, Parity: "ipv4_only"},
	{Domain: "v6.test", MX: "mx.v6.test", IPs: []string{"::1"}, Mailbox: "postmaster@v6.test", Parity: "ipv6_only"},
}

// ParityDomains returns the IPv6 parity scenarios, one per MX host: the three
// domains of both families, good.test's two hosts (IPv4 only) and v6.test (IPv6 only).
func ParityDomains() []ParityDomain {
	out := make([]ParityDomain, len(parityDomains))
	for i, p := range parityDomains {
		p.IPs = append([]string(nil), p.IPs...)
		p.Refused = append([]string(nil), p.Refused...)
		out[i] = p
	}
	return out
}

// checkReverse asks the validating unbound for the PTR of 127.0.1.1 and of ::1: the
// first needs its stub zone to nsd, the second also that its built-in "localhost."
// was turned off.
func checkReverse(ctx context.Context) error {
	c := &dns.Client{Timeout: 3 * time.Second}
	for _, want := range []struct{ name, ptr string }{
		{"1.1.0.127.in-addr.arpa.", "mx1.good.test."},
		{ReverseZoneIPv6, "mx.v6.test."},
	} {
		m := new(dns.Msg)
		m.SetQuestion(want.name, dns.TypePTR)
		r, _, err := c.ExchangeContext(ctx, m, ValidatingResolverAddr)
		if err == nil {
			var got []string
			for _, rr := range r.Answer {
				if p, ok := rr.(*dns.PTR); ok {
					got = append(got, p.Ptr)
				}
			}
			if r.Rcode != dns.RcodeSuccess || len(got) != 1 || got[0] != want.ptr {
				err = fmt.Errorf("rcode %s, PTR %q, want %s (reverse zones not set up)", dns.RcodeToString[r.Rcode], got, want.ptr)
			}
		}
		if err != nil {
			return fmt.Errorf("DNS %s: %s PTR: %w", ValidatingResolverAddr, want.name, err)
		}
	}
	return nil
}
