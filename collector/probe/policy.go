package probe

// The domain's published TLS policy: MTA-STS (RFC 8461) and TLS-RPT (RFC
// 8460), looked up for domain targets and tied to the MX hosts and addresses
// the dialogues reached.

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/mtasts"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/probe/tlscheck"
	"github.com/mx-exporter/mx_exporter/collector/probe/tlsrpt"
)

// MTASTSReport is a domain's MTA-STS policy and what it makes of the live MX
// hosts; per-host coverage is in each HostReport's MTASTS.
type MTASTSReport struct {
	Mode      mtasts.Mode     // the module's setting (enforce or report)
	TXTLookup dnsmx.TXTLookup // _mta-sts.<domain>
	TXT       mtasts.TXT
	// PolicyHost is the resolution of mta-sts.<domain>; nil when no fetch
	// was needed (no v=STSv1 record) or the policy came from the cache.
	PolicyHost *dnsmx.Host
	// Policy is the fetched policy (from the cache or fetched for this
	// probe); nil when no v=STSv1 record was found.
	Policy *mtasts.State
	Status mtasts.Status
	// Failure is true when an MTA-STS sender refuses mail to some MX:
	// an enforce policy with Status mx_uncovered or mx_tls_invalid. The
	// affected dialogues fail with an mta_sts reason when Mode is enforce.
	Failure bool
	Detail  string // the verdict in words
}

// TLSRPTReport is a domain's TLS-RPT record.
type TLSRPTReport struct {
	Lookup dnsmx.TXTLookup // _smtp._tls.<domain>
	Record tlsrpt.Record
}

// MXPolicy is what a domain's MTA-STS policy says of one MX host. A host
// without addresses gets none: it has no dialogue to judge, and fails the
// probe on its own.
type MXPolicy struct {
	// Pattern is the mx pattern that covers the host; "" when none does.
	Pattern string
	Covered bool
	// TLS is, per address (the order of Host.Addrs and Results), whether
	// the dialogue's TLS satisfies the policy; judged for covered hosts
	// only (nil otherwise).
	TLS []mtasts.TLSStatus
}

// policyChecked reports whether a probe looks up the domain's published TLS
// policy: domain targets only (a host target has no policy domain), with
// the module's mta_sts on and a resolver to ask.
func policyChecked(target Target, s Settings) bool {
	return target.Domain != "" && s.MTASTS != "" && s.MTASTS != mtasts.ModeOff && s.Resolver != nil
}

// policyLookup is the MTA-STS and TLS-RPT lookup of one domain probe. None
// of it depends on the MX hosts, so it starts beside the MX lookup and the
// policy fetch runs on beside the dialogues: it adds to the probe's wall
// time only when it is slower than they are. wait joins it before the
// verdict.
type policyLookup struct {
	done chan struct{}
	sts  *MTASTSReport
	rpt  *TLSRPTReport
}

// startPolicyLookup starts the lookup of domain's policy within ctx, the
// probe's deadline.
func (p *Prober) startPolicyLookup(ctx context.Context, domain string, s Settings) *policyLookup {
	l := &policyLookup{done: make(chan struct{})}
	go func() {
		defer close(l.done)
		l.sts, l.rpt = p.lookUpPolicy(ctx, domain, s)
	}()
	return l
}

// wait returns the lookup's reports once it is over.
func (l *policyLookup) wait() (*MTASTSReport, *TLSRPTReport) {
	<-l.done
	return l.sts, l.rpt
}

// lookUpPolicy asks for the _mta-sts and _smtp._tls TXT records side by
// side and, when a v=STSv1 record exists, gets the policy. It is fetched
// even when the TXT record is invalid, which senders ignore: the admin
// then sees both mistakes at once rather than one after the other.
func (p *Prober) lookUpPolicy(ctx context.Context, domain string, s Settings) (*MTASTSReport, *TLSRPTReport) {
	rpt := &TLSRPTReport{}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		rpt.Lookup = s.Resolver.TXT(ctx, "_smtp._tls."+domain)
		if rpt.Lookup.Outcome == dnsmx.OutcomeAnswer {
			rpt.Record = tlsrpt.Parse(rpt.Lookup.Records)
		}
	}()
	sts := &MTASTSReport{Mode: s.MTASTS}
	sts.TXTLookup = s.Resolver.TXT(ctx, "_mta-sts."+domain)
	if sts.TXTLookup.Outcome == dnsmx.OutcomeAnswer {
		sts.TXT = mtasts.ParseTXT(sts.TXTLookup.Records)
	}
	if sts.TXT.Records > 0 {
		p.getPolicy(ctx, sts, domain, s)
	}
	wg.Wait()
	return sts, rpt
}

// getPolicy fills sts.Policy (and PolicyHost when this probe fetched it),
// through the Prober's cache when it has one.
func (p *Prober) getPolicy(ctx context.Context, sts *MTASTSReport, domain string, s Settings) {
	id := sts.TXT.ID
	// The cache may run fetch on behalf of this probe or share another
	// probe's fetch: the host this probe resolved, if any, is handed over
	// under a lock.
	var mu sync.Mutex
	var host *dnsmx.Host
	fetch := func(ctx context.Context) mtasts.State {
		start := time.Now()
		h := s.Resolver.Host(ctx, mtasts.PolicyHost(domain), s.DNS)
		mu.Lock()
		host = &h
		mu.Unlock()
		st := fetchPolicyAt(ctx, domain, h, s, start)
		st.ID = id
		return st
	}
	var st mtasts.State
	if p.Policies != nil {
		st = p.Policies.Policy(ctx, policyRequest(domain, id, s), fetch)
	} else {
		st = fetch(ctx)
	}
	mu.Lock()
	sts.PolicyHost = host
	mu.Unlock()
	sts.Policy = &st
}

// policyRequest is what the cache is asked for a probe with settings s: an
// entry of its own per CA pool, its module's refresh, and a fetch deadline
// from the module's timeout rather than this probe's, since the fetch
// serves every probe of the key (a /probe cut short by its scrape timeout
// would otherwise leave a timeout cached for the others).
//
// The resolver is not part of the key: one serves every module of a config
// load, and the TXT id, looked up anew by every probe, still decides when
// a policy is fetched again.
func policyRequest(domain, id string, s Settings) mtasts.Request {
	timeout := s.MTASTSFetchTimeout
	if timeout <= 0 {
		timeout = s.Timeout
	}
	key := mtasts.Key{Domain: domain, CAs: s.RootCAsID}
	if s.RootCAsID == "" {
		key.Pool = s.SMTP.RootCAs
	}
	return mtasts.Request{
		Key:        key,
		ID:         id,
		Refresh:    s.MTASTSRefresh,
		Timeout:    timeout,
		Restricted: s.DialAllowed != nil,
	}
}

// fetchPolicyAt fetches domain's policy from the addresses of its policy
// host h, looked up through the module's resolver (RFC 8461 section 3.3
// leaves the lookup to the sender; a probe must see what its resolver
// sees, not the system's).
//
// The policy host's addresses pass Settings.DialAllowed like the MX
// hosts': an HTTPS fetch connects as a dialogue does.
func fetchPolicyAt(ctx context.Context, domain string, h dnsmx.Host, s Settings, start time.Time) mtasts.State {
	addrs, refused := allowedAddrs(h.Addrs, s.DialAllowed)
	if len(addrs) == 0 {
		detail := ""
		if refused != nil {
			detail = fmt.Sprintf("%s has no address this probe may dial (%v): the policy was not fetched", h.Name, refused)
		} else {
			why := h.Err
			if why == "" {
				why = string(h.Outcome)
			}
			detail = fmt.Sprintf("%s has no address (%s): there is nowhere to fetch the policy from", h.Name, why)
		}
		return mtasts.State{Fetch: mtasts.Fetch{
			URL:      mtasts.PolicyURL(domain),
			Start:    start,
			Duration: time.Since(start),
			Err:      mtasts.FetchNoAddress,
			Detail:   detail,
		}, Narrowed: refused != nil}
	}
	st := mtasts.FetchPolicy(ctx, mtasts.FetchOptions{Domain: domain, Addrs: addrs, RootCAs: s.SMTP.RootCAs})
	st.Narrowed = refused != nil
	return st
}

// judgeMTASTS reaches the domain's MTA-STS verdict as a sender would (RFC
// 8461 sections 4 and 5): first whether there is a usable policy at all,
// then whether it covers every live MX host and whether each covered
// address's TLS satisfies it. It fills each MX host's MTASTS and, in module
// mode enforce, fails the dialogues an MTA-STS sender would not deliver
// over, unless they failed for another reason first.
func judgeMTASTS(rep *Report) {
	sts := rep.MTASTS
	if sts == nil {
		return
	}
	domain := rep.Target.Domain
	sts.Failure = false
	if status, detail, decided := policyStatus(sts, domain); decided {
		sts.Status, sts.Detail = status, detail
		return
	}
	v := coverage(rep.Hosts, sts.Policy.Policy, rep.Asked.StartTLS == smtp.StartTLSOff)
	mode := sts.Policy.Policy.Mode
	switch {
	case len(v.uncovered) > 0:
		sts.Status = mtasts.StatusMXUncovered
	case len(v.tlsInvalid) > 0:
		sts.Status = mtasts.StatusMXTLSInvalid
	default:
		sts.Status = mtasts.StatusPass
	}
	sts.Failure = mode == mtasts.PolicyEnforce && sts.Status != mtasts.StatusPass
	sts.Detail = coverageDetail(sts, v)
	if sts.Failure && sts.Mode == mtasts.ModeEnforce {
		failRefused(rep.Hosts, policyWords(sts)+" of "+domain)
	}
}

// policyStatus decides the statuses that come before coverage, in the order
// of their precedence; decided is false when the policy is valid and in
// mode enforce or testing, so that coverage decides.
func policyStatus(sts *MTASTSReport, domain string) (status mtasts.Status, detail string, decided bool) {
	l := sts.TXTLookup
	txtName := "_mta-sts." + domain
	switch {
	case txtLookupFailed(l):
		return mtasts.StatusTXTLookupFailed, fmt.Sprintf(
			"the TXT lookup of %s failed (%s): senders that cached the policy keep applying it, others deliver without MTA-STS",
			txtName, orElse(l.Err, string(l.Outcome))), true
	case sts.TXT.Records == 0:
		return mtasts.StatusNoPolicy, fmt.Sprintf("no MTA-STS policy: %s has no v=STSv1 TXT record", txtName), true
	case !sts.TXT.Valid:
		return mtasts.StatusTXTInvalid, fmt.Sprintf("the TXT record at %s is invalid (%s): %s",
			txtName, sts.TXT.Defect, orElse(sts.TXT.Detail, "senders ignore the policy and deliver without MTA-STS")), true
	}
	st := sts.Policy
	if st == nil || st.Fetch.Err != "" || st.Policy == nil {
		var f mtasts.Fetch
		if st != nil {
			f = st.Fetch
		}
		return mtasts.StatusUnfetchable, fmt.Sprintf(
			"the policy for TXT id %s could not be fetched from %s (%s%s): senders that cached it keep applying it until its max_age runs out, new senders deliver without MTA-STS",
			sts.TXT.ID, orElse(f.URL, mtasts.PolicyURL(domain)), orElse(string(f.Err), "not fetched"), prefixed(": ", f.Detail)), true
	}
	if !st.Valid {
		return mtasts.StatusInvalid, fmt.Sprintf(
			"the policy at %s (TXT id %s) is invalid (%s): senders ignore it and deliver without MTA-STS",
			orElse(st.Fetch.URL, mtasts.PolicyURL(domain)), sts.TXT.ID, orElse(joinDefects(st.Defects, true), "a fatal defect")), true
	}
	if st.Policy.Mode == mtasts.PolicyNone {
		return mtasts.StatusModeNone, policyWords(sts) + ": mode none, senders apply no MTA-STS to the domain" + warnings(st), true
	}
	return "", "", false
}

// txtLookupFailed reports whether the lookup failed rather than answered
// that there is no record: a sender cannot tell whether a policy exists.
func txtLookupFailed(l dnsmx.TXTLookup) bool {
	switch l.Outcome {
	case dnsmx.OutcomeAnswer, dnsmx.OutcomeNoData, dnsmx.OutcomeNXDomain:
		return false
	}
	return true
}

// mtastsVerdict is what a valid policy makes of the live MX hosts.
type mtastsVerdict struct {
	hosts      int      // MX hosts with addresses
	addrs      int      // addresses of covered hosts
	uncovered  []string // their names
	tlsInvalid []string // "host address: why" of covered addresses that fail the policy
	notReached []string // "host address: why" of covered addresses whose TLS could not be judged
}

// coverage matches every MX host with addresses against the policy's mx
// patterns (RFC 8461 section 4.1) and judges the TLS of each address of a
// covered host (section 4.2), filling HostReport.MTASTS. A host without
// addresses has no dialogue to judge: it fails the probe on its own.
func coverage(hosts []HostReport, policy *mtasts.Policy, startTLSOff bool) mtastsVerdict {
	var v mtastsVerdict
	for i := range hosts {
		h := &hosts[i]
		if len(h.Addrs) == 0 {
			continue
		}
		v.hosts++
		pattern, covered := policy.Covering(h.Name)
		mp := &MXPolicy{Pattern: pattern, Covered: covered}
		h.MTASTS = mp
		if !covered {
			mp.Pattern = ""
			v.uncovered = append(v.uncovered, h.Name)
			continue
		}
		mp.TLS = make([]mtasts.TLSStatus, len(h.Addrs))
		for j, addr := range h.Addrs {
			v.addrs++
			status, why := tlsStatus(resultAt(h.Results, j), h.Name, startTLSOff)
			mp.TLS[j] = status
			switch {
			case status == mtasts.TLSNotReached:
				v.notReached = append(v.notReached, h.Name+" "+addr.String()+": "+why)
			case status != mtasts.TLSValid:
				v.tlsInvalid = append(v.tlsInvalid, h.Name+" "+addr.String()+": "+why)
			}
		}
	}
	return v
}

func resultAt(results []*smtp.Result, i int) *smtp.Result {
	if i < len(results) {
		return results[i]
	}
	return nil
}

// tlsStatus judges one dialogue's TLS as RFC 8461 section 4.2 asks of a
// covered MX: STARTTLS, TLS 1.2 or later, and a certificate that verifies
// for the MX host name. why says it in words. What the server advertised
// counts even when the module does not try STARTTLS: a missing STARTTLS is
// seen in the EHLO reply alone.
func tlsStatus(res *smtp.Result, host string, startTLSOff bool) (status mtasts.TLSStatus, why string) {
	switch {
	case res == nil:
		return mtasts.TLSNotReached, "no dialogue"
	case res.TLS != nil:
		info := res.TLS
		switch {
		case !tlsVersionAtLeast12(info.Version):
			return mtasts.TLSVersionTooOld, fmt.Sprintf("it negotiated %s, and MTA-STS requires TLS 1.2 or later", info.Version)
		case !info.Verified:
			return mtasts.TLSCertInvalid, fmt.Sprintf("its certificate does not verify for %s: %s%s", host, orElse(info.VerifyError, "not verified"), expiredOn(info, res.Start))
		case info.ServerName != host:
			// The module's tls_server_name made the dialogue verify for
			// another name, which says nothing of the MX name.
			return mtasts.TLSCertInvalid, fmt.Sprintf("its certificate was verified for %s (the module's tls_server_name), not for the MX name %s", info.ServerName, host)
		}
		return mtasts.TLSValid, fmt.Sprintf("STARTTLS with %s and a certificate verified for %s", info.Version, host)
	case res.TLSFailure != nil:
		return mtasts.TLSStartTLSFailed, "STARTTLS failed: " + res.TLSFailure.Cause
	case res.Extensions == nil && res.UsedHELO:
		return mtasts.TLSStartTLSMissing, "it refuses EHLO, so it cannot offer STARTTLS"
	case res.Extensions == nil:
		return mtasts.TLSNotReached, "the dialogue ended before EHLO" + inParens(string(res.Reason))
	case !res.Extensions.Has("STARTTLS"):
		return mtasts.TLSStartTLSMissing, "it does not offer STARTTLS"
	case startTLSOff:
		return mtasts.TLSNotReached, "the module does not try STARTTLS"
	}
	return mtasts.TLSNotReached, "the dialogue ended before STARTTLS completed" + inParens(string(res.Reason))
}

// expiredOn says when a certificate that had expired at the dialogue's
// start expired, "" otherwise: the date is what the admin looks for first.
func expiredOn(info *tlscheck.Info, at time.Time) string {
	if at.IsZero() || info.LeafNotAfter.IsZero() || !info.LeafNotAfter.Before(at) {
		return ""
	}
	return " (it expired on " + info.LeafNotAfter.UTC().Format(time.DateOnly) + ")"
}

// tlsVersions maps the names tlscheck.Info.Version holds (tls.VersionName)
// back to the protocol versions, so that they compare as numbers.
var tlsVersions = func() map[string]uint16 {
	m := make(map[string]uint16)
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13} {
		m[tls.VersionName(v)] = v
	}
	return m
}()

// tlsVersionAtLeast12 reports whether a version name is TLS 1.2 or later.
// A name crypto/tls does not know here ("TLS 1.4" from a later Go) is read
// as "TLS major.minor"; anything else (SSLv3, "0x0300") is too old.
func tlsVersionAtLeast12(name string) bool {
	if v, ok := tlsVersions[name]; ok {
		return v >= tls.VersionTLS12
	}
	major, minor, ok := strings.Cut(strings.TrimPrefix(name, "TLS "), ".")
	if !ok || !strings.HasPrefix(name, "TLS ") {
		return false
	}
	ma, err1 := strconv.Atoi(major)
	mi, err2 := strconv.Atoi(minor)
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > 1 || ma == 1 && mi >= 2
}

// failRefused fails each dialogue that succeeded but that an MTA-STS
// sender would not deliver over: every address of an uncovered MX host,
// and each covered address whose TLS fails the policy. An earlier failure
// stays: it is what the admin must fix first. policy names the policy in
// words.
func failRefused(hosts []HostReport, policy string) {
	for i := range hosts {
		h := &hosts[i]
		mp := h.MTASTS
		if mp == nil {
			continue
		}
		for j, res := range h.Results {
			if res == nil || !res.Success {
				continue
			}
			if !mp.Covered {
				res.Success, res.Reason = false, smtp.ReasonMTASTSUncovered
				res.Detail = fmt.Sprintf("MTA-STS: the %s does not cover MX host %s: MTA-STS senders refuse to deliver to it", policy, h.Name)
				continue
			}
			if j >= len(mp.TLS) || !tlsRefused(mp.TLS[j]) {
				continue
			}
			_, why := tlsStatus(res, h.Name, false)
			res.Success, res.Reason = false, smtp.ReasonMTASTSTLSInvalid
			res.Detail = fmt.Sprintf("MTA-STS: the %s covers %s (pattern %s), but at this address %s: MTA-STS senders refuse to deliver to it", policy, h.Name, mp.Pattern, why)
		}
	}
}

// tlsRefused reports whether an MTA-STS sender refuses an address with
// this TLS status; one that was not reached is not judged.
func tlsRefused(s mtasts.TLSStatus) bool {
	return s != mtasts.TLSValid && s != mtasts.TLSNotReached
}

// coverageDetail says the coverage verdict in words, with what senders do.
func coverageDetail(sts *MTASTSReport, v mtastsVerdict) string {
	var b strings.Builder
	b.WriteString(policyWords(sts))
	mode := sts.Policy.Policy.Mode
	switch {
	case v.hosts == 0:
		b.WriteString(": no MX host with addresses to check it against")
	case len(v.uncovered) > 0:
		fmt.Fprintf(&b, " does not cover MX %s", strings.Join(v.uncovered, ", "))
		if len(v.tlsInvalid) > 0 {
			b.WriteString(", and at covered addresses " + listCapped(v.tlsInvalid))
		}
		b.WriteString(": " + refusal(mode, len(v.uncovered)+len(v.tlsInvalid)))
	case len(v.tlsInvalid) > 0:
		b.WriteString(" covers every MX host, but at " + listCapped(v.tlsInvalid))
		b.WriteString(": " + refusal(mode, len(v.tlsInvalid)))
	case len(v.notReached) == v.addrs:
		fmt.Fprintf(&b, " covers every MX host (%d); the TLS of no covered address could be judged", v.hosts)
	default:
		fmt.Fprintf(&b, " covers every MX host (%d), and every covered address reached offers STARTTLS with TLS 1.2 or later and a certificate valid for its MX name", v.hosts)
	}
	if len(v.notReached) > 0 {
		b.WriteString("; not reached, TLS not judged: " + listCapped(v.notReached))
	}
	if sts.Failure && sts.Mode == mtasts.ModeReport {
		b.WriteString("; the module's mta_sts is report, so the probe does not fail on it")
	}
	b.WriteString(warnings(sts.Policy))
	return b.String()
}

// refusal says what senders do about n uncovered hosts or failing addresses
// under the policy's mode.
func refusal(mode mtasts.PolicyMode, n int) string {
	them := "it"
	if n > 1 {
		them = "them"
	}
	if mode == mtasts.PolicyEnforce {
		return "MTA-STS senders (Gmail, Exchange Online) refuse to deliver to " + them
	}
	return "in mode testing senders still deliver and only report it through TLS-RPT; under mode enforce they would refuse to deliver to " + them
}

// policyWords names the policy as an admin knows it: "enforce policy id
// enforce1 (max_age 604800)".
func policyWords(sts *MTASTSReport) string {
	p := sts.Policy.Policy
	return fmt.Sprintf("%s policy id %s (max_age %d)", p.Mode, sts.TXT.ID, p.MaxAge)
}

// warnings lists a valid policy's non-fatal defects, "" when none.
func warnings(st *mtasts.State) string {
	if w := joinDefects(st.Defects, false); w != "" {
		return "; warnings: " + w
	}
	return ""
}

// joinDefects lists the fatal defects, or the others.
func joinDefects(defects []mtasts.Defect, fatal bool) string {
	var names []string
	for _, d := range defects {
		if d.Fatal() == fatal {
			names = append(names, string(d))
		}
	}
	return strings.Join(names, ", ")
}

// maxListed bounds how many failing addresses a verdict spells out.
const maxListed = 3

func listCapped(items []string) string {
	if len(items) <= maxListed {
		return strings.Join(items, "; ")
	}
	return strings.Join(items[:maxListed], "; ") + fmt.Sprintf("; and %d more", len(items)-maxListed)
}

func orElse(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// prefixed returns prefix+s, or "" when s is empty.
func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

// inParens returns " (s)", or "" when s is empty.
func inParens(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// logMTASTS says at debug level what the policy lookup found.
func logMTASTS(logger *slog.Logger, rep *Report) {
	sts := rep.MTASTS
	if sts == nil {
		return
	}
	args := []any{"status", sts.Status, "failure", sts.Failure, "txt_outcome", sts.TXTLookup.Outcome}
	if st := sts.Policy; st != nil {
		args = append(args, "policy_cached", st.Cached, "fetch_err", st.Fetch.Err, "fetch_seconds", st.Fetch.Duration.Seconds())
	}
	if rep.TLSRPT != nil {
		args = append(args, "tlsrpt_outcome", rep.TLSRPT.Lookup.Outcome, "tlsrpt_valid", rep.TLSRPT.Record.Valid)
	}
	logger.Debug("MTA-STS verdict", args...)
}
