// Package fakedns is a small in-process DNS server for the tests of the
// probe engine, on 127.0.0.1 only. It exists for what the real test servers
// (nsd and unbound, see collector/testenv) cannot be made to do on demand:
// count the questions asked (caching, sharing and "never asked" are judged
// by them), answer one name SERVFAIL or REFUSED, never answer, hold an
// answer until the test lets it go, change the data mid-test, truncate every
// UDP reply, refer elsewhere, and play a validating resolver whose AD bit
// the test controls. Everything a correct server shows is tested against
// the real ones.
//
// It imports nothing of the project, so that the internal tests of
// collector/probe/dnsmx can use it beside those of the packages built on
// dnsmx; Resolver takes the resolver's constructor for the same reason.
// Only tests import it.
package fakedns

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

// Zone answers from Records like a small authoritative server that chases
// CNAMEs within its data. A name exists when it owns a record (there are no
// empty non-terminals); a name that does not exists through the closest
// wildcard ("*.zone.") above it. The fields are set before the zone is
// served; the methods may be called at any time.
type Zone struct {
	Records    []dns.RR
	NoChase    bool          // answer a CNAME alone, like a server authoritative for the alias only
	Additional bool          // put the A/AAAA records of MX targets in the additional section
	ForceTC    bool          // answer every UDP query with TC set and nothing else
	Rcode      int           // when not 0, answer every query with this rcode and nothing else
	Referral   bool          // answer every query with a referral to another server
	Delay      time.Duration // wait before every reply

	// As a validating resolver: a reply to a query with DO gets the AD
	// bit when the name asked and every owner in its answer are at or
	// under one of Signed (canonical names), unless NoAD is set. It signs
	// nothing: AD is what it says, which is all a resolver's client reads.
	Signed []string
	NoAD   atomic.Bool

	mu      sync.Mutex
	rcodes  map[string]int  // Fail's keys
	bogus   map[string]bool // Bogus's keys
	silent  map[string]bool // canonical names never answered
	hold    map[string]chan struct{}
	arrived chan string
	counts  map[query]int
	order   []query // each distinct query in the order it first came
}

// query is one question as the zone saw it.
type query struct {
	network string // "udp" or "tcp"
	q       string // "MX good.fake."
	cd, do  bool
}

// keys are the forms Count and Total match a query by.
func (q query) keys() []string {
	k := []string{q.q, q.network + " " + q.q}
	if q.cd {
		k = append(k, "cd "+q.q)
	}
	if !q.do {
		k = append(k, "nodo")
	}
	return k
}

// Parse parses records in presentation format, one a line; names are
// absolute, the TTL and class optional.
func Parse(t testing.TB, text string) []dns.RR {
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

// canonicalKey makes a name ("Mx.Fake") or a type and a name ("AAAA
// mx.fake") the form the zone compares: "mx.fake.", "AAAA mx.fake.".
func canonicalKey(key string) string {
	if typ, name, ok := strings.Cut(key, " "); ok {
		return typ + " " + dns.CanonicalName(name)
	}
	return dns.CanonicalName(key)
}

// init makes the maps; z.mu is held.
func (z *Zone) init() {
	if z.counts == nil {
		z.rcodes, z.bogus, z.silent = map[string]int{}, map[string]bool{}, map[string]bool{}
		z.hold, z.counts = map[string]chan struct{}{}, map[query]int{}
		z.arrived = make(chan string, 64)
	}
}

// Set replaces the records of one name and type ("A", "TXT") with rdata
// ("127.0.0.2"), or removes them when rdata is empty.
func (z *Zone) Set(t testing.TB, name, qtype string, rdata ...string) {
	t.Helper()
	name = dns.CanonicalName(name)
	var add []dns.RR
	for _, d := range rdata {
		add = append(add, Parse(t, fmt.Sprintf("%s 60 IN %s %s\n", name, qtype, d))...)
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	kept := z.Records[:0:0]
	for _, rr := range z.Records {
		if !strings.EqualFold(rr.Header().Name, name) || dns.TypeToString[rr.Header().Rrtype] != qtype {
			kept = append(kept, rr)
		}
	}
	z.Records = append(kept, add...)
}

// Fail answers every question for key, a name ("broken.fake") or a type
// and a name ("AAAA mx.fake"), with rcode and nothing else; rcode 0 ends it.
func (z *Zone) Fail(key string, rcode int) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.init()
	if rcode == 0 {
		delete(z.rcodes, canonicalKey(key))
		return
	}
	z.rcodes[canonicalKey(key)] = rcode
}

// Bogus answers the questions for key (as for Fail) SERVFAIL unless they
// set the CD bit: a validating resolver's answer to data that fails
// validation.
func (z *Zone) Bogus(key string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.init()
	z.bogus[canonicalKey(key)] = true
}

// Silence leaves every question for name unanswered.
func (z *Zone) Silence(name string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.init()
	z.silent[dns.CanonicalName(name)] = true
}

// Hold makes the answers for name wait until release is called, or the
// test ends. Each held question is announced on Arrived when it comes.
func (z *Zone) Hold(t testing.TB, name string) (release func()) {
	ch := make(chan struct{})
	z.mu.Lock()
	z.init()
	z.hold[dns.CanonicalName(name)] = ch
	z.mu.Unlock()
	var once sync.Once
	release = func() { once.Do(func() { close(ch) }) }
	t.Cleanup(release) // before the server stops: the cleanups run in reverse
	return release
}

// Arrived announces the canonical name of each held question as it comes.
func (z *Zone) Arrived() <-chan string {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.init()
	return z.arrived
}

// Count returns how many queries came that match key exactly: "MX
// good.fake." (either transport), "udp MX good.fake." or "tcp MX
// good.fake.", "cd MX good.fake." (with the CD bit), or "nodo" (without the
// DO bit). Names are canonical, as the zone saw them.
func (z *Zone) Count(key string) int {
	return z.match(func(k string) bool { return k == key })
}

// Total counts the queries with a key (as for Count) that starts with
// prefix, each once: Total("udp TXT ") the TXT queries over UDP, Total("")
// every query.
func (z *Zone) Total(prefix string) int {
	return z.match(func(k string) bool { return strings.HasPrefix(k, prefix) })
}

func (z *Zone) match(f func(string) bool) int {
	z.mu.Lock()
	defer z.mu.Unlock()
	n := 0
	for q, c := range z.counts {
		for _, k := range q.keys() {
			if f(k) {
				n += c
				break
			}
		}
	}
	return n
}

// Questions returns the questions asked so far ("TXT _mta-sts.fake.test.")
// that start with prefix, each as many times as it came, in the order they
// first came.
func (z *Zone) Questions(prefix string) []string {
	z.mu.Lock()
	defer z.mu.Unlock()
	var out []string
	for _, q := range z.order {
		if strings.HasPrefix(q.q, prefix) {
			for range z.counts[q] {
				out = append(out, q.q)
			}
		}
	}
	return out
}

// isSigned tells whether name is at or under one of z.Signed.
func (z *Zone) isSigned(name string) bool {
	for _, zone := range z.Signed {
		if name == zone || strings.HasSuffix(name, "."+zone) {
			return true
		}
	}
	return false
}

// owned returns the records of name, or those of the closest wildcard above
// it with name as their owner; z.mu is held.
func (z *Zone) owned(name string) []dns.RR {
	var own []dns.RR
	for _, rr := range z.Records {
		if strings.EqualFold(rr.Header().Name, name) {
			own = append(own, rr)
		}
	}
	for parent := name; len(own) == 0; {
		_, rest, ok := strings.Cut(parent, ".")
		if !ok || rest == "" {
			break
		}
		parent = rest
		for _, rr := range z.Records {
			if strings.EqualFold(rr.Header().Name, "*."+parent) {
				rr = dns.Copy(rr)
				rr.Header().Name = name
				own = append(own, rr)
			}
		}
	}
	return own
}

// answer fills m with the records for q, chasing CNAMEs unless z.NoChase;
// z.mu is held.
func (z *Zone) answer(m *dns.Msg, q dns.Question) {
	name := dns.CanonicalName(q.Name)
	seen := map[string]bool{name: true}
	for {
		own := z.owned(name)
		if len(own) == 0 {
			m.Rcode = dns.RcodeNameError
			return
		}
		found := false
		var cname *dns.CNAME
		for _, rr := range own {
			if rr.Header().Rrtype == q.Qtype {
				m.Answer = append(m.Answer, rr)
				found = true
			} else if c, ok := rr.(*dns.CNAME); ok {
				cname = c
			}
		}
		if found || cname == nil {
			return
		}
		m.Answer = append(m.Answer, cname)
		next := dns.CanonicalName(cname.Target)
		if z.NoChase || seen[next] {
			return
		}
		seen[next] = true
		name = next
	}
}

// ServeDNS answers one query.
func (z *Zone) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	network := w.LocalAddr().Network()
	q := req.Question[0]
	qname := dns.CanonicalName(q.Name)
	typed := dns.TypeToString[q.Qtype] + " " + qname
	opt := req.IsEdns0()
	do := opt != nil && opt.Do()

	z.mu.Lock()
	z.init()
	seen := query{network: network, q: typed, cd: req.CheckingDisabled, do: do}
	if z.counts[seen] == 0 {
		z.order = append(z.order, seen)
	}
	z.counts[seen]++
	silent, hold, arrived := z.silent[qname], z.hold[qname], z.arrived
	rcode, failed := z.rcodes[typed]
	if !failed {
		rcode, failed = z.rcodes[qname]
	}
	if !failed && !req.CheckingDisabled && (z.bogus[qname] || z.bogus[typed]) {
		rcode, failed = dns.RcodeServerFailure, true
	}
	z.mu.Unlock()

	if silent {
		return
	}
	if hold != nil {
		arrived <- qname
		<-hold
	}
	time.Sleep(z.Delay)

	m := new(dns.Msg)
	m.SetReply(req)
	switch {
	case failed:
		m.Rcode = rcode
		_ = w.WriteMsg(m)
		return
	case z.Rcode != 0:
		m.Rcode = z.Rcode
		_ = w.WriteMsg(m)
		return
	case network == "udp" && z.ForceTC:
		m.Truncated = true
		_ = w.WriteMsg(m)
		return
	case z.Referral:
		m.Ns = append(m.Ns, &dns.NS{Hdr: dns.RR_Header{Name: "fake.", Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 60}, Ns: "ns.elsewhere."})
		_ = w.WriteMsg(m)
		return
	}
	m.Authoritative = true
	z.mu.Lock()
	z.answer(m, q)
	if z.Additional {
		for _, rr := range m.Answer {
			if mx, ok := rr.(*dns.MX); ok {
				for _, a := range z.Records {
					t := a.Header().Rrtype
					if (t == dns.TypeA || t == dns.TypeAAAA) && strings.EqualFold(a.Header().Name, mx.Mx) {
						m.Extra = append(m.Extra, a)
					}
				}
			}
		}
	}
	z.mu.Unlock()
	if len(m.Answer) == 0 {
		m.Ns = append(m.Ns, &dns.SOA{Hdr: dns.RR_Header{Name: "fake.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 60},
			Ns: "ns.fake.", Mbox: "hostmaster.fake.", Serial: 1, Refresh: 3600, Retry: 600, Expire: 86400, Minttl: 60})
	}
	if do && !z.NoAD.Load() {
		m.AuthenticatedData = z.isSigned(qname)
		for _, rr := range m.Answer {
			m.AuthenticatedData = m.AuthenticatedData && z.isSigned(dns.CanonicalName(rr.Header().Name))
		}
	}
	if opt != nil {
		m.SetEdns0(opt.UDPSize(), do)
	}
	if network == "udp" {
		size := dns.MinMsgSize
		if opt != nil {
			size = int(opt.UDPSize())
		}
		m.Truncate(size)
	}
	_ = w.WriteMsg(m)
}

// Serve starts h on UDP and TCP on the same 127.0.0.1 port and returns
// "127.0.0.1:port". The servers stop at the end of the test.
func Serve(t testing.TB, h dns.Handler) string {
	t.Helper()
	pc, ln := listenPair(t)
	start(t, &dns.Server{PacketConn: pc, Handler: h})
	start(t, &dns.Server{Listener: ln, Handler: h})
	return pc.LocalAddr().String()
}

// ServeUDP starts h on UDP only, on a 127.0.0.1 port where nothing listens
// on TCP: a server whose truncated replies lead nowhere.
func ServeUDP(t testing.TB, h dns.Handler) string {
	t.Helper()
	pc, ln := listenPair(t)
	_ = ln.Close()
	start(t, &dns.Server{PacketConn: pc, Handler: h})
	return pc.LocalAddr().String()
}

// start runs srv until the end of the test.
func start(t testing.TB, srv *dns.Server) {
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.ActivateAndServe()
	}()
	<-started
	t.Cleanup(func() {
		_ = srv.Shutdown()
		<-done
	})
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
		_ = pc.Close()
		if try == 20 {
			t.Fatalf("no 127.0.0.1 port free for both UDP and TCP: %v", err)
		}
	}
}

// Silent binds UDP and TCP on one 127.0.0.1 port and never answers. Each
// UDP datagram received is announced on the returned channel (when it has
// room: a test that does not read it loses nothing).
func Silent(t testing.TB) (string, <-chan struct{}) {
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
		_ = pc.Close()
		_ = ln.Close()
		<-done
	})
	return pc.LocalAddr().String(), got
}

// Mismatched answers every query with a reply to another question:
// "other.fake. IN MX".
var Mismatched = dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Question[0].Name = "other.fake."
	m.Answer = append(m.Answer, &dns.MX{Hdr: dns.RR_Header{Name: "other.fake.", Rrtype: dns.TypeMX, Class: dns.ClassINET, Ttl: 60},
		Preference: 10, Mx: "mx.other.fake."})
	_ = w.WriteMsg(m)
})

// Malformed answers every query with the right ID and a reply cut short in
// the middle of its answer record.
var Malformed = dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Answer = append(m.Answer, &dns.MX{Hdr: dns.RR_Header{Name: req.Question[0].Name, Rrtype: dns.TypeMX, Class: dns.ClassINET, Ttl: 60},
		Preference: 10, Mx: "mx.somewhere.fake."})
	raw, err := m.Pack()
	if err != nil {
		panic(err)
	}
	_, _ = w.Write(raw[:len(raw)-5])
})

// Resolver builds a resolver asking servers with newResolver
// (dnsmx.NewResolver, which this package may not import: see the package
// comment) and fails the test when it refuses.
func Resolver[R any](t testing.TB, newResolver func([]string, time.Duration, int) (R, error), timeout time.Duration, attempts int, servers ...string) R {
	t.Helper()
	r, err := newResolver(servers, timeout, attempts)
	if err != nil {
		t.Fatalf("NewResolver(%v): %v", servers, err)
	}
	return r
}
