package dnsbl

// The in-process fake DNS server of this file exists ONLY for what the real
// test server (nsd, zone "test.", see integration_test.go) cannot be made to
// do: count the queries it gets (caching and sharing are judged by them),
// hold an answer until the test lets it go, change its answers mid-test (a
// zone that turns unhealthy), answer SERVFAIL, or never answer. Everything a
// correct blocklist zone shows is tested against nsd. It listens on
// 127.0.0.1 only, as in collector/probe/dnsmx/fake_test.go.

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
)

// fakeList answers like a small authoritative server for blocklist zones.
type fakeList struct {
	mu  sync.Mutex
	rrs []dns.RR
	// wildcard zones (canonical names) answer A 127.0.0.2 for every name
	// under them without a record of its own: a list that lists all.
	wildcard map[string]bool
	servfail map[string]bool          // canonical names answered SERVFAIL
	silent   map[string]bool          // canonical names never answered
	hold     map[string]chan struct{} // canonical names answered once the channel is closed
	arrived  chan string              // each held query, announced on arrival
	counts   map[string]int           // "A 2.0.0.127.bl.fake.", "TXT …"
}

func newFakeList(t testing.TB, records string) *fakeList {
	t.Helper()
	l := &fakeList{
		wildcard: map[string]bool{},
		servfail: map[string]bool{},
		silent:   map[string]bool{},
		hold:     map[string]chan struct{}{},
		arrived:  make(chan string, 64),
		counts:   map[string]int{},
	}
	for line := range strings.Lines(records) {
		if strings.TrimSpace(line) == "" {
			continue
		}
		rr, err := dns.NewRR(line)
		if err != nil {
			t.Fatalf("bad test record %q: %v", line, err)
		}
		l.rrs = append(l.rrs, rr)
	}
	return l
}

// set changes one of the fake's maps under its lock.
func (l *fakeList) set(m map[string]bool, name string, on bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m[dns.CanonicalName(name)] = on
}

// holdName makes the answers for name wait until release is called.
func (l *fakeList) holdName(t testing.TB, name string) (release func()) {
	ch := make(chan struct{})
	l.mu.Lock()
	l.hold[dns.CanonicalName(name)] = ch
	l.mu.Unlock()
	var once sync.Once
	release = func() { once.Do(func() { close(ch) }) }
	t.Cleanup(release) // before the server stops: the cleanups run in reverse
	return release
}

// count returns how many queries of qtype ("A", "TXT") for name came.
func (l *fakeList) count(qtype, name string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts[qtype+" "+dns.CanonicalName(name)]
}

func (l *fakeList) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	q := req.Question[0]
	name := dns.CanonicalName(q.Name)
	l.mu.Lock()
	l.counts[dns.TypeToString[q.Qtype]+" "+name]++
	silent, servfail, hold := l.silent[name], l.servfail[name], l.hold[name]
	var answer []dns.RR
	exists := false
	for _, rr := range l.rrs {
		if !strings.EqualFold(rr.Header().Name, name) {
			continue
		}
		exists = true
		if rr.Header().Rrtype == q.Qtype {
			answer = append(answer, rr)
		}
	}
	if !exists {
		for zone, on := range l.wildcard {
			if on && strings.HasSuffix(name, "."+zone) {
				exists = true
				if q.Qtype == dns.TypeA {
					answer = append(answer, &dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
						A: net.IPv4(127, 0, 0, 2)})
				}
			}
		}
	}
	l.mu.Unlock()
	if silent {
		return
	}
	if hold != nil {
		l.arrived <- name
		<-hold
	}
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	switch {
	case servfail:
		m.Rcode = dns.RcodeServerFailure
	case !exists:
		m.Rcode = dns.RcodeNameError
	}
	m.Answer = answer
	if len(answer) == 0 {
		m.Ns = append(m.Ns, &dns.SOA{Hdr: dns.RR_Header{Name: "fake.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 60},
			Ns: "ns.fake.", Mbox: "hostmaster.fake.", Serial: 1, Refresh: 3600, Retry: 600, Expire: 86400, Minttl: 60})
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

func newTestResolver(t testing.TB, timeout time.Duration, servers ...string) *dnsmx.Resolver {
	t.Helper()
	r, err := dnsmx.NewResolver(servers, timeout, 1)
	if err != nil {
		t.Fatalf("NewResolver(%v): %v", servers, err)
	}
	return r
}

func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newTestChecker returns a Checker on clock.
func newTestChecker(ttl, healthInterval time.Duration, clock *fakeClock) *Checker {
	c := NewChecker(ttl, healthInterval)
	c.now = clock.Now
	return c
}

// summary is a Result in one line, for comparisons.
func summary(r Result) string {
	s := fmt.Sprintf("%s %s %s", r.Zone, r.Query, r.Verdict)
	if r.Error != "" {
		s += " " + string(r.Error)
	}
	if len(r.Codes) > 0 {
		s += fmt.Sprintf(" %v", r.Codes)
	}
	if r.Reason != "" {
		s += fmt.Sprintf(" reason=%q", r.Reason)
	}
	if r.Cached {
		s += " cached"
	}
	return s
}
