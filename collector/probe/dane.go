package probe

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/mx-exporter/mx_exporter/collector/probe/dane"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
)

// logValidation says once, when it changes, whether DANE can be checked at
// all: a resolver that is trusted but does not validate turns every DANE
// verdict into not_checked, and the operator must hear why.
func logValidation(logger *slog.Logger, v dnsmx.Validation) {
	if !v.Trusted || !v.Changed {
		return
	}
	if v.Validating {
		logger.Info("resolver validates DNSSEC: DANE is checked", "check_name", v.CheckName)
		return
	}
	logger.Warn("resolver does not validate DNSSEC: DANE is not checked", "check_name", v.CheckName, "err", v.Err)
}

// lookUpTLSA builds each MX host's DANE policy, looking up the TLSA RRsets
// of the hosts whose addresses are secure side by side. A host whose
// address lookup failed gets no policy: it has no dialogue to judge.
func lookUpTLSA(ctx context.Context, resolver *dnsmx.Resolver, rep *Report, port int) {
	var wg sync.WaitGroup
	for i := range rep.Hosts {
		h := &rep.Hosts[i]
		if len(h.Addrs) == 0 || h.IPLiteral || h.Security == "" {
			continue
		}
		policy := &dane.Policy{Mode: rep.Asked.DANE, BaseDomain: h.Name}
		h.dane = policy
		if !rep.Validation.Validating {
			policy.Status, policy.Detail = dane.StatusNotChecked, notCheckedWhy(rep.Validation)
			continue
		}
		if h.Security != dnsmx.SecuritySecure {
			policy.Status = dane.StatusInsecure
			policy.Detail = fmt.Sprintf("the address records of %s are %s, not DNSSEC-secure: DANE does not apply", h.Name, h.Security)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := resolver.TLSA(ctx, h.Host, port)
			h.TLSA = &l
			decide(policy, h.Name, l)
		}()
	}
	wg.Wait()
}

// notCheckedWhy says why DNSSEC states cannot be believed.
func notCheckedWhy(v dnsmx.Validation) string {
	if !v.Trusted {
		return "no validating resolver: dns.trust_ad is off, so the AD bit is not believed"
	}
	if v.Err != "" {
		return "the resolver does not validate DNSSEC: " + v.Err
	}
	return "the resolver does not validate DNSSEC"
}

// decide turns a TLSA lookup into the policy the dialogues apply (RFC 7672
// section 2.2): records to judge, or a status DNS alone decides.
func decide(p *dane.Policy, host string, l dnsmx.TLSALookup) {
	p.TLSAName = l.Name
	if l.BaseDomain != "" {
		p.BaseDomain = l.BaseDomain
	}
	what := "TLSA lookup of " + l.Name
	switch {
	case l.Security == dnsmx.SecurityBogus:
		p.Status, p.Detail = dane.StatusTLSABogus, what+": DNSSEC validation failed (bogus): DANE senders defer all mail"
	case l.Outcome != dnsmx.OutcomeAnswer && l.Outcome != dnsmx.OutcomeNoData && l.Outcome != dnsmx.OutcomeNXDomain:
		p.Status, p.Detail = dane.StatusTLSALookupFailed, what+" failed: "+l.Err+": DANE senders defer mail until it answers"
	case l.Security != dnsmx.SecuritySecure:
		p.Status, p.Detail = dane.StatusInsecure, what+": answered without DNSSEC validation (insecure): DANE does not apply"
	case l.Outcome != dnsmx.OutcomeAnswer:
		p.Status, p.Detail = dane.StatusNoTLSA, what+": no TLSA records (secure denial): no DANE"
	default:
		p.Records = l.Records
		p.Names = []string{p.BaseDomain}
		if host != p.BaseDomain {
			p.Names = append(p.Names, host)
		}
	}
}
