package smtp

// Extensions is what a server advertised in its EHLO reply (RFC 5321 4.1.1.1).
type Extensions struct {
	// Greeting is the first line of the EHLO reply: the server's name and
	// whatever it adds. It is server-controlled text, never a metric label.
	Greeting string
	// Keywords are the advertised keywords in the order the server sent
	// them, each once. A slice, not a map: the store keeps two of these per
	// address, and a map's buckets would be most of what an address costs
	// (see BenchmarkResultFootprint).
	Keywords []Keyword
	// SizeAdvertised is true when SIZE was advertised; Size is its value in
	// bytes, 0 when the server declared no fixed limit (bare "SIZE" or "SIZE 0").
	SizeAdvertised bool
	Size           int64
	// SizeInvalid is true when SIZE came with a parameter that is not a
	// decimal byte count ("SIZE -5", "SIZE abc"): Size is then 0, but the
	// report says "invalid SIZE value", not "no limit".
	SizeInvalid bool
	// Auth lists the SASL mechanisms of AUTH (and the old "AUTH=" form), upper-cased.
	Auth []string
}

// SizeSource is the EHLO reply whose SIZE the exporter reports, as a sender
// goes by it: the one after STARTTLS when it advertised SIZE, else the one
// before when it did; nil when neither did.
func (r *Result) SizeSource() *Extensions {
	switch {
	case r.ExtensionsTLS != nil && r.ExtensionsTLS.SizeAdvertised:
		return r.ExtensionsTLS
	case r.Extensions != nil && r.Extensions.SizeAdvertised:
		return r.Extensions
	}
	return nil
}

// Keyword is one advertised ESMTP keyword.
type Keyword struct {
	Name   string // upper-cased
	Params string // as sent, "" when it has none
}

// Has reports whether keyword (upper case) was advertised.
func (e *Extensions) Has(keyword string) bool {
	_, ok := e.Params(keyword)
	return ok
}

// Params returns the parameters of keyword (upper case) and whether it was
// advertised. A linear scan: there are at most MaxEHLOKeywords.
func (e *Extensions) Params(keyword string) (string, bool) {
	if e == nil {
		return "", false
	}
	for _, k := range e.Keywords {
		if k.Name == keyword {
			return k.Params, true
		}
	}
	return "", false
}

// KnownExtensions are the ESMTP keywords exported one series each, so that a
// dashboard sees 0 when one disappears. Other keywords stay in the transcript
// and the JSON report: a server cannot grow our label set. The list is the
// keywords an MX operator acts on; each costs a series or two per address,
// at every address the exporter probes, so rarities (DELIVERBY,
// MT-PRIORITY, NO-SOLICITING…) are left to the report.
var KnownExtensions = []string{
	"8BITMIME", "AUTH", "BINARYMIME", "CHUNKING", "DSN", "ENHANCEDSTATUSCODES",
	"ETRN", "PIPELINING", "REQUIRETLS", "SIZE", "SMTPUTF8", "STARTTLS", "VRFY",
}
