package collector

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mx-exporter/mx_exporter/collector/dnsname"
	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dane"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsbl"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/mtasts"
	"github.com/mx-exporter/mx_exporter/collector/probe/rdns"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/probe/tlsrpt"
	"github.com/mx-exporter/mx_exporter/collector/store"
)

// sink takes the series of one entry as emit finds them. Two sinks exist:
// the const metrics of Collector and the compact cache of Exporter.
type sink interface {
	// subject says whose series follow: the domain's own (mx and ip
	// empty), an MX host's (ip empty) or one of its addresses'.
	subject(domain, mx, ip string)
	// series takes one series of family f: its value and the values of its
	// labels other than the subject's, in label-name order. The sink may
	// keep neither the slice nor, beyond the call, rely on its contents.
	series(f fam, v float64, labels []string)
}

// emit sends the series of one stored entry to s and returns how many
// endpoints (an address of an MX host) it has. It is the one place that
// says which series a report yields: series that exist for an endpoint are
// there from its first probe, with 0 where nothing happened.
func emit(en *store.Entry, s sink) (endpoints int) {
	em := emitters.Get().(*emitter)
	defer em.release()
	em.sink = s
	r := en.Report
	domain := clean(en.Target)

	s.subject(domain, "", "")
	em.gauge(famTargetSuccess, bool01(r.Success()))
	em.gauge(famTargetDuration, r.Duration.Seconds())
	taken := en.Taken
	if taken.IsZero() {
		taken = r.Start.Add(r.Duration)
	}
	em.gauge(famTargetLastRun, unixSeconds(taken))
	if en.Interval > 0 { // probes of /probe have none
		em.gauge(famTargetInterval, en.Interval.Seconds())
	}
	if r.DNS != nil {
		em.dns(r.DNS)
	}
	if r.Validation.Trusted {
		em.gauge(famValidating, bool01(r.Validation.Validating))
	}
	if r.MTASTS != nil {
		em.mtaSTS(r.MTASTS)
	}
	if r.TLSRPT != nil {
		em.tlsRPT(r.TLSRPT)
	}

	for i, rc := range r.Asked.Recipients { // configured recipients, deduplicated
		if !slices.Contains(r.Asked.Recipients[:i], rc) {
			em.rcpts = append(em.rcpts, recipient{rc, clean(rc)})
		}
	}
	ipv6Hosts, covered, uncovered := 0, 0, 0
	for _, h := range r.Hosts {
		name := clean(dnsname.Normalize(h.Name))
		if name == "" || em.seen(name, "") {
			continue // a host listed twice would make duplicate series
		}
		if slices.ContainsFunc(h.Addrs, isIPv6) {
			ipv6Hosts++
		}
		s.subject(domain, name, "")
		// An implicit MX is no MX record: mx_records says 0, and so must
		// mx_record_info.
		if r.DNS != nil && !r.DNS.Implicit {
			em.gauge(famRecordInfo, 1, strconv.Itoa(int(h.Preference)))
		}
		em.gauge(famHostAddresses, float64(len(h.Addrs)))
		if h.CNAME != "" {
			em.gauge(famHostFinding, 1, hostFindingCNAME)
		}
		if h.IPLiteral {
			em.gauge(famHostFinding, 1, hostFindingIPLiteral)
		}
		if len(h.Special) > 0 {
			em.gauge(famHostFinding, 1, hostFindingSpecialAddrs)
		}
		if slices.Contains(dnsmx.Securities, h.Security) {
			em.gauge(famHostDNSSEC, 1, string(h.Security))
		}
		if h.MTASTS != nil {
			em.gauge(famMTASTSCovered, bool01(h.MTASTS.Covered))
			if h.MTASTS.Covered {
				covered++
			} else {
				uncovered++
			}
		}
		if slices.Contains(probe.Parities, h.Parity) {
			em.gauge(famIPParity, 1, string(h.Parity))
		}
		em.listings(h.NameListings, famDNSBLHostListed, famDNSBLHostCode, famDNSBLHostError)
		for j, res := range h.Results {
			if res == nil {
				continue
			}
			ip := res.Addr
			if ip == "" && j < len(h.Addrs) {
				ip = h.Addrs[j].String()
			}
			if ip == "" || em.seen(name, ip) {
				continue
			}
			endpoints++
			s.subject(domain, name, clean(ip))
			em.endpoint(&r.Asked, taken, res)
			em.dane(res.DANE, h.TLSA)
			if p := h.MTASTS; p != nil && p.Covered && j < len(p.TLS) && slices.Contains(mtasts.TLSStatuses, p.TLS[j]) {
				em.gauge(famMTASTSTLS, 1, string(p.TLS[j]))
			}
			if j < len(h.Reverse) {
				em.reverse(h.Reverse[j])
			}
			if j < len(h.Names) {
				em.names(h.Names[j])
			}
			if j < len(h.Listings) {
				em.listings(h.Listings[j], famDNSBLListed, famDNSBLCode, famDNSBLError)
			}
		}
	}
	if r.DNS != nil { // a domain target: its MX hosts
		s.subject(domain, "", "")
		em.gauge(famIPv6MXHosts, float64(ipv6Hosts))
		if coverageJudged(r.MTASTS) {
			em.gauge(famMTASTSMXHosts, float64(covered), mxCovered)
			em.gauge(famMTASTSMXHosts, float64(uncovered), mxUncovered)
		}
	}
	return endpoints
}

// isIPv6 reports whether a is an IPv6 address proper: an IPv4-mapped one
// reaches the host over IPv4.
func isIPv6(a netip.Addr) bool { return a.Is6() && !a.Is4In6() }

// reverse emits an address's reverse DNS: its status, with the PTR name
// the status speaks of when it is a valid host name.
func (em *emitter) reverse(c *rdns.Check) {
	if c == nil || !slices.Contains(rdns.Statuses, c.Status) {
		return
	}
	ptr := dnsname.Normalize(c.Name)
	if !dnsname.Valid(ptr) {
		ptr = ""
	}
	em.gauge(famPTR, 1, ptr, string(c.Status))
}

// names emits whether an address's names agree, and each pair that does
// not (once, in the order of rdns.Pairs).
func (em *emitter) names(n *rdns.Names) {
	if n == nil {
		return
	}
	mismatch := false
	for _, p := range rdns.Pairs {
		if slices.Contains(n.Mismatches, p) {
			em.gauge(famNameMismatch, 1, string(p))
			mismatch = true
		}
	}
	em.gauge(famNamesAgree, bool01(n.Agree && !mismatch))
}

// maxReturnCodes bounds the return codes of one listing that become
// series: lists answer with one or two.
const maxReturnCodes = 4

// listings emits a subject's blocklist results, one zone each: listed or
// not, or the error of the list, and the return codes of a listing. The
// zone comes from the config; a zone named twice is emitted once.
func (em *emitter) listings(rs []dnsbl.Result, listed, code, failure fam) {
	for i := range rs {
		r := &rs[i]
		zone := clean(r.Zone)
		if zone == "" || slices.ContainsFunc(rs[:i], func(o dnsbl.Result) bool { return o.Zone == r.Zone }) {
			continue
		}
		switch r.Verdict {
		case dnsbl.VerdictListed, dnsbl.VerdictNotListed:
			em.gauge(listed, bool01(r.Verdict == dnsbl.VerdictListed), zone)
		case dnsbl.VerdictError:
			if slices.Contains(dnsbl.Errors, r.Error) {
				em.gauge(failure, 1, string(r.Error), zone)
			}
			continue
		default:
			continue
		}
		if r.Verdict != dnsbl.VerdictListed {
			continue
		}
		n := 0
		for j, c := range r.Codes {
			if n == maxReturnCodes {
				break
			}
			if !listingCode(c) || slices.Contains(r.Codes[:j], c) {
				continue
			}
			em.gauge(code, 1, c.String(), zone)
			n++
		}
	}
}

// listingCode reports whether a is a return code that means a listing
// (RFC 5782 section 2.1): in 127.0.0.0/8, outside 127.255.255.0/24, which
// lists use for errors. Nothing else becomes a label.
func listingCode(a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	b := a.As4()
	return b[0] == 127 && (b[1] != 255 || b[2] != 255)
}

// The findings of a domain's MX records and of an MX host: label values of
// mx_dns_finding_info and mx_host_finding_info, derived from dnsmx facts.
const (
	dnsFindingNullMXMixed   = "null_mx_mixed"
	hostFindingCNAME        = "mx_cname"
	hostFindingIPLiteral    = "mx_ip_literal"
	hostFindingSpecialAddrs = "special_address"
)

// Steps in dialogue order, indexed by step kind.
var stepNames = [...]string{
	smtp.StepConnect, smtp.StepBanner, smtp.StepEHLO, smtp.StepHELO,
	smtp.StepStartTLS, smtp.StepTLSHandshake, smtp.StepEHLOTLS, smtp.StepPipeline,
	smtp.StepMail, smtp.StepRcpt, smtp.StepRelay, smtp.StepVRFY,
	smtp.StepRSET, smtp.StepQuit,
}

const (
	kConnect = iota
	kBanner
	kEHLO
	kHELO
	kStartTLS
	kTLSHandshake
	kEHLOTLS
	kPipeline
	kMail
	kRcpt
	kRelay
	kVRFY
	kRSET
	kQuit
	numSteps
)

// stepDefaults says which series of a step a module exports without
// metrics.all_steps (issue 14's series budget): its time where time goes
// (the network, the greeting, EHLO, the TLS handshake, the recipient's
// look-up, a VRFY the module asked for, a pipelined group), its reply
// code where a verdict rests on the reply or an alert reads it (the
// greeting, EHLO or HELO, MAIL, RCPT, the relay check, VRFY). The
// replies to STARTTLS are in mx_tls_starttls_failure_info; RSET and QUIT
// are housekeeping; the times of one-line commands are one round trip,
// which connect already shows.
var stepDefaults = [numSteps]struct{ duration, reply bool }{
	kConnect:      {duration: true},
	kBanner:       {duration: true, reply: true},
	kEHLO:         {duration: true, reply: true},
	kHELO:         {duration: true, reply: true},
	kTLSHandshake: {duration: true},
	kPipeline:     {duration: true},
	kMail:         {reply: true},
	kRcpt:         {duration: true, reply: true},
	kRelay:        {reply: true},
	kVRFY:         {duration: true, reply: true},
}

// senderExtensions are the extensions a module exports without
// metrics.all_extensions, besides STARTTLS: those senders act on and
// operators alert on, as the dialogue's last EHLO offered them (after
// STARTTLS when TLS was established, as mx_smtp_size_limit_bytes does;
// SIZE has that gauge of its own). STARTTLS is what the plaintext EHLO
// offered: nothing offers it after TLS.
var senderExtensions = []string{"8BITMIME", "CHUNKING", "PIPELINING", "REQUIRETLS", "SMTPUTF8"}

const extStartTLS = "STARTTLS"

// dnsOutcomes are the outcomes mx_dns_lookup_outcome_info names; any other
// is "error".
var dnsOutcomes = []dnsmx.Outcome{dnsmx.OutcomeAnswer, dnsmx.OutcomeNXDomain, dnsmx.OutcomeNoData,
	dnsmx.OutcomeServFail, dnsmx.OutcomeRefused, dnsmx.OutcomeTimeout, dnsmx.OutcomeError}

// emitter holds what emit needs for one entry. Emitters are pooled, so
// that an entry costs no allocation of its own.
type emitter struct {
	sink   sink
	labels []string
	rcpts  []recipient
	hosts  map[[2]string]bool // MX host and address already emitted
}

type recipient struct{ addr, label string }

var emitters = sync.Pool{New: func() any { return &emitter{hosts: map[[2]string]bool{}} }}

func (em *emitter) release() {
	em.sink = nil
	clear(em.labels[:cap(em.labels)]) // drop references to the report
	clear(em.rcpts[:cap(em.rcpts)])
	em.labels, em.rcpts = em.labels[:0], em.rcpts[:0]
	clear(em.hosts)
	emitters.Put(em)
}

// gauge emits one series of the current subject.
func (em *emitter) gauge(f fam, v float64, labels ...string) {
	em.labels = append(em.labels[:0], labels...)
	em.sink.series(f, v, em.labels)
}

// seen reports whether the MX host (ip "") or address was emitted already,
// and marks it.
func (em *emitter) seen(mx, ip string) bool {
	k := [2]string{mx, ip}
	if em.hosts[k] {
		return true
	}
	em.hosts[k] = true
	return false
}

// dns emits the series of the MX lookup.
func (em *emitter) dns(d *dnsmx.Domain) {
	ok := d.NullMX || d.Outcome == dnsmx.OutcomeAnswer || d.Outcome == dnsmx.OutcomeNoData && d.Implicit
	em.gauge(famDNSSuccess, bool01(ok))
	em.gauge(famDNSDuration, d.Duration.Seconds())
	outcome := dnsmx.OutcomeError
	if slices.Contains(dnsOutcomes, d.Outcome) {
		outcome = d.Outcome
	}
	em.gauge(famDNSOutcome, 1, string(outcome))
	records := 0
	if !d.NullMX && !d.Implicit {
		records = len(d.Hosts) + d.HostsDropped
	}
	em.gauge(famRecords, float64(records))
	em.gauge(famNullMX, bool01(d.NullMX))
	em.gauge(famImplicitMX, bool01(d.Implicit))
	if d.NullMXMixed {
		em.gauge(famDNSFinding, 1, dnsFindingNullMXMixed)
	}
	if slices.Contains(dnsmx.Securities, d.MXSecurity) {
		em.gauge(famDNSSEC, 1, string(d.MXSecurity))
	}
}

// dane emits an address's DANE series: its verdict whenever the module
// looks at DANE, the record counts when a secure TLSA RRset was found, and
// the matches and rollover readiness when a chain was judged.
func (em *emitter) dane(c *dane.Check, l *dnsmx.TLSALookup) {
	if c == nil || !slices.Contains(dane.Statuses, c.Status) {
		return
	}
	em.gauge(famDANEVerdict, 1, string(c.Status))
	if l == nil || l.Security != dnsmx.SecuritySecure || len(l.Records) == 0 {
		return
	}
	usable := 0
	for _, r := range l.Records {
		if r.Class() == dane.ClassUsable {
			usable++
		}
	}
	em.gauge(famTLSARecords, float64(len(l.Records)))
	em.gauge(famTLSAUsable, float64(usable))
	if c.Result == nil {
		return
	}
	_, matched := c.Result.Counts()
	em.gauge(famTLSAMatched, float64(matched))
	if usable > 0 {
		em.gauge(famDANERollover, bool01(c.Result.Rollover.Ready))
	}
}

// The values of mx_mta_sts_mx_hosts' coverage label.
const (
	mxCovered   = "covered"
	mxUncovered = "uncovered"
)

// coverageJudged reports whether the verdict came from the policy's mx
// patterns (a valid policy in mode enforce or testing): only then has every
// MX host a coverage. Both counts are emitted then, 0 included, so that
// "how many MX hosts does the policy leave out" is one selector rather
// than a count over mx_mta_sts_mx_covered, which returns nothing where
// every host is covered.
func coverageJudged(m *probe.MTASTSReport) bool {
	if m == nil {
		return false
	}
	switch m.Status {
	case mtasts.StatusPass, mtasts.StatusMXUncovered, mtasts.StatusMXTLSInvalid:
		return true
	}
	return false
}

// mtaSTS emits a domain's MTA-STS series: the TXT record's when its lookup
// answered, the fetch's and the policy's when a v=STSv1 record made the
// probe fetch one, the verdict always.
func (em *emitter) mtaSTS(m *probe.MTASTSReport) {
	if m.Status != mtasts.StatusTXTLookupFailed {
		em.gauge(famMTASTSTXTRecords, float64(m.TXT.Records))
		em.gauge(famMTASTSTXTValid, bool01(m.TXT.Valid))
		if slices.Contains(mtasts.TXTDefects, m.TXT.Defect) {
			em.gauge(famMTASTSTXTDefect, 1, string(m.TXT.Defect))
		}
	}
	if st := m.Policy; st != nil {
		f := &st.Fetch
		em.gauge(famMTASTSFetchSuccess, bool01(f.Err == ""))
		em.gauge(famMTASTSHTTPStatus, float64(f.Status))
		if slices.Contains(mtasts.FetchErrors, f.Err) {
			em.gauge(famMTASTSFetchError, 1, string(f.Err))
		}
		if !f.Start.IsZero() {
			em.gauge(famMTASTSFetched, unixSeconds(f.Start.Add(f.Duration)))
		}
		em.gauge(famMTASTSPolicyValid, bool01(st.Valid))
		if p := st.Policy; p != nil {
			if slices.Contains(mtasts.PolicyModes, p.Mode) {
				em.gauge(famMTASTSMode, 1, string(p.Mode))
			}
			if p.MaxAge >= 0 {
				em.gauge(famMTASTSMaxAge, float64(p.MaxAge))
			}
		}
		for i, d := range st.Defects {
			if slices.Contains(mtasts.Defects, d) && !slices.Contains(st.Defects[:i], d) {
				em.gauge(famMTASTSDefect, 1, string(d))
			}
		}
		if t := f.TLS; t != nil {
			if !t.ChainNotAfter.IsZero() {
				em.gauge(famMTASTSHostExpiry, unixSeconds(t.ChainNotAfter))
			}
			em.gauge(famMTASTSHostVerified, bool01(t.Verified))
		}
	}
	if slices.Contains(mtasts.Statuses, m.Status) {
		em.gauge(famMTASTSStatus, 1, string(m.Status))
	}
	em.gauge(famMTASTSFailure, bool01(m.Failure))
}

// tlsRPT emits a domain's TLS-RPT series when its lookup answered.
func (em *emitter) tlsRPT(t *probe.TLSRPTReport) {
	if !answered(t.Lookup.Outcome) {
		return
	}
	em.gauge(famTLSRPTRecords, float64(t.Record.Records))
	em.gauge(famTLSRPTValid, bool01(t.Record.Valid))
	if slices.Contains(tlsrpt.Defects, t.Record.Defect) {
		em.gauge(famTLSRPTDefect, 1, string(t.Record.Defect))
	}
}

// answered reports whether a lookup with this outcome told what is
// published: records, or none (NODATA, NXDOMAIN).
func answered(o dnsmx.Outcome) bool {
	return o == dnsmx.OutcomeAnswer || o == dnsmx.OutcomeNoData || o == dnsmx.OutcomeNXDomain
}

// endpoint emits the series of one dialogue.
func (em *emitter) endpoint(asked *probe.Asked, taken time.Time, res *smtp.Result) {
	em.gauge(famProbeSuccess, bool01(res.Success))
	em.gauge(famProbeDuration, res.Duration.Seconds())
	last := taken
	if !res.Start.IsZero() {
		last = res.Start.Add(res.Duration)
	}
	em.gauge(famProbeLastRun, unixSeconds(last))
	if !res.Success && slices.Contains(smtp.Reasons, res.Reason) {
		em.gauge(famProbeFailure, 1, string(res.Reason))
	}
	for _, f := range res.Findings {
		if slices.Contains(smtp.Findings, f) {
			em.gauge(famFinding, 1, string(f))
		}
	}
	if res.Banner.Code != 0 {
		em.gauge(famGreetingFirstLine, res.GreetingFirstLine.Seconds())
	}

	var steps [numSteps]*smtp.Step // the first step of each kind
	for i := range res.Steps {
		if k := slices.Index(stepNames[:], res.Steps[i].Name); k >= 0 && steps[k] == nil {
			steps[k] = &res.Steps[i]
		}
	}
	tlsMode := asked.StartTLS != smtp.StartTLSOff
	all := asked.Detail.AllSteps
	for k, name := range stepNames {
		switch k {
		case kHELO:
			if steps[k] == nil {
				continue
			}
		case kStartTLS, kTLSHandshake, kEHLOTLS:
			if !tlsMode {
				continue
			}
		case kPipeline:
			if !asked.Pipelining {
				continue
			}
		case kRcpt:
			if len(asked.Recipients) == 0 {
				continue
			}
		case kRelay:
			if asked.RelayCheck == "" {
				continue
			}
		case kVRFY:
			if asked.VRFY == "" {
				continue
			}
		}
		var dur float64
		var reply smtp.Reply
		if s := steps[k]; s != nil {
			dur = s.Duration.Seconds()
			reply = s.Reply
		}
		if all || stepDefaults[k].duration {
			em.gauge(famStepDuration, dur, name)
		}
		switch k {
		case kConnect, kTLSHandshake, kPipeline:
			continue // no reply of its own
		case kBanner:
			if steps[k] == nil {
				reply = res.Banner
			}
		case kRcpt:
			if rc := findRecipient(res, asked.Recipients[0]); rc != nil {
				reply = rc.Reply
			}
		case kRelay:
			if res.Relay != nil {
				reply = res.Relay.Reply
			}
		case kVRFY:
			if res.VRFY != nil {
				reply = *res.VRFY
			}
		}
		if !all && !stepDefaults[k].reply {
			continue
		}
		em.gauge(famReplyCode, float64(reply.Code), name)
		if asked.Detail.EnhancedStatus && validEnhanced(reply.Enhanced) {
			em.gauge(famEnhancedStatus, 1, reply.Enhanced, name)
		}
	}

	for _, rcpt := range em.rcpts {
		var accepted bool
		var code int
		if rc := findRecipient(res, rcpt.addr); rc != nil {
			accepted, code = rc.Accepted, rc.Reply.Code
		}
		em.gauge(famRecipientAccepted, bool01(accepted), rcpt.label)
		em.gauge(famRecipientReplyCode, float64(code), rcpt.label)
	}

	if asked.RelayCheck != "" {
		var open, conclusive bool
		if res.Relay != nil {
			open = res.Relay.Verdict == smtp.RelayOpen
			conclusive = open || res.Relay.Verdict == smtp.RelayRefused
		}
		em.gauge(famOpenRelay, bool01(open))
		em.gauge(famRelayConclusive, bool01(conclusive))
	}

	if dnsname.Valid(res.BannerHostname) {
		em.gauge(famBannerInfo, 1, res.BannerHostname)
	}

	if asked.Detail.AllExtensions {
		for _, x := range smtp.KnownExtensions {
			em.gauge(famExtension, bool01(res.Extensions.Has(x)), x, "false")
			if res.TLS != nil {
				em.gauge(famExtension, bool01(res.ExtensionsTLS.Has(x)), x, "true")
			}
		}
	} else {
		em.gauge(famExtension, bool01(res.Extensions.Has(extStartTLS)), extStartTLS, "false")
		last, afterTLS := res.Extensions, "false"
		if res.TLS != nil {
			last, afterTLS = res.ExtensionsTLS, "true"
		}
		for _, x := range senderExtensions {
			em.gauge(famExtension, bool01(last.Has(x)), x, afterTLS)
		}
	}
	// An invalid SIZE is 0 here too, as no limit is: a gauge has no room
	// for "unusable" that alerts and dashboards read safely (NaN would
	// spoil every comparison), and a gauge of its own would cost every
	// endpoint a series for a rare fault. The finding size_invalid, emitted
	// only while it holds, tells the two apart.
	var size int64
	if ext := res.SizeSource(); ext != nil {
		size = ext.Size
	}
	em.gauge(famSizeLimit, float64(size))

	if tlsMode {
		em.gauge(famTLSEstablished, bool01(res.TLS != nil))
	}
	if f := res.TLSFailure; f != nil && (f.Stage == smtp.TLSRefused || f.Stage == smtp.TLSHandshake) {
		em.gauge(famTLSFailure, 1, string(f.Stage))
	}
	if t := res.TLS; t != nil {
		if !t.ChainNotAfter.IsZero() {
			em.gauge(famTLSCertExpiry, unixSeconds(t.ChainNotAfter))
		}
		em.gauge(famTLSCertVerified, bool01(t.Verified))
		if t.Version != "" && t.CipherSuite != "" {
			em.gauge(famTLSInfo, 1, clean(t.CipherSuite), clean(t.Version))
		}
	}
}

// findRecipient returns the result's RCPT of the configured address, or nil.
func findRecipient(res *smtp.Result, addr string) *smtp.Recipient {
	for i := range res.Recipients {
		if res.Recipients[i].Address == addr {
			return &res.Recipients[i]
		}
	}
	return nil
}

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixMilli()) / 1e3 // milliseconds, as Prometheus keeps them
}

// clean makes a label value valid UTF-8, which the exposition requires.
func clean(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// validEnhanced checks an RFC 3463 code, class "." subject "." detail, before
// it becomes a label value: the parser validates it, this keeps a server
// from ever growing the label set by other means.
func validEnhanced(s string) bool {
	if len(s) < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.' {
		return false
	}
	parts := 0
	digits := 0
	for i := 2; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
			if digits > 3 {
				return false
			}
		case c == '.' && digits > 0 && parts == 0:
			parts, digits = 1, 0
		default:
			return false
		}
	}
	return parts == 1 && digits > 0
}
