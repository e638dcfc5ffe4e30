package fakedns

import (
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// ask sends one question to addr over network and returns the reply.
func ask(t *testing.T, network, addr, name string, qtype uint16, cd bool) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.CheckingDisabled = cd
	m.SetEdns0(1232, true)
	c := &dns.Client{Net: network, Timeout: 5 * time.Second}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %s %s: %v", network, dns.TypeToString[qtype], name, err)
	}
	return r
}

// TestZone: the answers, the wildcard and its switch, the per-name hooks,
// and the counts the tests of the engine judge by.
func TestZone(t *testing.T) {
	z := &Zone{Records: Parse(t, `
a.fake.       A     127.0.0.1
alias.fake.   CNAME a.fake.
2.bl.fake.    A     127.0.0.4
`)}
	addr := Serve(t, z)
	if r := ask(t, "udp", addr, "alias.fake", dns.TypeA, false); len(r.Answer) != 2 || r.Rcode != dns.RcodeSuccess || !r.Authoritative {
		t.Fatalf("CNAME chase: %v", r)
	}
	if r := ask(t, "tcp", addr, "x.bl.fake", dns.TypeA, false); r.Rcode != dns.RcodeNameError || len(r.Ns) != 1 {
		t.Fatalf("no wildcard yet: want NXDOMAIN with an SOA, got %v", r)
	}
	z.Set(t, "*.bl.fake", "A", "127.0.0.2")
	if r := ask(t, "udp", addr, "x.y.bl.fake", dns.TypeA, false); len(r.Answer) != 1 || r.Answer[0].Header().Name != "x.y.bl.fake." {
		t.Fatalf("wildcard: %v", r)
	}
	if r := ask(t, "udp", addr, "2.bl.fake", dns.TypeA, false); len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "127.0.0.4" {
		t.Fatalf("a name of its own beside the wildcard: %v", r)
	}
	z.Set(t, "*.bl.fake", "A")
	if r := ask(t, "udp", addr, "x.y.bl.fake", dns.TypeA, false); r.Rcode != dns.RcodeNameError {
		t.Fatalf("wildcard removed: %v", r)
	}

	z.Fail("AAAA a.fake", dns.RcodeRefused)
	z.Bogus("alias.fake")
	if r := ask(t, "udp", addr, "a.fake", dns.TypeAAAA, false); r.Rcode != dns.RcodeRefused {
		t.Fatalf("Fail: %v", r)
	}
	if r := ask(t, "udp", addr, "a.fake", dns.TypeA, false); r.Rcode != dns.RcodeSuccess {
		t.Fatalf("Fail of another type: %v", r)
	}
	if r := ask(t, "udp", addr, "alias.fake", dns.TypeA, false); r.Rcode != dns.RcodeServerFailure {
		t.Fatalf("Bogus without CD: %v", r)
	}
	if r := ask(t, "udp", addr, "alias.fake", dns.TypeA, true); r.Rcode != dns.RcodeSuccess {
		t.Fatalf("Bogus with CD: %v", r)
	}

	if n := z.Count("A alias.fake."); n != 3 {
		t.Errorf(`Count("A alias.fake.") = %d, want 3`, n)
	}
	if n := z.Count("cd A alias.fake."); n != 1 {
		t.Errorf(`Count("cd A alias.fake.") = %d, want 1`, n)
	}
	if n := z.Count("tcp A x.bl.fake."); n != 1 {
		t.Errorf(`Count("tcp A x.bl.fake.") = %d, want 1`, n)
	}
	if n, want := z.Total(""), 9; n != want {
		t.Errorf(`Total("") = %d, want %d`, n, want)
	}
	if n := z.Total("udp A "); n != 7 {
		t.Errorf(`Total("udp A ") = %d, want 7`, n)
	}
	if n := z.Count("nodo"); n != 0 {
		t.Errorf(`Count("nodo") = %d, want 0`, n)
	}
	if q, want := z.Questions("A x."), []string{"A x.bl.fake.", "A x.y.bl.fake.", "A x.y.bl.fake."}; !slices.Equal(q, want) {
		t.Errorf("Questions: %v, want %v", q, want)
	}
}

// TestHoldAndSilence: a held answer comes once released; a silenced name
// and a silent server never answer.
func TestHoldAndSilence(t *testing.T) {
	z := &Zone{Records: Parse(t, "a.fake. A 127.0.0.1\nb.fake. A 127.0.0.1\n")}
	addr := Serve(t, z)
	release := z.Hold(t, "a.fake")
	got := make(chan *dns.Msg, 1)
	go func() {
		m := new(dns.Msg)
		m.SetQuestion("a.fake.", dns.TypeA)
		r, _, _ := (&dns.Client{Timeout: 5 * time.Second}).Exchange(m, addr)
		got <- r // nil on an error
	}()
	if name := <-z.Arrived(); name != "a.fake." {
		t.Fatalf("arrived %q", name)
	}
	select {
	case r := <-got:
		t.Fatalf("answered while held: %v", r)
	case <-time.After(50 * time.Millisecond):
	}
	release()
	if r := <-got; r == nil || len(r.Answer) != 1 {
		t.Fatalf("after release: %v", r)
	}

	z.Silence("b.fake")
	quiet, datagrams := Silent(t)
	for _, a := range []string{addr, quiet} {
		m := new(dns.Msg)
		m.SetQuestion("b.fake.", dns.TypeA)
		c := &dns.Client{Timeout: 100 * time.Millisecond}
		if r, _, err := c.Exchange(m, a); err == nil {
			t.Fatalf("%s answered: %v", a, r)
		}
	}
	<-datagrams
}
