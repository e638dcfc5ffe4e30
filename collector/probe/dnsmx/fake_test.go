package dnsmx

// The in-process fake DNS servers of this file exist ONLY for what the real
// test server (nsd, serving zone "test." for integration_test.go) cannot be
// made to do: truncated UDP replies, SERVFAIL, REFUSED, referrals, silence,
// malformed and mismatched replies, forbidden records ("." among other MX, a
// CNAME loop), a huge MX set, and counting queries. Everything a correct
// authoritative server can show is tested against nsd.
//
// For DNSSEC, fakeZone also plays a validating resolver the way
// dnssec_test.go needs one and the real unbound cannot be made to behave on
// demand: the AD bit set or withheld per zone and switched off mid-test,
// SERVFAIL that turns into data with the CD bit (bogus) or does not, a slow
// self-check for the single-flight tests, and counts of the DO and CD bits
// it saw. It signs nothing: AD is what it says, which is all the resolver
// reads. What the real validator does is tested against unbound in
// integration_test.go.
//
// They listen on 127.0.0.1 only.

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// fakeZone answers from a list of records like a small authoritative server.
type fakeZone struct {
	rrs        []dns.RR
	noChase    bool // answer a CNAME alone, like a server authoritative for the alias only
	additional bool // put the A/AAAA records of MX targets in the additional section
	forceTC    bool // answer every UDP query with TC set and nothing else
	rcode      int  // when not 0, answer every query with this rcode and nothing else
	referral   bool // answer every query with a referral to another server

	// As a validating resolver: a reply to a query with DO gets the AD
	// bit when the name asked and every owner in its answer are at or
	// under one of signed (canonical names), unless noAD is set.
	signed []string
	noAD   atomic.Bool
	// Questions answered SERVFAIL: bogus ones unless CD is set, broken
	// ones whatever the CD bit. Keys are canonical names ("mx.sig.fake.",
	// every type) or a type and a name ("AAAA mx.sig.fake.").
	bogus  map[string]bool
	broken map[string]bool
	delay  time.Duration // wait before every reply

	mu     sync.Mutex
	counts map[string]int // "udp MX good.fake.", "tcp A mx1.good.fake.", …; also "cd MX good.fake." and "nodo"
}

// isSigned tells whether name is at or under one of z.signed.
func (z *fakeZone) isSigned(name string) bool {
	for _, zone := range z.signed {
		if name == zone || strings.HasSuffix(name, "."+zone) {
			return true
		}
	}
	return false
}

// parseZone parses records in presentation format, one a line; names are
// absolute, the TTL and class optional.
func parseZone(t testing.TB, text string) []dns.RR {
	t.Helper()
	var rrs []dns.RR
	for line := range strings.Lines(text) {
		if strings.TrimSpace(line) == "" {
			continue
		}
		rr, err := dns.NewRR(line)
		if err != nil {
			t.Fatalf("bad test record %q: %v", line, err)
		}
		rrs = append(rrs, rr)
	}
	return rrs
}

func (z *fakeZone) count(key string) int {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.counts[key]
}

// total counts the queries whose key starts with prefix.
func (z *fakeZone) total(prefix string) int {
	z.mu.Lock()
	defer z.mu.Unlock()
	n := 0
	for k, v := range z.counts {
		if strings.HasPrefix(k, prefix) {
			n += v
		}
	}
	return n
}

func (z *fakeZone) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	udp := w.LocalAddr().Network() == "udp"
	q := req.Question[0]
	z.mu.Lock()
	if z.counts == nil {
		z.counts = map[string]int{}
	}
	z.counts[fmt.Sprintf("%s %s %s", w.LocalAddr().Network(), dns.TypeToString[q.Qtype], dns.CanonicalName(q.Name))]++
	if req.CheckingDisabled {
		z.counts[fmt.Sprintf("cd %s %s", dns.TypeToString[q.Qtype], dns.CanonicalName(q.Name))]++
	}
	opt := req.IsEdns0()
	do := opt != nil && opt.Do()
	if !do {
		z.counts["nodo"]++
	}
	z.mu.Unlock()
	time.Sleep(z.delay)

	m := new(dns.Msg)
	m.SetReply(req)
	qname := dns.CanonicalName(q.Name)
	typed := dns.TypeToString[q.Qtype] + " " + qname
	switch {
	case z.broken[qname], z.broken[typed], (z.bogus[qname] || z.bogus[typed]) && !req.CheckingDisabled:
		m.Rcode = dns.RcodeServerFailure
		w.WriteMsg(m)
		return
	case z.rcode != 0:
		m.Rcode = z.rcode
		w.WriteMsg(m)
		return
	case udp && z.forceTC:
		m.Truncated = true
		w.WriteMsg(m)
		return
	case z.referral:
		m.Ns = append(m.Ns, &dns.NS{Hdr: dns.RR_Header{Name: "fake.", Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 60}, Ns: "ns.elsewhere."})
		w.WriteMsg(m)
		return
	}
	m.Authoritative = true
	name := dns.CanonicalName(q.Name)
	seen := map[string]bool{name: true}
	for {
		exists, found := false, false
		var cname *dns.CNAME
		for _, rr := range z.rrs {
			h := rr.Header()
			if !strings.EqualFold(h.Name, name) {
				continue
			}
			exists = true
			if h.Rrtype == q.Qtype {
				m.Answer = append(m.Answer, rr)
				found = true
			} else if c, ok := rr.(*dns.CNAME); ok {
				cname = c
			}
		}
		if !exists {
			m.Rcode = dns.RcodeNameError
			break
		}
		if found || cname == nil {
			break
		}
		m.Answer = append(m.Answer, cname)
		next := dns.CanonicalName(cname.Target)
		if z.noChase || seen[next] {
			break
		}
		seen[next] = true
		name = next
	}
	if len(m.Answer) == 0 {
		m.Ns = append(m.Ns, &dns.SOA{Hdr: dns.RR_Header{Name: "fake.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 60},
			Ns: "ns.fake.", Mbox: "hostmaster.fake.", Serial: 1, Refresh: 3600, Retry: 600, Expire: 86400, Minttl: 60})
	}
	if z.additional {
		for _, rr := range m.Answer {
			if mx, ok := rr.(*dns.MX); ok {
				for _, a := range z.rrs {
					t := a.Header().Rrtype
					if (t == dns.TypeA || t == dns.TypeAAAA) && strings.EqualFold(a.Header().Name, mx.Mx) {
						m.Extra = append(m.Extra, a)
					}
				}
			}
		}
	}
	if do && !z.noAD.Load() {
		m.AuthenticatedData = z.isSigned(qname)
		for _, rr := range m.Answer {
			m.AuthenticatedData = m.AuthenticatedData && z.isSigned(dns.CanonicalName(rr.Header().Name))
		}
	}
	if opt != nil {
		m.SetEdns0(opt.UDPSize(), do)
	}
	if udp {
		size := dns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil {
			size = int(opt.UDPSize())
		}
		m.Truncate(size)
	}
	w.WriteMsg(m)
}

// serve starts h on UDP and TCP on the same 127.0.0.1 port and returns
// "127.0.0.1:port". The servers stop at the end of the test.
func serve(t testing.TB, h dns.Handler) string {
	t.Helper()
	pc, ln := listenPair(t)
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		done := make(chan struct{})
		go func() {
			defer close(done)
			srv.ActivateAndServe()
		}()
		<-started
		t.Cleanup(func() {
			srv.Shutdown()
			<-done
		})
	}
	return pc.LocalAddr().String()
}

// listenPair binds UDP and TCP on one free 127.0.0.1 port.
func listenPair(t testing.TB) (net.PacketConn, net.Listener) {
	t.Helper()
	for try := 0; ; try++ {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("listen udp: %v", err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln
		}
		pc.Close()
		if try == 20 {
			t.Fatalf("no 127.0.0.1 port free for both UDP and TCP: %v", err)
		}
	}
}

// silent binds UDP and TCP on one 127.0.0.1 port and never answers. Each
// UDP datagram received is announced on the returned channel.
func silent(t testing.TB) (string, <-chan struct{}) {
	t.Helper()
	pc, ln := listenPair(t)
	got := make(chan struct{}, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
			select {
			case got <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		pc.Close()
		ln.Close()
		<-done
	})
	return pc.LocalAddr().String(), got
}

// mismatched answers every query with a reply to another question.
var mismatched = dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Question[0].Name = "other.fake."
	m.Answer = append(m.Answer, &dns.MX{Hdr: dns.RR_Header{Name: "other.fake.", Rrtype: dns.TypeMX, Class: dns.ClassINET, Ttl: 60},
		Preference: 10, Mx: "mx.other.fake."})
	w.WriteMsg(m)
})

// malformed answers every query with the right ID and a reply cut short in
// the middle of its answer record.
var malformed = dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Answer = append(m.Answer, &dns.MX{Hdr: dns.RR_Header{Name: req.Question[0].Name, Rrtype: dns.TypeMX, Class: dns.ClassINET, Ttl: 60},
		Preference: 10, Mx: "mx.somewhere.fake."})
	raw, err := m.Pack()
	if err != nil {
		panic(err)
	}
	w.Write(raw[:len(raw)-5])
})
