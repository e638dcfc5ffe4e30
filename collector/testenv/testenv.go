// Package testenv gives integration tests the real test servers of .ci/testenv: an nsd
// authoritative for the zone "test.", a validating unbound, one Postfix instance with
// one listener per scenario and nginx for the MTA-STS policy hosts, all on loopback
// addresses. Require starts them when needed and leaves them
// running for the next package.
//
// The scenarios (see .ci/testenv.d/test.zone):
//
//	good.test       MX 10 mx1.good.test (127.0.1.1, STARTTLS), MX 20 mx2.good.test (127.0.1.2, SIZE 12345678)
//	relay.test      MX 10 mx.relay.test (127.0.1.3): open relay
//	reject.test     MX 10 mx.reject.test (127.0.1.4): 554 greeting, 503 to every command but QUIT
//	partial.test    MX 10 dead.partial.test (127.0.1.250: connection refused), MX 20 mx1.good.test
//	nullmx.test     MX 0 . (RFC 7505)
//	implicit.test   no MX, A 127.0.1.1 on the apex
//	multiline.test  MX 10 mx.multiline.test (127.0.1.6): postscreen, "220-" then "220 " 1 to 2 s later;
//	                a client that sends before the final line is logged PREGREET and dropped (521 5.5.1)
//	tls.test        MX 10 mx.tls.test (127.0.1.7): STARTTLS, certificate of the test CA
//	greylist.test   MX 10 mx.greylist.test (127.0.1.8): RCPT postmaster@greylist.test answers
//	                "450 4.2.0 <postmaster@greylist.test>: Recipient address rejected: Greylisted, please try again later"
//	slow.test       MX 10 mx.slow.test (127.0.1.9): RCPT of a local mailbox answers after 2 s
//	                (Postfix's sleep restriction); the relay check is refused at once
//	notls.test      MX 10 mx.notls.test (127.0.1.10): STARTTLS advertised, answered
//	                "454 4.7.0 TLS not available due to local problem" (its certificate does not match its key)
//	chain.test      MX 10 mx.chain.test (127.0.1.11): STARTTLS, sends leaf and test CA (the others the leaf only)
//	expired.test    MX 10 mx.expired.test (127.0.1.12): STARTTLS, a certificate of the test CA for the
//	                same key as the others', expired a day before it was made
//	nopipe.test     MX 10 mx.nopipe.test (127.0.1.13): EHLO does not advertise PIPELINING (the others do)
//	cname.test      MX 10 alias.cname.test, a CNAME to mx1.good.test
//	noaddr.test     MX 10 noaddr-host.noaddr.test, which has no A/AAAA (TXT only)
//	v6.test         MX 10 mx.v6.test, AAAA ::1 only ([::1]:25)
//	multi.test      MX 10 mx.multi.test, A 127.0.1.1 and A 127.0.1.2
//	nodata.test     TXT only: NOERROR with no MX (NODATA)
//	missing.test    absent: NXDOMAIN
//
// In every domain with a listener, postmaster@ exists (RCPT: 250 2.1.5, but 450 4.2.0 on
// mx.greylist.test), any other user is unknown (550 5.1.1), and relaying to another domain
// is refused (554 5.7.1) except on mx.relay.test. postmaster@v6broken.test and
// postmaster@v4broken.test exist too, refused (550 5.7.1) by one listener each (see
// Listener.Refuses and the IPv6 parity scenarios below). Postfix delivers nothing: every
// transport is discard:.
//
// DNSSEC and DANE (see .ci/testenv.d/dnssec.test.zone and unsigned.test.zone): nsd also
// serves "dnssec.test.", signed at `up` (ECDSAP256SHA256), and "unsigned.test.", not
// signed. ValidatingResolverAddr is a validating unbound that asks nsd for "test." and
// below and trusts the KSK of dnssec.test. only: names there come with AD, names under
// "test." and "unsigned.test." without. Every TLSA record is computed at `up` from the
// test keys; "served key" is the key of the certificates Postfix presents (the SANs of
// the unexpired one include mx.chain.test, mx.unsigned.test and every mx.*.dnssec.test
// name with an address but mx.expired's and mx.insecuretlsa's), "next key" a second key
// no server uses. Each domain has one MX, mx.<domain> unless said otherwise:
//
//	ee.dnssec.test        127.0.1.7: TLSA 3 1 1 of the served key (DANE-EE match)
//	rollover.dnssec.test  127.0.1.7: 3 1 1 of the served key and 3 1 1 of the next key
//	mismatch.dnssec.test  127.0.1.7: 3 1 1 of the next key only (no match)
//	ta.dnssec.test        127.0.1.7: 2 1 1 of the test CA; the server sends its leaf only
//	tachain.dnssec.test   127.0.1.11 (mx.chain.test's listener: leaf and test CA sent): 2 1 1 of the
//	                      test CA and 2 0 1 of its certificate (DANE-TA match)
//	pkix.dnssec.test      127.0.1.7: 1 1 1 of the served key only (PKIX-EE: no usable TLSA for SMTP)
//	bogus.dnssec.test     127.0.1.7: 3 1 1 of the served key, its RRSIG tampered with:
//	                      SERVFAIL from the validator, the data with CD
//	notls.dnssec.test     127.0.1.10 (mx.notls.test's listener: STARTTLS answered 454): 3 1 1 of the served key
//	nostarttls.dnssec.test 127.0.1.2 (mx2.good.test's listener: no STARTTLS): 3 1 1 of the served key
//	secure.dnssec.test    127.0.1.7: signed MX and A, no TLSA (NOERROR, no data, with AD)
//	expired.dnssec.test   127.0.1.12 (mx.expired.test's listener: expired certificate): 3 1 1 of the
//	                      served key (a match: DANE-EE ignores expiry, RFC 7671 5.1)
//	cnametlsa.dnssec.test 127.0.1.7: _25._tcp.mx.cnametlsa is a CNAME to _25._tcp.mx.ee.dnssec.test
//	                      (RFC 7671 section 7): 3 1 1 of the served key
//	alias.dnssec.test     MX mx.alias.dnssec.test, a CNAME to mx.ee.dnssec.test: the TLSA base
//	                      domain is mx.ee.dnssec.test (RFC 7672 2.2.2)
//	bogusmx.dnssec.test   MX mx.ee.dnssec.test, the RRSIG of the MX RRset tampered with: SERVFAIL
//	                      from the validator, the data with CD
//	bogusaddr.dnssec.test 127.0.1.7: 3 1 1 of the served key, the RRSIG of the host's A RRset
//	                      tampered with (SERVFAIL, the data with CD)
//	insecuretlsa.dnssec.test 127.0.1.7: _25._tcp.mx.insecuretlsa is a CNAME to
//	                      _25._tcp.insecuretlsa.unsigned.test, 3 1 1 of the next key: a TLSA RRset
//	                      that is insecure though the host's addresses are secure (ignored)
//	unsigned.test         127.0.1.7: 3 1 1 of the served key in an unsigned zone (insecure: no AD)
//
// MTA-STS and TLS-RPT (RFC 8461, RFC 8460; see .ci/testenv.d/nginx.conf and mta-sts/):
// nginx serves https://mta-sts.<d>.sts.test/.well-known/mta-sts.txt (PolicyPath, port
// PolicyPort) for the domains below, from PolicyHostAddr (127.0.4.1) with a certificate
// of the test CA for every policy host's name, except mta-sts.expiredhost.sts.test on
// PolicyExpiredAddr (127.0.4.2: a certificate of the test CA that has expired) and
// mta-sts.wrongname.sts.test on PolicyWrongNameAddr (127.0.4.3: a certificate of the
// test CA for www.wrongname.sts.test only). Env.CAFile verifies both the policy hosts and
// the MX hosts; Env.PolicyClient talks to a policy host without DNS. Policies are
// text/plain without charset, LF line ends; any other path is 404. "valid enforce" is
// "version: STSv1, mode: enforce, mx: mx1.good.test, max_age: 604800". TXT records
// are _mta-sts.<d> (STS) and _smtp._tls.<d> (RPT); MX hosts are the listeners above:
//
//	enforce.sts.test     MX 10 mx1.good.test, 20 mx.tls.test; STS "v=STSv1; id=enforce1";
//	                     policy enforce, mx mx1.good.test and mx.tls.test, max_age 604800;
//	                     RPT "v=TLSRPTv1; rua=mailto:tlsrpt@good.test"
//	wildcard.sts.test    MX 10 mx1.good.test; "v=STSv1; id=wildcard1"; enforce, mx *.good.test,
//	                     max_age 1209600; RPT "v=TLSRPTv1; rua=https://tlsrpt.good.test/v1"
//	uncovered.sts.test   MX 10 mx1.good.test, 20 mx.tls.test; "v=STSv1; id=uncovered1"; valid
//	                     enforce (mx.tls.test not covered); RPT "v=TLSRPTv1" (no rua)
//	testing.sts.test     as uncovered but "id=testing1", mode testing; two RPT records,
//	                     rua=mailto:tlsrpt@good.test and rua=mailto:tlsrpt2@good.test
//	none.sts.test        MX 10 mx1.good.test; "id=none1"; mode none, max_age 86400, no mx;
//	                     RPT "v=TLSRPTv1; rua=ftp://tlsrpt.good.test/"
//	expiredhost.sts.test "id=expiredhost1"; valid enforce behind the expired certificate
//	wrongname.sts.test   "id=wrongname1"; valid enforce behind the wrong-name certificate
//	redirect.sts.test    "id=redirect1"; 301, Location https://mta-sts.enforce.sts.test/.well-known/mta-sts.txt
//	notfound.sts.test    "id=notfound1"; 404
//	syntax.sts.test      "id=syntax1"; version STSv1, "mode: enforcing", max_age 604800,
//	                     mx mx1.good.test, then the line "this is not a key value line"
//	duptxt.sts.test      two STS records, "v=STSv1; id=dup1" and "v=STSv1; id=dup2"; valid enforce
//	noid.sts.test        STS "v=STSv1;" (no id); valid enforce
//	big.sts.test         "id=big1"; valid enforce followed by "x-filler-NNNNN: ..." lines,
//	                     BigPolicySize (70 KiB) in all
//	expiredmx.sts.test   MX 10 mx.expired.test (expired certificate); "id=expiredmx1"; enforce,
//	                     mx mx.expired.test, max_age 604800
//	maxage.sts.test      "id=maxage1"; enforce, mx mx1.good.test, max_age 99999999
//	htmltype.sts.test    "id=htmltype1"; valid enforce served as text/html
//	cnametxt.sts.test    _mta-sts.cnametxt.sts.test is a CNAME to _mta-sts.enforce.sts.test
//	                     (so "id=enforce1"); its own policy host: valid enforce
//	nosts.sts.test       MX 10 mx1.good.test; no STS record, no policy host (NXDOMAIN), no RPT
//
// Unless said otherwise the MX is 10 mx1.good.test, mta-sts.<d> is PolicyHostAddr and
// there is no RPT record. Every name resolves through ValidatingResolverAddr as well
// (insecure: no AD).
//
// Reverse DNS, blocklists and IPv6 parity (issue 13; reverse.go, .ci/testenv.d/
// reverse-127.0.1.zone, reverse-ipv6-loopback.zone and test.zone). nsd serves
// ReverseZoneIPv4 (1.0.127.in-addr.arpa.) and ReverseZoneIPv6 (::1), which the
// validating unbound answers too (not with its built-in "localhost."); PTRs lists them:
//
//	127.0.1.1, .2, .4, .6, .7, .11, .12, .13  PTR the listener's MX host name: confirmed
//	127.0.1.3   PTR mail.other.test (A 127.0.1.3): confirmed; banner and MX say mx.relay.test
//	127.0.1.8   PTR ptronly.other.test, which has no A/AAAA: not_confirmed
//	127.0.1.9   no PTR (NXDOMAIN): no_ptr
//	127.0.1.10  PTR wrongaddr.other.test, A 127.0.1.99: not_confirmed
//	::1         PTR mx.v6.test (AAAA ::1): confirmed
//
// Blocklists in zone test. (RFC 5782; Listings lists the records):
//
//	bl.test        address zone, healthy: 127.0.0.2 and ::ffff:127.0.0.2 listed (test
//	               entries, TXT "test entry" for the first), 127.0.0.1 not; 127.0.1.3 listed
//	               (A 127.0.0.4, with a TXT), ::1 listed (127.0.0.3, with a TXT); 127.0.1.8
//	               answers 127.255.255.254 (query_refused), 127.0.1.9 192.0.2.9
//	               (answer_invalid); every other address NXDOMAIN
//	brokenbl.test  address zone, every name A 127.0.0.2 (127.0.0.1 too): unhealthy
//	dbl.test       domain zone, healthy: "test" listed, "invalid" not; mx.relay.test
//	               listed (A 127.0.1.2, with a TXT)
//
// IPv6 parity (ParityDomains), each MX host with A and AAAA ::1 (mx.v6.test's listener):
//
//	dual.test      MX 10 mx.dual.test (127.0.1.1, ::1): both accept MailboxOK: both_pass
//	v6broken.test  MX 10 mx.v6broken.test (127.0.1.1, ::1): MailboxIPv6Failing accepted
//	               at 127.0.1.1, "550 5.7.1" at [::1]: ipv6_failing
//	v4broken.test  MX 10 mx.v4broken.test (127.0.1.2, ::1): MailboxIPv4Failing "550 5.7.1"
//	               at 127.0.1.2, accepted at [::1]: ipv4_failing
//
// good.test is IPv4 only (ipv4_only), v6.test IPv6 only (ipv6_only).
//
// Postfix logs to MaillogFile. Tests that look for their own connections there dial
// from an address of ClientIP and read the log with FollowMaillog.
package testenv

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Fixed facts of the environment.
const (
	ResolverAddr = "127.0.53.1:53" // nsd, UDP and TCP
	// ValidatingResolverAddr is unbound, a validating recursive resolver for the test
	// zones (trust anchor: dnssec.test.), UDP and TCP.
	ValidatingResolverAddr = "127.0.53.2:53"
	DefaultDir             = "/tmp/mx_exporter-testenv" // state dir unless MX_TESTENV_DIR is set
	MailboxOK              = "postmaster@good.test"     // RCPT: 250 2.1.5
	MailboxUnknown         = "nobody@good.test"         // RCPT: 550 5.1.1
	RelayAddress           = "relay-check@outside.test" // RCPT: 554 5.7.1, or 250 2.1.5 on the open relay
	SizeLimit              = 12345678                   // SIZE advertised by mx2.good.test
	DefaultSizeLimit       = 10240000                   // SIZE advertised by the other listeners
	DeadIP                 = "127.0.1.250"              // dead.partial.test: nothing listens, connection refused
)

// Listener is one Postfix SMTP listener on port 25.
type Listener struct {
	Host      string // MX host name, e.g. "mx1.good.test"
	IP        string // e.g. "127.0.1.1" or "::1"
	Addr      string // host:port for net.Dial, e.g. "127.0.1.1:25" or "[::1]:25"
	Domain    string // a domain whose postmaster@ mailbox this listener accepts
	Greeting  int    // code of the greeting: 220, or 554 for mx.reject.test
	Multiline bool   // the greeting has "220-" continuation lines (postscreen)
	STARTTLS  bool   // STARTTLS offered; unless STARTTLSRefused, with a certificate of the test CA (SANs include Host)
	SizeLimit int64  // advertised SIZE
	OpenRelay bool   // accepts RCPT to RelayAddress

	// GreetWait is postscreen's greet wait (only with Multiline): the final "220 "
	// line comes at most this long after the first "220-" line, and more than
	// MinGreetWait after it: Postfix timers count whole seconds, so while other
	// clients keep postscreen busy its wait ends up to a second early. A client
	// that sends anything before the final line is logged "PREGREET" and dropped
	// with "521 5.5.1 Protocol error".
	GreetWait, MinGreetWait time.Duration
	// Greylisted: RCPT of postmaster@Domain answers 450 4.2.0 (check_recipient_access).
	Greylisted bool
	// RcptDelay: RCPT of a mailbox of Domain (known or not) answers this long after
	// it was sent (Postfix's sleep restriction). The relay check is not delayed.
	RcptDelay time.Duration
	// STARTTLSRefused: STARTTLS is offered but answered with
	// "454 4.7.0 TLS not available due to local problem"; the session goes on in clear.
	STARTTLSRefused bool
	// FullChain: the handshake sends the test CA after the leaf (the others send the leaf only).
	FullChain bool
	// CertExpired: the certificate has expired (it is of the test CA, for the same key
	// as the others', SANs mx.expired.test and mx.expired.dnssec.test).
	CertExpired bool
	// Refuses: RCPT of this mailbox answers "550 5.7.1" here (check_recipient_access),
	// so that one address family of an IPv6 parity domain fails; "" when none.
	Refuses string
	// NoPipelining: EHLO does not advertise PIPELINING (smtpd_discard_ehlo_keywords),
	// so a client must send one command at a time (RFC 2920); the others advertise it.
	NoPipelining bool
}

// The listeners, in the order of their addresses.
var listeners = []Listener{
	{Host: "mx1.good.test", IP: "127.0.1.1", Domain: "good.test", Greeting: 220, STARTTLS: true, SizeLimit: DefaultSizeLimit},
	{Host: "mx2.good.test", IP: "127.0.1.2", Domain: "good.test", Greeting: 220, SizeLimit: SizeLimit, Refuses: MailboxIPv4Failing},
	{Host: "mx.relay.test", IP: "127.0.1.3", Domain: "relay.test", Greeting: 220, SizeLimit: DefaultSizeLimit, OpenRelay: true},
	{Host: "mx.reject.test", IP: "127.0.1.4", Domain: "reject.test", Greeting: 554},
	{Host: "mx.multiline.test", IP: "127.0.1.6", Domain: "multiline.test", Greeting: 220, Multiline: true, SizeLimit: DefaultSizeLimit, GreetWait: 2 * time.Second, MinGreetWait: time.Second},
	{Host: "mx.tls.test", IP: "127.0.1.7", Domain: "tls.test", Greeting: 220, STARTTLS: true, SizeLimit: DefaultSizeLimit},
	{Host: "mx.greylist.test", IP: "127.0.1.8", Domain: "greylist.test", Greeting: 220, SizeLimit: DefaultSizeLimit, Greylisted: true},
	{Host: "mx.slow.test", IP: "127.0.1.9", Domain: "slow.test", Greeting: 220, SizeLimit: DefaultSizeLimit, RcptDelay: 2 * time.Second},
	{Host: "mx.notls.test", IP: "127.0.1.10", Domain: "notls.test", Greeting: 220, STARTTLS: true, STARTTLSRefused: true, SizeLimit: DefaultSizeLimit},
	{Host: "mx.chain.test", IP: "127.0.1.11", Domain: "chain.test", Greeting: 220, STARTTLS: true, SizeLimit: DefaultSizeLimit, FullChain: true},
	{Host: "mx.expired.test", IP: "127.0.1.12", Domain: "expired.test", Greeting: 220, STARTTLS: true, SizeLimit: DefaultSizeLimit, CertExpired: true},
	{Host: "mx.nopipe.test", IP: "127.0.1.13", Domain: "nopipe.test", Greeting: 220, SizeLimit: DefaultSizeLimit, NoPipelining: true},
	{Host: "mx.v6.test", IP: "::1", Domain: "v6.test", Greeting: 220, SizeLimit: DefaultSizeLimit, Refuses: MailboxIPv6Failing},
}

func init() {
	for i := range listeners {
		listeners[i].Addr = net.JoinHostPort(listeners[i].IP, "25")
	}
}

// Env describes the running test servers.
type Env struct {
	Resolver string // "127.0.53.1:53"
	// ValidatingResolver is "127.0.53.2:53": unbound, validating, trust anchor dnssec.test.
	ValidatingResolver string
	NextKeyFile        string         // PEM of the "next" key of rollover.dnssec.test (in TLSA only)
	CAFile             string         // PEM of the test CA (of the MX and the MTA-STS policy hosts)
	CAPool             *x509.CertPool // the test CA alone, for tls.Config.RootCAs
	Dir                string         // state dir
	MaillogFile        string         // Postfix log
	NSDLogFile         string         // nsd log

	MailboxOK        string // "postmaster@good.test"
	MailboxUnknown   string // "nobody@good.test"
	RelayAddress     string // "relay-check@outside.test"
	SizeLimit        int64  // 12345678, advertised by mx2.good.test
	DefaultSizeLimit int64  // 10240000, advertised by the others
	DeadIP           string // "127.0.1.250"

	Listeners []Listener // every listener
}

// Listener returns the listener of the MX host name (e.g. "mx.tls.test"); it panics on
// an unknown name, which is a bug in the test.
func (e *Env) Listener(host string) Listener {
	for _, l := range e.Listeners {
		if l.Host == host {
			return l
		}
	}
	panic("testenv: no listener " + host)
}

// DNSResolver returns a resolver that asks the test nsd only (Go's own resolver,
// UDP with TCP fallback, whatever address the standard library would have used).
func (e *Env) DNSResolver() *net.Resolver {
	return newResolver(e.Resolver)
}

func newResolver(addr string) *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
}

// MaillogTail returns the last n lines of the Postfix log, for diagnostics.
func (e *Env) MaillogTail(n int) string {
	return tail(e.MaillogFile, n)
}

// LogOnFailure logs the tail of the Postfix log when t has failed, at its cleanup.
func (e *Env) LogOnFailure(t testing.TB) {
	t.Helper()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("tail of %s:\n%s", e.MaillogFile, e.MaillogTail(40))
		}
	})
}

// MaillogTail returns the last n lines of the Postfix log of the state dir in use
// (MX_TESTENV_DIR or the default), without starting anything.
func MaillogTail(n int) string {
	return tail(filepath.Join(stateDir(), "postfix.log"), n)
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func stateDir() string {
	if d := os.Getenv("MX_TESTENV_DIR"); d != "" {
		return filepath.Clean(d)
	}
	return DefaultDir
}

var (
	mu       sync.Mutex
	cached   *Env
	cacheErr error
)

// Require returns the running environment, starting it with `.ci/testenv up` when it
// does not answer. Several test processes may call it at once: an flock on "$DIR.lock"
// serializes them. The servers are left running. When the environment cannot be had,
// Require fails the test if CI=true, and skips it otherwise.
func Require(t testing.TB) *Env {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if cached == nil && cacheErr == nil {
		cached, cacheErr = setup()
	}
	if cacheErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("testenv: %v", cacheErr)
		}
		t.Skipf("testenv: %v", cacheErr)
	}
	return cached
}

func setup() (*Env, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	dir := stateDir()
	unlock, err := lock(dir+".lock", 3*time.Minute)
	if err != nil {
		return nil, err
	}
	defer unlock()

	if err := check(root, dir); err == nil {
		return newEnv(dir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	script := filepath.Join(root, ".ci", "testenv")
	cmd := exec.CommandContext(ctx, "bash", script, "up")
	cmd.Env = append(os.Environ(), "MX_TESTENV_DIR="+dir, "MX_TESTENV_LOCKED=1")
	cmd.Dir = root
	cmd.WaitDelay = 5 * time.Second // daemons it starts may keep the pipes open
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s up: %w\n%s", script, err, out)
	}
	if err := check(root, dir); err != nil {
		return nil, fmt.Errorf("%s up succeeded but the environment does not answer: %w\n%s", script, err, out)
	}
	return newEnv(dir)
}

func newEnv(dir string) (*Env, error) {
	caFile := filepath.Join(dir, "tls", "ca.pem")
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate in %s", caFile)
	}
	return &Env{
		Resolver:           ResolverAddr,
		ValidatingResolver: ValidatingResolverAddr,
		NextKeyFile:        filepath.Join(dir, "tls", "next.key"),
		CAFile:             caFile,
		CAPool:             pool,
		Dir:                dir,
		MaillogFile:        filepath.Join(dir, "postfix.log"),
		NSDLogFile:         filepath.Join(dir, "nsd", "nsd.log"),
		MailboxOK:          MailboxOK,
		MailboxUnknown:     MailboxUnknown,
		RelayAddress:       RelayAddress,
		SizeLimit:          SizeLimit,
		DefaultSizeLimit:   DefaultSizeLimit,
		DeadIP:             DeadIP,
		Listeners:          append([]Listener(nil), listeners...),
	}, nil
}

// moduleRoot walks up from the working directory to the directory holding go.mod.
func moduleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s", wd)
		}
	}
}

// lock takes an exclusive flock on path, waiting at most wait. When root
// made the file (.ci/testenv runs as root) another user may only read it,
// which is enough for flock.
func lock(path string, wait time.Duration) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if errors.Is(err, fs.ErrPermission) {
		f, err = os.Open(path)
	}
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(wait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				_ = f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("flock %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("flock %s: still held by another process after %v", path, wait)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fingerprint is the hash that .ci/testenv writes to $DIR/fingerprint: sha256 of the
// script followed by every file under .ci/testenv.d, in the byte order of their paths
// relative to it (as LC_ALL=C sort orders them).
func fingerprint(root string) (string, error) {
	tpl := filepath.Join(root, ".ci", "testenv.d")
	var files []string
	err := filepath.WalkDir(tpl, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(tpl, path)
			if err != nil {
				return err
			}
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Strings(files)
	paths := []string{filepath.Join(root, ".ci", "testenv")}
	for _, f := range files {
		paths = append(paths, filepath.Join(tpl, f))
	}
	h := sha256.New()
	for _, f := range paths {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// check answers quickly whether the environment is up, current and answering: the
// fingerprint of the running configuration, every listener's greeting (only its first
// line for postscreen, which holds the rest for its greet wait), one DNS query to each
// resolver, one policy fetch from the MTA-STS policy host, and two reverse lookups
// through the validating resolver.
func check(root, dir string) error {
	want, err := fingerprint(root)
	if err != nil {
		return err
	}
	got, err := os.ReadFile(filepath.Join(dir, "fingerprint"))
	if err != nil || strings.TrimSpace(string(got)) != want {
		return errors.New("not started, or started from another version of .ci/testenv")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	errs := make([]error, len(listeners)+4)
	var wg sync.WaitGroup
	for i, l := range listeners {
		wg.Go(func() { errs[i] = checkGreeting(ctx, l) })
	}
	wg.Go(func() {
		mxs, err := newResolver(ResolverAddr).LookupMX(ctx, "good.test.")
		if err == nil && len(mxs) != 2 {
			err = fmt.Errorf("%d MX records", len(mxs))
		}
		if err != nil {
			errs[len(listeners)] = fmt.Errorf("DNS %s: good.test MX: %w", ResolverAddr, err)
		}
	})
	wg.Go(func() { errs[len(listeners)+1] = checkValidating(ctx) })
	wg.Go(func() { errs[len(listeners)+2] = checkPolicyHost(ctx, dir) })
	wg.Go(func() { errs[len(listeners)+3] = checkReverse(ctx) })
	wg.Wait()
	return errors.Join(errs...)
}

// checkValidating asks the validating unbound for a signed TLSA RRset: NOERROR with AD.
func checkValidating(ctx context.Context) error {
	m := new(dns.Msg)
	m.SetQuestion("_25._tcp.mx.ee.dnssec.test.", dns.TypeTLSA)
	m.SetEdns0(1232, true)
	c := &dns.Client{Timeout: 3 * time.Second}
	r, _, err := c.ExchangeContext(ctx, m, ValidatingResolverAddr)
	if err == nil && (r.Rcode != dns.RcodeSuccess || !r.AuthenticatedData || len(r.Answer) == 0) {
		err = fmt.Errorf("rcode %s, AD %v, %d answers", dns.RcodeToString[r.Rcode], r.AuthenticatedData, len(r.Answer))
	}
	if err != nil {
		return fmt.Errorf("DNS %s: _25._tcp.mx.ee.dnssec.test TLSA: %w", ValidatingResolverAddr, err)
	}
	return nil
}

var replyLine = regexp.MustCompile(`^([2-5][0-9][0-9])([ -])(.*)$`)

// greetingCheckIP is the client address of the health check of a
// postscreen listener. postscreen greets a client address that passed its
// test moments before (tests pass it from 127.0.0.1 all the time) with
// smtpd's one-line greeting (PASS OLD); the check hangs up inside the greet
// wait, so from an address of its own it never passes and always sees the
// multi-line greeting.
var greetingCheckIP = netip.MustParseAddr("127.0.0.254")

func checkGreeting(ctx context.Context, l Listener) error {
	var d net.Dialer
	if l.Multiline {
		d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(greetingCheckIP, 0))
	}
	c, err := d.DialContext(ctx, "tcp", l.Addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	line, err := bufio.NewReader(io.LimitReader(c, 4096)).ReadString('\n')
	if err != nil {
		return fmt.Errorf("%s (%s): greeting: %w", l.Addr, l.Host, err)
	}
	m := replyLine.FindStringSubmatch(strings.TrimRight(line, "\r\n"))
	if m == nil || m[1] != fmt.Sprint(l.Greeting) || (m[2] == "-") != l.Multiline {
		return fmt.Errorf("%s (%s): unexpected greeting %q", l.Addr, l.Host, line)
	}
	if l.Multiline {
		return nil // hang up: postscreen sends the last line only after its greet wait
	}
	_, err = c.Write([]byte("QUIT\r\n"))
	return err
}

// ReadReply reads one SMTP reply (all its lines) from r, for tests that talk to the
// listeners directly. It returns the code and the lines without CRLF.
func ReadReply(r *bufio.Reader) (code string, lines []string, err error) {
	total := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return "", lines, err
		}
		if total += len(line); len(lines) >= 100 || total > 64<<10 {
			return "", lines, errors.New("reply too long")
		}
		line = strings.TrimRight(line, "\r\n")
		lines = append(lines, line)
		m := replyLine.FindStringSubmatch(line)
		if m == nil || (code != "" && m[1] != code) {
			return "", lines, fmt.Errorf("malformed reply line %q", line)
		}
		code = m[1]
		if m[2] == " " {
			return code, lines, nil
		}
	}
}
