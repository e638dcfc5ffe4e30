package dnsmx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mx-exporter/mx_exporter/collector/dnsname"
	"github.com/mx-exporter/mx_exporter/collector/testenv/fakedns"
)

// summary renders what a test compares of a Domain, so that a failure shows
// wanted and got side by side.
func summary(d *Domain) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s rcode=%q", d.Outcome, d.Rcode)
	if d.NullMX {
		b.WriteString(" nullmx")
	}
	if d.NullMXMixed {
		b.WriteString(" nullmx-mixed")
	}
	if d.Implicit {
		b.WriteString(" implicit")
	}
	if d.HostsDropped > 0 {
		fmt.Fprintf(&b, " dropped=%d", d.HostsDropped)
	}
	b.WriteString(" [")
	for i, h := range d.Hosts {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(hostSummary(h))
	}
	b.WriteString("]")
	return b.String()
}

func hostSummary(h Host) string {
	s := fmt.Sprintf("%d %s %v %s", h.Preference, h.Name, h.Addrs, h.Outcome)
	if h.AddrsDropped > 0 {
		s += fmt.Sprintf(" dropped=%d", h.AddrsDropped)
	}
	if h.CNAME != "" {
		s += " cname=" + h.CNAME
	}
	if h.IPLiteral {
		s += " ip-literal"
	}
	if len(h.Special) > 0 {
		s += fmt.Sprintf(" special=%v", h.Special)
	}
	if h.Err != "" {
		s += fmt.Sprintf(" err=%q", h.Err)
	}
	return s
}

func newTestResolver(t testing.TB, timeout time.Duration, attempts int, servers ...string) *Resolver {
	t.Helper()
	return fakedns.Resolver(t, NewResolver, timeout, attempts, servers...)
}

func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

const fakeRecords = `
good.fake.          MX    10 mx1.good.fake.
good.fake.          MX    20 mx2.good.fake.
mx1.good.fake.      A     127.0.2.1
mx1.good.fake.      AAAA  ::1
mx2.good.fake.      A     127.0.2.2
dotamong.fake.      MX    0 .
dotamong.fake.      MX    10 mx1.good.fake.
dotpref.fake.       MX    10 .
dotpref2.fake.      MX    10 .
dotpref2.fake.      MX    20 mx2.good.fake.
dotsonly.fake.      MX    0 .
dotsonly.fake.      MX    10 .
lit4.fake.          MX    10 127.0.2.1.
lit6.fake.          MX    10 ::1.
litbr.fake.         MX    10 [127.0.2.1].
litfound.fake.      MX    10 127.0.2.5.
127.0.2.5.          A     127.0.2.6
null.fake.          MX    0 .
dup.fake.           MX    20 mx1.good.fake.
dup.fake.           MX    10 MX1.Good.Fake.
alias.fake.         CNAME good.fake.
cn.fake.            MX    10 alias.cn.fake.
alias.cn.fake.      CNAME mx2.good.fake.
loop.fake.          MX    10 a.loop.fake.
a.loop.fake.        CNAME b.loop.fake.
b.loop.fake.        CNAME a.loop.fake.
long.fake.          MX    10 c0.long.fake.
ok.fake.            MX    10 c1.long.fake.
mixed.fake.         MX    10 mixed-host.fake.
mixed-host.fake.    A     127.0.2.3
mixed-host.fake.    A     127.0.2.3
mixed-host.fake.    AAAA  ::1
mixed-host.fake.    A     127.0.2.1
noaddr.fake.        MX    10 gone.noaddr.fake.
deadalias.fake.     MX    10 dangling.fake.
dangling.fake.      CNAME nowhere.fake.
nodata.fake.        TXT   "no mx"
implicit.fake.      A     127.0.2.9
`

// longChain returns c0.long.fake → … → c9.long.fake (9 hops), c9 with an
// address: c1 is 8 hops away from it, the most that is followed.
func longChain() string {
	var b strings.Builder
	for i := range 9 {
		fmt.Fprintf(&b, "c%d.long.fake. CNAME c%d.long.fake.\n", i, i+1)
	}
	b.WriteString("c9.long.fake. A 127.0.2.10\n")
	return b.String()
}

// TestDomainFake covers the record shapes nsd will not serve or that need a
// misbehaving server, each against two server behaviours: one that chases
// CNAMEs and fills the additional section, one that does neither. The
// resolver must report the same either way.
func TestDomainFake(t *testing.T) {
	rrs := fakedns.Parse(t, fakeRecords+longChain())
	servers := map[string]*fakedns.Zone{
		"chasing":     {Records: rrs, Additional: true},
		"non-chasing": {Records: rrs, NoChase: true},
	}
	tests := []struct {
		domain string
		opts   Options
		want   string
		notes  []string // substrings, one per note, in order
	}{
		{domain: "good.fake", want: `answer rcode="NOERROR" [10 mx1.good.fake [127.0.2.1 ::1] answer; 20 mx2.good.fake [127.0.2.2] answer]`},
		{domain: "GOOD.fake.", want: `answer rcode="NOERROR" [10 mx1.good.fake [127.0.2.1 ::1] answer; 20 mx2.good.fake [127.0.2.2] answer]`},
		{domain: "good.fake", opts: Options{Families: []Family{IPv6}},
			want: `answer rcode="NOERROR" [10 mx1.good.fake [::1] answer; 20 mx2.good.fake [] nodata err="no AAAA record"]`},
		{domain: "good.fake", opts: Options{Families: []Family{IPv4}, MaxMXHosts: 1},
			want: `answer rcode="NOERROR" dropped=1 [10 mx1.good.fake [127.0.2.1] answer]`},
		{domain: "null.fake", want: `answer rcode="NOERROR" nullmx []`},
		// "MX 0 ." among other records is flagged, and said once: by the
		// flag, not by a note too.
		{domain: "dotamong.fake", want: `answer rcode="NOERROR" nullmx-mixed [10 mx1.good.fake [127.0.2.1 ::1] answer]`},
		{domain: "dotpref.fake", want: `answer rcode="NOERROR" []`,
			notes: []string{"MX 10 . ignored: a null MX has preference 0"}},
		{domain: "dotpref2.fake", want: `answer rcode="NOERROR" [20 mx2.good.fake [127.0.2.2] answer]`,
			notes: []string{"MX 10 . ignored: a null MX has preference 0"}},
		{domain: "dotsonly.fake", want: `answer rcode="NOERROR" nullmx-mixed []`,
			notes: []string{"MX 10 . ignored: a null MX has preference 0"}},
		// An IP address as the MX exchange is asked for as a host name:
		// no such name, no address, although one is spelled out.
		{domain: "lit4.fake", want: `answer rcode="NOERROR" [10 127.0.2.1 [] nxdomain ip-literal err="NXDOMAIN"]`},
		{domain: "lit6.fake", want: `answer rcode="NOERROR" [10 ::1 [] nxdomain ip-literal err="NXDOMAIN"]`},
		{domain: "litbr.fake", want: `answer rcode="NOERROR" [10 [127.0.2.1] [] nxdomain ip-literal err="NXDOMAIN"]`},
		// When DNS does hold an address for such a name, that address is
		// the host's (as for any name), not the one the name spells.
		{domain: "litfound.fake", want: `answer rcode="NOERROR" [10 127.0.2.5 [127.0.2.6] answer ip-literal]`},
		{domain: "dup.fake", want: `answer rcode="NOERROR" [10 mx1.good.fake [127.0.2.1 ::1] answer]`,
			notes: []string{"listed at preferences 10 and 20: kept 10"}},
		{domain: "alias.fake", want: `answer rcode="NOERROR" [10 mx1.good.fake [127.0.2.1 ::1] answer; 20 mx2.good.fake [127.0.2.2] answer]`,
			notes: []string{"alias.fake is an alias (CNAME) of good.fake"}},
		{domain: "cn.fake", want: `answer rcode="NOERROR" [10 alias.cn.fake [127.0.2.2] answer cname=mx2.good.fake]`},
		{domain: "loop.fake", want: `answer rcode="NOERROR" [10 a.loop.fake [] error err="A lookup: CNAME loop at a.loop.fake"]`},
		{domain: "long.fake", want: `answer rcode="NOERROR" [10 c0.long.fake [] error cname=c9.long.fake err="A lookup: CNAME chain longer than 8 at c9.long.fake"]`},
		{domain: "ok.fake", want: `answer rcode="NOERROR" [10 c1.long.fake [127.0.2.10] answer cname=c9.long.fake]`},
		{domain: "mixed.fake", want: `answer rcode="NOERROR" [10 mixed-host.fake [127.0.2.1 127.0.2.3 ::1] answer]`},
		{domain: "mixed.fake", opts: Options{MaxAddressesPerHost: 2},
			want: `answer rcode="NOERROR" [10 mixed-host.fake [127.0.2.1 127.0.2.3] answer dropped=1]`},
		{domain: "noaddr.fake", want: `answer rcode="NOERROR" [10 gone.noaddr.fake [] nxdomain err="NXDOMAIN"]`},
		{domain: "deadalias.fake", want: `answer rcode="NOERROR" [10 dangling.fake [] nxdomain cname=nowhere.fake err="NXDOMAIN"]`},
		{domain: "nodata.fake", want: `nodata rcode="NOERROR" []`},
		{domain: "implicit.fake", want: `nodata rcode="NOERROR" implicit [0 implicit.fake [127.0.2.9] answer]`},
		{domain: "missing.fake", want: `nxdomain rcode="NXDOMAIN" []`},
		{domain: "", want: `error rcode="" []`},
		{domain: "bücher.fake", want: `error rcode="" []`},
	}
	for mode, z := range servers {
		r := newTestResolver(t, 2*time.Second, 2, fakedns.Serve(t, z))
		for _, tc := range tests {
			t.Run(mode+"/"+tc.domain, func(t *testing.T) {
				// Every address of the fake zone is on loopback: the table
				// is about the records, so it asks as a lab would.
				// TestSpecialAddresses covers Host.Special.
				opts := tc.opts
				opts.IgnoreSpecialAddresses = true
				d := r.Domain(testCtx(t, 10*time.Second), tc.domain, opts)
				if got := summary(d); got != tc.want {
					t.Fatalf("Domain(%q, %+v)\nwant %s\ngot  %s", tc.domain, tc.opts, tc.want, got)
				}
				if len(d.Notes) != len(tc.notes) {
					t.Fatalf("Domain(%q) notes: want %q, got %q", tc.domain, tc.notes, d.Notes)
				}
				for i, n := range tc.notes {
					if !strings.Contains(d.Notes[i], n) {
						t.Fatalf("Domain(%q) note %d: want it to contain %q, got %q", tc.domain, i, n, d.Notes[i])
					}
				}
				if d.Name != dnsname.Normalize(tc.domain) {
					t.Fatalf("Name: want %q, got %q", dnsname.Normalize(tc.domain), d.Name)
				}
				if d.Outcome == OutcomeAnswer || d.Outcome == OutcomeNoData || d.Outcome == OutcomeNXDomain {
					if d.Server == "" || d.Duration <= 0 {
						t.Fatalf("Server %q, Duration %v: want both set", d.Server, d.Duration)
					}
				} else if d.Err == "" {
					t.Fatalf("Outcome %s without Err", d.Outcome)
				}
			})
		}
	}
}

// TestAdditionalSectionSavesQueries: addresses found in the additional
// section of the MX reply are not asked again, per family.
func TestAdditionalSectionSavesQueries(t *testing.T) {
	z := &fakedns.Zone{Records: fakedns.Parse(t, fakeRecords), Additional: true}
	r := newTestResolver(t, 2*time.Second, 1, fakedns.Serve(t, z))
	d := r.Domain(testCtx(t, 10*time.Second), "good.fake", Options{})
	if d.Outcome != OutcomeAnswer || len(d.Hosts) != 2 {
		t.Fatalf("want an answer with 2 hosts, got %s", summary(d))
	}
	// mx1 has A and AAAA in the additional section, mx2 only A: the only
	// address query left is AAAA for mx2.
	for key, want := range map[string]int{
		"udp MX good.fake.":       1,
		"udp A ":                  0,
		"udp AAAA mx1.good.fake.": 0,
		"udp AAAA mx2.good.fake.": 1,
		"tcp ":                    0,
	} {
		if got := z.Total(key); got != want {
			t.Fatalf("queries %q: want %d, got %d", key, want, got)
		}
	}
}

// TestCNAMEOnlyAnswerRequeries: an answer that holds only the CNAME of an
// MX target makes the resolver ask for the target itself.
func TestCNAMEOnlyAnswerRequeries(t *testing.T) {
	z := &fakedns.Zone{Records: fakedns.Parse(t, fakeRecords), NoChase: true}
	r := newTestResolver(t, 2*time.Second, 1, fakedns.Serve(t, z))
	h := r.Host(testCtx(t, 10*time.Second), "alias.cn.fake", Options{Families: []Family{IPv4}, IgnoreSpecialAddresses: true})
	if want, got := "0 alias.cn.fake [127.0.2.2] answer cname=mx2.good.fake", hostSummary(h); got != want {
		t.Fatalf("want %s, got %s", want, got)
	}
	if got := z.Count("udp A mx2.good.fake."); got != 1 {
		t.Fatalf("queries for the CNAME target: want 1, got %d", got)
	}
}

// TestTruncatedRetriesOverTCP: a UDP reply with TC is asked again over TCP.
func TestTruncatedRetriesOverTCP(t *testing.T) {
	z := &fakedns.Zone{Records: fakedns.Parse(t, fakeRecords), ForceTC: true}
	r := newTestResolver(t, 2*time.Second, 1, fakedns.Serve(t, z))
	d := r.Domain(testCtx(t, 10*time.Second), "good.fake", Options{Families: []Family{IPv4}, IgnoreSpecialAddresses: true})
	if want, got := `answer rcode="NOERROR" [10 mx1.good.fake [127.0.2.1] answer; 20 mx2.good.fake [127.0.2.2] answer]`, summary(d); got != want {
		t.Fatalf("want %s\ngot  %s", want, got)
	}
	for key, want := range map[string]int{"udp MX good.fake.": 1, "tcp MX good.fake.": 1, "tcp A mx1.good.fake.": 1} {
		if got := z.Count(key); got != want {
			t.Fatalf("queries %q: want %d, got %d", key, want, got)
		}
	}
}

// TestTruncatedWithoutTCP: TC, and nothing listens on TCP.
func TestTruncatedWithoutTCP(t *testing.T) {
	z := &fakedns.Zone{Records: fakedns.Parse(t, fakeRecords), ForceTC: true}
	r := newTestResolver(t, 2*time.Second, 2, fakedns.ServeUDP(t, z))
	d := r.Domain(testCtx(t, 10*time.Second), "good.fake", Options{})
	if d.Outcome != OutcomeError || !strings.Contains(d.Err, "truncated UDP reply, then over TCP") {
		t.Fatalf("want error with a truncated UDP reply, got %s err=%q", summary(d), d.Err)
	}
	if got := z.Count("udp MX good.fake."); got != 2 {
		t.Fatalf("UDP queries: want 2 (one per attempt), got %d", got)
	}
}

// TestHugeMXSet: hundreds of MX records come over TCP, sorted and capped.
func TestHugeMXSet(t *testing.T) {
	var b strings.Builder
	for i := range 300 {
		fmt.Fprintf(&b, "huge.fake. MX %d mx%03d.huge.fake.\n", 50-i%7, i)
		fmt.Fprintf(&b, "mx%03d.huge.fake. A 127.0.3.%d\n", i, i%250+1)
	}
	z := &fakedns.Zone{Records: fakedns.Parse(t, b.String()), Additional: true}
	r := newTestResolver(t, 2*time.Second, 1, fakedns.Serve(t, z))
	d := r.Domain(testCtx(t, 10*time.Second), "huge.fake", Options{MaxMXHosts: 4, Families: []Family{IPv4}, IgnoreSpecialAddresses: true})
	want := `answer rcode="NOERROR" dropped=296 [44 mx006.huge.fake [127.0.3.7] answer; 44 mx013.huge.fake [127.0.3.14] answer; ` +
		`44 mx020.huge.fake [127.0.3.21] answer; 44 mx027.huge.fake [127.0.3.28] answer]`
	if got := summary(d); got != want {
		t.Fatalf("want %s\ngot  %s", want, got)
	}
	if got := z.Count("tcp MX huge.fake."); got != 1 {
		t.Fatalf("TCP retries of the MX query: want 1, got %d", got)
	}
	if got := z.Total("udp A "); got != 0 {
		t.Fatalf("A queries: want 0 (the TCP reply carries the addresses), got %d", got)
	}

	// Without a cap every host is kept, in order.
	d = r.Domain(testCtx(t, 30*time.Second), "huge.fake", Options{Families: []Family{IPv4}})
	if len(d.Hosts) != 300 || d.HostsDropped != 0 {
		t.Fatalf("uncapped: want 300 hosts, got %d (dropped %d)", len(d.Hosts), d.HostsDropped)
	}
	sorted := slices.IsSortedFunc(d.Hosts, func(a, b Host) int {
		if a.Preference != b.Preference {
			return int(a.Preference) - int(b.Preference)
		}
		return strings.Compare(a.Name, b.Name)
	})
	if !sorted {
		t.Fatalf("hosts not sorted by preference then name")
	}
	for _, h := range d.Hosts {
		if h.Outcome != OutcomeAnswer || len(h.Addrs) != 1 {
			t.Fatalf("host %s", hostSummary(h))
		}
	}
}

// TestServerFailover covers how the servers' answers combine.
func TestServerFailover(t *testing.T) {
	rrs := fakedns.Parse(t, fakeRecords)
	good := fakedns.Serve(t, &fakedns.Zone{Records: rrs})
	servfail := fakedns.Serve(t, &fakedns.Zone{Rcode: dns.RcodeServerFailure})
	servfail2 := fakedns.Serve(t, &fakedns.Zone{Rcode: dns.RcodeServerFailure})
	refused := fakedns.Serve(t, &fakedns.Zone{Rcode: dns.RcodeRefused})
	refused2 := fakedns.Serve(t, &fakedns.Zone{Rcode: dns.RcodeRefused})
	notimp := fakedns.Serve(t, &fakedns.Zone{Rcode: dns.RcodeNotImplemented})
	referral := fakedns.Serve(t, &fakedns.Zone{Referral: true})
	bad := fakedns.Serve(t, fakedns.Mismatched)
	broken := fakedns.Serve(t, fakedns.Malformed)
	quiet, _ := fakedns.Silent(t)
	otherZone := fakedns.Serve(t, &fakedns.Zone{Records: fakedns.Parse(t, "missing.fake. MX 10 mx1.good.fake.\n")})

	tests := []struct {
		name       string
		servers    []string
		domain     string
		outcome    Outcome
		rcode      string
		server     string
		errContain string
		hosts      int
	}{
		{"servfail then answer", []string{servfail, good}, "good.fake", OutcomeAnswer, "NOERROR", good, "", 2},
		{"refused then answer", []string{refused, good}, "good.fake", OutcomeAnswer, "NOERROR", good, "", 2},
		{"referral then answer", []string{referral, good}, "good.fake", OutcomeAnswer, "NOERROR", good, "", 2},
		{"mismatched then answer", []string{bad, good}, "good.fake", OutcomeAnswer, "NOERROR", good, "", 2},
		{"malformed then answer", []string{broken, good}, "good.fake", OutcomeAnswer, "NOERROR", good, "", 2},
		{"servfail everywhere", []string{servfail, servfail2}, "good.fake", OutcomeServFail, "SERVFAIL", servfail2, "SERVFAIL from " + servfail2, 0},
		{"refused everywhere", []string{refused, refused2}, "good.fake", OutcomeRefused, "REFUSED", refused2, "REFUSED from " + refused2, 0},
		{"servfail then refused", []string{servfail, refused}, "good.fake", OutcomeRefused, "REFUSED", refused, "REFUSED", 0},
		{"servfail then silence", []string{servfail, quiet}, "good.fake", OutcomeServFail, "SERVFAIL", servfail, "SERVFAIL", 0},
		{"silence then servfail", []string{quiet, servfail}, "good.fake", OutcomeServFail, "SERVFAIL", servfail, "SERVFAIL", 0},
		{"other rcode", []string{notimp}, "good.fake", OutcomeError, "NOTIMP", notimp, "NOTIMP from", 0},
		{"referral only", []string{referral}, "good.fake", OutcomeError, "NOERROR", referral, "not a recursive resolver", 0},
		{"mismatched only", []string{bad}, "good.fake", OutcomeError, "", bad, "answers other.fake. IN MX, asked good.fake. IN MX", 0},
		{"malformed only", []string{broken}, "good.fake", OutcomeError, "", broken, "query to " + broken, 0},
		{"nxdomain is final", []string{good, otherZone}, "missing.fake", OutcomeNXDomain, "NXDOMAIN", good, "NXDOMAIN", 0},
		{"nodata is final", []string{good, otherZone}, "nodata.fake", OutcomeNoData, "NOERROR", good, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newTestResolver(t, 200*time.Millisecond, 2, tc.servers...)
			d := r.Domain(testCtx(t, 10*time.Second), tc.domain, Options{})
			got := fmt.Sprintf("%s %s %s %d", d.Outcome, d.Rcode, d.Server, len(d.Hosts))
			want := fmt.Sprintf("%s %s %s %d", tc.outcome, tc.rcode, tc.server, tc.hosts)
			if got != want || !strings.Contains(d.Err, tc.errContain) {
				t.Fatalf("outcome rcode server hosts:\nwant %s err containing %q\ngot  %s err %q", want, tc.errContain, got, d.Err)
			}
		})
	}
}

// TestTimeoutBoundedByContext: a server that never answers costs no more
// than the caller's deadline, however generous timeout × attempts is.
func TestTimeoutBoundedByContext(t *testing.T) {
	quiet, _ := fakedns.Silent(t)
	r := newTestResolver(t, 5*time.Second, 3, quiet)
	const deadline = 150 * time.Millisecond
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	d := r.Domain(ctx, "good.fake", Options{})
	took := time.Since(start)
	if d.Outcome != OutcomeTimeout || d.Rcode != "" || d.Server != quiet {
		t.Fatalf("want timeout from %s, got %s server=%s err=%q", quiet, summary(d), d.Server, d.Err)
	}
	if took < deadline || took > deadline+time.Second {
		t.Fatalf("took %v, want about %v", took, deadline)
	}
}

// TestAttemptsThenNextServer: each silent server gets its attempts, each
// bounded by the per-attempt timeout.
func TestAttemptsThenNextServer(t *testing.T) {
	quiet1, got1 := fakedns.Silent(t)
	quiet2, got2 := fakedns.Silent(t)
	const timeout, attempts = 50 * time.Millisecond, 2
	r := newTestResolver(t, timeout, attempts, quiet1, quiet2)
	start := time.Now()
	d := r.Domain(context.Background(), "good.fake", Options{})
	took := time.Since(start)
	if d.Outcome != OutcomeTimeout || d.Server != quiet2 || !strings.Contains(d.Err, "no reply from "+quiet2) {
		t.Fatalf("want timeout from %s, got %s server=%s err=%q", quiet2, summary(d), d.Server, d.Err)
	}
	if want := 2 * attempts * timeout; took < want || took > want+time.Second {
		t.Fatalf("took %v, want about %v", took, want)
	}
	for i, ch := range []<-chan struct{}{got1, got2} {
		for n := range attempts {
			select {
			case <-ch:
			case <-time.After(5 * time.Second):
				t.Fatalf("server %d received %d queries, want %d", i+1, n, attempts)
			}
		}
	}
}

// TestCancelEndsPendingQuery: cancelling the context (no deadline) ends a
// query waiting on a silent server at once.
func TestCancelEndsPendingQuery(t *testing.T) {
	quiet, got := fakedns.Silent(t)
	r := newTestResolver(t, time.Minute, 3, quiet)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-got
		cancel()
	}()
	start := time.Now()
	d := r.Domain(ctx, "good.fake", Options{})
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("took %v after cancel", took)
	}
	if d.Outcome != OutcomeError || d.Err != "canceled" {
		t.Fatalf("want error canceled, got %s err=%q", summary(d), d.Err)
	}
}

// TestHostPartialFailure: an address family that fails makes the host's
// outcome, and the other family's addresses are kept.
func TestHostPartialFailure(t *testing.T) {
	z := &fakedns.Zone{Records: fakedns.Parse(t, fakeRecords)}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		if req.Question[0].Qtype == dns.TypeAAAA {
			m := new(dns.Msg)
			m.SetRcode(req, dns.RcodeServerFailure)
			w.WriteMsg(m)
			return
		}
		z.ServeDNS(w, req)
	})
	r := newTestResolver(t, time.Second, 1, fakedns.Serve(t, h))
	got := hostSummary(r.Host(testCtx(t, 10*time.Second), "mx1.good.fake", Options{IgnoreSpecialAddresses: true}))
	want := `0 mx1.good.fake [127.0.2.1] servfail err="AAAA lookup: SERVFAIL from ` + r.servers[0] + `"`
	if got != want {
		t.Fatalf("want %s\ngot  %s", want, got)
	}
	// The implicit MX of a domain whose address lookup fails is kept, with
	// its error, and noted.
	d := r.Domain(testCtx(t, 10*time.Second), "implicit.fake", Options{Families: []Family{IPv6}})
	if want, got := `nodata rcode="NOERROR" implicit [0 implicit.fake [] servfail err="AAAA lookup: SERVFAIL from `+r.servers[0]+`"]`, summary(d); got != want {
		t.Fatalf("want %s\ngot  %s", want, got)
	}
	if len(d.Notes) != 1 || !strings.Contains(d.Notes[0], "implicit MX failed") {
		t.Fatalf("notes: want one about the implicit MX, got %q", d.Notes)
	}
}

func TestHostLiteral(t *testing.T) {
	z := &fakedns.Zone{}
	r := newTestResolver(t, time.Second, 1, fakedns.Serve(t, z))
	for _, tc := range []struct{ in, want string }{
		{"127.0.0.1", "127.0.0.1"},
		{"[127.0.0.1]", "127.0.0.1"},
		{"::1", "::1"},
		{"[::1]", "::1"},
		{"[IPv6:::1]", "::1"},
	} {
		h := r.Host(context.Background(), tc.in, Options{Families: []Family{IPv4}, IgnoreSpecialAddresses: true})
		want := fmt.Sprintf("0 %s [%s] answer", tc.want, tc.want)
		if got := hostSummary(h); got != want {
			t.Fatalf("Host(%q): want %s, got %s", tc.in, want, got)
		}
	}
	if n := z.Total(""); n != 0 {
		t.Fatalf("literal addresses caused %d queries", n)
	}
	// Nothing is trimmed into an address or a name.
	for _, in := range []string{"", ".", "bad..name", "ünicode.fake", " [127.0.0.1] ", " 127.0.0.1", "[ ::1]", `x\.fake`, "x .fake"} {
		if h := r.Host(context.Background(), in, Options{}); h.Outcome != OutcomeError || h.Err == "" {
			t.Fatalf("Host(%q): want an error, got %s", in, hostSummary(h))
		}
	}
	if h := r.Host(context.Background(), "x.fake", Options{Families: []Family{"ipx"}}); h.Outcome != OutcomeError {
		t.Fatalf("unknown family: want an error, got %s", hostSummary(h))
	}
}

func TestParseServer(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{in: "127.0.0.1", want: "127.0.0.1:53"},
		{in: " 127.0.0.1:5353 ", want: "127.0.0.1:5353"},
		{in: "::1", want: "[::1]:53"},
		{in: "[::1]", want: "[::1]:53"},
		{in: "[::1]:5353", want: "[::1]:5353"},
		{in: "[fe80::1%eth0]:53", want: "[fe80::1%eth0]:53"},
		{in: "fe80::1%eth0", want: "[fe80::1%eth0]:53"},
		{in: "", err: "empty"},
		{in: "localhost", err: "want an IP address"},
		{in: "dns.example:53", err: "want an IP address"},
		{in: "[127.0.0.1]:53", want: "127.0.0.1:53"}, // as the config reads it
		{in: "[127.0.0.1]", want: "127.0.0.1:53"},
		{in: "127.0.0.1:0", err: `port must be a number from 1 to 65535, got "0"`},
		{in: "127.0.0.1:70000", err: `port must be a number from 1 to 65535, got "70000"`},
		{in: "[]", err: `must be "host", "host:port", an IP address or "[ipv6]:port", got "[]"`},
	} {
		got, err := ParseServer(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("ParseServer(%q): want error containing %q, got %q, %v", tc.in, tc.err, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Fatalf("ParseServer(%q): want %q, got %q, %v", tc.in, tc.want, got, err)
		}
	}
}

func TestNewResolver(t *testing.T) {
	for _, tc := range []struct {
		servers  []string
		timeout  time.Duration
		attempts int
		want     string // servers, or the error's start
	}{
		{[]string{"127.0.0.1", "::1", "127.0.0.1:53"}, time.Second, 1, "[127.0.0.1:53 [::1]:53]"},
		{nil, time.Second, 1, "dnsmx: no DNS server"},
		{[]string{"127.0.0.1"}, 0, 1, "dnsmx: timeout must be positive"},
		{[]string{"127.0.0.1"}, time.Second, 0, "dnsmx: attempts must be at least 1"},
		{[]string{"127.0.0.1", "ns.example"}, time.Second, 1, `dnsmx: DNS server "ns.example"`},
	} {
		r, err := NewResolver(tc.servers, tc.timeout, tc.attempts)
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got = fmt.Sprint(r.Servers())
		}
		if !strings.HasPrefix(got, tc.want) {
			t.Fatalf("NewResolver(%q, %v, %d): want %s…, got %s", tc.servers, tc.timeout, tc.attempts, tc.want, got)
		}
	}
}

func TestServersFromResolvConf(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ conf, want string }{
		{"# comment\nsearch example\nnameserver 127.0.0.53\nnameserver ::1\nnameserver 127.0.0.53\noptions edns0\n", "[127.0.0.53:53 [::1]:53]"},
		{"search example\n", "no nameserver line"},
		{"nameserver dns.example\n", `nameserver "dns.example": not an IP address`},
	} {
		path := filepath.Join(dir, "resolv.conf")
		if err := os.WriteFile(path, []byte(tc.conf), 0o600); err != nil {
			t.Fatal(err)
		}
		servers, err := ServersFromResolvConf(path)
		got := fmt.Sprint(servers)
		if err != nil {
			got = err.Error()
		}
		if !strings.Contains(got, tc.want) {
			t.Fatalf("ServersFromResolvConf(%q): want %s, got %s", tc.conf, tc.want, got)
		}
	}
	if _, err := ServersFromResolvConf(filepath.Join(dir, "absent")); err == nil {
		t.Fatalf("absent file: want an error")
	}
}

func FuzzParseServer(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "[::1]:53", "::1", "[fe80::1%eth0]", "1.2.3.4:0", "host:53", "[1.2.3.4]", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := ParseServer(s)
		if err != nil {
			return
		}
		ap, err := netip.ParseAddrPort(out)
		if err != nil || ap.Port() == 0 {
			t.Fatalf("ParseServer(%q) = %q: not an ip:port (%v)", s, out, err)
		}
		again, err := ParseServer(out)
		if err != nil || again != out {
			t.Fatalf("ParseServer(%q) = %q, but ParseServer(%q) = %q, %v", s, out, out, again, err)
		}
	})
}

// BenchmarkDomain resolves a two-MX domain against the in-process server
// (additional section filled, so one MX query and one AAAA query per host).
func BenchmarkDomain(b *testing.B) {
	z := &fakedns.Zone{Records: fakedns.Parse(b, fakeRecords), Additional: true}
	r := newTestResolver(b, 2*time.Second, 1, fakedns.Serve(b, z))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if d := r.Domain(ctx, "good.fake", Options{}); d.Outcome != OutcomeAnswer || len(d.Hosts) != 2 {
			b.Fatalf("got %s", summary(d))
		}
	}
}

// TestPlainNetError: socket errors reach a person as words, never as Go's
// "read udp 127.0.0.1:…: connection refused".
func TestPlainNetError(t *testing.T) {
	opErr := func(e error) error {
		return &net.OpError{Op: "read", Net: "udp", Source: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4000}, Err: e}
	}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{opErr(syscall.ECONNREFUSED), "nothing listens there (connection refused)"},
		{opErr(syscall.ECONNRESET), "the server reset the connection"},
		{opErr(syscall.EHOSTUNREACH), "no route to the server"},
		{io.EOF, "the server closed the connection before its answer"},
		{&tcpRetryError{opErr(syscall.ECONNREFUSED)}, "truncated UDP reply, then over TCP: nothing listens there (connection refused)"},
		{errors.New("read udp 127.0.0.1:1->127.0.0.2:53: something new"), "network error"},
	} {
		if got := plainNetError(tc.err); got != tc.want {
			t.Errorf("plainNetError(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
