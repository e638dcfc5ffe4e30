package dnsmx

import "context"

// TXT looks up the TXT RRset of name, following CNAMEs (RFC 8461 section
// 3.1 allows the _mta-sts record to be an alias).
func (r *Resolver) TXT(ctx context.Context, name string) TXTLookup {
	panic("dnsmx.Resolver.TXT: not built yet")
}
