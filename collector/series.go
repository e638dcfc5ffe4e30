package collector

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"

	"github.com/mx-exporter/mx_exporter/collector/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/smtp"
	"github.com/mx-exporter/mx_exporter/collector/store"
)

// entrySeries are the prebuilt series of one store entry. They are built
// once per report and never modified, so concurrent scrapes share them.
type entrySeries struct {
	entry *store.Entry
	// series are sorted by family, then by label values in label-name
	// order (the registry's order); fams[f] is family f's range.
	series []series
	fams   [numFams]span
	// text holds each family's series in the Prometheus text format, as
	// expfmt writes them: what Exporter.Handler serves.
	text [numFams][]byte
	// runs splits the series of each family with a label sorting before
	// "domain" into runs of equal leading label values, so that a scrape
	// can order them across entries without sorting.
	runs      [numPrefixed][]run
	endpoints int

	// metrics are the series as *dto.Metric, for the registry and
	// Gatherer paths; made on first use only, as the text path needs none.
	metricsOnce sync.Once
	metrics     []*dto.Metric
}

// series is one gauge series: its label pairs are sorted by name and shared
// (nothing downstream modifies a pair or a label slice).
type series struct {
	f      fam
	v      float64
	labels []*dto.LabelPair
}

type span struct{ lo, hi int32 }

// run is a stretch of one entry's series sharing the leading label values.
type run struct {
	key  string // the leading label values, NUL-separated (tuple order)
	span span   // in entrySeries.series
	text []byte
}

// family returns family f's series of the entry as metrics.
func (es *entrySeries) family(f fam) []*dto.Metric {
	return es.dto()[es.fams[f].lo:es.fams[f].hi]
}

// runMetrics returns the metrics of a run.
func (es *entrySeries) runMetrics(r *run) []*dto.Metric {
	return es.dto()[r.span.lo:r.span.hi]
}

// count is the number of series of family f.
func (es *entrySeries) count(f fam) int { return int(es.fams[f].hi - es.fams[f].lo) }

// dto makes the metrics once.
func (es *entrySeries) dto() []*dto.Metric {
	es.metricsOnce.Do(func() {
		cells := make([]cell, len(es.series))
		es.metrics = make([]*dto.Metric, len(es.series))
		for i, s := range es.series {
			c := &cells[i]
			c.v = s.v
			c.g.Value = &c.v
			c.m.Gauge = &c.g
			c.m.Label = s.labels
			es.metrics[i] = &c.m
		}
	})
	return es.metrics
}

// numPrefixed is how many families have labels sorting before "domain":
// mx_smtp_reply_code, mx_smtp_enhanced_status_info, mx_tls_info.
const numPrefixed = 3

var prefixSlot [numFams]int8

func init() {
	n := 0
	for f := range numFams {
		prefixSlot[f] = -1
		if families[f].prefix > 0 {
			if n == numPrefixed {
				panic("collector: raise numPrefixed")
			}
			prefixSlot[f] = int8(n)
			n++
		}
	}
}

// Steps in dialogue order, indexed by step kind.
var stepNames = [...]string{
	smtp.StepConnect, smtp.StepBanner, smtp.StepEHLO, smtp.StepHELO,
	smtp.StepStartTLS, smtp.StepTLSHandshake, smtp.StepEHLOTLS,
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
	kMail
	kRcpt
	kRelay
	kVRFY
	kRSET
	kQuit
	numSteps
)

var (
	stepPairs    [numSteps]*dto.LabelPair
	commandPairs [numSteps]*dto.LabelPair
	stepKinds    = make(map[string]int, numSteps)

	reasonPairs  = pairs(labelReason, smtp.Reasons...)
	outcomePairs = pairs(labelOutcome,
		dnsmx.OutcomeAnswer, dnsmx.OutcomeNXDomain, dnsmx.OutcomeNoData, dnsmx.OutcomeServFail,
		dnsmx.OutcomeRefused, dnsmx.OutcomeTimeout, dnsmx.OutcomeError)

	extensionPairs []*dto.LabelPair // one per smtp.KnownExtensions
	tlsFalse       = lp(labelTLS, "false")
	tlsTrue        = lp(labelTLS, "true")
)

func init() {
	for k, name := range stepNames {
		stepPairs[k] = lp(labelStep, name)
		commandPairs[k] = lp(labelCommand, name)
		stepKinds[name] = k
	}
	for _, x := range smtp.KnownExtensions {
		extensionPairs = append(extensionPairs, lp(labelExtension, x))
	}
}

// cell holds one gauge metric; cells are allocated in slabs.
type cell struct {
	m dto.Metric
	g dto.Gauge
	v float64
}

// builder collects the series of one entry.
type builder struct {
	series []series
	labels []*dto.LabelPair
}

func (b *builder) add(f fam, v float64, labels ...*dto.LabelPair) {
	n := len(labels)
	if len(b.labels)+n > cap(b.labels) {
		b.labels = make([]*dto.LabelPair, 0, max(256, n))
	}
	start := len(b.labels)
	b.labels = append(b.labels, labels...)
	ls := b.labels[start : start+n : start+n] // full slice: an append elsewhere copies
	// Insertion sort by name: callers need not care about the order.
	for i := 1; i < n; i++ {
		for j := i; j > 0 && ls[j].GetName() < ls[j-1].GetName(); j-- {
			ls[j], ls[j-1] = ls[j-1], ls[j]
		}
	}
	b.series = append(b.series, series{f: f, v: v, labels: ls})
}

// compareLabels orders series as the registry does: by label values, in
// label-name order.
func compareLabels(a, b []*dto.LabelPair) int {
	if c := cmp.Compare(len(a), len(b)); c != 0 {
		return c
	}
	for i, l := range a {
		if c := strings.Compare(l.GetValue(), b[i].GetValue()); c != 0 {
			return c
		}
	}
	return 0
}

// finish sorts the series, cuts them into families and runs, and encodes
// their text.
func (b *builder) finish(es *entrySeries) {
	ss := b.series
	slices.SortFunc(ss, func(x, y series) int {
		if c := cmp.Compare(x.f, y.f); c != 0 {
			return c
		}
		return compareLabels(x.labels, y.labels)
	})
	if cap(ss)-len(ss) > 16 {
		ss = slices.Clone(ss) // the estimate was high: keep no slack in the cache
	}
	es.series = ss

	// Encode into a scratch buffer, then keep an exact copy: the cache
	// holds the text of every report.
	sp := scratchPool.Get().(*[]byte)
	defer scratchPool.Put(sp)
	text := (*sp)[:0]
	var textSpans [numFams]span
	var runTextSpans [numPrefixed][]span
	for i := 0; i < len(ss); {
		f := ss[i].f
		j := i + 1
		for j < len(ss) && ss[j].f == f {
			j++
		}
		es.fams[f] = span{int32(i), int32(j)}
		start := len(text)
		name := families[f].name
		if slot := prefixSlot[f]; slot >= 0 {
			es.runs[slot] = splitRuns(ss, i, j, families[f].prefix)
			runTextSpans[slot] = make([]span, len(es.runs[slot]))
			for k, r := range es.runs[slot] {
				rs := len(text)
				for _, s := range ss[r.span.lo:r.span.hi] {
					text = appendText(text, name, s.labels, s.v)
				}
				runTextSpans[slot][k] = span{int32(rs), int32(len(text))}
			}
		} else {
			for _, s := range ss[i:j] {
				text = appendText(text, name, s.labels, s.v)
			}
		}
		textSpans[f] = span{int32(start), int32(len(text))}
		i = j
	}
	*sp = text
	kept := slices.Clone(text)
	for f, ts := range textSpans {
		if ts.hi > ts.lo {
			es.text[f] = kept[ts.lo:ts.hi:ts.hi]
		}
	}
	for slot, spans := range runTextSpans {
		for k, ts := range spans {
			es.runs[slot][k].text = kept[ts.lo:ts.hi:ts.hi]
		}
	}
}

var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// splitRuns cuts ss[lo:hi] into runs of equal leading label values.
func splitRuns(ss []series, lo, hi, prefix int) []run {
	var runs []run
	for i := lo; i < hi; {
		j := i + 1
		for j < hi && samePrefix(ss[i].labels, ss[j].labels, prefix) {
			j++
		}
		key := ss[i].labels[0].GetValue()
		for _, l := range ss[i].labels[1:prefix] {
			key += "\x00" + l.GetValue()
		}
		runs = append(runs, run{key: key, span: span{int32(i), int32(j)}})
		i = j
	}
	return runs
}

func samePrefix(a, b []*dto.LabelPair, prefix int) bool {
	for i := range prefix {
		if a[i].GetValue() != b[i].GetValue() {
			return false
		}
	}
	return true
}

// buildEntry makes the series of es.entry.
func buildEntry(es *entrySeries) {
	e := es.entry
	r := e.Report
	set := &e.Settings.SMTP

	endpoints := 0
	for _, h := range r.Hosts {
		endpoints += len(h.Results)
	}
	// Series per endpoint: about 26 + the extensions (twice with TLS) + 2
	// per recipient; each has 4 labels but for the extensions' 5.
	perEndpoint := 26 + len(smtp.KnownExtensions) + 2*len(set.Recipients)
	b := &builder{
		series: make([]series, 0, 12+2*len(r.Hosts)+endpoints*perEndpoint),
		labels: make([]*dto.LabelPair, 0, 16+3*len(r.Hosts)+endpoints*(perEndpoint*4+16)),
	}

	domain := lp(labelDomain, clean(e.Target))
	b.add(famTargetSuccess, bool01(r.Success()), domain)
	b.add(famTargetDuration, r.Duration.Seconds(), domain)
	taken := e.Taken
	if taken.IsZero() {
		taken = r.Start.Add(r.Duration)
	}
	b.add(famTargetLastRun, unixSeconds(taken), domain)

	if d := r.DNS; d != nil {
		ok := d.NullMX || d.Outcome == dnsmx.OutcomeAnswer || d.Outcome == dnsmx.OutcomeNoData && d.Implicit
		b.add(famDNSSuccess, bool01(ok), domain)
		b.add(famDNSDuration, d.Duration.Seconds(), domain)
		outcome := outcomePairs[d.Outcome]
		if outcome == nil {
			outcome = outcomePairs[dnsmx.OutcomeError]
		}
		b.add(famDNSOutcome, 1, domain, outcome)
		records := 0
		if !d.NullMX && !d.Implicit {
			records = len(d.Hosts) + d.HostsDropped
		}
		b.add(famRecords, float64(records), domain)
		b.add(famNullMX, bool01(d.NullMX), domain)
		b.add(famImplicitMX, bool01(d.Implicit), domain)
	}

	var recipients []*dto.LabelPair // configured recipients, deduplicated
	for i, rc := range set.Recipients {
		if !slices.Contains(set.Recipients[:i], rc) {
			recipients = append(recipients, lp(labelRecipient, clean(rc)))
		}
	}

	type endpointKey struct{ mx, ip string }
	seen := make(map[endpointKey]bool, endpoints+len(r.Hosts))
	for _, h := range r.Hosts {
		name := clean(strings.TrimSuffix(strings.ToLower(h.Name), "."))
		if name == "" || seen[endpointKey{mx: name}] {
			continue // a host listed twice would make duplicate series
		}
		seen[endpointKey{mx: name}] = true
		mx := lp(labelMX, name)
		if r.DNS != nil {
			b.add(famRecordInfo, 1, domain, mx, lp(labelPreference, strconv.Itoa(int(h.Preference))))
		}
		b.add(famHostAddresses, float64(len(h.Addrs)), domain, mx)
		for j, res := range h.Results {
			if res == nil {
				continue
			}
			ip := res.Addr
			if ip == "" && j < len(h.Addrs) {
				ip = h.Addrs[j].String()
			}
			k := endpointKey{name, ip}
			if ip == "" || seen[k] {
				continue
			}
			seen[k] = true
			es.endpoints++
			b.endpoint(set, recipients, taken, res, domain, mx, lp(labelIP, clean(ip)))
		}
	}
	b.finish(es)
}

// endpoint adds the series of one dialogue.
func (b *builder) endpoint(set *smtp.Options, recipients []*dto.LabelPair, taken time.Time, res *smtp.Result, domain, mx, ip *dto.LabelPair) {
	b.add(famProbeSuccess, bool01(res.Success), domain, ip, mx)
	b.add(famProbeDuration, res.Duration.Seconds(), domain, ip, mx)
	last := taken
	if !res.Start.IsZero() {
		last = res.Start.Add(res.Duration)
	}
	b.add(famProbeLastRun, unixSeconds(last), domain, ip, mx)
	if !res.Success {
		if reason := reasonPairs[res.Reason]; reason != nil {
			b.add(famProbeFailure, 1, domain, ip, mx, reason)
		}
	}

	var steps [numSteps]*smtp.Step // the first step of each kind
	for i := range res.Steps {
		if k, ok := stepKinds[res.Steps[i].Name]; ok && steps[k] == nil {
			steps[k] = &res.Steps[i]
		}
	}
	tlsMode := set.StartTLS != smtp.StartTLSOff
	for k := range numSteps {
		switch k {
		case kHELO:
			if steps[k] == nil {
				continue
			}
		case kStartTLS, kTLSHandshake, kEHLOTLS:
			if !tlsMode {
				continue
			}
		case kRcpt:
			if len(set.Recipients) == 0 {
				continue
			}
		case kRelay:
			if set.RelayCheck == "" {
				continue
			}
		case kVRFY:
			if set.VRFY == "" {
				continue
			}
		}
		var dur float64
		var reply smtp.Reply
		if s := steps[k]; s != nil {
			dur = s.Duration.Seconds()
			reply = s.Reply
		}
		b.add(famStepDuration, dur, domain, ip, mx, stepPairs[k])
		switch k {
		case kConnect, kTLSHandshake:
			continue // no reply
		case kBanner:
			if steps[k] == nil {
				reply = res.Banner
			}
		case kRcpt:
			if rc := findRecipient(res, set.Recipients[0]); rc != nil {
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
		b.add(famReplyCode, float64(reply.Code), commandPairs[k], domain, ip, mx)
		if validEnhanced(reply.Enhanced) {
			b.add(famEnhancedStatus, 1, lp(labelCode, reply.Enhanced), commandPairs[k], domain, ip, mx)
		}
	}

	for _, rcpt := range recipients {
		var accepted bool
		var code int
		if rc := findRecipient(res, rcpt.GetValue()); rc != nil {
			accepted, code = rc.Accepted, rc.Reply.Code
		}
		b.add(famRecipientAccepted, bool01(accepted), domain, ip, mx, rcpt)
		b.add(famRecipientReplyCode, float64(code), domain, ip, mx, rcpt)
	}

	if set.RelayCheck != "" {
		var open, conclusive bool
		if res.Relay != nil {
			open = res.Relay.Verdict == smtp.RelayOpen
			conclusive = open || res.Relay.Verdict == smtp.RelayRefused
		}
		b.add(famOpenRelay, bool01(open), domain, ip, mx)
		b.add(famRelayConclusive, bool01(conclusive), domain, ip, mx)
	}

	if validHostname(res.BannerHostname) {
		b.add(famBannerInfo, 1, domain, lp(labelHostname, res.BannerHostname), ip, mx)
	}

	for i, x := range smtp.KnownExtensions {
		b.add(famExtension, bool01(res.Extensions.Has(x)), domain, extensionPairs[i], ip, mx, tlsFalse)
	}
	if res.TLS != nil {
		for i, x := range smtp.KnownExtensions {
			b.add(famExtension, bool01(res.ExtensionsTLS.Has(x)), domain, extensionPairs[i], ip, mx, tlsTrue)
		}
	}
	var size int64
	switch {
	case res.ExtensionsTLS != nil && res.ExtensionsTLS.SizeAdvertised:
		size = res.ExtensionsTLS.Size
	case res.Extensions != nil && res.Extensions.SizeAdvertised:
		size = res.Extensions.Size
	}
	b.add(famSizeLimit, float64(size), domain, ip, mx)

	if tlsMode {
		b.add(famTLSEstablished, bool01(res.TLS != nil), domain, ip, mx)
	}
	if t := res.TLS; t != nil {
		if !t.ChainNotAfter.IsZero() {
			b.add(famTLSCertExpiry, unixSeconds(t.ChainNotAfter), domain, ip, mx)
		}
		b.add(famTLSCertVerified, bool01(t.Verified), domain, ip, mx)
		if t.Version != "" && t.CipherSuite != "" {
			b.add(famTLSInfo, 1, lp(labelCipher, clean(t.CipherSuite)), domain, ip, mx, lp(labelVersion, clean(t.Version)))
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

// validHostname re-checks the banner host name before it becomes a label:
// letters, digits, '-', '_' and '.', at most 253 bytes.
func validHostname(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}
