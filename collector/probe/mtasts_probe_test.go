package probe

import (
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/mtasts"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/testenv/fakedns"
)

// The engine's MTA-STS lookups through a whole Probe, against a small
// in-process DNS server on 127.0.0.1 (collector/testenv/fakedns). It is
// used ONLY for what the real nsd of collector/testenv cannot show: which
// questions a probe asked (none of MTA-STS with mode off or for a host
// target) and a server that never answers one of them (the probe's
// deadline ends the policy lookup). The scenarios themselves run against
// nsd and nginx in mtasts_integration_test.go.

// startCountingDNS serves zone (records in presentation format, one a line)
// on 127.0.0.1, never answering the names in silent, and returns it and a
// resolver asking it.
func startCountingDNS(t *testing.T, zone string, silent ...string) (*fakedns.Zone, *dnsmx.Resolver) {
	t.Helper()
	z := &fakedns.Zone{Records: fakedns.Parse(t, zone)}
	for _, n := range silent {
		z.Silence(n)
	}
	return z, fakedns.Resolver(t, dnsmx.NewResolver, 10*time.Second, 1, fakedns.Serve(t, z))
}

// closedPort returns a loopback port nothing listens on: a dialogue with it
// is refused at once.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	return port
}

// fakeZone: a null MX domain (no dialogue to wait for) with a TLS-RPT
// record, and a host for host targets.
const fakeZone = `
fake.test. 60 IN MX 0 .
_smtp._tls.fake.test. 60 IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@fake.test"
mx.fake.test. 60 IN A 127.0.0.1
`

func fakeSettings(r *dnsmx.Resolver, mode mtasts.Mode, port int) Settings {
	return Settings{
		Resolver: r,
		Timeout:  5 * time.Second,
		MTASTS:   mode,
		SMTP:     smtp.Options{Port: port, EHLOName: "probe.mx-exporter.test"},
		DNS:      dnsmx.Options{IgnoreSpecialAddresses: true},
	}
}

// TestMTASTSLookupsOnlyWhenAsked: mode off (or unset) and host targets ask
// nothing of MTA-STS or TLS-RPT and report nothing; mode enforce and
// report ask both TXT names of a domain.
func TestMTASTSLookupsOnlyWhenAsked(t *testing.T) {
	port := closedPort(t)
	for _, tc := range []struct {
		name   string
		target Target
		mode   mtasts.Mode
		asked  bool
	}{
		{"domain, mode off", Target{Domain: "fake.test"}, mtasts.ModeOff, false},
		{"domain, mode unset", Target{Domain: "fake.test"}, "", false},
		{"domain, mode enforce", Target{Domain: "fake.test"}, mtasts.ModeEnforce, true},
		{"domain, mode report", Target{Domain: "fake.test"}, mtasts.ModeReport, true},
		{"host target, mode enforce", Target{Host: "mx.fake.test", Port: port}, mtasts.ModeEnforce, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			z, r := startCountingDNS(t, fakeZone)
			rep := (&Prober{}).Probe(context.Background(), tc.target, fakeSettings(r, tc.mode, port))
			txt := z.Questions("TXT ")
			if !tc.asked {
				if len(txt) != 0 || rep.MTASTS != nil || rep.TLSRPT != nil {
					t.Fatalf("asked %v, MTASTS %+v, TLSRPT %+v; want nothing", txt, rep.MTASTS, rep.TLSRPT)
				}
				if got := z.Questions("A mta-sts."); len(got) != 0 {
					t.Fatalf("policy host looked up: %v", got)
				}
				return
			}
			slices.Sort(txt)
			if want := []string{"TXT _mta-sts.fake.test.", "TXT _smtp._tls.fake.test."}; !slices.Equal(txt, want) {
				t.Fatalf("TXT questions %v, want %v", txt, want)
			}
			if rep.MTASTS == nil || rep.MTASTS.Status != mtasts.StatusNoPolicy || rep.MTASTS.Mode != tc.mode {
				t.Fatalf("MTASTS %+v, want no_policy in mode %s", rep.MTASTS, tc.mode)
			}
			if rep.MTASTS.Policy != nil || rep.MTASTS.PolicyHost != nil || len(z.Questions("A mta-sts.")) != 0 {
				t.Fatalf("a policy was fetched without a TXT record: %+v", rep.MTASTS)
			}
			if rep.TLSRPT == nil || !rep.TLSRPT.Record.Valid || !slices.Equal(rep.TLSRPT.Record.RUA, []string{"mailto:tlsrpt@fake.test"}) {
				t.Fatalf("TLSRPT %+v, want the valid record", rep.TLSRPT)
			}
			if !rep.Success() {
				t.Fatal("a null MX domain without a policy fails")
			}
		})
	}
}

// TestMTASTSPolicyHostWithoutAddress: a TXT record, and no address for
// mta-sts.<domain> in the module's resolver: the fetch is no_address, the
// lookup is in the report, and senders fail open (a warning, no failure).
func TestMTASTSPolicyHostWithoutAddress(t *testing.T) {
	z, r := startCountingDNS(t, fakeZone+`_mta-sts.fake.test. 60 IN TXT "v=STSv1; id=fake1"`+"\n")
	rep := (&Prober{}).Probe(context.Background(), Target{Domain: "fake.test"}, fakeSettings(r, mtasts.ModeEnforce, 25))
	sts := rep.MTASTS
	if sts == nil || sts.Policy == nil {
		t.Fatalf("MTASTS %+v, want a policy state", sts)
	}
	f := sts.Policy.Fetch
	if sts.Status != mtasts.StatusUnfetchable || sts.Failure || f.Err != mtasts.FetchNoAddress || sts.Policy.ID != "fake1" {
		t.Fatalf("status %s failure %v fetch %q id %q (%s), want policy_unfetchable, no_address, id fake1", sts.Status, sts.Failure, f.Err, sts.Policy.ID, sts.Detail)
	}
	if f.URL != "https://mta-sts.fake.test/.well-known/mta-sts.txt" || f.Start.IsZero() {
		t.Fatalf("fetch %+v, want its URL and start", f)
	}
	if h := sts.PolicyHost; h == nil || h.Name != "mta-sts.fake.test" || h.Outcome != dnsmx.OutcomeNXDomain {
		t.Fatalf("policy host %+v, want mta-sts.fake.test nxdomain", h)
	}
	if got := z.Questions("A mta-sts.fake.test."); len(got) != 1 {
		t.Fatalf("policy host asked %v, want once", got)
	}
	if !strings.Contains(sts.Detail, "mta-sts.fake.test has no address") || !rep.Success() {
		t.Fatalf("detail %q, success %v", sts.Detail, rep.Success())
	}
}

// TestMTASTSLookupEndsWithTheProbe: a policy host whose lookup is never
// answered holds the probe no longer than its deadline, though the
// resolver itself would wait ten seconds.
func TestMTASTSLookupEndsWithTheProbe(t *testing.T) {
	_, r := startCountingDNS(t, fakeZone+`_mta-sts.fake.test. 60 IN TXT "v=STSv1; id=fake1"`+"\n", "mta-sts.fake.test.")
	s := fakeSettings(r, mtasts.ModeEnforce, 25)
	s.Timeout = 300 * time.Millisecond
	start := time.Now()
	rep := (&Prober{}).Probe(context.Background(), Target{Domain: "fake.test"}, s)
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("probe took %v with a deadline of %v", took, s.Timeout)
	}
	sts := rep.MTASTS
	if sts == nil || sts.Status != mtasts.StatusUnfetchable || sts.PolicyHost == nil || sts.PolicyHost.Outcome != dnsmx.OutcomeTimeout {
		t.Fatalf("MTASTS %+v, want policy_unfetchable after a policy host lookup that timed out", sts)
	}
}

// TestMTASTSSharedFetchOutlivesTheProbe: with the daemon's policy cache, a
// probe whose deadline passes while the policy host's lookup hangs ends at
// its deadline, with a timeout that is not cached: the fetch is every
// probe's and goes on under the module's fetch timeout.
func TestMTASTSSharedFetchOutlivesTheProbe(t *testing.T) {
	_, r := startCountingDNS(t, fakeZone+`_mta-sts.fake.test. 60 IN TXT "v=STSv1; id=fake1"`+"\n", "mta-sts.fake.test.")
	s := fakeSettings(r, mtasts.ModeEnforce, 25)
	s.Timeout = 300 * time.Millisecond
	s.MTASTSFetchTimeout = time.Minute
	p := &Prober{Policies: mtasts.NewCache()}
	start := time.Now()
	rep := p.Probe(context.Background(), Target{Domain: "fake.test"}, s)
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("probe took %v with a deadline of %v", took, s.Timeout)
	}
	sts := rep.MTASTS
	if sts == nil || sts.Status != mtasts.StatusUnfetchable || sts.Policy == nil || sts.Policy.Fetch.Err != mtasts.FetchTimeout || sts.Policy.Cached {
		t.Fatalf("MTASTS %+v, want policy_unfetchable with this probe's own timeout", sts)
	}
}
