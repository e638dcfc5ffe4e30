package dnsmx

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
	"unique"

	"github.com/miekg/dns"

	"github.com/mx-exporter/mx_exporter/collector/dnsname"
)

const (
	// ednsUDPSize is the EDNS0 buffer size we advertise: the DNS Flag Day
	// 2020 value, which avoids IP fragmentation on every usual path.
	ednsUDPSize = 1232
	// maxCNAMEChain bounds the CNAME hops followed for one name, within
	// one answer and across the queries for the targets taken together.
	maxCNAMEChain = 8
	// hostParallel bounds the MX hosts whose addresses are looked up at
	// the same time (each host asks A and AAAA concurrently).
	hostParallel = 8
)

// Resolver asks a fixed list of recursive DNS servers. It is safe for
// concurrent use.
type Resolver struct {
	servers  []string      // "ip:port", normalised by ParseServer
	timeout  time.Duration // per attempt (and per TCP retry)
	attempts int           // per server
	udp      *dns.Client
	tcp      *dns.Client

	// trustAD is set by EnableValidation: the AD bit of answers means
	// something only then.
	trustAD bool
	// valName is the signed name the self-check asks, canonical (with
	// its trailing dot).
	valName string
	// valRefresh and valRetry are how long a passed and a failed
	// self-check stand; tests shorten them.
	valRefresh, valRetry time.Duration
	val                  validationCache
}

// NewResolver returns a Resolver that asks servers in order. Each server is
// tried up to attempts times, each attempt bounded by timeout (and by the
// caller's context), before the next server is asked. Servers are IP
// addresses with an optional port (see ParseServer); duplicates are dropped.
func NewResolver(servers []string, timeout time.Duration, attempts int) (*Resolver, error) {
	if len(servers) == 0 {
		return nil, errors.New("dnsmx: no DNS server given")
	}
	if timeout <= 0 {
		return nil, fmt.Errorf("dnsmx: timeout must be positive, got %v", timeout)
	}
	if attempts < 1 {
		return nil, fmt.Errorf("dnsmx: attempts must be at least 1, got %d", attempts)
	}
	r := &Resolver{
		timeout:  timeout,
		attempts: attempts,
		udp:      &dns.Client{Net: "udp", UDPSize: ednsUDPSize, Timeout: timeout},
		tcp:      &dns.Client{Net: "tcp", Timeout: timeout},
	}
	for _, s := range servers {
		n, err := ParseServer(s)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(r.servers, n) {
			r.servers = append(r.servers, n)
		}
	}
	return r, nil
}

// Servers returns the servers the Resolver asks, in order, as "ip:port".
func (r *Resolver) Servers() []string { return slices.Clone(r.servers) }

// ParseServer validates a DNS server address and returns it as "ip:port":
// "192.0.2.1" and "2001:db8::1" get port 53, "192.0.2.1:5353" and
// "[2001:db8::1]:5353" keep theirs, "[2001:db8::1]" is accepted too. It
// reads host:port as the config does (dnsname.SplitHostPort), so that a
// resolver the config accepts is one the daemon can use.
//
// Host names are refused on purpose: dialing one would ask the system
// resolver for the address of our resolver at every query, behind our back,
// and its failures would pass for failures of the server.
func ParseServer(s string) (string, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return "", errors.New("dnsmx: empty DNS server address")
	}
	host, port, err := dnsname.SplitHostPort(in)
	if err != nil {
		return "", fmt.Errorf("dnsmx: DNS server: %w", err)
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return "", fmt.Errorf("dnsmx: DNS server %q: want an IP address with an optional port, "+
			"like 192.0.2.1, 192.0.2.1:5353, 2001:db8::1 or [2001:db8::1]:5353", s)
	}
	if port == 0 {
		port = 53
	}
	return netip.AddrPortFrom(a, uint16(port)).String(), nil
}

// ServersFromResolvConf reads the nameserver lines of a resolv.conf(5) file
// and returns them as "ip:port". A file without any is an error (glibc
// would fall back to 127.0.0.1; we prefer to say so).
func ServersFromResolvConf(path string) ([]string, error) {
	cfg, err := dns.ClientConfigFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("dnsmx: %w", err)
	}
	if len(cfg.Servers) == 0 {
		return nil, fmt.Errorf("dnsmx: %s: no nameserver line", path)
	}
	out := make([]string, 0, len(cfg.Servers))
	for _, s := range cfg.Servers {
		n, err := ParseServer(net.JoinHostPort(s, cfg.Port))
		if err != nil {
			return nil, fmt.Errorf("dnsmx: %s: nameserver %q: not an IP address", path, s)
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// Domain resolves a mail domain: its MX records, then the addresses of each
// MX host. It never returns nil; every failure is described in the result.
//
//   - MX hosts are sorted by preference, then name, and capped at
//     opts.MaxMXHosts (the least preferred are dropped).
//   - "MX 0 ." alone is a null MX (RFC 7505): NullMX, no hosts. "MX 0 ."
//     among other MX records sets NullMXMixed and is ignored; a "." target
//     of another preference is ignored and noted.
//   - No MX record (NODATA): the domain's own addresses stand in as an
//     implicit MX of preference 0 (RFC 5321 5.1). Outcome stays nodata.
//   - An MX host that is an IP address written as a name ("MX 10
//     192.0.2.1.") is marked IPLiteral and looked up as a host name, as
//     Postfix does (Exim refuses it outright unless allow_mx_to_ip is set):
//     it gets the addresses its A and AAAA lookups return, usually none, and
//     never the address its name spells.
//   - Addresses come from the additional section of the MX reply where it
//     holds them (per family), else from A and AAAA queries; always from
//     queries once EnableValidation was called, as the AD bit does not
//     cover the additional section.
//   - MXSecurity is the DNSSEC state of the MX lookup: of its records, or
//     of its denial for an implicit MX. Each host's Security is that of
//     its address lookups.
//   - Each host's addresses in special-purpose ranges are listed in
//     Host.Special (see SpecialRange) unless opts.IgnoreSpecialAddresses.
//     They are probed all the same.
func (r *Resolver) Domain(ctx context.Context, domain string, opts Options) *Domain {
	start := time.Now()
	// Nothing is trimmed: a name with whitespace is refused, not
	// repaired into another name than the one the caller checked.
	d := &Domain{Name: dnsname.Normalize(domain)}
	if err := dnsname.CheckQueryName(d.Name); err != nil {
		d.Outcome, d.Err, d.MXSecurity = OutcomeError, err.Error(), r.unasked()
		return d
	}
	res := r.lookup(ctx, d.Name, dns.TypeMX)
	d.Duration = time.Since(start)
	d.Outcome, d.Rcode, d.Err, d.Server = res.outcome, res.rcode, res.err, res.server
	d.MXSecurity = res.security
	if res.cname != "" {
		d.Notes = append(d.Notes, fmt.Sprintf("%s is an alias (CNAME) of %s", d.Name, res.cname))
	}
	switch res.outcome {
	case OutcomeAnswer:
		r.mxHosts(ctx, d, res, opts)
	case OutcomeNoData:
		r.implicitMX(ctx, d, opts)
	}
	return d
}

// mxHosts fills d.Hosts from the MX records of res.
func (r *Resolver) mxHosts(ctx context.Context, d *Domain, res lookupResult, opts Options) {
	type mxRec struct {
		name string
		pref uint16
	}
	recs := make([]mxRec, 0, len(res.rrs))
	for _, rr := range res.rrs {
		if mx, ok := rr.(*dns.MX); ok {
			// Interned: hosted MX farms serve thousands of domains, and
			// the daemon keeps every domain's last report.
			recs = append(recs, mxRec{unique.Make(dnsname.Normalize(mx.Mx)).Value(), mx.Preference})
		}
	}
	if len(recs) == 1 && recs[0].name == "" && recs[0].pref == 0 {
		d.NullMX = true
		return
	}
	best := make(map[string]uint16, len(recs))
	for _, rec := range recs {
		switch p, dup := best[rec.name]; {
		case rec.name == "" && rec.pref == 0:
			// Among other records (the case above took it alone): the
			// flag says so, and the reports word it; no note repeats it.
			d.NullMXMixed = true
		case rec.name == "":
			d.Notes = append(d.Notes, fmt.Sprintf("MX %d . ignored: a null MX has preference 0 (RFC 7505)", rec.pref))
		case dup:
			d.Notes = append(d.Notes, fmt.Sprintf("MX host %s listed at preferences %d and %d: kept %d",
				rec.name, min(p, rec.pref), max(p, rec.pref), min(p, rec.pref)))
			best[rec.name] = min(p, rec.pref)
		default:
			best[rec.name] = rec.pref
		}
	}
	hosts := make([]Host, 0, len(best))
	for name, pref := range best {
		hosts = append(hosts, Host{Name: name, Preference: pref})
	}
	slices.SortFunc(hosts, func(a, b Host) int {
		return cmp.Or(cmp.Compare(a.Preference, b.Preference), strings.Compare(a.Name, b.Name))
	})
	if opts.MaxMXHosts > 0 && len(hosts) > opts.MaxMXHosts {
		d.HostsDropped = len(hosts) - opts.MaxMXHosts
		hosts = hosts[:opts.MaxMXHosts:opts.MaxMXHosts]
	}
	sem := make(chan struct{}, hostParallel)
	var wg sync.WaitGroup
	for i := range hosts {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			hosts[i] = r.resolveHost(ctx, hosts[i].Name, hosts[i].Preference, res.pool, opts)
			_, hosts[i].IPLiteral = literalAddr(hosts[i].Name)
		})
	}
	wg.Wait()
	d.Hosts = hosts
}

// implicitMX applies RFC 5321 5.1 to a domain without MX records. A domain
// without addresses either gets no host (Outcome stays nodata). When the
// address lookup itself fails, the host is kept with its error: we cannot
// tell that there is no implicit MX, and the failure must stay visible.
func (r *Resolver) implicitMX(ctx context.Context, d *Domain, opts Options) {
	h := r.resolveHost(ctx, d.Name, 0, nil, opts)
	switch h.Outcome {
	case OutcomeNoData, OutcomeNXDomain:
		return
	case OutcomeAnswer:
	default:
		d.Notes = append(d.Notes, "no MX record, and the address lookup for an implicit MX failed: "+h.Err)
	}
	d.Implicit = true
	d.Hosts = []Host{h}
}

// Host looks up the addresses of one host name, as for an MX host. A literal
// IP address ("192.0.2.1", "2001:db8::1", "[2001:db8::1]", "[IPv6:2001:db8::1]")
// returns itself without a query, whatever opts.Families says: the user
// asked for that address, unlike an MX record that spells one. Its Special
// is filled like any host's.
func (r *Resolver) Host(ctx context.Context, name string, opts Options) Host {
	if a, ok := literalAddr(name); ok {
		h := Host{Name: a.String(), Addrs: []netip.Addr{a}, Outcome: OutcomeAnswer}
		if !opts.IgnoreSpecialAddresses {
			h.Special = specialAddrs(h.Addrs)
		}
		return h
	}
	n := dnsname.Normalize(name)
	if err := dnsname.CheckQueryName(n); err != nil {
		return Host{Name: n, Outcome: OutcomeError, Err: err.Error(), Security: r.unasked()}
	}
	return r.resolveHost(ctx, n, 0, nil, opts)
}

// familyResult is the lookup of one address type for one host.
type familyResult struct {
	qtype uint16
	res   lookupResult
}

// resolveHost looks up the addresses of name. Address records of pool (the
// answer and additional sections of the MX reply) are used per family when
// they hold that family for name; the other families are queried, A and
// AAAA concurrently. The pool cannot tell "no AAAA" from "AAAA left out", so
// it only ever saves the query of a family it has.
//
// Once the AD bit is trusted the pool is not used at all: a validating
// resolver's AD bit speaks for the answer and authority sections only (RFC
// 4035 section 3.2.3), and DANE applies to an MX host only when its address
// records are secure (RFC 7672 section 2.2.1), which only a query of their
// own can tell. The saved query is not worth a DNSSEC state we would have
// to guess.
func (r *Resolver) resolveHost(ctx context.Context, name string, pref uint16, pool []dns.RR, opts Options) Host {
	start := time.Now()
	h := Host{Name: name, Preference: pref}
	qtypes := familyTypes(opts.Families)
	if len(qtypes) == 0 {
		h.Outcome, h.Err = OutcomeError, fmt.Sprintf("no known address family in %v", opts.Families)
		h.Security = r.unasked()
		return h
	}
	if r.trustAD {
		pool = nil
	}
	fq := dns.CanonicalName(name)
	results := make([]familyResult, len(qtypes))
	var wg sync.WaitGroup
	for i, qt := range qtypes {
		results[i].qtype = qt
		if recs, canon, err := follow(pool, fq, qt, map[string]bool{fq: true}); err == nil && len(recs) > 0 {
			results[i].res = lookupResult{outcome: OutcomeAnswer, rrs: recs, cname: aliasOf(fq, canon),
				security: SecurityUnchecked}
			continue
		}
		wg.Go(func() { results[i].res = r.lookup(ctx, name, qt) })
	}
	wg.Wait()

	// Addresses are sorted, IPv4 first then IPv6, rather than kept in answer
	// order: resolvers rotate RRsets, and a predictable order keeps the same
	// addresses under MaxAddressesPerHost and a stable order in reports.
	var v4, v6 []netip.Addr
	var failed *familyResult
	allNX := true
	states := make([]Security, len(results))
	for i := range results {
		fr := &results[i]
		states[i] = fr.res.security
		if h.CNAME == "" {
			h.CNAME = fr.res.cname
		}
		for _, rr := range fr.res.rrs {
			switch rr := rr.(type) {
			case *dns.A:
				if a, ok := netip.AddrFromSlice(rr.A.To4()); ok {
					v4 = append(v4, a)
				}
			case *dns.AAAA:
				if a, ok := netip.AddrFromSlice(rr.AAAA.To16()); ok {
					v6 = append(v6, a)
				}
			}
		}
		switch fr.res.outcome {
		case OutcomeAnswer, OutcomeNoData:
			allNX = false
		case OutcomeNXDomain:
		default:
			allNX = false
			if failed == nil {
				failed = fr
			}
		}
	}
	slices.SortFunc(v4, netip.Addr.Compare)
	slices.SortFunc(v6, netip.Addr.Compare)
	addrs := append(slices.Compact(v4), slices.Compact(v6)...)
	if opts.MaxAddressesPerHost > 0 && len(addrs) > opts.MaxAddressesPerHost {
		h.AddrsDropped = len(addrs) - opts.MaxAddressesPerHost
		addrs = addrs[:opts.MaxAddressesPerHost:opts.MaxAddressesPerHost]
	}
	if len(addrs) > 0 {
		h.Addrs = addrs
	}
	if !opts.IgnoreSpecialAddresses {
		// Of the addresses kept: what MaxAddressesPerHost drops is
		// neither probed nor described.
		h.Special = specialAddrs(addrs)
	}

	switch {
	case failed != nil:
		// A failed family wins over the other's answer: the address list
		// may be incomplete. What was found stays in Addrs.
		h.Outcome, h.Err = failed.res.outcome, dns.TypeToString[failed.qtype]+" lookup: "+failed.res.err
	case len(addrs) > 0:
		h.Outcome = OutcomeAnswer
	case allNX:
		h.Outcome, h.Err = OutcomeNXDomain, "NXDOMAIN"
	default:
		names := make([]string, len(qtypes))
		for i, qt := range qtypes {
			names[i] = dns.TypeToString[qt]
		}
		h.Outcome, h.Err = OutcomeNoData, "no "+strings.Join(names, " or ")+" record"
	}
	h.Security = hostSecurity(states)
	h.Duration = time.Since(start)
	return h
}

// familyTypes maps the families of Options to query types, A before AAAA.
func familyTypes(fams []Family) []uint16 {
	if len(fams) == 0 {
		return []uint16{dns.TypeA, dns.TypeAAAA}
	}
	var out []uint16
	if slices.Contains(fams, IPv4) {
		out = append(out, dns.TypeA)
	}
	if slices.Contains(fams, IPv6) {
		out = append(out, dns.TypeAAAA)
	}
	return out
}

// lookupResult is the outcome of asking for one name and type, CNAMEs
// followed.
type lookupResult struct {
	outcome Outcome
	rcode   string
	err     string
	server  string
	rrs     []dns.RR // records of the asked type, owned by the canonical name
	pool    []dns.RR // answer and additional sections of the final reply
	cname   string   // canonical name when the name is an alias: lower case, no trailing dot
	// security is the DNSSEC state of the whole lookup: every reply of
	// a CNAME chain followed across queries must be secure for it to be.
	security Security
}

var (
	errCNAMELoop  = errors.New("CNAME loop")
	errCNAMEChain = fmt.Errorf("CNAME chain longer than %d", maxCNAMEChain)
)

// lookup asks for name and qtype and follows a CNAME chain: within the
// answer, and with a new query for the target when an answer ends at an
// alias without its records (a server authoritative for the alias only).
func (r *Resolver) lookup(ctx context.Context, name string, qtype uint16) lookupResult {
	fq := dns.CanonicalName(name)
	seen := map[string]bool{fq: true}
	target := fq
	chain := r.answerSecurity(true) // nothing answered yet: no step is insecure
	for {
		rep := r.query(ctx, r.servers, target, qtype, false)
		res := lookupResult{outcome: rep.outcome, rcode: rep.rcode, err: rep.err, server: rep.server,
			cname: aliasOf(fq, target)}
		if rep.msg == nil {
			res.security, res.err = r.failureSecurity(ctx, rep, target, qtype)
			return res
		}
		chain = weakest(chain, r.answerSecurity(rep.msg.AuthenticatedData))
		res.security = chain
		recs, canon, err := follow(rep.msg.Answer, target, qtype, seen)
		res.cname = aliasOf(fq, canon)
		if err != nil {
			// Secure or not, the lookup is broken: no state to tell.
			res.outcome, res.err = OutcomeError, fmt.Sprintf("%v at %s", err, dnsname.Normalize(canon))
			res.security = r.unasked()
			return res
		}
		switch {
		case len(recs) > 0:
			res.outcome, res.rrs = OutcomeAnswer, recs
			res.pool = append(slices.Clip(rep.msg.Answer), rep.msg.Extra...)
			return res
		case rep.outcome == OutcomeNXDomain:
			res.err = "NXDOMAIN"
			return res
		case canon == target:
			res.outcome = OutcomeNoData
			return res
		}
		target = canon
	}
}

// follow walks the CNAME chain that starts at name (canonical form) within
// rrs and returns the records of qtype owned by its last name, and that
// name. seen holds the names met so far and is updated.
func follow(rrs []dns.RR, name string, qtype uint16, seen map[string]bool) ([]dns.RR, string, error) {
	cur := name
	for {
		var out []dns.RR
		next := ""
		for _, rr := range rrs {
			hdr := rr.Header()
			if hdr.Class != dns.ClassINET || !strings.EqualFold(hdr.Name, cur) {
				continue
			}
			if hdr.Rrtype == qtype {
				out = append(out, rr)
			} else if c, ok := rr.(*dns.CNAME); ok && next == "" {
				next = dns.CanonicalName(c.Target)
			}
		}
		if len(out) > 0 || next == "" {
			return out, cur, nil
		}
		if seen[next] {
			return nil, next, errCNAMELoop
		}
		if len(seen) > maxCNAMEChain {
			return nil, next, errCNAMEChain
		}
		seen[next] = true
		cur = next
	}
}

// aliasOf returns canon without its trailing dot when it differs from name.
func aliasOf(name, canon string) string {
	if strings.EqualFold(name, canon) {
		return ""
	}
	return dnsname.Normalize(canon)
}

// reply is the deciding answer of the servers for one question.
type reply struct {
	msg      *dns.Msg // set for NOERROR and NXDOMAIN only
	outcome  Outcome  // answer stands for NOERROR here; lookup tells answer from nodata
	rcode    string
	err      string
	server   string
	answered bool // a server sent a well-formed reply (with an rcode)
}

// query asks servers in order. NOERROR and NXDOMAIN end it at once.
// SERVFAIL, REFUSED, other rcodes and referrals move on to the next server;
// timeouts, network errors and bad replies are retried on the same server up
// to r.attempts times. The result is the last failure, except that a
// server's reply outranks a later timeout or network error: "SERVFAIL from
// one, no answer from the other" says more about the domain as servfail.
// cd sets the CD bit (checking disabled), to tell a bogus answer from a
// failed one.
//
// Every question passes dnsname.CheckQueryName first, whoever built the
// name: a name with a backslash would be read by miekg/dns as an escape
// and asked as other labels than the ones the caller checked (a /probe
// target "x\.allowed.test" asked as "x.allowed" + "test"). Such a name is
// an error and nothing is sent.
func (r *Resolver) query(ctx context.Context, servers []string, name string, qtype uint16, cd bool) reply {
	if err := dnsname.CheckQueryName(name); err != nil {
		return reply{outcome: OutcomeError, err: "not asked: " + err.Error()}
	}
	var last reply
	for _, srv := range servers {
		for range r.attempts {
			if err := ctx.Err(); err != nil {
				if !last.answered {
					last = ctxReply(err, srv)
				}
				return last
			}
			rep := r.attempt(ctx, srv, name, qtype, cd)
			if rep.msg != nil {
				return rep
			}
			if rep.answered || !last.answered {
				last = rep
			}
			if rep.answered {
				break
			}
		}
	}
	return last
}

// ctxReply describes a query given up because ctx is done.
func ctxReply(err error, srv string) reply {
	if errors.Is(err, context.Canceled) {
		return reply{outcome: OutcomeError, err: "canceled", server: srv}
	}
	return reply{outcome: OutcomeTimeout, err: "deadline reached before an answer", server: srv}
}

// plainNetError says why a query could not be sent or answered, in words
// for a person rather than the socket's own text.
func plainNetError(err error) string {
	var retry *tcpRetryError
	switch {
	case errors.As(err, &retry):
		return "truncated UDP reply, then over TCP: " + plainNetError(retry.err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "nothing listens there (connection refused)"
	case errors.Is(err, syscall.ECONNRESET):
		return "the server reset the connection"
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "no route to the server"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the server closed the connection before its answer"
	case errors.Is(err, dns.ErrShortRead), errors.Is(err, dns.ErrBuf):
		return "a truncated or malformed answer"
	}
	return "network error"
}

// tcpRetryError is a failed TCP retry after a truncated UDP reply.
type tcpRetryError struct{ err error }

func (e *tcpRetryError) Error() string { return "truncated UDP reply, then over TCP: " + e.err.Error() }
func (e *tcpRetryError) Unwrap() error { return e.err }

// errTimeout marks an exchange that got no reply in time.
var errTimeout = errors.New("timeout")

// attempt sends one query to one server and classifies its reply. Every
// query sets the DO bit: a validating resolver sets AD in its answer only
// for a client that says it understands DNSSEC with DO or AD (RFC 6840), and
// DO also brings the signatures along for whoever reads a capture.
func (r *Resolver) attempt(ctx context.Context, srv, name string, qtype uint16, cd bool) reply {
	q := new(dns.Msg)
	q.SetQuestion(name, qtype) // a random ID, RD set
	q.CheckingDisabled = cd
	q.SetEdns0(ednsUDPSize, true)
	in, err := r.exchange(ctx, srv, q)
	switch {
	case errors.Is(err, context.Canceled):
		return reply{outcome: OutcomeError, err: "canceled", server: srv}
	case errors.Is(err, errTimeout):
		return reply{outcome: OutcomeTimeout, err: fmt.Sprintf("no reply from %s (%v)", srv, err), server: srv}
	case err != nil:
		return reply{outcome: OutcomeError, err: fmt.Sprintf("query to %s failed: %s", srv, plainNetError(err)), server: srv}
	}
	if err := checkReply(q, in); err != nil {
		return reply{outcome: OutcomeError, err: fmt.Sprintf("bad reply from %s: %v", srv, err), server: srv}
	}
	rep := reply{rcode: rcodeString(in.Rcode), server: srv, answered: true}
	switch in.Rcode {
	case dns.RcodeSuccess:
		if isReferral(in) {
			rep.outcome, rep.err = OutcomeError, fmt.Sprintf("referral from %s: not a recursive resolver", srv)
			return rep
		}
		rep.outcome, rep.msg = OutcomeAnswer, in
	case dns.RcodeNameError:
		rep.outcome, rep.msg = OutcomeNXDomain, in
	case dns.RcodeServerFailure:
		rep.outcome, rep.err = OutcomeServFail, "SERVFAIL from "+srv
	case dns.RcodeRefused:
		rep.outcome, rep.err = OutcomeRefused, "REFUSED from "+srv
	default:
		rep.outcome, rep.err = OutcomeError, rep.rcode+" from "+srv
	}
	return rep
}

// exchange sends q over UDP and, when the reply is truncated (TC), again
// over TCP: miekg/dns does not do that for us (RFC 7766 says we must). The
// TCP retry has its own per-attempt timeout.
func (r *Resolver) exchange(ctx context.Context, srv string, q *dns.Msg) (*dns.Msg, error) {
	in, err := r.exchangeOnce(ctx, r.udp, srv, q)
	// A truncated reply may also fail to unpack; its header is enough.
	if in == nil || !in.Truncated || errors.Is(err, errTimeout) || errors.Is(err, context.Canceled) {
		return in, err
	}
	in, err = r.exchangeOnce(ctx, r.tcp, srv, q)
	if err != nil {
		return nil, &tcpRetryError{err}
	}
	return in, nil
}

// exchangeOnce is one exchange over one transport, bounded by the smaller
// of r.timeout and what is left of ctx. Cancelling ctx closes the socket, so
// a cancellation without a deadline ends a pending read at once too.
func (r *Resolver) exchangeOnce(ctx context.Context, c *dns.Client, srv string, q *dns.Msg) (*dns.Msg, error) {
	actx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	co, err := c.DialContext(actx, srv)
	if err == nil {
		defer co.Close()
		stop := context.AfterFunc(actx, func() { co.Close() })
		defer stop()
		var in *dns.Msg
		in, _, err = c.ExchangeWithConnContext(actx, q, co)
		if err == nil {
			return in, nil
		}
		if in != nil && in.Truncated && actx.Err() == nil {
			return in, err
		}
	}
	var ne net.Error
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return nil, context.Canceled
	case actx.Err() != nil, errors.As(err, &ne) && ne.Timeout():
		return nil, errTimeout
	}
	return nil, err
}

// checkReply makes sure in answers q. miekg/dns has checked the ID already.
// A reply to a failed query may come without its question section.
func checkReply(q, in *dns.Msg) error {
	if !in.Response {
		return errors.New("QR bit not set")
	}
	if in.Opcode != q.Opcode {
		return fmt.Errorf("opcode %s, asked %s", dns.OpcodeToString[in.Opcode], dns.OpcodeToString[q.Opcode])
	}
	qq := q.Question[0]
	switch len(in.Question) {
	case 0:
		if in.Rcode == dns.RcodeSuccess || in.Rcode == dns.RcodeNameError {
			return errors.New("no question section")
		}
		return nil
	case 1:
	default:
		return fmt.Errorf("%d questions", len(in.Question))
	}
	aq := in.Question[0]
	if !strings.EqualFold(aq.Name, qq.Name) || aq.Qtype != qq.Qtype || aq.Qclass != qq.Qclass {
		return fmt.Errorf("answers %s %s %s, asked %s %s %s",
			aq.Name, dns.ClassToString[aq.Qclass], dns.TypeToString[aq.Qtype],
			qq.Name, dns.ClassToString[qq.Qclass], dns.TypeToString[qq.Qtype])
	}
	return nil
}

// isReferral tells a delegation (empty answer, NS and no SOA in the
// authority section, not authoritative) from NODATA: what a server that does
// not recurse sends for a name outside its zones.
func isReferral(in *dns.Msg) bool {
	if in.Authoritative || len(in.Answer) > 0 {
		return false
	}
	ns := false
	for _, rr := range in.Ns {
		switch rr.Header().Rrtype {
		case dns.TypeSOA:
			return false
		case dns.TypeNS:
			ns = true
		}
	}
	return ns
}

func rcodeString(rc int) string {
	if s, ok := dns.RcodeToString[rc]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", rc)
}

// literalAddr recognises an IP address, bare or as an address literal of
// RFC 5321 4.1.3 ("[192.0.2.1]", "[IPv6:2001:db8::1]", or "[2001:db8::1]").
func literalAddr(s string) (netip.Addr, bool) {
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		s = s[1 : len(s)-1]
		if len(s) > 5 && strings.EqualFold(s[:5], "IPv6:") {
			s = s[5:]
		}
	}
	a, err := netip.ParseAddr(s)
	return a, err == nil
}
