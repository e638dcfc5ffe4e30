package dnsbl

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/testenv/fakedns"
)

// fakeRecords are the fake lists: bl.fake an address zone that passes its
// health check and lists 127.0.1.3, answers 127.0.1.8 with a refusal and
// 127.0.1.9 with an address outside 127/8; dbl.fake a domain zone that
// lists mx.relay.fake; empty.fake a zone without its test entry.
const fakeRecords = `
2.0.0.127.bl.fake.        A    127.0.0.2
3.1.0.127.bl.fake.        A    127.0.0.4
3.1.0.127.bl.fake.        TXT  "127.0.1.3 listed: open relay"
8.1.0.127.bl.fake.        A    127.255.255.254
9.1.0.127.bl.fake.        A    192.0.2.9
test.dbl.fake.            A    127.0.0.2
mx.relay.fake.dbl.fake.   A    127.0.1.2
mx.relay.fake.dbl.fake.   TXT  "mx.relay.fake listed"
empty.fake.               TXT  "a zone without entries"
`

var (
	blFake    = Zone{"bl.fake", KindAddress}
	dblFake   = Zone{"dbl.fake", KindDomain}
	wildFake  = Zone{"wild.fake", KindAddress}
	emptyFake = Zone{"empty.fake", KindAddress}
)

// fakeSetup is a fake list server, a resolver that asks it, and a Checker
// on a clock the test moves (cache TTL 15m, health interval 1h).
type fakeSetup struct {
	list  *fakedns.Zone
	r     *dnsmx.Resolver
	clock *fakeClock
	c     *Checker
}

func newFakeSetup(t *testing.T) *fakeSetup {
	t.Helper()
	l := &fakedns.Zone{Records: fakedns.Parse(t, fakeRecords)}
	l.Set(t, "*.wild.fake", "A", "127.0.0.2") // a list that lists all
	addr := fakedns.Serve(t, l)
	clock := newFakeClock()
	return &fakeSetup{list: l, r: newTestResolver(t, 300*time.Millisecond, addr), clock: clock,
		c: newTestChecker(15*time.Minute, time.Hour, clock)}
}

func (s *fakeSetup) checkAddr(t *testing.T, addr string, zones ...Zone) []Result {
	t.Helper()
	return s.c.CheckAddr(testCtx(t, 10*time.Second), s.r, zones, netip.MustParseAddr(addr))
}

// one checks addr in zone and returns the one result, compared with want
// when want is not "".
func (s *fakeSetup) one(t *testing.T, zone Zone, subject, want string) Result {
	t.Helper()
	var res []Result
	if zone.Kind == KindDomain {
		res = s.c.CheckName(testCtx(t, 10*time.Second), s.r, []Zone{zone}, subject)
	} else {
		res = s.checkAddr(t, subject, zone)
	}
	if len(res) != 1 {
		t.Fatalf("%s in %s: want one result, got %d: %+v", subject, zone.Name, len(res), res)
	}
	if want != "" && summary(res[0]) != want {
		t.Fatalf("%s in %s\nwant %s\ngot  %s (%s)", subject, zone.Name, want, summary(res[0]), res[0].Detail)
	}
	if res[0].Subject != subject || res[0].Zone != zone.Name {
		t.Fatalf("%s in %s: result says subject %q, zone %q", subject, zone.Name, res[0].Subject, res[0].Zone)
	}
	return res[0]
}

func (s *fakeSetup) wantCount(t *testing.T, qtype, name string, want int) {
	t.Helper()
	if got := s.list.Count(qtype + " " + dns.CanonicalName(name)); got != want {
		t.Fatalf("queries %s %s: want %d, got %d", qtype, name, want, got)
	}
}

// TestCheckerVerdicts runs every kind of answer through the Checker.
func TestCheckerVerdicts(t *testing.T) {
	s := newFakeSetup(t)
	tests := []struct {
		zone    Zone
		subject string
		want    string
		detail  string // a part of it
	}{
		{blFake, "127.0.1.3", `bl.fake 3.1.0.127.bl.fake listed [127.0.0.4] reason="127.0.1.3 listed: open relay"`, "listed in bl.fake (127.0.0.4)"},
		{blFake, "127.0.1.1", `bl.fake 1.1.0.127.bl.fake not_listed`, "not listed in bl.fake"},
		{blFake, "127.0.1.8", `bl.fake 8.1.0.127.bl.fake error query_refused [127.255.255.254]`, "bl.fake refused the query (127.255.255.254)"},
		{blFake, "127.0.1.9", `bl.fake 9.1.0.127.bl.fake error answer_invalid`, "bl.fake answered 192.0.2.9, outside 127.0.0.0/8"},
		{dblFake, "mx.relay.fake", `dbl.fake mx.relay.fake.dbl.fake listed [127.0.1.2] reason="mx.relay.fake listed"`, "listed in dbl.fake"},
		{dblFake, "mx1.good.fake", `dbl.fake mx1.good.fake.dbl.fake not_listed`, "not listed in dbl.fake"},
		{wildFake, "127.0.1.1", `wild.fake 1.1.0.127.wild.fake error zone_unhealthy`,
			"not asked: wild.fake lists 127.0.0.1, which no list may: it answers everything (a wildcard, or a resolver rewriting NXDOMAIN); its answers are not trusted"},
		{emptyFake, "127.0.1.1", `empty.fake 1.1.0.127.empty.fake error zone_unhealthy`, "empty.fake does not list its test entry 127.0.0.2"},
	}
	for _, tc := range tests {
		res := s.one(t, tc.zone, tc.subject, tc.want)
		if !strings.Contains(res.Detail, tc.detail) {
			t.Fatalf("%s in %s: want a detail with %q, got %q", tc.subject, tc.zone.Name, tc.detail, res.Detail)
		}
		if !res.Checked.Equal(s.clock.Now()) {
			t.Fatalf("%s in %s: Checked %v, want the clock's %v", tc.subject, tc.zone.Name, res.Checked, s.clock.Now())
		}
	}
	// An unhealthy zone is never asked about a subject, and a health check
	// needs no reason.
	s.wantCount(t, "A", "1.1.0.127.wild.fake", 0)
	s.wantCount(t, "A", "1.1.0.127.empty.fake", 0)
	s.wantCount(t, "TXT", "2.0.0.127.bl.fake", 0)
	s.wantCount(t, "TXT", "test.dbl.fake", 0)
	// A name that is an IP address is not asked of a domain zone, and
	// each call asks only the zones of its kind.
	if res := s.c.CheckName(testCtx(t, time.Second), s.r, []Zone{dblFake, blFake}, "127.0.1.3"); res != nil {
		t.Fatalf("CheckName of an address: want nil, got %+v", res)
	}
	if res := s.c.CheckName(testCtx(t, time.Second), s.r, []Zone{blFake}, "mx.relay.fake"); res != nil {
		t.Fatalf("CheckName with address zones only: want nil, got %+v", res)
	}
	if res := s.checkAddr(t, "127.0.1.3", dblFake); res != nil {
		t.Fatalf("CheckAddr with domain zones only: want nil, got %+v", res)
	}
	// Results come in the order of the zones.
	res := s.checkAddr(t, "127.0.1.1", wildFake, dblFake, blFake)
	if len(res) != 2 || res[0].Zone != "wild.fake" || res[1].Zone != "bl.fake" {
		t.Fatalf("CheckAddr in wild.fake, dbl.fake, bl.fake: want results of wild.fake then bl.fake, got %+v", res)
	}
}

// TestCheckerCaches shows one query per name within the TTL, whatever the
// verdict, and a new one after it.
func TestCheckerCaches(t *testing.T) {
	s := newFakeSetup(t)
	first := s.clock.Now()
	s.one(t, blFake, "127.0.1.3", `bl.fake 3.1.0.127.bl.fake listed [127.0.0.4] reason="127.0.1.3 listed: open relay"`)
	s.one(t, blFake, "127.0.1.1", `bl.fake 1.1.0.127.bl.fake not_listed`)
	s.one(t, dblFake, "mx.relay.fake", `dbl.fake mx.relay.fake.dbl.fake listed [127.0.1.2] reason="mx.relay.fake listed"`)

	s.clock.advance(14 * time.Minute)
	res := s.one(t, blFake, "127.0.1.3", `bl.fake 3.1.0.127.bl.fake listed [127.0.0.4] reason="127.0.1.3 listed: open relay" cached`)
	if !res.Checked.Equal(first) {
		t.Fatalf("cached result: Checked %v, want the time of the lookup %v", res.Checked, first)
	}
	// The same address as an IPv4-mapped IPv6 one: the same query name.
	s.one(t, blFake, "::ffff:127.0.1.3", `bl.fake 3.1.0.127.bl.fake listed [127.0.0.4] reason="127.0.1.3 listed: open relay" cached`)
	s.one(t, blFake, "127.0.1.1", `bl.fake 1.1.0.127.bl.fake not_listed cached`)
	s.one(t, dblFake, "mx.relay.fake", `dbl.fake mx.relay.fake.dbl.fake listed [127.0.1.2] reason="mx.relay.fake listed" cached`)
	for _, q := range []struct {
		qtype, name string
	}{{"A", "3.1.0.127.bl.fake"}, {"TXT", "3.1.0.127.bl.fake"}, {"A", "1.1.0.127.bl.fake"},
		{"A", "mx.relay.fake.dbl.fake"}, {"TXT", "mx.relay.fake.dbl.fake"},
		{"A", "2.0.0.127.bl.fake"}, {"A", "1.0.0.127.bl.fake"}, {"A", "test.dbl.fake"}, {"A", "invalid.dbl.fake"}} {
		s.wantCount(t, q.qtype, q.name, 1)
	}

	// A caller changing the codes of its result changes nobody else's.
	res.Codes[0] = netip.MustParseAddr("127.0.0.99")
	s.one(t, blFake, "127.0.1.3", `bl.fake 3.1.0.127.bl.fake listed [127.0.0.4] reason="127.0.1.3 listed: open relay" cached`)

	// Past the TTL: asked again, and the health check still stands.
	s.clock.advance(2 * time.Minute)
	res = s.one(t, blFake, "127.0.1.3", `bl.fake 3.1.0.127.bl.fake listed [127.0.0.4] reason="127.0.1.3 listed: open relay"`)
	if !res.Checked.Equal(s.clock.Now()) {
		t.Fatalf("new lookup: Checked %v, want %v", res.Checked, s.clock.Now())
	}
	s.wantCount(t, "A", "3.1.0.127.bl.fake", 2)
	s.wantCount(t, "TXT", "3.1.0.127.bl.fake", 2)
	s.wantCount(t, "A", "2.0.0.127.bl.fake", 1)
}

// TestCheckerErrorTTL shows the errors of a list cached for a minute only,
// so that a list that recovers is seen soon.
func TestCheckerErrorTTL(t *testing.T) {
	s := newFakeSetup(t)
	s.list.Fail("5.1.0.127.bl.fake", dns.RcodeServerFailure)
	s.list.Silence("7.1.0.127.bl.fake")
	tests := []struct{ subject, want, detail string }{
		{"127.0.1.5", "bl.fake 5.1.0.127.bl.fake error lookup_failed", "the lookup of 5.1.0.127.bl.fake failed: A lookup: SERVFAIL from 127.0.0.1:"},
		{"127.0.1.7", "bl.fake 7.1.0.127.bl.fake error timeout", "no answer for 7.1.0.127.bl.fake in time: A lookup: no reply from 127.0.0.1:"},
		{"127.0.1.8", "bl.fake 8.1.0.127.bl.fake error query_refused [127.255.255.254]", "refused the query"},
		{"127.0.1.9", "bl.fake 9.1.0.127.bl.fake error answer_invalid", "outside 127.0.0.0/8"},
	}
	for _, tc := range tests {
		if res := s.one(t, blFake, tc.subject, tc.want); !strings.Contains(res.Detail, tc.detail) {
			t.Fatalf("%s: want a detail with %q, got %q", tc.subject, tc.detail, res.Detail)
		}
	}
	s.clock.advance(59 * time.Second)
	for _, tc := range tests {
		s.one(t, blFake, tc.subject, tc.want+" cached")
		s.wantCount(t, "A", QueryName("bl.fake", tc.subject), 1)
	}
	// The list recovers; a minute after the error it is asked again.
	s.list.Fail("5.1.0.127.bl.fake", 0)
	s.clock.advance(time.Second)
	s.one(t, blFake, "127.0.1.5", "bl.fake 5.1.0.127.bl.fake not_listed")
	for _, tc := range tests[1:] {
		s.one(t, blFake, tc.subject, tc.want)
	}
	for _, tc := range tests {
		s.wantCount(t, "A", QueryName("bl.fake", tc.subject), 2)
	}
}

// TestCheckerShares shows concurrent look-ups of one name sharing one
// query: the answer is held at the server until every caller has joined.
func TestCheckerShares(t *testing.T) {
	s := newFakeSetup(t)
	s.one(t, blFake, "127.0.1.1", "") // the health check, out of the way
	const callers = 8
	const q = "3.1.0.127.bl.fake"
	joins := make(chan string, 4*callers)
	s.c.joined = func(key string) { joins <- key }
	release := s.list.Hold(t, q)

	results := make([]Result, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { results[i] = s.checkAddr(t, "127.0.1.3", blFake)[0] })
	}
	if got := <-s.list.Arrived(); got != q+"." {
		t.Fatalf("held query: want %s., got %s", q, got)
	}
	for n := 0; n < callers-1; {
		if key := <-joins; key == q {
			n++
		}
	}
	release()
	wg.Wait()
	for i, res := range results {
		if want := `bl.fake ` + q + ` listed [127.0.0.4] reason="127.0.1.3 listed: open relay"`; summary(res) != want {
			t.Fatalf("caller %d\nwant %s\ngot  %s", i, want, summary(res))
		}
	}
	s.wantCount(t, "A", q, 1)
	s.wantCount(t, "TXT", q, 1)
}

// TestCheckerCallerGivesUp shows a caller whose context ends before the
// answer getting a timeout, while the look-up goes on for the others and
// its answer is cached: a probe's deadline leaves no timeout behind.
func TestCheckerCallerGivesUp(t *testing.T) {
	s := newFakeSetup(t)
	s.one(t, blFake, "127.0.1.1", "")
	const q = "3.1.0.127.bl.fake"
	release := s.list.Hold(t, q)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan []Result)
	go func() { done <- s.c.CheckAddr(ctx, s.r, []Zone{blFake}, netip.MustParseAddr("127.0.1.3")) }()
	<-s.list.Arrived()
	cancel()
	res := <-done
	if want := "bl.fake " + q + " error timeout"; len(res) != 1 || summary(res[0]) != want ||
		res[0].Detail != "deadline reached before an answer for "+q {
		t.Fatalf("caller that gave up\nwant %s, deadline reached before an answer for %s\ngot  %+v", want, q, res)
	}
	release()
	// Whether this call joins the look-up or finds it cached, it is the
	// one query's answer.
	s.one(t, blFake, "127.0.1.3", "")
	s.one(t, blFake, "127.0.1.3", `bl.fake `+q+` listed [127.0.0.4] reason="127.0.1.3 listed: open relay" cached`)
	s.wantCount(t, "A", q, 1)

	// The same for a health check under way.
	release = s.list.Hold(t, "2.0.0.127.dbl2.fake")
	ctx, cancel = context.WithCancel(context.Background())
	go func() {
		done <- s.c.CheckAddr(ctx, s.r, []Zone{{"dbl2.fake", KindAddress}}, netip.MustParseAddr("127.0.1.3"))
	}()
	<-s.list.Arrived()
	cancel()
	res = <-done
	if len(res) != 1 || res[0].Error != ErrorTimeout || res[0].Detail != "deadline reached before the health check of dbl2.fake was over" {
		t.Fatalf("caller that gave up on a health check: got %+v", res)
	}
	release()
	// An already ended context asks nothing, and gets timeouts.
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	res = s.c.CheckAddr(ctx, s.r, []Zone{blFake}, netip.MustParseAddr("127.0.1.3"))
	if len(res) != 1 || res[0].Error != ErrorTimeout && !res[0].Cached {
		t.Fatalf("ended context: want a timeout or the cached answer, got %+v", res)
	}
}

// TestCheckerHealth shows the health check on first use, again after the
// health interval, a zone that turns unhealthy losing its cached answers,
// a failed check tried again within a minute, and Zones.
func TestCheckerHealth(t *testing.T) {
	s := newFakeSetup(t)
	s.one(t, blFake, "127.0.1.3", `bl.fake 3.1.0.127.bl.fake listed [127.0.0.4] reason="127.0.1.3 listed: open relay"`)
	s.one(t, wildFake, "127.0.1.3", "wild.fake 3.1.0.127.wild.fake error zone_unhealthy")
	res := s.one(t, wildFake, "127.0.1.3", "wild.fake 3.1.0.127.wild.fake error zone_unhealthy cached")
	if !res.Checked.Equal(s.clock.Now()) {
		t.Fatalf("zone_unhealthy: Checked %v, want the health check's time %v", res.Checked, s.clock.Now())
	}
	wantZones(t, s.c, "bl.fake address healthy", "wild.fake address unhealthy")

	// bl.fake starts to list everything; it is seen at the next check, an
	// hour later, and its cached listing is dropped then.
	s.list.Set(t, "*.bl.fake", "A", "127.0.0.2")
	s.clock.advance(59 * time.Minute)
	s.one(t, blFake, "127.0.1.3", `bl.fake 3.1.0.127.bl.fake listed [127.0.0.4] reason="127.0.1.3 listed: open relay"`)
	s.wantCount(t, "A", "1.0.0.127.bl.fake", 1)
	s.clock.advance(time.Minute)
	res = s.one(t, blFake, "127.0.1.3", "bl.fake 3.1.0.127.bl.fake error zone_unhealthy")
	if want := "not asked: bl.fake lists 127.0.0.1, which no list may"; !strings.HasPrefix(res.Detail, want) {
		t.Fatalf("want a detail starting %q, got %q", want, res.Detail)
	}
	s.wantCount(t, "A", "1.0.0.127.bl.fake", 2)
	s.wantCount(t, "A", "3.1.0.127.bl.fake", 2)
	s.c.mu.Lock()
	_, kept := s.c.answers["3.1.0.127.bl.fake"]
	s.c.mu.Unlock()
	if kept {
		t.Fatalf("bl.fake turned unhealthy: its cached answer is still there")
	}
	wantZones(t, s.c, "bl.fake address unhealthy", "wild.fake address unhealthy")

	// It recovers: healthy at the next check, and asked afresh.
	s.list.Set(t, "*.bl.fake", "A")
	s.clock.advance(time.Hour)
	s.one(t, blFake, "127.0.1.3", `bl.fake 3.1.0.127.bl.fake listed [127.0.0.4] reason="127.0.1.3 listed: open relay"`)
	s.wantCount(t, "A", "3.1.0.127.bl.fake", 3)

	// A check that gets no answer: unhealthy, tried again after a minute.
	s.list.Fail("test.dbl.fake", dns.RcodeServerFailure)
	res = s.one(t, dblFake, "mx.relay.fake", "dbl.fake mx.relay.fake.dbl.fake error zone_unhealthy")
	if want := "not asked: dbl.fake could not be checked (the lookup of test.dbl.fake failed: A lookup: SERVFAIL from 127.0.0.1:"; !strings.HasPrefix(res.Detail, want) ||
		!strings.HasSuffix(res.Detail, "its answers are not trusted until a check passes") {
		t.Fatalf("want a detail starting %q and ending with the retry, got %q", want, res.Detail)
	}
	s.list.Fail("test.dbl.fake", 0)
	s.clock.advance(59 * time.Second)
	s.one(t, dblFake, "mx.relay.fake", "dbl.fake mx.relay.fake.dbl.fake error zone_unhealthy cached")
	s.clock.advance(time.Second)
	s.one(t, dblFake, "mx.relay.fake", `dbl.fake mx.relay.fake.dbl.fake listed [127.0.1.2] reason="mx.relay.fake listed"`)
	s.wantCount(t, "A", "test.dbl.fake", 2)
	s.wantCount(t, "A", "mx.relay.fake.dbl.fake", 1)
}

// TestCheckerTurnsUnhealthyMidway shows an answer that comes after its
// zone was found unhealthy neither given out as a listing nor cached.
func TestCheckerTurnsUnhealthyMidway(t *testing.T) {
	s := newFakeSetup(t)
	s.one(t, blFake, "127.0.1.1", "")
	const q = "3.1.0.127.bl.fake"
	release := s.list.Hold(t, q)
	done := make(chan []Result)
	go func() { done <- s.checkAddr(t, "127.0.1.3", blFake) }()
	<-s.list.Arrived()
	s.list.Set(t, "*.bl.fake", "A", "127.0.0.2")
	s.c.CheckZones(testCtx(t, 10*time.Second), s.r, []Zone{blFake})
	wantZones(t, s.c, "bl.fake address unhealthy")
	release()
	res := <-done
	if want := "bl.fake " + q + " error zone_unhealthy"; len(res) != 1 || summary(res[0]) != want {
		t.Fatalf("answer after the zone turned unhealthy\nwant %s\ngot  %+v", want, res)
	}
	s.c.mu.Lock()
	_, kept := s.c.answers[q]
	s.c.mu.Unlock()
	if kept {
		t.Fatalf("an answer of an unhealthy zone was cached")
	}
}

// TestCheckZones shows CheckZones checking now, whatever the interval,
// a check through other servers being due at once, and zones nobody asks
// about being forgotten.
func TestCheckZones(t *testing.T) {
	s := newFakeSetup(t)
	zones := []Zone{wildFake, blFake, dblFake, emptyFake, blFake}
	s.c.CheckZones(testCtx(t, 10*time.Second), s.r, zones)
	wantZones(t, s.c, "bl.fake address healthy", "dbl.fake domain healthy", "empty.fake address unhealthy", "wild.fake address unhealthy")
	s.wantCount(t, "A", "2.0.0.127.bl.fake", 1)
	s.c.CheckZones(testCtx(t, 10*time.Second), s.r, zones)
	s.wantCount(t, "A", "2.0.0.127.bl.fake", 2)
	s.wantCount(t, "A", "test.dbl.fake", 2)
	// Through the same fake on another port (a reload that changed the
	// resolvers), the health check is due at once.
	other := newTestResolver(t, 300*time.Millisecond, fakedns.Serve(t, s.list))
	s.one(t, blFake, "127.0.1.1", "bl.fake 1.1.0.127.bl.fake not_listed")
	s.wantCount(t, "A", "2.0.0.127.bl.fake", 2)
	s.r = other
	s.one(t, blFake, "127.0.1.2", "bl.fake 2.1.0.127.bl.fake not_listed")
	s.wantCount(t, "A", "2.0.0.127.bl.fake", 3)
	// Two intervals later, only bl.fake is still asked about.
	s.clock.advance(2*time.Hour + time.Second)
	s.c.CheckZones(testCtx(t, 10*time.Second), s.r, []Zone{blFake})
	wantZones(t, s.c, "bl.fake address healthy")
}

// TestCheckerSweeps shows expired answers dropped as new ones come in.
func TestCheckerSweeps(t *testing.T) {
	s := newFakeSetup(t)
	s.one(t, blFake, "127.0.1.1", "")
	s.one(t, blFake, "127.0.1.3", "")
	s.clock.advance(16 * time.Minute)
	s.one(t, blFake, "127.0.1.2", "")
	s.c.mu.Lock()
	n := len(s.c.answers)
	s.c.mu.Unlock()
	if n != 1 {
		t.Fatalf("after the TTL and a new answer: want 1 cached answer, got %d", n)
	}
}

// TestCheckerNoQueryName shows a subject and zone that make no valid name:
// an error without a question.
func TestCheckerNoQueryName(t *testing.T) {
	s := newFakeSetup(t)
	long := Zone{zoneOf(190), KindAddress}
	res := s.one(t, long, "::1", "")
	if res.Verdict != VerdictError || res.Error != ErrorLookupFailed || res.Query != "" ||
		!strings.HasPrefix(res.Detail, "nothing asked: ::1 followed by "+long.Name+" is no valid DNS name") {
		t.Fatalf("IPv6 address in a 190-octet zone: got %+v", res)
	}
	if z := s.c.Zones(); len(z) != 0 {
		t.Fatalf("no query name: want no health check, got %+v", z)
	}
	if res := s.c.CheckAddr(testCtx(t, time.Second), s.r, []Zone{blFake}, netip.Addr{}); res != nil {
		t.Fatalf("CheckAddr of the zero Addr: want nil, got %+v", res)
	}
}

func TestNewCheckerDefaults(t *testing.T) {
	c := NewChecker(0, -time.Second)
	if c.ttl != DefaultCacheTTL || c.healthInterval != DefaultHealthInterval || c.errorTTL != time.Minute || c.healthRetry != time.Minute {
		t.Fatalf("NewChecker(0, -1s): ttl %v, health %v, error TTL %v, health retry %v", c.ttl, c.healthInterval, c.errorTTL, c.healthRetry)
	}
	c = NewChecker(30*time.Second, 10*time.Second)
	if c.errorTTL != 30*time.Second || c.healthRetry != 10*time.Second {
		t.Fatalf("NewChecker(30s, 10s): error TTL %v, health retry %v, want 30s and 10s", c.errorTTL, c.healthRetry)
	}
}

// wantZones compares Zones with "name kind healthy|unhealthy" lines.
func wantZones(t *testing.T, c *Checker, want ...string) {
	t.Helper()
	var got []string
	for _, h := range c.Zones() {
		state := "healthy"
		if !h.Healthy {
			state = "unhealthy"
			if h.Detail == "" {
				t.Fatalf("zone %s unhealthy without a detail", h.Zone.Name)
			}
		}
		if h.Checked.IsZero() {
			t.Fatalf("zone %s: Checked is zero", h.Zone.Name)
		}
		got = append(got, h.Zone.Name+" "+string(h.Zone.Kind)+" "+state)
	}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Fatalf("Zones\nwant %q\ngot  %q", want, got)
	}
}

// TestCheckerSetIntervals: a reload's new cache TTL and health interval
// apply from the next answer and the next check; what was cached keeps its
// expiry, so the reload itself asks nothing again.
func TestCheckerSetIntervals(t *testing.T) {
	s := newFakeSetup(t)
	s.one(t, blFake, "127.0.1.3", "")
	s.c.SetIntervals(time.Hour, 2*time.Hour)
	if got := s.c.HealthInterval(); got != 2*time.Hour {
		t.Fatalf("HealthInterval after SetIntervals: %v, want 2h", got)
	}
	// Cached for the old 15 minutes: asked again after them.
	s.clock.advance(16 * time.Minute)
	s.one(t, blFake, "127.0.1.3", "")
	s.wantCount(t, "A", "3.1.0.127.bl.fake", 2)
	// The new answer keeps the new hour; the health check made before
	// keeps its old hour, and the one made then is due two hours later.
	s.clock.advance(50 * time.Minute) // 66 min
	s.one(t, blFake, "127.0.1.3", "")
	s.wantCount(t, "A", "3.1.0.127.bl.fake", 2)
	s.wantCount(t, "A", "2.0.0.127.bl.fake", 2)
	s.clock.advance(100 * time.Minute) // 166 min
	s.one(t, blFake, "127.0.1.3", "")
	s.wantCount(t, "A", "2.0.0.127.bl.fake", 2)
	s.clock.advance(25 * time.Minute) // 191 min
	s.one(t, blFake, "127.0.1.3", "")
	s.wantCount(t, "A", "2.0.0.127.bl.fake", 3)

	s.c.SetIntervals(0, -1)
	if got := s.c.HealthInterval(); got != DefaultHealthInterval {
		t.Fatalf("HealthInterval after SetIntervals(0, -1): %v, want the default %v", got, DefaultHealthInterval)
	}
}
