package probe

// The domain's published TLS policy: MTA-STS (RFC 8461) and TLS-RPT (RFC
// 8460), looked up for domain targets and tied to the MX hosts and addresses
// the dialogues reached.

import (
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/mtasts"
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

// MXPolicy is what a domain's MTA-STS policy says of one MX host.
type MXPolicy struct {
	// Pattern is the mx pattern that covers the host; "" when none does.
	Pattern string
	Covered bool
	// TLS is, per address (the order of Host.Addrs and Results), whether
	// the dialogue's TLS satisfies the policy; judged for covered hosts
	// only (nil otherwise).
	TLS []mtasts.TLSStatus
}
