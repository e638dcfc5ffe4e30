package status

import (
	"fmt"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/mtasts"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/report"
	"github.com/mx-exporter/mx_exporter/collector/store"
)

// The domain's published TLS policy on the status pages: the MTA-STS and
// TLS-RPT block of a domain's section, the mark on a domain whose MTA-STS
// fails or warns, the count in the summary, and each MX host's coverage
// and address's TLS status in the table and on the transcript page. The
// words are the text report's.

// mtastsView is a domain's MTA-STS check.
type mtastsView struct {
	Status      string // as in the mta_sts status label: "pass", "mx_uncovered"…
	Label       string // in words, upper case when senders refuse mail
	Class       string
	Detail      string
	Consequence string
	Open        bool // something is wrong: the block starts unfolded
	TXT         fact
	Records     []string // the TXT records as published, control bytes escaped
	Fetch       []fact   // the URL, the policy host, the answer, the certificate
	Policy      string   // as parsed; "" when no body came
	Defects     []fact
	Coverage    []coverageView
}

// coverageView is what the policy makes of one MX host.
type coverageView struct {
	MX    string // "MX 10 mx1.example"
	Words fact
	Addrs []fact // per covered address: whether its TLS satisfies the policy
}

// tlsrptView is a domain's TLS-RPT record.
type tlsrptView struct {
	Class   string
	Text    string
	Records []string
}

// toneClass is the style class of a tone.
func toneClass(t report.Tone) string {
	switch t {
	case report.TonePass:
		return good
	case report.ToneWarn:
		return warn
	case report.ToneFail:
		return bad
	}
	return neutral
}

func newMTASTSView(rep *probe.Report) *mtastsView {
	r := rep.MTASTS
	if r == nil {
		return nil
	}
	tone := report.MTASTSTone(r)
	v := &mtastsView{
		Status: string(r.Status), Label: report.MTASTSLabel(r), Class: toneClass(tone),
		Detail: r.Detail, Consequence: report.MTASTSConsequence(rep),
		Open: report.MTASTSWarns(r, nil),
	}
	if v.Detail == "" {
		v.Detail = report.MTASTSMeaning(r.Status)
	}
	txtClass := neutral
	if !r.TXT.Valid && (r.TXT.Records > 0 || r.Status == mtasts.StatusTXTLookupFailed) {
		txtClass = warn
	}
	name := r.TXTLookup.Name
	if r.TXTLookup.CNAME != "" {
		name += " (alias of " + r.TXTLookup.CNAME + ")"
	}
	v.TXT = fact{name + ": " + report.TXTWords(r.TXTLookup, r.TXT), txtClass}
	for _, rec := range r.TXTLookup.Records {
		v.Records = append(v.Records, report.Printable(rec))
	}
	if st := r.Policy; st != nil {
		f := &st.Fetch
		url := f.URL
		if st.Cached {
			url += " (" + report.CachedWords(st, rep.Start) + ")"
		}
		v.Fetch = append(v.Fetch, fact{url, neutral})
		if h := r.PolicyHost; h != nil {
			v.Fetch = append(v.Fetch, fact{report.PolicyHostWords(h), neutral})
		}
		answer := fact{report.FetchWords(f), neutral}
		if f.Err != "" {
			answer.Class = warn
		}
		v.Fetch = append(v.Fetch, answer)
		if f.TLS != nil {
			words, tone := report.CertificateWords(f.TLS, rep.Start)
			v.Fetch = append(v.Fetch, fact{words, toneClass(tone)})
		}
		if st.Policy != nil {
			v.Policy = report.PolicyWords(st.Policy)
		}
		for _, d := range st.Defects {
			class := warn
			if d.Fatal() {
				class = bad
			}
			v.Defects = append(v.Defects, fact{fmt.Sprintf("%s (%s): %s", d, report.DefectSeverity(d), report.DefectWords(d, st)), class})
		}
	}
	for i := range rep.Hosts {
		h := &rep.Hosts[i]
		if h.MTASTS == nil {
			continue
		}
		c := coverageView{MX: h.Name, Words: fact{report.CoverageWords(h.MTASTS), toneClass(report.CoverageTone(h.MTASTS, r.Failure))}}
		if rep.DNS != nil && !rep.DNS.Implicit {
			c.MX = fmt.Sprintf("MX %d %s", h.Preference, h.Name)
		}
		for j, s := range h.MTASTS.TLS {
			var res *smtp.Result
			addr := ""
			switch {
			case j < len(h.Results) && h.Results[j] != nil:
				res = h.Results[j]
				addr = res.Addr
			case j < len(h.Addrs):
				addr = h.Addrs[j].String()
			}
			c.Addrs = append(c.Addrs, fact{addr + ": " + report.TLSStatusWords(s, res, h.Name, rep.Asked), toneClass(report.TLSStatusTone(s, r.Failure))})
		}
		v.Coverage = append(v.Coverage, c)
	}
	return v
}

func newTLSRPTView(r *probe.TLSRPTReport) *tlsrptView {
	if r == nil {
		return nil
	}
	v := &tlsrptView{Class: toneClass(report.TLSRPTTone(r)), Text: report.TLSRPTWords(r)}
	for _, rec := range r.Lookup.Records {
		v.Records = append(v.Records, report.Printable(rec))
	}
	return v
}

// policyMark is the badge beside a domain's name when its MTA-STS fails
// (MTA-STS senders refuse mail, whether or not the module fails the probe
// for it) or warns (senders would refuse or fail open, or the policy or
// the TLS-RPT record has a defect); Text "" otherwise.
func policyMark(rep *probe.Report) fact {
	switch {
	case rep == nil || rep.MTASTS == nil:
		return fact{}
	case rep.MTASTS.Failure:
		return fact{"MTA-STS FAILS", bad}
	case report.MTASTSWarns(rep.MTASTS, rep.TLSRPT):
		return fact{"MTA-STS WARNING", warn}
	}
	return fact{}
}

// policySummary counts, for the overview's summary, the domains whose
// MTA-STS fails and those whose MTA-STS or TLS-RPT warns; Text "" when
// there are none.
func policySummary(entries []*store.Entry) fact {
	failing, warning := 0, 0
	for _, e := range entries {
		switch policyMark(e.Report).Class {
		case bad:
			failing++
		case warn:
			warning++
		}
	}
	refuse := fmt.Sprintf("MTA-STS senders refuse mail to some MX of %s", domains(failing, "domain", "domains"))
	warns := domains(warning, "domain has", "domains have") + " an MTA-STS or TLS-RPT warning"
	switch {
	case failing > 0 && warning > 0:
		return fact{refuse + "; " + warns, bad}
	case failing > 0:
		return fact{refuse, bad}
	case warning > 0:
		return fact{warns, warn}
	}
	return fact{}
}

func domains(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// hostMTASTSFact is an MX host's coverage, for its table cell; Text ""
// when no policy judged it.
func hostMTASTSFact(rep *probe.Report, h *probe.HostReport) fact {
	if rep == nil || rep.MTASTS == nil || h.MTASTS == nil {
		return fact{}
	}
	return fact{report.CoverageWords(h.MTASTS), toneClass(report.CoverageTone(h.MTASTS, rep.MTASTS.Failure))}
}

// addressMTASTSFact is whether the TLS of the dialogue res satisfies the
// policy; Text "" when the host is not covered or no policy judged it.
func addressMTASTSFact(rep *probe.Report, h *probe.HostReport, res *smtp.Result) fact {
	if rep == nil || rep.MTASTS == nil || h.MTASTS == nil {
		return fact{}
	}
	for j, r := range h.Results {
		if r == res && j < len(h.MTASTS.TLS) {
			s := h.MTASTS.TLS[j]
			return fact{report.TLSStatusWords(s, res, h.Name, rep.Asked), toneClass(report.TLSStatusTone(s, rep.MTASTS.Failure))}
		}
	}
	return fact{}
}
