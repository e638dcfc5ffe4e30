package report

import (
	"strconv"
	"strings"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/mtasts"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
)

// The domain's published TLS policy in the text report: an MTA-STS block
// and a TLS-RPT block between the MX lookup and the MX hosts, so that the
// verdict is read before the dialogues it judges; and one line per MX host
// and per covered address where those are shown.

// labelIndent lines up continuation lines under the values of the
// blocks' labels ("  TXT:        ").
const labelIndent = "              "

func (t *textWriter) style(tone Tone) safe {
	switch tone {
	case TonePass:
		return t.p.ok
	case ToneWarn:
		return t.p.warn
	case ToneFail:
		return t.p.bad
	}
	return ""
}

// mtaSTS is the MTA-STS block: the verdict and what it means, the TXT
// record, the fetch, the policy as parsed, its defects, and which MX host
// matched which pattern with the TLS of each covered address.
func (t *textWriter) mtaSTS(rep *probe.Report) {
	r := rep.MTASTS
	if r == nil {
		return
	}
	p := t.p
	style := t.style(MTASTSTone(r))
	t.printf("\n%sMTA-STS:%s %s%s%s\n", p.bold, p.reset, style, MTASTSWords(r), p.reset)
	if w := MTASTSConsequence(rep); w != "" {
		t.printf("  %s%s%s\n", style, w, p.reset)
	}
	t.txt(r.TXTLookup, TXTWords(r.TXTLookup, r.TXT), txtTone(r))
	if st := r.Policy; st != nil {
		t.fetch(rep, st, r.PolicyHost)
		if pol := st.Policy; pol != nil {
			t.printf("  policy:     %s\n", PolicyWords(pol))
		}
		for i, d := range st.Defects {
			label := "defects:"
			if i > 0 {
				label = ""
			}
			tone := ToneWarn
			if d.Fatal() {
				tone = ToneFail
			}
			t.printf("  %-12s%s%s (%s): %s%s\n", label, t.style(tone), d, DefectSeverity(d), DefectWords(d, st), p.reset)
		}
	}
	t.coverage(rep)
}

// txtTone is how the TXT record's reading should look.
func txtTone(r *probe.MTASTSReport) Tone {
	switch {
	case r.TXT.Valid:
		return TonePlain
	case r.TXT.Records > 0, r.Status == mtasts.StatusTXTLookupFailed:
		return ToneWarn
	}
	return TonePlain
}

// txt is the line of a TXT lookup, its reading, and the records as
// published.
func (t *textWriter) txt(l dnsmx.TXTLookup, words string, tone Tone) {
	p := t.p
	name := l.Name
	if l.CNAME != "" {
		name += " (alias of " + l.CNAME + ")"
	}
	t.printf("  TXT:        %s: %s%s%s\n", name, t.style(tone), words, p.reset)
	for _, rec := range l.Records {
		t.printf("%s\"%s\"\n", labelIndent, Printable(rec))
	}
	if l.RecordsTruncated > 0 {
		t.printf("%s%s%s cut short: longer than the probe reads%s\n", labelIndent, p.warn, count(l.RecordsTruncated, "record", "records"), p.reset)
	}
	if l.RecordsDropped > 0 {
		t.printf("%s%s%d more TXT record(s) not read%s\n", labelIndent, p.warn, l.RecordsDropped, p.reset)
	}
}

// fetch says where the policy came from and how: the URL, the cache, the
// policy host's addresses, the HTTP answer and the certificate.
func (t *textWriter) fetch(rep *probe.Report, st *mtasts.State, host *dnsmx.Host) {
	p := t.p
	f := &st.Fetch
	cached := ""
	if st.Cached {
		cached = " (" + CachedWords(st, rep.Start) + ")"
	}
	t.printf("  fetch:      %s%s\n", f.URL, cached)
	if host != nil {
		t.printf("%s%s\n", labelIndent, PolicyHostWords(host))
	}
	var style safe
	if f.Err != "" {
		style = p.warn
	}
	t.printf("%s%s%s%s\n", labelIndent, style, FetchWords(f), p.reset)
	if f.TLS != nil {
		words, tone := CertificateWords(f.TLS, rep.Start)
		t.printf("%s%s%s%s\n", labelIndent, t.style(tone), words, p.reset)
	}
}

// coverage lists what the policy makes of each MX host: the pattern that
// covers it or none, and for a covered host whether each address's TLS
// satisfies the policy.
func (t *textWriter) coverage(rep *probe.Report) {
	p := t.p
	failure := rep.MTASTS.Failure
	label := "coverage:"
	for i := range rep.Hosts {
		h := &rep.Hosts[i]
		if h.MTASTS == nil {
			continue
		}
		name := h.Name
		if rep.DNS != nil && !rep.DNS.Implicit {
			name = mxName(h)
		}
		t.printf("  %-12s%s: %s%s%s\n", label, name, t.style(CoverageTone(h.MTASTS, failure)), CoverageWords(h.MTASTS), p.reset)
		label = ""
		for j, s := range h.MTASTS.TLS {
			var res *smtp.Result
			if j < len(h.Results) {
				res = h.Results[j]
			}
			t.printf("%s  %s: %s%s%s\n", labelIndent, addressName(h, j, res), t.style(TLSStatusTone(s, failure)), TLSStatusWords(s, res, h.Name, rep.Asked), p.reset)
		}
	}
}

func mxName(h *probe.HostReport) string {
	return "MX " + strconv.Itoa(int(h.Preference)) + " " + h.Name
}

// addressName names the j-th address of h as the host section does.
func addressName(h *probe.HostReport, j int, res *smtp.Result) string {
	if res != nil {
		return res.Addr + " port " + strconv.Itoa(res.Port)
	}
	if j < len(h.Addrs) {
		return h.Addrs[j].String()
	}
	return "address " + strconv.Itoa(j+1)
}

// tlsRPT is the TLS-RPT block: where reports go, the defect, or that
// none is published.
func (t *textWriter) tlsRPT(rep *probe.Report) {
	r := rep.TLSRPT
	if r == nil {
		return
	}
	p := t.p
	tone := TLSRPTTone(r)
	t.printf("\n%sTLS-RPT:%s %s%s%s\n", p.bold, p.reset, t.style(tone), TLSRPTWords(r), p.reset)
	l := r.Lookup
	if len(l.Records) == 0 && l.CNAME == "" {
		return // the line above said why there is none
	}
	name := l.Name
	if l.CNAME != "" {
		name += " (alias of " + l.CNAME + ")"
	}
	t.printf("  TXT:        %s\n", name)
	for _, rec := range l.Records {
		t.printf("%s\"%s\"\n", labelIndent, Printable(rec))
	}
}

// hostMTASTS is a host's coverage line in its own section.
func (t *textWriter) hostMTASTS(rep *probe.Report, h *probe.HostReport) {
	if h.MTASTS == nil || rep.MTASTS == nil {
		return
	}
	t.printf("  MTA-STS: %s%s%s\n", t.style(CoverageTone(h.MTASTS, rep.MTASTS.Failure)), CoverageWords(h.MTASTS), t.p.reset)
}

// addressMTASTS is whether the address's TLS satisfies the policy, under
// its TLS and DANE lines.
func (t *textWriter) addressMTASTS(rep *probe.Report, h *probe.HostReport, r *smtp.Result) {
	if h.MTASTS == nil || rep.MTASTS == nil {
		return
	}
	for j, res := range h.Results {
		if res != r || j >= len(h.MTASTS.TLS) {
			continue
		}
		s := h.MTASTS.TLS[j]
		t.printf("    MTA-STS:    %s%s%s\n", t.style(TLSStatusTone(s, rep.MTASTS.Failure)), TLSStatusWords(s, r, h.Name, rep.Asked), t.p.reset)
	}
}

// policyNote is what the last line adds when the targets' dialogues
// passed (or some did) but the domain's MTA-STS is not in order: refusals
// the module only reports, refusals a testing policy would make, or a
// policy that senders cannot apply. Failures the module enforces are
// counted with the addresses instead.
func policyNote(rep *probe.Report) string {
	r := rep.MTASTS
	if r == nil {
		return ""
	}
	to := ""
	if hosts := RefusedHosts(rep); len(hosts) > 0 {
		to = " to " + strings.Join(hosts, ", ")
	}
	switch r.Status {
	case mtasts.StatusMXUncovered, mtasts.StatusMXTLSInvalid:
		switch {
		case r.Failure && r.Mode != mtasts.ModeEnforce:
			return "; MTA-STS senders refuse to deliver" + to + ", which the module only reports (mta_sts: " + string(r.Mode) + ")"
		case !r.Failure:
			return "; MTA-STS senders would refuse to deliver" + to + ", but the policy is in testing mode"
		}
	case mtasts.StatusUnfetchable:
		return "; the MTA-STS policy cannot be fetched: new senders fail open"
	case mtasts.StatusInvalid:
		return "; the MTA-STS policy is invalid: senders ignore it"
	case mtasts.StatusTXTInvalid:
		return "; the _mta-sts TXT record is invalid: senders ignore the policy"
	case mtasts.StatusTXTLookupFailed:
		return "; the _mta-sts TXT lookup failed"
	}
	if st := r.Policy; st != nil && st.Valid && len(st.Defects) > 0 {
		names := make([]string, len(st.Defects))
		for i, d := range st.Defects {
			names[i] = string(d)
		}
		return "; the MTA-STS policy has " + count(len(names), "warning", "warnings") + ": " + strings.Join(names, ", ")
	}
	return ""
}
