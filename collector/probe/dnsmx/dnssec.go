package dnsmx

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/mx-exporter/mx_exporter/collector/dnsname"
	"github.com/mx-exporter/mx_exporter/collector/probe/dane"
)

const (
	// validationRefresh is how long a passed resolver self-check stands:
	// a resolver rarely stops validating, and every probe reads the check.
	validationRefresh = 5 * time.Minute
	// validationRetry is how long a failed self-check stands: short, so
	// that a resolver that was restarting or had not primed its trust
	// anchor yet is believed again soon.
	validationRetry = 30 * time.Second
	// maxTLSARecords bounds the records kept of one TLSA RRset. Real
	// RRsets hold one to four (current key, next key, maybe per
	// algorithm); a reply over TCP could carry a thousand, and each record
	// is matched against every certificate of the chain. The records past
	// the cap are counted in TLSALookup.RecordsDropped, not judged.
	maxTLSARecords = 32
)

// EnableValidation makes the resolver trust the AD bit of its servers (the
// config's dns.trust_ad) and sets the signed name of its self-check ("" is
// the root zone). Call it before the resolver is used.
//
// Without it every Security the resolver reports is SecurityUnchecked: the
// AD bit of a resolver nobody vouched for is a claim, not a validation (RFC
// 3655 section 1.1: used only when the resolver is explicitly trusted). With
// it, the states are SecurityUnchecked too while the last self-check
// (Validation) fails.
func (r *Resolver) EnableValidation(checkName string) {
	name := strings.TrimSpace(checkName)
	if name == "" {
		name = "."
	}
	r.trustAD = true
	r.valName = dns.CanonicalName(name)
	r.valRefresh, r.valRetry = validationRefresh, validationRetry
}

// believesAD reports whether the AD bit of answers means anything now:
// dns.trust_ad is on, and the last self-check, if one ran, passed. A
// resolver that failed its check would have its missing AD bit read as
// insecure and its SERVFAILs as bogus, claims the check just disproved.
//
// A lookup does not run the check itself: the engine asks Validation
// before a probe's lookups, and the check is shared between probes. Before
// any check has run (a resolver used on its own, as in tests), the config's
// word stands.
func (r *Resolver) believesAD() bool {
	if !r.trustAD {
		return false
	}
	c := &r.val
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.have || c.last.Validating
}

// answerSecurity is the state of a NOERROR or NXDOMAIN reply, by its AD bit.
func (r *Resolver) answerSecurity(ad bool) Security {
	switch {
	case !r.believesAD():
		return SecurityUnchecked
	case ad:
		return SecuritySecure
	}
	return SecurityInsecure
}

// unasked is the state of a lookup that failed without an answer to judge:
// a name refused before asking, a broken CNAME chain.
func (r *Resolver) unasked() Security {
	if !r.believesAD() {
		return SecurityUnchecked
	}
	return SecurityUnknown
}

// failureSecurity is the state of a lookup whose servers gave no answer
// (rep.msg is nil), and the lookup's error in words. A validating resolver
// answers SERVFAIL both for data that fails validation and for a zone it
// cannot reach; asked again with the CD bit (checking disabled), it returns
// the data in the first case only (RFC 4035 section 3.2.2). The outcome
// stays servfail: that is what a sending MTA sees.
func (r *Resolver) failureSecurity(ctx context.Context, rep reply, name string, qtype uint16) (Security, string) {
	if !r.believesAD() {
		return SecurityUnchecked, rep.err
	}
	if rep.outcome != OutcomeServFail {
		return SecurityUnknown, rep.err
	}
	cd := r.query(ctx, r.servers, name, qtype, true)
	if cd.msg == nil {
		return SecurityUnknown, rep.err
	}
	return SecurityBogus, fmt.Sprintf("%s; DNSSEC validation failed (bogus): asked again with checking disabled (CD), %s answers %s",
		rep.err, cd.server, cd.rcode)
}

// securityRank orders the states from the best to the worst, for combining
// the states of several replies into one.
var securityRank = map[Security]int{
	SecuritySecure:    0,
	SecurityInsecure:  1,
	SecurityUnchecked: 2,
	SecurityUnknown:   3,
	SecurityBogus:     4,
}

// weakest is the state of two replies taken together: the worse one.
func weakest(a, b Security) Security {
	if securityRank[b] > securityRank[a] {
		return b
	}
	return a
}

// hostSecurity combines the states of a host's address lookups as
// Host.Security says: secure only when every one is, bogus when any is,
// then unknown, then insecure.
func hostSecurity(states []Security) Security {
	if len(states) == 0 {
		return ""
	}
	out := states[0]
	for _, s := range states[1:] {
		out = weakest(out, s)
	}
	return out
}

// validationCache holds the last self-check of a resolver. At most one check
// runs at a time; the probes that need one meanwhile wait for it.
type validationCache struct {
	mu      sync.Mutex
	last    Validation
	have    bool
	expires time.Time
	running chan struct{} // closed when the running check is stored; nil when none runs
	// announce is true from a check whose Validating differs from the
	// one before until a caller has been handed it with Changed set, so
	// that the change is logged once and not by every probe.
	announce bool
}

// take hands out the last check, Changed set for its first taker only.
// c.mu is held.
func (c *validationCache) take() Validation {
	v := c.last
	v.Changed, c.announce = c.announce, false
	return v
}

// Validation returns the self-check, from cache when it is fresh. Without
// EnableValidation it asks nothing and returns Validation{}.
//
// The check asks every server for CheckName's SOA and requires the AD bit
// from each: an answer may come from any of them, and one server that does
// not validate would pass signed data off as insecure. A passed check
// stands for validationRefresh, a failed one for validationRetry.
//
// The check runs on its own, bounded by the resolver's timeouts rather than
// by ctx, and is shared: the probes that arrive while it runs wait for it.
// A caller whose ctx ends first gets the check before (stale) if there is
// one, else a Validation that says the check did not finish.
func (r *Resolver) Validation(ctx context.Context) Validation {
	if !r.trustAD {
		return Validation{}
	}
	c := &r.val
	c.mu.Lock()
	if c.have && time.Now().Before(c.expires) {
		v := c.take()
		c.mu.Unlock()
		return v
	}
	if c.running == nil {
		c.running = make(chan struct{})
		go r.refreshValidation(context.WithoutCancel(ctx), c.running)
	}
	done := c.running
	c.mu.Unlock()

	select {
	case <-done:
	case <-ctx.Done():
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.have {
		return c.take()
	}
	return Validation{Trusted: true, CheckName: r.checkNameShown(),
		Err: "the resolver self-check did not finish before the probe's deadline"}
}

// refreshValidation runs one self-check, stores it and closes done.
func (r *Resolver) refreshValidation(ctx context.Context, done chan struct{}) {
	// Each server is asked in turn, each attempt possibly retried over
	// TCP: the same bound as a lookup that tries every server.
	budget := r.timeout * time.Duration(2*r.attempts*len(r.servers))
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	v := r.checkValidation(ctx)

	c := &r.val
	c.mu.Lock()
	defer c.mu.Unlock()
	v.Changed = !c.have || c.last.Validating != v.Validating
	c.announce = c.announce || v.Changed
	c.last, c.have = v, true
	refresh := r.valRefresh
	if !v.Validating {
		refresh = r.valRetry
	}
	c.expires = v.Checked.Add(refresh)
	c.running = nil
	close(done)
}

// checkNameShown is the self-check's name as reports show it: "." for the
// root, else without the trailing dot.
func (r *Resolver) checkNameShown() string {
	if r.valName == "." {
		return "."
	}
	return dnsname.Normalize(r.valName)
}

// checkValidation asks every server for the SOA of the check name.
func (r *Resolver) checkValidation(ctx context.Context) Validation {
	shown := r.checkNameShown()
	v := Validation{Trusted: true, CheckName: shown}
	if shown != "." {
		if err := dnsname.CheckQueryName(shown); err != nil {
			v.Err = "self-check name: " + err.Error()
			v.Checked = time.Now()
			return v
		}
	}
	var problems []string
	for _, srv := range r.servers {
		rep := r.query(ctx, []string{srv}, r.valName, dns.TypeSOA, false)
		switch {
		case rep.msg == nil:
			problems = append(problems, fmt.Sprintf("%s SOA: %s", shown, rep.err))
		case !rep.msg.AuthenticatedData:
			problems = append(problems, fmt.Sprintf("resolver %s answered %s SOA without the AD bit: it does not validate", srv, shown))
		}
	}
	v.Validating = len(problems) == 0
	v.Err = strings.Join(problems, "; ")
	v.Checked = time.Now()
	return v
}

// TLSA looks up the TLSA RRset of host at port (RFC 7672 section 2.2.2,
// RFC 7671 section 7 for CNAMEs).
//
// When the host's address lookup followed a CNAME and was secure, the final
// target is the preferred base domain: its TLSA RRset is asked first and
// used when it has records. When it has none (a denial, secure or not, or
// records without AD, which a sender ignores), the host name as the MX
// record gave it is asked. When the target's lookup fails (SERVFAIL, bogus,
// timeout), that failure is the result: a DANE sender defers there rather
// than fall back (Postfix tells "nothing found" from a lookup error the
// same way), so falling back would show a pass where mail waits.
//
// A CNAME at the TLSA name itself is followed; Name is the owner the records
// came from. Records are kept as the resolver returned them, malformed ones
// included (the dane package judges them), up to maxTLSARecords.
func (r *Resolver) TLSA(ctx context.Context, host Host, port int) TLSALookup {
	start := time.Now()
	name := dnsname.Normalize(strings.TrimSpace(host.Name))
	if err := checkTLSABase(name, port); err != nil {
		return TLSALookup{BaseDomain: name, Outcome: OutcomeError, Err: err.Error(), Security: r.unasked()}
	}
	target := dnsname.Normalize(strings.TrimSpace(host.CNAME))
	if target != "" && target != name && host.Security == SecuritySecure && checkTLSABase(target, port) == nil {
		l := r.tlsaAt(ctx, target, port)
		if !noTLSA(l) {
			l.Duration = time.Since(start)
			return l
		}
	}
	l := r.tlsaAt(ctx, name, port)
	l.Duration = time.Since(start)
	return l
}

// noTLSA tells a lookup that found nothing a sender would use from one
// that found records or failed.
func noTLSA(l TLSALookup) bool {
	switch l.Outcome {
	case OutcomeNoData, OutcomeNXDomain:
		return true
	case OutcomeAnswer:
		return l.Security != SecuritySecure
	}
	return false
}

// checkTLSABase validates a TLSA base domain and the name _port._tcp.<base>
// asked for it.
func checkTLSABase(base string, port int) error {
	if port < 1 || port > 65535 {
		return fmt.Errorf("port %d out of range", port)
	}
	if _, ok := literalAddr(base); ok {
		return fmt.Errorf("%s is an IP address: it has no TLSA records", base)
	}
	if err := dnsname.CheckQueryName(base); err != nil {
		return err
	}
	if err := dnsname.CheckQueryName(tlsaOwner(base, port)); err != nil {
		return errors.New("the TLSA name of " + base + " is too long for a domain name")
	}
	return nil
}

// tlsaOwner is the TLSA name of base at port (RFC 6698 section 3).
func tlsaOwner(base string, port int) string {
	return fmt.Sprintf("_%d._tcp.%s", port, base)
}

// tlsaAt looks up the TLSA RRset of one base domain.
func (r *Resolver) tlsaAt(ctx context.Context, base string, port int) TLSALookup {
	owner := tlsaOwner(base, port)
	res := r.lookup(ctx, owner, dns.TypeTLSA)
	l := TLSALookup{BaseDomain: base, Name: owner, Outcome: res.outcome, Rcode: res.rcode,
		Security: res.security, Err: res.err}
	if res.cname != "" {
		l.Name = res.cname
	}
	if res.outcome == OutcomeAnswer {
		l.Records, l.RecordsDropped = tlsaRecords(res.rrs)
	}
	return l
}

// tlsaRecords converts the TLSA records of rrs, keeping at most
// maxTLSARecords in answer order, and counts the others.
func tlsaRecords(rrs []dns.RR) ([]dane.TLSA, int) {
	var out []dane.TLSA
	dropped := 0
	for _, rr := range rrs {
		t, ok := rr.(*dns.TLSA)
		if !ok {
			continue
		}
		if len(out) == maxTLSARecords {
			dropped++
			continue
		}
		// miekg/dns keeps the association data as hex of the wire bytes,
		// so this cannot fail for a record off the wire; if it ever did,
		// the record is kept without data and judged malformed.
		data, err := hex.DecodeString(t.Certificate)
		if err != nil {
			data = nil
		}
		out = append(out, dane.TLSA{
			Usage:        dane.Usage(t.Usage),
			Selector:     dane.Selector(t.Selector),
			MatchingType: dane.MatchingType(t.MatchingType),
			Data:         data,
		})
	}
	return out, dropped
}
