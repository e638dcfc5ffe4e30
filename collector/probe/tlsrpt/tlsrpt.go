// Package tlsrpt reads a domain's SMTP TLS Reporting record (RFC 8460
// section 3): the _smtp._tls TXT RRset. It knows nothing of DNS transport or
// Prometheus; it does not ingest reports.
package tlsrpt

// Defect names what is wrong with the TLS-RPT record.
type Defect string

// The defects; "" when the record is valid or absent.
const (
	DefectDuplicate  Defect = "duplicate"   // more than one v=TLSRPTv1 record
	DefectRUAMissing Defect = "rua_missing" // no rua field
	DefectRUAInvalid Defect = "rua_invalid" // rua empty, or a URI that is not mailto: or https:
	DefectSyntax     Defect = "syntax"      // a field that is not key=value
)

// Defects lists every defect, for documentation and labels.
var Defects = []Defect{DefectDuplicate, DefectRUAMissing, DefectRUAInvalid, DefectSyntax}

// Record is the reading of a domain's _smtp._tls TXT RRset.
type Record struct {
	// Records counts the records that start with "v=TLSRPTv1"; 0 means no
	// TLS-RPT is published.
	Records int
	Valid   bool
	RUA     []string // the report URIs when Valid, at most MaxRUA, each cut at MaxURIBytes
	Defect  Defect   // the first defect; "" when Valid or Records is 0
	Detail  string   // in words, quoting the record (capped)
}
