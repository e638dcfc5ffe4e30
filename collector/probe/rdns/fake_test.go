package rdns

// The in-process fake DNS server of this file exists only for what the
// real test servers (nsd and unbound, asked in integration_test.go) cannot
// be made to do on demand: SERVFAIL for one name, silence, hostile PTR
// sets, and counting the forward queries. It listens on 127.0.0.1 only.

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
)

// fakeDNS answers from a list of records like a small authoritative
// server that chases CNAMEs within its data.
type fakeDNS struct {
	rrs    []dns.RR
	rcodes map[string]int // canonical name → rcode to answer every query for it with

	mu     sync.Mutex
	counts map[string]int // "A mx.fake.", "PTR 1.2.0.127.in-addr.arpa."
}

func newFake(t testing.TB, records string) *fakeDNS {
	t.Helper()
	f := &fakeDNS{rcodes: map[string]int{}, counts: map[string]int{}}
	for line := range strings.Lines(records) {
		if strings.TrimSpace(line) == "" {
			continue
		}
		rr, err := dns.NewRR(line)
		if err != nil {
			t.Fatalf("bad test record %q: %v", line, err)
		}
		f.rrs = append(f.rrs, rr)
	}
	return f
}

// asked counts the queries of one type ("A", "AAAA", "PTR").
func (f *fakeDNS) asked(qtype string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for k, v := range f.counts {
		if strings.HasPrefix(k, qtype+" ") {
			n += v
		}
	}
	return n
}

func (f *fakeDNS) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	q := req.Question[0]
	name := dns.CanonicalName(q.Name)
	f.mu.Lock()
	f.counts[dns.TypeToString[q.Qtype]+" "+name]++
	f.mu.Unlock()
	m := new(dns.Msg)
	m.SetReply(req)
	if rc, ok := f.rcodes[name]; ok {
		m.Rcode = rc
		w.WriteMsg(m)
		return
	}
	m.Authoritative = true
	for seen := map[string]bool{name: true}; ; {
		exists, found := false, false
		var cname *dns.CNAME
		for _, rr := range f.rrs {
			if !strings.EqualFold(rr.Header().Name, name) {
				continue
			}
			exists = true
			if rr.Header().Rrtype == q.Qtype {
				m.Answer, found = append(m.Answer, rr), true
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
		name = dns.CanonicalName(cname.Target)
		if seen[name] {
			break
		}
		seen[name] = true
	}
	w.WriteMsg(m)
}

// serve starts h over UDP on 127.0.0.1 and returns its address; it stops
// at the end of the test. The replies here are small: no TCP needed.
func serve(t testing.TB, h dns.Handler) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen udp: %v", err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: h}
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
	return pc.LocalAddr().String()
}

// silent binds UDP on 127.0.0.1 and never answers.
func silent(t testing.TB) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen udp: %v", err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc.LocalAddr().String()
}

func newResolver(t testing.TB, timeout time.Duration, servers ...string) *dnsmx.Resolver {
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
