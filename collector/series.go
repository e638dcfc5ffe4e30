package collector

import (
	"cmp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"weak"

	dto "github.com/prometheus/client_model/go"

	"github.com/mx-exporter/mx_exporter/collector/dnsname"
	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/store"
)

// entrySeries are the series of one store entry in compact form: built once
// per report, never modified, shared by concurrent scrapes.
//
// A series line is
//
//	name{PRE domain="…"MID SUBJECT POST} value
//
// where the domain fragment and the subjects (`,mx="…"` of an MX host,
// `,ip="…",mx="…"` of an endpoint) are encoded once per entry in text, and
// PRE, MID and POST (the other labels) come from a label set: a static one
// (step, command, extension, reason, outcome), or one of the entry's own,
// interned (enhanced status code, recipient, TLS cipher and version, banner
// host name, preference). A series is thus 16 bytes without pointers; its
// text is assembled at scrape time, and its *dto.Metric only when a
// registry or Gatherer asks (see dtoMetrics).
type entrySeries struct {
	entry  weak.Pointer[store.Entry] // built from; not kept alive
	target string
	// text is the domain fragment `domain="…"`, then every subject, label
	// values escaped as in the exposition.
	text string
	// subj[i]:subj[i+1] is subject i in text; subject 0 is empty (the
	// series of the domain) and subj[0] is where the domain fragment ends.
	subj []uint32
	// recs are sorted by family, then as the registry orders a family's
	// series: by label values in label-name order.
	recs []rec
	off  [numFams + 1]int32 // family f is recs[off[f]:off[f+1]]
	// dyn are the entry's label sets beyond the static ones: label set
	// numStatic+i is dyn[i]. Interned (see internSet): entries share them.
	dyn       []*labelSet
	endpoints int
}

// rec is one series: its value, subject and label set.
type rec struct {
	v    float64
	subj uint32
	ls   uint32
}

// labelSet is the labels of a series other than domain and the subject,
// encoded: pre is `a="x",` for each label sorting before domain, mid is
// `,e="x"` for a label between domain and the subject, post is `,p="x"` for
// each label after the subject.
type labelSet struct{ pre, mid, post string }

// pre returns the pre part of label set i.
func (es *entrySeries) pre(i uint32) string {
	if i < numStatic {
		return staticSets[i].pre
	}
	return es.dyn[i-numStatic].pre
}

// count is the number of series of family f.
func (es *entrySeries) count(f fam) int { return int(es.off[f+1] - es.off[f]) }

// domain returns the encoded domain fragment.
func (es *entrySeries) domain() string { return es.text[:es.subj[0]] }

// subject returns the encoded subject i.
func (es *entrySeries) subject(i uint32) string { return es.text[es.subj[i]:es.subj[i+1]] }

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

// The static label sets, made at init; label set 0 is the empty one.
var (
	staticSets  []labelSet
	staticRanks [][3]uint32 // see builder.keys
	staticPairs [][3][]*dto.LabelPair

	stepsByName [numSteps]int // step kinds in name order
	stepSet     [numSteps]uint32
	commandSet  [numSteps]uint32
	stepKinds   = make(map[string]int, numSteps)
	extSet      [][2]uint32 // per smtp.KnownExtensions: tls="false", tls="true"
	reasonSet   = map[smtp.Reason]uint32{}
	outcomeSet  = map[dnsmx.Outcome]uint32{}
	findingSet  = map[smtp.Finding]uint32{}         // mid finding=…, of an endpoint
	hostFindSet = map[string]uint32{}               // mid finding=…, of an MX host
	dnsFindSet  = map[string]uint32{}               // post finding=…, of the domain
	tlsStageSet = map[smtp.TLSFailureStage]uint32{} // post stage=…
)

// The findings of a domain's MX records and of an MX host: label values of
// mx_dns_finding_info and mx_host_finding_info, derived from dnsmx facts.
const (
	dnsFindingNullMXMixed   = "null_mx_mixed"
	hostFindingCNAME        = "mx_cname"
	hostFindingIPLiteral    = "mx_ip_literal"
	hostFindingSpecialAddrs = "special_address"
)

// DNSFindings and HostFindings list the label values, for documentation.
var (
	DNSFindings  = []string{dnsFindingNullMXMixed}
	HostFindings = []string{hostFindingCNAME, hostFindingIPLiteral, hostFindingSpecialAddrs}
)

// numStatic is len(staticSets); label sets from numStatic on are an entry's.
var numStatic uint32

func init() {
	raw := [][3]string{{}}
	staticSets = []labelSet{{}}
	add := func(ls labelSet, pre, mid, post string) uint32 {
		staticSets = append(staticSets, ls)
		raw = append(raw, [3]string{pre, mid, post})
		return uint32(len(staticSets) - 1)
	}
	for k := range stepsByName {
		stepsByName[k] = k
	}
	slices.SortFunc(stepsByName[:], func(a, b int) int { return strings.Compare(stepNames[a], stepNames[b]) })
	for k, name := range stepNames {
		stepKinds[name] = k
		stepSet[k] = add(labelSet{post: fragment(",", labelStep, name, "")}, "", "", name)
		commandSet[k] = add(labelSet{pre: fragment("", labelCommand, name, ",")}, name, "", "")
	}
	for _, x := range smtp.KnownExtensions {
		mid := fragment(",", labelExtension, x, "")
		extSet = append(extSet, [2]uint32{
			add(labelSet{mid: mid, post: fragment(",", labelTLS, "false", "")}, "", x, "false"),
			add(labelSet{mid: mid, post: fragment(",", labelTLS, "true", "")}, "", x, "true"),
		})
	}
	for _, r := range smtp.Reasons {
		reasonSet[r] = add(labelSet{post: fragment(",", labelReason, string(r), "")}, "", "", string(r))
	}
	for _, o := range []dnsmx.Outcome{dnsmx.OutcomeAnswer, dnsmx.OutcomeNXDomain, dnsmx.OutcomeNoData,
		dnsmx.OutcomeServFail, dnsmx.OutcomeRefused, dnsmx.OutcomeTimeout, dnsmx.OutcomeError} {
		outcomeSet[o] = add(labelSet{post: fragment(",", labelOutcome, string(o), "")}, "", "", string(o))
	}
	for _, f := range smtp.Findings {
		findingSet[f] = add(labelSet{mid: fragment(",", labelFinding, string(f), "")}, "", string(f), "")
	}
	for _, f := range HostFindings {
		hostFindSet[f] = add(labelSet{mid: fragment(",", labelFinding, f, "")}, "", f, "")
	}
	for _, f := range DNSFindings {
		dnsFindSet[f] = add(labelSet{post: fragment(",", labelFinding, f, "")}, "", "", f)
	}
	for _, st := range []smtp.TLSFailureStage{smtp.TLSRefused, smtp.TLSHandshake} {
		tlsStageSet[st] = add(labelSet{post: fragment(",", labelStage, string(st), "")}, "", "", string(st))
	}
	numStatic = uint32(len(staticSets))

	// Ranks: the order of each part's label value among all static sets
	// (equal values, equal rank).
	staticRanks = make([][3]uint32, numStatic)
	for part := range 3 {
		idx := make([]int, numStatic)
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int { return strings.Compare(raw[a][part], raw[b][part]) })
		var r uint32
		for n, i := range idx {
			if n > 0 && raw[i][part] != raw[idx[n-1]][part] {
				r++
			}
			staticRanks[i][part] = r
		}
	}
	staticPairs = make([][3][]*dto.LabelPair, numStatic)
	for i, ls := range staticSets {
		staticPairs[i] = ls.pairs()
	}
}

// fragment encodes one label: before name="value" after.
func fragment(before, name, value, after string) string {
	b := make([]byte, 0, len(before)+len(name)+len(value)+len(after)+3)
	return string(appendFragment(b, before, name, value, after))
}

func appendFragment(b []byte, before, name, value, after string) []byte {
	b = append(b, before...)
	b = append(b, name...)
	b = append(b, '=', '"')
	b = appendEscaped(b, value)
	b = append(b, '"')
	return append(b, after...)
}

// pairs decodes the label set's parts.
func (ls labelSet) pairs() [3][]*dto.LabelPair {
	return [3][]*dto.LabelPair{parsePairs(ls.pre, nil), parsePairs(ls.mid, nil), parsePairs(ls.post, nil)}
}

// The kinds of label set an entry makes for itself, with values a and b.
const (
	dynEnhanced   = iota // pre code=a, command=b
	dynTLS               // pre cipher=a, post version=b
	dynRecipient         // post recipient=a
	dynHostname          // mid hostname=a
	dynPreference        // post preference=a
)

type dynKey struct {
	kind uint8
	a, b string
}

// labelSet encodes the set.
func (k dynKey) labelSet() labelSet {
	switch k.kind {
	case dynEnhanced:
		return labelSet{pre: fragment("", labelCode, k.a, ",") + fragment("", labelCommand, k.b, ",")}
	case dynTLS:
		return labelSet{pre: fragment("", labelCipher, k.a, ","), post: fragment(",", labelVersion, k.b, "")}
	case dynRecipient:
		return labelSet{post: fragment(",", labelRecipient, k.a, "")}
	case dynHostname:
		return labelSet{mid: fragment(",", labelHostname, k.a, "")}
	case dynPreference:
		return labelSet{post: fragment(",", labelPreference, k.a, "")}
	}
	panic("collector: unknown label set kind")
}

// part returns the raw values of part 0 (pre), 1 (mid) or 2 (post).
func (k dynKey) part(p int) [2]string {
	switch {
	case k.kind == dynEnhanced && p == 0:
		return [2]string{k.a, k.b}
	case k.kind == dynTLS && p == 0:
		return [2]string{k.a}
	case k.kind == dynTLS && p == 2:
		return [2]string{k.b}
	case k.kind == dynRecipient && p == 2, k.kind == dynHostname && p == 1, k.kind == dynPreference && p == 2:
		return [2]string{k.a}
	}
	return [2]string{}
}

// internSet returns the label set of k, shared by every entry that has it
// while one does (the table holds it weakly): most builds make no new set,
// and allocate nothing for them.
func internSet(k dynKey) *labelSet {
	interned.RLock()
	ls := interned.m[k].Value()
	interned.RUnlock()
	if ls != nil {
		return ls
	}
	interned.Lock()
	defer interned.Unlock()
	if ls := interned.m[k].Value(); ls != nil {
		return ls
	}
	ls = new(labelSet)
	*ls = k.labelSet()
	k.a, k.b = strings.Clone(k.a), strings.Clone(k.b) // not the report's memory
	w := weak.Make(ls)
	interned.m[k] = w
	runtime.AddCleanup(ls, func(k dynKey) {
		interned.Lock()
		if interned.m[k] == w {
			delete(interned.m, k)
		}
		interned.Unlock()
	}, k)
	return ls
}

var interned = struct {
	sync.RWMutex
	m map[dynKey]weak.Pointer[labelSet]
}{m: map[dynKey]weak.Pointer[labelSet]{}}

// builder collects the series of one entry. Builders are pooled: a build
// allocates little besides what the cache keeps.
type builder struct {
	tmp     []tmpRec
	sorted  []tmpRec
	text    []byte
	subjOff []uint32
	subjRaw [][2]string // raw subject values in label order: {mx} or {ip, mx}
	dyn     []dynKey
	dynIdx  map[dynKey]uint32
	ranks   [][3]uint32
	subjRk  []uint32
	idx     []int
	rcpts   []recipient
	eps     []pendingEndpoint
	seen    map[endpointKey]bool
}

type tmpRec struct {
	k1, k2 uint64 // sort keys: family, pre, mid; subject, post
	v      float64
	subj   uint32
	ls     uint32
	f      fam
}

type recipient struct {
	addr string
	ls   uint32
}

type endpointKey struct{ mx, ip string }

type pendingEndpoint struct {
	ip, mx string
	res    *smtp.Result
}

var builderPool = sync.Pool{New: func() any {
	return &builder{dynIdx: map[dynKey]uint32{}, seen: map[endpointKey]bool{}}
}}

func (b *builder) reset() {
	b.tmp, b.text, b.subjOff, b.subjRaw = b.tmp[:0], b.text[:0], b.subjOff[:0], b.subjRaw[:0]
	clear(b.subjRaw[:cap(b.subjRaw)]) // drop references to old reports
	b.dyn = b.dyn[:0]
	clear(b.dyn[:cap(b.dyn)])
	clear(b.dynIdx)
	clear(b.seen)
	b.rcpts = b.rcpts[:0]
	clear(b.rcpts[:cap(b.rcpts)])
	b.eps = b.eps[:0]
	clear(b.eps[:cap(b.eps)])
}

func (b *builder) add(f fam, v float64, subj, ls uint32) {
	b.tmp = append(b.tmp, tmpRec{v: v, subj: subj, ls: ls, f: f})
}

// labelSet returns the index of the entry's label set of kind k.
func (b *builder) labelSet(k dynKey) uint32 {
	if i, ok := b.dynIdx[k]; ok {
		return i
	}
	i := numStatic + uint32(len(b.dyn))
	b.dyn = append(b.dyn, k)
	b.dynIdx[k] = i
	return i
}

// subject adds a subject; ip is empty for an MX host.
func (b *builder) subject(ip, mx string) uint32 {
	b.text = append(b.text, ',')
	if ip != "" {
		b.text = appendFragment(b.text, "", labelIP, ip, ",")
		b.subjRaw = append(b.subjRaw, [2]string{ip, mx})
	} else {
		b.subjRaw = append(b.subjRaw, [2]string{mx})
	}
	b.text = appendFragment(b.text, "", labelMX, mx, "")
	b.subjOff = append(b.subjOff, uint32(len(b.text)))
	return uint32(len(b.subjOff) - 2)
}

// finish sorts the series as the registry would and stores them in es.
func (b *builder) finish(es *entrySeries) {
	// Rank the subjects and the entry's label sets by raw values, so that
	// a series sorts by integer keys.
	n := len(b.subjRaw)
	b.subjRk = slices.Grow(b.subjRk[:0], n+1)[:n+1]
	b.idx = b.idx[:0]
	for i := range n {
		b.idx = append(b.idx, i)
	}
	slices.SortFunc(b.idx, func(x, y int) int { return compareRaw(b.subjRaw[x], b.subjRaw[y]) })
	b.subjRk[0] = 0
	for r, i := range b.idx {
		b.subjRk[i+1] = uint32(r + 1)
	}
	b.ranks = slices.Grow(b.ranks[:0], len(b.dyn))[:len(b.dyn)]
	for part := range 3 {
		b.idx = b.idx[:0]
		for i := range b.dyn {
			b.idx = append(b.idx, i)
		}
		slices.SortFunc(b.idx, func(x, y int) int { return compareRaw(b.dyn[x].part(part), b.dyn[y].part(part)) })
		var r uint32
		for n, i := range b.idx {
			if n > 0 && b.dyn[i].part(part) != b.dyn[b.idx[n-1]].part(part) {
				r++
			}
			b.ranks[i][part] = r
		}
	}
	for i := range b.tmp {
		t := &b.tmp[i]
		var rk [3]uint32
		if t.ls < numStatic {
			rk = staticRanks[t.ls]
		} else {
			rk = b.ranks[t.ls-numStatic]
		}
		t.k1 = uint64(t.f)<<56 | uint64(rk[0])<<28 | uint64(rk[1])
		t.k2 = uint64(b.subjRk[t.subj])<<32 | uint64(rk[2])
	}
	// Place the series by family (a stable counting sort), then order each
	// family's series.
	var off [numFams + 1]int32
	for _, t := range b.tmp {
		off[t.f+1]++
	}
	for f := range numFams {
		off[f+1] += off[f]
	}
	es.off = off
	b.sorted = slices.Grow(b.sorted[:0], len(b.tmp))[:len(b.tmp)]
	for _, t := range b.tmp {
		b.sorted[off[t.f]] = t
		off[t.f]++
	}
	for f := range numFams {
		slices.SortStableFunc(b.sorted[es.off[f]:es.off[f+1]], compareKeys)
	}
	es.recs = make([]rec, len(b.sorted))
	for i, t := range b.sorted {
		es.recs[i] = rec{v: t.v, subj: t.subj, ls: t.ls}
	}
	es.text = string(b.text)
	es.subj = slices.Clone(b.subjOff)
	if len(b.dyn) > 0 {
		es.dyn = make([]*labelSet, len(b.dyn))
		for i, k := range b.dyn {
			es.dyn[i] = internSet(k)
		}
	}
}

func compareKeys(x, y tmpRec) int {
	if c := cmp.Compare(x.k1, y.k1); c != 0 {
		return c
	}
	return cmp.Compare(x.k2, y.k2)
}

// compareRaw orders tuples of label values (of the same labels).
func compareRaw(a, b [2]string) int {
	if c := strings.Compare(a[0], b[0]); c != 0 {
		return c
	}
	return strings.Compare(a[1], b[1])
}

// buildEntry makes the series of e.
func buildEntry(es *entrySeries, e *store.Entry) {
	b := builderPool.Get().(*builder)
	defer func() {
		b.reset()
		builderPool.Put(b)
	}()
	r := e.Report
	asked := &r.Asked

	// The domain fragment and the empty subject 0.
	b.text = appendFragment(b.text, "", labelDomain, clean(e.Target), "")
	b.subjOff = append(b.subjOff, uint32(len(b.text)), uint32(len(b.text)))

	b.add(famTargetSuccess, bool01(r.Success()), 0, 0)
	b.add(famTargetDuration, r.Duration.Seconds(), 0, 0)
	taken := e.Taken
	if taken.IsZero() {
		taken = r.Start.Add(r.Duration)
	}
	b.add(famTargetLastRun, unixSeconds(taken), 0, 0)
	if e.Interval > 0 { // probes of /probe have none
		b.add(famTargetInterval, e.Interval.Seconds(), 0, 0)
	}

	if d := r.DNS; d != nil {
		ok := d.NullMX || d.Outcome == dnsmx.OutcomeAnswer || d.Outcome == dnsmx.OutcomeNoData && d.Implicit
		b.add(famDNSSuccess, bool01(ok), 0, 0)
		b.add(famDNSDuration, d.Duration.Seconds(), 0, 0)
		outcome, ok := outcomeSet[d.Outcome]
		if !ok {
			outcome = outcomeSet[dnsmx.OutcomeError]
		}
		b.add(famDNSOutcome, 1, 0, outcome)
		records := 0
		if !d.NullMX && !d.Implicit {
			records = len(d.Hosts) + d.HostsDropped
		}
		b.add(famRecords, float64(records), 0, 0)
		b.add(famNullMX, bool01(d.NullMX), 0, 0)
		b.add(famImplicitMX, bool01(d.Implicit), 0, 0)
		if d.NullMXMixed {
			b.add(famDNSFinding, 1, 0, dnsFindSet[dnsFindingNullMXMixed])
		}
	}

	for i, rc := range asked.Recipients { // configured recipients, deduplicated
		if !slices.Contains(asked.Recipients[:i], rc) {
			b.rcpts = append(b.rcpts, recipient{rc, b.labelSet(dynKey{kind: dynRecipient, a: clean(rc)})})
		}
	}

	for _, h := range r.Hosts {
		name := clean(strings.TrimSuffix(strings.ToLower(h.Name), "."))
		if name == "" || b.seen[endpointKey{mx: name}] {
			continue // a host listed twice would make duplicate series
		}
		b.seen[endpointKey{mx: name}] = true
		hs := b.subject("", name)
		// An implicit MX is no MX record: mx_records says 0, and so must
		// mx_record_info.
		if r.DNS != nil && !r.DNS.Implicit {
			b.add(famRecordInfo, 1, hs, b.labelSet(dynKey{kind: dynPreference, a: strconv.Itoa(int(h.Preference))}))
		}
		b.add(famHostAddresses, float64(len(h.Addrs)), hs, 0)
		if h.CNAME != "" {
			b.add(famHostFinding, 1, hs, hostFindSet[hostFindingCNAME])
		}
		if h.IPLiteral {
			b.add(famHostFinding, 1, hs, hostFindSet[hostFindingIPLiteral])
		}
		if len(h.Special) > 0 {
			b.add(famHostFinding, 1, hs, hostFindSet[hostFindingSpecialAddrs])
		}
		for j, res := range h.Results {
			if res == nil {
				continue
			}
			ip := res.Addr
			if ip == "" && j < len(h.Addrs) {
				ip = h.Addrs[j].String()
			}
			k := endpointKey{name, ip}
			if ip == "" || b.seen[k] {
				continue
			}
			b.seen[k] = true
			b.eps = append(b.eps, pendingEndpoint{clean(ip), name, res})
		}
	}
	// In label order, most families need no sort in finish.
	slices.SortFunc(b.eps, func(x, y pendingEndpoint) int {
		return compareRaw([2]string{x.ip, x.mx}, [2]string{y.ip, y.mx})
	})
	for _, ep := range b.eps {
		es.endpoints++
		b.endpoint(asked, taken, ep.res, b.subject(ep.ip, ep.mx))
	}
	b.finish(es)
}

// endpoint adds the series of one dialogue.
func (b *builder) endpoint(asked *probe.Asked, taken time.Time, res *smtp.Result, ep uint32) {
	b.add(famProbeSuccess, bool01(res.Success), ep, 0)
	b.add(famProbeDuration, res.Duration.Seconds(), ep, 0)
	last := taken
	if !res.Start.IsZero() {
		last = res.Start.Add(res.Duration)
	}
	b.add(famProbeLastRun, unixSeconds(last), ep, 0)
	if !res.Success {
		if reason, ok := reasonSet[res.Reason]; ok {
			b.add(famProbeFailure, 1, ep, reason)
		}
	}
	for _, f := range res.Findings {
		if ls, ok := findingSet[f]; ok {
			b.add(famFinding, 1, ep, ls)
		}
	}
	if res.Banner.Code != 0 {
		b.add(famGreetingFirstLine, res.GreetingFirstLine.Seconds(), ep, 0)
	}

	var steps [numSteps]*smtp.Step // the first step of each kind
	for i := range res.Steps {
		if k, ok := stepKinds[res.Steps[i].Name]; ok && steps[k] == nil {
			steps[k] = &res.Steps[i]
		}
	}
	tlsMode := asked.StartTLS != smtp.StartTLSOff
	for _, k := range stepsByName {
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
		b.add(famStepDuration, dur, ep, stepSet[k])
		switch k {
		case kConnect, kTLSHandshake:
			continue // no reply
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
		b.add(famReplyCode, float64(reply.Code), ep, commandSet[k])
		if validEnhanced(reply.Enhanced) {
			b.add(famEnhancedStatus, 1, ep, b.labelSet(dynKey{kind: dynEnhanced, a: reply.Enhanced, b: stepNames[k]}))
		}
	}

	for _, rcpt := range b.rcpts {
		var accepted bool
		var code int
		if rc := findRecipient(res, rcpt.addr); rc != nil {
			accepted, code = rc.Accepted, rc.Reply.Code
		}
		b.add(famRecipientAccepted, bool01(accepted), ep, rcpt.ls)
		b.add(famRecipientReplyCode, float64(code), ep, rcpt.ls)
	}

	if asked.RelayCheck != "" {
		var open, conclusive bool
		if res.Relay != nil {
			open = res.Relay.Verdict == smtp.RelayOpen
			conclusive = open || res.Relay.Verdict == smtp.RelayRefused
		}
		b.add(famOpenRelay, bool01(open), ep, 0)
		b.add(famRelayConclusive, bool01(conclusive), ep, 0)
	}

	if dnsname.Valid(res.BannerHostname) {
		b.add(famBannerInfo, 1, ep, b.labelSet(dynKey{kind: dynHostname, a: res.BannerHostname}))
	}

	for i, x := range smtp.KnownExtensions {
		b.add(famExtension, bool01(res.Extensions.Has(x)), ep, extSet[i][0])
		if res.TLS != nil {
			b.add(famExtension, bool01(res.ExtensionsTLS.Has(x)), ep, extSet[i][1])
		}
	}
	var size int64
	switch {
	case res.ExtensionsTLS != nil && res.ExtensionsTLS.SizeAdvertised:
		size = res.ExtensionsTLS.Size
	case res.Extensions != nil && res.Extensions.SizeAdvertised:
		size = res.Extensions.Size
	}
	b.add(famSizeLimit, float64(size), ep, 0)

	if tlsMode {
		b.add(famTLSEstablished, bool01(res.TLS != nil), ep, 0)
	}
	if f := res.TLSFailure; f != nil {
		if ls, ok := tlsStageSet[f.Stage]; ok {
			b.add(famTLSFailure, 1, ep, ls)
		}
	}
	if t := res.TLS; t != nil {
		if !t.ChainNotAfter.IsZero() {
			b.add(famTLSCertExpiry, unixSeconds(t.ChainNotAfter), ep, 0)
		}
		b.add(famTLSCertVerified, bool01(t.Verified), ep, 0)
		if t.Version != "" && t.CipherSuite != "" {
			b.add(famTLSInfo, 1, ep, b.labelSet(dynKey{kind: dynTLS, a: clean(t.CipherSuite), b: clean(t.Version)}))
		}
	}
}

// cell holds one gauge metric; cells are allocated in slabs.
type cell struct {
	m dto.Metric
	g dto.Gauge
	v float64
}

// dtoMetrics makes the entry's series as metrics, in recs order, for the
// registry and Gatherer paths. Nothing keeps them: the text path, which
// serves /metrics, needs none.
func (es *entrySeries) dtoMetrics() []*dto.Metric {
	domain := parsePairs(es.domain(), nil)
	subjects := make([][]*dto.LabelPair, len(es.subj)-1)
	for i := range subjects {
		subjects[i] = parsePairs(es.subject(uint32(i)), nil)
	}
	dyn := make([][3][]*dto.LabelPair, len(es.dyn))
	for i, ls := range es.dyn {
		dyn[i] = ls.pairs()
	}
	parts := func(ls uint32) *[3][]*dto.LabelPair {
		if ls < numStatic {
			return &staticPairs[ls]
		}
		return &dyn[ls-numStatic]
	}
	n := 0
	for _, r := range es.recs {
		p := parts(r.ls)
		n += len(domain) + len(subjects[r.subj]) + len(p[0]) + len(p[1]) + len(p[2])
	}
	labels := make([]*dto.LabelPair, 0, n)
	cells := make([]cell, len(es.recs))
	out := make([]*dto.Metric, len(es.recs))
	for i, r := range es.recs {
		p := parts(r.ls)
		start := len(labels)
		labels = append(labels, p[0]...)
		labels = append(labels, domain...)
		labels = append(labels, p[1]...)
		labels = append(labels, subjects[r.subj]...)
		labels = append(labels, p[2]...)
		c := &cells[i]
		c.v = r.v
		c.g.Value = &c.v
		c.m.Gauge = &c.g
		c.m.Label = labels[start:len(labels):len(labels)]
		out[i] = &c.m
	}
	return out
}

// parsePairs decodes the labels of an encoded fragment (name="value" pairs,
// separated and perhaps surrounded by commas), appending them to ps.
func parsePairs(s string, ps []*dto.LabelPair) []*dto.LabelPair {
	for {
		s = strings.TrimLeft(s, ",")
		name, rest, ok := strings.Cut(s, `="`)
		if !ok {
			return ps
		}
		var v []byte
		i := 0
		for ; i < len(rest) && rest[i] != '"'; i++ {
			c := rest[i]
			if c == '\\' && i+1 < len(rest) {
				i++
				switch rest[i] {
				case 'n':
					c = '\n'
				default:
					c = rest[i]
				}
			}
			v = append(v, c)
		}
		ps = append(ps, lp(name, string(v)))
		s = rest[min(i+1, len(rest)):]
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
