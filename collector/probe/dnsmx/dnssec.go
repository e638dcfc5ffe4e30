package dnsmx

import (
	"context"
	"time"
)

// validationRefresh is how long a resolver self-check stands.
const validationRefresh = 5 * time.Minute

// EnableValidation makes the resolver trust the AD bit of its servers (the
// config's dns.trust_ad) and sets the signed name of its self-check ("" is
// the root zone). Call it before the resolver is used.
func (r *Resolver) EnableValidation(checkName string) {
	// TODO(dnssec helper): implement.
}

// Validation returns the self-check, from cache when it is fresh.
func (r *Resolver) Validation(ctx context.Context) Validation {
	// TODO(dnssec helper): implement.
	return Validation{}
}

// TLSA looks up the TLSA RRset of host at port (RFC 7672 section 2.2.2,
// RFC 7671 section 7 for CNAMEs).
func (r *Resolver) TLSA(ctx context.Context, host Host, port int) TLSALookup {
	// TODO(dnssec helper): implement.
	return TLSALookup{BaseDomain: host.Name}
}
