// Package probe is the probe engine: it fans one target out the way a mail
// admin does by hand, domain → MX hosts → addresses → one SMTP dialogue per
// address, with one package per protocol or check beneath it. It returns a
// Report of plain data; it knows nothing of Prometheus, of scheduling or of
// the configuration file.
package probe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe/dane"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsbl"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/mtasts"
	"github.com/mx-exporter/mx_exporter/collector/probe/rdns"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
)

// Settings are what a module says about how to probe.
type Settings struct {
	SMTP    smtp.Options
	DNS     dnsmx.Options
	Timeout time.Duration // the whole target: DNS and every dialogue
	// DANE is the module's dane setting; "" is off. The TLSA lookups run
	// only when the resolver is trusted and passes its self-check.
	DANE dane.Mode
	// MTASTS is the module's mta_sts setting; "" is off. Only domain
	// targets have a policy domain. MTASTSRefresh is how long a fetched
	// policy is reused (Prober.Policies) before it is fetched again.
	MTASTS        mtasts.Mode
	MTASTSRefresh time.Duration
	// MTASTSFetchTimeout bounds a policy fetch made through
	// Prober.Policies. Such a fetch is every waiting probe's, not only
	// the one that started it, so it is not cut when that probe ends:
	// the module's timeout, which /probe does not shorten to its
	// scrape timeout as it does Timeout. 0 means Timeout.
	MTASTSFetchTimeout time.Duration
	// RootCAsID names SMTP.RootCAs by content (the CA file and a digest
	// of it), for the MTA-STS policy cache: modules, and config loads,
	// with the same CA file share their policies, others never do. Empty:
	// the pool's identity stands for it.
	RootCAsID string
	// ReverseDNS turns on the PTR and forward-confirmation lookups of every
	// probed address (module key reverse_dns, default on).
	ReverseDNS bool
	// DNSBLZones are the configured blocklists (config dnsbl); each probed
	// address is looked up in the address zones and each MX host name in
	// the domain zones, through Prober.Blocklists.
	DNSBLZones []dnsbl.Zone
	// Resolver answers the MX and address look-ups; only a host target
	// given as an IP address needs none. It travels with the settings, not
	// the Prober, because it comes from the same config: a reload that
	// names other DNS servers brings new settings and the resolver with them.
	Resolver *dnsmx.Resolver
	// Detail is the module's metrics setting: carried into the report's
	// Asked for its readers; the probe does the same either way.
	Detail Detail
	// DialAllowed, when set, is asked before the dialogue of each address
	// and before an MTA-STS policy is fetched from one: an address it
	// refuses is not connected to, and its result says why (reason
	// address_not_allowed). /probe sets it from
	// probe_endpoint.allow.resolved_addresses; nil dials every address.
	DialAllowed func(netip.Addr) error
}

// Gate bounds concurrency. Acquire blocks until the address may be probed
// (the daemon allows one dialogue per address at a time and a global cap) or
// ctx ends; release must be called when the dialogue is over.
type Gate interface {
	Acquire(ctx context.Context, addr string) (release func(), err error)
}

// Prober runs probes, each with the Settings it is given.
type Prober struct {
	Logger *slog.Logger
	// Gate, when set, is asked before each dialogue. Nil means no limit
	// beyond maxParallelDialogues.
	Gate Gate
	// Policies keeps MTA-STS policies between probes; nil fetches the
	// policy on every probe (the probe command).
	Policies *mtasts.Cache
	// Blocklists caches blocklist answers and zone health between probes;
	// nil looks nothing up in blocklists.
	Blocklists *dnsbl.Checker
}

// maxParallelDialogues bounds the dialogues of one target run at once: an
// MX farm is probed side by side, not all at once.
const maxParallelDialogues = 8

// Report is one probe of one target.
type Report struct {
	Target   Target
	Asked    Asked // what the module asked of every dialogue
	Start    time.Time
	Duration time.Duration
	DNS      *dnsmx.Domain // nil for a host target
	// Validation is the resolver self-check behind every DNSSEC state of
	// the report; zero when the target needed no resolver.
	Validation dnsmx.Validation
	Hosts      []HostReport // MX hosts in preference order (one for a host target)
	// MTASTS and TLSRPT are the domain's published TLS policy; nil for a
	// host target, and when the module's mta_sts is off.
	MTASTS *MTASTSReport
	TLSRPT *TLSRPTReport
}

// Asked is what the module asked of each dialogue: which steps a reader of
// the report may expect, such as the series of a relay check that never
// got its turn. Recorded in the report so that readers need not keep the
// module's settings, with their resolver and certificate pool.
type Asked struct {
	Recipients []string      // RCPT TO each, as configured
	DANE       dane.Mode     // "" when the module does not look at DANE
	RelayCheck string        // "" when the module checks no relay
	VRFY       string        // "" when the module sends no VRFY
	StartTLS   smtp.StartTLS // "" is smtp's default, opportunistic
	// Pipelining: the module asked for pipelined groups, so a reader
	// may expect the pipeline step even where the server offered none.
	Pipelining bool
	// Detail is what the module asked readers to show of each dialogue
	// besides what most users look at.
	Detail Detail
}

// Detail names the details of a dialogue that a reader shows only when
// asked (module key metrics): every address costs their share at every
// probe, and most users never look at them. The report and the transcript
// hold them either way; the probe itself runs the same.
type Detail struct {
	// AllExtensions: every known extension before and after STARTTLS,
	// not only STARTTLS and the ones senders act on.
	AllExtensions bool
	// EnhancedStatus: the RFC 3463 status of each command's reply.
	EnhancedStatus bool
	// AllSteps: every step's time and reply code, not only those where
	// time goes and verdicts rest.
	AllSteps bool
}

// HostReport is one MX host: its resolution and one dialogue per address.
type HostReport struct {
	dnsmx.Host
	// TLSA is the host's TLSA lookup; nil when none was made (dane off,
	// no trusted validating resolver, addresses not secure, IP target).
	TLSA    *dnsmx.TLSALookup
	Results []*smtp.Result // same order as Addrs
	// Reverse is each address's reverse DNS (same order as Addrs); nil
	// when the module's reverse_dns is off, the host has no address or the
	// probe has no resolver. An IP target's address is looked up too.
	Reverse []*rdns.Check
	// Names compares, per address, the names the address goes by (MX host,
	// PTR, greeting, EHLO); nil entries where the dialogue gave no names.
	// An IP target has no MX name: its other names are compared.
	Names []*rdns.Names
	// Listings are, per address, its results in the configured address
	// blocklists (one per zone); nil when none is configured or the
	// Prober has no Blocklists.
	Listings [][]dnsbl.Result
	// NameListings are the host name's results in the configured domain
	// blocklists; nil when none is configured, the Prober has no
	// Blocklists, or the target is an IP address (it has no host name).
	NameListings []dnsbl.Result
	// Parity compares the host's IPv4 and IPv6 dialogues; "" for a host
	// without addresses.
	Parity Parity
	// MTASTS is what the domain's MTA-STS policy says of this host; nil
	// when no valid policy with mx patterns applies (no policy, mode none,
	// an invalid or unfetchable one, a host target).
	MTASTS *MXPolicy

	dane *dane.Policy // the dialogues' input, built by lookUpTLSA
}

// Success reports whether the whole target met the module's expectations:
// its MX lookup answered, every MX host has an address, and every dialogue
// succeeded. A null MX domain succeeds with nothing to probe.
func (r *Report) Success() bool {
	if r.DNS != nil {
		if r.DNS.NullMX {
			return true
		}
		if r.DNS.Outcome != dnsmx.OutcomeAnswer && !r.DNS.Implicit {
			return false
		}
	}
	if len(r.Hosts) == 0 {
		return false
	}
	for _, h := range r.Hosts {
		if len(h.Addrs) == 0 {
			return false
		}
		for _, res := range h.Results {
			if res == nil || !res.Success {
				return false
			}
		}
	}
	return true
}

// Probe runs target with settings within ctx and Settings.Timeout.
func (p *Prober) Probe(ctx context.Context, target Target, s Settings) *Report {
	if s.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.Timeout)
		defer cancel()
	}
	rep := &Report{Target: target, Start: time.Now(), Asked: Asked{
		Recipients: append([]string(nil), s.SMTP.Recipients...),
		RelayCheck: s.SMTP.RelayCheck,
		VRFY:       s.SMTP.VRFY,
		StartTLS:   s.SMTP.StartTLS,
		Pipelining: s.SMTP.Pipelining,
		Detail:     s.Detail,
	}}
	if s.DANE != dane.ModeOff {
		rep.Asked.DANE = s.DANE
	}
	logger := p.logger().With("target", target.Name())

	resolver := s.Resolver
	opts := s.SMTP
	if resolver != nil && (target.Domain != "" || !target.IsAddr()) {
		rep.Validation = resolver.Validation(ctx)
		logValidation(logger, rep.Validation)
	}
	var policy *policyLookup
	if policyChecked(target, s) {
		policy = p.startPolicyLookup(ctx, target.Domain, s)
	}
	if target.Domain != "" {
		rep.DNS = resolver.Domain(ctx, target.Domain, s.DNS)
		rep.Hosts = make([]HostReport, len(rep.DNS.Hosts))
		for i, h := range rep.DNS.Hosts {
			rep.Hosts[i].Host = h
		}
		if rep.DNS.Err != "" {
			logger.Debug("MX lookup failed", "outcome", rep.DNS.Outcome, "err", rep.DNS.Err)
		}
	} else {
		if target.Port != 0 {
			opts.Port = target.Port
		}
		rep.Hosts = []HostReport{{Host: resolver.Host(ctx, target.Host, s.DNS)}}
	}

	identity := p.startIdentityLookups(ctx, target, rep.Hosts, s)
	if rep.Asked.DANE != "" && resolver != nil {
		port := opts.Port
		if port == 0 {
			port = smtp.DefaultPort
		}
		lookUpTLSA(ctx, resolver, rep, port)
	}
	p.dialAll(ctx, rep.Hosts, opts, s.DialAllowed)
	if policy != nil {
		rep.MTASTS, rep.TLSRPT = policy.wait()
		judgeMTASTS(rep)
		logMTASTS(logger, rep)
	}
	identity.wait(rep.Hosts)
	judgeIdentity(logger, target, rep.Hosts)
	rep.Duration = time.Since(rep.Start)
	logger.Debug("probe finished", "success", rep.Success(), "duration_seconds", rep.Duration.Seconds())
	return rep
}

// dialAll runs one dialogue per address of every host, maxParallelDialogues
// at a time.
func (p *Prober) dialAll(ctx context.Context, hosts []HostReport, opts smtp.Options, allowed func(netip.Addr) error) {
	dialOne := func(h *HostReport, j int) {
		o := opts
		o.DANE = h.dane
		h.Results[j] = p.dial(ctx, h.Name, h.Addrs[j], o, allowed)
	}
	if len(hosts) == 1 && len(hosts[0].Addrs) == 1 {
		// One address (a host target, most MX hosts): no goroutine to
		// hand over to and wait for.
		hosts[0].Results = make([]*smtp.Result, 1)
		dialOne(&hosts[0], 0)
		return
	}
	sem := make(chan struct{}, maxParallelDialogues)
	var wg sync.WaitGroup
	for i := range hosts {
		h := &hosts[i]
		h.Results = make([]*smtp.Result, len(h.Addrs))
		for j, addr := range h.Addrs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				waitStart := time.Now()
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					h.Results[j] = notRun(h.Name, addr.String(), opts.Port, ctx.Err(), time.Since(waitStart))
					return
				}
				defer func() { <-sem }()
				dialOne(h, j)
			}()
		}
	}
	wg.Wait()
}

func (p *Prober) dial(ctx context.Context, host string, addr netip.Addr, opts smtp.Options, allowed func(netip.Addr) error) *smtp.Result {
	ip := addr.String()
	if allowed != nil {
		// Before the gate: a refused address takes nobody's turn.
		if err := allowed(addr); err != nil {
			return notAllowed(host, ip, opts.Port, err)
		}
	}
	waitStart := time.Now()
	if err := ctx.Err(); err != nil {
		return notRun(host, ip, opts.Port, err, 0)
	}
	if p.Gate != nil {
		release, err := p.Gate.Acquire(ctx, ip)
		if err == nil && ctx.Err() != nil {
			// The turn came as the deadline passed: still not started.
			release()
			err = ctx.Err()
		}
		if err != nil {
			return notRun(host, ip, opts.Port, err, time.Since(waitStart))
		}
		defer release()
	}
	waited := time.Since(waitStart)
	res := smtp.Probe(ctx, host, ip, opts)
	if waited >= minReportedWait && outOfTime(res.Reason) {
		// The dialogue's deadline is the probe's: time spent waiting for
		// the address was not the server's. Say how much of it went.
		res.Detail += fmt.Sprintf(" (it waited %s for its turn at the address before it connected)", roundDuration(waited))
	}
	return res
}

// minReportedWait is the shortest wait for the address that a dialogue
// which ran out of time mentions: below it, taking the gate cost nothing.
const minReportedWait = time.Millisecond

// outOfTime reports whether a dialogue ended because its deadline passed.
func outOfTime(r smtp.Reason) bool {
	return r == smtp.ReasonTimeout || r == smtp.ReasonConnectTimeout || r == smtp.ReasonBannerTimeout
}

func roundDuration(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(100 * time.Microsecond)
}

// notRun is the result of a dialogue that never started: the probe's
// deadline passed (or it was cancelled) before it got its turn at the
// address or a slot. Its reason is not the server's timeout: nothing was
// sent to the server.
func notRun(host, ip string, port int, err error, waited time.Duration) *smtp.Result {
	detail := notRunCause(err)
	if waited > 0 {
		detail += fmt.Sprintf(" after it waited %s for its turn at the address or a free probe slot", roundDuration(waited))
	} else {
		detail += " before its turn came"
	}
	return unstarted(host, ip, port, smtp.ReasonNotStarted, detail)
}

// unstarted is the result of a dialogue that sent nothing: its reason is
// why it never began.
func unstarted(host, ip string, port int, reason smtp.Reason, detail string) *smtp.Result {
	return &smtp.Result{Host: host, Addr: ip, Port: port, Start: time.Now(), Reason: reason, Detail: detail}
}

// notRunCause says in words why the wait for a slot ended.
func notRunCause(err error) string {
	if errors.Is(err, context.Canceled) {
		return "the probe was cancelled"
	}
	return "the probe's deadline passed"
}

func (p *Prober) logger() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.New(slog.DiscardHandler)
}
