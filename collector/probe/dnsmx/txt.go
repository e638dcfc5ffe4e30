package dnsmx

import (
	"context"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/mx-exporter/mx_exporter/collector/dnsname"
)

const (
	// maxTXTRecords bounds the records kept of one TXT RRset. The
	// _mta-sts and _smtp._tls names hold one record each (two is already
	// a defect); a name shared with other TXT uses (a CNAME to a busy
	// apex) may hold a dozen. The rest are counted, not read.
	maxTXTRecords = 16
	// maxTXTBytes bounds one record's concatenated strings. A valid
	// _mta-sts record is under a hundred bytes and a TLS-RPT record with
	// a few report URIs a few hundred; a longer one is cut to this length
	// rather than dropped (see TXTLookup.RecordsTruncated).
	maxTXTBytes = 4096
)

// TXT looks up the TXT RRset of name, following CNAMEs (RFC 8461 section
// 3.1 allows the _mta-sts record to be an alias). Each record is its
// character-strings concatenated without separator (RFC 8461 section 3.1,
// RFC 8460 section 3), as the bytes sent. A name that is not a valid domain
// name is refused before any query (Outcome error).
func (r *Resolver) TXT(ctx context.Context, name string) TXTLookup {
	start := time.Now()
	l := TXTLookup{Name: dnsname.Normalize(strings.TrimSpace(name))}
	if err := dnsname.CheckQueryName(l.Name); err != nil {
		l.Outcome, l.Err, l.Security = OutcomeError, err.Error(), r.unasked()
		return l
	}
	res := r.lookup(ctx, l.Name, dns.TypeTXT)
	l.Outcome, l.Rcode, l.Security, l.Err, l.CNAME = res.outcome, res.rcode, res.security, res.err, res.cname
	if res.outcome == OutcomeAnswer {
		l.Records, l.RecordsDropped, l.RecordsTruncated = txtRecords(res.rrs)
	}
	l.Duration = time.Since(start)
	return l
}

// txtRecords reads the TXT records of rrs in answer order, keeping at most
// maxTXTRecords, each cut at maxTXTBytes. It returns the records, how many
// were left out and how many were cut.
func txtRecords(rrs []dns.RR) (records []string, dropped, truncated int) {
	for _, rr := range rrs {
		t, ok := rr.(*dns.TXT)
		if !ok {
			continue
		}
		if len(records) == maxTXTRecords {
			dropped++
			continue
		}
		var b strings.Builder
		for _, s := range t.Txt {
			b.WriteString(unescapeTXT(s))
		}
		rec := b.String()
		if len(rec) > maxTXTBytes {
			rec = rec[:maxTXTBytes]
			truncated++
		}
		records = append(records, rec)
	}
	return records, dropped, truncated
}

// unescapeTXT returns the bytes of one character-string as miekg/dns
// presents it off the wire: a quote or backslash escaped with a backslash,
// a byte outside printable ASCII as \DDD (decimal). The policy parsers want
// the bytes the domain published, not their presentation form.
func unescapeTXT(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c != '\\' || i+1 == len(s):
			b.WriteByte(c)
		case i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]):
			v := int(s[i+1]-'0')*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0')
			if v > 255 {
				// Not a byte: miekg/dns never writes this; keep it as
				// it stands rather than guess.
				b.WriteByte(c)
				continue
			}
			b.WriteByte(byte(v))
			i += 3
		default:
			b.WriteByte(s[i+1])
			i++
		}
	}
	return b.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
